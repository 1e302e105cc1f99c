//! Queries on `activity`: each user's record of security events.

use sqlx::FromRow;

use super::Exec;
use crate::base::types::UserId;

/// An event to record.
#[derive(Debug)]
pub struct NewActivity<'a> {
    /// Its id (a UUIDv7: ids sort in the order events were recorded).
    pub id: &'a str,
    /// Whose it is.
    pub user_id: &'a UserId,
    /// When (Unix seconds).
    pub at: i64,
    /// What happened.
    pub kind: &'a str,
    /// How, or to what.
    pub detail: Option<&'a str>,
    /// The client address of the request that made it.
    pub address: Option<&'a str>,
    /// That request's `User-Agent`.
    pub user_agent: Option<&'a str>,
}

/// Records an event, in the transaction of the change it tells of.
pub async fn insert(db: impl Exec<'_>, event: &NewActivity<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO activity (id, user_id, at, kind, detail, address, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(event.id)
    .bind(event.user_id)
    .bind(event.at)
    .bind(event.kind)
    .bind(event.detail)
    .bind(event.address)
    .bind(event.user_agent)
    .execute(db)
    .await
    .map(|_| ())
}

/// A recorded event.
#[derive(Debug, Clone, FromRow)]
pub struct ActivityRow {
    /// When (Unix seconds).
    pub at: i64,
    /// What happened.
    pub kind: String,
    /// How, or to what.
    pub detail: Option<String>,
    /// The client address.
    pub address: Option<String>,
    /// The `User-Agent`.
    pub user_agent: Option<String>,
    /// How many times it happened: more than one for failed sign-ins counted into one row.
    pub repeats: i64,
}

/// `user_id`'s newest `limit` events, newest first.
pub async fn of_user(
    db: impl Exec<'_>,
    user_id: &UserId,
    limit: i64,
    offset: i64,
) -> Result<Vec<ActivityRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT at, kind, detail, address, user_agent, repeats FROM activity WHERE user_id = $1
         ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(user_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// Counts `event` into the newest row of the same user, kind and detail recorded since `since`, which
/// then carries the newest time, address and `User-Agent`; `false` when there is no such row.
pub async fn repeat(db: impl Exec<'_>, event: &NewActivity<'_>, since: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE activity SET repeats = repeats + 1, at = $4, address = $5, user_agent = $6
         WHERE id = (SELECT id FROM activity WHERE user_id = $1 AND kind = $2 AND detail = $3 AND at >= $7
                     ORDER BY at DESC, id DESC LIMIT 1)",
    )
    .bind(event.user_id)
    .bind(event.kind)
    .bind(event.detail)
    .bind(event.at)
    .bind(event.address)
    .bind(event.user_agent)
    .bind(since)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes every event older than `before` (Unix seconds); returns how many.
pub async fn prune(db: impl Exec<'_>, before: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM activity WHERE at < $1").bind(before).execute(db).await?.rows_affected())
}

/// Sign-ins recorded since `since`, per day (Unix day number, UTC) and method (`passkey` or
/// `password`): (day, method, count).
pub async fn sign_ins_per_day(db: impl Exec<'_>, since: i64) -> Result<Vec<(i64, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT at / 86400 AS day,
                CASE WHEN detail LIKE 'passkey%' THEN 'passkey' ELSE 'password' END AS method,
                COUNT(*) AS signed_in
         FROM activity WHERE kind = 'signed_in' AND at >= $1
         GROUP BY at / 86400, CASE WHEN detail LIKE 'passkey%' THEN 'passkey' ELSE 'password' END
         ORDER BY 1",
    )
    .bind(since)
    .fetch_all(db)
    .await
}
