//! The portal's doors: pages, server functions (each ceremony as the browser runs it, on both
//! databases), their origin check, error statuses and headers.

use app::pages::NotesOwner;
use app::server_fns::{
    AddPasskeyOptions, ConfirmOptions, ConfirmWithPasskey, ConfirmWithPassword, ConfirmationNeeded, DeleteMyPasskey,
    EndMyOtherSignIns, FinishPasskeySignIn, FinishSignUpWithPasskey, MyAccount, PasskeySignInOptions, PasswordSignIn,
    RemoveMyPassword, RenameMe, RenameMyPasskey, SetMyPassword, SignUpWithPasskeyOptions, SignUpWithPassword,
    VerifyEmail,
};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{Tweaks, from_b64url};

use crate::common::{Env, ORIGIN, SmtpServer, TestServer, authenticator, stores};

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
async fn pages_render_on_the_server_under_a_strict_content_security_policy() {
    let server = TestServer::start().await;

    let page = reqwest::get(format!("{}/", server.base)).await.unwrap();

    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign in with a passkey") && html.contains(r#"autocomplete="username webauthn""#));

    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("script-src names a nonce")
        .to_owned();
    assert!(nonce.len() >= 16, "a nonce of at least 128 bits: {nonce}");
    let directives: Vec<&str> = policy.split(';').map(str::trim).collect();
    for expected in [
        "default-src 'self'",
        &format!("script-src 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(directives.contains(&expected), "{expected} in {policy}");
    }
    assert!(!policy.contains("unsafe-inline") && !policy.contains("'self' 'nonce"), "{policy}");
    // Every script on the page carries this response's nonce; none is allowed without it.
    let scripts = html.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        html.matches(&format!(r#"<script type="module" nonce="{nonce}""#)).count()
            + html.matches(&format!(r#"<script nonce="{nonce}""#)).count(),
        scripts,
        "{html}"
    );
    // And the nonce is new for every response.
    let again = reqwest::get(format!("{}/", server.base)).await.unwrap();
    assert!(!again.headers()["content-security-policy"].to_str().unwrap().contains(&nonce));
}

/// L8: the API reference runs Swagger UI, a third party's scripts, on the portal's origin, and had
/// no script policy at all. It has its own strict one now: its own script files only.
#[tokio::test]
async fn the_api_reference_has_a_strict_policy_of_its_own() {
    let server = TestServer::start().await;
    for path in ["/reference/", "/reference/init.js"] {
        let response = reqwest::get(format!("{}{path}", server.base)).await.unwrap();
        let policy = response.headers().get("content-security-policy").map(|v| v.to_str().unwrap().to_owned());
        let policy = policy.unwrap_or_default();
        assert!(policy.contains("default-src 'none'") && policy.contains("script-src 'self';"), "{path}: {policy}");
        assert!(policy.contains("form-action 'none'") && policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
    }
}

#[tokio::test]
async fn other_responses_forbid_framing() {
    let server = TestServer::start().await;
    let health = reqwest::get(format!("{}/healthz", server.base)).await.unwrap();
    assert_eq!(health.headers()["content-security-policy"], "frame-ancestors 'none'");
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
pub(crate) async fn call(server: &TestServer, path: &str, form: &str, cookie: Option<&str>) -> reqwest::Response {
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
    assert_eq!(wrong.json::<serde_json::Value>().await.unwrap()["error"], "invalid_credentials");
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

/// A browser on the portal: calls server functions as the hydrated page does, carrying the session
/// cookie from one answer to the next.
pub(crate) struct Browser<'a> {
    pub(crate) server: &'a TestServer,
    pub(crate) cookie: Option<String>,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(server: &'a TestServer) -> Self {
        Self { server, cookie: None }
    }

    pub(crate) async fn call(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let form = form_body(fields);
        let response = call(self.server, path, &form, self.cookie.as_deref()).await;
        if let Some(set_cookie) = response.headers().get("set-cookie") {
            self.cookie = Some(set_cookie.to_str().unwrap().split(';').next().unwrap().to_owned());
        }
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, headers, body)
    }

    /// A server function that answers WebAuthn options as a JSON string.
    async fn options(&mut self, path: &str, fields: &[(&str, &str)]) -> Value {
        let (status, _, body) = self.call(path, fields).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_str(body.as_str().expect("options as a JSON string")).unwrap()
    }

    async fn account(&mut self) -> (StatusCode, Value) {
        let (status, _, body) = self.call(MyAccount::PATH, &[]).await;
        (status, body)
    }
}

fn form_body(fields: &[(&str, &str)]) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in fields {
        form.append_pair(key, value);
    }
    form.finish()
}

#[tokio::test]
async fn a_passkey_sign_up_in_the_portal_creates_the_account_and_signs_it_in() {
    let server = TestServer::start().await;
    let mut browser = Browser::new(&server);
    let mut key = authenticator();

    let options = browser.options(SignUpWithPasskeyOptions::PATH, &[("email", "Ada@Example.com")]).await;
    let credential = key.create(&options, ORIGIN).unwrap().to_string();
    let (status, _, body) = browser.call(FinishSignUpWithPasskey::PATH, &[("credential", &credential)]).await;
    let (account_status, account) = browser.account().await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(account_status, StatusCode::OK, "{account}");
    assert_eq!(account["user"]["email"], "ada@example.com");
    assert_eq!(account["passkeys"][0]["id"], key.credential_id_b64(0).unwrap());
    let signed_in = server.sign_in(&mut key, Some("ada@example.com")).await;
    assert_eq!(signed_in.status, StatusCode::OK, "the new passkey signs in through the API too");
}

#[tokio::test]
async fn a_cancelled_passkey_sign_up_leaves_no_account_behind() {
    let server = TestServer::start().await;
    let mut browser = Browser::new(&server);

    browser.options(SignUpWithPasskeyOptions::PATH, &[("email", "ada@example.com")]).await;

    let again = Browser::new(&server).options(SignUpWithPasskeyOptions::PATH, &[("email", "ada@example.com")]).await;
    assert!(again["challenge"].is_string(), "the email is still free");
    let password =
        server.post("/auth/register", None, json!({"email": "ada@example.com", "password": "long enough"})).await;
    assert_eq!(password.status, StatusCode::CREATED, "{}", password.body);
}

#[tokio::test]
async fn a_passkey_sign_in_in_the_portal_signs_in_the_owner_once() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    server.add_passkey(&token, &mut key).await;
    let mut browser = Browser::new(&server);

    let options = browser.options(PasskeySignInOptions::PATH, &[]).await;
    let credential = key.get(&options, ORIGIN).unwrap().to_string();
    let (status, _, body) = browser.call(FinishPasskeySignIn::PATH, &[("credential", &credential)]).await;
    let (_, account) = browser.account().await;
    let (replayed, _, replay) =
        Browser::new(&server).call(FinishPasskeySignIn::PATH, &[("credential", &credential)]).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(account["user"]["email"], "ada@example.com");
    assert_eq!((replayed, replay["error"].as_str()), (StatusCode::BAD_REQUEST, Some("ceremony_expired")));
}

#[tokio::test]
async fn a_signed_out_browser_is_asked_to_sign_in_not_for_a_token() {
    let server = TestServer::start().await;

    let (status, headers, body) = Browser::new(&server).call(MyAccount::PATH, &[]).await;

    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("sign_in_required")));
    assert_eq!(body["message"], "Please sign in to see this page.");
    assert!(headers.get("www-authenticate").is_none(), "a browser session is not a Bearer token");
}

#[tokio::test]
async fn a_locked_portal_sign_in_says_when_to_retry() {
    let server = TestServer::start().await;
    server.sign_up("ada@example.com").await;
    let mut browser = Browser::new(&server);
    let wrong = [("email", "ada@example.com"), ("password", "wrong password")];

    for _ in 0..5 {
        browser.call(PasswordSignIn::PATH, &wrong).await;
    }
    let (status, headers, body) = browser.call(PasswordSignIn::PATH, &wrong).await;

    assert_eq!((status, body["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")));
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    assert_eq!(body["retry_after"], retry_after);
}

#[tokio::test]
async fn a_passkey_sign_up_with_a_registered_credential_is_a_conflict_and_creates_no_account() {
    let server = TestServer::start().await;
    let (ada, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    let id = server.add_passkey(&ada, &mut key).await;
    let mut browser = Browser::new(&server);

    let options = browser.options(SignUpWithPasskeyOptions::PATH, &[("email", "mallory@example.com")]).await;
    let reuse = Tweaks { credential_id: Some(from_b64url(&id).unwrap()), ..Tweaks::default() };
    let credential = key.create_with(&options, ORIGIN, &reuse).unwrap().to_string();
    let (status, _, body) = browser.call(FinishSignUpWithPasskey::PATH, &[("credential", &credential)]).await;

    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("credential_exists")));
    assert_eq!(browser.account().await.0, StatusCode::UNAUTHORIZED, "nobody was signed in");
    let again =
        server.post("/auth/register", None, json!({"email": "mallory@example.com", "password": "long enough"})).await;
    assert_eq!(again.status, StatusCode::CREATED, "the half-made account was removed: {}", again.body);
}

