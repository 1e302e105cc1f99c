//! Configuration: one [`Config`] read from `LATCHKEY_*` environment variables, validated at start-up.
//!
//! Every variable has a default that works for `make run` on a laptop; anything unsafe for production
//! (the development operator secret) is refused when `LATCHKEY_ENV=production` and logged loudly otherwise.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use url::Url;

use crate::base::types::Secret;

/// The product's name on every page, in the browser's passkey prompts and in every sentence that
/// names the site. A fork renames it here (or sets `LATCHKEY_PRODUCT_NAME`).
pub const PRODUCT_NAME: &str = "Latchkey";

/// Only for development: with a public secret anyone who reads the database can open the private
/// signing keys, so production (and any origin that is not localhost) refuses it.
const DEV_OPERATOR_SECRET: &str = "latchkey-dev-only-secret-never-use-in-production!";
const MIN_OPERATOR_SECRET_BYTES: usize = 32;

/// Everything Latchkey reads from its environment.
#[derive(Clone, Debug)]
pub struct Config {
    /// `LATCHKEY_ADDR`: where to listen.
    pub addr: SocketAddr,
    /// `LATCHKEY_ENV`: `production` makes unsafe defaults start-up errors.
    pub production: bool,
    /// `LATCHKEY_RP_ID`: the WebAuthn relying-party id (a domain, never an IP address).
    pub rp_id: String,
    /// `LATCHKEY_PRODUCT_NAME`: the name the pages show ([`PRODUCT_NAME`] by default).
    pub product_name: String,
    /// `LATCHKEY_RP_NAME`: the name authenticators show (the product name by default).
    pub rp_name: String,
    /// `LATCHKEY_ORIGINS`: exact origins (scheme, host, port) ceremonies may come from.
    pub origins: Vec<Url>,
    /// `LATCHKEY_CORS_ORIGINS`: exact origins of apps on other sites whose pages may call the REST
    /// API from the browser (bearer tokens only; credentials are never allowed cross-origin).
    pub cors_origins: Vec<Url>,
    /// `LATCHKEY_RELATED_ORIGINS`: origins on other sites that may run passkey ceremonies with this
    /// RP ID (WebAuthn related origin requests); published at `/.well-known/webauthn`.
    pub related_origins: Vec<Url>,
    /// `LATCHKEY_DATABASE_URL`: `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// `LATCHKEY_REDIS_URL`: when set, ceremonies and browser sessions live in Redis.
    pub redis_url: Option<String>,
    /// `LATCHKEY_REDIS_CA_FILE`: PEM certificates that a `rediss://` server's certificate must chain
    /// to, instead of the system's roots (for a private CA or a self-signed Redis).
    pub redis_ca_file: Option<PathBuf>,
    /// `LATCHKEY_REDIS_PREFIX`: the start of every key Latchkey writes to Redis, so several
    /// deployments (or test runs) can share one Redis.
    pub redis_prefix: String,
    /// `LATCHKEY_SESSION_STORE`: where the portal's browser sessions live.
    pub session_store: SessionStoreKind,
    /// `LATCHKEY_OPERATOR_SECRET`: encrypts the private signing keys in the database; at least 32 bytes.
    pub operator_secret: Secret,
    /// True when `operator_secret` is the built-in development secret.
    pub operator_secret_is_dev_default: bool,
    /// `LATCHKEY_KEY_ROTATION_SECS`: how long a signing key signs before the schedule rotates it.
    pub key_rotation: Duration,
    /// `LATCHKEY_CHALLENGE_TTL_SECS`: how long a ceremony may take.
    pub challenge_ttl: Duration,
    /// `LATCHKEY_ACCESS_TTL_SECS`: access-token lifetime.
    pub access_ttl: Duration,
    /// `LATCHKEY_REFRESH_TTL_SECS`: refresh-token lifetime.
    pub refresh_ttl: Duration,
    /// `LATCHKEY_REAUTH_WINDOW_SECS`: how recent a sign-in must be for a dangerous change (a passkey
    /// or the password added, changed or removed; the account deleted).
    pub reauth_window: Duration,
    /// `LATCHKEY_ACTIVITY_RETENTION_DAYS`: how long each user's record of security events is kept.
    pub activity_retention: Duration,
    /// `LATCHKEY_SMTP_URL`: the SMTP server mail is handed to (`smtp://`, `smtps://`; lettre's URL
    /// form, credentials included); without it mail is logged (development) or off (production).
    pub smtp_url: Option<Secret>,
    /// `LATCHKEY_MAIL_FROM`: the sender (`Name <address>`); the product's name at `no-reply@` the
    /// first origin's host by default.
    pub mail_from: Option<String>,
    /// `LATCHKEY_EMAIL_RECOVERY`: whether someone who lost their passkeys may ask for a recovery
    /// link at their confirmed address ("Lost your passkey?"); off by default.
    pub email_recovery: bool,
    /// `LATCHKEY_ADMIN_TOKEN`: the operator's bearer token for the admin API (`/admin/…`, off
    /// without it); at least 32 characters.
    pub admin_token: Option<Secret>,
    /// `LATCHKEY_MAIL_RETRY_SECS`: the wait after a failed delivery, doubling with each failure up to
    /// an hour.
    pub mail_retry: Duration,
    /// `LATCHKEY_SITE_ROOT`: the directory the built portal (`pkg/portal.<hash>.{js,wasm,css}`) is
    /// served from; unset, the site the binary carries (a release build), else `target/site`.
    pub site_root: Option<PathBuf>,
    /// `LATCHKEY_OIDC_CLIENTS`: the TOML file of apps that sign users in through OpenID Connect.
    pub oidc_clients: Option<PathBuf>,
    /// `LATCHKEY_AAGUID_FILE`: JSON map of AAGUID → authenticator name/icons; optional.
    pub aaguid_file: Option<PathBuf>,
    /// `LATCHKEY_MAX_PASSKEYS`: how many passkeys one account may hold.
    pub max_passkeys: usize,
    /// `LATCHKEY_MAX_CEREMONIES_PER_CLIENT`: ceremonies one client address (or, for registrations,
    /// one account) may have in flight.
    pub max_ceremonies_per_client: usize,
    /// `LATCHKEY_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` / `Forwarded` names the client.
    pub trusted_proxies: Vec<IpNet>,
    /// `LATCHKEY_RATE_LIMIT_*`: requests per client address.
    pub rate_limits: RateLimits,
    /// `LATCHKEY_HEADER_TIMEOUT_SECS`: time to send a request's headers, from the connection or the
    /// previous response (so also how long a keep-alive connection may sit idle).
    pub header_timeout: Duration,
    /// `LATCHKEY_REQUEST_TIMEOUT_SECS`: time to receive a request's body and answer it.
    pub request_timeout: Duration,
    /// `LATCHKEY_MAX_CONNECTIONS`: open connections at most; more wait to be accepted.
    pub max_connections: usize,
    /// `LATCHKEY_METRICS_ADDR`: where Prometheus reads `/metrics` (a listener of its own); `None`: no metrics.
    pub metrics_addr: Option<SocketAddr>,
    /// `LATCHKEY_LOG_FORMAT`: how log lines are written to stderr.
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// For people: one line of text per event.
    Text,
    /// For log collectors: one JSON object per line, with the request's fields.
    Json,
}

