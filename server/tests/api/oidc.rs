//! The OpenID Connect provider (issue 14, being built): its clients file is read at start-up, and a
//! wrong entry stops the server with one line naming the client and the field; its authorization
//! codes are single use and bound to client, redirect URI and PKCE verifier, across instances.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::common::{Env, clients_file};

async fn start(env: Env) -> Result<server::Latchkey, String> {
    let config = engine::Config::from_lookup(|k| env.get(k)).map_err(|e| e.to_string())?;
    server::Latchkey::build(config).await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_clients_file_is_read_at_start_up_and_a_wrong_entry_stops_it() {
    let good = clients_file(
        r#"
        [[clients]]
        client_id = "grafana"
        client_secret = "a-plain-secret-of-at-least-32-characters"
        redirect_uris = ["https://grafana.example.com/login/generic_oauth"]
        "#,
    );
    let good_path = good.clone();
    let app = start(Env::new().await.set("LATCHKEY_OIDC_CLIENTS", good)).await.expect("starts");
    assert_eq!(app.engine().clients.len(), 1);
    assert_eq!(app.engine().clients.with_plain_secrets(), ["grafana"]);

    let wrong = clients_file(
        r#"
        [[clients]]
        client_id = "grafana"
        client_secret = "a-plain-secret-of-at-least-32-characters"
        redirect_uris = ["http://grafana.example.com/login/generic_oauth"]
        "#,
    );
    let err = start(Env::new().await.set("LATCHKEY_OIDC_CLIENTS", wrong.clone())).await.err().expect("refused");
    assert_eq!(
        err,
        format!(
            "LATCHKEY_OIDC_CLIENTS: {wrong}: client `grafana`: redirect_uris: \
             `http://grafana.example.com/login/generic_oauth` must be https (http only on localhost)"
        )
    );
    for file in [good_path, wrong] {
        std::fs::remove_file(file).ok();
    }
    let missing = start(Env::new().await.set("LATCHKEY_OIDC_CLIENTS", "/nonexistent/clients.toml")).await;
    assert!(
        missing.err().expect("refused").starts_with("LATCHKEY_OIDC_CLIENTS: cannot read /nonexistent/clients.toml")
    );
}

#[tokio::test]
async fn hash_secret_prints_an_argon2id_hash_the_clients_file_takes() {
    let run = |secret: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .arg("hash-secret")
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary runs");
        child.stdin.take().unwrap().write_all(format!("{secret}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let secret = "a-client-secret-of-at-least-32-characters";
    let output = run(secret);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let hash = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(secret), "{hash}");
    use argon2::PasswordVerifier as _;
    let parsed = argon2::PasswordHash::new(&hash).unwrap();
    assert!(argon2::Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok());
    let file = format!(
        "[[clients]]\nclient_id = \"app\"\nclient_secret = \"{hash}\"\nredirect_uris = [\"https://app.example/cb\"]\n"
    );
    assert!(engine::tokens::clients::Clients::parse(&file).is_ok());

    let short = run("too-short");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 32 characters"));
}

pub fn claims(access_token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = access_token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

const CLIENT: &str = "app";
const REDIRECT_URI: &str = "https://app.example/cb";
/// RFC 7636 Appendix B's verifier and its S256 challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A token request for `code` as the right client would send it, with one thing changed by the
/// caller, redeemed by `engine` in a change of its own (committed whatever the answer, as the
/// token endpoint does).
async fn redeem(
    engine: &engine::Engine,
    code: &str,
    (client_id, redirect_uri, code_verifier): (&str, &str, Option<&str>),
    at: i64,
) -> Result<engine::oidc::codes::Grant, engine::oidc::codes::Refusal> {
    let exchange = engine::oidc::codes::Exchange { code, client_id, redirect_uri, code_verifier };
    let starts = engine::base::types::SignInId::generate();
    let mut change = engine.notify.change(at).await.expect("the database answers");
    let redeemed =
        engine::oidc::codes::redeem(change.db(), &exchange, &starts, at).await.expect("the database answers");
    change.commit().await.expect("the database answers");
    redeemed
}

const RIGHT: (&str, &str, Option<&str>) = (CLIENT, REDIRECT_URI, Some(VERIFIER));

/// A signed-up user's portal sign-in, what an app's code for it grants (`scope`, `nonce`, with
/// [`CHALLENGE`]), and two more instances on the server's database.
async fn a_grant_and_two_instances(
    scope: &str,
    nonce: Option<&str>,
) -> (crate::common::TestServer, engine::oidc::codes::Grant, engine::Engine, engine::Engine) {
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = crate::common::TestServer::start_with(env).await;
    let (access, _) = server.sign_up("ada@example.com").await;
    let portal = claims(&access);
    let grant = engine::oidc::codes::Grant {
        client_id: CLIENT.into(),
        redirect_uri: REDIRECT_URI.into(),
        user_id: engine::base::types::UserId::new(portal["sub"].as_str().unwrap()),
        sign_in_id: engine::base::types::SignInId::new(portal["sid"].as_str().unwrap()),
        scope: scope.into(),
        nonce: nonce.map(str::to_owned),
        code_challenge: Some(CHALLENGE.into()),
        auth_time: portal["auth_time"].as_i64().unwrap(),
    };
    let (first, second) = (crate::common::engine_for(&database).await, crate::common::engine_for(&database).await);
    (server, grant, first, second)
}

#[tokio::test]
async fn an_authorization_code_is_redeemed_once_by_its_client_with_its_redirect_uri_and_verifier() {
    use engine::oidc::codes::{self, Grant, Refusal};

    // Two instances on one database: one issues, the other redeems.
    let (_server, grant, issuer, redeemer) = a_grant_and_two_instances("openid email", Some("n-0S6_WzA2Mj")).await;
    let now = engine::base::clock::now();

    let code = codes::issue(&issuer.db, &grant, now).await.unwrap();
    assert_eq!(redeem(&redeemer, &code, RIGHT, now + 1).await, Ok(grant.clone()));
    // (That a replay also ends the sign-in the first redemption started is tested through the
    // token endpoint, in `a_replayed_code_is_refused_and_ends_what_it_issued`, and while the
    // redemption is still being written, below.)
    assert_eq!(redeem(&redeemer, &code, RIGHT, now + 2).await, Err(Refusal::Replayed));

    let other_verifier = "eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let cases = [
        (("other-app", REDIRECT_URI, Some(VERIFIER)), 1, Refusal::WrongClient),
        ((CLIENT, "https://app.example/cb/", Some(VERIFIER)), 1, Refusal::WrongRedirectUri),
        ((CLIENT, REDIRECT_URI, None), 1, Refusal::MissingVerifier),
        ((CLIENT, REDIRECT_URI, Some(other_verifier)), 1, Refusal::WrongVerifier),
        (RIGHT, codes::CODE_TTL, Refusal::Expired),
    ];
    for (request, after, expected) in cases {
        let code = codes::issue(&issuer.db, &grant, now).await.unwrap();
        assert_eq!(redeem(&redeemer, &code, request, now + after).await, Err(expected));
        // A refused attempt uses the code up: the right request cannot follow it.
        assert_eq!(redeem(&redeemer, &code, RIGHT, now + 1).await, Err(Refusal::Replayed), "{expected:?}");
    }
    assert_eq!(redeem(&redeemer, "never-issued", RIGHT, now).await, Err(Refusal::Unknown));

    let without_pkce = Grant { code_challenge: None, ..grant.clone() };
    let code = codes::issue(&issuer.db, &without_pkce, now).await.unwrap();
    assert_eq!(redeem(&redeemer, &code, RIGHT, now + 1).await, Err(Refusal::UnexpectedVerifier), "no PKCE downgrade");
    let code = codes::issue(&issuer.db, &without_pkce, now).await.unwrap();
    assert_eq!(redeem(&redeemer, &code, (CLIENT, REDIRECT_URI, None), now + 1).await, Ok(without_pkce));
}

#[tokio::test]
async fn a_replay_that_comes_while_the_redemption_is_written_waits_and_ends_its_sign_in() {
    use engine::base::types::SignInId;
    use engine::db::sign_ins;
    use engine::oidc::codes::{self, Exchange, Refusal};
    use engine::sign_in::{self, How};

    // Two instances on one database: one redeems the code, the other gets the replay.
    let (_server, grant, redeemer, replayer) = a_grant_and_two_instances("openid", None).await;
    let user = grant.user_id.clone();
    let now = engine::base::clock::now();
    let code = codes::issue(&redeemer.db, &grant, now).await.unwrap();

    // The token endpoint's redemption, stopped after it took the code and wrote the app's sign-in,
    // before COMMIT.
    let starts = SignInId::generate();
    let mut change = redeemer.notify.change(now + 1).await.unwrap();
    let exchange =
        Exchange { code: &code, client_id: CLIENT, redirect_uri: REDIRECT_URI, code_verifier: Some(VERIFIER) };
    assert_eq!(codes::redeem(change.db(), &exchange, &starts, now + 1).await.unwrap(), Ok(grant.clone()));
    let portal = sign_ins::by_id(change.db(), &grant.sign_in_id).await.unwrap().expect("the portal sign-in");
    let app = How::App { id: &starts, client_id: CLIENT, parent: &portal, scope: "openid", auth_time: grant.auth_time };
    sign_in::start(change.db(), &user, app, None, now + 1).await.unwrap();

    let replayed_code = code.clone();
    let replay = tokio::spawn(async move { redeem(&replayer, &replayed_code, RIGHT, now + 2).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!replay.is_finished(), "the replay waits for the redemption it races");
    change.commit().await.unwrap();

    assert_eq!(replay.await.unwrap(), Err(Refusal::Replayed));
    let started = sign_ins::by_id(&redeemer.db, &starts).await.unwrap().expect("the redemption's sign-in is written");
    assert!(!started.active, "the replay ended the sign-in the redemption started");
}
