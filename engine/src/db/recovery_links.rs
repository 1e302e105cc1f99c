//! Queries on `recovery_links`.

use sqlx::Any;

use super::Db;
use crate::types::UserId;

/// Records a link.
pub async fn insert(
    db: &Db,
    token_hash: &str,
    user_id: &UserId,
    made_by: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO recovery_links (token_hash, user_id, made_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(made_by)
    .bind(now)
    .bind(expires_at)
    .execute(db.pool())
    .await
    .map(|_| ())
}

/// Uses the unused, unexpired link whose token hashes to `token_hash`, on `executor` (the
/// transaction that also writes the mail telling the user); of two uses at once, one wins.
pub async fn use_link<'c>(
    executor: impl sqlx::Executor<'c, Database = Any>,
    token_hash: &str,
    now: i64,
) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE recovery_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING user_id",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(executor)
    .await
}

/// Deletes links that expired before `before`; returns how many.
pub async fn prune(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM recovery_links WHERE expires_at < $1").bind(before).execute(db.pool()).await?;
    Ok(done.rows_affected())
}
