//! Recovery by the operator: a one-time link (admin API or `latchkey admin recovery-link`) whose page
//! lets the holder add one passkey through a restricted session, which then becomes a sign-in; the
//! use is in the activity and mailed to the owner.

use app::server_fns::{ConfirmationNeeded, FinishRecovery, MyAccount, RecoveryPasskeyOptions, RequestRecovery};
use leptos::server_fn::ServerFn as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Answer, Env, ORIGIN, SmtpServer, TestServer, authenticator, stores};

const ADMIN_TOKEN: &str = "an-operator-token-of-at-least-32-characters";

async fn make_link(server: &TestServer, token: Option<&str>, body: Value) -> Answer {
    let mut request = reqwest::Client::new().post(format!("{}/admin/recovery-links", server.base)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    Answer { status, headers, body: response.json().await.unwrap_or(Value::Null) }
}

/// An operator's recovery link for `email`: its token.
async fn operator_link(server: &TestServer, email: &str) -> String {
    let made = make_link(server, Some(ADMIN_TOKEN), json!({ "email": email })).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.body["url"].as_str().unwrap().split("token=").nth(1).unwrap().to_owned()
}

/// A browser of the portal: its session cookie and the portal's server functions.
struct Browser {
    base: String,
    cookie: std::sync::Mutex<Option<String>>,
}

impl Browser {
    fn new(server: &TestServer) -> Self {
        Self { base: server.base.clone(), cookie: std::sync::Mutex::new(None) }
    }

    /// Signs `email` in with the tests' password, as the sign-in page's form does.
    async fn sign_in_with_password(&self, email: &str) -> StatusCode {
        let fields = [("email", email), ("password", "correct horse battery")];
        self.call(app::server_fns::PasswordSignIn::PATH, &fields).await.0
    }

    async fn call(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut request = reqwest::Client::new().post(format!("{}{path}", self.base)).header("origin", ORIGIN);
        if let Some(cookie) = self.cookie.lock().unwrap().clone() {
            request = request.header("cookie", cookie);
        }
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let response =
            request.header("content-type", "application/x-www-form-urlencoded").body(body).send().await.unwrap();
        if let Some(set) = response.headers().get("set-cookie") {
            *self.cookie.lock().unwrap() = Some(set.to_str().unwrap().split(';').next().unwrap().to_owned());
        }
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn an_operator_link_adds_one_passkey_through_a_restricted_session_that_then_signs_in() {
    let smtp = SmtpServer::start();
    let env = Env::new()
        .await
        .set("LATCHKEY_ADMIN_TOKEN", ADMIN_TOKEN)
        .set("LATCHKEY_SMTP_URL", SmtpServer::url_at(smtp.addr));
    let server = TestServer::start_with(env).await;
    let (access, _) = server.sign_up("ada@example.com").await;
    server.confirm_address(&smtp, &access, "ada@example.com").await;
    let lost = server.add_passkey(&access, &mut authenticator()).await;

    let made = make_link(&server, Some(ADMIN_TOKEN), json!({ "email": "Ada@Example.com" })).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let url = made.body["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{ORIGIN}/recover?token=")), "{url}");
    let token = url.split("token=").nth(1).unwrap();

    // The page opens without using the link.
    let page = reqwest::get(format!("{}/recover?token={token}", server.base)).await.unwrap().text().await.unwrap();
    assert!(page.contains("Recover your account") && page.contains(token), "{page}");

    // The button: the link is used, and the session may add a passkey — and nothing else.
    let browser = Browser::new(&server);
    let (status, options) = browser.call(RecoveryPasskeyOptions::PATH, &[("token", token)]).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let options: Value = serde_json::from_str(options.as_str().unwrap()).unwrap();
    let (status, refused) = browser.call(MyAccount::PATH, &[]).await;
    assert_eq!((status, refused["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("sign_in_required")), "restricted");
    let mut new_key = authenticator();
    let credential = new_key.create(&options, ORIGIN).unwrap().to_string();
    let (status, body) = browser.call(FinishRecovery::PATH, &[("credential", &credential)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Now a sign-in made with the new passkey.
    let (status, account) = browser.call(MyAccount::PATH, &[]).await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_eq!(account["passkeys"].as_array().unwrap().len(), 2);
    // Told apart from the lost one: the new passkey was used for this sign-in (it said "Never used",
    // as a lost passkey that never signed in does).
    let used: Vec<(bool, bool)> = account["passkeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"] == lost.as_str(), !p["last_used_at"].is_null()))
        .collect();
    assert!(used.contains(&(true, false)) && used.contains(&(false, true)), "lost unused, new used: {account}");
    assert_eq!(server.sign_in(&mut new_key, Some("ada@example.com")).await.status, StatusCode::OK);
    let activity = server.get("/auth/activity", Some(&access)).await.body;
    let kinds: Vec<&str> = activity.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.starts_with(&["signed_in", "recovered", "passkey_added"]), "{kinds:?}");
    assert!(kinds.contains(&"recovery_link_made"), "{kinds:?}");
    let notice = smtp.mail_with("ada@example.com", "A recovery link was used").await;
    assert!(notice.text().contains("If it was not you"), "{}", notice.text());
    smtp.mail_with("ada@example.com", "can now sign in").await;
    let notices = smtp.received().iter().filter(|m| m.raw.contains("A recovery link was used")).count();
    assert_eq!(notices, 1, "the owner is told once");

    // Once only: another browser cannot use it again, nor finish without it.
    let other = Browser::new(&server);
    let (status, again) = other.call(RecoveryPasskeyOptions::PATH, &[("token", token)]).await;
    assert_eq!((status, again["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_recovery_link")));
    let (status, finished) = other.call(FinishRecovery::PATH, &[("credential", &credential)]).await;
    assert_eq!((status, finished["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_recovery_link")));
}

#[tokio::test]
async fn the_admin_api_needs_the_operator_token_and_links_expire() {
    let env = Env::new().await.set("LATCHKEY_ADMIN_TOKEN", ADMIN_TOKEN);
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    server.sign_up("ada@example.com").await;
    let db = stores::connect(&database).await;

    let ada = json!({ "email": "ada@example.com" });
    assert_eq!(make_link(&server, None, ada.clone()).await.code(), "invalid_token");
    assert_eq!(
        make_link(&server, Some("a-wrong-token-of-at-least-32-characters"), ada.clone()).await.code(),
        "invalid_token"
    );
    let unknown = make_link(&server, Some(ADMIN_TOKEN), json!({ "email": "nobody@example.com" })).await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "account_not_found"));
    let too_long =
        make_link(&server, Some(ADMIN_TOKEN), json!({ "email": "ada@example.com", "ttl_secs": 9_999_999 })).await;
    assert_eq!(too_long.code(), "invalid_request");

    let made = make_link(&server, Some(ADMIN_TOKEN), json!({ "email": "ada@example.com", "ttl_secs": 600 })).await;
    let token = made.body["url"].as_str().unwrap().split("token=").nth(1).unwrap().to_owned();
    sqlx::query("UPDATE recovery_links SET expires_at = expires_at - 601").execute(&db).await.unwrap();
    let (status, expired) = Browser::new(&server).call(RecoveryPasskeyOptions::PATH, &[("token", &token)]).await;
    assert_eq!((status, expired["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_recovery_link")));

    // Without LATCHKEY_ADMIN_TOKEN, no token is the operator's: the admin API is for administrators.
    let off = TestServer::start().await;
    let refused = make_link(&off, Some(ADMIN_TOKEN), ada).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::UNAUTHORIZED, "invalid_token"));
}

