//! Apps on other sites: CORS for the REST API, exactly for the configured origins and never with
//! credentials; and WebAuthn related origins, published at `/.well-known/webauthn` and accepted in
//! ceremonies.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Env, TestServer, authenticator};

const APP: &str = "http://app.localhost:4000";
const STRANGER: &str = "http://evil.localhost:4000";

async fn preflight(server: &TestServer, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(Method::OPTIONS, format!("{}/auth/login", server.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_rest_api_answers_a_configured_origin_and_no_other() {
    let server = TestServer::start_with(Env::new().await.set("LATCHKEY_CORS_ORIGINS", APP)).await;

    let allowed = preflight(&server, APP).await;
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(allowed.headers()["access-control-allow-origin"], APP);
    let methods = allowed.headers()["access-control-allow-methods"].to_str().unwrap().to_owned();
    assert!(methods.contains("POST") && methods.contains("DELETE"), "{methods}");
    assert!(!allowed.headers().contains_key("access-control-allow-credentials"), "bearer tokens only");

    let refused = preflight(&server, STRANGER).await;
    assert!(!refused.headers().contains_key("access-control-allow-origin"));

    // A real call: the configured origin may read the answer (and its Retry-After), another may not.
    let call = |origin: &'static str| {
        reqwest::Client::new()
            .post(format!("{}/auth/login", server.base))
            .header("origin", origin)
            .json(&json!({"email": "nobody@example.com", "password": "wrong password"}))
            .send()
    };
    let from_app = call(APP).await.unwrap();
    assert_eq!(from_app.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(from_app.headers()["access-control-allow-origin"], APP);
    assert!(from_app.headers()["access-control-expose-headers"].to_str().unwrap().contains("retry-after"));
    let from_stranger = call(STRANGER).await.unwrap();
    assert!(!from_stranger.headers().contains_key("access-control-allow-origin"));

    // The public keys too: an app's page may fetch them to verify a token in the browser.
    let keys = |origin: &'static str| {
        reqwest::Client::new().get(format!("{}/.well-known/jwks.json", server.base)).header("origin", origin).send()
    };
    assert_eq!(keys(APP).await.unwrap().headers()["access-control-allow-origin"], APP);
    assert!(!keys(STRANGER).await.unwrap().headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn without_configured_origins_no_page_elsewhere_may_read_the_api() {
    let server = TestServer::start().await;
    assert!(!preflight(&server, APP).await.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn related_origins_are_published_and_may_run_ceremonies() {
    let server = TestServer::start_with(Env::new().await.set("LATCHKEY_RELATED_ORIGINS", APP)).await;

    let document = server.get("/.well-known/webauthn", None).await;
    assert_eq!(document.status, StatusCode::OK);
    assert_eq!(document.body, json!({ "origins": [APP] }));

    // A passkey made and used on the related origin, with this server's RP ID.
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    let options = server.post("/auth/passkeys/register/begin", Some(&token), json!({})).await;
    let credential = key.create(&options.body, APP).unwrap();
    let added =
        server.post("/auth/passkeys/register/complete", Some(&token), json!({ "credential": credential })).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let options = server.begin_sign_in(None).await;
    let assertion = key.get(&options, APP).unwrap();
    let signed_in = server.post("/auth/passkeys/authenticate/complete", None, json!({ "credential": assertion })).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);

    // An origin not listed is still refused.
    let options = server.begin_sign_in(None).await;
    let assertion = key.get(&options, STRANGER).unwrap();
    let refused = server.post("/auth/passkeys/authenticate/complete", None, json!({ "credential": assertion })).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
}

#[tokio::test]
async fn without_related_origins_there_is_no_document() {
    let server = TestServer::start().await;
    assert_eq!(server.get("/.well-known/webauthn", None).await.status, StatusCode::NOT_FOUND);
}
