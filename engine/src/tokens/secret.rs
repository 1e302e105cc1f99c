//! How secrets are kept. Passwords and apps' client secrets: Argon2id at the OWASP-recommended
//! cost (19 MiB, 2 passes), on the blocking pool so that hashing never stalls the async workers, one
//! per core at a time and at most [`MAX_QUEUED_HASHES`] waiting (more is a 503: unauthenticated
//! requests cannot queue unbounded work). An unknown email is checked against a dummy hash so both
//! failures take the same time. Bearer secrets (refresh tokens, authorization codes): their SHA-256
//! ([`stored_hash`]); they are 32 random bytes, so no salt or slow hash is needed.

use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::base::error::Error;
use crate::base::types::Password;

/// Password hashes that may wait for a core; one more is refused with a 503.
pub const MAX_QUEUED_HASHES: usize = 32;

fn argon2() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: Argon2id, m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password (on the blocking pool).
pub async fn hash_password(queue: &HashingQueue, password: Password) -> Result<String, Error> {
    queue
        .run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2().hash_password(password.expose(), &salt).map(|h| h.to_string()).map_err(Error::internal)
        })
        .await
}

/// Hashes a secret at once, on the calling thread: for the operator's `latchkey hash-secret` (client
/// secrets of `LATCHKEY_OIDC_CLIENTS`), never for a request.
pub fn hash_secret(secret: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    argon2().hash_password(secret.as_bytes(), &salt).map(|h| h.to_string()).map_err(Error::internal)
}

/// Checks a password against a PHC hash (on the blocking pool); `None` runs against a dummy hash.
pub(crate) async fn verify_password(
    queue: &HashingQueue,
    password: Password,
    hash: Option<String>,
) -> Result<bool, Error> {
    queue
        .run(move || {
            let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
            matches(password.expose(), &hash)
        })
        .await
}

/// Checks an app's client secret against its Argon2id PHC hash (on the blocking pool, in the same
/// queue as passwords: a token request costs what a password sign-in costs).
pub(crate) async fn verify_secret(queue: &HashingQueue, secret: String, hash: String) -> Result<bool, Error> {
    queue.run(move || matches(secret.as_bytes(), &hash)).await
}

/// Whether `secret` is the one `hash` (a PHC string, with its own parameters) was made from.
fn matches(secret: &[u8], hash: &str) -> Result<bool, Error> {
    let parsed = PasswordHash::new(hash).map_err(Error::internal)?;
    Ok(argon2().verify_password(secret, &parsed).is_ok())
}

/// The engine's Argon2 computations: at most one per core at a time (each takes 19 MiB and a core
/// for tens of milliseconds, so unbounded concurrent logins could exhaust memory), and at most
/// [`MAX_QUEUED_HASHES`] waiting; one more is refused (503, retry shortly). One per engine, so
/// two engines in one process (tests, an app embedding two) never take each other's places.
#[derive(Debug)]
pub struct HashingQueue {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    running: Arc<AtomicUsize>,
}

impl Default for HashingQueue {
    fn default() -> Self {
        Self::with_slots(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }
}

impl HashingQueue {
    /// A queue of `slots` computations at a time (the default is one per core).
    pub fn with_slots(slots: usize) -> Self {
        Self { slots: Arc::new(Semaphore::new(slots.max(1))), waiting: AtomicUsize::new(0), running: Arc::default() }
    }

    /// How many hashes are computing now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// How many wait for a slot now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Runs `work` on the blocking pool once a slot is free. The slot goes with the work, not with
    /// this future: a caller who hangs up (its future dropped) leaves the hash to finish in its slot,
    /// so no more hashes ever run at once than there are slots, however many callers give up.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let slot = match self.slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                // Counted as waiting until a slot is taken or the caller gives up, whichever is first.
                let (_waiting, before) = Counted::new(&self.waiting);
                if before >= MAX_QUEUED_HASHES {
                    tracing::warn!("password hashing queue full; refusing");
                    return Err(Error::Unavailable);
                }
                self.slots.clone().acquire_owned().await.map_err(Error::internal)?
            }
        };
        let running = self.running.clone();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let (_running, _) = Counted::new(running);
            work()
        })
        .await
        .map_err(Error::internal)?
    }
}

/// One more in a count for as long as it lives; one less when dropped, also when the future that
/// holds it is cancelled or the work that holds it panics.
struct Counted<C: Deref<Target = AtomicUsize>>(C);

impl<C: Deref<Target = AtomicUsize>> Counted<C> {
    /// Counts one more; returns the guard and the count before.
    fn new(count: C) -> (Self, usize) {
        let before = count.fetch_add(1, Ordering::SeqCst);
        (Self(count), before)
    }
}

impl<C: Deref<Target = AtomicUsize>> Drop for Counted<C> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(b"timing-equaliser", &salt).map(|h| h.to_string()).unwrap_or_default()
    })
}

/// How a bearer secret is stored (refresh tokens here, authorization codes in `codes.rs`): its
/// SHA-256, hex. The secrets are 32 random bytes, so no salt or slow hash is needed.
pub(crate) fn stored_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let queue = HashingQueue::default();
        let hash = hash_password(&queue, Password::parse("correct horse").unwrap()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password(&queue, Password::parse("correct horse").unwrap(), Some(hash.clone())).await.unwrap());
        assert!(!verify_password(&queue, Password::parse("wrong horse!").unwrap(), Some(hash)).await.unwrap());
    }

    /// Attack H1 (docs/security.md): a client that sends a wrong secret and hangs up at once must
    /// not leave its hash running outside the queue, or a flood of such requests runs unbounded
    /// Argon2 work at once (19 MiB and a core each).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn callers_who_hang_up_never_run_more_hashes_than_there_are_slots() {
        let queue = HashingQueue::with_slots(1);
        let hash = hash_secret("the app's real secret").unwrap();
        let mut peak = 0;
        for _ in 0..12 {
            let guess = verify_secret(&queue, "a wrong secret".into(), hash.clone());
            let _ = tokio::time::timeout(std::time::Duration::from_millis(5), guess).await;
            peak = peak.max(queue.running());
        }
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while queue.running() > 0 && std::time::Instant::now() < until {
            peak = peak.max(queue.running());
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert_eq!(peak, 1, "hashes running at once, for a queue of one slot");
        assert_eq!(queue.waiting(), 0, "callers who hung up while waiting are no longer counted as waiting");
        let right = verify_secret(&queue, "the app's real secret".into(), hash).await;
        assert!(right.unwrap(), "the queue still serves a caller who waits");
    }

    #[test]
    fn refresh_tokens_are_stored_as_hashes() {
        let hash = stored_hash("token");
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, "token");
    }
}
