//! Recovery for someone who lost their passkeys: a one-time link that lets them add a new passkey,
//! and nothing else. The operator makes it (`server admin recovery-link EMAIL`, or
//! `POST /admin/recovery-links` with `LATCHKEY_ADMIN_TOKEN`) after checking who is asking, and
//! hands it over. There are no recovery codes: a code kept for years is a password that bypasses
//! the passkeys, and is lost with them.
//!
//! Opening the link (`/recover?token=…`) and pressing its button uses it — once, before it expires
//! (an hour by default) — and starts a restricted browser session that can only register a passkey
//! (`portal::start_recovery`); that passkey's registration turns it into a normal sign-in. The use
//! is in the account's activity, and the owner is mailed about it in the same transaction.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use crate::activity::{self, Event};
use crate::db::outbox;
use crate::db::recovery_links;
use crate::db::users;
use crate::error::Error;
use crate::mail::{Letter, compose};
use crate::state::Engine;
use crate::tokens::stored_hash;
use crate::types::{Email, UserId};

/// How long an operator's link works unless the operator says otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);
/// The longest an operator's link may work.
pub const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// A link the operator hands to the account's owner.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecoveryLink {
    /// The address to open.
    pub url: String,
    /// Until when it works (RFC 3339).
    pub expires_at: String,
}

/// Makes a one-time recovery link for the account of `email`, working for `ttl` (at most a week).
pub async fn operator_link(engine: &Engine, email: &str, ttl: Duration, now: i64) -> Result<RecoveryLink, Error> {
    if ttl.is_zero() || ttl > MAX_TTL {
        return Err(Error::InvalidRequest("A recovery link works for 1 second to 7 days.".into()));
    }
    let email = Email::parse(email)?;
    let user = users::by_email(&engine.db, email.as_str()).await?.ok_or(Error::AccountNotFound)?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let expires_at = now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
    recovery_links::insert(&engine.db, &stored_hash(&token), &user.id, "operator", expires_at, now).await?;
    activity::record(engine, &user.id, Event::RecoveryLinkMade, None, now).await?;
    tracing::info!(user_id = %user.id, expires_at, "recovery link made by the operator");
    Ok(RecoveryLink {
        url: format!("{}/recover?token={token}", engine.config.issuer()),
        expires_at: crate::clock::rfc3339(expires_at),
    })
}

/// Uses a recovery link: once, before it expires. Mails the account's owner that it was used, in
/// the same transaction. Returns whose account it recovers.
pub async fn redeem(engine: &Engine, token: &str, now: i64) -> Result<UserId, Error> {
    let mut tx = engine.db.pool().begin().await?;
    let user_id =
        recovery_links::use_link(&mut *tx, &stored_hash(token.trim()), now).await?.ok_or(Error::InvalidRecoveryLink)?;
    let user = sqlx::query_scalar::<_, String>("SELECT email FROM users WHERE id = $1")
        .bind(&user_id)
        .fetch_one(&mut *tx)
        .await?;
    if engine.mail.enabled() {
        let mail = compose(&engine.config, Letter::RecoveryUsed { email: &user })?;
        outbox::insert(&mut *tx, &mail, now).await?;
    }
    tx.commit().await?;
    engine.mail.wake();
    tracing::info!(%user_id, "recovery link used");
    Ok(user_id)
}
