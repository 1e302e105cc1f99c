//! The seed's passkey endpoints: options, registration, listing, renaming, deleting, sign-in.

use reqwest::{Method, StatusCode};
use serde_json::json;
use testkit::{Algorithm, SoftAuthenticator, Tweaks};

use crate::common::{Env, ORIGIN, TEST_AUTHENTICATOR, TestServer, authenticator};

#[tokio::test]
async fn creation_options_are_the_unwrapped_w3c_json_form() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let existing = server.add_passkey(&token, &mut authenticator()).await;

    let options = server.post("/auth/passkeys/register/begin", Some(&token), json!({})).await.body;

    assert!(options.get("publicKey").is_none(), "options must not be wrapped");
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["user"]["name"], "ada@example.com");
    assert_ne!(options["user"]["id"], "ada@example.com");
    assert!(options["challenge"].as_str().unwrap().len() >= 43, "a 32-byte challenge, base64url");
    let algs: Vec<i64> =
        options["pubKeyCredParams"].as_array().unwrap().iter().map(|p| p["alg"].as_i64().unwrap()).collect();
    for alg in [-7, -8, -257] {
        assert!(algs.contains(&alg), "{alg} missing from {algs:?}");
    }
    assert_eq!(options["authenticatorSelection"]["residentKey"], "preferred");
    assert_eq!(options["authenticatorSelection"]["userVerification"], "required");
    assert_eq!(options["attestation"], "none");
    assert_eq!(options["excludeCredentials"][0]["id"], existing);
}

#[tokio::test]
async fn register_begin_also_answers_the_seed_clients_get() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;

    let answer = server.get("/auth/passkeys/register/begin", Some(&token)).await;

    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body["challenge"].is_string());
}

#[tokio::test]
async fn a_registered_passkey_is_listed_with_its_authenticator() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    key.set_backup(true, true);

    let created = server.register_passkey_with(&token, &mut key, &Tweaks::default(), None).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["name"], TEST_AUTHENTICATOR, "the name defaults to the authenticator's");
    assert_eq!(created.body["id"], key.credential_id_b64(0).unwrap());
    let list = server.get("/auth/passkeys", Some(&token)).await.body;
    let item = &list[0];
    assert_eq!(item["id"], created.body["id"]);
    assert_eq!(item["aaguid"], "11111111-1111-1111-1111-111111111111");
    assert_eq!(item["authenticator"]["name"], TEST_AUTHENTICATOR);
    assert_eq!((item["backup_eligible"].as_bool(), item["backed_up"].as_bool()), (Some(true), Some(true)));
    assert_eq!(item["transports"], json!(["internal"]));
    assert!(item["last_used_at"].is_null());
}

#[tokio::test]
async fn discoverable_sign_in_returns_tokens_for_the_owner() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    server.add_passkey(&token, &mut key).await;

    let options = server.begin_sign_in(None).await;
    assert_eq!(options["allowCredentials"], json!([]));
    let credential = key.get(&options, crate::common::ORIGIN).unwrap();
    let answer = server.post("/auth/passkeys/authenticate/complete", None, json!({ "credential": credential })).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let me = server.get("/auth/me", answer.body["access_token"].as_str()).await;
    assert_eq!(me.body["email"], "ada@example.com");
    let list = server.get("/auth/passkeys", Some(&token)).await.body;
    assert!(list[0]["last_used_at"].is_string(), "last use is recorded");
}

#[tokio::test]
async fn targeted_sign_in_lists_the_users_passkeys() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    let id = server.add_passkey(&token, &mut key).await;

    let options = server.begin_sign_in(Some("ADA@example.com")).await;
    assert_eq!(options["allowCredentials"][0]["id"], id);
    assert_eq!(options["userVerification"], "required");
    let credential = key.get(&options, crate::common::ORIGIN).unwrap();
    let answer = server.post("/auth/passkeys/authenticate/complete", None, json!({ "credential": credential })).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

