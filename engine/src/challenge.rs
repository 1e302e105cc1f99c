//! The challenge store: where ceremony state waits between *begin* and *complete*.
//!
//! Each state is stored under a key derived from its challenge and is **taken** (read and deleted in
//! one atomic step) by *complete*, so one challenge finishes at most one ceremony even when the same
//! response arrives on many connections at once (ceremony rule 1). In memory by default; in Redis
//! (`SET … EX` / `GETDEL`) when several instances must share ceremonies.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use fred::prelude::{ClientLike, Expiration, KeysInterface};

/// The store could not be reached or is full; the request should be retried later (503).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis did not answer.
    #[error("challenge store unreachable: {0}")]
    Unreachable(String),
    /// Too many ceremonies in flight (the memory store's bound against floods).
    #[error("challenge store full")]
    Full,
}

/// Ceremony state storage with atomic single-use reads.
#[async_trait]
pub trait ChallengeStore: Send + Sync {
    /// Stores `state` under `key` for `ttl`.
    async fn put(&self, key: &str, state: String, ttl: Duration) -> Result<(), StoreError>;
    /// Removes and returns the state under `key`, or `None` if it is absent or expired.
    async fn take(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Whether the store answers, for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// An in-process store: right for one instance; ceremonies are lost on restart (they last minutes).
pub struct MemoryChallengeStore {
    entries: Mutex<HashMap<String, (String, Instant)>>,
    max_entries: usize,
}

impl MemoryChallengeStore {
    /// Bound on ceremonies in flight, so unauthenticated *begin* calls cannot exhaust memory.
    pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

    /// An empty store holding at most `max_entries` ceremonies.
    pub fn new(max_entries: usize) -> Self {
        Self { entries: Mutex::new(HashMap::new()), max_entries }
    }

    fn put_at(&self, key: &str, state: String, expires: Instant, now: Instant) -> Result<(), StoreError> {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= self.max_entries {
            entries.retain(|_, (_, expiry)| *expiry > now);
            if entries.len() >= self.max_entries {
                return Err(StoreError::Full);
            }
        }
        entries.insert(key.to_owned(), (state, expires));
        Ok(())
    }

    fn take_at(&self, key: &str, now: Instant) -> Option<String> {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.remove(key).filter(|(_, expiry)| *expiry > now).map(|(state, _)| state)
    }
}

impl Default for MemoryChallengeStore {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_ENTRIES)
    }
}

#[async_trait]
impl ChallengeStore for MemoryChallengeStore {
    async fn put(&self, key: &str, state: String, ttl: Duration) -> Result<(), StoreError> {
        let now = Instant::now();
        self.put_at(key, state, now + ttl, now)
    }

    async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.take_at(key, Instant::now()))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A Redis-backed store shared by every instance. Expiry is Redis' own (`EX`), taking is `GETDEL`.
pub struct RedisChallengeStore {
    pool: fred::prelude::Pool,
}

impl RedisChallengeStore {
    const PREFIX: &'static str = "latchkey:ceremony:";

    /// Wraps a connected pool (see [`connect_redis`]).
    pub fn new(pool: fred::prelude::Pool) -> Self {
        Self { pool }
    }
}

fn unreachable(err: fred::error::Error) -> StoreError {
    StoreError::Unreachable(err.to_string())
}

#[async_trait]
impl ChallengeStore for RedisChallengeStore {
    async fn put(&self, key: &str, state: String, ttl: Duration) -> Result<(), StoreError> {
        let seconds = i64::try_from(ttl.as_secs().max(1)).unwrap_or(i64::MAX);
        self.pool
            .set::<(), _, _>(format!("{}{key}", Self::PREFIX), state, Some(Expiration::EX(seconds)), None, false)
            .await
            .map_err(unreachable)
    }

    async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.pool.getdel(format!("{}{key}", Self::PREFIX)).await.map_err(unreachable)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.pool.ping::<String>(None).await.map(|_| ()).map_err(unreachable)
    }
}

/// Connects a Redis pool that fails commands within two seconds while Redis is down (so requests get
/// a prompt 503) and reconnects by itself when it returns.
pub async fn connect_redis(url: &str) -> Result<fred::prelude::Pool, fred::error::Error> {
    use fred::prelude::{Builder, Config, ReconnectPolicy};
    let pool = Builder::from_config(Config::from_url(url)?)
        .with_performance_config(|perf| perf.default_command_timeout = Duration::from_secs(2))
        .with_connection_config(|conn| {
            conn.connection_timeout = Duration::from_secs(2);
            conn.internal_command_timeout = Duration::from_secs(2);
            conn.max_command_attempts = 1;
        })
        .set_policy(ReconnectPolicy::new_constant(0, 500))
        .build_pool(4)?;
    pool.init().await?;
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_can_be_taken_once() {
        let store = MemoryChallengeStore::default();
        let now = Instant::now();
        store.put_at("k", "state".into(), now + Duration::from_secs(300), now).unwrap();
        assert_eq!(store.take_at("k", now).as_deref(), Some("state"));
        assert_eq!(store.take_at("k", now), None);
    }

    #[test]
    fn an_expired_state_is_gone() {
        let store = MemoryChallengeStore::default();
        let now = Instant::now();
        store.put_at("k", "state".into(), now + Duration::from_secs(300), now).unwrap();
        assert_eq!(store.take_at("k", now + Duration::from_secs(300)), None);
    }

    #[test]
    fn a_full_store_first_drops_expired_states_then_refuses() {
        let store = MemoryChallengeStore::new(2);
        let now = Instant::now();
        store.put_at("old", "x".into(), now + Duration::from_secs(1), now).unwrap();
        store.put_at("live", "x".into(), now + Duration::from_secs(300), now).unwrap();
        let later = now + Duration::from_secs(2);
        store.put_at("new", "x".into(), later + Duration::from_secs(300), later).unwrap();
        assert!(matches!(
            store.put_at("more", "x".into(), later + Duration::from_secs(300), later),
            Err(StoreError::Full)
        ));
        assert_eq!(store.take_at("live", later).as_deref(), Some("x"));
    }
}
