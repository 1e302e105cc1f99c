//! Queries on `consents`: the scopes a user allowed an app, one row per user and app.

use super::Exec;
use crate::base::types::UserId;

/// The scopes `user_id` allowed `client_id` (space-separated), if any.
pub async fn granted(db: impl Exec<'_>, user_id: &UserId, client_id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2")
        .bind(user_id)
        .bind(client_id)
        .fetch_optional(db)
        .await
}

/// Records that `user_id` allowed `client_id` `scope` (which the caller has merged with what was
/// allowed before).
pub async fn grant(
    db: impl Exec<'_>,
    user_id: &UserId,
    client_id: &str,
    scope: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
    )
    .bind(user_id)
    .bind(client_id)
    .bind(scope)
    .bind(now)
    .execute(db)
    .await
    .map(|_| ())
}

/// The apps `user_id` allowed, by `client_id`.
pub async fn apps_of(db: impl Exec<'_>, user_id: &UserId) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT client_id FROM consents WHERE user_id = $1 ORDER BY client_id")
        .bind(user_id)
        .fetch_all(db)
        .await
}

/// Withdraws what `user_id` allowed `client_id`; `false` when it had allowed nothing.
pub async fn withdraw(db: impl Exec<'_>, user_id: &UserId, client_id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2")
        .bind(user_id)
        .bind(client_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}
