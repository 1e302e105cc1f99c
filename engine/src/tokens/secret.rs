//! How secrets are kept. Passwords and apps' client secrets: Argon2id at the OWASP-recommended
//! cost (19 MiB, 2 passes), on the blocking pool so that hashing never stalls the async workers, one
//! per core at a time and at most [`MAX_QUEUED_HASHES`] waiting (more is a 503: unauthenticated
//! requests cannot queue unbounded work). An unknown email is checked against a dummy hash so both
//! failures take the same time. Bearer secrets (refresh tokens, authorization codes): their SHA-256
//! ([`stored_hash`]); they are 32 random bytes, so no salt or slow hash is needed.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

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
    slots: Semaphore,
    waiting: AtomicUsize,
}

impl Default for HashingQueue {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self { slots: Semaphore::new(cores), waiting: AtomicUsize::new(0) }
    }
}

impl HashingQueue {
    /// A queue of `slots` computations at a time (the default is one per core).
    pub fn with_slots(slots: usize) -> Self {
        Self { slots: Semaphore::new(slots.max(1)), waiting: AtomicUsize::new(0) }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let slot = match self.slots.try_acquire() {
            Ok(slot) => slot,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_QUEUED_HASHES {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    tracing::warn!("password hashing queue full; refusing");
                    return Err(Error::Unavailable);
                }
                let slot = self.slots.acquire().await;
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                slot.map_err(Error::internal)?
            }
        };
        let result = tokio::task::spawn_blocking(work).await.map_err(Error::internal)?;
        drop(slot);
        result
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

    #[test]
    fn refresh_tokens_are_stored_as_hashes() {
        let hash = stored_hash("token");
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, "token");
    }
}