#[tokio::test]
async fn the_operator_command_prints_a_link_that_recovers() {
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env.clone()).await;
    server.sign_up("ada@example.com").await;

    let operator = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_latchkey"));
        command.args(args).env_clear().envs(env.vars()).env("LATCHKEY_DATABASE_URL", &database);
        command.output().unwrap()
    };
    let output = operator(&["admin", "recovery-link", "ada@example.com", "--ttl", "2h"]);

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let url = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let token = url.split("token=").nth(1).expect("a recovery link");
    let (status, options) = Browser::new(&server).call(RecoveryPasskeyOptions::PATH, &[("token", token)]).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let refused = operator(&["admin", "recovery-link", "nobody@example.com"]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("No account has this email address or id."), "{said}");
    let bad_ttl = operator(&["admin", "recovery-link", "ada@example.com", "--ttl", "soon"]);
    let said = String::from_utf8_lossy(&bad_ttl.stderr);
    assert_eq!(bad_ttl.status.code(), Some(2), "a usage error: {said}");
    assert!(said.contains("'soon' for '--ttl <TTL>'") && said.contains("like 30m, 1h or 2d"), "{said}");
}

/// "Lost your passkey?": the form's answer (status and where it goes).
async fn ask(browser: &Browser, email: &str) -> (StatusCode, String) {
    let mut request = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}{}", browser.base, RequestRecovery::PATH))
        .header("origin", ORIGIN)
        .header("accept", "text/html")
        .header("referer", format!("{ORIGIN}/recover/request"))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(cookie) = browser.cookie.lock().unwrap().clone() {
        request = request.header("cookie", cookie);
    }
    let response = request.body(format!("email={}", email.replace('@', "%40"))).send().await.unwrap();
    let mut cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    if let Some(old) = browser.cookie.lock().unwrap().clone() {
        cookies.push(old);
    }
    *browser.cookie.lock().unwrap() = Some(cookies.join("; "));
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    (response.status(), location)
}

