//! One test (at least) per ceremony rule of docs/api.md; each fails if its rule is broken.

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{Tweaks, from_b64url};

use crate::common::{Env, ORIGIN, TestServer, authenticator, backend_is_postgres, redis_url, stores};

// Rule 1: one challenge finishes at most one ceremony.

#[tokio::test]
async fn the_same_assertion_sent_concurrently_succeeds_exactly_once() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    server.add_passkey(&token, &mut key).await;
    let options = server.begin_sign_in(None).await;
    let body = json!({ "credential": key.get(&options, ORIGIN).unwrap() });

    let answers = futures::future::join_all(
        (0..20).map(|_| server.post("/auth/passkeys/authenticate/complete", None, body.clone())),
    )
    .await;

    let ok = answers.iter().filter(|a| a.status == StatusCode::OK).count();
    assert_eq!(ok, 1, "statuses: {:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    assert!(answers.iter().filter(|a| a.status != StatusCode::OK).all(|a| a.code() == "ceremony_expired"));
}

#[tokio::test]
async fn a_replayed_registration_is_refused() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    let options = server.post("/auth/passkeys/register/begin", Some(&token), json!({})).await.body;
    let body = json!({ "credential": key.create(&options, ORIGIN).unwrap(), "name": "Key" });

    let first = server.post("/auth/passkeys/register/complete", Some(&token), body.clone()).await;
    let replay = server.post("/auth/passkeys/register/complete", Some(&token), body).await;

    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!((replay.status, replay.code()), (StatusCode::BAD_REQUEST, "ceremony_expired"));
}

#[tokio::test]
async fn a_ceremony_begun_on_one_instance_completes_on_another() {
    if !backend_is_postgres() || redis_url().is_none() {
        eprintln!("skipped: sharing ceremonies needs PostgreSQL + Redis (the postgres run of `make test` has them)");
        return;
    }
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let first = TestServer::start_with(env).await;
    let second = TestServer::start_with(Env::new().await.set("LATCHKEY_DATABASE_URL", database)).await;
    let (token, _) = first.sign_up("ada@example.com").await;
    let mut key = authenticator();

    let options = first.post("/auth/passkeys/register/begin", Some(&token), json!({})).await.body;
    let credential = key.create(&options, ORIGIN).unwrap();
    let registered =
        second.post("/auth/passkeys/register/complete", Some(&token), json!({ "credential": credential })).await;
    assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.body);

    let options = second.begin_sign_in(None).await;
    let body = json!({ "credential": key.get(&options, ORIGIN).unwrap() });
    assert_eq!(first.post("/auth/passkeys/authenticate/complete", None, body.clone()).await.status, StatusCode::OK);
    assert_eq!(second.post("/auth/passkeys/authenticate/complete", None, body).await.code(), "ceremony_expired");
}

// Rule 2: registration state is bound to the user who began it.

#[tokio::test]
async fn another_users_registration_state_cannot_be_completed() {
    let server = TestServer::start().await;
    let (ada, _) = server.sign_up("ada@example.com").await;
    let (mallory, _) = server.sign_up("mallory@example.com").await;
    let mut key = authenticator();
    let options = server.post("/auth/passkeys/register/begin", Some(&ada), json!({})).await.body;
    let body = json!({ "credential": key.create(&options, ORIGIN).unwrap() });

    let stolen = server.post("/auth/passkeys/register/complete", Some(&mallory), body.clone()).await;
    let own = server.post("/auth/passkeys/register/complete", Some(&ada), body).await;

    assert_eq!((stolen.status, stolen.code()), (StatusCode::BAD_REQUEST, "ceremony_expired"));
    assert_eq!(server.get("/auth/passkeys", Some(&mallory)).await.body, json!([]));
    assert_eq!(own.status, StatusCode::CREATED, "the attempt must not consume Ada's ceremony");
}

// Rule 3: origin, rpIdHash, type, UP, UV, crossOrigin.

