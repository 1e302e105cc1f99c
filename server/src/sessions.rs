//! The browser sessions' store and cookie: an HttpOnly, SameSite=Lax cookie (`Secure`, and named
//! with the `__Host-` prefix, when every origin is https) whose data lives where
//! `LATCHKEY_SESSION_STORE` says. What a session holds is the
//! engine's business (`engine/src/portal.rs`); where it is kept is the server's.

use std::time::Duration;

use axum::Router;
use engine::Config;
use engine::base::config::SessionStoreKind;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_moka_store::MokaStore;
use tower_sessions_redis_store::RedisStore;
use tower_sessions_redis_store::fred::prelude::Pool;
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// How often expired sessions are removed from a database store (Redis and the memory store expire
/// them themselves).
const EXPIRED_SWEEP: Duration = Duration::from_secs(3600);
/// The most sessions the memory store holds; past it, the least recently used are dropped first.
const MEMORY_CAPACITY: u64 = 100_000;

/// The store behind the portal's session cookie.
#[derive(Clone, Debug)]
pub enum SessionBackend {
    /// In the process, in a bounded cache that drops expired sessions.
    Memory(MokaStore),
    /// In Redis, shared with the challenge store's pool.
    Redis(RedisStore<Pool>),
    /// In the SQLite database (table `tower_sessions`).
    Sqlite(SqliteStore),
    /// In the PostgreSQL database (schema `tower_sessions`).
    Postgres(PostgresStore),
}

impl SessionBackend {
    /// Opens the configured store; a database store gets its table and an hourly sweep of expired sessions.
    pub async fn open(config: &Config, redis: Option<&Pool>) -> Result<Self, String> {
        match (config.stores.session_store, redis) {
            (SessionStoreKind::Memory, _) => Ok(Self::Memory(MokaStore::new(Some(MEMORY_CAPACITY)))),
            (SessionStoreKind::Redis, Some(pool)) => Ok(Self::Redis(RedisStore::new(pool.clone()))),
            (SessionStoreKind::Redis, None) => Err("the Redis session store needs LATCHKEY_REDIS_URL".into()),
            (SessionStoreKind::Database, _) if config.stores.database_url.starts_with("sqlite:") => {
                let pool = sqlx::SqlitePool::connect(&config.stores.database_url).await.map_err(|e| e.to_string())?;
                let store = SqliteStore::new(pool);
                store.migrate().await.map_err(|e| e.to_string())?;
                sweep_expired(store.clone());
                Ok(Self::Sqlite(store))
            }
            (SessionStoreKind::Database, _) => {
                let pool = sqlx::PgPool::connect(&config.stores.database_url).await.map_err(|e| e.to_string())?;
                let store = PostgresStore::new(pool);
                store.migrate().await.map_err(|e| e.to_string())?;
                sweep_expired(store.clone());
                Ok(Self::Postgres(store))
            }
        }
    }

    /// Puts the session cookie layer around `router`.
    pub fn layer<S: Clone + Send + Sync + 'static>(self, router: Router<S>, secure: bool) -> Router<S> {
        match self {
            Self::Memory(store) => router.layer(cookie(store, secure)),
            Self::Redis(store) => router.layer(cookie(store, secure)),
            Self::Sqlite(store) => router.layer(cookie(store, secure)),
            Self::Postgres(store) => router.layer(cookie(store, secure)),
        }
    }
}

/// The `__Host-` prefix makes browsers refuse the cookie unless it is `Secure`, for `/` and set by
/// this host itself, so a sibling subdomain cannot plant or overwrite it.
fn cookie<S: SessionStore>(store: S, secure: bool) -> SessionManagerLayer<S> {
    SessionManagerLayer::new(store)
        .with_name(if secure { "__Host-latchkey_session" } else { "latchkey_session" })
        .with_path("/")
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::seconds(
            engine::http::portal::SESSION_IDLE_LIFETIME_SECS,
        )))
}

fn sweep_expired(store: impl ExpiredDeletion + 'static) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EXPIRED_SWEEP);
        loop {
            every.tick().await;
            if let Err(error) = store.delete_expired().await {
                tracing::warn!(%error, "could not delete expired sessions");
            }
        }
    });
}
