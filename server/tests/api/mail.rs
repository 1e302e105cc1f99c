//! Mail through a real SMTP server (started by the test, `common::SmtpServer`): the verification
//! mail a sign-up writes arrives with its link and code, each proves the address once; an SMTP
//! outage delays a mail but never loses it; two instances send each mail once.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Env, FlakyProxy, ORIGIN, SmtpServer, TestServer};

async fn mailing_server(smtp: &str) -> TestServer {
    TestServer::start_with(
        Env::new()
            .await
            .set("LATCHKEY_SMTP_URL", smtp)
            .set("LATCHKEY_MAIL_RETRY_SECS", "1")
            .set("LATCHKEY_PRODUCT_NAME", "Acme <Portal>"),
    )
    .await
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

#[tokio::test]
async fn a_sign_up_is_mailed_a_link_that_verifies_its_address_once() {
    let smtp = SmtpServer::start();
    let server = mailing_server(&SmtpServer::url_at(smtp.addr)).await;
    let (access, _) = server.sign_up("ada@example.com").await;

    let mail = smtp.mail_to("ada@example.com").await;

    assert!(mail.raw.contains("Subject: Confirm your email address for Acme <Portal>"), "{}", mail.raw);
    assert!(mail.raw.contains("multipart/alternative"), "plain text and HTML: {}", mail.raw);
    assert!(mail.text().contains("Acme &lt;Portal&gt;"), "the HTML escapes what it is given: {}", mail.text());
    let link = mail.link("/verify-email");
    assert!(link.starts_with(&format!("{}/verify-email?token=", server.origin)), "{link}");
    assert_eq!(server.get("/auth/me", Some(&access)).await.body["email_verified"], false);

    let verified = server.post("/auth/email/verify", None, json!({ "token": token_of(&link) })).await;
    assert_eq!(verified.status, StatusCode::NO_CONTENT, "{}", verified.body);
    assert_eq!(server.get("/auth/me", Some(&access)).await.body["email_verified"], true);
    let again = server.post("/auth/email/verify", None, json!({ "token": token_of(&link) })).await;
    assert_eq!((again.status, again.code()), (StatusCode::BAD_REQUEST, "invalid_verification"), "single use");
    let forged = server.post("/auth/email/verify", None, json!({ "token": "not-a-token" })).await;
    assert_eq!(forged.code(), "invalid_verification");
    let resend = server.post("/auth/email/verification", Some(&access), json!({})).await;
    assert_eq!(resend.code(), "invalid_request", "already confirmed: {}", resend.body);
}

#[tokio::test]
async fn the_mailed_code_verifies_for_its_signed_in_owner_and_five_wrong_codes_end_it() {
    let smtp = SmtpServer::start();
    let server = mailing_server(&SmtpServer::url_at(smtp.addr)).await;
    let (ada, _) = server.sign_up("ada@example.com").await;
    let (bob, _) = server.sign_up("bob@example.com").await;
    let adas_code = smtp.mail_to("ada@example.com").await.code();
    let bobs_code = smtp.mail_to("bob@example.com").await.code();
    assert!(adas_code.chars().all(|c| c.is_ascii_digit()), "{adas_code}");

    // Ada's code is not Bob's; five wrong tries end Bob's verification, right code or not.
    let wrong = if bobs_code == "00000000" { "00000001" } else { "00000000" };
    for code in [adas_code.as_str(), wrong, wrong, wrong, wrong] {
        let refused = server.post("/auth/email/verify-code", Some(&bob), json!({ "code": code })).await;
        assert_eq!(refused.code(), "invalid_verification", "{code}");
    }
    let too_late = server.post("/auth/email/verify-code", Some(&bob), json!({ "code": bobs_code })).await;
    assert_eq!(too_late.code(), "invalid_verification", "the sixth try, right or not");
    assert_eq!(server.get("/auth/me", Some(&bob)).await.body["email_verified"], false);

    // Typed as it is mailed: two groups of four.
    let as_mailed = format!(" {} {} ", &adas_code[..4], &adas_code[4..]);
    let verified = server.post("/auth/email/verify-code", Some(&ada), json!({ "code": as_mailed })).await;
    assert_eq!(verified.status, StatusCode::NO_CONTENT, "{}", verified.body);
    assert_eq!(server.get("/auth/me", Some(&ada)).await.body["email_verified"], true);

    // A new mail at most once a minute.
    let soon = server.post("/auth/email/verification", Some(&bob), json!({})).await;
    assert_eq!((soon.status, soon.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert!(soon.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn an_smtp_outage_delays_a_mail_but_never_loses_it_nor_sends_it_twice() {
    let smtp = SmtpServer::start();
    let proxy = FlakyProxy::start(smtp.addr).await;
    let server = mailing_server(&SmtpServer::url_at(proxy.addr)).await;
    proxy.cut();

    server.sign_up("ada@example.com").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(smtp.received().is_empty(), "the SMTP server was down");

    proxy.restore();
    smtp.mail_to("ada@example.com").await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(smtp.received().len(), 1, "delivered once, after the outage");
}

#[tokio::test]
async fn two_instances_on_one_database_send_each_mail_once() {
    let smtp = SmtpServer::start();
    let env =
        Env::new().await.set("LATCHKEY_SMTP_URL", SmtpServer::url_at(smtp.addr)).set("LATCHKEY_MAIL_RETRY_SECS", "1");
    let (first, second) = (TestServer::start_with(env.clone()).await, TestServer::start_with(env).await);

    for n in 0..12 {
        let server = if n % 2 == 0 { &first } else { &second };
        server.sign_up(&format!("user{n}@example.com")).await;
    }
    smtp.mail_to("user11@example.com").await;
    smtp.mail_to("user0@example.com").await;
    tokio::time::sleep(Duration::from_millis(3000)).await;

    let mut per_recipient: HashMap<String, usize> = HashMap::new();
    for mail in smtp.received() {
        *per_recipient.entry(mail.to.join(",")).or_default() += 1;
    }
    assert_eq!(per_recipient.len(), 12, "{per_recipient:?}");
    assert!(per_recipient.values().all(|&count| count == 1), "each mail once: {per_recipient:?}");
}

#[tokio::test]
async fn changes_to_how_an_account_signs_in_are_mailed_to_its_owner() {
    let smtp = SmtpServer::start();
    let server = mailing_server(&SmtpServer::url_at(smtp.addr)).await;
    let (access, _) = server.sign_up("ada@example.com").await;
    server.confirm_address(&smtp, &access, "ada@example.com").await;
    let id = server.add_passkey(&access, &mut crate::common::authenticator()).await;
    let deleted = server.request(reqwest::Method::DELETE, &format!("/auth/passkeys/{id}"), Some(&access), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let changed = server
        .request(reqwest::Method::PUT, "/auth/password", Some(&access), Some(json!({"password": "a new passphrase"})))
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT);

    let subjects = |smtp: &SmtpServer| -> Vec<String> {
        smtp.received()
            .iter()
            .filter_map(|m| {
                m.raw.lines().find(|l| l.starts_with("Subject: ")).map(|l| l["Subject: ".len()..].to_owned())
            })
            .collect()
    };
    for _ in 0..100 {
        if subjects(&smtp).len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut got = subjects(&smtp);
    got.sort();
    assert_eq!(
        got,
        [
            "A passkey was added to your account (Acme <Portal>)",
            "A passkey was removed from your account (Acme <Portal>)",
            "Confirm your email address for Acme <Portal>",
            "Your password was changed (Acme <Portal>)",
        ]
    );
    let added = smtp.received().into_iter().find(|m| m.raw.contains("was added to your account")).unwrap();
    assert!(added.text().contains("“Test key” can now sign in"), "{}", added.text());
    assert!(added.text().contains("If it was not you"), "what to do");
}

#[tokio::test]
async fn a_new_email_address_takes_effect_once_confirmed_and_the_old_one_is_told() {
    let smtp = SmtpServer::start();
    let server = mailing_server(&SmtpServer::url_at(smtp.addr)).await;
    let (access, _) = server.sign_up("ada@example.com").await;
    let old_link = smtp.mail_to("ada@example.com").await.link("/verify-email");
    server.confirm_address(&smtp, &access, "ada@example.com").await;
    server.sign_up("taken@example.com").await;
    let change = |email: &'static str| {
        server.request(reqwest::Method::PUT, "/auth/email", Some(&access), Some(json!({ "email": email })))
    };

    let taken = change("taken@example.com").await;
    assert_eq!((taken.status, taken.code()), (StatusCode::CONFLICT, "email_taken"));
    let same = change("Ada@Example.com").await;
    assert_eq!(same.code(), "invalid_request");
    let started = change("ada@new.example").await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    assert_eq!(
        server.get("/auth/me", Some(&access)).await.body["email"],
        "ada@example.com",
        "not before it is confirmed"
    );

    let mail = smtp.mail_to("ada@new.example").await;
    assert!(mail.text().contains("as the new email address"), "{}", mail.text());
    let token = token_of(&mail.link("/verify-email"));
    let done = server.post("/auth/email/verify", None, json!({ "token": token })).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);

    let me = server.get("/auth/me", Some(&access)).await.body;
    assert_eq!((me["email"].as_str(), me["email_verified"].as_bool()), (Some("ada@new.example"), Some(true)));
    let told = smtp.mail_with("ada@example.com", "email address is now ada@new.example").await;
    assert!(told.text().contains("If it was not you"), "{}", told.text());
    let login = |email: &'static str| {
        server.post("/auth/login", None, json!({ "email": email, "password": "correct horse battery" }))
    };
    assert_eq!(login("ada@example.com").await.code(), "invalid_credentials");
    assert_eq!(login("ada@new.example").await.status, StatusCode::OK);
    // The sign-up's link for the old address proves nothing now.
    let stale = server.post("/auth/email/verify", None, json!({ "token": token_of(&old_link) })).await;
    assert_eq!(stale.code(), "invalid_verification");
    assert_eq!(server.get("/auth/me", Some(&access)).await.body["email"], "ada@new.example");
}

/// M5: whoever holds a sign-in can ask to move the account to their own address; the owner who
/// notices and signs them out (or changes the password) must also end that request, and must be
/// told of it when it is made. Before: nothing was told or recorded, and the mailed link still moved
/// the account a day later.
#[tokio::test]
async fn a_pending_email_change_is_told_recorded_and_ends_with_the_sign_ins_or_the_password() {
    let smtp = SmtpServer::start();
    let server = mailing_server(&SmtpServer::url_at(smtp.addr)).await;
    let (owner, _) = server.sign_up("ada@example.com").await;
    server.confirm_address(&smtp, &owner, "ada@example.com").await;
    let login =
        || server.post("/auth/login", None, json!({ "email": "ada@example.com", "password": "correct horse battery" }));
    let stolen = login().await.body["access_token"].as_str().unwrap().to_owned();
    let server = &server;
    let move_to = |token: String, email: &'static str| async move {
        server.request(reqwest::Method::PUT, "/auth/email", Some(&token), Some(json!({ "email": email }))).await
    };

    // The thief asks; the owner is told at once, and it is in the account's activity.
    assert_eq!(move_to(stolen.clone(), "mallory@evil.example").await.status, StatusCode::ACCEPTED);
    let thiefs_link = smtp.mail_to("mallory@evil.example").await.link("/verify-email");
    let told = smtp.mail_with("ada@example.com", "mallory@evil.example").await;
    let activity = server.get("/auth/activity", Some(&owner)).await.body;
    // The owner signs everyone else out: the request ends with them.
    let ended = server.request(reqwest::Method::DELETE, "/auth/sign-ins/others", Some(&owner), None).await;
    let used = server.post("/auth/email/verify", None, json!({ "token": token_of(&thiefs_link) })).await;

    assert!(told.text().contains("If it was not you"), "{}", told.text());
    let kinds: Vec<_> = activity.as_array().unwrap().iter().map(|item| item["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"email_change_requested"), "{kinds:?}");
    assert!(ended.status.is_success(), "{}", ended.body);
    assert_eq!(used.code(), "invalid_verification", "the link died with the sign-ins: {}", used.body);
    assert_eq!(server.get("/auth/me", Some(&owner)).await.body["email"], "ada@example.com");
}

/// M5, the other way out: a new password ends a pending change too (and so does removing it).
#[tokio::test]
async fn a_new_password_ends_a_pending_email_change() {
    let smtp = SmtpServer::start();
    let server = mailing_server(&SmtpServer::url_at(smtp.addr)).await;
    let (owner, _) = server.sign_up("ada@example.com").await;
    let login =
        server.post("/auth/login", None, json!({ "email": "ada@example.com", "password": "correct horse battery" }));
    let stolen = login.await.body["access_token"].as_str().unwrap().to_owned();

    let asked = server.request(
        reqwest::Method::PUT,
        "/auth/email",
        Some(&stolen),
        Some(json!({ "email": "mallory@evil.example" })),
    );
    assert_eq!(asked.await.status, StatusCode::ACCEPTED);
    let thiefs_link = smtp.mail_to("mallory@evil.example").await.link("/verify-email");
    let new_password = json!({ "password": "a brand new passphrase" });
    let changed = server.request(reqwest::Method::PUT, "/auth/password", Some(&owner), Some(new_password)).await;
    // The thief's sign-in ended with the password, and the request it made with it.
    let used = server.post("/auth/email/verify", None, json!({ "token": token_of(&thiefs_link) })).await;

    assert!(changed.status.is_success(), "{}", changed.body);
    assert_eq!(used.code(), "invalid_verification", "{}", used.body);
    assert_eq!(server.get("/auth/me", Some(&owner)).await.body["email"], "ada@example.com");
}

/// M3: codes were six digits and each verification took five wrong ones, so before, N accounts
/// asking to move to one address had N×5 guesses at a code mailed there. The address now has one
/// budget of wrong codes a day whoever guesses: once it is spent no code for it works (the link still does).
#[tokio::test]
async fn many_accounts_share_one_budget_of_code_guesses_for_the_address_they_claim() {
    let smtp = SmtpServer::start();
    let server = mailing_server(&SmtpServer::url_at(smtp.addr)).await;
    let server = &server;
    let claim = |token: String| async move {
        let body = json!({ "email": "victim@example.com" });
        let asked = server.request(reqwest::Method::PUT, "/auth/email", Some(&token), Some(body)).await;
        assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.body);
    };
    let mails_to_victim =
        || smtp.received().into_iter().filter(|m| m.to.iter().any(|t| t == "victim@example.com")).count();

    let mut guesses = 0;
    for attacker in ["a1@evil.example", "a2@evil.example"] {
        let (token, _) = server.sign_up(attacker).await;
        // Their own address confirmed, so each code they try is tried against their claim.
        server.confirm_address(&smtp, &token, attacker).await;
        claim(token.clone()).await;
        let code = smtp.mail_to("victim@example.com").await.code();
        let wrong = if code == "00000000" { "00000001" } else { "00000000" };
        for _ in 0..5 {
            let refused = server.post("/auth/email/verify-code", Some(&token), json!({ "code": wrong })).await;
            assert_eq!(refused.code(), "invalid_verification");
            guesses += 1;
        }
    }
    let (third, _) = server.sign_up("a3@evil.example").await;
    server.confirm_address(&smtp, &third, "a3@evil.example").await;
    let seen: Vec<String> =
        smtp.received().iter().filter(|m| m.to.iter().any(|t| t == "victim@example.com")).map(|m| m.code()).collect();
    claim(third.clone()).await;
    for _ in 0..200 {
        if mails_to_victim() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let thirds_code = smtp
        .received()
        .iter()
        .filter(|m| m.to.iter().any(|t| t == "victim@example.com"))
        .map(|m| m.code())
        .find(|code| !seen.contains(code))
        .expect("the third claim's mail");
    // Even the right code: the address's guesses are spent.
    let right = server.post("/auth/email/verify-code", Some(&third), json!({ "code": thirds_code })).await;

    assert_eq!(guesses, 10);
    assert_eq!(right.code(), "invalid_verification", "{}", right.body);
    assert_eq!(server.get("/auth/me", Some(&third)).await.body["email"], "a3@evil.example");
}

/// M2: an address is mailed only what its owner should get. Before, anyone could sign up with an
/// address that is not theirs and have the portal mail it a notice for every passkey they named
/// (their text in our mail), and a busy account had no ceiling at all.
#[tokio::test]
async fn an_unconfirmed_address_gets_only_its_confirmation_and_no_address_gets_more_than_ten_mails_an_hour() {
    let smtp = SmtpServer::start();
    let env = Env::new()
        .await
        .set("LATCHKEY_SMTP_URL", SmtpServer::url_at(smtp.addr))
        .set("LATCHKEY_MAIL_RETRY_SECS", "1")
        .set("LATCHKEY_RATE_LIMIT_CEREMONY", "off");
    let server = TestServer::start_with(env).await;
    let to = |address: &str| smtp.received().iter().filter(|m| m.to.iter().any(|t| t == address)).count();

    // Someone signs up with an address that is not theirs and names passkeys to write to it.
    let (squatter, _) = server.sign_up("victim@example.com").await;
    for _ in 0..3 {
        let named = Some("Call +1 555 0100 to keep your account");
        let mut key = crate::common::authenticator();
        let added = server.register_passkey_with(&squatter, &mut key, &testkit::Tweaks::default(), named).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    }
    // The owner of a confirmed address changes a lot within the hour.
    let (ada, _) = server.sign_up("ada@example.com").await;
    server.confirm_address(&smtp, &ada, "ada@example.com").await;
    for _ in 0..12 {
        server.add_passkey(&ada, &mut crate::common::authenticator()).await;
    }
    for _ in 0..100 {
        if to("ada@example.com") >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    assert_eq!(to("victim@example.com"), 1, "the confirmation, nothing else");
    assert_eq!(to("ada@example.com"), 10, "the confirmation and nine notices; the other three were not sent");
}

/// Mails wear the operator's brand: their logo (served by the portal) at the top and their accent
/// on the button; without a brand, the product's name and the portal's own blue.
#[tokio::test]
async fn mails_wear_the_operators_brand() {
    let smtp = SmtpServer::start();
    let logo = std::env::temp_dir().join(format!("latchkey-tests/brand-{}.svg", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(logo.parent().unwrap()).unwrap();
    std::fs::write(&logo, r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#).unwrap();
    let env = Env::new()
        .await
        .set("LATCHKEY_SMTP_URL", SmtpServer::url_at(smtp.addr))
        .set("LATCHKEY_BRAND_LOGO", logo.to_string_lossy().into_owned())
        .set("LATCHKEY_BRAND_ACCENT", "#0b5d3b");
    let branded = TestServer::start_with(env).await;
    let plain = mailing_server(&SmtpServer::url_at(smtp.addr)).await;

    branded.sign_up("ada@example.com").await;
    plain.sign_up("bob@example.com").await;
    let (ada, bob) = (smtp.mail_to("ada@example.com").await.text(), smtp.mail_to("bob@example.com").await.text());

    // The HTML part escapes the address's slashes.
    let logo = format!("{ORIGIN}/brand/logo").replace('/', "&#x2f;");
    assert!(ada.contains(&logo) && ada.contains("background:#0b5d3b"), "{ada}");
    assert!(!bob.contains("brand&#x2f;logo") && bob.contains("background:#2456d6"), "{bob}");
}