async fn registration_with(tweaks: Tweaks) -> crate::common::Answer {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    server.register_passkey_with(&token, &mut authenticator(), &tweaks, None).await
}

async fn sign_in_with(tweaks: Tweaks) -> crate::common::Answer {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    server.add_passkey(&token, &mut key).await;
    server.sign_in_with(&mut key, None, &tweaks).await
}

fn bad_ceremonies() -> Vec<(&'static str, Tweaks)> {
    vec![
        ("another origin", Tweaks { origin: Some("http://localhost:3001".into()), ..Tweaks::default() }),
        ("a look-alike origin", Tweaks { origin: Some("https://localhost:3000".into()), ..Tweaks::default() }),
        ("another rp id", Tweaks { rp_id: Some("example.com".into()), ..Tweaks::default() }),
        ("no user verification", Tweaks { user_verified: Some(false), ..Tweaks::default() }),
        ("no user presence", Tweaks { user_present: Some(false), ..Tweaks::default() }),
        ("cross-origin", Tweaks { cross_origin: true, ..Tweaks::default() }),
    ]
}

#[tokio::test]
async fn registrations_failing_a_client_data_or_flag_check_are_refused() {
    let mut cases = bad_ceremonies();
    cases.push(("the wrong type", Tweaks { client_data_type: Some("webauthn.get".into()), ..Tweaks::default() }));
    for (what, tweaks) in cases {
        let answer = registration_with(tweaks).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{what}: {}", answer.body);
        assert_eq!(answer.code(), "registration_failed", "{what}");
    }
}

#[tokio::test]
async fn sign_ins_failing_a_client_data_or_flag_check_are_refused() {
    let mut cases = bad_ceremonies();
    cases.push(("the wrong type", Tweaks { client_data_type: Some("webauthn.create".into()), ..Tweaks::default() }));
    for (what, tweaks) in cases {
        let answer = sign_in_with(tweaks).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}: {}", answer.body);
        assert_eq!(answer.code(), "authentication_failed", "{what}");
        assert!(answer.body.get("access_token").is_none());
    }
}

#[tokio::test]
async fn the_control_case_of_the_tweak_tests_passes() {
    assert_eq!(registration_with(Tweaks::default()).await.status, StatusCode::CREATED);
    assert_eq!(sign_in_with(Tweaks::default()).await.status, StatusCode::OK);
}

// Rule 4: credential IDs are unique.

#[tokio::test]
async fn an_already_registered_credential_id_is_a_conflict_and_the_row_is_untouched() {
    let server = TestServer::start().await;
    let (ada, _) = server.sign_up("ada@example.com").await;
    let (mallory, _) = server.sign_up("mallory@example.com").await;
    let mut key = authenticator();
    let id = server.add_passkey(&ada, &mut key).await;

    let reuse = Tweaks { credential_id: Some(from_b64url(&id).unwrap()), ..Tweaks::default() };
    let answer = server.register_passkey_with(&mallory, &mut key, &reuse, Some("Copied")).await;

    assert_eq!((answer.status, answer.code()), (StatusCode::CONFLICT, "credential_exists"));
    assert_eq!(server.get("/auth/passkeys", Some(&mallory)).await.body, json!([]));
    let list = server.get("/auth/passkeys", Some(&ada)).await.body;
    assert_eq!((list[0]["id"].as_str(), list[0]["name"].as_str()), (Some(id.as_str()), Some("Test key")));
    let signed_in = server.sign_in(&mut key, Some("ada@example.com")).await;
    let me = server.get("/auth/me", signed_in.body["access_token"].as_str()).await;
    assert_eq!(me.body["email"], "ada@example.com");
}

// Rule 5: the credential belongs to the user begin named, and userHandle is the owner's.

