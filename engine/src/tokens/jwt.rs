//! Tokens, minted and checked without SQL: short-lived JWT access tokens, and the opaque refresh
//! tokens that `sign_in/refresh.rs` stores (as SHA-256 hashes), uses once and rotates.
//!
//! Every token belongs to a *sign-in* (the access token's `sid`, `sign_in/`).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use proto::TokenPair;

use crate::base::config::Config;
use crate::base::error::Error;
use crate::base::measure;
use crate::base::types::{SignInId, UserId};
use crate::tokens::keys::KeyRing;
use crate::tokens::secret::stored_hash;

/// The `typ` claim of access tokens; refresh tokens are not JWTs, so they can never carry it.
const ACCESS_TYPE: &str = "access";
/// The `typ` header of access tokens (RFC 9068), which ID tokens (`JWT`) never carry.
const ACCESS_HEADER_TYPE: &str = "at+jwt";
/// Access tokens are signed with ES256; the RS256 keys exist for OpenID Connect ID tokens.
const ACCESS_ALGORITHM: Algorithm = Algorithm::ES256;

/// The claims of an access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    /// User id.
    pub sub: UserId,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// The issuer: this server's public origin ([`Config::issuer`]).
    pub iss: String,
    /// Who the token is for; Latchkey's own API takes only [`Config::api_audience`].
    pub aud: String,
    /// Unique token id.
    pub jti: String,
    /// Always `access`.
    pub typ: String,
    /// The sign-in this token belongs to; signing out ends it.
    pub sid: SignInId,
    /// When the user proved who they are for this sign-in (Unix seconds): a passkey or a password,
    /// not a refresh.
    pub auth_time: i64,
    /// For a token issued to an OpenID Connect app: the app (RFC 9068 §2.2), the same as `aud`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// For a token issued to an OpenID Connect app: the granted scopes, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// For a token issued to an OpenID Connect app granted `groups`: the names of the user's groups
    /// (RFC 9068 §2.2.3.1), as the ID token has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

/// Signs and checks access tokens (with the [`KeyRing`]) and makes refresh tokens.
pub struct TokenKeys {
    keys: Arc<KeyRing>,
    validation: Validation,
    app_validation: Validation,
    issuer: String,
    audience: String,
    access_ttl: i64,
    refresh_ttl: i64,
}

impl TokenKeys {
    /// The validator accepts ES256 only (so `alg: none`, HS256 made with a public key and any other
    /// switch are refused), requires `exp`, `iat`, `sub`, `iss` and `aud` with this server's issuer and
    /// API audience, and checks `nbf` when a token carries one. Every field of [`AccessClaims`] must be
    /// present with its type.
    pub fn new(config: &Config, keys: Arc<KeyRing>) -> Self {
        let audience = config.api_audience();
        let issuer = config.issuer();
        let mut validation = Validation::new(ACCESS_ALGORITHM);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        // An app's tokens name the app in `aud`, checked against `client_id` in verify_app_access.
        let mut app_validation = validation.clone();
        app_validation.validate_aud = false;
        Self {
            keys,
            validation,
            app_validation,
            issuer,
            audience,
            access_ttl: i64::try_from(config.tokens.access_ttl.as_secs()).unwrap_or(i64::MAX),
            refresh_ttl: i64::try_from(config.tokens.refresh_ttl.as_secs()).unwrap_or(i64::MAX),
        }
    }

    /// Checks an access token: a `kid` this server published for ES256, the `at+jwt` header type, the
    /// signature, expiry, issuer, audience and type. An unknown `kid` re-reads the keys once (another
    /// instance may have rotated) and is then refused.
    pub async fn verify_access(&self, token: &str, now: i64) -> Result<AccessClaims, Error> {
        self.verify(token, &self.validation, now).await
    }

    /// Checks an access token issued to an OpenID Connect app: as [`TokenKeys::verify_access`], but
    /// `aud` must name the app the token's `client_id` names (and no token of the account API, which
    /// has no `client_id`, passes).
    pub async fn verify_app_access(&self, token: &str, now: i64) -> Result<AccessClaims, Error> {
        let claims = self.verify(token, &self.app_validation, now).await?;
        match &claims.client_id {
            Some(client_id) if *client_id == claims.aud => Ok(claims),
            _ => Err(Error::InvalidToken),
        }
    }

