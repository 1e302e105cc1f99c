//! Queries on `sign_ins` (one per passkey or password sign-in) and `refresh_tokens` (hashes only,
//! single use, each belonging to one sign-in).

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row as _};

use super::Db;
use crate::types::{SignInId, UserId};

/// Records a sign-in.
pub async fn insert(db: &Db, id: &SignInId, user_id: &UserId, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO sign_ins (id, user_id, revoked_at, created_at) VALUES ($1, $2, NULL, $3)")
        .bind(id)
        .bind(user_id)
        .bind(now)
        .execute(db.pool())
        .await
        .map(|_| ())
}

/// Stores the hash of a new refresh token of a sign-in.
pub async fn insert_refresh_token(
    db: &Db,
    token_hash: &str,
    sign_in_id: &SignInId,
    user_id: &UserId,
    expires_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, sign_in_id, user_id, expires_at, used_at, created_at)
         VALUES ($1, $2, $3, $4, NULL, $5)",
    )
    .bind(token_hash)
    .bind(sign_in_id)
    .bind(user_id)
    .bind(expires_at)
    .bind(now)
    .execute(db.pool())
    .await
    .map(|_| ())
}

/// A refresh token consumed by [`use_refresh_token`].
#[derive(Debug)]
pub struct UsedToken {
    /// Its sign-in.
    pub sign_in_id: SignInId,
    /// Its owner.
    pub user_id: UserId,
    /// Unix seconds.
    pub expires_at: i64,
    /// Whether its sign-in is still active (not ended by sign-out or by a reused token).
    pub sign_in_active: bool,
    /// When its sign-in started (Unix seconds): the tokens' `auth_time`.
    pub sign_in_started_at: i64,
}

impl FromRow<'_, AnyRow> for UsedToken {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            sign_in_id: row.try_get("sign_in_id")?,
            user_id: row.try_get("user_id")?,
            expires_at: row.try_get("expires_at")?,
            sign_in_active: row.try_get::<i64, _>("sign_in_active")? != 0,
            sign_in_started_at: row.try_get("sign_in_started_at")?,
        })
    }
}

/// Marks an unused token as used, in one statement so that of concurrent callers exactly one wins,
/// and reports in the same round trip whether its sign-in is still active.
pub async fn use_refresh_token(db: &Db, token_hash: &str, now: i64) -> Result<Option<UsedToken>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL
         RETURNING sign_in_id, user_id, expires_at,
             CAST(CASE WHEN EXISTS (SELECT 1 FROM sign_ins s
                                    WHERE s.id = refresh_tokens.sign_in_id AND s.revoked_at IS NULL)
                  THEN 1 ELSE 0 END AS BIGINT) AS sign_in_active,
             (SELECT s.created_at FROM sign_ins s WHERE s.id = refresh_tokens.sign_in_id) AS sign_in_started_at",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db.pool())
    .await
}

/// The sign-in of a token, used or not; `None` for a token that was never issued.
pub async fn of_refresh_token(db: &Db, token_hash: &str) -> Result<Option<SignInId>, sqlx::Error> {
    sqlx::query_scalar("SELECT sign_in_id FROM refresh_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(db.pool())
        .await
}

/// Ends a sign-in: none of its refresh tokens works any more (sign-out, or a reused token).
pub async fn revoke(db: &Db, id: &SignInId, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sign_ins SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .bind(now)
        .execute(db.pool())
        .await
        .map(|_| ())
}

/// Deletes refresh tokens that expired before `now` (a used or unused one past its expiry can
/// never be exchanged, nor tell of a reuse that matters).
pub async fn prune_expired_refresh_tokens(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1")
        .bind(now)
        .execute(db.pool())
        .await
        .map(|done| done.rows_affected())
}

/// Deletes sign-ins that were ended before `before` (their refresh tokens go with them).
pub async fn prune_ended(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sign_ins WHERE revoked_at < $1")
        .bind(before)
        .execute(db.pool())
        .await
        .map(|done| done.rows_affected())
}
