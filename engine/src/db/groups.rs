//! Queries on `groups` and `group_members`.

use sqlx::FromRow;

use super::Exec;
use crate::base::types::UserId;

/// A group as listed: its name, description and how many accounts are in it.
#[derive(Debug, Clone, FromRow)]
pub struct GroupRow {
    /// Its name (a short slug, unique).
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// How many accounts are in it.
    pub members: i64,
}

/// Records a group; a taken name is a unique violation.
pub async fn insert(db: impl Exec<'_>, name: &str, description: Option<&str>, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO groups (id, name, description, created_at) VALUES ($1, $2, $3, $4)")
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(name)
        .bind(description)
        .bind(now)
        .execute(db)
        .await
        .map(|_| ())
}

/// Deletes the group `name` (its memberships go with it); `false` when there is none.
pub async fn delete(db: impl Exec<'_>, name: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM groups WHERE name = $1").bind(name).execute(db).await?.rows_affected() > 0)
}

/// Puts `user` in the group `name`; `false` when there is no such group or they already were in it.
pub async fn add_member(db: impl Exec<'_>, name: &str, user: &UserId, now: i64) -> Result<bool, sqlx::Error> {
    let added: Option<i64> = sqlx::query_scalar(
        "INSERT INTO group_members (group_id, user_id, added_at)
         SELECT id, $2, $3 FROM groups WHERE name = $1
         ON CONFLICT (group_id, user_id) DO NOTHING
         RETURNING 1",
    )
    .bind(name)
    .bind(user)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(added.is_some())
}

/// Takes `user` out of the group `name`; `false` when they were not in it.
pub async fn remove_member(db: impl Exec<'_>, name: &str, user: &UserId) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM group_members WHERE user_id = $2 AND group_id = (SELECT id FROM groups WHERE name = $1)",
    )
    .bind(name)
    .bind(user)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether the group `name` exists.
pub async fn exists(db: impl Exec<'_>, name: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM groups WHERE name = $1").bind(name).fetch_optional(db).await?;
    Ok(found.is_some())
}

/// The names of `user`'s groups, sorted.
pub async fn names_of_user(db: impl Exec<'_>, user: &UserId) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT g.name FROM groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name",
    )
    .bind(user)
    .fetch_all(db)
    .await
}

/// Every group, by name.
pub async fn list(db: impl Exec<'_>) -> Result<Vec<GroupRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT g.name, g.description, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS members
         FROM groups g ORDER BY g.name",
    )
    .fetch_all(db)
    .await
}