#[tokio::test]
async fn the_portal_renames_the_signed_in_account() {
    let server = TestServer::start().await;
    server.sign_up("ada@example.com").await;
    let mut browser = Browser::new(&server);
    let (signed_in, _, _) = browser
        .call(PasswordSignIn::PATH, &[("email", "ada@example.com"), ("password", "correct horse battery")])
        .await;
    assert!(signed_in.is_success() || signed_in.is_redirection(), "{signed_in}");

    let (status, saved, _) = browser.call(RenameMe::PATH, &[("name", "  Ada Lovelace ")]).await;
    let (bad, _, refused) = browser.call(RenameMe::PATH, &[("name", "bell\u{7}")]).await;

    // A form on the account page: it goes back there, saying so (a 302 for a plain form; for a
    // script's call, a 200 whose Location the server-function client follows).
    assert_eq!((status, saved["location"].to_str().unwrap()), (StatusCode::OK, "/account?done=name"));
    assert_eq!((bad, refused["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_name")));
    assert_eq!(browser.account().await.1["user"]["name"], "Ada Lovelace");
}

/// A plain HTML form posted from `page` (no JavaScript): (status, Location, the cookies the
/// browser sends next: `cookie` and a failed form's returned error, if any).
async fn submit(
    server: &TestServer,
    page: &str,
    path: &str,
    fields: &[(&str, &str)],
    cookie: &str,
) -> (StatusCode, String, String) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .post(format!("{}{path}", server.base))
        .header("origin", ORIGIN)
        .header("referer", format!("{ORIGIN}{page}"))
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie)
        .body(form_body(fields))
        .send()
        .await
        .unwrap();
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    let returned = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|pair| pair.starts_with("latchkey_form="));
    let next = [Some(cookie.to_owned()).filter(|c| !c.is_empty()), returned].into_iter().flatten().collect::<Vec<_>>();
    (response.status(), location, next.join("; "))
}