/// Requests one client address may make, per kind of endpoint; `None` is no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// `LATCHKEY_RATE_LIMIT_PASSWORD`: password sign-in and sign-up (each costs an Argon2 hash).
    pub password: Option<Rate>,
    /// `LATCHKEY_RATE_LIMIT_CEREMONY`: passkey sign-in and sign-up begin/complete (state, signatures).
    pub ceremony: Option<Rate>,
    /// `LATCHKEY_RATE_LIMIT_REFRESH`: `POST /auth/refresh`.
    pub refresh: Option<Rate>,
    /// `LATCHKEY_RATE_LIMIT_PORTAL`: every call of a portal server function.
    pub portal: Option<Rate>,
}

/// `count` requests per `period`, in a burst or spread out (a token bucket refilled evenly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Requests per period.
    pub count: NonZeroU32,
    /// The period.
    pub period: Duration,
}

/// Where browser sessions live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStoreKind {
    /// In the process: lost on restart, not shared by instances.
    Memory,
    /// In the database (a `tower_sessions` table): survives restarts, shared by instances.
    Database,
    /// In Redis (`LATCHKEY_REDIS_URL`): shared by instances.
    Redis,
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

fn invalid(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { var, reason: reason.into() }
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
        let addr = var("LATCHKEY_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .map_err(|_| invalid("LATCHKEY_ADDR", "expected an address like 127.0.0.1:3000"))?;
        let rp_id = parse_rp_id(&var("LATCHKEY_RP_ID").unwrap_or_else(|| "localhost".into()))?;
        let origins = var("LATCHKEY_ORIGINS")
            .unwrap_or_else(|| "http://localhost:3000".into())
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| parse_origin(o, &rp_id))
            .collect::<Result<Vec<_>, _>>()?;
        if origins.is_empty() {
            return Err(invalid("LATCHKEY_ORIGINS", "at least one origin is required"));
        }
        let cors_origins = origin_list("LATCHKEY_CORS_ORIGINS", var("LATCHKEY_CORS_ORIGINS").as_deref())?;
        let related_origins = origin_list("LATCHKEY_RELATED_ORIGINS", var("LATCHKEY_RELATED_ORIGINS").as_deref())?;

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
            None if !origins.iter().chain(&cors_origins).chain(&related_origins).all(is_localhost) => {
                return Err(invalid(
                    SECRET,
                    "is required when an origin is not localhost (the built-in development secret is public)",
                ));
            }
            None => (Secret::new(DEV_OPERATOR_SECRET), true),
        };

        let database_url = match var("LATCHKEY_DATABASE_URL") {
            Some(url) if url.starts_with("sqlite:") => sqlite_create_if_missing(url),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => url,
            Some(_) => return Err(invalid("LATCHKEY_DATABASE_URL", "must start with sqlite: or postgres://")),
            None => "sqlite://latchkey.db?mode=rwc".into(),
        };

        let redis_url = var("LATCHKEY_REDIS_URL");
        let redis_ca_file = var("LATCHKEY_REDIS_CA_FILE").map(PathBuf::from);
        if redis_ca_file.is_some() && !redis_url.as_deref().is_some_and(|url| url.starts_with("rediss://")) {
            return Err(invalid("LATCHKEY_REDIS_CA_FILE", "is only used with a rediss:// LATCHKEY_REDIS_URL"));
        }
        let session_store = match var("LATCHKEY_SESSION_STORE").as_deref() {
            None if redis_url.is_some() => SessionStoreKind::Redis,
            None | Some("memory") => SessionStoreKind::Memory,
            Some("database") => SessionStoreKind::Database,
            Some("redis") if redis_url.is_some() => SessionStoreKind::Redis,
            Some("redis") => return Err(invalid("LATCHKEY_SESSION_STORE", "`redis` needs LATCHKEY_REDIS_URL")),
            Some(other) => {
                return Err(invalid("LATCHKEY_SESSION_STORE", format!("`{other}` is not memory, database or redis")));
            }
        };

        let product_name = var("LATCHKEY_PRODUCT_NAME").unwrap_or_else(|| PRODUCT_NAME.into());
        if product_name.chars().count() > 64 || product_name.chars().any(char::is_control) {
            return Err(invalid("LATCHKEY_PRODUCT_NAME", "use at most 64 characters, without control characters"));
        }

        Ok(Self {
            addr,
            production,
            rp_name: var("LATCHKEY_RP_NAME").unwrap_or_else(|| product_name.clone()),
            product_name,
            rp_id,
            origins,
            cors_origins,
            related_origins,
            database_url,
            redis_url,
            redis_ca_file,
            redis_prefix: var("LATCHKEY_REDIS_PREFIX").unwrap_or_else(|| "latchkey:".into()),
            session_store,
            operator_secret,
            operator_secret_is_dev_default,
            key_rotation: seconds(&var, "LATCHKEY_KEY_ROTATION_SECS", 30 * 24 * 3600)?,
            challenge_ttl: seconds(&var, "LATCHKEY_CHALLENGE_TTL_SECS", 300)?,
            access_ttl: seconds(&var, "LATCHKEY_ACCESS_TTL_SECS", 900)?,
            refresh_ttl: seconds(&var, "LATCHKEY_REFRESH_TTL_SECS", 2_592_000)?,
            reauth_window: seconds(&var, "LATCHKEY_REAUTH_WINDOW_SECS", 300)?,
            activity_retention: days(&var, "LATCHKEY_ACTIVITY_RETENTION_DAYS", 90)?,
            smtp_url: var("LATCHKEY_SMTP_URL").map(Secret::new),
            mail_from: var("LATCHKEY_MAIL_FROM"),
            mail_retry: seconds(&var, "LATCHKEY_MAIL_RETRY_SECS", 30)?,
            email_recovery: match var("LATCHKEY_EMAIL_RECOVERY").as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => {
                    return Err(invalid("LATCHKEY_EMAIL_RECOVERY", format!("`{other}` is neither `true` nor `false`")));
                }
            },
            admin_token: match var("LATCHKEY_ADMIN_TOKEN") {
                Some(token) if token.chars().count() < 32 => {
                    return Err(invalid(
                        "LATCHKEY_ADMIN_TOKEN",
                        "use at least 32 characters, e.g. `openssl rand -hex 32`",
                    ));
                }
                token => token.map(Secret::new),
            },
            site_root: var("LATCHKEY_SITE_ROOT").map(PathBuf::from),
            aaguid_file: var("LATCHKEY_AAGUID_FILE").map(PathBuf::from),
            oidc_clients: var("LATCHKEY_OIDC_CLIENTS").map(PathBuf::from),
            max_passkeys: count(&var, "LATCHKEY_MAX_PASSKEYS", 100)?,
            max_ceremonies_per_client: count(&var, "LATCHKEY_MAX_CEREMONIES_PER_CLIENT", 128)?,
            trusted_proxies: parse_proxies(var("LATCHKEY_TRUSTED_PROXIES").as_deref().unwrap_or(""))?,
            header_timeout: seconds(&var, "LATCHKEY_HEADER_TIMEOUT_SECS", 10)?,
            request_timeout: seconds(&var, "LATCHKEY_REQUEST_TIMEOUT_SECS", 30)?,
            max_connections: count(&var, "LATCHKEY_MAX_CONNECTIONS", 1024)?,
            metrics_addr: var("LATCHKEY_METRICS_ADDR")
                .map(|raw| {
                    raw.parse::<SocketAddr>().map_err(|_| {
                        invalid("LATCHKEY_METRICS_ADDR", format!("`{raw}` is not an address like 127.0.0.1:9464"))
                    })
                })
                .transpose()?,
            log_format: match var("LATCHKEY_LOG_FORMAT").as_deref() {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    return Err(invalid("LATCHKEY_LOG_FORMAT", format!("`{other}` is neither `text` nor `json`")));
                }
            },
            rate_limits: RateLimits {
                password: rate(&var, "LATCHKEY_RATE_LIMIT_PASSWORD", "30/min")?,
                ceremony: rate(&var, "LATCHKEY_RATE_LIMIT_CEREMONY", "60/min")?,
                refresh: rate(&var, "LATCHKEY_RATE_LIMIT_REFRESH", "60/min")?,
                portal: rate(&var, "LATCHKEY_RATE_LIMIT_PORTAL", "300/min")?,
            },
        })
    }

    /// The issuer of every token (`iss`): the first of `LATCHKEY_ORIGINS`, e.g. `https://login.example.com`.
    pub fn issuer(&self) -> String {
        self.origins.first().map(|origin| origin.origin().ascii_serialization()).unwrap_or_default()
    }

    /// The audience (`aud`) of tokens for Latchkey's own account API: the issuer and `/auth`. Tokens
    /// issued to other apps name those apps, and this API refuses them.
    pub fn api_audience(&self) -> String {
        format!("{}/auth", self.issuer())
    }

    /// The longest lifetime of any token the signing keys sign (so how long a retired key stays published).
    pub fn longest_token_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// Whether the portal is served over https only (every configured origin is https): browser
    /// cookies then carry `Secure` and the `__Host-` prefix, and responses carry HSTS.
    pub fn https_only(&self) -> bool {
        self.origins.iter().all(|o| o.scheme() == "https")
    }
}

