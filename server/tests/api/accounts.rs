//! Email + password accounts and tokens.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::TestServer;

#[tokio::test]
async fn register_returns_a_token_pair_and_me_shows_the_user() {
    let server = TestServer::start().await;

    let answer = server
        .post("/auth/register", None, json!({"email": " Ada@Example.com ", "password": "correct horse", "name": "Ada"}))
        .await;

    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.body["token_type"], "bearer");
    assert_eq!(answer.body["expires_in"], 900);
    let token = answer.body["access_token"].as_str().unwrap();
    let me = server.get("/auth/me", Some(token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], "ada@example.com");
    assert_eq!(me.body["name"], "Ada");
    assert!(me.body["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn an_email_is_taken_whatever_its_case() {
    let server = TestServer::start().await;
    server.sign_up("ada@example.com").await;

    let answer =
        server.post("/auth/register", None, json!({"email": "ADA@example.com", "password": "another password"})).await;

    assert_eq!((answer.status, answer.code()), (StatusCode::CONFLICT, "email_taken"));
}

#[tokio::test]
async fn short_passwords_and_bad_emails_are_refused() {
    let server = TestServer::start().await;
    let short = server.post("/auth/register", None, json!({"email": "a@example.com", "password": "short"})).await;
    let bad_email =
        server.post("/auth/register", None, json!({"email": "not-an-email", "password": "long enough"})).await;
    assert_eq!((short.status, short.code()), (StatusCode::BAD_REQUEST, "invalid_password"));
    assert_eq!((bad_email.status, bad_email.code()), (StatusCode::BAD_REQUEST, "invalid_email"));
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let server = TestServer::start().await;
    server.sign_up("ada@example.com").await;

    let wrong =
        server.post("/auth/login", None, json!({"email": "ada@example.com", "password": "wrong password"})).await;
    let unknown =
        server.post("/auth/login", None, json!({"email": "bob@example.com", "password": "wrong password"})).await;
    let right = server
        .post("/auth/login", None, json!({"email": "ADA@example.com", "password": "correct horse battery"}))
        .await;

    assert_eq!((wrong.status, wrong.code()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(right.status, StatusCode::OK);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_a_while() {
    let server = TestServer::start().await;
    server.sign_up("ada@example.com").await;
    for _ in 0..5 {
        let answer =
            server.post("/auth/login", None, json!({"email": "ada@example.com", "password": "wrong password"})).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }

    let locked = server
        .post("/auth/login", None, json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .await;

    assert_eq!((locked.status, locked.code()), (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"));
    let retry_after: u64 = locked.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_its_family() {
    let server = TestServer::start().await;
    let (_, first) = server.sign_up("ada@example.com").await;

    let rotated = server.post("/auth/refresh", None, json!({"refresh_token": first})).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let second = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);

    let reused = server.post("/auth/refresh", None, json!({"refresh_token": first})).await;
    assert_eq!((reused.status, reused.code()), (StatusCode::UNAUTHORIZED, "invalid_refresh_token"));
    let descendant = server.post("/auth/refresh", None, json!({"refresh_token": second})).await;
    assert_eq!(descendant.status, StatusCode::UNAUTHORIZED, "the reuse must revoke the whole family");
}

#[tokio::test]
async fn ten_concurrent_refreshes_with_one_token_succeed_at_most_once() {
    let server = TestServer::start().await;
    let (_, token) = server.sign_up("ada@example.com").await;

    let answers =
        futures::future::join_all((0..10).map(|_| server.post("/auth/refresh", None, json!({"refresh_token": token}))))
            .await;

    let successes = answers.iter().filter(|a| a.status == StatusCode::OK).count();
    assert!(successes <= 1, "{successes} refreshes succeeded");
    assert!(answers.iter().all(|a| a.status == StatusCode::OK || a.status == StatusCode::UNAUTHORIZED));
}

#[tokio::test]
async fn logout_revokes_the_refresh_family_of_that_sign_in() {
    let server = TestServer::start().await;
    let (access, refresh) = server.sign_up("ada@example.com").await;
    let other_sign_in = server
        .post("/auth/login", None, json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .await;

    let logout = server.request(reqwest::Method::POST, "/auth/logout", Some(&access), None).await;

    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.post("/auth/refresh", None, json!({"refresh_token": refresh})).await.status,
        StatusCode::UNAUTHORIZED
    );
    let other = server.post("/auth/refresh", None, json!({"refresh_token": other_sign_in.body["refresh_token"]})).await;
    assert_eq!(other.status, StatusCode::OK, "another sign-in's family is untouched");
}

#[tokio::test]
async fn protected_routes_ask_for_a_bearer_token() {
    let server = TestServer::start().await;
    for token in [None, Some("not-a-jwt")] {
        let answer = server.get("/auth/me", token).await;
        assert_eq!((answer.status, answer.code()), (StatusCode::UNAUTHORIZED, "invalid_token"));
        assert_eq!(answer.headers["www-authenticate"], "Bearer");
    }
}

#[tokio::test]
async fn housekeeping_deletes_what_expired_and_keeps_what_is_live() {
    let env = crate::common::Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let (ended, _) = server.sign_up("ada@example.com").await;
    server.post("/auth/logout", Some(&ended), json!({})).await;
    let (_, live_refresh) = server.sign_up("bob@example.com").await;
    server.post("/auth/login", None, json!({"email": "ada@example.com", "password": "wrong password"})).await;
    let engine = crate::common::engine_for(&database).await;
    let now = engine::base::clock::now();

    let today =
        engine::ops::housekeeping::prune(&engine.db, engine.config.stores.activity_retention, now).await.unwrap();
    let still_live = server.post("/auth/refresh", None, json!({"refresh_token": live_refresh})).await;
    let in_a_month =
        engine::ops::housekeeping::prune(&engine.db, engine.config.stores.activity_retention, now + 31 * 24 * 3600)
            .await
            .unwrap();
    let again =
        engine::ops::housekeeping::prune(&engine.db, engine.config.stores.activity_retention, now + 31 * 24 * 3600)
            .await
            .unwrap();

    assert_eq!(today, engine::ops::housekeeping::Pruned::default(), "nothing has expired yet");
    assert_eq!(still_live.status, StatusCode::OK);
    assert_eq!(in_a_month.sign_ins, 1, "the signed-out sign-in");
    assert!(in_a_month.refresh_tokens >= 2, "{in_a_month:?}");
    assert_eq!(in_a_month.login_attempts, 2, "ada's counters: her address, and all addresses");
    assert_eq!(again, engine::ops::housekeeping::Pruned::default());
}

/// M1: addresses lettre would deliver to someone else's mailbox (`<victim@x.y>`, `a<victim@x.y>`)
/// made new accounts for that mailbox, as many as one liked, and put the attacker's text in real
/// mails. One grammar at every door now: RFC 5321's dot-atom local part, a domain of letters,
/// digits and hyphens (internationalised names in their ASCII form).
#[tokio::test]
async fn addresses_that_name_another_mailbox_are_refused_at_every_door() {
    let server = TestServer::start().await;
    let password = "correct horse battery";
    let tricks = [
        "<victim@example.com>",
        "a<victim@example.com>",
        "Victim <victim@example.com>",
        "\"victim\"@example.com",
        "victim@example.com (comment)",
        "victim@[127.0.0.1]",
        "victim@example.com,other@example.com",
        "vic..tim@example.com",
        ".victim@example.com",
        "victim@-example.com",
        "victim@exa_mple.com",
    ];
    let (token, _) = server.sign_up("ada@example.com").await;

    for trick in tricks {
        let registered = server.post("/auth/register", None, json!({ "email": trick, "password": password })).await;
        let begun = server.post("/auth/passkeys/authenticate/begin", None, json!({ "email": trick })).await;
        let moved =
            server.request(reqwest::Method::PUT, "/auth/email", Some(&token), Some(json!({ "email": trick }))).await;
        assert_eq!(
            (registered.status, registered.code()),
            (StatusCode::BAD_REQUEST, "invalid_email"),
            "sign-up {trick}"
        );
        assert_eq!(begun.code(), "invalid_email", "passkey begin {trick}");
        assert_eq!(moved.code(), "invalid_email", "email change {trick}");
    }
    // What people really have still works; an internationalised domain is kept in its ASCII form.
    for good in ["o'brien+tag@example.com", "first.last@sub.example.co.uk", "ünïcode@bücher.example"] {
        let registered = server.post("/auth/register", None, json!({ "email": good, "password": password })).await;
        assert_eq!(registered.status, StatusCode::CREATED, "{good}: {}", registered.body);
    }
}
