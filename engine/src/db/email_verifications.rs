//! Queries on `email_verifications` (the links and codes that prove an address), and the users'
//! `email_verified_at`.

use super::Exec;
use crate::base::types::UserId;

/// The purpose of a verification of the account's own address.
pub const VERIFY: &str = "verify";
/// The purpose of a verification of a new address the account moves to once it is confirmed.
pub const CHANGE: &str = "change";

/// A verification to record.
#[derive(Debug)]
pub struct NewVerification<'a> {
    /// SHA-256 of the link's token.
    pub token_hash: &'a str,
    /// Whose address it proves.
    pub user_id: &'a UserId,
    /// The address.
    pub email: &'a str,
    /// SHA-256 of the code (salted with the token's hash).
    pub code_hash: &'a str,
    /// `verify` (the account's own address) or `change` (a new address to move to).
    pub purpose: &'a str,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Records a verification.
pub async fn insert(db: impl Exec<'_>, verification: &NewVerification<'_>, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO email_verifications (token_hash, user_id, email, code_hash, attempts, created_at, expires_at, purpose)
         VALUES ($1, $2, $3, $4, 0, $5, $6, $7)",
    )
    .bind(verification.token_hash)
    .bind(verification.user_id)
    .bind(verification.email)
    .bind(verification.code_hash)
    .bind(now)
    .bind(verification.expires_at)
    .bind(verification.purpose)
    .execute(db)
    .await
    .map(|_| ())
}

/// Uses the unused, unexpired verification whose token hashes to `token_hash`, in one statement
/// (of two uses at once, one wins); returns whose address it proves, the address and the purpose.
pub async fn use_token(
    db: impl Exec<'_>,
    token_hash: &str,
    now: i64,
) -> Result<Option<(UserId, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE email_verifications SET used_at = $2
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING user_id, email, purpose",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// How many codes may be tried: per verification, and per address across every verification of
/// it (whichever account asked) made in the last day.
pub struct CodeTries {
    pub per_verification: i64,
    pub per_address_a_day: i64,
}

/// A user's newest unused, unexpired verification whose code may still be tried (fewer than
/// `tries.per_verification` codes tried, and fewer than `tries.per_address_a_day` for its address),
/// counting this try: (token hash, code hash, address, purpose).
pub async fn try_code(
    db: impl Exec<'_>,
    user_id: &UserId,
    tries: &CodeTries,
    now: i64,
) -> Result<Option<(String, String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE email_verifications SET attempts = attempts + 1
         WHERE token_hash = (SELECT token_hash FROM email_verifications
                             WHERE user_id = $1 AND used_at IS NULL AND expires_at > $3
                             ORDER BY created_at DESC, token_hash LIMIT 1)
           AND attempts < $2 AND used_at IS NULL
           AND (SELECT COALESCE(SUM(same.attempts), 0) FROM email_verifications AS same
                WHERE same.email = email_verifications.email AND same.created_at > $3 - 86400) < $4
         RETURNING token_hash, code_hash, email, purpose",
    )
    .bind(user_id)
    .bind(tries.per_verification)
    .bind(now)
    .bind(tries.per_address_a_day)
    .fetch_optional(db)
    .await
}

/// Uses the verification `token_hash` (after its code matched).
pub async fn mark_used(db: impl Exec<'_>, token_hash: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE email_verifications SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL")
        .bind(token_hash)
        .bind(now)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// How many verifications for `purpose` were sent to `user_id` since `since`, and when the newest was.
pub async fn sent_since(
    db: impl Exec<'_>,
    user_id: &UserId,
    purpose: &str,
    since: i64,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT), MAX(created_at) FROM email_verifications
         WHERE user_id = $1 AND purpose = $2 AND created_at >= $3",
    )
    .bind(user_id)
    .bind(purpose)
    .bind(since)
    .fetch_one(db)
    .await
}

/// Marks `user_id`'s address verified, if it is still `email`; `false` when it changed meanwhile.
pub async fn mark_verified(db: impl Exec<'_>, user_id: &UserId, email: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET email_verified_at = $3 WHERE id = $1 AND email = $2")
        .bind(user_id)
        .bind(email)
        .bind(now)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Moves `user_id` to the confirmed address `email`; a unique violation when another account has
/// the address by now.
pub async fn change_to(db: impl Exec<'_>, user_id: &UserId, email: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET email = $2, email_verified_at = $3 WHERE id = $1")
        .bind(user_id)
        .bind(email)
        .bind(now)
        .execute(db)
        .await
        .map(|_| ())
}

/// `user_id`'s newest unused, unexpired verification for `purpose`: (address, expires at).
pub async fn pending(
    db: impl Exec<'_>,
    user_id: &UserId,
    purpose: &str,
    now: i64,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT email, expires_at FROM email_verifications
         WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
         ORDER BY created_at DESC, token_hash LIMIT 1",
    )
    .bind(user_id)
    .bind(purpose)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Ends `user_id`'s unused verifications for `purpose` (they expire now: neither link nor code
/// works, and they still count against the day's mails); returns how many.
pub async fn cancel(db: impl Exec<'_>, user_id: &UserId, purpose: &str, now: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE email_verifications SET expires_at = $3
         WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(user_id)
    .bind(purpose)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes verifications that expired before `before`; returns how many.
pub async fn prune(db: impl Exec<'_>, before: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM email_verifications WHERE expires_at < $1").bind(before).execute(db).await?;
    Ok(done.rows_affected())
}
