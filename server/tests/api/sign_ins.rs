//! A user's sign-ins, listed and ended (`/auth/sign-ins`, also under its first name
//! `/auth/sessions`): ending one stops its refresh tokens at
//! once; "everywhere else" keeps only the caller's. And re-authentication: a dangerous change needs
//! a recent sign-in.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestServer, authenticator, client_from, stores};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";

/// A password sign-in from a client that names itself `user_agent`: (access, refresh).
async fn login_as(server: &TestServer, email: &str, user_agent: &str) -> (String, String) {
    let response = reqwest::Client::new()
        .post(format!("{}/auth/login", server.base))
        .header("user-agent", user_agent)
        .json(&json!({"email": email, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    (body["access_token"].as_str().unwrap().to_owned(), body["refresh_token"].as_str().unwrap().to_owned())
}

async fn refresh(server: &TestServer, token: &str) -> StatusCode {
    server.post("/auth/refresh", None, json!({ "refresh_token": token })).await.status
}

async fn sign_ins(server: &TestServer, access: &str) -> Vec<Value> {
    let answer = server.get("/auth/sessions", Some(access)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_user_sees_their_sign_ins_and_ends_one_whose_refresh_token_then_fails() {
    let server = TestServer::start().await;
    let (access, _) = server.sign_up("ada@example.com").await;
    let (_, laptop_refresh) = login_as(&server, "ada@example.com", FIREFOX).await;
    let (bob, _) = server.sign_up("bob@example.com").await;

    let listed = sign_ins(&server, &access).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    let laptop = listed.iter().find(|s| s["current"] == false).unwrap().clone();
    assert_eq!(laptop["device"], "Firefox on Linux");
    assert_eq!((laptop["user_agent"].as_str(), laptop["method"].as_str()), (Some(FIREFOX), Some("password")));
    assert!(laptop["last_used_at"].as_str().unwrap().ends_with('Z'), "{laptop}");
    let laptop_id = laptop["id"].as_str().unwrap();
    assert_eq!(sign_ins(&server, &bob).await.len(), 1, "only bob's own");

    // Someone else's sign-in is not found, and stays.
    let by_bob = server.request(Method::DELETE, &format!("/auth/sessions/{laptop_id}"), Some(&bob), None).await;
    assert_eq!((by_bob.status, by_bob.body["error"].as_str()), (StatusCode::NOT_FOUND, Some("sign_in_not_found")));

    let ended = server.request(Method::DELETE, &format!("/auth/sessions/{laptop_id}"), Some(&access), None).await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.body);
    assert_eq!(refresh(&server, &laptop_refresh).await, StatusCode::UNAUTHORIZED, "its refresh token died with it");
    let left = sign_ins(&server, &access).await;
    assert_eq!((left.len(), &left[0]["current"]), (1, &json!(true)));
    let again = server.request(Method::DELETE, &format!("/auth/sessions/{laptop_id}"), Some(&access), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "an ended sign-in is not found");
    let unknown = server.request(Method::DELETE, "/auth/sessions/no-such-sign-in", Some(&access), None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(server.get("/auth/sessions", None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_out_everywhere_else_keeps_only_the_callers_sign_in() {
    let server = TestServer::start().await;
    let (access, own_refresh) = server.sign_up("ada@example.com").await;
    let (_, phone) =
        login_as(&server, "ada@example.com", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1")
            .await;
    let (_, script) = login_as(&server, "ada@example.com", "curl/8.5.0").await;
    let (_, bobs) = server.sign_up("bob@example.com").await;

    let ended = server.request(Method::DELETE, "/auth/sessions/others", Some(&access), None).await;

    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.body);
    assert_eq!(refresh(&server, &phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&server, &script).await, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&server, &own_refresh).await, StatusCode::OK, "the caller's own goes on");
    assert_eq!(refresh(&server, &bobs).await, StatusCode::OK, "another user's are not touched");
    let left = sign_ins(&server, &access).await;
    assert_eq!(left.len(), 1, "{left:?}");
}

/// (access, refresh) of a new passkey sign-in.
async fn passkey_sign_in(server: &TestServer, key: &mut testkit::SoftAuthenticator) -> (String, String) {
    let answer = server.sign_in(key, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    (
        answer.body["access_token"].as_str().unwrap().to_owned(),
        answer.body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn deleting_a_passkey_ends_the_other_sign_ins_made_with_it_unless_asked_not_to() {
    let server = TestServer::start().await;
    let (password_access, password_refresh) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    let id = server.add_passkey(&password_access, &mut key).await;
    let (_, elsewhere) = passkey_sign_in(&server, &mut key).await;
    let (here, here_refresh) = passkey_sign_in(&server, &mut key).await;

    let refused =
        server.request(Method::DELETE, &format!("/auth/passkeys/{id}?end_sign_ins=maybe"), Some(&here), None).await;
    assert_eq!((refused.status, refused.body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    let deleted = server.request(Method::DELETE, &format!("/auth/passkeys/{id}"), Some(&here), None).await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_eq!(refresh(&server, &elsewhere).await, StatusCode::UNAUTHORIZED, "made with it: ended");
    assert_eq!(refresh(&server, &here_refresh).await, StatusCode::OK, "the caller's own is kept");
    assert_eq!(refresh(&server, &password_refresh).await, StatusCode::OK, "a password sign-in is not touched");

    // Asked to keep them, they are kept.
    let mut other = authenticator();
    let other_id = server.add_passkey(&password_access, &mut other).await;
    let (_, kept) = passkey_sign_in(&server, &mut other).await;
    let path = format!("/auth/passkeys/{other_id}?end_sign_ins=false");
    assert_eq!(
        server.request(Method::DELETE, &path, Some(&password_access), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(refresh(&server, &kept).await, StatusCode::OK);
}

/// A server whose database the test can reach: (server, database).
async fn server_with_database() -> (TestServer, sqlx::AnyPool) {
    let env = crate::common::Env::new().await;
    let url = env.get("LATCHKEY_DATABASE_URL").unwrap();
    (TestServer::start_with(env).await, stores::connect(&url).await)
}

#[tokio::test]
async fn an_old_sign_in_must_sign_in_again_to_add_or_delete_a_passkey() {
    let (server, db) = server_with_database().await;
    let (fresh, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    let id = server.add_passkey(&fresh, &mut key).await;
    // Six minutes later (the window is five), a refreshed token still says when the user signed in.
    let (_, refresh_token) = login_as(&server, "ada@example.com", "curl/8.5.0").await;
    stores::age_sign_ins(&db, 360).await;
    let refreshed = server.post("/auth/refresh", None, json!({ "refresh_token": refresh_token })).await;
    let old = refreshed.body["access_token"].as_str().unwrap().to_owned();

    let begin = server.post("/auth/passkeys/register/begin", Some(&old), json!({})).await;
    let delete = server.request(Method::DELETE, &format!("/auth/passkeys/{id}"), Some(&old), None).await;

    for refused in [&begin, &delete] {
        assert_eq!(
            (refused.status, refused.body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("reauthentication_required")),
            "{}",
            refused.body
        );
        let challenge = refused.headers["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains(r#"error="insufficient_user_authentication""#), "RFC 9470: {challenge}");
    }
    assert_eq!(server.get("/auth/passkeys", Some(&old)).await.body.as_array().unwrap().len(), 1, "nothing deleted");
    assert_eq!(server.get("/auth/me", Some(&old)).await.status, StatusCode::OK, "other calls still work");

    // A fresh passkey sign-in carries a new auth_time, and may.
    let (again, _) = passkey_sign_in(&server, &mut key).await;
    let begin = server.post("/auth/passkeys/register/begin", Some(&again), json!({})).await;
    assert_eq!(begin.status, StatusCode::OK, "{}", begin.body);
}

#[tokio::test]
async fn a_registration_begun_in_time_cannot_be_completed_after_the_window() {
    let (server, db) = server_with_database().await;
    let (_, refresh_token) = server.sign_up("ada@example.com").await;
    let access = server.post("/auth/refresh", None, json!({ "refresh_token": refresh_token })).await.body;
    let options = server.post("/auth/passkeys/register/begin", access["access_token"].as_str(), json!({})).await;
    let credential = authenticator().create(&options.body, &server.origin).unwrap();

    stores::age_sign_ins(&db, 360).await;
    let later = server.post("/auth/refresh", None, json!({ "refresh_token": access["refresh_token"] })).await.body;
    let complete = server
        .post("/auth/passkeys/register/complete", later["access_token"].as_str(), json!({ "credential": credential }))
        .await;

    assert_eq!((complete.status, complete.code()), (StatusCode::UNAUTHORIZED, "reauthentication_required"));
}

#[tokio::test]
async fn an_account_is_deleted_by_its_user_with_its_passkeys_sign_ins_and_tokens() {
    let (server, db) = server_with_database().await;
    let (access, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    server.add_passkey(&access, &mut key).await;
    let (_, elsewhere) = login_as(&server, "ada@example.com", FIREFOX).await;
    let delete = |body: Value| server.request(Method::DELETE, "/auth/me", Some(&access), Some(body));

    let mistyped = delete(json!({ "email": "ada@example.org" })).await;
    let unconfirmed = delete(json!({})).await;
    assert_eq!((mistyped.status, mistyped.code()), (StatusCode::BAD_REQUEST, "invalid_request"));
    assert!(mistyped.body["message"].as_str().unwrap().contains("Type your account's email"), "{}", mistyped.body);
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert_eq!(server.get("/auth/me", Some(&access)).await.status, StatusCode::OK, "nothing was deleted");

    let deleted = delete(json!({ "email": " ADA@example.com" })).await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_eq!(server.get("/auth/me", Some(&access)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&server, &elsewhere).await, StatusCode::UNAUTHORIZED);
    assert_eq!(server.sign_in(&mut key, None).await.code(), "unknown_credential");
    for table in ["users", "passkeys", "sign_ins", "refresh_tokens"] {
        assert_eq!(stores::count(&db, table).await, 0, "{table} still holds the account's rows");
    }
    let again =
        server.post("/auth/register", None, json!({"email": "ada@example.com", "password": "long enough"})).await;
    assert_eq!(again.status, StatusCode::CREATED, "the address is free again");
}

#[tokio::test]
async fn an_old_sign_in_cannot_delete_the_account() {
    let (server, db) = server_with_database().await;
    let (_, refresh_token) = server.sign_up("ada@example.com").await;
    stores::age_sign_ins(&db, 360).await;
    let old = server.post("/auth/refresh", None, json!({ "refresh_token": refresh_token })).await.body;

    let refused = server
        .request(Method::DELETE, "/auth/me", old["access_token"].as_str(), Some(json!({ "email": "ada@example.com" })))
        .await;

    assert_eq!((refused.status, refused.code()), (StatusCode::UNAUTHORIZED, "reauthentication_required"));
    assert_eq!(server.get("/auth/me", old["access_token"].as_str()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_sign_ins_paths_and_their_first_names_answer_alike() {
    let server = TestServer::start().await;
    let (access, _) = server.sign_up("ada@example.com").await;
    let (_, laptop_refresh) = login_as(&server, "ada@example.com", FIREFOX).await;
    let listed = server.get("/auth/sign-ins", Some(&access)).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body.as_array().unwrap().len(), 2);
    assert_eq!(listed.body, server.get("/auth/sessions", Some(&access)).await.body);

    let laptop = listed.body.as_array().unwrap().iter().find(|s| s["current"] == false).unwrap()["id"].clone();
    let laptop = laptop.as_str().unwrap();
    let ended = server.request(Method::DELETE, &format!("/auth/sign-ins/{laptop}"), Some(&access), None).await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT);
    assert_eq!(refresh(&server, &laptop_refresh).await, StatusCode::UNAUTHORIZED);
    let again = server.request(Method::DELETE, &format!("/auth/sessions/{laptop}"), Some(&access), None).await;
    assert_eq!((again.status, again.code()), (StatusCode::NOT_FOUND, "sign_in_not_found"));

    login_as(&server, "ada@example.com", FIREFOX).await;
    let others = server.request(Method::DELETE, "/auth/sign-ins/others", Some(&access), None).await;
    assert_eq!(others.status, StatusCode::NO_CONTENT);
    assert_eq!(sign_ins(&server, &access).await.len(), 1, "only the caller's is left");
}

/// L6: an access token outlives its sign-in by up to its lifetime; before, a thief whose sign-in the
/// owner had ended could still use the token for a dangerous change (here: a new password, which
/// would also have signed the owner out everywhere).
#[tokio::test]
async fn a_dangerous_change_needs_the_tokens_sign_in_to_still_stand() {
    let server = TestServer::start().await;
    let (owner, _) = server.sign_up("ada@example.com").await;
    let stolen =
        server.post("/auth/login", None, json!({"email": "ada@example.com", "password": "correct horse battery"}));
    let stolen = stolen.await.body["access_token"].as_str().unwrap().to_owned();

    let ended = server.request(Method::DELETE, "/auth/sign-ins/others", Some(&owner), None).await;
    let changed = server
        .request(Method::PUT, "/auth/password", Some(&stolen), Some(json!({"password": "the thief's passphrase"})))
        .await;
    let owner_again =
        server.post("/auth/login", None, json!({"email": "ada@example.com", "password": "correct horse battery"}));

    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.body);
    assert_eq!((changed.status, changed.code()), (StatusCode::UNAUTHORIZED, "invalid_token"), "{}", changed.body);
    assert_eq!(owner_again.await.status, StatusCode::OK, "the password is the owner's still");
    assert_eq!(server.get("/auth/me", Some(&owner)).await.status, StatusCode::OK);
}

/// L11: before, a sign-in whose refresh token was used at least once a month lived for ever; now it
/// lasts `LATCHKEY_SESSION_MAX_AGE_SECS` from its start, however often it is refreshed.
#[tokio::test]
async fn a_refreshed_sign_in_ends_at_its_maximum_age() {
    let env = crate::common::Env::new().await.set("LATCHKEY_SESSION_MAX_AGE_SECS", "3600");
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let db = stores::connect(&database).await;
    let (_, first) = server.sign_up("ada@example.com").await;
    let refreshed = server.post("/auth/refresh", None, json!({ "refresh_token": first })).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    let (_, young) = server.sign_up("bob@example.com").await;

    stores::age_sign_in_starts(&db, 3000).await;
    let within = server.post("/auth/refresh", None, json!({ "refresh_token": refreshed.body["refresh_token"] })).await;
    stores::age_sign_in_starts(&db, 600).await;
    let past = server.post("/auth/refresh", None, json!({ "refresh_token": within.body["refresh_token"] })).await;

    assert_eq!(within.status, StatusCode::OK, "50 minutes into an hour: {}", within.body);
    assert_eq!((past.status, past.code()), (StatusCode::UNAUTHORIZED, "invalid_refresh_token"), "{}", past.body);
    assert_eq!(refresh(&server, &young).await, StatusCode::UNAUTHORIZED, "bob's sign-in was aged as well");
}

/// Two sign-ins of one kind of device ("Firefox on Linux") looked the same in the list. Each now
/// shows the network it was made from (a /24, never the whole address), for password and passkey
/// sign-ins alike (the passkey one is written by its own batch statement).
#[tokio::test]
async fn sign_ins_of_one_kind_of_device_are_told_apart_by_their_network() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    server.add_passkey(&token, &mut key).await;
    let from = |address: &str| {
        let client = client_from(address);
        let base = server.base.clone();
        async move {
            let response = client
                .post(format!("{base}/auth/login"))
                .header("user-agent", FIREFOX)
                .json(&json!({"email": "ada@example.com", "password": "correct horse battery"}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }
    };
    from("127.0.1.5").await;
    from("127.0.2.5").await;
    let (access, _) = passkey_sign_in(&server, &mut key).await;

    let listed = server.get("/auth/sign-ins", Some(&access)).await.body;
    let networks: Vec<&str> = listed.as_array().unwrap().iter().filter_map(|s| s["network"].as_str()).collect();

    for network in ["127.0.1.0/24", "127.0.2.0/24", "127.0.0.0/24"] {
        assert!(networks.contains(&network), "{network} in {listed}");
    }
    assert!(!listed.to_string().contains("127.0.1.5"), "never the whole address: {listed}");
}
