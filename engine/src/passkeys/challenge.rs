//! The challenge store: where ceremony state waits between *begin* and *complete*.
//!
//! Each state is stored under a key derived from its challenge and is **taken** (read and deleted in
//! one atomic step) by *complete*, so one challenge finishes at most one ceremony even when the same
//! response arrives on many connections at once (ceremony rule 1). In memory by default; in Redis
//! (`SET … EX` / `GETDEL`) when several instances must share ceremonies.
//!
//! Every state has an *owner* — the client address that began an anonymous ceremony, or the account
//! that began a registration — and an owner may have at most a few ceremonies in flight
//! (`LATCHKEY_MAX_CEREMONIES_PER_CLIENT`), in both stores, so a flood of *begin* calls from one
//! address can never crowd out other people's ceremonies.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use fred::prelude::{ClientLike, KeysInterface, LuaInterface, SortedSetsInterface};

/// Why a state could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis did not answer (503).
    #[error("challenge store unreachable: {0}")]
    Unreachable(String),
    /// Too many ceremonies in flight altogether (the memory store's bound against floods; 503).
    #[error("challenge store full")]
    Full,
    /// This owner has its most ceremonies in flight; the oldest ends after `retry_after` (429).
    #[error("too many ceremonies in flight for one client")]
    OwnerFull {
        /// Until the owner's oldest ceremony expires.
        retry_after: Duration,
    },
}

