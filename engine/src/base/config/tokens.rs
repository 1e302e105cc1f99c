//! Tokens and the keys behind them: the operator secret that seals the signing keys, how often the
//! keys rotate, how long tokens live, how recent a sign-in must be for a dangerous change, and the
//! apps registered as OpenID Connect clients.

use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::values::{Var, invalid, seconds};
use crate::base::types::Secret;

/// Only for development: with a public secret anyone who reads the database can open the private
/// signing keys, so production (and any origin that is not localhost) refuses it.
const DEV_OPERATOR_SECRET: &str = "latchkey-dev-only-secret-never-use-in-production!";
const MIN_OPERATOR_SECRET_BYTES: usize = 32;

/// The tokens' settings.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// `LATCHKEY_OPERATOR_SECRET`: encrypts the private signing keys in the database; at least 32 bytes.
    pub operator_secret: Secret,
    /// True when `operator_secret` is the built-in development secret.
    pub operator_secret_is_dev_default: bool,
    /// `LATCHKEY_KEY_ROTATION_SECS`: how long a signing key signs before the schedule rotates it.
    pub key_rotation: Duration,
    /// `LATCHKEY_ACCESS_TTL_SECS`: access-token lifetime.
    pub access_ttl: Duration,
    /// `LATCHKEY_REFRESH_TTL_SECS`: refresh-token lifetime.
    pub refresh_ttl: Duration,
    /// `LATCHKEY_REAUTH_WINDOW_SECS`: how recent a sign-in must be for a dangerous change (a passkey
    /// or the password added, changed or removed; the account deleted).
    pub reauth_window: Duration,
    /// `LATCHKEY_SESSION_MAX_AGE_SECS`: how long a sign-in lasts at most, counted from its start,
    /// however often it is used: its browser session ends and its refresh tokens stop working.
    pub session_max_age: Duration,
    /// `LATCHKEY_OIDC_CLIENTS`: the TOML file of apps that sign users in through OpenID Connect.
    pub oidc_clients: Option<PathBuf>,
}

impl Tokens {
    /// `production` and `only_localhost` (every configured origin is on localhost) decide whether
    /// the public development secret may stand in for `LATCHKEY_OPERATOR_SECRET`.
    pub(super) fn read(var: &impl Var, production: bool, only_localhost: bool) -> Result<Self, ConfigError> {
        if var("LATCHKEY_JWT_SECRET").is_some() {
            return Err(invalid(
                "LATCHKEY_JWT_SECRET",
                "is no longer used: tokens are signed with ES256 keys published at /.well-known/jwks.json. \
                 Remove it and set LATCHKEY_OPERATOR_SECRET, which encrypts those keys (docs/configuration.md)",
            ));
        }
        const SECRET: &str = "LATCHKEY_OPERATOR_SECRET";
        let (operator_secret, operator_secret_is_dev_default) = match var(SECRET) {
            Some(secret) if secret.len() >= MIN_OPERATOR_SECRET_BYTES => (Secret::new(secret), false),
            Some(_) => return Err(invalid(SECRET, format!("must be at least {MIN_OPERATOR_SECRET_BYTES} bytes"))),
            None if production => return Err(invalid(SECRET, "is required when LATCHKEY_ENV=production")),
            // The development secret is public: anywhere but this machine it would expose the signing keys.
            None if !only_localhost => {
                return Err(invalid(
                    SECRET,
                    "is required when an origin is not localhost (the built-in development secret is public)",
                ));
            }
            None => (Secret::new(DEV_OPERATOR_SECRET), true),
        };
        Ok(Self {
            operator_secret,
            operator_secret_is_dev_default,
            key_rotation: seconds(var, "LATCHKEY_KEY_ROTATION_SECS", 30 * 24 * 3600)?,
            access_ttl: seconds(var, "LATCHKEY_ACCESS_TTL_SECS", 900)?,
            refresh_ttl: seconds(var, "LATCHKEY_REFRESH_TTL_SECS", 2_592_000)?,
            reauth_window: seconds(var, "LATCHKEY_REAUTH_WINDOW_SECS", 300)?,
            session_max_age: seconds(var, "LATCHKEY_SESSION_MAX_AGE_SECS", 2_592_000)?,
            oidc_clients: var("LATCHKEY_OIDC_CLIENTS").map(PathBuf::from),
        })
    }
}
