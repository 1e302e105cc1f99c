//! Queries on `admin_audit`: the record of every administrative action.

use sqlx::FromRow;

use super::Exec;

/// One administrative action.
#[derive(Clone, Debug, FromRow)]
pub struct AuditRow {
    /// A UUIDv7 (sorts in the order actions were taken).
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    /// `operator` (the command line), `token` (`LATCHKEY_ADMIN_TOKEN`) or an administrator's id.
    pub actor: String,
    /// That administrator's address then.
    pub actor_email: Option<String>,
    /// What was done (`account_disabled`, `group_created`, …).
    pub action: String,
    /// The account it concerns, if one.
    pub user_id: Option<String>,
    /// That account's address then.
    pub user_email: Option<String>,
    /// A group's name, an invitation's id.
    pub subject: Option<String>,
    /// What else the action says (a new name, the groups an invitation joins).
    pub detail: Option<String>,
    /// The address the action came from (none from the command line).
    pub address: Option<String>,
}

const COLUMNS: &str = "id, at, actor, actor_email, action, user_id, user_email, subject, detail, address";

/// Records an action.
pub async fn insert(db: impl Exec<'_>, row: &AuditRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("INSERT INTO admin_audit ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
        .bind(&row.id)
        .bind(row.at)
        .bind(&row.actor)
        .bind(&row.actor_email)
        .bind(&row.action)
        .bind(&row.user_id)
        .bind(&row.user_email)
        .bind(&row.subject)
        .bind(&row.detail)
        .bind(&row.address)
        .execute(db)
        .await
        .map(|_| ())
}

/// Up to `limit` actions older than the one `before` (any, when `None`), newest first.
pub async fn page(db: impl Exec<'_>, before: Option<&str>, limit: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM admin_audit WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await
}