/// Ada and Bob each have a passkey on one authenticator; returns (server, key, ada's id, bob's id, bob's handle).
async fn two_users_one_authenticator() -> (TestServer, testkit::SoftAuthenticator, String, String, Vec<u8>) {
    let server = TestServer::start().await;
    let (ada, _) = server.sign_up("ada@example.com").await;
    let (bob, _) = server.sign_up("bob@example.com").await;
    let mut key = authenticator();
    let ada_id = server.add_passkey(&ada, &mut key).await;
    let bob_options = server.post("/auth/passkeys/register/begin", Some(&bob), json!({})).await.body;
    let bob_handle = from_b64url(bob_options["user"]["id"].as_str().unwrap()).unwrap();
    let credential = key.create(&bob_options, ORIGIN).unwrap();
    let bob_id = credential["id"].as_str().unwrap().to_owned();
    let done = server.post("/auth/passkeys/register/complete", Some(&bob), json!({ "credential": credential })).await;
    assert_eq!(done.status, StatusCode::CREATED);
    (server, key, ada_id, bob_id, bob_handle)
}

#[tokio::test]
async fn a_user_handle_of_another_user_is_refused() {
    let (server, mut key, ada_id, _, bob_handle) = two_users_one_authenticator().await;
    let tweaks = Tweaks {
        credential_id: Some(from_b64url(&ada_id).unwrap()),
        user_handle: Some(bob_handle),
        ..Tweaks::default()
    };

    let answer = server.sign_in_with(&mut key, None, &tweaks).await;

    assert_eq!((answer.status, answer.code()), (StatusCode::UNAUTHORIZED, "authentication_failed"));
}

#[tokio::test]
async fn a_credential_not_in_allow_credentials_is_refused() {
    let (server, mut key, _, bob_id, _) = two_users_one_authenticator().await;
    let options = server.begin_sign_in(Some("ada@example.com")).await;
    assert_ne!(options["allowCredentials"][0]["id"], bob_id);
    let tweaks = Tweaks { credential_id: Some(from_b64url(&bob_id).unwrap()), ..Tweaks::default() };
    let credential = key.get_with(&options, ORIGIN, &tweaks).unwrap();

    let answer = server.post("/auth/passkeys/authenticate/complete", None, json!({ "credential": credential })).await;

    assert_eq!((answer.status, answer.code()), (StatusCode::UNAUTHORIZED, "authentication_failed"));
}

#[tokio::test]
async fn a_discoverable_response_without_user_handle_is_refused() {
    let answer = sign_in_with(Tweaks { omit_user_handle: true, ..Tweaks::default() }).await;
    assert_eq!((answer.status, answer.code()), (StatusCode::UNAUTHORIZED, "authentication_failed"));
}