/// `N/s`, `N/min` or `N/h`; `off` for no limit.
fn rate(
    var: &impl Fn(&'static str) -> Option<String>,
    key: &'static str,
    default: &str,
) -> Result<Option<Rate>, ConfigError> {
    let raw = var(key).unwrap_or_else(|| default.to_owned());
    if raw.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let refused = || invalid(key, format!("`{raw}` is not a rate like 30/min (or N/s, N/h, or off)"));
    let (count, unit) = raw.split_once('/').ok_or_else(refused)?;
    let count = count.trim().parse::<NonZeroU32>().map_err(|_| refused())?;
    let period = match unit.trim() {
        "s" => Duration::from_secs(1),
        "min" => Duration::from_secs(60),
        "h" => Duration::from_secs(3600),
        _ => return Err(refused()),
    };
    Ok(Some(Rate { count, period }))
}

/// Comma-separated addresses or networks (`10.0.0.1`, `10.0.0.0/8`, `::1`).
fn parse_proxies(raw: &str) -> Result<Vec<IpNet>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry.parse::<IpNet>().or_else(|_| entry.parse::<IpAddr>().map(IpNet::from)).map_err(|_| {
                invalid(
                    "LATCHKEY_TRUSTED_PROXIES",
                    format!("`{entry}` is not an IP address or network like 10.0.0.0/8"),
                )
            })
        })
        .collect()
}

