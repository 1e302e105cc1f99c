//! Configuration: one [`Config`] read from `LATCHKEY_*` environment variables, validated at start-up,
//! in one section per concern: [`http`] (serving), [`webauthn`] (the relying party), [`stores`],
//! [`tokens`] (keys, lifetimes, apps), [`mail`] and [`limits`] (rate limits).
//!
//! Every variable has a default that works for `make run` on a laptop; anything unsafe for production
//! (the development operator secret) is refused when `LATCHKEY_ENV=production` and logged loudly otherwise.

pub mod access;
pub mod brand;
pub mod http;
pub mod limits;
pub mod mail;
pub mod stores;
pub mod tokens;
mod values;
pub mod webauthn;

use std::time::Duration;

pub use access::SignUp;
pub use brand::Brand;
pub use http::{Http, LogFormat};
pub use limits::{Rate, RateLimits};
pub use mail::Mail;
pub use stores::{SessionStoreKind, Stores};
pub use tokens::Tokens;
pub use webauthn::WebAuthn;

use values::{invalid, is_localhost};

/// The product's name on every page, in the browser's passkey prompts and in every sentence that
/// names the site. A fork renames it here (or sets `LATCHKEY_PRODUCT_NAME`).
pub const PRODUCT_NAME: &str = "Latchkey";

/// Everything Latchkey reads from its environment.
#[derive(Clone, Debug)]
pub struct Config {
    /// `LATCHKEY_ENV`: `production` makes unsafe defaults start-up errors.
    pub production: bool,
    /// `LATCHKEY_PRODUCT_NAME`: the name the pages show ([`PRODUCT_NAME`] by default).
    pub product_name: String,
    /// Serving HTTP: address, cross-origin callers, proxies, timeouts, logs, metrics, admin token.
    pub http: Http,
    /// The WebAuthn relying party: RP ID and name, origins, ceremony TTL, passkey caps.
    pub webauthn: WebAuthn,
    /// The database, Redis, browser sessions, activity retention.
    pub stores: Stores,
    /// The operator secret, key rotation, token lifetimes, the re-authentication window, the apps.
    pub tokens: Tokens,
    /// SMTP, the sender, retries, mailed recovery links.
    pub mail: Mail,
    /// `LATCHKEY_RATE_LIMIT_*`: requests per client address.
    pub limits: RateLimits,
    /// `LATCHKEY_BRAND_*`: the operator's logo, favicon, accent colour and stylesheet.
    pub brand: Brand,
    /// `LATCHKEY_SIGN_UP`: who may make an account.
    pub sign_up: SignUp,
}

/// A configuration value that stops start-up, with a one-line reason.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    var: &'static str,
    reason: String,
}

/// Adds the variables of a `.env` file in the working directory or one of its parents to the process
/// environment, never overriding one already set. A missing `.env` is normal; a malformed one is
/// worth stopping for.
pub fn load_dotenv() -> Result<(), ConfigError> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(e) if e.not_found() => Ok(()),
        Err(e) => Err(invalid("LATCHKEY_*", format!(".env could not be read: {e}"))),
    }
}

