//! Tokens: short-lived JWT access tokens and opaque, single-use, rotating refresh tokens.
//!
//! Every token belongs to a *sign-in* (`sign_ins`, the access token's `sid`). Each refresh consumes
//! its token and issues the next one of the same sign-in; presenting a token that was already
//! consumed means it was copied, so the whole sign-in is ended (RFC 9700 §4.14.2). Only SHA-256
//! hashes of refresh tokens are stored.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use proto::TokenPair;

use crate::config::Config;
use crate::db::{Db, sign_ins};
use crate::error::Error;
use crate::types::{SignInId, UserId};

const ISSUER: &str = "latchkey";
/// The `typ` claim of access tokens; refresh tokens are not JWTs, so they can never carry it.
const ACCESS_TYPE: &str = "access";

/// The claims of an access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    /// User id.
    pub sub: UserId,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Always `latchkey`.
    pub iss: String,
    /// The RP ID this token is for.
    pub aud: String,
    /// Unique token id.
    pub jti: String,
    /// Always `access`.
    pub typ: String,
    /// The sign-in this token belongs to; signing out ends it.
    pub sid: SignInId,
}

/// Keys and lifetimes for issuing and checking tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    audience: String,
    access_ttl: i64,
    refresh_ttl: i64,
}

impl TokenKeys {
    /// Builds the keys from the configured secret. The validator accepts HS256 only (so `alg: none`
    /// and algorithm switches are refused), requires `exp`, `sub`, `iss` and `aud` (and `iat`, a
    /// required field of [`AccessClaims`]), and checks `nbf` when a token carries one.
    pub fn new(config: &Config) -> Self {
        let secret = config.jwt_secret.expose().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[&config.rp_id]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            audience: config.rp_id.clone(),
            access_ttl: i64::try_from(config.access_ttl.as_secs()).unwrap_or(i64::MAX),
            refresh_ttl: i64::try_from(config.refresh_ttl.as_secs()).unwrap_or(i64::MAX),
        }
    }

    /// Checks an access token's signature, algorithm, expiry, issuer, audience and type.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, Error> {
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|_| Error::InvalidToken)?
            .claims;
        if claims.typ != ACCESS_TYPE {
            return Err(Error::InvalidToken);
        }
        Ok(claims)
    }

    fn sign_access(&self, user_id: &UserId, sign_in_id: &SignInId, now: i64) -> Result<String, Error> {
        let claims = AccessClaims {
            sub: user_id.clone(),
            iat: now,
            exp: now.saturating_add(self.access_ttl),
            iss: ISSUER.to_owned(),
            aud: self.audience.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            typ: ACCESS_TYPE.to_owned(),
            sid: sign_in_id.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(Error::internal)
    }

    /// A fresh random refresh token (32 bytes from the OS), to be stored before it is handed out.
    pub fn new_refresh_token(&self, now: i64) -> NewRefreshToken {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        NewRefreshToken { hash: hash_refresh_token(&token), token, expires_at: now.saturating_add(self.refresh_ttl) }
    }

    /// The pair a client receives: a new access token and `refresh`, which the caller has stored.
    pub fn token_pair(
        &self,
        user_id: &UserId,
        sign_in_id: &SignInId,
        refresh: NewRefreshToken,
        now: i64,
    ) -> Result<TokenPair, Error> {
        Ok(TokenPair {
            access_token: self.sign_access(user_id, sign_in_id, now)?,
            refresh_token: refresh.token,
            token_type: "bearer".into(),
            expires_in: self.access_ttl,
        })
    }
}