#[tokio::test]
async fn a_confirmed_address_gets_a_link_that_works_only_in_the_browser_that_asked() {
    let smtp = SmtpServer::start();
    let env =
        Env::new().await.set("LATCHKEY_EMAIL_RECOVERY", "true").set("LATCHKEY_SMTP_URL", SmtpServer::url_at(smtp.addr));
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let db = stores::connect(&database).await;
    server.sign_up("ada@example.com").await;
    server.sign_up("bob@example.com").await;
    sqlx::query("UPDATE users SET email_verified_at = 1 WHERE email = 'ada@example.com'").execute(&db).await.unwrap();

    // The same answer for a confirmed address, an unconfirmed one and no account.
    let asking = Browser::new(&server);
    let answers = [
        ask(&asking, "ada@example.com").await,
        ask(&Browser::new(&server), "bob@example.com").await,
        ask(&Browser::new(&server), "nobody@example.com").await,
    ];
    for answer in &answers {
        assert_eq!((answer.0, answer.1.as_str()), (StatusCode::FOUND, "/recover/request?sent=1"));
    }
    let mail = smtp.mail_with("ada@example.com", "Lost your passkey?").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let links: Vec<_> = smtp.received().into_iter().filter(|m| m.raw.contains("A way back")).collect();
    assert_eq!(
        links.len(),
        1,
        "only the confirmed address gets one: {:?}",
        links.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
    let token = mail.link("/recover").split("token=").nth(1).unwrap().to_owned();

    // Another browser cannot use it, and does not use it up.
    let (status, refused) = Browser::new(&server).call(RecoveryPasskeyOptions::PATH, &[("token", &token)]).await;
    assert_eq!((status, refused["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_recovery_link")));

    // The browser that asked adds a passkey and is signed in — by the link: never enough to confirm.
    let (status, options) = asking.call(RecoveryPasskeyOptions::PATH, &[("token", &token)]).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let options: Value = serde_json::from_str(options.as_str().unwrap()).unwrap();
    let credential = authenticator().create(&options, ORIGIN).unwrap().to_string();
    let (status, body) = asking.call(FinishRecovery::PATH, &[("credential", &credential)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(asking.call(MyAccount::PATH, &[]).await.0, StatusCode::OK);
    let (_, needed) = asking.call(ConfirmationNeeded::PATH, &[]).await;
    assert_eq!(needed, json!(true), "a sign-in by a mailed link is not enough for a dangerous change");
    let method: String = sqlx::query_scalar("SELECT method FROM sign_ins ORDER BY created_at DESC LIMIT 1")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(method, "email_link");

    // At most three links an hour per account: the fourth and fifth are not sent (same answer).
    for _ in 0..4 {
        assert_eq!(ask(&Browser::new(&server), "ada@example.com").await.1, "/recover/request?sent=1");
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let links = smtp.received().into_iter().filter(|m| m.raw.contains("A way back")).count();
    assert_eq!(links, 3, "1 + 2 more, then no more this hour");
}

#[tokio::test]
async fn recovery_by_email_is_off_by_default() {
    let server = TestServer::start().await;
    server.sign_up("ada@example.com").await;
    let browser = Browser::new(&server);
    let (_, back) = ask(&browser, "ada@example.com").await;
    let cookie = browser.cookie.lock().unwrap().clone().unwrap_or_default();
    assert_eq!(back, "/recover/request", "refused, back to the form");
    assert!(cookie.contains("latchkey_form="), "with why, for the form's page: {cookie}");
    let page = reqwest::get(format!("{}/", server.base)).await.unwrap().text().await.unwrap();
    assert!(!page.contains("Lost your passkey?"), "the sign-in page does not offer it");
}

/// L15: a recovery begun and left in a shared browser waited in its session for 15 minutes, through
/// someone else's sign-in there, and the restricted session went on for any token: whoever signed in
/// next could add their passkey to the first account. A sign-in ends the restricted session, and
/// continuing one needs its own link.
#[tokio::test]
async fn a_sign_in_ends_a_recovery_left_in_the_browser() {
    let env = Env::new().await.set("LATCHKEY_ADMIN_TOKEN", ADMIN_TOKEN);
    let server = TestServer::start_with(env).await;
    server.sign_up("ada@example.com").await;
    server.sign_up("bob@example.com").await;
    let token = operator_link(&server, "ada@example.com").await;
    let second = operator_link(&server, "ada@example.com").await;

    let browser = Browser::new(&server);
    let (begun, _) = browser.call(RecoveryPasskeyOptions::PATH, &[("token", &token)]).await;
    // Ada walks away; Bob signs in at the same browser, and asks for recovery options with no link.
    let signed_in = browser.sign_in_with_password("bob@example.com").await;
    let (after_sign_in, _) = browser.call(RecoveryPasskeyOptions::PATH, &[("token", "not-the-link")]).await;
    // A restricted session, while it lasts, goes on for its own link only.
    let other = Browser::new(&server);
    let (other_begun, _) = other.call(RecoveryPasskeyOptions::PATH, &[("token", &second)]).await;
    let (with_another_token, _) = other.call(RecoveryPasskeyOptions::PATH, &[("token", "not-the-link")]).await;
    let (with_its_own, _) = other.call(RecoveryPasskeyOptions::PATH, &[("token", &second)]).await;

    assert_eq!(begun, StatusCode::OK);
    assert!(signed_in.is_success() || signed_in.is_redirection(), "{signed_in}");
    assert_eq!(after_sign_in, StatusCode::BAD_REQUEST, "Ada's recovery ended with Bob's sign-in");
    assert_eq!(other_begun, StatusCode::OK);
    assert_eq!(with_another_token, StatusCode::BAD_REQUEST, "not for another token");
    assert_eq!(with_its_own, StatusCode::OK, "its own link goes on (the prompt was dismissed)");
}

/// L5: a recovery link made for one account, opened where another account is signed in, signed that
/// account out and signed the browser in to the link's account with a passkey made there — the way
/// to slip someone into an account one controls. The page now names the link's account, and the
/// link is refused (unused) while another account is signed in.
#[tokio::test]
async fn a_recovery_link_names_its_account_and_is_refused_where_another_is_signed_in() {
    let env = Env::new().await.set("LATCHKEY_ADMIN_TOKEN", ADMIN_TOKEN);
    let server = TestServer::start_with(env).await;
    server.sign_up("ada@example.com").await;
    server.sign_up("mallory@example.com").await;
    let token = operator_link(&server, "mallory@example.com").await;

    let ada = Browser::new(&server);
    let signed_in = ada.sign_in_with_password("ada@example.com").await;
    let cookie = ada.cookie.lock().unwrap().clone().unwrap();
    let page = reqwest::Client::new()
        .get(format!("{}/recover?token={token}", server.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (refused, body) = ada.call(RecoveryPasskeyOptions::PATH, &[("token", &token)]).await;
    let (still_ada, _) = ada.call(MyAccount::PATH, &[]).await;
    // Signed out, the same browser may use it: it was not used up by the refusal.
    let (_, _) = ada.call(app::server_fns::SignOut::PATH, &[]).await;
    let (used, _) = ada.call(RecoveryPasskeyOptions::PATH, &[("token", &token)]).await;

    assert!(signed_in.is_success() || signed_in.is_redirection(), "{signed_in}");
    assert!(page.contains("mallory@example.com"), "the page names the link's account: {page}");
    assert!(page.contains("ada@example.com") && page.contains("signed in as"), "and who is signed in here: {page}");
    assert_eq!(refused, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("signed in as another account"), "{body}");
    assert_eq!(still_ada, StatusCode::OK, "Ada is still signed in");
    assert_eq!(used, StatusCode::OK, "the refused link still works once nobody else is signed in");
}

/// M4: whoever holds the mailbox recovered the account, signed in with the passkey the recovery
/// added (a fresh passkey sign-in) and had full control: deleted the owner's passkeys, changed the
/// address and the password. A passkey added by a mailed link is held for a day
/// (`LATCHKEY_RECOVERY_HOLD_SECS`) — its sign-ins cannot change how the account signs in — and the
/// mail about the recovery carries a one-click "this wasn't me" that removes the passkey and ends
/// its sign-ins.
#[tokio::test]
async fn a_passkey_added_by_a_mailed_link_is_held_and_this_wasnt_me_removes_it() {
    let (smtp, server, owner) = ada_with_mailed_recovery().await;
    let mut owners_key = authenticator();
    let owners_passkey = server.add_passkey(&owner, &mut owners_key).await;

    // Someone with the mailbox recovers the account in their browser.
    let (thief, mut thiefs_key) = recover_by_mail(&server, &smtp, "ada@example.com").await;
    // Then signs in afresh with the new passkey, and tries to take the account.
    let signed_in = server.sign_in(&mut thiefs_key, Some("ada@example.com")).await;
    let thiefs_token = signed_in.body["access_token"].as_str().unwrap().to_owned();
    let delete = server
        .request(reqwest::Method::DELETE, &format!("/auth/passkeys/{owners_passkey}"), Some(&thiefs_token), None)
        .await;
    let password = server
        .request(
            reqwest::Method::PUT,
            "/auth/password",
            Some(&thiefs_token),
            Some(json!({"password": "the thief's own"})),
        )
        .await;
    let address = server
        .request(reqwest::Method::PUT, "/auth/email", Some(&thiefs_token), Some(json!({"email": "thief@evil.example"})))
        .await;

    for (what, answer) in
        [("delete the owner's passkey", &delete), ("set a password", &password), ("move the account", &address)]
    {
        assert_eq!((answer.status, answer.code()), (StatusCode::FORBIDDEN, "recovery_hold"), "{what}: {}", answer.body);
    }
    // The owner's passkey still signs in, and may do what the held one may not.
    assert_eq!(server.sign_in(&mut owners_key, Some("ada@example.com")).await.status, StatusCode::OK);

    // The mail about the recovery: "this wasn't me", one click on its page.
    let told = smtp.mail_with("ada@example.com", "A recovery link was used").await;
    let undo = told.link("/recover/undo");
    let undo_token = undo.split("token=").nth(1).unwrap().to_owned();
    let page =
        reqwest::get(format!("{}/recover/undo?token={undo_token}", server.base)).await.unwrap().text().await.unwrap();
    let (undone, body) =
        Browser::new(&server).call(app::server_fns::UndoRecovery::PATH, &[("token", &undo_token)]).await;
    let (again, _) = Browser::new(&server).call(app::server_fns::UndoRecovery::PATH, &[("token", &undo_token)]).await;

    assert!(page.contains("wasn't me") || page.contains("was not me"), "{page}");
    assert!(undone.is_success() || undone.is_redirection(), "{undone}: {body}");
    assert_eq!(again, StatusCode::BAD_REQUEST, "once");
    assert_eq!(
        server.get("/auth/me", Some(&thiefs_token)).await.status,
        StatusCode::OK,
        "(an access token lives on, read-only)"
    );
    let refresh = signed_in.body["refresh_token"].clone();
    assert_eq!(
        server.post("/auth/refresh", None, json!({ "refresh_token": refresh })).await.status,
        StatusCode::UNAUTHORIZED
    );
    let gone = server.sign_in(&mut thiefs_key, None).await;
    assert_eq!((gone.status, gone.code()), (StatusCode::UNAUTHORIZED, "unknown_credential"), "the passkey is gone");
    assert_eq!(thief.call(MyAccount::PATH, &[]).await.0, StatusCode::UNAUTHORIZED, "the recovery's own sign-in ended");
    let listed = server.get("/auth/passkeys", Some(&owner)).await.body;
    assert_eq!(listed.as_array().unwrap().len(), 1, "the owner's passkey stays: {listed}");
}

/// A server with recovery by email, and Ada's confirmed account: (the SMTP server, the server, her
/// access token).
async fn ada_with_mailed_recovery() -> (SmtpServer, TestServer, String) {
    let smtp = SmtpServer::start();
    let env =
        Env::new().await.set("LATCHKEY_EMAIL_RECOVERY", "true").set("LATCHKEY_SMTP_URL", SmtpServer::url_at(smtp.addr));
    let server = TestServer::start_with(env).await;
    let (owner, _) = server.sign_up("ada@example.com").await;
    server.confirm_address(&smtp, &owner, "ada@example.com").await;
    (smtp, server, owner)
}

/// Someone with `email`'s mailbox asks for a recovery link in a new browser and adds a passkey
/// with it: that browser (signed in by the link) and the passkey's authenticator.
async fn recover_by_mail(server: &TestServer, smtp: &SmtpServer, email: &str) -> (Browser, testkit::SoftAuthenticator) {
    let browser = Browser::new(server);
    ask(&browser, email).await;
    let link = smtp.mail_with(email, "Lost your passkey?").await.link("/recover");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let (_, options) = browser.call(RecoveryPasskeyOptions::PATH, &[("token", &token)]).await;
    let options: Value = serde_json::from_str(options.as_str().unwrap()).unwrap();
    let mut key = authenticator();
    let credential = key.create(&options, ORIGIN).unwrap().to_string();
    assert_eq!(browser.call(FinishRecovery::PATH, &[("credential", &credential)]).await.0, StatusCode::OK);
    (browser, key)
}

/// M4, on the account page: a sign-in made with the account's own passkey or password sees the held
/// passkey and removes it ("this wasn't me"); the held passkey's own sign-in may not.
#[tokio::test]
async fn the_account_page_of_another_sign_in_removes_a_held_passkey_and_the_held_one_cannot() {
    let (smtp, server, _) = ada_with_mailed_recovery().await;
    let (thief, mut thiefs_key) = recover_by_mail(&server, &smtp, "ada@example.com").await;

    let (from_the_held_one, refused) = thief.call(app::server_fns::UndoHeldRecovery::PATH, &[]).await;
    let owners = Browser::new(&server);
    owners.sign_in_with_password("ada@example.com").await;
    let (_, account) = owners.call(MyAccount::PATH, &[]).await;
    let (undone, body) = owners.call(app::server_fns::UndoHeldRecovery::PATH, &[]).await;
    let gone = server.sign_in(&mut thiefs_key, None).await;

    assert_eq!(
        (from_the_held_one, refused["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("recovery_hold")),
        "{refused}"
    );
    assert_eq!(account["held"].as_array().map(Vec::len), Some(1), "{account}");
    assert_eq!(account["held_here"], false);
    assert!(undone.is_success() || undone.is_redirection(), "{undone}: {body}");
    assert_eq!(gone.code(), "unknown_credential", "{}", gone.body);
    assert_eq!(thief.call(MyAccount::PATH, &[]).await.0, StatusCode::UNAUTHORIZED);
}