    async fn verify(&self, token: &str, validation: &Validation, now: i64) -> Result<AccessClaims, Error> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Error::InvalidToken)?;
        if header.typ.as_deref() != Some(ACCESS_HEADER_TYPE) {
            return Err(Error::InvalidToken);
        }
        let kid = header.kid.ok_or(Error::InvalidToken)?;
        let key = self.keys.find(&kid, now).await?.ok_or(Error::InvalidToken)?;
        if key.alg != ACCESS_ALGORITHM {
            return Err(Error::InvalidToken);
        }
        let claims =
            jsonwebtoken::decode::<AccessClaims>(token, &key.key, validation).map_err(|_| Error::InvalidToken)?.claims;
        if claims.typ != ACCESS_TYPE {
            return Err(Error::InvalidToken);
        }
        Ok(claims)
    }

    fn sign_access(&self, user_id: &UserId, sign_in: &SignInAt, now: i64) -> Result<String, Error> {
        let claims = self.access_claims(user_id, sign_in, self.audience.clone(), now);
        self.keys.sign(ACCESS_ALGORITHM, ACCESS_HEADER_TYPE, &claims)
    }

    /// Signs an access token for an OpenID Connect app: `aud` and `client_id` name the app, `scope`
    /// says what it was granted; the account API refuses it.
    pub fn sign_app_access(
        &self,
        user_id: &UserId,
        sign_in: &SignInAt,
        client_id: &str,
        scope: &str,
        groups: Option<&[String]>,
        now: i64,
    ) -> Result<String, Error> {
        let claims = AccessClaims {
            client_id: Some(client_id.to_owned()),
            scope: Some(scope.to_owned()),
            groups: groups.map(<[String]>::to_vec),
            ..self.access_claims(user_id, sign_in, client_id.to_owned(), now)
        };
        self.keys.sign(ACCESS_ALGORITHM, ACCESS_HEADER_TYPE, &claims)
    }

    fn access_claims(&self, user_id: &UserId, sign_in: &SignInAt, aud: String, now: i64) -> AccessClaims {
        AccessClaims {
            sub: user_id.clone(),
            iat: now,
            exp: now.saturating_add(self.access_ttl),
            iss: self.issuer.clone(),
            aud,
            jti: uuid::Uuid::new_v4().to_string(),
            typ: ACCESS_TYPE.to_owned(),
            sid: sign_in.id.clone(),
            auth_time: sign_in.auth_time,
            client_id: None,
            scope: None,
            groups: None,
        }
    }

    /// How long access tokens (and ID tokens) live, in seconds.
    pub fn access_ttl(&self) -> i64 {
        self.access_ttl
    }

    /// The issuer (`iss`) of every token.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// A fresh random refresh token (32 bytes from the OS), to be stored before it is handed out.
    pub fn new_refresh_token(&self, now: i64) -> NewRefreshToken {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        NewRefreshToken { hash: stored_hash(&token), token, expires_at: now.saturating_add(self.refresh_ttl) }
    }

    /// The pair a client receives: a new access token and `refresh`, which the caller has stored.
    pub fn token_pair(
        &self,
        user_id: &UserId,
        sign_in: &SignInAt,
        refresh: NewRefreshToken,
        now: i64,
    ) -> Result<TokenPair, Error> {
        let access_token = self.sign_access(user_id, sign_in, now)?;
        measure::tokens_issued(measure::Client::Api);
        Ok(TokenPair {
            access_token,
            refresh_token: refresh.token,
            token_type: "bearer".into(),
            expires_in: self.access_ttl,
        })
    }
}

/// A sign-in and when its user authenticated (its start): what an access token's `sid` and
/// `auth_time` say.
#[derive(Clone, Debug)]
pub struct SignInAt {
    /// The sign-in.
    pub id: SignInId,
    /// Unix seconds.
    pub auth_time: i64,
}

/// A refresh token that is made but not yet stored: the secret for the client, its hash for the database.
pub struct NewRefreshToken {
    /// The token itself, for the client only.
    pub token: String,
    /// SHA-256 of the token, hex: what the database keeps.
    pub hash: String,
    /// Unix seconds.
    pub expires_at: i64,
}
