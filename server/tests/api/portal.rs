//! The portal's doors that are not the REST API: pages, server-function origin checks, headers.

use leptos::server_fn::ServerFn;
use reqwest::StatusCode;

use crate::common::{ORIGIN, TestServer};

#[tokio::test]
async fn server_functions_refuse_other_origins_and_accept_their_own() {
    let server = TestServer::start().await;
    let url = format!("{}{}", server.base, app::server_fns::PasskeySignInOptions::PATH);
    assert!(app::server_fns::PasskeySignInOptions::PATH.starts_with("/api/"), "the origin check covers /api/");
    let client = reqwest::Client::new();
    let call = |origin: Option<&'static str>| {
        let mut request = client.post(&url).header("content-type", "application/x-www-form-urlencoded");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };

    let foreign = call(Some("http://evil.localhost:3000")).await.unwrap();
    let missing = call(None).await.unwrap();
    let own = call(Some(ORIGIN)).await.unwrap();

    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert_eq!(own.status(), StatusCode::OK);
    let options: serde_json::Value = serde_json::from_str(&own.json::<String>().await.unwrap()).unwrap();
    assert!(options["challenge"].is_string());
}

#[tokio::test]
async fn pages_render_on_the_server_and_forbid_framing() {
    let server = TestServer::start().await;

    let page = reqwest::get(format!("{}/", server.base)).await.unwrap();

    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["content-security-policy"], "frame-ancestors 'none'");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign in with a passkey") && html.contains(r#"autocomplete="username webauthn""#));
}

#[tokio::test]
async fn token_responses_are_not_cached() {
    let server = TestServer::start().await;
    let answer = server
        .post("/auth/register", None, serde_json::json!({"email": "a@example.com", "password": "long enough"}))
        .await;
    assert_eq!(answer.headers["cache-control"], "no-store");
}
