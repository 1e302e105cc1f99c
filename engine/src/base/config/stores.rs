//! Where things are kept: the database, Redis, the portal's browser sessions, and how long each
//! account's activity is kept.

use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::values::{Var, count, days, invalid};

/// The stores.
#[derive(Clone, Debug)]
pub struct Stores {
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
    /// `LATCHKEY_SESSION_CAPACITY`: the most sessions the memory store holds; past it, the least
    /// recently used is dropped.
    pub session_capacity: usize,
    /// `LATCHKEY_ACTIVITY_RETENTION_DAYS`: how long each user's record of security events is kept.
    pub activity_retention: Duration,
}

/// Where browser sessions live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStoreKind {
    /// In the process: lost on restart, not shared by instances.
    Memory,
    /// In the database (the session store's own table): survives restarts, shared by instances.
    Database,
    /// In Redis (`LATCHKEY_REDIS_URL`): shared by instances.
    Redis,
}

impl Stores {
    pub(super) fn read(var: &impl Var) -> Result<Self, ConfigError> {
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
        Ok(Self {
            database_url,
            redis_url,
            redis_ca_file,
            redis_prefix: var("LATCHKEY_REDIS_PREFIX").unwrap_or_else(|| "latchkey:".into()),
            session_store,
            session_capacity: count(var, "LATCHKEY_SESSION_CAPACITY", 100_000)?,
            activity_retention: days(var, "LATCHKEY_ACTIVITY_RETENTION_DAYS", 90)?,
        })
    }
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