impl ConfigError {
    /// The variable refused (`LATCHKEY_*`).
    pub fn var(&self) -> &'static str {
        self.var
    }

    /// Why, in one sentence.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl Config {
    /// Reads the process environment (after an optional `.env` file, which never overrides it).
    pub fn from_env() -> Result<Self, ConfigError> {
        load_dotenv()?;
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Every variable [`Config::from_lookup`] refuses, not only the first: each refused one is set
    /// aside (read as unset) and the rest read again, until the rest are accepted. For `check-config`.
    pub fn refusals(get: impl Fn(&str) -> Option<String>) -> Vec<ConfigError> {
        let mut refused: Vec<ConfigError> = Vec::new();
        loop {
            let aside = |key: &str| refused.iter().any(|e| e.var == key);
            match Self::from_lookup(|key| if aside(key) { None } else { get(key) }) {
                Ok(_) => return refused,
                // Setting it aside changed nothing (a rule over several variables): stop here.
                Err(e) if aside(e.var) => return refused,
                Err(e) => refused.push(e),
            }
        }
    }

    /// Builds a config from any key lookup, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |key: &'static str| get(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());

        let production = match var("LATCHKEY_ENV").as_deref() {
            None | Some("development") => false,
            Some("production") => true,
            Some(other) => {
                return Err(invalid("LATCHKEY_ENV", format!("`{other}` is neither `development` nor `production`")));
            }
        };
        let product_name = var("LATCHKEY_PRODUCT_NAME").unwrap_or_else(|| PRODUCT_NAME.into());
        if product_name.chars().count() > 64 || product_name.chars().any(char::is_control) {
            return Err(invalid("LATCHKEY_PRODUCT_NAME", "use at most 64 characters, without control characters"));
        }
        let http = Http::read(&var)?;
        let webauthn = WebAuthn::read(&var, &product_name)?;
        Ok(Self {
            tokens: Tokens::read(&var, production, only_localhost(&webauthn, &http))?,
            stores: Stores::read(&var)?,
            mail: Mail::read(&var)?,
            limits: RateLimits::read(&var)?,
            brand: Brand::read(&var)?,
            sign_up: SignUp::read(&var, only_localhost(&webauthn, &http))?,
            production,
            product_name,
            http,
            webauthn,
        })
    }

    /// Whether every origin this server answers for (its own, related ones and CORS ones) is on
    /// localhost: a developer's machine, where the public development secret and mail printed to
    /// the log are allowed.
    pub fn only_localhost(&self) -> bool {
        only_localhost(&self.webauthn, &self.http)
    }

    /// The issuer of every token (`iss`): the first of `LATCHKEY_ORIGINS`, e.g. `https://login.example.com`.
    pub fn issuer(&self) -> String {
        self.webauthn.origins.first().map(|origin| origin.origin().ascii_serialization()).unwrap_or_default()
    }

    /// The audience (`aud`) of tokens for Latchkey's own account API: the issuer and `/auth`. Tokens
    /// issued to other apps name those apps, and this API refuses them.
    pub fn api_audience(&self) -> String {
        format!("{}/auth", self.issuer())
    }

    /// The longest lifetime of any token the signing keys sign (so how long a retired key stays published).
    pub fn longest_token_ttl(&self) -> Duration {
        self.tokens.access_ttl
    }

    /// Whether the portal is served over https only (every configured origin is https): browser
    /// cookies then carry `Secure` and the `__Host-` prefix, and responses carry HSTS.
    pub fn https_only(&self) -> bool {
        self.webauthn.origins.iter().all(|o| o.scheme() == "https")
    }
}