/// Ceremony state storage with atomic single-use reads.
#[async_trait]
pub trait ChallengeStore: Send + Sync {
    /// Stores `state` under `key` for `ttl`, counted against `owner`'s ceremonies in flight.
    async fn put(&self, key: &str, owner: &str, state: String, ttl: Duration) -> Result<(), StoreError>;
    /// Removes and returns the state under `key`, or `None` if it is absent or expired.
    async fn take(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Whether the store answers, for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// An in-process store: right for one instance; ceremonies are lost on restart (they last minutes).
pub struct MemoryChallengeStore {
    inner: Mutex<Entries>,
    max_entries: usize,
    per_owner: usize,
}

#[derive(Default)]
struct Entries {
    /// key → (state, expiry, owner)
    states: HashMap<String, (String, Instant, String)>,
    /// owner → keys of its ceremonies (some may have been taken or have expired since)
    owners: HashMap<String, Vec<(Instant, String)>>,
}

impl MemoryChallengeStore {
    /// Bound on ceremonies in flight, so unauthenticated *begin* calls cannot exhaust memory.
    pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

    /// An empty store holding at most `max_entries` ceremonies, and `per_owner` for any one owner.
    pub fn new(max_entries: usize, per_owner: usize) -> Self {
        Self { inner: Mutex::new(Entries::default()), max_entries, per_owner }
    }

    fn put_at(&self, key: &str, owner: &str, state: String, expires: Instant, now: Instant) -> Result<(), StoreError> {
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Entries { states, owners } = &mut *inner;
        let mine = owners.entry(owner.to_owned()).or_default();
        mine.retain(|(expiry, key)| *expiry > now && states.contains_key(key));
        if mine.len() >= self.per_owner {
            let oldest = mine.iter().map(|(expiry, _)| *expiry).min().unwrap_or(now);
            return Err(StoreError::OwnerFull { retry_after: oldest.saturating_duration_since(now) });
        }
        mine.push((expires, key.to_owned()));
        if states.len() >= self.max_entries {
            states.retain(|_, (_, expiry, _)| *expiry > now);
            owners.retain(|_, keys| {
                keys.retain(|(expiry, key)| *expiry > now && states.contains_key(key));
                !keys.is_empty()
            });
            if states.len() >= self.max_entries {
                return Err(StoreError::Full);
            }
        }
        states.insert(key.to_owned(), (state, expires, owner.to_owned()));
        Ok(())
    }

    fn take_at(&self, key: &str, now: Instant) -> Option<String> {
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (state, expiry, owner) = inner.states.remove(key)?;
        if let Some(keys) = inner.owners.get_mut(&owner) {
            keys.retain(|(_, held)| held != key);
            if keys.is_empty() {
                inner.owners.remove(&owner);
            }
        }
        (expiry > now).then_some(state)
    }
}

#[async_trait]
impl ChallengeStore for MemoryChallengeStore {
    async fn put(&self, key: &str, owner: &str, state: String, ttl: Duration) -> Result<(), StoreError> {
        let now = Instant::now();
        self.put_at(key, owner, state, now + ttl, now)
    }

    async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.take_at(key, Instant::now()))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A Redis-backed store shared by every instance. Expiry is Redis' own (`EX`), taking is `GETDEL`;
/// each owner's ceremonies are a sorted set of keys scored by expiry, checked and added to in one
/// Lua script, so the cap holds across instances too.
pub struct RedisChallengeStore {
    pool: fred::prelude::Pool,
    /// `<LATCHKEY_REDIS_PREFIX>ceremony:`, before each ceremony's key.
    states: String,
    /// `<LATCHKEY_REDIS_PREFIX>ceremony-owner:`, before each owner's index.
    owners: String,
    per_owner: usize,
}

impl RedisChallengeStore {
    /// Drops the owner's expired ceremonies; refuses when `ARGV[4]` are in flight (answering the
    /// oldest's expiry in ms); else stores the state (`owner NUL state`) and indexes it by owner.
    const PUT: &'static str = r"
        local now = redis.call('TIME')
        local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms)
        if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
            local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
            return math.max(tonumber(oldest[2]) - now_ms, 1)
        end
        local ttl_ms = tonumber(ARGV[3]) * 1000
        redis.call('SET', KEYS[1], ARGV[1] .. '\0' .. ARGV[2], 'PX', ttl_ms)
        redis.call('ZADD', KEYS[2], now_ms + ttl_ms, KEYS[1])
        redis.call('PEXPIRE', KEYS[2], ttl_ms)
        return 0";

    /// Wraps a connected pool (see [`connect_redis`]); every key starts with `prefix`.
    pub fn new(pool: fred::prelude::Pool, prefix: &str, per_owner: usize) -> Self {
        Self { pool, states: format!("{prefix}ceremony:"), owners: format!("{prefix}ceremony-owner:"), per_owner }
    }
}

fn unreachable(err: fred::error::Error) -> StoreError {
    StoreError::Unreachable(err.to_string())
}

#[async_trait]
impl ChallengeStore for RedisChallengeStore {
    async fn put(&self, key: &str, owner: &str, state: String, ttl: Duration) -> Result<(), StoreError> {
        let keys = vec![format!("{}{key}", self.states), format!("{}{owner}", self.owners)];
        let seconds = ttl.as_secs().max(1);
        let args = vec![owner.to_owned(), state, seconds.to_string(), self.per_owner.to_string()];
        let refused_for_ms: i64 = self.pool.eval(Self::PUT, keys, args).await.map_err(unreachable)?;
        if refused_for_ms > 0 {
            return Err(StoreError::OwnerFull {
                retry_after: Duration::from_millis(u64::try_from(refused_for_ms).unwrap_or(1)),
            });
        }
        Ok(())
    }

    async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        let full_key = format!("{}{key}", self.states);
        let Some(stored) = self.pool.getdel::<Option<String>, _>(&full_key).await.map_err(unreachable)? else {
            return Ok(None);
        };
        let (owner, state) = stored.split_once('\0').unwrap_or(("", stored.as_str()));
        // The state is already taken; tidying the owner's index may fail without harm (it expires).
        if let Err(error) = self.pool.zrem::<(), _, _>(format!("{}{owner}", self.owners), &full_key).await {
            tracing::debug!(%error, "could not drop a taken ceremony from its owner's index");
        }
        Ok(Some(state.to_owned()))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.pool.ping::<String>(None).await.map(|_| ()).map_err(unreachable)
    }
}

