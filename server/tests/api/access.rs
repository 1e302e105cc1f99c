//! Who may get in: the operator's sign-up rule (`LATCHKEY_SIGN_UP`), the same at every door — the
//! REST API's register, the portal's password and passkey sign-ups — and for a new address.

use app::server_fns::{PasswordSignIn, SignUpWithPasskeyOptions, SignUpWithPassword, VerifyEmail};
use leptos::server_fn::ServerFn as _;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Env, SmtpServer, TestServer, operator};
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

    // Anyone can sign up as ceo@example.com; the real owner's click on the mailed link must not
    // confirm it for them: by link, only a browser signed in to the account confirms it.
    let squat = server
        .post("/auth/register", None, json!({"email": "ceo@example.com", "password": "correct horse battery"}))
        .await;
    let squatter = squat.body["access_token"].as_str().unwrap().to_owned();
    let link = smtp.mail_with("ceo@example.com", "Confirm your email").await.link("/verify-email");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let (status, _, body) = Browser::new(&server).call(VerifyEmail::PATH, &[("token", &token)]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("sign_in_required")), "{body}");
    assert!(body["message"].as_str().unwrap().starts_with("Sign in to this account first"), "{body}");
    assert_eq!(server.get("/auth/me", Some(&squatter)).await.body["email_verified"], false);
    let by_api = server.post("/auth/email/verify", None, json!({ "token": token })).await;
    assert_eq!(by_api.code(), "sign_in_required", "the anonymous API confirms nothing either");
    let mut owner = Browser::new(&server);
    owner.call(PasswordSignIn::PATH, &[("email", "ceo@example.com"), ("password", "correct horse battery")]).await;
    let (status, _, body) = owner.call(VerifyEmail::PATH, &[("token", &token)]).await;
    assert_eq!(status, StatusCode::OK, "signed in to it, the same link confirms it: {body}");
    assert_eq!(server.get("/auth/me", Some(&squatter)).await.body["email_verified"], true);
}