/// WebAuthn L3 §14.6.2: an anonymous *begin* with an email must not tell whether that address has
/// an account with passkeys, and neither may *complete*. One without passkeys (a password
/// account, or nobody's) gets stand-in ids of a real list's shape, the same every time, that no
/// authenticator holds; sent back, they get the answers a real passkey's ids get.
#[tokio::test]
async fn a_begin_does_not_tell_which_addresses_have_passkeys() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    let ada_id = server.add_passkey(&token, &mut key).await;
    server.sign_up("bob@example.com").await;
    let (token, _) = server.sign_up("mallory@example.com").await;
    let mut mallory = authenticator();
    let mallory_id = from_b64url(&server.add_passkey(&token, &mut mallory).await).unwrap();
    let members = |options: &Value| options.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    // What a stranger can send: a listed id, answered by a key of their own, with no userHandle.
    let mut forge = |options: &Value, id: &str| {
        let tweaks = Tweaks { credential_id: Some(mallory_id.clone()), omit_user_handle: true, ..Tweaks::default() };
        let mut credential = mallory.get_with(options, ORIGIN, &tweaks).unwrap();
        credential["id"] = json!(id);
        credential["rawId"] = json!(id);
        json!({ "credential": credential })
    };
    let complete = |body: Value| server.post("/auth/passkeys/authenticate/complete", None, body);

    let ada = server.begin_sign_in(Some("ada@example.com")).await;
    assert_eq!(ada["allowCredentials"][0]["id"], ada_id, "a real account's passkeys are still listed");
    let real = complete(forge(&ada, &ada_id)).await;
    let real_elsewhere = complete(forge(&server.begin_sign_in(None).await, &ada_id)).await;
    println!("a real id sent back: {} {}; in a discoverable ceremony: {}", real.status, real.body, real_elsewhere.body);
    assert_eq!((real.status, real.code()), (StatusCode::UNAUTHORIZED, "authentication_failed"));

    let mut stand_ins = Vec::new();
    for email in ["bob@example.com", "nobody@example.com"] {
        let options = server.begin_sign_in(Some(email)).await;
        let listed = options["allowCredentials"].as_array().unwrap().clone();
        println!("{email}: {} ids listed", listed.len());
        assert!((1..=3).contains(&listed.len()), "{email} gets ids as an account with passkeys does: {options}");
        for allowed in &listed {
            let id = from_b64url(allowed["id"].as_str().unwrap()).unwrap();
            assert!([16, 20, 32, 64, 65].contains(&id.len()), "{email}: an id of {} bytes", id.len());
            assert_eq!(allowed["type"], "public-key");
            assert!(allowed["transports"].is_array());
        }
        assert_eq!(members(&options), members(&ada), "{email}: the same members as a real account's options");
        let again = server.begin_sign_in(Some(&email.to_uppercase())).await;
        assert_eq!(again["allowCredentials"], json!(listed), "{email}: the same ids every time");
        assert!(key.get(&options, ORIGIN).is_err(), "{email}: no authenticator holds them");

        // Sent back, a stand-in id gets what a real id gets, in its own ceremony and in another.
        let stand_in = listed[0]["id"].as_str().unwrap();
        let answer = complete(forge(&options, stand_in)).await;
        assert_eq!((answer.status, &answer.body), (real.status, &real.body), "{email}: its own ceremony");
        let elsewhere = complete(forge(&server.begin_sign_in(None).await, stand_in)).await;
        assert_eq!(elsewhere.body, real_elsewhere.body, "{email}: a discoverable ceremony");
        // And a real passkey sent to a stand-in ceremony is another account's.
        let forced = Tweaks { credential_id: Some(from_b64url(&ada_id).unwrap()), ..Tweaks::default() };
        let credential = key.get_with(&server.begin_sign_in(Some(email)).await, ORIGIN, &forced).unwrap();
        let answer = complete(json!({ "credential": credential })).await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::UNAUTHORIZED, "authentication_failed"),
            "{email}: another account's passkey completes it no more than a targeted ceremony"
        );
        stand_ins.push(listed);
    }
    assert_ne!(stand_ins[0], stand_ins[1], "each address has its own");
}

// Rule 6: sign counts.

#[tokio::test]
async fn a_sign_count_that_does_not_increase_is_refused() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    server.add_passkey(&token, &mut key).await;
    let at_five = Tweaks { sign_count: Some(5), ..Tweaks::default() };
    assert_eq!(server.sign_in_with(&mut key, None, &at_five).await.status, StatusCode::OK);

    let same = server.sign_in_with(&mut key, None, &at_five).await;
    let lower = server.sign_in_with(&mut key, None, &Tweaks { sign_count: Some(3), ..Tweaks::default() }).await;
    let zero = server.sign_in_with(&mut key, None, &Tweaks { sign_count: Some(0), ..Tweaks::default() }).await;

    for answer in [same, lower, zero] {
        assert_eq!((answer.status, answer.code()), (StatusCode::UNAUTHORIZED, "possible_cloned_authenticator"));
    }
    let higher = server.sign_in_with(&mut key, None, &Tweaks { sign_count: Some(6), ..Tweaks::default() }).await;
    assert_eq!(higher.status, StatusCode::OK, "the stored count is 5, so 6 passes");
}

