//! Queries on `custom_claims`: key/value claims an administrator set on a group or an account.

use sqlx::FromRow;

use super::Exec;
use crate::base::types::UserId;

/// Whose a claim is: a group's (by id) or an account's.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    /// Every member of the group with this id.
    Group(&'a str),
    /// The account.
    User(&'a UserId),
}

impl Owner<'_> {
    fn columns(self) -> (Option<String>, Option<String>) {
        match self {
            Self::Group(id) => (Some(id.to_owned()), None),
            Self::User(id) => (None, Some(id.to_string())),
        }
    }
}

/// A claim as stored.
#[derive(Debug, Clone, FromRow)]
pub struct ClaimRow {
    /// The claim's name in the tokens.
    pub name: String,
    /// Its value, JSON.
    pub value: String,
    /// The scope that releases it.
    pub scope: String,
}

/// A claim that reaches an account's tokens: its own, or one of its groups' (with that group's name).
#[derive(Debug, Clone, FromRow)]
pub struct ReachingClaim {
    /// The claim's name.
    pub name: String,
    /// Its value, JSON.
    pub value: String,
    /// The scope that releases it.
    pub scope: String,
    /// The group it comes from; `None` for the account's own.
    pub group_name: Option<String>,
}

/// Sets `owner`'s claim `name` (replacing one of that name); `false` when it had none before.
pub async fn set(db: &mut sqlx::AnyConnection, owner: Owner<'_>, claim: &ClaimRow) -> Result<bool, sqlx::Error> {
    let replaced = remove(&mut *db, owner, &claim.name).await?;
    let (group, user) = owner.columns();
    sqlx::query("INSERT INTO custom_claims (group_id, user_id, name, value, scope) VALUES ($1, $2, $3, $4, $5)")
        .bind(group)
        .bind(user)
        .bind(&claim.name)
        .bind(&claim.value)
        .bind(&claim.scope)
        .execute(db)
        .await?;
    Ok(replaced)
}

/// Removes `owner`'s claim `name`; `false` when there was none.
pub async fn remove(db: impl Exec<'_>, owner: Owner<'_>, name: &str) -> Result<bool, sqlx::Error> {
    let (group, user) = owner.columns();
    let done = sqlx::query(
        "DELETE FROM custom_claims WHERE name = $3
           AND ((group_id = $1 AND $2 IS NULL) OR (user_id = $2 AND $1 IS NULL))",
    )
    .bind(group)
    .bind(user)
    .bind(name)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// `owner`'s claims, by name.
pub async fn of(db: impl Exec<'_>, owner: Owner<'_>) -> Result<Vec<ClaimRow>, sqlx::Error> {
    let (group, user) = owner.columns();
    sqlx::query_as(
        "SELECT name, value, scope FROM custom_claims
         WHERE (group_id = $1 AND $2 IS NULL) OR (user_id = $2 AND $1 IS NULL) ORDER BY name",
    )
    .bind(group)
    .bind(user)
    .fetch_all(db)
    .await
}

/// Every claim that reaches `user`'s tokens: its own and its groups', the groups' by group name.
pub async fn reaching(db: impl Exec<'_>, user: &UserId) -> Result<Vec<ReachingClaim>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.name, c.value, c.scope, g.name AS group_name
         FROM custom_claims c LEFT JOIN groups g ON g.id = c.group_id
         WHERE c.user_id = $1 OR c.group_id IN (SELECT group_id FROM group_members WHERE user_id = $1)
         ORDER BY g.name, c.name",
    )
    .bind(user)
    .fetch_all(db)
    .await
}