/// The operator disables an account (`latchkey admin disable`): every sign-in of it ends at once —
/// the browser is signed out on its next request, a REST refresh token stops working — and nothing
/// starts one again: password and passkey sign-ins are refused with a sentence (only to whoever
/// proved they hold the password or the passkey; a wrong password is still just wrong), a
/// recovery link made before stops working and none can be made. The owner is told by mail.
/// `latchkey admin enable` lets it sign in again.
#[tokio::test]
async fn a_disabled_account_is_signed_out_everywhere_and_signs_in_nowhere_until_enabled() {
    use app::server_fns::{MyAccount, RecoveryPasskeyOptions};
    let smtp = SmtpServer::start();
    let env = Env::new().await.set("LATCHKEY_SMTP_URL", SmtpServer::url_at(smtp.addr));
    let server = TestServer::start_with(env.clone()).await;
    let operator = |args: &[&str]| operator(&env, args);
    let (token, refresh) = server.sign_up("ada@example.com").await;
    server.confirm_address(&smtp, &token, "ada@example.com").await;
    let mut key = crate::common::authenticator();
    server.add_passkey(&token, &mut key).await;
    let mut browser = Browser::new(&server);
    let password = [("email", "ada@example.com"), ("password", "correct horse battery")];
    browser.call(PasswordSignIn::PATH, &password).await;
    assert_eq!(browser.call(MyAccount::PATH, &[]).await.0, StatusCode::OK);
    let (made, link) = operator(&["admin", "recovery-link", "ada@example.com"]);
    assert!(made, "{link}");
    let recovery_token = link.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    // A move to a new address, asked for before and not yet confirmed.
    let moving = json!({"email": "ada.new@example.com"});
    let asked = server.request(reqwest::Method::PUT, "/auth/email", Some(&token), Some(moving)).await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.body);
    let move_link = smtp.mail_with("ada.new@example.com", "Confirm your email").await.link("/verify-email");
    let move_token = move_link.split("token=").nth(1).unwrap().to_owned();

    let (disabled, said) = operator(&["admin", "disable", "ADA@example.com"]);
    assert!(disabled, "{said}");
    assert!(said.contains("ada@example.com is disabled; 2 sign-in(s) ended"), "{said}");

    let (status, _, body) = browser.call(MyAccount::PATH, &[]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("sign_in_required")), "{body}");
    let refreshed = server.post("/auth/refresh", None, json!({ "refresh_token": refresh })).await;
    assert_eq!(refreshed.code(), "invalid_refresh_token");

    let login = |password: &'static str| {
        server.post("/auth/login", None, json!({"email": "ada@example.com", "password": password}))
    };
    let refused = login("correct horse battery").await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "account_disabled"));
    assert_eq!(refused.body["message"], "This account is disabled. Ask an administrator to enable it.");
    assert_eq!(login("not the password").await.code(), "invalid_credentials", "a stranger learns nothing");
    let by_passkey = server.sign_in(&mut key, None).await;
    assert_eq!((by_passkey.status, by_passkey.code()), (StatusCode::FORBIDDEN, "account_disabled"));
    let (status, _, body) =
        Browser::new(&server).call(RecoveryPasskeyOptions::PATH, &[("token", &recovery_token)]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_recovery_link")), "{body}");
    let (made, said) = operator(&["admin", "recovery-link", "ada@example.com"]);
    assert!(!made && said.contains("This account is disabled."), "{said}");
    let (status, _, body) = Browser::new(&server).call(VerifyEmail::PATH, &[("token", &move_token)]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_verification")), "{body}");
    let told = smtp.mail_with("ada@example.com", "Your account was disabled").await;
    assert!(told.text().contains("ask the administrators"), "{}", told.text());
    assert!(!told.text().contains("If it was not you"), "{}", told.text());

    let (again, said) = operator(&["admin", "disable", "ada@example.com"]);
    assert!(again && said.contains("already was disabled"), "{said}");
    let (enabled, said) = operator(&["admin", "enable", "ada@example.com"]);
    assert!(enabled && said.contains("ada@example.com is enabled"), "{said}");
    assert_eq!(login("correct horse battery").await.status, StatusCode::OK);
    assert_eq!(server.sign_in(&mut key, None).await.status, StatusCode::OK);
    smtp.mail_with("ada@example.com", "Your account was enabled again").await;
    let (_, said) = operator(&["admin", "disable", "nobody@example.com"]);
    assert!(said.contains("No account has this email address or id."), "{said}");
}

/// The token in an invitation link the operator command printed, and the invitation's id.
fn invitation_of(said: &str) -> (String, String) {
    let token = said.split("invitation=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let before = said.split(" works once").next().unwrap();
    let id = before.rsplit("invitation ").next().unwrap().trim().to_owned();
    (token, id)
}

/// `latchkey admin invite` makes a link that makes one account where sign-up needs an invitation:
/// at the REST API, and in the portal with a passkey; for the one address it names, if it names
/// one (mailed there, and then using it confirms the address). A used, withdrawn, expired or
/// unknown invitation gets a sentence, on the page and in the API.
#[tokio::test]
async fn an_invitation_makes_one_account_and_says_why_when_it_cannot() {
    use app::server_fns::{FinishSignUpWithPasskey, MyAccount};
    let smtp = SmtpServer::start();
    let env =
        Env::new().await.set("LATCHKEY_SIGN_UP", "invite").set("LATCHKEY_SMTP_URL", SmtpServer::url_at(smtp.addr));
    let server = TestServer::start_with(env.clone()).await;
    let register = |email: &'static str, invitation: Option<&str>| {
        let body = json!({"email": email, "password": "correct horse battery", "invitation": invitation});
        server.post("/auth/register", None, body)
    };

    // For anyone: the page offers the form with the invitation; it makes one account.
    let (made, said) = operator(&env, &["admin", "invite"]);
    assert!(made && said.contains("for any address"), "{said}");
    let (token, _) = invitation_of(&said);
    let (_, _, invited) = page(&server, &format!("/sign-up?invitation={token}"), None).await;
    assert!(invited.contains(r#"data-testid="invited""#) && invited.contains(r#"name="invitation""#), "{invited}");
    assert_eq!(register("ada@example.com", None).await.code(), "invitation_required");
    assert_eq!(register("ada@example.com", Some(&token)).await.status, StatusCode::CREATED);
    let again = register("eve@example.com", Some(&token)).await;
    assert_eq!((again.status, again.code()), (StatusCode::BAD_REQUEST, "invalid_invitation"));
    assert_eq!(again.body["message"], "This invitation was already used. Sign in, or ask for a new one.");
    let (_, _, used) = page(&server, &format!("/sign-up?invitation={token}"), None).await;
    assert!(used.contains("This invitation was already used.") && !used.contains(r#"name="password""#), "{used}");

    // For one address, mailed there: only that address, and the passkey sign-up confirms it.
    let (made, said) = operator(&env, &["admin", "invite", "Bob@Example.com"]);
    assert!(made && said.contains("mailed to bob@example.com"), "{said}");
    let (token, _) = invitation_of(&said);
    let mailed = smtp.mail_with("bob@example.com", "You are invited").await;
    assert!(mailed.text().contains(&format!("/sign-up?invitation={token}")), "{}", mailed.text());
    let (_, _, fixed) = page(&server, &format!("/sign-up?invitation={token}"), None).await;
    assert!(fixed.contains(r#"value="bob@example.com""#) && fixed.contains("readonly"), "{fixed}");
    let other = register("eve@example.com", Some(&token)).await;
    assert_eq!(other.body["message"], "This invitation is for another email address.");
    let mut browser = Browser::new(&server);
    let mut key = crate::common::authenticator();
    let (status, _, options) =
        browser.call(SignUpWithPasskeyOptions::PATH, &[("email", "bob@example.com"), ("invitation", &token)]).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let options: serde_json::Value = serde_json::from_str(options.as_str().unwrap()).unwrap();
    let credential = key.create(&options, crate::common::ORIGIN).unwrap().to_string();
    let (status, _, body) = browser.call(FinishSignUpWithPasskey::PATH, &[("credential", &credential)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, account) = browser.call(MyAccount::PATH, &[]).await;
    assert_eq!(account["user"]["email_verified"], true, "the mailed link proved the mailbox: {account}");
    assert_eq!(register("bob@example.com", Some(&token)).await.code(), "invalid_invitation");

    // Withdrawn, expired, unknown, and for an address that has an account.
    let (_, said) = operator(&env, &["admin", "invite"]);
    let (token, id) = invitation_of(&said);
    let (revoked, said) = operator(&env, &["admin", "revoke-invitation", &id]);
    assert!(revoked && said.contains("is withdrawn"), "{said}");
    assert_eq!(
        register("carol@example.com", Some(&token)).await.body["message"],
        "This invitation was withdrawn. Ask for a new one."
    );
    let (again, said) = operator(&env, &["admin", "revoke-invitation", &id]);
    assert!(!again && said.contains("No unused invitation has this id."), "{said}");
    let (_, said) = operator(&env, &["admin", "invite", "--ttl", "1s"]);
    let (token, _) = invitation_of(&said);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        register("carol@example.com", Some(&token)).await.body["message"],
        "This invitation has expired. Ask for a new one."
    );
    let unknown = register("carol@example.com", Some("not-an-invitation")).await;
    assert!(unknown.body["message"].as_str().unwrap().starts_with("This invitation link is not valid."));
    let (made, said) = operator(&env, &["admin", "invite", "ada@example.com"]);
    assert!(!made && said.contains("An account with this email already exists."), "{said}");
}

/// `latchkey admin group …`: groups are made, filled, listed, emptied and deleted from the
/// operator's command line, and every mistake is a sentence.
#[tokio::test]
async fn the_operator_makes_and_fills_groups_from_the_command_line() {
    let env = Env::new().await;
    let server = TestServer::start_with(env.clone()).await;
    server.sign_up("ada@example.com").await;
    let run = |args: &[&str]| operator(&env, &[&["admin", "group"], args].concat());

    assert_eq!(
        run(&["create", "staff", "--description", "Everyone who works here"]),
        (true, "group staff made\n".into())
    );
    let (made, said) = run(&["create", "staff"]);
    assert!(!made && said.contains("A group of this name exists already."), "{said}");
    let (made, said) = run(&["create", "Staff Room"]);
    assert!(!made && said.contains("Name a group with 1 to 64 lower-case letters"), "{said}");
    assert_eq!(run(&["add", "staff", "ada@example.com"]), (true, "ada@example.com is in staff\n".into()));
    assert_eq!(run(&["add", "staff", "ada@example.com"]), (true, "ada@example.com already was in staff\n".into()));
    let (added, said) = run(&["add", "nope", "ada@example.com"]);
    assert!(!added && said.contains("No group has this name or id."), "{said}");
    let (added, said) = run(&["add", "staff", "nobody@example.com"]);
    assert!(!added && said.contains("No account has this email address or id."), "{said}");
    assert_eq!(run(&["list"]), (true, "staff  1 member(s)  Everyone who works here\n".into()));
    assert_eq!(run(&["remove", "staff", "ada@example.com"]), (true, "ada@example.com left staff\n".into()));

    // An invitation's account joins the groups it names, when it is made.
    let (made, said) = operator(&env, &["admin", "invite", "--group", "staff", "--group", "staff"]);
    assert!(made && said.contains("; joins staff\n"), "{said}");
    let (token, _) = invitation_of(&said);
    let body = json!({"email": "dave@example.com", "password": "correct horse battery", "invitation": token});
    assert_eq!(server.post("/auth/register", None, body).await.status, StatusCode::CREATED);
    assert_eq!(run(&["list"]), (true, "staff  1 member(s)  Everyone who works here\n".into()));
    let (made, said) = operator(&env, &["admin", "invite", "--group", "nope"]);
    assert!(!made && said.contains("No group has this name or id."), "{said}");
    assert_eq!(run(&["delete", "staff"]), (true, "group staff deleted\n".into()));
    assert_eq!(run(&["list"]), (true, "no groups\n".into()));
}