/// Connects a Redis pool that fails commands within two seconds while Redis is down (so requests get
/// a prompt 503) and reconnects by itself when it returns. A `rediss://` URL connects over TLS and
/// checks the server's certificate against the system's roots, or against `ca_file` when given.
pub async fn connect_redis(url: &str, ca_file: Option<&Path>) -> Result<fred::prelude::Pool, fred::error::Error> {
    use fred::prelude::{Builder, Config, ReconnectPolicy};
    let mut config = Config::from_url(url)?;
    if let Some(ca_file) = ca_file {
        config.tls = Some(tls_trusting(ca_file)?.into());
    }
    let pool = Builder::from_config(config)
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

/// A TLS client configuration whose only roots are the PEM certificates in `ca_file`.
fn tls_trusting(ca_file: &Path) -> Result<rustls::ClientConfig, fred::error::Error> {
    use fred::error::{Error, ErrorKind};
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let refused = |why: String| Error::new(ErrorKind::Tls, format!("CA file {}: {why}", ca_file.display()));
    let pem = std::fs::read(ca_file).map_err(|e| refused(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.map_err(|e| refused(e.to_string()))?).map_err(|e| refused(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(refused("no PEM certificate in it".into()));
    }
    // The provider is named, not taken from the process default, so no other crate's choice of
    // rustls backend can change (or break) this one.
    rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map(|builder| builder.with_root_certificates(roots).with_no_client_auth())
        .map_err(|e| refused(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(300);

    #[test]
    fn a_state_can_be_taken_once() {
        let store = MemoryChallengeStore::new(100, 10);
        let now = Instant::now();
        store.put_at("k", "ip:a", "state".into(), now + TTL, now).unwrap();
        assert_eq!(store.take_at("k", now).as_deref(), Some("state"));
        assert_eq!(store.take_at("k", now), None);
    }

    #[test]
    fn an_expired_state_is_gone() {
        let store = MemoryChallengeStore::new(100, 10);
        let now = Instant::now();
        store.put_at("k", "ip:a", "state".into(), now + TTL, now).unwrap();
        assert_eq!(store.take_at("k", now + TTL), None);
    }

    #[test]
    fn a_full_store_first_drops_expired_states_then_refuses() {
        let store = MemoryChallengeStore::new(2, 10);
        let now = Instant::now();
        store.put_at("old", "ip:a", "x".into(), now + Duration::from_secs(1), now).unwrap();
        store.put_at("live", "ip:b", "x".into(), now + TTL, now).unwrap();
        let later = now + Duration::from_secs(2);
        store.put_at("new", "ip:c", "x".into(), later + TTL, later).unwrap();
        assert!(matches!(store.put_at("more", "ip:d", "x".into(), later + TTL, later), Err(StoreError::Full)));
        assert_eq!(store.take_at("live", later).as_deref(), Some("x"));
    }

    #[test]
    fn one_owner_cannot_hold_more_than_its_share_and_others_are_unaffected() {
        let store = MemoryChallengeStore::new(100, 2);
        let now = Instant::now();
        store.put_at("a1", "ip:a", "x".into(), now + TTL, now).unwrap();
        store.put_at("a2", "ip:a", "x".into(), now + TTL, now).unwrap();

        let refused = store.put_at("a3", "ip:a", "x".into(), now + TTL, now);
        store.put_at("b1", "ip:b", "x".into(), now + TTL, now).unwrap();
        assert!(matches!(refused, Err(StoreError::OwnerFull { retry_after }) if retry_after == TTL));
        // A finished or expired ceremony frees its place.
        store.take_at("a1", now);
        store.put_at("a3", "ip:a", "x".into(), now + TTL, now).unwrap();
        let later = now + TTL;
        store.put_at("a4", "ip:a", "x".into(), later + TTL, later).unwrap();
    }
}