#[tokio::test]
async fn an_eddsa_passkey_registers_and_signs_in() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = SoftAuthenticator::with_algorithm(Algorithm::EdDsa);
    server.add_passkey(&token, &mut key).await;

    assert_eq!(server.sign_in(&mut key, None).await.status, StatusCode::OK);
    assert_eq!(server.sign_in(&mut key, Some("ada@example.com")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_authenticator_that_always_reports_zero_keeps_working() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    key.set_counter_step(0);
    server.add_passkey(&token, &mut key).await;

    for _ in 0..3 {
        assert_eq!(server.sign_in(&mut key, None).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn passkeys_can_be_renamed_and_deleted_by_their_owner_only() {
    let server = TestServer::start().await;
    let (ada, _) = server.sign_up("ada@example.com").await;
    let (bob, _) = server.sign_up("bob@example.com").await;
    let id = server.add_passkey(&ada, &mut authenticator()).await;
    let path = format!("/auth/passkeys/{id}");

    let renamed = server.request(Method::PATCH, &path, Some(&ada), Some(json!({"name": "  Work laptop "}))).await;
    assert_eq!((renamed.status, renamed.body["name"].as_str()), (StatusCode::OK, Some("Work laptop")));
    let bad_name = server.request(Method::PATCH, &path, Some(&ada), Some(json!({"name": "\u{0007}"}))).await;
    assert_eq!((bad_name.status, bad_name.code()), (StatusCode::BAD_REQUEST, "invalid_name"));
    let bobs_rename = server.request(Method::PATCH, &path, Some(&bob), Some(json!({"name": "mine"}))).await;
    assert_eq!(bobs_rename.status, StatusCode::NOT_FOUND);
    let bobs_delete = server.request(Method::DELETE, &path, Some(&bob), None).await;
    assert_eq!((bobs_delete.status, bobs_delete.code()), (StatusCode::NOT_FOUND, "passkey_not_found"));

    let deleted = server.request(Method::DELETE, &path, Some(&ada), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(server.get("/auth/passkeys", Some(&ada)).await.body, json!([]));
    assert_eq!(server.request(Method::DELETE, &path, Some(&ada), None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_deleted_passkey_is_an_unknown_credential() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    let id = server.add_passkey(&token, &mut key).await;
    server.request(Method::DELETE, &format!("/auth/passkeys/{id}"), Some(&token), None).await;

    let answer = server.sign_in(&mut key, None).await;

    assert_eq!((answer.status, answer.code()), (StatusCode::UNAUTHORIZED, "unknown_credential"));
}

#[tokio::test]
async fn names_are_validated_and_stored_verbatim() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;

    let too_long =
        server.register_passkey_with(&token, &mut authenticator(), &Tweaks::default(), Some(&"x".repeat(65))).await;
    let markup = server
        .register_passkey_with(&token, &mut authenticator(), &Tweaks::default(), Some("<script>x</script>"))
        .await;

    assert_eq!((too_long.status, too_long.code()), (StatusCode::BAD_REQUEST, "invalid_name"));
    assert_eq!(markup.body["name"], "<script>x</script>");
}

#[tokio::test]
async fn a_credential_id_over_1023_bytes_is_refused() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let longest = Tweaks { credential_id_len: Some(1023), ..Tweaks::default() };
    let too_long = Tweaks { credential_id_len: Some(1024), ..Tweaks::default() };

    let accepted = server.register_passkey_with(&token, &mut authenticator(), &longest, None).await;
    let refused = server.register_passkey_with(&token, &mut authenticator(), &too_long, None).await;

    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.body);
    assert_eq!((refused.status, refused.code()), (StatusCode::BAD_REQUEST, "registration_failed"));
    assert_eq!(server.get("/auth/passkeys", Some(&token)).await.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn passkeys_per_account_are_capped() {
    let server = TestServer::start_with(Env::new().await.set("LATCHKEY_MAX_PASSKEYS", "2")).await;
    let (token, _) = server.sign_up("ada@example.com").await;
    server.add_passkey(&token, &mut authenticator()).await;
    // Two ceremonies begun under the cap: only one of them may finish.
    let (mut first, mut second) = (authenticator(), authenticator());
    let options_1 = server.post("/auth/passkeys/register/begin", Some(&token), json!({})).await.body;
    let options_2 = server.post("/auth/passkeys/register/begin", Some(&token), json!({})).await.body;

    let finished = server
        .post(
            "/auth/passkeys/register/complete",
            Some(&token),
            json!({"credential": first.create(&options_1, ORIGIN).unwrap()}),
        )
        .await;
    let over = server
        .post(
            "/auth/passkeys/register/complete",
            Some(&token),
            json!({"credential": second.create(&options_2, ORIGIN).unwrap()}),
        )
        .await;
    let begin = server.post("/auth/passkeys/register/begin", Some(&token), json!({})).await;

    assert_eq!(finished.status, StatusCode::CREATED, "{}", finished.body);
    assert_eq!((over.status, over.code()), (StatusCode::CONFLICT, "too_many_passkeys"));
    assert_eq!((begin.status, begin.code()), (StatusCode::CONFLICT, "too_many_passkeys"));
    assert!(begin.body["message"].as_str().unwrap().contains("Delete one"), "{}", begin.body);
    assert_eq!(server.get("/auth/passkeys", Some(&token)).await.body.as_array().unwrap().len(), 2);
}

/// Attack L12 (docs/security.md): a passkey name is shown in the account's list and quoted in the
/// notices mailed about it. Invisible formatting characters would make it read as something else:
/// a right-to-left override turns "Work laptop\u{202E}exe.pdf" around, a zero-width space or a tag
/// character hides text. They are refused; the joiners that emoji and some scripts need are kept.
#[tokio::test]
async fn names_that_hide_or_reorder_text_are_refused() {
    let server = TestServer::start().await;
    let (ada, _) = server.sign_up("ada@example.com").await;
    let id = server.add_passkey(&ada, &mut authenticator()).await;
    let path = format!("/auth/passkeys/{id}");
    let rename = |name: &str| server.request(Method::PATCH, &path, Some(&ada), Some(json!({ "name": name })));

    for hiding in ["Work laptop\u{202E}fdp.exe", "Work\u{200B}laptop", "\u{2066}Work laptop", "Work\u{E0041}laptop"] {
        let refused = rename(hiding).await;
        assert_eq!((refused.status, refused.code()), (StatusCode::BAD_REQUEST, "invalid_name"), "{hiding:?}");
    }
    for kept in ["👩\u{200D}💻 laptop", "می\u{200C}خواهم"] {
        let renamed = rename(kept).await;
        assert_eq!((renamed.status, renamed.body["name"].as_str()), (StatusCode::OK, Some(kept)), "{kept:?}");
    }
    let named =
        server.register_passkey_with(&ada, &mut authenticator(), &Tweaks::default(), Some("Phone\u{202E}lanif")).await;
    assert_eq!((named.status, named.code()), (StatusCode::BAD_REQUEST, "invalid_name"));
}
