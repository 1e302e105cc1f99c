//! Queries on `invitations`.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::{Exec, flag};
use crate::base::types::UserId;

/// An invitation as stored (never its token: only the token's SHA-256).
#[derive(Debug, Clone)]
pub struct InvitationRow {
    /// Its id (a UUID), for the operator's list and revocation.
    pub id: String,
    /// The one address that may use it, if it names one.
    pub email: Option<String>,
    /// Whether it was mailed to that address (using it then proves the mailbox).
    pub mailed: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// When it was used.
    pub used_at: Option<i64>,
    /// The groups its account joins (names, space-separated).
    pub groups: Option<String>,
    /// Whether its account is made an administrator.
    pub admin: bool,
}

impl FromRow<'_, AnyRow> for InvitationRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            mailed: row.try_get::<i64, _>("mailed")? != 0,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            revoked_at: row.try_get("revoked_at")?,
            used_at: row.try_get("used_at")?,
            groups: row.try_get("groups")?,
            admin: row.try_get::<i64, _>("admin")? != 0,
        })
    }
}

const COLUMNS: &str = "id, email, mailed, created_at, expires_at, revoked_at, used_at, groups, admin";

/// Records an invitation.
pub async fn insert(
    db: impl Exec<'_>,
    invitation: &InvitationRow,
    token_hash: &str,
    made_by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO invitations (id, token_hash, email, mailed, made_by, created_at, expires_at, groups, admin)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&invitation.id)
    .bind(token_hash)
    .bind(&invitation.email)
    .bind(flag(invitation.mailed))
    .bind(made_by)
    .bind(invitation.created_at)
    .bind(invitation.expires_at)
    .bind(&invitation.groups)
    .bind(flag(invitation.admin))
    .execute(db)
    .await
    .map(|_| ())
}

/// The invitation whose token hashes to `token_hash`, whatever its state.
pub async fn by_token(db: impl Exec<'_>, token_hash: &str) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM invitations WHERE token_hash = $1"))
        .bind(token_hash)
        .fetch_optional(db)
        .await
}

/// Uses the invitation whose token hashes to `token_hash` for the new account `user` of `email`:
/// only if it is unused, unrevoked, unexpired and for that address (or for any); of two uses at
/// once, one wins. Returns it as it was.
pub async fn take(
    db: &mut AnyConnection,
    token_hash: &str,
    user: &UserId,
    email: &str,
    now: i64,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE invitations SET used_at = $2, used_by = $3
         WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2
           AND (email IS NULL OR email = $4)
         RETURNING {COLUMNS}"
    ))
    .bind(token_hash)
    .bind(now)
    .bind(user)
    .bind(email)
    .fetch_optional(db)
    .await
}

/// Revokes the unused invitation `id`; returns it as it was, `None` when there is none to revoke.
pub async fn revoke(db: impl Exec<'_>, id: &str, now: i64) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE invitations SET revoked_at = $2 WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Up to `limit` invitations made before the one `before` (any, when `None`), newest first.
pub async fn page(
    db: impl Exec<'_>,
    before: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<InvitationRow>, sqlx::Error> {
    let (at, id) = before.map_or((None, None), |(at, id)| (Some(at), Some(id)));
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invitations
         WHERE $1 IS NULL OR created_at < $1 OR (created_at = $1 AND id < $2)
         ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Withdraws every unused invitation `made_by` made (an administrator who is one no longer).
pub async fn revoke_made_by(db: impl Exec<'_>, made_by: &str, now: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE invitations SET revoked_at = $2 WHERE made_by = $1 AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(made_by)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// How many invitations can still be used at `now`.
pub async fn pending(db: impl Exec<'_>, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM invitations WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .fetch_one(db)
    .await
}