fn only_localhost(webauthn: &WebAuthn, http: &Http) -> bool {
    webauthn.origins.iter().chain(&webauthn.related_origins).chain(&http.cors_origins).all(is_localhost)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::net::IpAddr;
    use std::num::NonZeroU32;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn every_refused_variable_is_named_not_only_the_first() {
        let vars: HashMap<&str, &str> = [
            ("LATCHKEY_ADDR", "localhost:3000"),
            ("LATCHKEY_MAX_PASSKEYS", "0"),
            ("LATCHKEY_RATE_LIMIT_REFRESH", "lots"),
            ("LATCHKEY_RP_ID", "example.com"),
            ("LATCHKEY_ORIGINS", "https://login.example.com"),
            ("LATCHKEY_OPERATOR_SECRET", "0123456789abcdef0123456789abcdef"),
        ]
        .into();
        let refused: Vec<&str> =
            Config::refusals(|k| vars.get(k).map(|v| v.to_string())).iter().map(|e| e.var()).collect();
        assert_eq!(refused, ["LATCHKEY_ADDR", "LATCHKEY_MAX_PASSKEYS", "LATCHKEY_RATE_LIMIT_REFRESH"]);
        let accepted: HashMap<&str, &str> = [("LATCHKEY_ADDR", "127.0.0.1:4000")].into();
        assert!(Config::refusals(|k| accepted.get(k).map(|v| v.to_string())).is_empty());
    }

    #[test]
    fn defaults_serve_localhost_with_sqlite() {
        let c = config(&[]).unwrap();
        assert_eq!(c.http.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.webauthn.rp_id, "localhost");
        assert_eq!(c.webauthn.origins[0].as_str(), "http://localhost:3000/");
        assert_eq!(c.stores.database_url, "sqlite://latchkey.db?mode=rwc");
        assert!(c.tokens.operator_secret_is_dev_default && !c.production && !c.https_only());
        assert_eq!(c.webauthn.max_passkeys, 100);
        assert_eq!(c.webauthn.challenge_ttl, Duration::from_secs(300));
    }

    #[test]
    fn the_relying_party_is_named_after_the_product_unless_told_otherwise() {
        assert_eq!(
            (config(&[]).unwrap().product_name, config(&[]).unwrap().webauthn.rp_name),
            (PRODUCT_NAME.into(), PRODUCT_NAME.into())
        );
        let renamed = config(&[("LATCHKEY_PRODUCT_NAME", "Acme ID")]).unwrap();
        assert_eq!((renamed.product_name.as_str(), renamed.webauthn.rp_name.as_str()), ("Acme ID", "Acme ID"));
        let both = config(&[("LATCHKEY_PRODUCT_NAME", "Acme ID"), ("LATCHKEY_RP_NAME", "Acme")]).unwrap();
        assert_eq!(both.webauthn.rp_name, "Acme");
        assert!(config(&[("LATCHKEY_PRODUCT_NAME", "bell\u{7}")]).is_err());
    }

    #[test]
    fn production_requires_an_operator_secret() {
        let err = config(&[("LATCHKEY_ENV", "production")]).unwrap_err();
        assert!(err.to_string().starts_with("LATCHKEY_OPERATOR_SECRET"), "{err}");
        assert!(config(&[("LATCHKEY_OPERATOR_SECRET", "too-short")]).is_err());
    }

    #[test]
    fn the_old_hs256_secret_is_refused_with_what_replaces_it() {
        let err = config(&[("LATCHKEY_JWT_SECRET", "a-real-secret-of-at-least-32-bytes!!")]).unwrap_err().to_string();
        assert!(err.contains("no longer used") && err.contains("LATCHKEY_OPERATOR_SECRET"), "{err}");
    }

    #[test]
    fn the_issuer_is_the_first_origin_and_the_api_its_auth_path() {
        let c = config(&[("LATCHKEY_ORIGINS", "http://localhost:3000, http://localhost:4000")]).unwrap();
        assert_eq!(
            (c.issuer().as_str(), c.api_audience().as_str()),
            ("http://localhost:3000", "http://localhost:3000/auth")
        );
    }

    #[test]
    fn the_public_development_key_is_only_for_localhost() {
        let deployed = [("LATCHKEY_RP_ID", "example.com"), ("LATCHKEY_ORIGINS", "https://example.com")];
        let err = config(&deployed).unwrap_err().to_string();
        assert!(err.starts_with("LATCHKEY_OPERATOR_SECRET") && err.contains("not localhost"), "{err}");
        let local_https = config(&[("LATCHKEY_ORIGINS", "https://localhost:3443")]).unwrap();
        assert!(local_https.tokens.operator_secret_is_dev_default && local_https.https_only());
    }

    #[test]
    fn an_ip_address_is_not_an_rp_id() {
        for ip in ["127.0.0.1", "::1", "[::1]"] {
            let err = config(&[("LATCHKEY_RP_ID", ip)]).unwrap_err().to_string();
            assert!(err.contains("IP address"), "{err}");
        }
    }

    #[test]
    fn origins_need_a_scheme_and_a_host_under_the_rp_id() {
        let err = config(&[("LATCHKEY_ORIGINS", "localhost:3000")]).unwrap_err().to_string();
        assert!(err.contains("no scheme"), "{err}");
        let err =
            config(&[("LATCHKEY_RP_ID", "example.com"), ("LATCHKEY_ORIGINS", "https://evil-example.com")]).unwrap_err();
        assert!(err.to_string().contains("not example.com"), "{err}");
        let ok = config(&[
            ("LATCHKEY_RP_ID", "example.com"),
            ("LATCHKEY_ORIGINS", "https://example.com, https://id.example.com:8443"),
            ("LATCHKEY_OPERATOR_SECRET", "a-real-secret-of-at-least-32-bytes!!"),
        ])
        .unwrap();
        assert_eq!(ok.webauthn.origins.len(), 2);
        assert!(ok.https_only());
    }

    #[test]
    fn plain_http_is_only_for_localhost() {
        let err = config(&[("LATCHKEY_RP_ID", "example.com"), ("LATCHKEY_ORIGINS", "http://example.com")]).unwrap_err();
        assert!(err.to_string().contains("use https"), "{err}");
    }

    #[test]
    fn sqlite_files_are_created_when_missing() {
        let c = config(&[("LATCHKEY_DATABASE_URL", "sqlite://data/app.db")]).unwrap();
        assert_eq!(c.stores.database_url, "sqlite://data/app.db?mode=rwc");
        assert!(config(&[("LATCHKEY_DATABASE_URL", "mysql://x")]).is_err());
    }

    #[test]
    fn sessions_follow_redis_unless_told_otherwise() {
        assert_eq!(config(&[]).unwrap().stores.session_store, SessionStoreKind::Memory);
        let redis = [("LATCHKEY_REDIS_URL", "redis://127.0.0.1:6379")];
        assert_eq!(config(&redis).unwrap().stores.session_store, SessionStoreKind::Redis);
        let database = [("LATCHKEY_REDIS_URL", "redis://127.0.0.1:6379"), ("LATCHKEY_SESSION_STORE", "database")];
        assert_eq!(config(&database).unwrap().stores.session_store, SessionStoreKind::Database);
        assert!(config(&[("LATCHKEY_SESSION_STORE", "redis")]).is_err());
        assert!(config(&[("LATCHKEY_SESSION_STORE", "cookies")]).is_err());
    }

    #[test]
    fn cors_and_related_origins_are_exact_origins_on_any_site() {
        let set =
            |var, value| config(&[(var, value), ("LATCHKEY_OPERATOR_SECRET", "a-secret-of-at-least-32-bytes-long!!")]);
        for var in ["LATCHKEY_CORS_ORIGINS", "LATCHKEY_RELATED_ORIGINS"] {
            let two = set(var, "https://app.example, http://app.localhost:4000").unwrap();
            let listed =
                if var == "LATCHKEY_CORS_ORIGINS" { two.http.cors_origins } else { two.webauthn.related_origins };
            assert_eq!(listed.len(), 2);
            for refused in
                ["*", "null", "app.example", "https://app.example/path", "http://app.example", "ftp://app.example"]
            {
                assert!(set(var, refused).is_err(), "{var}={refused}");
            }
        }
        // An origin other than localhost means a real deployment: the public development key is refused.
        assert!(config(&[("LATCHKEY_CORS_ORIGINS", "https://app.example")]).is_err());
        assert!(config(&[("LATCHKEY_RELATED_ORIGINS", "http://app.localhost:4000")]).is_ok());
    }

    #[test]
    fn a_redis_ca_file_needs_a_tls_redis_url() {
        let ca = ("LATCHKEY_REDIS_CA_FILE", "/etc/latchkey/redis-ca.pem");
        assert!(config(&[ca]).is_err());
        assert!(config(&[ca, ("LATCHKEY_REDIS_URL", "redis://127.0.0.1:6379")]).is_err());
        let tls = config(&[ca, ("LATCHKEY_REDIS_URL", "rediss://redis.internal:6380")]).unwrap();
        assert_eq!(tls.stores.redis_ca_file.as_deref(), Some(std::path::Path::new(ca.1)));
    }

    #[test]
    fn the_passkey_cap_is_a_positive_number() {
        assert_eq!(config(&[("LATCHKEY_MAX_PASSKEYS", "5")]).unwrap().webauthn.max_passkeys, 5);
        assert!(config(&[("LATCHKEY_MAX_PASSKEYS", "0")]).is_err());
        assert!(config(&[("LATCHKEY_MAX_PASSKEYS", "many")]).is_err());
    }

    #[test]
    fn rate_limits_have_defaults_and_can_be_set_or_switched_off() {
        let defaults = config(&[]).unwrap().limits;
        assert_eq!(
            defaults.password,
            Some(Rate { count: NonZeroU32::new(30).unwrap(), period: Duration::from_secs(60) })
        );
        let set = config(&[("LATCHKEY_RATE_LIMIT_REFRESH", "5/s"), ("LATCHKEY_RATE_LIMIT_PORTAL", "off")]).unwrap();
        assert_eq!(
            set.limits.refresh,
            Some(Rate { count: NonZeroU32::new(5).unwrap(), period: Duration::from_secs(1) })
        );
        assert_eq!(set.limits.portal, None);
        for bad in ["0/min", "ten/min", "5/day", "5"] {
            assert!(config(&[("LATCHKEY_RATE_LIMIT_PASSWORD", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let c = config(&[("LATCHKEY_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1, ::1")]).unwrap();
        assert_eq!(c.http.trusted_proxies.len(), 3);
        assert!(c.http.trusted_proxies[0].contains(&"10.1.2.3".parse::<IpAddr>().unwrap()));
        assert!(config(&[]).unwrap().http.trusted_proxies.is_empty(), "none by default");
        assert!(config(&[("LATCHKEY_TRUSTED_PROXIES", "proxy.example")]).is_err());
    }

    #[test]
    fn durations_must_be_positive_numbers() {
        assert!(config(&[("LATCHKEY_CHALLENGE_TTL_SECS", "0")]).is_err());
        assert!(config(&[("LATCHKEY_ACCESS_TTL_SECS", "fifteen")]).is_err());
        assert_eq!(
            config(&[("LATCHKEY_CHALLENGE_TTL_SECS", "60")]).unwrap().webauthn.challenge_ttl,
            Duration::from_secs(60)
        );
    }
}
