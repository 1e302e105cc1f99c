//! Queries on `refresh_tokens`: hashes only, single use, each belonging to one sign-in.

use std::sync::LazyLock;

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row as _};

use super::Exec;
use super::sign_ins::{SIGN_IN_COLUMNS, SignInRow};
use crate::base::types::{SignInId, UserId};

/// Stores the hash of a new refresh token of a sign-in.
pub async fn insert(
    db: impl Exec<'_>,
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
    .execute(db)
    .await
    .map(|_| ())
}

/// [`take`]'s statement, written once (it runs on every refresh). SQLite's `RETURNING` cannot name
/// another table, so each of the sign-in's columns is a subquery by primary key.
static TAKE: LazyLock<String> = LazyLock::new(|| {
    let columns: Vec<String> = SIGN_IN_COLUMNS
        .iter()
        .map(|(expr, name)| format!("(SELECT {expr} FROM sign_ins s WHERE s.id = refresh_tokens.sign_in_id) AS {name}"))
        .collect();
    format!(
        "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL
         RETURNING user_id AS token_user_id, expires_at AS token_expires_at, {}",
        columns.join(", ")
    )
});

/// A refresh token consumed by [`take`], with its sign-in.
#[derive(Debug)]
pub struct UsedToken {
    /// Its owner.
    pub user_id: UserId,
    /// Unix seconds.
    pub expires_at: i64,
    /// Its sign-in (which may have ended).
    pub sign_in: SignInRow,
}

impl FromRow<'_, AnyRow> for UsedToken {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            user_id: row.try_get("token_user_id")?,
            expires_at: row.try_get("token_expires_at")?,
            sign_in: SignInRow::from_row(row)?,
        })
    }
}

/// Marks an unused token as used, in one statement so that of concurrent callers exactly one wins,
/// and reads its sign-in in the same round trip.
pub async fn take(db: impl Exec<'_>, token_hash: &str, now: i64) -> Result<Option<UsedToken>, sqlx::Error> {
    sqlx::query_as(&TAKE).bind(token_hash).bind(now).fetch_optional(db).await
}

/// The sign-in of a token, used or not; `None` for a token that was never issued.
pub async fn sign_in_of(db: impl Exec<'_>, token_hash: &str) -> Result<Option<SignInId>, sqlx::Error> {
    sqlx::query_scalar("SELECT sign_in_id FROM refresh_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(db)
        .await
}

/// Deletes refresh tokens that expired before `now` (a used or unused one past its expiry can
/// never be exchanged, nor tell of a reuse that matters).
pub async fn prune(db: impl Exec<'_>, now: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1")
        .bind(now)
        .execute(db)
        .await
        .map(|done| done.rows_affected())
}
