//! Queries on `apps` (the console's OpenID Connect clients) and on their version counter.

use sqlx::FromRow;

use super::Exec;

/// An app as stored.
#[derive(Debug, Clone, FromRow)]
pub struct AppRow {
    /// Its `client_id`.
    pub client_id: String,
    /// Its settings, as JSON.
    pub settings: String,
    /// The hex SHA-256 of its secret; `None` for a public app.
    pub secret_digest: Option<String>,
    /// The hex SHA-256 of the secret a rotation replaced, while it still works.
    pub previous_secret_digest: Option<String>,
    /// Until when (Unix seconds) the previous secret works.
    pub previous_secret_until: Option<i64>,
    /// When it was made (Unix seconds).
    pub created_at: i64,
    /// When it was last changed (Unix seconds).
    pub updated_at: i64,
}

const COLUMNS: &str = "client_id, settings, secret_digest, previous_secret_digest, previous_secret_until, \
                       created_at, updated_at";

/// How many times the apps have changed.
pub async fn version(db: impl Exec<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT version FROM versions WHERE name = 'apps'").fetch_one(db).await
}

/// Moves the version on: in the transaction of every change, so no instance misses one.
pub async fn bump(db: impl Exec<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE versions SET version = version + 1 WHERE name = 'apps'").execute(db).await.map(|_| ())
}

/// Every app.
pub async fn all(db: impl Exec<'_>) -> Result<Vec<AppRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM apps ORDER BY client_id")).fetch_all(db).await
}

/// The app `client_id`.
pub async fn find(db: impl Exec<'_>, client_id: &str) -> Result<Option<AppRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM apps WHERE client_id = $1")).bind(client_id).fetch_optional(db).await
}

/// Records a new app; a taken id is a unique violation.
pub async fn insert(db: impl Exec<'_>, row: &AppRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("INSERT INTO apps ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
        .bind(&row.client_id)
        .bind(&row.settings)
        .bind(&row.secret_digest)
        .bind(&row.previous_secret_digest)
        .bind(row.previous_secret_until)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(db)
        .await
        .map(|_| ())
}

/// Writes the app's settings (never its secrets); `false` when there is no such app.
pub async fn update_settings(
    db: impl Exec<'_>,
    client_id: &str,
    settings: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE apps SET settings = $2, updated_at = $3 WHERE client_id = $1")
        .bind(client_id)
        .bind(settings)
        .bind(now)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Replaces the app's secret `current` (the digest read before) by `new`, keeping `current` as the
/// previous one until `until` (none when `None`). `false` when the secret is no longer `current`
/// (another rotation came first) or the app is gone: a compare-and-swap, so two rotations, or a
/// rotation and a deletion, never undo each other.
pub async fn rotate_secret(
    db: impl Exec<'_>,
    client_id: &str,
    current: &str,
    new: &str,
    until: Option<i64>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE apps SET secret_digest = $3,
                previous_secret_digest = $4, previous_secret_until = $5, updated_at = $6
         WHERE client_id = $1 AND secret_digest = $2",
    )
    .bind(client_id)
    .bind(current)
    .bind(new)
    .bind(until.map(|_| current))
    .bind(until)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Drops what an app under `client_id` was given: consents and unredeemed codes. A deleted app's
/// go with it; an app made under the id again drops any left by instances that still knew the old
/// one for a moment after it was deleted.
pub async fn forget(db: &mut sqlx::AnyConnection, client_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM consents WHERE client_id = $1").bind(client_id).execute(&mut *db).await?;
    sqlx::query("DELETE FROM authorization_codes WHERE client_id = $1").bind(client_id).execute(&mut *db).await?;
    Ok(())
}

/// Deletes the app `client_id` with the consents given to it and its unredeemed codes; `false`
/// when there is no such app.
pub async fn delete(db: &mut sqlx::AnyConnection, client_id: &str) -> Result<bool, sqlx::Error> {
    forget(&mut *db, client_id).await?;
    let done = sqlx::query("DELETE FROM apps WHERE client_id = $1").bind(client_id).execute(&mut *db).await?;
    Ok(done.rows_affected() > 0)
}
