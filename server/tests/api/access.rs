//! Who may get in: the operator's sign-up rule (`LATCHKEY_SIGN_UP`), the same at every door — the
//! REST API's register, the portal's password and passkey sign-ups — and for a new address.

use app::server_fns::{SignUpWithPasskeyOptions, SignUpWithPassword};
use leptos::server_fn::ServerFn as _;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Env, SmtpServer, TestServer};
use crate::portal::{Browser, page};

/// Every door that makes an account, for `email`: (door, status, error code).
async fn sign_ups(server: &TestServer, email: &str) -> Vec<(&'static str, StatusCode, String)> {
    let rest = server.post("/auth/register", None, json!({"email": email, "password": "correct horse battery"})).await;
    let mut browser = Browser::new(server);
    let (password, _, by_password) =
        browser.call(SignUpWithPassword::PATH, &[("email", email), ("password", "correct horse battery")]).await;
    let (passkey, _, by_passkey) = browser.call(SignUpWithPasskeyOptions::PATH, &[("email", email)]).await;
    let code = |body: &serde_json::Value| body["error"].as_str().unwrap_or_default().to_owned();
    vec![
        ("REST register", rest.status, rest.code().to_owned()),
        ("portal password sign-up", password, code(&by_password)),
        ("portal passkey sign-up", passkey, code(&by_passkey)),
    ]
}

#[tokio::test]
async fn closed_and_invite_only_sign_up_refuse_every_door_and_never_say_who_has_an_account() {
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let open = TestServer::start_with(env).await;
    open.sign_up("ada@example.com").await;

    for (rule, code, sentence) in [
        ("closed", "sign_up_closed", "New accounts are not made here"),
        ("invite", "invitation_required", "An account here needs an invitation"),
    ] {
        let server = TestServer::start_with(
            Env::new().await.set("LATCHKEY_DATABASE_URL", &database).set("LATCHKEY_SIGN_UP", rule),
        )
        .await;
        for email in ["new@example.com", "ada@example.com"] {
            for (door, status, answered) in sign_ups(&server, email).await {
                assert_eq!((status, answered.as_str()), (StatusCode::FORBIDDEN, code), "{rule}: {door} for {email}");
            }
        }
        let said =
            server.post("/auth/register", None, json!({"email": "x@example.com", "password": "long enough!"})).await;
        assert!(said.body["message"].as_str().unwrap().starts_with(sentence), "{}", said.body);
        // The pages say so instead of offering a form that cannot succeed.
        let (_, _, sign_up) = page(&server, "/sign-up", None).await;
        assert!(sign_up.contains(r#"data-testid="sign-up-refused""#) && sign_up.contains(sentence), "{sign_up}");
        assert!(!sign_up.contains(r#"name="password""#), "no form: {sign_up}");
        let (_, _, sign_in) = page(&server, "/", None).await;
        assert!(!sign_in.contains("Create an account"), "{sign_in}");
        // Accounts that exist still sign in.
        let signed_in = server
            .post("/auth/login", None, json!({"email": "ada@example.com", "password": "correct horse battery"}))
            .await;
        assert_eq!(signed_in.status, StatusCode::OK, "{rule}: {}", signed_in.body);
    }
}

#[tokio::test]
async fn domain_sign_up_admits_its_domains_at_every_door_and_keeps_accounts_there() {
    let smtp = SmtpServer::start();
    let server = TestServer::start_with(
        Env::new()
            .await
            .set("LATCHKEY_SIGN_UP", "domains")
            .set("LATCHKEY_SIGN_UP_DOMAINS", "example.com, bücher.example")
            .set("LATCHKEY_SMTP_URL", SmtpServer::url_at(smtp.addr)),
    )
    .await;

    for (door, status, code) in sign_ups(&server, "eve@elsewhere.example").await {
        assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "email_domain_not_allowed"), "{door}");
    }
    let refused =
        server.post("/auth/register", None, json!({"email": "eve@mail.example.com", "password": "long enough!"})).await;
    assert_eq!(refused.code(), "email_domain_not_allowed", "a subdomain is another domain");
    assert_eq!(
        refused.body["message"],
        "Accounts here are for addresses at example.com or xn--bcher-kva.example. Use one of those, or ask an administrator to invite you."
    );

    let (_, _, sign_up) = page(&server, "/sign-up", None).await;
    assert!(sign_up.contains("Accounts here are for addresses at example.com or xn--bcher-kva.example."), "{sign_up}");

    // At an allowed domain (any case, and an internationalised one), each door makes the account.
    let rest = server
        .post("/auth/register", None, json!({"email": "Ada@EXAMPLE.com", "password": "correct horse battery"}))
        .await;
    assert_eq!(rest.status, StatusCode::CREATED, "{}", rest.body);
    let mut browser = Browser::new(&server);
    let fields = [("email", "grace@bücher.example"), ("password", "correct horse battery")];
    let (status, _, body) = browser.call(SignUpWithPassword::PATH, &fields).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = browser.call(SignUpWithPasskeyOptions::PATH, &[("email", "alan@example.com")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // An account cannot leave for another domain: that would pass the rule by the back door.
    let token = rest.body["access_token"].as_str().unwrap();
    server.confirm_address(&smtp, token, "ada@example.com").await;
    let moved = server
        .request(reqwest::Method::PUT, "/auth/email", Some(token), Some(json!({"email": "ada@elsewhere.example"})))
        .await;
    assert_eq!((moved.status, moved.code()), (StatusCode::FORBIDDEN, "email_domain_not_allowed"));
    let stays = server
        .request(reqwest::Method::PUT, "/auth/email", Some(token), Some(json!({"email": "ada.l@example.com"})))
        .await;
    assert_eq!(stays.status, StatusCode::ACCEPTED, "{}", stays.body);
}