fn is_localhost(origin: &Url) -> bool {
    origin.host_str().is_some_and(|host| host == "localhost" || host.ends_with(".localhost"))
}

/// A positive whole number.
fn count(
    var: &impl Fn(&'static str) -> Option<String>,
    key: &'static str,
    default: usize,
) -> Result<usize, ConfigError> {
    match var(key) {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(invalid(key, format!("`{v}` is not a positive whole number"))),
        },
    }
}

/// A duration in whole seconds, at least 1.
fn seconds(
    var: &impl Fn(&'static str) -> Option<String>,
    key: &'static str,
    default: u64,
) -> Result<Duration, ConfigError> {
    let default = usize::try_from(default).unwrap_or(usize::MAX);
    count(var, key, default).map(|n| Duration::from_secs(u64::try_from(n).unwrap_or(u64::MAX)))
}

/// A duration in whole days, at least 1.
fn days(
    var: &impl Fn(&'static str) -> Option<String>,
    key: &'static str,
    default: usize,
) -> Result<Duration, ConfigError> {
    count(var, key, default).map(|n| Duration::from_secs(u64::try_from(n).unwrap_or(u64::MAX).saturating_mul(86_400)))
}

/// sqlx refuses to open a missing SQLite file unless asked to create it.
fn sqlite_create_if_missing(url: String) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

fn parse_rp_id(raw: &str) -> Result<String, ConfigError> {
    const VAR: &str = "LATCHKEY_RP_ID";
    let rp_id = raw.to_ascii_lowercase();
    if rp_id.trim_matches(['[', ']']).parse::<IpAddr>().is_ok() {
        return Err(invalid(
            VAR,
            format!(
                "`{raw}` is an IP address; WebAuthn needs a domain (use `localhost` locally and open http://localhost:<port>)"
            ),
        ));
    }
    if rp_id.contains("://") || rp_id.contains(['/', ':']) {
        return Err(invalid(
            VAR,
            format!("`{raw}` must be a bare domain such as example.com, without scheme, port or path"),
        ));
    }
    let valid_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
    };
    if rp_id.len() > 253 || !rp_id.split('.').all(valid_label) {
        return Err(invalid(VAR, format!("`{raw}` is not a valid domain name")));
    }
    Ok(rp_id)
}

fn parse_origin(raw: &str, rp_id: &str) -> Result<Url, ConfigError> {
    const VAR: &str = "LATCHKEY_ORIGINS";
    let url = origin_only(VAR, raw, rp_id)?;
    let host = url.host_str().unwrap_or_default();
    if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
        return Err(invalid(VAR, format!("the host of `{raw}` is not {rp_id} or a subdomain of it (LATCHKEY_RP_ID)")));
    }
    Ok(url)
}