/// A wrong password posted without JavaScript came back as `/?next=…&__path=/api/…&__err=<base64>`:
/// the email typed was gone, and whatever a link wrote into `__err` was shown on the real sign-in
/// page. The failure now travels in a sealed cookie, and the page fills the email in again.
#[tokio::test]
async fn a_failed_form_comes_back_as_it_was_and_an_error_written_in_an_address_is_never_shown() {
    use base64::Engine as _;
    let server = TestServer::start().await;
    server.sign_up("ada@example.com").await;
    let typed = [("email", "ada@example.com"), ("password", "not my password"), ("next", "/notes")];

    let (status, back, with_error) = submit(&server, "/?next=/notes", PasswordSignIn::PATH, &typed, "").await;
    let (_, _, returned) = page(&server, &back, Some(&with_error)).await;

    assert!(status.is_redirection(), "{status}");
    assert_eq!(back, "/?next=%2Fnotes", "the page's own address, nothing added");
    assert!(with_error.starts_with("latchkey_form=") && !with_error.contains("ada%40") && !with_error.contains("ada@"));
    assert!(returned.contains("The email or password is not correct."), "{returned}");
    assert!(returned.contains(r#"value="ada@example.com""#), "the email as typed: {returned}");
    assert!(!returned.contains("not my password"), "never the password");
    let password =
        returned.split(r#"id="password""#).nth(1).and_then(|rest| rest.split('>').next()).unwrap_or_default();
    assert!(
        password.contains("autofocus") && password.contains(r#"aria-invalid="true""#),
        "the focus and the error on the password: {password}"
    );
    assert!(password.contains(r#"aria-describedby="password-form-error""#), "{password}");

    // The page clears the cookie: the error was for that one answer.
    let client = reqwest::Client::new();
    let shown = client.get(format!("{}{back}", server.base)).header("cookie", &with_error).send().await.unwrap();
    let cleared = shown.headers().get_all("set-cookie").iter().any(|v| {
        let v = v.to_str().unwrap();
        v.starts_with("latchkey_form=;") && v.contains("Max-Age=0")
    });
    assert!(cleared, "{:?}", shown.headers());

    // Written into an address, or a cookie not sealed here, an error is never shown.
    let made_up = r#"{"error":"invalid_credentials","message":"Your account is locked: call 555-0100."}"#;
    let err = base64::engine::general_purpose::URL_SAFE.encode(made_up);
    let (_, _, linked) = page(&server, &format!("/?__path={}&__err={err}", PasswordSignIn::PATH), None).await;
    let forged = format!("latchkey_form={}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(made_up));
    let (_, _, cookied) = page(&server, "/", Some(&forged)).await;
    assert!(!linked.contains("555-0100"), "{linked}");
    assert!(!cookied.contains("555-0100"), "{cookied}");

    // A sign-in that succeeds is never read as a failed form, whatever its `next` holds: neither
    // `next=/.//evil.example?__path=x` (rewritten, it read `//evil.example`, another site) nor an
    // `__err` of the link's own making (sealed, it showed on the next page as a real error).
    fn right(next: &str) -> [(&str, &str); 3] {
        [("email", "ada@example.com"), ("password", "correct horse battery"), ("next", next)]
    }
    let (signed_in, went, kept) =
        submit(&server, "/", PasswordSignIn::PATH, &right("/.//evil.example?__path=x"), "").await;
    assert!(signed_in.is_redirection(), "{signed_in}");
    assert_eq!(went, "/.//evil.example?__path=x", "left as the server function wrote it");
    assert!(!kept.contains("latchkey_form"), "{kept}");
    let planted = format!("/passkeys?__path={}&__err={err}", RenameMyPasskey::PATH);
    let (_, went, kept) = submit(&server, "/", PasswordSignIn::PATH, &right(&planted), "").await;
    assert_eq!(went, planted);
    assert!(!kept.contains("latchkey_form"), "nothing sealed from the link: {kept}");
}

/// The account page showed every recent event in one long column (a day's use made it 3,645 px
/// tall). It shows ten at a time, newest first, with links to older and newer ones.
#[tokio::test]
async fn the_account_pages_activity_comes_ten_at_a_time() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    for _ in 0..11 {
        server.add_passkey(&token, &mut authenticator()).await;
    }
    let mut browser = Browser::new(&server);
    browser.call(PasswordSignIn::PATH, &[("email", "ada@example.com"), ("password", "correct horse battery")]).await;
    let cookie = browser.cookie.clone().unwrap();
    let events = |page: &str| page.matches(r#"data-testid="activity""#).count();

    let (_, _, first) = page(&server, "/account", Some(&cookie)).await;
    let (_, _, second) = page(&server, "/account?activity=1", Some(&cookie)).await;

    // 13 events: the sign-up's, eleven passkeys added, this sign-in.
    assert_eq!(events(&first), 10, "{first}");
    assert!(first.contains(r#"href="/account?activity=1#activity""#) && !first.contains("activity-newer"), "{first}");
    assert_eq!(events(&second), 3, "{second}");
    assert!(second.contains(r#"href="/account#activity""#) && !second.contains("activity-older"), "{second}");
}

#[tokio::test]
async fn passkeys_are_renamed_and_deleted_with_plain_forms_that_need_no_javascript() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let id = server.add_passkey(&token, &mut authenticator()).await;
    let mut browser = Browser::new(&server);
    browser.call(PasswordSignIn::PATH, &[("email", "ada@example.com"), ("password", "correct horse battery")]).await;
    let cookie = browser.cookie.clone().unwrap();
    let renaming = format!("/passkeys?rename={id}");

    // "Rename" opens the row's form through the address; it posts to the server function.
    let (_, _, form) = page(&server, &renaming, Some(&cookie)).await;
    assert!(form.contains(&format!(r#"action="{}""#, RenameMyPasskey::PATH)), "{form}");
    assert!(form.contains(&format!(r#"name="id" value="{id}""#)) && form.contains(r#"value="Test key""#), "{form}");
    // A refused name comes back to the open form, saying why.
    let (refused, back, with_error) =
        submit(&server, &renaming, RenameMyPasskey::PATH, &[("id", &id), ("name", "bell\u{7}")], &cookie).await;
    assert!(refused.is_redirection(), "{refused}");
    assert_eq!(back, renaming, "back to the open form, with nothing written into its address");
    let (_, _, explained) = page(&server, &back, Some(&with_error)).await;
    assert!(explained.contains("control characters") && explained.contains(r#"name="name""#), "{explained}");
    // A good one comes back to the list, saying it was done.
    let (renamed, done, _) =
        submit(&server, &renaming, RenameMyPasskey::PATH, &[("id", &id), ("name", "Work laptop")], &cookie).await;
    assert!(renamed.is_redirection(), "{renamed}");
    assert_eq!(done, "/passkeys?done=renamed");
    let (_, _, list) = page(&server, &done, Some(&cookie)).await;
    assert!(list.contains("Work laptop") && list.contains("The passkey was renamed."), "{list}");
    assert!(list.contains(&format!(r#"data-credential-id="{id}""#)), "the list the Signal API island reads: {list}");

    let deleting = format!("/passkeys?delete={id}");
    let (_, _, confirm) = page(&server, &deleting, Some(&cookie)).await;
    assert!(confirm.contains("Delete this passkey?") && confirm.contains(DeleteMyPasskey::PATH), "{confirm}");
    let (deleted, done, _) = submit(&server, &deleting, DeleteMyPasskey::PATH, &[("id", &id)], &cookie).await;
    assert!(deleted.is_redirection(), "{deleted}");
    assert_eq!(done, "/passkeys?done=deleted");
    assert_eq!(browser.account().await.1["passkeys"], json!([]));
    // The address picks one of the page's sentences, never its own text.
    let (_, _, list) = page(&server, "/passkeys?done=Your+account+is+locked", Some(&cookie)).await;
    assert!(!list.contains("Your account is locked"), "{list}");
}

#[tokio::test]
async fn the_only_way_into_an_account_is_never_deleted_not_even_by_two_deletions_at_once() {
    let server = TestServer::start().await;
    let mut browser = Browser::new(&server);
    let mut first = authenticator();
    let options = browser.options(SignUpWithPasskeyOptions::PATH, &[("email", "ada@example.com")]).await;
    let credential = first.create(&options, ORIGIN).unwrap().to_string();
    assert_eq!(browser.call(FinishSignUpWithPasskey::PATH, &[("credential", &credential)]).await.0, StatusCode::OK);
    let token =
        server.sign_in(&mut first, Some("ada@example.com")).await.body["access_token"].as_str().unwrap().to_owned();
    let mut second = authenticator();
    let second_id = server.add_passkey(&token, &mut second).await;
    let first_id = first.credential_id_b64(0).unwrap();

    // A passkey-only account with two passkeys, both deleted at once: one goes, one stays. (The
    // browser's sign-in, made with the first, is kept, so that the page can be asked below.)
    let delete = |id: String| {
        let (server, token) = (&server, token.clone());
        let path = format!("/auth/passkeys/{id}?end_sign_ins=false");
        async move { server.request(reqwest::Method::DELETE, &path, Some(&token), None).await }
    };
    let (a, b) = tokio::join!(delete(first_id), delete(second_id));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::NO_CONTENT, StatusCode::CONFLICT], "{} {}", a.body, b.body);
    let refused = if a.status == StatusCode::CONFLICT { a } else { b };
    assert_eq!(refused.body["error"], "last_passkey");
    assert!(refused.body["message"].as_str().unwrap().contains("only way into your account"), "{}", refused.body);
    assert_eq!(browser.account().await.1["passkeys"].as_array().unwrap().len(), 1);

    // The page says why, and keeps it.
    let last = browser.account().await.1["passkeys"][0]["id"].as_str().unwrap().to_owned();
    let cookie = browser.cookie.clone().unwrap();
    let deleting = format!("/passkeys?delete={last}");
    let (_, back, with_error) =
        submit(&server, &deleting, DeleteMyPasskey::PATH, &[("id", &last), ("end_sign_ins", "yes")], &cookie).await;
    let (_, _, explained) = page(&server, &back, Some(&with_error)).await;
    assert!(explained.contains("only way into your account"), "{explained}");
    assert_eq!(browser.account().await.1["passkeys"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_old_portal_sign_in_is_sent_to_sign_in_again_before_adding_or_deleting_a_passkey() {
    let env = Env::new().await;
    let database_url = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let db = stores::connect(&database_url).await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let id = server.add_passkey(&token, &mut authenticator()).await;
    let mut browser = Browser::new(&server);
    let sign_in = [("email", "ada@example.com"), ("password", "correct horse battery")];
    browser.call(PasswordSignIn::PATH, &sign_in).await;
    stores::age_sign_ins(&db, 360).await;

    let (status, _, refused) = browser.call(AddPasskeyOptions::PATH, &[]).await;
    assert_eq!((status, refused["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("reauthentication_required")));
    let cookie = browser.cookie.clone().unwrap();
    let deleting = format!("/passkeys?delete={id}");
    let (_, back, with_error) = submit(&server, &deleting, DeleteMyPasskey::PATH, &[("id", &id)], &cookie).await;
    let (_, _, page_after) = page(&server, &back, Some(&with_error)).await;
    assert!(page_after.contains("For this change, confirm it's you"), "{page_after}");
    assert!(page_after.contains(r#"href="/?next=/passkeys&amp;again=1""#), "the way to sign in again: {page_after}");
    let (_, _, sign_in_page) = page(&server, "/?next=/passkeys&again=1", Some(&cookie)).await;
    assert!(
        sign_in_page.contains("confirm it&#x27;s you: sign in again")
            || sign_in_page.contains("confirm it's you: sign in again"),
        "{sign_in_page}"
    );

    // Signing in again in the same browser replaces its old sign-in, and the change goes through.
    browser.call(PasswordSignIn::PATH, &sign_in).await;
    let (status, _, options) = browser.call(AddPasskeyOptions::PATH, &[]).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let listed = server.get("/auth/sessions", Some(&token)).await.body;
    assert_eq!(listed.as_array().unwrap().len(), 2, "the API's and the browser's new one, not its old one: {listed}");
}

#[tokio::test]
async fn an_old_portal_sign_in_confirms_in_place_with_its_password_or_its_own_passkey_only() {
    let env = Env::new().await;
    let database_url = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let db = stores::connect(&database_url).await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut own = authenticator();
    server.add_passkey(&token, &mut own).await;
    let (bobs_token, _) = server.sign_up("bob@example.com").await;
    let mut bobs = authenticator();
    server.add_passkey(&bobs_token, &mut bobs).await;
    let mut browser = Browser::new(&server);
    browser.call(PasswordSignIn::PATH, &[("email", "ada@example.com"), ("password", "correct horse battery")]).await;
    let (_, _, fresh) = browser.call(ConfirmationNeeded::PATH, &[]).await;
    assert_eq!(fresh, json!(false), "a new sign-in needs no confirmation");
    stores::age_sign_ins(&db, 360).await;
    assert_eq!(browser.call(ConfirmationNeeded::PATH, &[]).await.2, json!(true));

    // The wrong password is refused and changes nothing; the right one renews the sign-in.
    let (status, _, wrong) = browser.call(ConfirmWithPassword::PATH, &[("password", "wrong password")]).await;
    assert_eq!((status, wrong["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_credentials")));
    assert_eq!(browser.call(ConfirmationNeeded::PATH, &[]).await.2, json!(true));
    let (status, _, body) = browser.call(ConfirmWithPassword::PATH, &[("password", "correct horse battery")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(browser.call(ConfirmationNeeded::PATH, &[]).await.2, json!(false));

    // Old again: the options ask for Ada's passkeys only, and Bob's passkey cannot confirm for her.
    stores::age_sign_ins(&db, 360).await;
    let options = browser.options(ConfirmOptions::PATH, &[]).await;
    assert_eq!(options["allowCredentials"][0]["id"], own.credential_id_b64(0).unwrap(), "{options}");
    let discoverable = Browser::new(&server).options(PasskeySignInOptions::PATH, &[]).await;
    let foreign = bobs.get(&discoverable, ORIGIN).unwrap().to_string();
    let (status, _, refused) = browser.call(ConfirmWithPasskey::PATH, &[("credential", &foreign)]).await;
    assert_eq!((status, refused["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("authentication_failed")));
    assert_eq!(browser.account().await.1["user"]["email"], "ada@example.com", "still Ada, still old");
    assert_eq!(browser.call(ConfirmationNeeded::PATH, &[]).await.2, json!(true));
    let bobs_sign_ins = server.get("/auth/sessions", Some(&bobs_token)).await.body;
    assert_eq!(bobs_sign_ins.as_array().unwrap().len(), 1, "the sign-in Bob's passkey made ended: {bobs_sign_ins}");

    let credential = own.get(&options, ORIGIN).unwrap().to_string();
    let (status, _, body) = browser.call(ConfirmWithPasskey::PATH, &[("credential", &credential)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(browser.call(ConfirmationNeeded::PATH, &[]).await.2, json!(false));
    let (status, _, options) = browser.call(AddPasskeyOptions::PATH, &[]).await;
    assert_eq!(status, StatusCode::OK, "the change goes on: {options}");
}

#[tokio::test]
async fn the_account_page_adds_changes_and_removes_the_password_with_plain_forms() {
    let server = TestServer::start().await;
    let mut browser = Browser::new(&server);
    let mut key = authenticator();
    let options = browser.options(SignUpWithPasskeyOptions::PATH, &[("email", "ada@example.com")]).await;
    let credential = key.create(&options, ORIGIN).unwrap().to_string();
    browser.call(FinishSignUpWithPasskey::PATH, &[("credential", &credential)]).await;
    assert_eq!(browser.account().await.1["has_password"], false, "passkey-only");
    let cookie = browser.cookie.clone().unwrap();
    let login = |password: &'static str| {
        server.post("/auth/login", None, json!({"email": "ada@example.com", "password": password}))
    };

    let (status, location, _) =
        submit(&server, "/account", SetMyPassword::PATH, &[("password", "a new passphrase")], &cookie).await;
    assert_eq!((status, location.as_str()), (StatusCode::FOUND, "/account?done=password"));
    assert_eq!(browser.account().await.1["has_password"], true);
    assert_eq!(login("a new passphrase").await.status, StatusCode::OK);

    let (_, back, with_error) =
        submit(&server, "/account", SetMyPassword::PATH, &[("password", "password123")], &cookie).await;
    let (_, _, refused) = page(&server, &back, Some(&with_error)).await;
    assert!(
        refused.contains("most common in known data breaches"),
        "the sentence comes back to the form: {back}\n{refused}"
    );

    let (status, location, _) = submit(&server, "/account", RemoveMyPassword::PATH, &[], &cookie).await;
    assert_eq!((status, location.as_str()), (StatusCode::FOUND, "/account?done=password_removed"));
    assert_eq!(login("a new passphrase").await.code(), "invalid_credentials");
    let (_, _, page_after) = page(&server, "/account?done=password_removed", Some(&cookie)).await;
    assert!(page_after.contains("Your password was removed."), "{page_after}");
    assert!(page_after.contains("Recent activity") && page_after.contains("Password removed"), "{page_after}");
}

#[tokio::test]
async fn the_mailed_link_opens_a_page_whose_button_confirms_the_address() {
    let smtp = SmtpServer::start();
    let server = TestServer::start_with(Env::new().await.set("LATCHKEY_SMTP_URL", SmtpServer::url_at(smtp.addr))).await;
    let (access, _) = server.sign_up("ada@example.com").await;
    let link = smtp.mail_to("ada@example.com").await.link("/verify-email");
    let path = link.strip_prefix(ORIGIN).unwrap();
    let token = path.split("token=").nth(1).unwrap();

    let (status, _, opened) = page(&server, path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(opened.contains("Confirm email address") && opened.contains(token), "{opened}");
    assert_eq!(
        server.get("/auth/me", Some(&access)).await.body["email_verified"],
        false,
        "opening it confirms nothing"
    );

    let (status, location, _) = submit(&server, path, VerifyEmail::PATH, &[("token", token)], "").await;
    assert_eq!((status, location.as_str()), (StatusCode::FOUND, "/?verified=1"), "signed out: on to sign in");
    assert_eq!(server.get("/auth/me", Some(&access)).await.body["email_verified"], true);
    let (_, back, with_error) = submit(&server, path, VerifyEmail::PATH, &[("token", token)], "").await;
    let (_, _, refused) = page(&server, &back, Some(&with_error)).await;
    assert!(refused.contains("already used or expired"), "{back}: {refused}");
}

#[tokio::test]
async fn a_browser_whose_sign_in_was_ended_elsewhere_is_signed_out_on_its_next_request() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut browser = Browser::new(&server);
    browser.call(PasswordSignIn::PATH, &[("email", "ada@example.com"), ("password", "correct horse battery")]).await;
    let cookie = browser.cookie.clone().unwrap();
    let (_, _, account_page) = page(&server, "/account", Some(&cookie)).await;
    assert!(
        account_page.contains("This device") && account_page.contains("Sign out everywhere else"),
        "{account_page}"
    );

    let listed = server.get("/auth/sessions", Some(&token)).await.body;
    let in_browser = listed.as_array().unwrap().iter().find(|s| s["current"] == false).unwrap();
    let path = format!("/auth/sessions/{}", in_browser["id"].as_str().unwrap());
    let ended = server.request(reqwest::Method::DELETE, &path, Some(&token), None).await;

    assert_eq!(ended.status, StatusCode::NO_CONTENT);
    let (status, answer) = browser.account().await;
    assert_eq!((status, answer["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("sign_in_required")));
    let (status, location, _) = page(&server, "/account", Some(&cookie)).await;
    assert_eq!((status, location.as_deref()), (StatusCode::FOUND, Some("/?next=/account")));
}

/// L11, in the browser: a session used every day still ends when its sign-in reaches
/// `LATCHKEY_SESSION_MAX_AGE_SECS`, and its sign-in ends with it.
#[tokio::test]
async fn a_browser_session_ends_at_its_sign_ins_maximum_age_however_often_it_is_used() {
    let env = Env::new().await.set("LATCHKEY_SESSION_MAX_AGE_SECS", "3600");
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let db = stores::connect(&database).await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut browser = Browser::new(&server);
    browser.call(PasswordSignIn::PATH, &[("email", "ada@example.com"), ("password", "correct horse battery")]).await;
    let (young, _) = browser.account().await;
    let before = server.get("/auth/sessions", Some(&token)).await.body.as_array().unwrap().len();

    stores::age_sign_in_starts(&db, 3600).await;
    let (old, answer) = browser.account().await;
    let after = server.get("/auth/sessions", Some(&token)).await.body.as_array().unwrap().len();

    assert_eq!(young, StatusCode::OK);
    assert_eq!((old, answer["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("sign_in_required")));
    assert_eq!((before, after), (2, 1), "the browser's sign-in ended with its session");
}

/// L16: browser sessions in Redis were stored under their bare id, beside whatever else shares that
/// Redis; they live under the deployment's prefix now, as its ceremonies do.
#[tokio::test]
async fn redis_sessions_live_under_the_deployments_prefix() {
    use fred::prelude::KeysInterface as _;
    let Some(redis) = crate::common::redis_url().filter(|_| crate::common::backend_is_postgres()) else {
        eprintln!("skipped: sessions are in Redis only with the PostgreSQL + Redis backend");
        return;
    };
    let prefix = format!("lk-test:sessions:{}:", uuid::Uuid::new_v4().simple());
    let server = TestServer::start_with(Env::new().await.set("LATCHKEY_REDIS_PREFIX", prefix.clone())).await;
    server.sign_up("ada@example.com").await;
    let mut browser = Browser::new(&server);
    browser.call(PasswordSignIn::PATH, &[("email", "ada@example.com"), ("password", "correct horse battery")]).await;
    let cookie = browser.cookie.clone().expect("a session cookie");
    let id = cookie.split_once('=').unwrap().1.to_owned();

    let pool = engine::passkeys::challenge::connect_redis(&redis, None).await.unwrap();
    let prefixed: Option<Vec<u8>> = pool.get(format!("{prefix}session:{id}")).await.unwrap();
    let bare: Option<Vec<u8>> = pool.get(&id).await.unwrap();
    let (status, _) = browser.account().await;

    assert!(bare.is_none(), "a session under its bare id");
    assert!(prefixed.is_some(), "no session under {prefix}session:{id}");
    assert_eq!(status, StatusCode::OK, "the session is read back from there");
}

/// A browser signed in to `email` (whose password is the tests' own).
async fn signed_in_browser<'a>(server: &'a TestServer, email: &str) -> Browser<'a> {
    let mut browser = Browser::new(server);
    browser.call(PasswordSignIn::PATH, &[("email", email), ("password", "correct horse battery")]).await;
    browser
}

/// M8: the default memory session store (moka, whose TinyLFU admission turns away a new entry
/// that is no more used than the one it would evict) refused new sessions once others' busy sessions
/// filled it: a sign-in answered success and the next request was signed out. It evicts the least
/// recently used session now and never refuses a new one; and one account holds at most 100
/// browser sign-ins (the oldest end), so one account cannot fill it.
#[tokio::test]
async fn a_full_memory_session_store_admits_a_new_sign_in_and_an_account_holds_its_share() {
    let env = || async {
        Env::new()
            .await
            .set("LATCHKEY_SESSION_STORE", "memory")
            .set("LATCHKEY_RATE_LIMIT_PASSWORD", "off")
            .set("LATCHKEY_RATE_LIMIT_PORTAL", "off")
    };
    let full = TestServer::start_with(env().await.set("LATCHKEY_SESSION_CAPACITY", "20")).await;
    // Twenty people fill the store and use it all day.
    let mut busy = Vec::new();
    for i in 0..20 {
        let email = format!("busy{i}@example.com");
        full.sign_up(&email).await;
        busy.push(signed_in_browser(&full, &email).await);
    }
    for _ in 0..8 {
        for browser in &mut busy {
            browser.account().await;
        }
    }
    full.sign_up("ada@example.com").await;
    let mut ada = signed_in_browser(&full, "ada@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (first, _) = ada.account().await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (again, _) = ada.account().await;

    // One account signing in again and again (in a store with room): its oldest sign-ins end.
    let roomy = TestServer::start_with(env().await).await;
    roomy.sign_up("many@example.com").await;
    let mut oldest = signed_in_browser(&roomy, "many@example.com").await;
    let mut newest = signed_in_browser(&roomy, "many@example.com").await;
    for _ in 0..100 {
        newest = signed_in_browser(&roomy, "many@example.com").await;
    }
    let (oldest_after, _) = oldest.account().await;
    let (newest_after, _) = newest.account().await;

    assert_eq!((first, again), (StatusCode::OK, StatusCode::OK), "a new sign-in into a full store stays signed in");
    assert_eq!(oldest_after, StatusCode::UNAUTHORIZED, "the 102nd sign-in ended the oldest");
    assert_eq!(newest_after, StatusCode::OK);
}

#[tokio::test]
async fn the_account_page_signs_out_everywhere_else() {
    let server = TestServer::start().await;
    let (token, refresh) = server.sign_up("ada@example.com").await;
    let mut browser = Browser::new(&server);
    browser.call(PasswordSignIn::PATH, &[("email", "ada@example.com"), ("password", "correct horse battery")]).await;
    let cookie = browser.cookie.clone().unwrap();

    let (status, done, _) = submit(&server, "/account", EndMyOtherSignIns::PATH, &[], &cookie).await;

    assert!(status.is_redirection(), "{status}");
    assert_eq!(done, "/account?done=others");
    let refreshed = server.post("/auth/refresh", None, json!({ "refresh_token": refresh })).await;
    assert_eq!(refreshed.status, StatusCode::UNAUTHORIZED, "the API's sign-in was ended");
    assert_eq!(
        server.get("/auth/sessions", Some(&token)).await.status,
        StatusCode::OK,
        "its access token lives to expiry"
    );
    assert_eq!(browser.account().await.0, StatusCode::OK, "this browser stays signed in");
    let (_, _, page) = page(&server, &done, Some(&cookie)).await;
    assert!(
        page.contains("You were signed out everywhere else.") && !page.contains("Sign out everywhere else"),
        "{page}"
    );
}

/// The operator's brand: their logo (and its dark variant) in every page's header, their icon, their
/// accent colour and stylesheet after the portal's, each served by Latchkey under `/brand/` with a
/// version in the address and a policy that runs no script.
#[tokio::test]
async fn a_branded_portal_shows_the_operators_logo_icon_colour_and_stylesheet() {
    let dir = std::env::temp_dir().join(format!("latchkey-tests/brand-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, body: &str| {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        path.to_string_lossy().into_owned()
    };
    let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#;
    let env = Env::new()
        .await
        .set("LATCHKEY_BRAND_LOGO", write("acme.svg", svg))
        .set("LATCHKEY_BRAND_LOGO_DARK", write("acme-dark.svg", svg))
        .set("LATCHKEY_BRAND_FAVICON", write("acme.png", "png bytes"))
        .set("LATCHKEY_BRAND_ACCENT", "#0b5d3b")
        .set("LATCHKEY_BRAND_STYLESHEET", write("acme.css", ".brand { letter-spacing: 0; }"));
    let server = TestServer::start_with(env).await;

    let (_, _, html) = page(&server, "/", None).await;
    let linked = |prefix: &str| -> String {
        let at = html.find(prefix).unwrap_or_else(|| panic!("{prefix} in {html}"));
        html[at..].split('"').next().unwrap().to_owned()
    };
    let (logo, dark, icon) = (linked("/brand/logo?v="), linked("/brand/logo-dark?v="), linked("/brand/favicon?v="));
    let (accent, style) = (linked("/brand/accent.css?v="), linked("/brand/style.css?v="));
    assert!(html.contains(&format!(r#"<img src="{logo}" alt="" height="28" class="logo">"#)), "{html}");
    assert!(html.contains(r#"media="(prefers-color-scheme: dark)""#) && html.contains(&dark), "{html}");
    assert!(html.contains(&format!(r#"rel="icon" href="{icon}""#)), "{html}");
    let after = |first: &str, second: &str| html.find(first).unwrap() < html.find(second).unwrap();
    assert!(after("/pkg/", &accent) && after(&accent, &style), "the operator's styles come last: {html}");

    for (path, content_type, holds) in [
        (logo.as_str(), "image/svg+xml", "<svg"),
        (icon.as_str(), "image/png", "png bytes"),
        (accent.as_str(), "text/css", "--accent: #0b5d3b"),
        (style.as_str(), "text/css", "letter-spacing"),
    ] {
        let answer = reqwest::get(format!("{}{path}", server.base)).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
        assert_eq!(answer.headers()["content-type"], content_type, "{path}");
        assert!(answer.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"), "{path}");
        assert!(answer.headers()["cache-control"].to_str().unwrap().contains("immutable"), "{path}");
        assert!(answer.text().await.unwrap().contains(holds), "{path}");
    }
    let unknown = reqwest::get(format!("{}/brand/other", server.base)).await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_product_name_is_one_setting_for_pages_and_passkey_prompts() {
    let env = crate::common::Env::new().await.set("LATCHKEY_PRODUCT_NAME", "Acme Sign-in");
    let server = TestServer::start_with(env).await;
    let (token, _) = server.sign_up("ada@example.com").await;

    let html = reqwest::get(format!("{}/", server.base)).await.unwrap().text().await.unwrap();
    let options = server.post("/auth/passkeys/register/begin", Some(&token), json!({})).await.body;

    let text = strip_comments(&html);
    assert!(text.contains("<title>Sign in · Acme Sign-in</title>"), "the page's name, then the product's: {text}");
    assert!(text.contains(r#"<meta name="application-name" content="Acme Sign-in">"#), "{text}");
    assert!(text.contains("Sign in to Acme Sign-in"), "{text}");
    assert!(!text.contains(engine::base::config::PRODUCT_NAME), "the default name is nowhere on the page: {text}");
    assert_eq!(options["rp"]["name"], "Acme Sign-in");
    let api: Value = reqwest::get(format!("{}/openapi.json", server.base)).await.unwrap().json().await.unwrap();
    assert_eq!(api["info"]["title"], "Acme Sign-in", "the API reference's title too");
}

/// The page's HTML without the markers Leptos puts between text nodes for hydration (`<!>` and
/// comments).
fn strip_comments(html: &str) -> String {
    let html = html.replace("<!>", "");
    let mut text = String::new();
    let mut rest = html.as_str();
    while let Some(start) = rest.find("<!--") {
        text.push_str(&rest[..start]);
        rest = rest[start..].find("-->").map_or("", |end| &rest[start + end + 3..]);
    }
    text.push_str(rest);
    text
}

/// A browser's GET of a portal page, without following redirects: (status, Location, HTML without markers).
pub(crate) async fn page(
    server: &TestServer,
    path: &str,
    cookie: Option<&str>,
) -> (StatusCode, Option<String>, String) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut request = client.get(format!("{}{path}", server.base)).header("accept", "text/html");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    (response.status(), location, strip_comments(&response.text().await.unwrap()))
}

#[tokio::test]
async fn signed_in_pages_send_signed_out_visitors_to_sign_in_and_show_links_only_when_signed_in() {
    let server = TestServer::start().await;
    server.sign_up("ada@example.com").await;
    let mut browser = Browser::new(&server);
    browser.call(PasswordSignIn::PATH, &[("email", "ada@example.com"), ("password", "correct horse battery")]).await;

    let (status, location, _) = page(&server, "/notes", None).await;
    let (_, _, sign_in) = page(&server, "/?next=/notes", None).await;
    let (_, _, signed_in) = page(&server, "/account", browser.cookie.as_deref()).await;
    let (_, _, notes) = page(&server, "/notes", browser.cookie.as_deref()).await;

    assert_eq!((status, location.as_deref()), (StatusCode::FOUND, Some("/?next=/notes")));
    assert!(sign_in.contains("Please sign in to see this page."), "{sign_in}");
    assert!(sign_in.contains(r#"name="next" value="/notes""#), "{sign_in}");
    assert!(!sign_in.contains(r#"href="/passkeys""#), "no signed-in links for a signed-out visitor");
    assert!(signed_in.contains(r#"href="/passkeys""#) && signed_in.contains("ada@example.com"), "{signed_in}");
    assert!(notes.contains("Signed in as <strong") && notes.contains("ada@example.com"), "{notes}");
}

#[tokio::test]
async fn a_password_sign_in_returns_only_to_a_page_of_this_site() {
    let server = TestServer::start().await;
    server.sign_up("ada@example.com").await;
    let sign_in_with = |next: &'static str| {
        let server = &server;
        async move {
            let form = [("email", "ada@example.com"), ("password", "correct horse battery"), ("next", next)];
            let response = call(server, PasswordSignIn::PATH, &form_body(&form), None).await;
            response.headers().get("location").map(|l| l.to_str().unwrap().to_owned())
        }
    };

    assert_eq!(sign_in_with("/notes").await.as_deref(), Some("/notes"));
    for foreign in ["//evil.example/", "https://evil.example/", "/\\evil.example", "/é"] {
        assert_eq!(sign_in_with(foreign).await.as_deref(), Some("/passkeys?offer=1"), "{foreign}");
    }
}

#[tokio::test]
async fn a_protected_server_function_refuses_a_signed_out_caller() {
    let server = TestServer::start().await;

    let (status, _, body) = Browser::new(&server).call(NotesOwner::PATH, &[]).await;

    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("sign_in_required")));
}

#[tokio::test]
async fn over_https_the_session_cookie_is_host_only_and_browsers_are_told_to_stay_on_https() {
    let origin = "https://localhost:3443";
    let server = TestServer::start_with(crate::common::Env::new().await.set("LATCHKEY_ORIGINS", origin)).await;
    server.sign_up("ada@example.com").await;
    let form = form_body(&[("email", "ada@example.com"), ("password", "correct horse battery")]);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let signed_in = client
        .post(format!("{}{}", server.base, PasswordSignIn::PATH))
        .header("origin", origin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    let plain = TestServer::start().await;
    let plain_page = reqwest::get(format!("{}/", plain.base)).await.unwrap();

    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-latchkey_session="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
    assert_eq!(signed_in.headers()["strict-transport-security"], "max-age=63072000");
    assert!(plain_page.headers().get("strict-transport-security").is_none(), "no HSTS for http://localhost");
}

#[tokio::test]
async fn account_answers_and_pages_are_never_cached() {
    let server = TestServer::start().await;
    server.sign_up("ada@example.com").await;
    let mut browser = Browser::new(&server);
    browser.call(PasswordSignIn::PATH, &[("email", "ada@example.com"), ("password", "correct horse battery")]).await;

    let (_, headers, account) = browser.call(MyAccount::PATH, &[]).await;
    let page = reqwest::get(format!("{}/", server.base)).await.unwrap();

    assert_eq!(account["user"]["email"], "ada@example.com");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(page.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn anonymous_portal_calls_store_no_session() {
    let server =
        TestServer::start_with(crate::common::Env::new().await.set("LATCHKEY_SESSION_STORE", "database")).await;

    let mut cookies = Vec::new();
    for i in 0..20 {
        let email = format!("visitor{i}@example.com");
        for (path, form) in [
            (SignUpWithPasskeyOptions::PATH, form_body(&[("email", email.as_str())])),
            (PasskeySignInOptions::PATH, String::new()),
            (MyAccount::PATH, String::new()),
        ] {
            let response = call(&server, path, &form, None).await;
            cookies.extend(response.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap().to_owned()));
        }
    }
    let page = reqwest::get(format!("{}/sign-up", server.base)).await.unwrap();

    assert!(cookies.is_empty(), "anonymous calls set cookies: {cookies:?}");
    assert!(page.headers().get("set-cookie").is_none());
}

/// Listing the portal's routes renders the app with a process-wide switch (leptos_router's
/// `SuppressResourceLoad`) that parks every page data load first polled meanwhile, in any server
/// of the process, for good (leptos issue #4773). Starting one instance while another served
/// hung its account page until the request timed out, now and then, in the tests (which start a
/// server per test). Pages of one instance render while others start, each within ten seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_other_instances_start_in_the_same_process() {
    let server = TestServer::start().await;
    let mut browser = Browser::new(&server);
    browser
        .call(SignUpWithPassword::PATH, &[("email", "ada@example.com"), ("password", "correct horse battery")])
        .await;
    let cookie = browser.cookie.clone().unwrap();
    let starting = std::thread::spawn(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            for _ in 0..20 {
                let env = Env::new().await;
                let config = engine::Config::from_lookup(|k| env.get(k)).expect("valid test config");
                let _ = server::Latchkey::build(config).await.expect("an instance builds").router();
            }
        });
    });
    let mut rendered = 0;
    while !starting.is_finished() || rendered < 20 {
        let shown =
            tokio::time::timeout(std::time::Duration::from_secs(10), page(&server, "/account", Some(&cookie))).await;
        let (status, _, html) = shown.unwrap_or_else(|_| panic!("the account page hung after {rendered} renders"));
        assert_eq!(status, StatusCode::OK, "{html}");
        rendered += 1;
    }
    starting.join().unwrap();
}
