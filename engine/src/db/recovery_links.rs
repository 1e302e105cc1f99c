//! Queries on `recovery_links`.

use super::Exec;
use crate::base::types::{CredentialId, UserId};

/// A link to record.
#[derive(Debug)]
pub struct NewLink<'a> {
    /// SHA-256 of its token.
    pub token_hash: &'a str,
    /// Whose account it recovers.
    pub user_id: &'a UserId,
    /// `operator`, or `email` (the user asked).
    pub made_by: &'a str,
    /// Unix seconds.
    pub expires_at: i64,
    /// For a link the user asked for: SHA-256 of the secret in the asking browser's cookie.
    pub browser_hash: Option<&'a str>,
    /// For a link the user asked for: the client address that asked.
    pub requested_from: Option<&'a str>,
}

/// Records a link.
pub async fn insert(db: impl Exec<'_>, link: &NewLink<'_>, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO recovery_links (token_hash, user_id, made_by, created_at, expires_at, browser_hash, requested_from)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(link.token_hash)
    .bind(link.user_id)
    .bind(link.made_by)
    .bind(now)
    .bind(link.expires_at)
    .bind(link.browser_hash)
    .bind(link.requested_from)
    .execute(db)
    .await
    .map(|_| ())
}

/// How many links the user asked for since `since`: (for this account, from this address).
pub async fn asked_since(
    db: impl Exec<'_>,
    user_id: &UserId,
    address: &str,
    since: i64,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN user_id = $1 THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN requested_from = $2 THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM recovery_links WHERE made_by = 'email' AND created_at >= $3 AND (user_id = $1 OR requested_from = $2)",
    )
    .bind(user_id)
    .bind(address)
    .bind(since)
    .fetch_one(db)
    .await
}

/// What using a link stores besides the time: the hash of its "this wasn't me" token, until when.
pub struct Undo<'a> {
    pub hash: &'a str,
    pub until: i64,
}

/// Uses the unused, unexpired link whose token hashes to `token_hash` — one bound to a browser
/// only when `browser_hash` is that browser's, of an account not disabled; of two uses at once,
/// one wins — and stores its
/// [`Undo`]. Returns whose, who made it, and the account's email address (read in the same
/// statement).
pub async fn use_link(
    db: impl Exec<'_>,
    token_hash: &str,
    browser_hash: Option<&str>,
    undo: &Undo<'_>,
    now: i64,
) -> Result<Option<(UserId, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE recovery_links SET used_at = $2, undo_hash = $4, undo_until = $5
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
           AND (browser_hash IS NULL OR browser_hash = $3)
           AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = recovery_links.user_id AND users.disabled_at IS NOT NULL)
         RETURNING user_id, made_by, (SELECT email FROM users WHERE users.id = recovery_links.user_id) AS email",
    )
    .bind(token_hash)
    .bind(now)
    .bind(browser_hash)
    .bind(undo.hash)
    .bind(undo.until)
    .fetch_optional(db)
    .await
}

/// Notes the passkey the used link `token_hash` added.
pub async fn note_passkey(db: impl Exec<'_>, token_hash: &str, passkey_id: &CredentialId) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE recovery_links SET passkey_id = $2 WHERE token_hash = $1")
        .bind(token_hash)
        .bind(passkey_id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Takes the "this wasn't me" of the link whose undo token hashes to `undo_hash`, once, while it
/// works: whose account, and the passkey the link added (if it got that far).
pub async fn take_undo(
    db: impl Exec<'_>,
    undo_hash: &str,
    now: i64,
) -> Result<Option<(UserId, Option<CredentialId>)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE recovery_links SET undo_hash = NULL WHERE undo_hash = $1 AND undo_until > $2
         RETURNING user_id, passkey_id",
    )
    .bind(undo_hash)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Takes the "this wasn't me" of every link that added `passkey_id` (the account page's button).
pub async fn take_undo_of_passkey(db: impl Exec<'_>, passkey_id: &CredentialId) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE recovery_links SET undo_hash = NULL WHERE passkey_id = $1")
        .bind(passkey_id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Whose account the unused, unexpired link whose token hashes to `token_hash` is for (if this
/// browser may use it), without using it: (user, email).
pub async fn usable(
    db: impl Exec<'_>,
    token_hash: &str,
    browser_hash: Option<&str>,
    now: i64,
) -> Result<Option<(UserId, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.user_id, u.email FROM recovery_links l JOIN users u ON u.id = l.user_id
         WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > $2
           AND (l.browser_hash IS NULL OR l.browser_hash = $3) AND u.disabled_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .bind(browser_hash)
    .fetch_optional(db)
    .await
}

/// Deletes links that expired before `before`; returns how many.
pub async fn prune(db: impl Exec<'_>, before: i64) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM recovery_links WHERE expires_at < $1 AND (undo_until IS NULL OR undo_until < $1)")
            .bind(before)
            .execute(db)
            .await?;
    Ok(done.rows_affected())
}

/// Deletes every unused link `made_by` made (an administrator who is one no longer).
pub async fn delete_unused_made_by(db: impl Exec<'_>, made_by: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM recovery_links WHERE made_by = $1 AND used_at IS NULL")
        .bind(made_by)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
