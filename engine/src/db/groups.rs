//! Queries on `groups` and `group_members`.

use sqlx::FromRow;

use super::Exec;
use crate::base::types::UserId;

/// A group as listed: its id, name, description and how many accounts are in it.
#[derive(Debug, Clone, FromRow)]
pub struct GroupRow {
    /// Its id (a UUID; stays when the group is renamed).
    pub id: String,
    /// Its name (a short slug, unique).
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// How many accounts are in it.
    pub members: i64,
}

/// A member of a group.
#[derive(Debug, Clone, FromRow)]
pub struct MemberRow {
    /// The account.
    pub user_id: UserId,
    /// Its address.
    pub email: String,
    /// Its display name.
    pub name: Option<String>,
    /// When it was put in the group (Unix seconds).
    pub added_at: i64,
}

const SELECT: &str = "SELECT g.id, g.name, g.description, g.created_at,
        (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS members
    FROM groups g";

/// Records a group; a taken name is a unique violation. Returns its id.
pub async fn insert(db: impl Exec<'_>, name: &str, description: Option<&str>, now: i64) -> Result<String, sqlx::Error> {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query("INSERT INTO groups (id, name, description, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(name)
        .bind(description)
        .bind(now)
        .execute(db)
        .await?;
    Ok(id)
}

/// The group whose id or name is `key` (an id first: a name can look like one only by choice).
pub async fn find(db: impl Exec<'_>, key: &str) -> Result<Option<GroupRow>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT} WHERE g.id = $1 OR g.name = $1 ORDER BY (g.id = $1) DESC LIMIT 1"))
        .bind(key)
        .fetch_optional(db)
        .await
}

/// Renames and describes the group `id`; a taken name is a unique violation.
pub async fn update(db: impl Exec<'_>, id: &str, name: &str, description: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE groups SET name = $2, description = $3 WHERE id = $1")
        .bind(id)
        .bind(name)
        .bind(description)
        .execute(db)
        .await
        .map(|_| ())
}

/// Deletes the group `id` (its memberships go with it); `false` when there is none.
pub async fn delete(db: impl Exec<'_>, id: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM groups WHERE id = $1").bind(id).execute(db).await?.rows_affected() > 0)
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

/// Takes `user` out of the group `id`; `false` when they were not in it.
pub async fn remove_member(db: impl Exec<'_>, id: &str, user: &UserId) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
        .bind(id)
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

/// The members of the group `id`, by address.
pub async fn members(db: impl Exec<'_>, id: &str) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id AS user_id, u.email, u.name, m.added_at
         FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1 ORDER BY u.email",
    )
    .bind(id)
    .fetch_all(db)
    .await
}

/// Every group, by name.
pub async fn list(db: impl Exec<'_>) -> Result<Vec<GroupRow>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT} ORDER BY g.name")).fetch_all(db).await
}
