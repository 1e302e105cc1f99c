//! Each account's record of security events (`GET /auth/activity`): what happened, how, from which
//! address and device, newest first; only its owner reads it; it is pruned after the retention time
//! and deleted with the account.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Env, TestServer, authenticator, stores};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";

async fn activity(server: &TestServer, access: &str) -> Vec<Value> {
    let answer = server.get("/auth/activity", Some(access)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body.as_array().unwrap().clone()
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

async fn login_from_firefox(server: &TestServer, password: &str) -> StatusCode {
    let response = reqwest::Client::new()
        .post(format!("{}/auth/login", server.base))
        .header("user-agent", FIREFOX)
        .json(&json!({ "email": "ada@example.com", "password": password }))
        .send()
        .await
        .unwrap();
    response.status()
}

#[tokio::test]
async fn sign_ins_failures_and_changes_are_recorded_newest_first_for_their_owner_only() {
    let server = TestServer::start().await;
    let (access, _) = server.sign_up("ada@example.com").await;
    let (bob, _) = server.sign_up("bob@example.com").await;
    assert_eq!(login_from_firefox(&server, "wrong password").await, StatusCode::UNAUTHORIZED);
    assert_eq!(login_from_firefox(&server, "correct horse battery").await, StatusCode::OK);
    let mut key = authenticator();
    let id = server.add_passkey(&access, &mut key).await;
    let renamed = server
        .request(Method::PATCH, &format!("/auth/passkeys/{id}"), Some(&access), Some(json!({"name": "Laptop"})))
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(server.sign_in(&mut key, None).await.status, StatusCode::OK);
    let changed = server
        .request(Method::PUT, "/auth/password", Some(&access), Some(json!({"password": "a much better passphrase"})))
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT);
    server.request(Method::DELETE, "/auth/sessions/others", Some(&access), None).await;

    let events = activity(&server, &access).await;

    assert_eq!(
        kinds(&events),
        [
            "other_sign_ins_ended",
            "password_changed",
            "signed_in",
            "passkey_renamed",
            "passkey_added",
            "signed_in",
            "sign_in_failed",
            "account_created",
        ]
    );
    let summaries: Vec<&str> = events.iter().map(|e| e["summary"].as_str().unwrap()).collect();
    assert_eq!(summaries[2], "Signed in with the passkey “Laptop”");
    assert_eq!(summaries[5], "Signed in with the password");
    assert_eq!(summaries[6], "Failed sign-in with the password");
    assert_eq!(summaries[0], "Signed out everywhere else (0 sign-ins ended)", "password change had ended them");
    let failed = &events[6];
    assert_eq!((failed["address"].as_str(), failed["device"].as_str()), (Some("127.0.0.1"), Some("Firefox on Linux")));
    assert!(failed["at"].as_str().unwrap().ends_with('Z'), "{failed}");

    assert_eq!(kinds(&activity(&server, &bob).await), ["account_created"], "bob sees only his own");
    assert_eq!(server.get("/auth/activity", None).await.code(), "invalid_token");
    let unknown =
        server.post("/auth/login", None, json!({"email": "nobody@example.com", "password": "wrong password"})).await;
    assert_eq!(unknown.code(), "invalid_credentials", "an unknown email has no record to write to");
}

#[tokio::test]
async fn a_passkey_that_fails_to_verify_is_a_failed_sign_in_of_its_owner() {
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let db = stores::connect(&database).await;
    let (access, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    server.add_passkey(&access, &mut key).await;
    assert_eq!(server.sign_in(&mut key, None).await.status, StatusCode::OK);
    // The stored counter rolled back: the next signature looks like a cloned authenticator's.
    stores::roll_back_stored_counter(&db).await;
    sqlx::query("UPDATE passkeys SET sign_count = 1000").execute(&db).await.unwrap();

    let refused = server.sign_in(&mut key, None).await;

    assert_eq!(refused.code(), "possible_cloned_authenticator", "{}", refused.body);
    let events = activity(&server, &access).await;
    assert_eq!(kinds(&events)[..2], ["sign_in_failed", "signed_in"]);
    assert_eq!(events[0]["summary"], "Failed sign-in with a passkey");
}

#[tokio::test]
async fn activity_older_than_the_retention_time_is_pruned_and_deleted_with_the_account() {
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let db = stores::connect(&database).await;
    let (access, _) = server.sign_up("ada@example.com").await;
    let (bob, _) = server.sign_up("bob@example.com").await;
    server.post("/auth/login", None, json!({"email": "ada@example.com", "password": "wrong password"})).await;
    let engine = crate::common::engine_with(&database, &[("LATCHKEY_ACTIVITY_RETENTION_DAYS", "30")]).await;
    let now = engine::base::clock::now();

    let today =
        engine::ops::housekeeping::prune(&engine.db, engine.config.stores.activity_retention, now).await.unwrap();
    let in_31_days =
        engine::ops::housekeeping::prune(&engine.db, engine.config.stores.activity_retention, now + 31 * 24 * 3600)
            .await
            .unwrap();

    assert_eq!(today.activity, 0, "nothing is older than 30 days yet");
    assert_eq!(in_31_days.activity, 3, "ada's sign-up and failed sign-in, bob's sign-up");
    assert!(activity(&server, &access).await.is_empty());

    server.post("/auth/login", None, json!({"email": "bob@example.com", "password": "wrong password"})).await;
    server.post("/auth/login", None, json!({"email": "ada@example.com", "password": "wrong password"})).await;
    let deleted =
        server.request(Method::DELETE, "/auth/me", Some(&bob), Some(json!({"email": "bob@example.com"}))).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(stores::count(&db, "activity").await, 1, "bob's record went with his account; ada's stays");
}

/// L9: every failed passkey sign-in against a known passkey was a row of its own, so anyone who
/// learned a credential id (a targeted begin lists them) could fill an account's record — and push
/// its real events out of "Recent activity" — with failures. Failures within the hour are one row
/// now, with how many.
#[tokio::test]
async fn failed_passkey_sign_ins_within_the_hour_are_one_row_with_a_count() {
    let env = Env::new().await.set("LATCHKEY_RATE_LIMIT_CEREMONY", "off");
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let db = stores::connect(&database).await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    server.add_passkey(&token, &mut key).await;
    let unverified = testkit::Tweaks { user_verified: Some(false), ..Default::default() };

    for _ in 0..30 {
        let refused = server.sign_in_with(&mut key, Some("ada@example.com"), &unverified).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    }
    let activity = server.get("/auth/activity", Some(&token)).await.body;
    let failed: Vec<&Value> =
        activity.as_array().unwrap().iter().filter(|item| item["kind"] == "sign_in_failed").collect();
    let rows: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM activity WHERE kind = 'sign_in_failed'")
        .fetch_one(&db)
        .await
        .unwrap();

    assert_eq!(rows, 1, "one row for thirty failures");
    assert_eq!(failed.len(), 1, "{activity}");
    assert_eq!(failed[0]["count"], 30, "{activity}");
    assert!(failed[0]["summary"].as_str().unwrap().contains("(30 times)"), "{activity}");
    assert!(activity.as_array().unwrap().iter().any(|item| item["kind"] == "account_created"), "the real events stay");
}
