//! Abuse protection (docs/security.md): per-client rate limits, keyed by the peer address unless a
//! trusted proxy names the client. Clients are told apart by binding to distinct loopback addresses.

use std::net::IpAddr;

use app::server_fns::PasskeySignInOptions;
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Env, ORIGIN, TestServer};

/// An HTTP client whose connections come from `address` (any of 127.0.0.0/8 works on Linux).
fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder().local_address(address.parse::<IpAddr>().unwrap()).build().unwrap()
}

/// A wrong-password login from `client`, optionally through `X-Forwarded-For`: (status, Retry-After, body).
async fn login(
    server: &TestServer,
    client: &reqwest::Client,
    forwarded_for: Option<&str>,
) -> (StatusCode, Option<u64>, Value) {
    let mut request = client
        .post(format!("{}/auth/login", server.base))
        .json(&json!({"email": "ada@example.com", "password": "wrong password"}));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    let response = request.send().await.unwrap();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    (response.status(), retry_after, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_client_over_its_password_limit_gets_429_and_other_clients_do_not() {
    let server = TestServer::start_with(Env::new().await.set("LATCHKEY_RATE_LIMIT_PASSWORD", "3/min")).await;
    let (first, second) = (client_from("127.0.0.1"), client_from("127.0.0.2"));

    for _ in 0..3 {
        assert_eq!(login(&server, &first, None).await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, retry_after, body) = login(&server, &first, None).await;
    let (other, _, _) = login(&server, &second, None).await;

    assert_eq!((status, body["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
    let retry_after = retry_after.expect("Retry-After");
    assert!((1..=20).contains(&retry_after), "one request per 20 s comes back: {retry_after}");
    assert_eq!(body["retry_after"], retry_after);
    assert_eq!(other, StatusCode::UNAUTHORIZED, "another address has its own budget");
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_a_trusted_proxy() {
    let direct = TestServer::start_with(Env::new().await.set("LATCHKEY_RATE_LIMIT_PASSWORD", "2/min")).await;
    let behind_proxy = TestServer::start_with(
        Env::new().await.set("LATCHKEY_RATE_LIMIT_PASSWORD", "2/min").set("LATCHKEY_TRUSTED_PROXIES", "127.0.0.1"),
    )
    .await;
    let proxy = client_from("127.0.0.1");

    for server in [&direct, &behind_proxy] {
        for _ in 0..2 {
            assert_eq!(login(server, &proxy, Some("198.51.100.1")).await.0, StatusCode::UNAUTHORIZED);
        }
    }
    let spoofed = login(&direct, &proxy, Some("198.51.100.2")).await.0;
    let same_client = login(&behind_proxy, &proxy, Some("198.51.100.1")).await.0;
    let other_client = login(&behind_proxy, &proxy, Some("198.51.100.2")).await.0;

    assert_eq!(spoofed, StatusCode::TOO_MANY_REQUESTS, "an untrusted peer cannot choose its bucket");
    assert_eq!(same_client, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(other_client, StatusCode::UNAUTHORIZED, "behind a trusted proxy, each client has its own budget");
}

#[tokio::test]
async fn passkey_ceremonies_refresh_and_server_functions_are_limited_too() {
    let env = Env::new()
        .await
        .set("LATCHKEY_RATE_LIMIT_REFRESH", "2/min")
        .set("LATCHKEY_RATE_LIMIT_PORTAL", "2/min")
        .set("LATCHKEY_RATE_LIMIT_CEREMONY", "2/min");
    let server = TestServer::start_with(env).await;
    let (client, browser) = (client_from("127.0.0.3"), client_from("127.0.0.5"));
    let post = |path: &'static str, body: Value| {
        let request = client.post(format!("{}{path}", server.base)).json(&body);
        async move { request.send().await.unwrap().status() }
    };
    let server_fn = || {
        // From another address: these calls count as ceremonies too, whose budget `client` spends.
        let request = browser
            .post(format!("{}{}", server.base, PasskeySignInOptions::PATH))
            .header("origin", ORIGIN)
            .header("content-type", "application/x-www-form-urlencoded");
        async move { request.send().await.unwrap() }
    };

    let begins = [
        post("/auth/passkeys/authenticate/begin", json!({})).await,
        post("/auth/passkeys/authenticate/begin", json!({})).await,
    ];
    let third_begin = post("/auth/passkeys/authenticate/begin", json!({})).await;
    let refreshes = [
        post("/auth/refresh", json!({"refresh_token": "x"})).await,
        post("/auth/refresh", json!({"refresh_token": "x"})).await,
    ];
    let third_refresh = post("/auth/refresh", json!({"refresh_token": "x"})).await;
    let calls = [server_fn().await.status(), server_fn().await.status()];
    let third_call = server_fn().await;

    assert_eq!(begins, [StatusCode::OK; 2]);
    assert_eq!(third_begin, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refreshes, [StatusCode::UNAUTHORIZED; 2]);
    assert_eq!(third_refresh, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(calls, [StatusCode::OK; 2]);
    assert_eq!(third_call.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third_call.headers().contains_key("retry-after"));
    assert_eq!(third_call.json::<Value>().await.unwrap()["error"], "rate_limited");
}

#[tokio::test]
async fn a_limit_switched_off_limits_nothing() {
    let server = TestServer::start_with(Env::new().await.set("LATCHKEY_RATE_LIMIT_CEREMONY", "off")).await;
    let client = client_from("127.0.0.4");

    let mut statuses = Vec::new();
    for _ in 0..70 {
        let request = client.post(format!("{}/auth/passkeys/authenticate/begin", server.base)).json(&json!({}));
        statuses.push(request.send().await.unwrap().status());
    }

    assert!(statuses.iter().all(|s| *s == StatusCode::OK), "70 > the default 60/min, all answered");
}