/// The conditional write's refusal must be read from what the write itself returned, whichever
/// pooled connection runs it: once every connection of the pool has written a row, a count the
/// connection's previous statement left behind (SQLite reports one after BEGIN and COMMIT) once let
/// a refused assertion through with tokens for a sign-in that was never written.
#[tokio::test]
async fn a_count_raised_after_it_was_read_is_refused_whichever_connection_writes() {
    let env = Env::new().await.set("LATCHKEY_RATE_LIMIT_CEREMONY", "off").set("LATCHKEY_RATE_LIMIT_PASSWORD", "off");
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = std::sync::Arc::new(TestServer::start_with(env).await);
    let db = stores::connect(&database).await;
    let mut keys = Vec::new();
    for n in 0..8 {
        let (token, _) = server.sign_up(&format!("user{n}@example.com")).await;
        let mut key = authenticator();
        server.add_passkey(&token, &mut key).await;
        keys.push(key);
    }
    // Sign-ins side by side, so every connection of the pool writes sign-ins.
    for _ in 0..3 {
        let signing: Vec<_> = keys
            .drain(..)
            .map(|mut key| {
                let server = server.clone();
                tokio::spawn(async move { (server.sign_in(&mut key, None).await.status, key) })
            })
            .collect();
        for task in signing {
            let (status, key) = task.await.unwrap();
            assert_eq!(status, StatusCode::OK);
            keys.push(key);
        }
    }
    let sign_ins = stores::count(&db, "sign_ins").await;
    sqlx::query("UPDATE passkeys SET sign_count = 1000").execute(&db).await.unwrap();

    for key in &mut keys {
        let refused = server.sign_in(key, None).await;
        assert_eq!((refused.status, refused.code()), (StatusCode::UNAUTHORIZED, "possible_cloned_authenticator"));
    }
    assert_eq!(stores::count(&db, "sign_ins").await, sign_ins, "no sign-in was started");
}

#[tokio::test]
async fn a_count_raised_after_it_was_read_is_refused_and_starts_no_session() {
    // Two racing assertions with the same count can both pass webauthn-rs's check against the count
    // each read; only the conditional write stops the second. That interleaving is reproduced
    // deterministically by rolling the stored `Passkey`'s counter back behind the `sign_count`
    // column, which is what the second racer would have read.
    let env = Env::new().await;
    let database_url = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let db = stores::connect(&database_url).await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    server.add_passkey(&token, &mut key).await;
    let at_seven = Tweaks { sign_count: Some(7), ..Tweaks::default() };
    assert_eq!(server.sign_in_with(&mut key, None, &at_seven).await.status, StatusCode::OK);
    stores::roll_back_stored_counter(&db).await;
    let sign_ins = stores::count(&db, "sign_ins").await;
    let tokens = stores::count(&db, "refresh_tokens").await;

    let second = server.sign_in_with(&mut key, None, &at_seven).await;

    assert_eq!((second.status, second.code()), (StatusCode::UNAUTHORIZED, "possible_cloned_authenticator"));
    assert_eq!(stores::count(&db, "sign_ins").await, sign_ins, "no sign-in was started");
    assert_eq!(stores::count(&db, "refresh_tokens").await, tokens, "no refresh token was stored");
}

// Rule 7: body limit and unknown credentials (see also malformed.rs).

#[tokio::test]
async fn an_unknown_credential_is_refused() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    server.add_passkey(&token, &mut authenticator()).await;
    let mut stranger = authenticator();
    let options = json!({"rp": {"id": "localhost", "name": "x"}, "user": {"id": "eA", "name": "x", "displayName": "x"},
                         "challenge": "AAAA", "pubKeyCredParams": [{"type": "public-key", "alg": -7}]});
    stranger.create(&options, ORIGIN).unwrap();

    let answer = server.sign_in(&mut stranger, None).await;

    assert_eq!((answer.status, answer.code()), (StatusCode::UNAUTHORIZED, "unknown_credential"));
}
