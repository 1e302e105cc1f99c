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

/// Calls a server function as the hydrated page does (form-encoded body, JSON answer, own Origin).
async fn call(server: &TestServer, path: &str, form: &str, cookie: Option<&str>) -> reqwest::Response {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut request = client
        .post(format!("{}{path}", server.base))
        .header("origin", ORIGIN)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(form.to_owned());
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

fn session_cookie(response: &reqwest::Response) -> String {
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn server_function_errors_carry_their_status() {
    let server = TestServer::start().await;
    server.sign_up("ada@example.com").await;
    let sign_in = app::server_fns::PasswordSignIn::PATH;

    let wrong = call(&server, sign_in, "email=ada%40example.com&password=wrong+password", None).await;
    let malformed = call(&server, sign_in, "nonsense=%%%", None).await;
    let signed_out = call(&server, app::server_fns::MyAccount::PATH, "", None).await;

    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json::<serde_json::Value>().await.unwrap()["code"], "invalid_credentials");
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn database_sessions_survive_a_restart_and_sign_out_ends_them() {
    let env = crate::common::Env::new().await.set("LATCHKEY_SESSION_STORE", "database");
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let first = TestServer::start_with(env).await;
    first.sign_up("ada@example.com").await;
    let form = "email=ada%40example.com&password=correct+horse+battery";
    let signed_in = call(&first, app::server_fns::PasswordSignIn::PATH, form, None).await;
    assert!(signed_in.status().is_success() || signed_in.status().is_redirection(), "{}", signed_in.status());
    let cookie = session_cookie(&signed_in);

    let env = crate::common::Env::new()
        .await
        .set("LATCHKEY_SESSION_STORE", "database")
        .set("LATCHKEY_DATABASE_URL", database);
    let second = TestServer::start_with(env).await;
    let account = call(&second, app::server_fns::MyAccount::PATH, "", Some(&cookie)).await;

    assert_eq!(account.status(), StatusCode::OK);
    assert_eq!(account.json::<serde_json::Value>().await.unwrap()["user"]["email"], "ada@example.com");
    call(&second, app::server_fns::SignOut::PATH, "", Some(&cookie)).await;
    let after = call(&second, app::server_fns::MyAccount::PATH, "", Some(&cookie)).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}
