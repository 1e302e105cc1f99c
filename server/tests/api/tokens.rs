//! Tokens any app can verify: the published keys, an app checking a token with them (as
//! docs/api.md tells it to), rotation without a live token failing, two instances on one database,
//! and every forgery the validator must refuse.

use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{JwkSet, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Env, OPERATOR_SECRET, ORIGIN, TestServer, engine_for};

const ISSUER: &str = ORIGIN;
const API_AUDIENCE: &str = "http://localhost:3000/auth";

fn part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

async fn jwks(server: &TestServer) -> JwkSet {
    let answer = server.get("/.well-known/jwks.json", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    serde_json::from_value(answer.body).expect("a JWK set")
}

fn kids(set: &JwkSet) -> Vec<String> {
    set.keys.iter().filter_map(|key| key.common.key_id.clone()).collect()
}

/// What docs/api.md tells an app to do: fetch the key set, take the key named by the token's `kid`,
/// check the header type (`at+jwt`: an ID token is not an access token), pin ES256, and check `iss`,
/// `aud`, `exp` and `nbf`.
async fn verify_like_an_app(base: &str, token: &str, audience: &str) -> Result<Value, String> {
    verify_access_token_like_an_app(base, ISSUER, token, audience).await
}

/// [`verify_like_an_app`] for a server whose issuer is `issuer`.
pub async fn verify_access_token_like_an_app(
    base: &str,
    issuer: &str,
    token: &str,
    audience: &str,
) -> Result<Value, String> {
    let keys: JwkSet = reqwest::get(format!("{base}/.well-known/jwks.json"))
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    if header.typ.as_deref() != Some("at+jwt") {
        return Err("not an access token".into());
    }
    let jwk = header.kid.as_deref().and_then(|kid| keys.find(kid)).ok_or("unknown kid")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    jsonwebtoken::decode::<Value>(token, &key, &validation).map(|data| data.claims).map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_published_keys_verify_access_tokens_the_way_an_app_checks_them() {
    let server = TestServer::start().await;
    let (access, _) = server.sign_up("ada@example.com").await;

    let answer = server.get("/.well-known/jwks.json", None).await;
    assert_eq!(answer.headers["cache-control"], "public, max-age=300");
    let raw = answer.body.to_string();
    for private in [r#""d":"#, r#""p":"#, r#""q":"#, r#""dp":"#, r#""qi":"#] {
        assert!(!raw.contains(private), "a private member {private} is published: {raw}");
    }
    let set: JwkSet = serde_json::from_value(answer.body).unwrap();
    let mut algs: Vec<String> = set.keys.iter().map(|k| format!("{:?}", k.common.key_algorithm.unwrap())).collect();
    algs.sort();
    assert_eq!(algs, ["ES256", "ES256", "RS256", "RS256"], "current and next of each algorithm");
    for key in &set.keys {
        assert_eq!(key.common.key_id.as_deref(), Some(key.thumbprint(ThumbprintHash::SHA256).as_str()), "RFC 7638");
        assert!(matches!(key.common.public_key_use, Some(jsonwebtoken::jwk::PublicKeyUse::Signature)));
    }

    let header = part(&access, 0);
    assert_eq!((header["alg"].as_str(), header["typ"].as_str()), (Some("ES256"), Some("at+jwt")));
    assert!(kids(&set).contains(&header["kid"].as_str().unwrap().to_owned()));
    let claims = verify_like_an_app(&server.base, &access, API_AUDIENCE).await.expect("an app verifies it");
    assert_eq!((claims["iss"].as_str(), claims["aud"].as_str()), (Some(ISSUER), Some(API_AUDIENCE)));
    assert!(claims["sid"].is_string() && claims["auth_time"].as_i64().unwrap() <= claims["iat"].as_i64().unwrap());
    let err = verify_like_an_app(&server.base, &access, "https://app-b.example").await.unwrap_err();
    assert!(err.contains("Audience"), "a token for one audience is not valid for another: {err}");
}

#[tokio::test]
async fn refreshed_tokens_keep_the_time_of_the_sign_in() {
    let server = TestServer::start().await;
    let (access, refresh) = server.sign_up("ada@example.com").await;
    let refreshed = server.post("/auth/refresh", None, json!({"refresh_token": refresh})).await;
    let next = refreshed.body["access_token"].as_str().unwrap();
    assert_eq!(part(next, 1)["auth_time"], part(&access, 1)["auth_time"]);
    assert_eq!(part(next, 1)["sid"], part(&access, 1)["sid"]);
}

#[tokio::test]
async fn two_instances_on_one_database_publish_the_same_keys_and_accept_each_others_tokens() {
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let first = TestServer::start_with(env).await;
    let second = TestServer::start_with(Env::new().await.set("LATCHKEY_DATABASE_URL", database)).await;
    let (mut one, mut two) = (kids(&jwks(&first).await), kids(&jwks(&second).await));
    one.sort();
    two.sort();
    assert_eq!(one, two);
    let (from_first, _) = first.sign_up("ada@example.com").await;
    let (from_second, _) = second.sign_up("bob@example.com").await;
    assert_eq!(second.get("/auth/me", Some(&from_first)).await.body["email"], "ada@example.com");
    assert_eq!(first.get("/auth/me", Some(&from_second)).await.body["email"], "bob@example.com");
}

/// `latchkey keys rotate|list` on a test database, exactly as an operator runs it.
fn keys_command(database: &str, command: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["keys", command])
        .env_clear()
        .env("LATCHKEY_DATABASE_URL", database)
        .env("LATCHKEY_OPERATOR_SECRET", OPERATOR_SECRET)
        .env("RUST_LOG", "error")
        .output()
        .expect("the server binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

#[tokio::test]
async fn a_rotation_keeps_live_tokens_valid_until_their_key_retires_and_they_expire() {
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let (before, _) = server.sign_up("ada@example.com").await;
    let old_kid = part(&before, 0)["kid"].as_str().unwrap().to_owned();
    let published_before = kids(&jwks(&server).await);

    let printed = keys_command(&database, "rotate");
    assert!(printed.starts_with("rotated; now signing with"), "{printed}");

    // A server that starts now signs with the former next key, which every instance already knew.
    let restarted = TestServer::start_with(Env::new().await.set("LATCHKEY_DATABASE_URL", database.clone())).await;
    let (after, _) = restarted.sign_up("bob@example.com").await;
    let new_kid = part(&after, 0)["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    assert!(published_before.contains(&new_kid), "the new key was published before it signed");
    assert_eq!(server.get("/auth/me", Some(&after)).await.status, StatusCode::OK);
    assert_eq!(restarted.get("/auth/me", Some(&before)).await.status, StatusCode::OK, "the old key still verifies");
    let published_after = kids(&jwks(&restarted).await);
    assert_eq!(published_after.len(), 6, "retired, current and next of each algorithm");
    assert!(published_after.contains(&old_kid));
    let listed = keys_command(&database, "list");
    assert_eq!(listed.lines().filter(|line| line.contains("retired")).count(), 2, "{listed}");

    // Once every token the old key signed has expired, it leaves the set and nothing it signed verifies.
    let engine = engine_for(&database).await;
    let now = engine::base::clock::now();
    assert!(engine.tokens.verify_access(&before, now).await.is_ok());
    let later = now + engine.config.tokens.access_ttl.as_secs() as i64 + 120;
    engine::tokens::keys::rotate_due(&engine.keys, Duration::from_secs(30 * 24 * 3600), later).await.unwrap();
    let remaining = kids(&engine.keys.jwks());
    assert_eq!(remaining.len(), 4);
    assert!(!remaining.contains(&old_kid) && remaining.contains(&new_kid));
    assert!(engine.tokens.verify_access(&before, later).await.is_err());
}

#[tokio::test]
async fn an_instance_reads_the_keys_again_when_it_meets_a_kid_it_does_not_know() {
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let started = engine::base::clock::now();
    let instance = engine_for(&database).await;
    let other = engine_for(&database).await;
    // Two rotations in a row make a current key the first instance has never seen (not even as next).
    other.keys.rotate_now(engine::base::clock::now()).await.unwrap();
    other.keys.rotate_now(engine::base::clock::now()).await.unwrap();
    let server = TestServer::start_with(env).await;
    let (token, _) = server.sign_up("ada@example.com").await;
    assert!(instance.keys.verifying_key(part(&token, 0)["kid"].as_str().unwrap()).is_none());

    assert!(instance.tokens.verify_access(&token, started).await.is_err(), "no re-read within seconds of the last");
    assert!(instance.tokens.verify_access(&token, started + 10).await.is_ok(), "re-read, then known");
}

#[tokio::test]
async fn keys_sealed_under_another_operator_secret_stop_start_up_with_a_reason() {
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let _server = TestServer::start_with(env).await;
    let config = engine::Config::from_lookup(|key| match key {
        "LATCHKEY_DATABASE_URL" => Some(database.clone()),
        "LATCHKEY_OPERATOR_SECRET" => Some("another-operator-secret-of-32-bytes!!".into()),
        _ => None,
    })
    .unwrap();
    let err = engine::Engine::build(config).await.err().expect("refused").to_string();
    assert!(err.contains("cannot be decrypted with LATCHKEY_OPERATOR_SECRET"), "{err}");
}

fn unsigned(header: &Value, claims: &Value) -> String {
    format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()))
}

fn hs256_with(key: &[u8], header: &Value, claims: &Value) -> String {
    let message = unsigned(header, claims);
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &EncodingKey::from_secret(key), Algorithm::HS256).unwrap();
    format!("{message}.{signature}")
}

#[tokio::test]
async fn forged_and_misdirected_tokens_are_refused() {
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let (access, _) = server.sign_up("ada@example.com").await;
    let claims = part(&access, 1);
    let engine = engine_for(&database).await;
    let sign = |alg, typ: &str, claims: &Value| engine.keys.sign(alg, typ, claims).unwrap();
    let server = &server;
    let me = |token: String| async move { server.get("/auth/me", Some(&token)).await };

    let control = me(sign(Algorithm::ES256, "at+jwt", &claims)).await;
    assert_eq!(control.status, StatusCode::OK, "control: the server's own key and claims pass");

    let set = jwks(server).await;
    let es256 = set.find(part(&access, 0)["kid"].as_str().unwrap()).unwrap();
    let jwk_text = serde_json::to_string(es256).unwrap();
    let x = match &es256.algorithm {
        jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(ec) => URL_SAFE_NO_PAD.decode(&ec.x).unwrap(),
        other => panic!("not an EC key: {other:?}"),
    };
    let kid = es256.common.key_id.clone().unwrap();
    let hs = json!({"alg": "HS256", "typ": "at+jwt", "kid": kid});
    let with = |name: &str, value: Value| {
        let mut changed = claims.clone();
        changed[name] = value;
        changed
    };
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let other_deployment = TestServer::start().await.sign_up("eve@example.com").await.0;
    let now = engine::base::clock::now();

    let forgeries = [
        ("alg none", format!("{}.", unsigned(&json!({"alg": "none", "typ": "at+jwt", "kid": kid}), &claims))),
        ("HS256 keyed with the published JWK", hs256_with(jwk_text.as_bytes(), &hs, &claims)),
        ("HS256 keyed with the public x coordinate", hs256_with(&x, &hs, &claims)),
        ("signed by the RS256 key of ID tokens", sign(Algorithm::RS256, "at+jwt", &claims)),
        ("an ID token's header type", sign(Algorithm::ES256, "JWT", &claims)),
        ("a key of another deployment (unknown kid)", other_deployment),
        ("issued to an app", sign(Algorithm::ES256, "at+jwt", &with("aud", json!("https://app-a.example")))),
        ("another issuer", sign(Algorithm::ES256, "at+jwt", &with("iss", json!("https://evil.example")))),
        ("exp as a string", sign(Algorithm::ES256, "at+jwt", &with("exp", json!(claims["exp"].to_string())))),
        ("no exp", sign(Algorithm::ES256, "at+jwt", &no_exp)),
        ("expired", sign(Algorithm::ES256, "at+jwt", &with("exp", json!(now - 60)))),
        ("not yet valid", sign(Algorithm::ES256, "at+jwt", &with("nbf", json!(now + 600)))),
        ("auth_time as a string", sign(Algorithm::ES256, "at+jwt", &with("auth_time", json!("yesterday")))),
        ("a refresh type", sign(Algorithm::ES256, "at+jwt", &with("typ", json!("refresh")))),
    ];
    for (what, token) in forgeries {
        let answer = me(token).await;
        assert_eq!((answer.status, answer.code()), (StatusCode::UNAUTHORIZED, "invalid_token"), "accepted: {what}");
    }
}

#[tokio::test]
async fn the_schedule_rotates_a_key_once_it_has_signed_long_enough_and_only_once() {
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let _server = TestServer::start_with(env).await;
    let engine = engine_for(&database).await;
    let other_instance = engine_for(&database).await;
    let every = Duration::from_secs(3600);
    let now = engine::base::clock::now();
    let current = || engine.keys.current_kid(Algorithm::ES256).unwrap();
    let first = current();
    let next = kids(&engine.keys.jwks())
        .into_iter()
        .find(|kid| *kid != first && engine.keys.verifying_key(kid).unwrap().alg == Algorithm::ES256)
        .unwrap();

    engine::tokens::keys::rotate_due(&engine.keys, every, now + 60).await.unwrap();
    assert_eq!(current(), first, "not due yet");
    engine::tokens::keys::rotate_due(&engine.keys, every, now + 3700).await.unwrap();
    assert_eq!(current(), next, "due: the next key signs now");
    engine::tokens::keys::rotate_due(&other_instance.keys, every, now + 3700).await.unwrap();
    assert_eq!(
        other_instance.keys.current_kid(Algorithm::ES256).unwrap(),
        next,
        "the other instance does not rotate again"
    );
    assert_eq!(kids(&other_instance.keys.jwks()).len(), 6);
}
