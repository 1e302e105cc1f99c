//! The password of an account: added to a passkey-only account, changed, removed while a passkey
//! remains — each by a recent sign-in, each ending every other sign-in — and never a common one.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Answer, Env, TestServer, authenticator, stores};

const PASSWORD: &str = "correct horse battery";

async fn set_password(server: &TestServer, access: &str, password: &str) -> Answer {
    server.request(Method::PUT, "/auth/password", Some(access), Some(json!({ "password": password }))).await
}

async fn remove_password(server: &TestServer, access: &str) -> Answer {
    server.request(Method::DELETE, "/auth/password", Some(access), None).await
}

async fn login(server: &TestServer, password: &str) -> Answer {
    server.post("/auth/login", None, json!({ "email": "ada@example.com", "password": password })).await
}

async fn refresh(server: &TestServer, token: &str) -> StatusCode {
    server.post("/auth/refresh", None, json!({ "refresh_token": token })).await.status
}

#[tokio::test]
async fn changing_the_password_ends_every_other_sign_in_and_the_old_password_stops_working() {
    let server = TestServer::start().await;
    let (access, own_refresh) = server.sign_up("ada@example.com").await;
    let elsewhere = login(&server, PASSWORD).await;
    let (_, bobs_refresh) = server.sign_up("bob@example.com").await;

    let changed = set_password(&server, &access, "a much better passphrase").await;

    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
    assert_eq!(login(&server, PASSWORD).await.code(), "invalid_credentials", "the old password no longer works");
    assert_eq!(login(&server, "a much better passphrase").await.status, StatusCode::OK);
    let other = elsewhere.body["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&server, other).await, StatusCode::UNAUTHORIZED, "the other sign-in ended");
    assert_eq!(refresh(&server, &own_refresh).await, StatusCode::OK, "the one that changed it goes on");
    assert_eq!(refresh(&server, &bobs_refresh).await, StatusCode::OK, "nobody else's sign-in is touched");
}

#[tokio::test]
async fn a_password_is_removed_only_while_a_passkey_remains_and_can_be_added_again() {
    let server = TestServer::start().await;
    let (access, _) = server.sign_up("ada@example.com").await;

    let only_way_in = remove_password(&server, &access).await;
    assert_eq!((only_way_in.status, only_way_in.code()), (StatusCode::CONFLICT, "password_only_way_in"));
    assert!(only_way_in.body["message"].as_str().unwrap().contains("Add a passkey first"), "{}", only_way_in.body);
    assert_eq!(login(&server, PASSWORD).await.status, StatusCode::OK, "the password was kept");

    let mut key = authenticator();
    let passkey = server.add_passkey(&access, &mut key).await;
    let other = login(&server, PASSWORD).await;
    let removed = remove_password(&server, &access).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    assert_eq!(login(&server, PASSWORD).await.code(), "invalid_credentials", "no password any more");
    assert_eq!(refresh(&server, other.body["refresh_token"].as_str().unwrap()).await, StatusCode::UNAUTHORIZED);
    let again = remove_password(&server, &access).await;
    assert_eq!((again.status, again.code()), (StatusCode::NOT_FOUND, "password_not_set"));

    // Now passkey-only: its last passkey is its only way in, and a password can be added back.
    let last = server.request(Method::DELETE, &format!("/auth/passkeys/{passkey}"), Some(&access), None).await;
    assert_eq!(last.code(), "last_passkey");
    let added = set_password(&server, &access, "a new passphrase").await;
    assert_eq!(added.status, StatusCode::NO_CONTENT, "{}", added.body);
    assert_eq!(login(&server, "a new passphrase").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_new_password_follows_the_sign_up_rules_and_is_not_a_common_one() {
    let server = TestServer::start().await;
    let (access, _) = server.sign_up("ada@example.com").await;

    for (password, code) in [
        ("short", "invalid_password"),
        ("password1", "common_password"),
        ("Baseball1", "common_password"),
        ("iloveyou2", "common_password"),
    ] {
        let refused = set_password(&server, &access, password).await;
        assert_eq!((refused.status, refused.code()), (StatusCode::BAD_REQUEST, code), "{password}: {}", refused.body);
    }
    let common_sign_up =
        server.post("/auth/register", None, json!({ "email": "bob@example.com", "password": "qwertyuiop" })).await;
    assert_eq!((common_sign_up.status, common_sign_up.code()), (StatusCode::BAD_REQUEST, "common_password"));
    assert!(common_sign_up.body["message"].as_str().unwrap().contains("most common"), "{}", common_sign_up.body);
    assert_eq!(login(&server, PASSWORD).await.status, StatusCode::OK, "nothing was changed");
    let unreadable = server.request(Method::PUT, "/auth/password", Some(&access), Some(json!({ "pass": "x" }))).await;
    assert_eq!(unreadable.status, StatusCode::BAD_REQUEST);
    assert_eq!(server.request(Method::DELETE, "/auth/password", None, None).await.code(), "invalid_token");
}

#[tokio::test]
async fn an_old_sign_in_cannot_set_or_remove_the_password() {
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let db = stores::connect(&database).await;
    let (_, refresh_token) = server.sign_up("ada@example.com").await;
    stores::age_sign_ins(&db, 360).await;
    let old = server.post("/auth/refresh", None, json!({ "refresh_token": refresh_token })).await;
    let old = old.body["access_token"].as_str().unwrap();

    let set = set_password(&server, old, "a thief's passphrase").await;
    let removed = remove_password(&server, old).await;

    for refused in [&set, &removed] {
        assert_eq!((refused.status, refused.code()), (StatusCode::UNAUTHORIZED, "reauthentication_required"));
    }
    assert_eq!(login(&server, PASSWORD).await.status, StatusCode::OK, "the password is unchanged");
}

/// Removing the password and deleting the last passkey at once: one of them must be refused, or the
/// account would be left with no way in (both take the user's row lock first).
#[tokio::test]
async fn the_password_and_the_last_passkey_are_never_both_removed_at_once() {
    let server = TestServer::start().await;
    for round in 0..5 {
        let email = format!("ada{round}@example.com");
        let (access, _) = server.sign_up(&email).await;
        let passkey = server.add_passkey(&access, &mut authenticator()).await;

        let delete_passkey = format!("/auth/passkeys/{passkey}");
        let (password, passkey) = tokio::join!(
            server.request(Method::DELETE, "/auth/password", Some(&access), None),
            server.request(Method::DELETE, &delete_passkey, Some(&access), None),
        );

        let mut outcomes = [password.status, passkey.status];
        outcomes.sort();
        assert_eq!(outcomes, [StatusCode::NO_CONTENT, StatusCode::CONFLICT], "{} / {}", password.body, passkey.body);
    }
}
