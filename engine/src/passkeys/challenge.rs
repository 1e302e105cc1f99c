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

use std::collections::{BTreeSet, HashMap};
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
    /// How many bytes the state under `key` takes, without taking it (what a flood of *begin* calls
    /// could make the store hold, which tests and operators measure).
    async fn stored_len(&self, key: &str) -> Result<Option<usize>, StoreError>;
    /// Whether the store answers, for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// An in-process store: right for one instance; ceremonies are lost on restart (they last minutes).
///
/// Bounded three ways against floods of *begin* calls: ceremonies per owner, ceremonies in all, and
/// bytes in all. Expired states are dropped oldest first from an index ordered by expiry, a few on
/// every *put* and as many as a full store needs, so the lock is never held across a scan of the
/// whole store: each step is O(log n).
pub struct MemoryChallengeStore {
    inner: Mutex<Entries>,
    max_entries: usize,
    max_bytes: usize,
    per_owner: usize,
}

#[derive(Default)]
struct Entries {
    /// key → the state, its expiry and owner
    states: HashMap<String, Stored>,
    /// (expiry, key) of every state in `states`, soonest first
    by_expiry: BTreeSet<(Instant, String)>,
    /// owner → (expiry, key) of its ceremonies in `states`
    owners: HashMap<String, Vec<(Instant, String)>>,
    /// The length of every state in `states`, summed.
    bytes: usize,
}

struct Stored {
    state: String,
    expires: Instant,
    owner: String,
}

impl Entries {
    fn remove(&mut self, key: &str) -> Option<Stored> {
        let stored = self.states.remove(key)?;
        self.by_expiry.remove(&(stored.expires, key.to_owned()));
        if let Some(keys) = self.owners.get_mut(&stored.owner) {
            keys.retain(|(_, held)| held != key);
            if keys.is_empty() {
                self.owners.remove(&stored.owner);
            }
        }
        self.bytes -= stored.state.len();
        Some(stored)
    }

    /// Drops the soonest-expiring state if it has expired; whether it did.
    fn drop_one_expired(&mut self, now: Instant) -> bool {
        match self.by_expiry.first() {
            Some((expires, key)) if *expires <= now => {
                let key = key.clone();
                self.remove(&key);
                true
            }
            _ => false,
        }
    }
}

impl MemoryChallengeStore {
    /// Bound on ceremonies in flight, so unauthenticated *begin* calls cannot exhaust memory.
    pub const DEFAULT_MAX_ENTRIES: usize = 400_000;
    /// Bound on the bytes their states hold (a sign-in's is under 1 KiB; a registration's lists
    /// the account's passkeys to exclude, up to some 140 KiB).
    pub const DEFAULT_MAX_BYTES: usize = 128 << 20;
    /// Expired states dropped on every *put*: more than one, so the store sheds them faster than
    /// *put* adds.
    const DROPPED_PER_PUT: usize = 2;

    /// An empty store holding at most `max_entries` ceremonies ([`Self::DEFAULT_MAX_BYTES`] in
    /// all), and `per_owner` for any one owner.
    pub fn new(max_entries: usize, per_owner: usize) -> Self {
        Self { inner: Mutex::new(Entries::default()), max_entries, max_bytes: Self::DEFAULT_MAX_BYTES, per_owner }
    }

    /// The same store holding at most `max_bytes` of state.
    pub fn holding_at_most(self, max_bytes: usize) -> Self {
        Self { max_bytes, ..self }
    }

    fn put_at(&self, key: &str, owner: &str, state: String, expires: Instant, now: Instant) -> Result<(), StoreError> {
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for _ in 0..Self::DROPPED_PER_PUT {
            if !inner.drop_one_expired(now) {
                break;
            }
        }
        let mine = inner.owners.get(owner).map(Vec::as_slice).unwrap_or_default();
        let expired: Vec<String> =
            mine.iter().filter(|(expiry, _)| *expiry <= now).map(|(_, key)| key.clone()).collect();
        for key in expired {
            inner.remove(&key);
        }
        if let Some(mine) = inner.owners.get(owner).filter(|mine| mine.len() >= self.per_owner) {
            let oldest = mine.iter().map(|(expiry, _)| *expiry).min().unwrap_or(now);
            return Err(StoreError::OwnerFull { retry_after: oldest.saturating_duration_since(now) });
        }
        let full =
            |inner: &Entries| inner.states.len() >= self.max_entries || inner.bytes + state.len() > self.max_bytes;
        while full(&inner) {
            if !inner.drop_one_expired(now) {
                return Err(StoreError::Full);
            }
        }
        inner.remove(key);
        inner.bytes += state.len();
        inner.by_expiry.insert((expires, key.to_owned()));
        inner.owners.entry(owner.to_owned()).or_default().push((expires, key.to_owned()));
        inner.states.insert(key.to_owned(), Stored { state, expires, owner: owner.to_owned() });
        Ok(())
    }

    fn take_at(&self, key: &str, now: Instant) -> Option<String> {
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let stored = inner.remove(key)?;
        (stored.expires > now).then_some(stored.state)
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

    async fn stored_len(&self, key: &str) -> Result<Option<usize>, StoreError> {
        let inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(inner.states.get(key).map(|stored| stored.state.len()))
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

    async fn stored_len(&self, key: &str) -> Result<Option<usize>, StoreError> {
        let full_key = format!("{}{key}", self.states);
        let len: usize = self.pool.strlen(&full_key).await.map_err(unreachable)?;
        Ok((len > 0).then_some(len))
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

    #[test]
    fn the_store_counts_bytes_as_well_as_ceremonies() {
        let store = MemoryChallengeStore::new(100, 10).holding_at_most(10);
        let now = Instant::now();
        store.put_at("a", "ip:a", "12345".into(), now + TTL, now).unwrap();
        store.put_at("b", "ip:b", "12345".into(), now + TTL, now).unwrap();
        assert!(matches!(store.put_at("c", "ip:c", "1".into(), now + TTL, now), Err(StoreError::Full)));
        // A taken state gives its bytes back.
        store.take_at("a", now);
        store.put_at("c", "ip:c", "1234".into(), now + TTL, now).unwrap();
    }

    #[test]
    fn expired_states_are_shed_as_new_ones_arrive() {
        let store = MemoryChallengeStore::new(1_000, 1_000);
        let now = Instant::now();
        for i in 0..500 {
            store.put_at(&format!("old{i}"), "ip:a", "x".into(), now + Duration::from_secs(1), now).unwrap();
        }
        let later = now + Duration::from_secs(2);
        for i in 0..250 {
            store.put_at(&format!("new{i}"), "ip:b", "x".into(), later + TTL, later).unwrap();
        }
        let inner = store.inner.lock().unwrap();
        assert_eq!(inner.states.len(), 250, "each put dropped two expired states");
        assert_eq!(inner.bytes, 250);
        assert_eq!(inner.by_expiry.len(), 250);
        assert!(!inner.owners.contains_key("ip:a"));
    }
}