/// A comma-separated list of origins on any site (`LATCHKEY_CORS_ORIGINS`, `LATCHKEY_RELATED_ORIGINS`).
fn origin_list(var: &'static str, raw: Option<&str>) -> Result<Vec<Url>, ConfigError> {
    raw.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| match o {
            "*" | "null" => Err(invalid(var, format!("`{o}` is not allowed: list each origin exactly"))),
            _ => origin_only(var, o, "app.example"),
        })
        .collect()
}

/// An origin exactly: scheme, host and optional port; https, or http on localhost.
fn origin_only(var: &'static str, raw: &str, example_host: &str) -> Result<Url, ConfigError> {
    if !raw.contains("://") {
        return Err(invalid(var, format!("`{raw}` has no scheme; write it in full, e.g. https://{example_host}")));
    }
    let url = Url::parse(raw).map_err(|e| invalid(var, format!("`{raw}` is not a URL: {e}")))?;
    let host = url.host_str().unwrap_or_default();
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(invalid(var, format!("`{raw}` must use https (or http for localhost)")));
    }
    if url.scheme() == "http" && host != "localhost" && !host.ends_with(".localhost") {
        return Err(invalid(var, format!("`{raw}`: browsers allow passkeys over http only on localhost; use https")));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(invalid(var, format!("`{raw}` must be an origin only: scheme, host and optional port")));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

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
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.rp_id, "localhost");
        assert_eq!(c.origins[0].as_str(), "http://localhost:3000/");
        assert_eq!(c.database_url, "sqlite://latchkey.db?mode=rwc");
        assert!(c.operator_secret_is_dev_default && !c.production && !c.https_only());
        assert_eq!(c.max_passkeys, 100);
        assert_eq!(c.challenge_ttl, Duration::from_secs(300));
    }

    #[test]
    fn the_relying_party_is_named_after_the_product_unless_told_otherwise() {
        assert_eq!(
            (config(&[]).unwrap().product_name, config(&[]).unwrap().rp_name),
            (PRODUCT_NAME.into(), PRODUCT_NAME.into())
        );
        let renamed = config(&[("LATCHKEY_PRODUCT_NAME", "Acme ID")]).unwrap();
        assert_eq!((renamed.product_name.as_str(), renamed.rp_name.as_str()), ("Acme ID", "Acme ID"));
        let both = config(&[("LATCHKEY_PRODUCT_NAME", "Acme ID"), ("LATCHKEY_RP_NAME", "Acme")]).unwrap();
        assert_eq!(both.rp_name, "Acme");
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
        assert!(local_https.operator_secret_is_dev_default && local_https.https_only());
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
        assert_eq!(ok.origins.len(), 2);
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
        assert_eq!(c.database_url, "sqlite://data/app.db?mode=rwc");
        assert!(config(&[("LATCHKEY_DATABASE_URL", "mysql://x")]).is_err());
    }

    #[test]
    fn sessions_follow_redis_unless_told_otherwise() {
        assert_eq!(config(&[]).unwrap().session_store, SessionStoreKind::Memory);
        let redis = [("LATCHKEY_REDIS_URL", "redis://127.0.0.1:6379")];
        assert_eq!(config(&redis).unwrap().session_store, SessionStoreKind::Redis);
        let database = [("LATCHKEY_REDIS_URL", "redis://127.0.0.1:6379"), ("LATCHKEY_SESSION_STORE", "database")];
        assert_eq!(config(&database).unwrap().session_store, SessionStoreKind::Database);
        assert!(config(&[("LATCHKEY_SESSION_STORE", "redis")]).is_err());
        assert!(config(&[("LATCHKEY_SESSION_STORE", "cookies")]).is_err());
    }

    #[test]
    fn cors_and_related_origins_are_exact_origins_on_any_site() {
        let set =
            |var, value| config(&[(var, value), ("LATCHKEY_OPERATOR_SECRET", "a-secret-of-at-least-32-bytes-long!!")]);
        for var in ["LATCHKEY_CORS_ORIGINS", "LATCHKEY_RELATED_ORIGINS"] {
            let two = set(var, "https://app.example, http://app.localhost:4000").unwrap();
            let listed = if var == "LATCHKEY_CORS_ORIGINS" { two.cors_origins } else { two.related_origins };
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
        assert_eq!(tls.redis_ca_file.as_deref(), Some(std::path::Path::new(ca.1)));
    }

    #[test]
    fn the_passkey_cap_is_a_positive_number() {
        assert_eq!(config(&[("LATCHKEY_MAX_PASSKEYS", "5")]).unwrap().max_passkeys, 5);
        assert!(config(&[("LATCHKEY_MAX_PASSKEYS", "0")]).is_err());
        assert!(config(&[("LATCHKEY_MAX_PASSKEYS", "many")]).is_err());
    }

    #[test]
    fn rate_limits_have_defaults_and_can_be_set_or_switched_off() {
        let defaults = config(&[]).unwrap().rate_limits;
        assert_eq!(
            defaults.password,
            Some(Rate { count: NonZeroU32::new(30).unwrap(), period: Duration::from_secs(60) })
        );
        let set = config(&[("LATCHKEY_RATE_LIMIT_REFRESH", "5/s"), ("LATCHKEY_RATE_LIMIT_PORTAL", "off")]).unwrap();
        assert_eq!(
            set.rate_limits.refresh,
            Some(Rate { count: NonZeroU32::new(5).unwrap(), period: Duration::from_secs(1) })
        );
        assert_eq!(set.rate_limits.portal, None);
        for bad in ["0/min", "ten/min", "5/day", "5"] {
            assert!(config(&[("LATCHKEY_RATE_LIMIT_PASSWORD", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let c = config(&[("LATCHKEY_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1, ::1")]).unwrap();
        assert_eq!(c.trusted_proxies.len(), 3);
        assert!(c.trusted_proxies[0].contains(&"10.1.2.3".parse::<IpAddr>().unwrap()));
        assert!(config(&[]).unwrap().trusted_proxies.is_empty(), "none by default");
        assert!(config(&[("LATCHKEY_TRUSTED_PROXIES", "proxy.example")]).is_err());
    }

    #[test]
    fn durations_must_be_positive_numbers() {
        assert!(config(&[("LATCHKEY_CHALLENGE_TTL_SECS", "0")]).is_err());
        assert!(config(&[("LATCHKEY_ACCESS_TTL_SECS", "fifteen")]).is_err());
        assert_eq!(config(&[("LATCHKEY_CHALLENGE_TTL_SECS", "60")]).unwrap().challenge_ttl, Duration::from_secs(60));
    }
}