/// A refresh token that is made but not yet stored: the secret for the client, its hash for the database.
pub struct NewRefreshToken {
    token: String,
    /// SHA-256 of the token, hex: what the database keeps.
    pub hash: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Records a new sign-in for `user_id`; a browser session holds it (`portal.rs`), or tokens continue it.
pub async fn record_sign_in(db: &Db, user_id: &UserId, now: i64) -> Result<SignInId, Error> {
    let sign_in_id = SignInId::generate();
    sign_ins::insert(db, &sign_in_id, user_id, now).await?;
    Ok(sign_in_id)
}

/// Starts a new sign-in for `user_id` and returns its first token pair.
pub async fn start_sign_in(db: &Db, keys: &TokenKeys, user_id: &UserId, now: i64) -> Result<TokenPair, Error> {
    let sign_in_id = record_sign_in(db, user_id, now).await?;
    issue_pair(db, keys, user_id, &sign_in_id, now).await
}

/// Consumes a refresh token and returns the next pair of its sign-in. A token used twice ends the sign-in.
pub async fn rotate_refresh_token(db: &Db, keys: &TokenKeys, token: &str, now: i64) -> Result<TokenPair, Error> {
    let hash = hash_refresh_token(token);
    let Some(used) = sign_ins::use_refresh_token(db, &hash, now).await? else {
        if let Some(sign_in_id) = sign_ins::of_refresh_token(db, &hash).await? {
            tracing::warn!(%sign_in_id, "refresh token reused; ending its sign-in");
            sign_ins::revoke(db, &sign_in_id, now).await?;
        }
        return Err(Error::InvalidRefreshToken);
    };
    if used.expires_at <= now || !used.sign_in_active {
        return Err(Error::InvalidRefreshToken);
    }
    issue_pair(db, keys, &used.user_id, &used.sign_in_id, now).await
}

/// Ends a sign-in: none of its refresh tokens works any more.
pub async fn end_sign_in(db: &Db, sign_in_id: &SignInId, now: i64) -> Result<(), Error> {
    Ok(sign_ins::revoke(db, sign_in_id, now).await?)
}

async fn issue_pair(
    db: &Db,
    keys: &TokenKeys,
    user_id: &UserId,
    sign_in_id: &SignInId,
    now: i64,
) -> Result<TokenPair, Error> {
    let refresh = keys.new_refresh_token(now);
    sign_ins::insert_refresh_token(db, &refresh.hash, sign_in_id, user_id, refresh.expires_at, now).await?;
    keys.token_pair(user_id, sign_in_id, refresh, now)
}

fn hash_refresh_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&Config::from_lookup(|_| None).unwrap())
    }

    fn forge(header: &str, claims: serde_json::Value, secret: &[u8]) -> String {
        use hmac_sign::sign;
        let head = URL_SAFE_NO_PAD.encode(header);
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signature = sign(secret, format!("{head}.{body}").as_bytes());
        format!("{head}.{body}.{signature}")
    }

    /// HS256 by hand (via jsonwebtoken's own encoder on raw JSON), so tests can forge odd claims.
    mod hmac_sign {
        pub fn sign(secret: &[u8], message: &[u8]) -> String {
            jsonwebtoken::crypto::sign(
                message,
                &jsonwebtoken::EncodingKey::from_secret(secret),
                jsonwebtoken::Algorithm::HS256,
            )
            .unwrap()
        }
    }

    fn valid_claims(now: i64) -> serde_json::Value {
        serde_json::json!({"sub": "u1", "iat": now, "exp": now + 60, "iss": "latchkey", "aud": "localhost",
                           "jti": "j", "typ": "access", "sid": "f1"})
    }

    #[test]
    fn a_signed_access_token_verifies() {
        let keys = keys();
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let token = keys.sign_access(&UserId::new("u1"), &SignInId::new("f1"), now).unwrap();
        let claims = keys.verify_access(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("u1", "f1"));
    }

    #[test]
    fn a_hand_forged_token_with_the_right_key_verifies() {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let secret = Config::from_lookup(|_| None).unwrap().jwt_secret;
        let token = forge(r#"{"alg":"HS256","typ":"JWT"}"#, valid_claims(now), secret.expose().as_bytes());
        assert!(keys().verify_access(&token).is_ok(), "the forging helper itself must be right");
    }

    #[test]
    fn alg_none_is_refused() {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let head = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(valid_claims(now).to_string());
        assert!(keys().verify_access(&format!("{head}.{body}.")).is_err());
    }

    #[test]
    fn wrong_typed_or_missing_claims_are_refused() {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let secret = Config::from_lookup(|_| None).unwrap().jwt_secret;
        let keys = keys();
        let mut string_exp = valid_claims(now);
        string_exp["exp"] = serde_json::json!((now + 60).to_string());
        let mut no_exp = valid_claims(now);
        no_exp.as_object_mut().unwrap().remove("exp");
        let mut expired = valid_claims(now);
        expired["exp"] = serde_json::json!(now - 60);
        let mut refresh_typed = valid_claims(now);
        refresh_typed["typ"] = serde_json::json!("refresh");
        let mut other_audience = valid_claims(now);
        other_audience["aud"] = serde_json::json!("evil.example");
        let mut not_yet_valid = valid_claims(now);
        not_yet_valid["nbf"] = serde_json::json!(now + 60);
        for claims in [string_exp, no_exp, expired, refresh_typed, other_audience, not_yet_valid] {
            let token = forge(r#"{"alg":"HS256","typ":"JWT"}"#, claims.clone(), secret.expose().as_bytes());
            assert!(keys.verify_access(&token).is_err(), "accepted {claims}");
        }
    }

    #[test]
    fn a_switched_algorithm_is_refused() {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let secret = Config::from_lookup(|_| None).unwrap().jwt_secret;
        let token = forge(r#"{"alg":"HS512","typ":"JWT"}"#, valid_claims(now), secret.expose().as_bytes());
        assert!(keys().verify_access(&token).is_err());
    }

    #[test]
    fn refresh_tokens_are_stored_as_hashes() {
        let hash = hash_refresh_token("token");
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, "token");
    }
}
