//! Email + password accounts: sign-up, password sign-in (within the budget of `lockout.rs`), and
//! profile.
//!
//! Passwords are hashed with Argon2id at the OWASP-recommended cost (19 MiB, 2 passes), on the
//! blocking pool so that hashing never stalls the async workers, one per core at a time and at most
//! [`MAX_QUEUED_HASHES`] waiting (more is a 503: unauthenticated requests cannot queue unbounded
//! work). An unknown email is checked against a dummy hash so both failures take the same time.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use proto::{TokenPair, UserInfo};

use crate::clock::rfc3339;
use crate::db::users::{self, UserRow};
use crate::error::{Error, OrConflict};
use crate::hooks::{SignInMethod, run_hook};
use crate::lockout;
use crate::state::Engine;
use crate::tokens;
use crate::types::{DisplayName, Email, Password, UserId};

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

/// Checks a password against a PHC hash (on the blocking pool); `None` runs against a dummy hash.
async fn verify_password(queue: &HashingQueue, password: Password, hash: Option<String>) -> Result<bool, Error> {
    queue
        .run(move || {
            let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
            let parsed = PasswordHash::new(&hash).map_err(Error::internal)?;
            Ok(argon2().verify_password(password.expose(), &parsed).is_ok())
        })
        .await
}

/// The engine's Argon2 computations: at most one per core at a time (each takes 19 MiB and a core
/// for tens of milliseconds, so unbounded concurrent logins could exhaust memory), and at most
/// [`MAX_QUEUED_HASHES`] waiting; one more is refused (503, retry shortly). One per [`Engine`], so
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

/// The public view of a user row.
pub fn user_info(user: &UserRow) -> UserInfo {
    UserInfo {
        id: user.id.to_string(),
        email: user.email.clone(),
        name: user.name.clone(),
        created_at: rfc3339(user.created_at),
    }
}

/// A user row for a new account, with a fresh id and WebAuthn user handle.
pub fn new_user_row(email: Email, name: Option<DisplayName>, password_hash: Option<String>, now: i64) -> UserRow {
    UserRow {
        id: UserId::generate(),
        email: email.as_str().to_owned(),
        name: name.map(DisplayName::into_string),
        password_hash,
        webauthn_handle: uuid::Uuid::new_v4().to_string(),
        created_at: now,
    }
}

/// Creates an account. With `password: None` the account is passkey-only (the portal's sign-up
/// registers a passkey right after).
pub async fn sign_up(
    engine: &Engine,
    email: &str,
    password: Option<&str>,
    name: Option<&str>,
    now: i64,
) -> Result<UserRow, Error> {
    let email = Email::parse(email)?;
    let password = password.map(Password::parse).transpose()?;
    let name = name.filter(|n| !n.trim().is_empty()).map(DisplayName::parse).transpose()?;
    // Checked before hashing, so a taken email costs no Argon2 work (the insert still decides a race).
    if users::by_email(&engine.db, email.as_str()).await?.is_some() {
        return Err(Error::EmailTaken);
    }
    let password_hash = match password {
        Some(password) => Some(hash_password(&engine.hashing, password).await?),
        None => None,
    };
    let user = new_user_row(email, name, password_hash, now);
    users::insert(&engine.db, &user).await.or_conflict(Error::EmailTaken)?;
    run_hook("on_signed_up", engine.hooks.on_signed_up(&user_info(&user))).await;
    Ok(user)
}

/// `POST /auth/register`: sign-up with a password, then a first token pair.
pub async fn register(
    engine: &Engine,
    email: &str,
    password: &str,
    name: Option<&str>,
    now: i64,
) -> Result<TokenPair, Error> {
    let user = sign_up(engine, email, Some(password), name, now).await?;
    tokens::start_sign_in(&engine.db, &engine.tokens, &user.id, now).await
}

/// Checks email and password for a client at `address`, within the lockout budget (taken before
/// the check); the same error for an unknown email and a wrong password.
pub async fn verify_login(
    engine: &Engine,
    email: &str,
    password: &str,
    address: &str,
    now: i64,
) -> Result<UserRow, Error> {
    // Malformed input gets the same answer as a wrong password: nothing to learn from the difference.
    let (Ok(email), Ok(password)) = (Email::parse(email), Password::parse(password)) else {
        return Err(Error::InvalidCredentials);
    };
    lockout::take_attempt(engine, email.as_str(), address, now).await?;
    let user = users::by_email(&engine.db, email.as_str()).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let has_password = hash.is_some();
    let matches = verify_password(&engine.hashing, password, hash).await? && has_password;
    match user {
        Some(user) if matches => {
            lockout::forget_attempts(engine, email.as_str(), address).await?;
            run_hook("on_signed_in", engine.hooks.on_signed_in(&user_info(&user), SignInMethod::Password)).await;
            Ok(user)
        }
        _ => Err(Error::InvalidCredentials),
    }
}

/// `POST /auth/login` from a client at `address`.
pub async fn login(engine: &Engine, email: &str, password: &str, address: &str, now: i64) -> Result<TokenPair, Error> {
    let user = verify_login(engine, email, password, address, now).await?;
    tokens::start_sign_in(&engine.db, &engine.tokens, &user.id, now).await
}

/// The account behind a token or a session; a deleted account is `gone` (the door's "not signed in").
pub async fn find_user(engine: &Engine, user_id: &UserId, gone: Error) -> Result<UserRow, Error> {
    users::by_id(&engine.db, user_id).await?.ok_or(gone)
}

/// `GET /auth/me`.
pub async fn me(engine: &Engine, user_id: &UserId) -> Result<UserInfo, Error> {
    Ok(user_info(&find_user(engine, user_id, Error::InvalidToken).await?))
}

/// Changes the display name (empty clears it).
pub async fn rename_user(engine: &Engine, user_id: &UserId, name: &str) -> Result<UserInfo, Error> {
    let name = Some(name).filter(|n| !n.trim().is_empty()).map(DisplayName::parse).transpose()?;
    let user = users::set_name(&engine.db, user_id, name.as_ref().map(DisplayName::as_str))
        .await?
        .ok_or(Error::SignInRequired)?;
    Ok(user_info(&user))
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
}
