//! The browser sessions' store and cookie: an HttpOnly, SameSite=Lax cookie (`Secure`, and named
//! with the `__Host-` prefix, when every origin is https) whose data lives where
//! `LATCHKEY_SESSION_STORE` says. What a session holds is the
//! engine's business (`engine/src/portal.rs`); where it is kept is the server's.

use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use engine::Config;
use engine::base::config::SessionStoreKind;
use fred::prelude::{KeysInterface, Pool};
use fred::types::{Expiration, SetOptions};
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// How often expired sessions are removed from a database store (Redis and the memory store expire
/// them themselves).
const EXPIRED_SWEEP: Duration = Duration::from_secs(3600);

/// The store behind the portal's session cookie.
#[derive(Clone, Debug)]
pub enum SessionBackend {
    /// In the process, in a bounded cache that drops expired sessions.
    Memory(MemorySessions),
    /// In Redis, shared with the challenge store's pool, under `LATCHKEY_REDIS_PREFIX`.
    Redis(RedisSessions),
    /// In the SQLite database (table `tower_sessions`).
    Sqlite(SqliteStore),
    /// In the PostgreSQL database (schema `tower_sessions`).
    Postgres(PostgresStore),
}

impl SessionBackend {
    /// Opens the configured store; a database store gets its table and an hourly sweep of expired sessions.
    pub async fn open(config: &Config, redis: Option<&Pool>) -> Result<Self, String> {
        match (config.stores.session_store, redis) {
            (SessionStoreKind::Memory, _) => Ok(Self::Memory(MemorySessions::new(config.stores.session_capacity))),
            (SessionStoreKind::Redis, Some(pool)) => Ok(Self::Redis(RedisSessions {
                pool: pool.clone(),
                prefix: format!("{}session:", config.stores.redis_prefix),
            })),
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

/// Browser sessions in Redis, each under `<LATCHKEY_REDIS_PREFIX>session:<id>` as the ceremonies are
/// under `…ceremony:`, so deployments (and other programs) sharing one Redis never read or
/// overwrite each other's sessions (attack L16 of the review). tower-sessions-redis-store writes
/// bare ids and has no prefix; this is its four operations with one: `SET … EXAT` (`NX` to create,
/// `XX` to save), `GET`, `DEL`.
#[derive(Clone, Debug)]
pub struct RedisSessions {
    pool: Pool,
    prefix: String,
}

impl RedisSessions {
    fn key(&self, id: &Id) -> String {
        format!("{}{id}", self.prefix)
    }

    /// Writes `record` until its expiry; `false` when `options` refused (the id exists for `NX`,
    /// or no longer exists for `XX`).
    async fn write(&self, record: &Record, options: SetOptions) -> session_store::Result<bool> {
        let value = serde_json::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let expiry = Some(Expiration::EXAT(record.expiry_date.unix_timestamp()));
        self.pool
            .set::<Option<String>, _, _>(self.key(&record.id), value.as_slice(), expiry, Some(options), false)
            .await
            .map(|answer| answer.is_some())
            .map_err(backend)
    }
}

fn backend(error: fred::error::Error) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

#[async_trait]
impl SessionStore for RedisSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while !self.write(record, SetOptions::NX).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(record, SetOptions::XX).await.map(|_| ())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let stored: Option<Vec<u8>> = self.pool.get(self.key(id)).await.map_err(backend)?;
        stored
            .map(|bytes| serde_json::from_slice(&bytes).map_err(|e| session_store::Error::Decode(e.to_string())))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.pool.del::<(), _>(self.key(id)).await.map_err(backend)
    }
}

/// Browser sessions in this process: a moka cache of at most `LATCHKEY_SESSION_CAPACITY` sessions,
/// each expiring at its record's expiry. Past the capacity the least recently used session is
/// dropped, and a new one is always admitted (attack M8 of the review: tower-sessions-moka-store's
/// cache uses moka's default TinyLFU admission, which turns away a new entry no more used than the
/// one it would evict, so once busy sessions filled it every new sign-in was silently lost).
#[derive(Clone, Debug)]
pub struct MemorySessions {
    cache: moka::future::Cache<Id, Record>,
}

impl MemorySessions {
    fn new(capacity: usize) -> Self {
        let cache = moka::future::Cache::builder()
            .max_capacity(u64::try_from(capacity).unwrap_or(u64::MAX))
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .expire_after(UntilRecordExpires)
            .build();
        Self { cache }
    }
}

/// Each session lives until its record's expiry (which an active session pushes back).
struct UntilRecordExpires;

impl UntilRecordExpires {
    fn left(record: &Record) -> Duration {
        let left = record.expiry_date - time::OffsetDateTime::now_utc();
        left.try_into().unwrap_or_default()
    }
}

impl moka::Expiry<Id, Record> for UntilRecordExpires {
    fn expire_after_create(&self, _: &Id, record: &Record, _: std::time::Instant) -> Option<Duration> {
        Some(Self::left(record))
    }

    fn expire_after_update(
        &self,
        _: &Id,
        record: &Record,
        _: std::time::Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(Self::left(record))
    }
}

#[async_trait]
impl SessionStore for MemorySessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while self.cache.contains_key(&record.id) {
            record.id = Id::default();
        }
        self.cache.insert(record.id, record.clone()).await;
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.cache.insert(record.id, record.clone()).await;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self.cache.get(id).await)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.cache.invalidate(id).await;
        Ok(())
    }
}
