//! Queries on `users`.

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};

use super::Exec;
use crate::base::types::UserId;

/// A row of `users`.
#[derive(Clone, Debug, FromRow, Serialize, Deserialize)]
pub struct UserRow {
    /// Opaque random id.
    pub id: UserId,
    /// Normalised (trimmed, lower-case) email.
    pub email: String,
    /// Optional display name.
    pub name: Option<String>,
    /// Argon2id PHC string; `None` for passkey-only accounts.
    pub password_hash: Option<String>,
    /// The WebAuthn user handle (a random UUID, never the email).
    pub webauthn_handle: String,
    /// Unix seconds.
    pub created_at: i64,
    /// When the email address was last proved to be the user's (Unix seconds); `None`: never.
    pub email_verified_at: Option<i64>,
    /// When an administrator disabled the account (Unix seconds); `None` while it may sign in.
    #[serde(default)]
    pub disabled_at: Option<i64>,
}

/// Every column of `users`, in [`UserRow`]'s order.
pub(super) const COLUMNS: &str =
    "id, email, name, password_hash, webauthn_handle, created_at, email_verified_at, disabled_at";

/// Inserts a new user; a taken email is a unique violation.
pub async fn insert(db: impl Exec<'_>, user: &UserRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, webauthn_handle, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&user.id)
    .bind(&user.email)
    .bind(&user.name)
    .bind(&user.password_hash)
    .bind(&user.webauthn_handle)
    .bind(user.created_at)
    .execute(db)
    .await
    .map(|_| ())
}

/// The user with this normalised email.
pub async fn by_email(db: impl Exec<'_>, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = $1")).bind(email).fetch_optional(db).await
}

/// Whether an account has `email` and has confirmed it.
pub async fn email_confirmed(db: impl Exec<'_>, email: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT email_verified_at FROM users WHERE email = $1 AND email_verified_at IS NOT NULL")
            .bind(email)
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}

/// Up to `limit` (id, email) pairs of users whose id sorts after `after`, in id order: a page of
/// every address, for a scan that does not hold the whole table at once.
pub async fn emails_after(db: impl Exec<'_>, after: &str, limit: i64) -> Result<Vec<(UserId, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, email FROM users WHERE id > $1 ORDER BY id LIMIT $2")
        .bind(after)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// The user with this id.
pub async fn by_id(db: impl Exec<'_>, id: &UserId) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1")).bind(id).fetch_optional(db).await
}

/// Deletes a user; their passkeys, sign-ins, refresh tokens, authorization codes and consents go
/// with them in the same statement (`ON DELETE CASCADE`). `false` when there was no such user.
pub async fn delete(db: impl Exec<'_>, id: &UserId) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(db).await?.rows_affected() > 0)
}

/// Sets (or clears) the display name; returns the updated user.
pub async fn set_name(db: impl Exec<'_>, id: &UserId, name: Option<&str>) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("UPDATE users SET name = $2 WHERE id = $1 RETURNING {COLUMNS}"))
        .bind(id)
        .bind(name)
        .fetch_optional(db)
        .await
}

/// Sets the password hash; `false` when there is no such user.
pub async fn set_password_hash(db: impl Exec<'_>, id: &UserId, hash: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1").bind(id).bind(hash).execute(db).await?;
    Ok(done.rows_affected() > 0)
}

/// Removes the password of an account that has a passkey; on the connection of a
/// `Change` (`notify/change.rs`), whose transaction holds the user's row lock.
pub async fn remove_password(conn: &mut AnyConnection, id: &UserId) -> Result<PasswordRemoval, sqlx::Error> {
    // The user's row lock first, as passkey deletion takes it (`passkeys::delete`): removing the
    // password and deleting the last passkey at once run one after the other, and the second sees
    // the first's result.
    sqlx::query("UPDATE users SET id = id WHERE id = $1").bind(id).execute(&mut *conn).await?;
    let removed = sqlx::query(
        "UPDATE users SET password_hash = NULL WHERE id = $1 AND password_hash IS NOT NULL
           AND EXISTS (SELECT 1 FROM passkeys WHERE user_id = $1)",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if removed > 0 {
        return Ok(PasswordRemoval::Removed);
    }
    let has_password: Option<(Option<String>,)> =
        sqlx::query_as("SELECT password_hash FROM users WHERE id = $1").bind(id).fetch_optional(&mut *conn).await?;
    Ok(match has_password {
        Some((Some(_),)) => PasswordRemoval::OnlyWayIn,
        _ => PasswordRemoval::NotSet,
    })
}

/// What [`remove_password`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum PasswordRemoval {
    /// The password is gone.
    Removed,
    /// Kept: the account has no passkey, so the password is its only way in.
    OnlyWayIn,
    /// There was no password (or no such user).
    NotSet,
}

/// Disables the account (`Some(now)`) or enables it (`None`); `false` when it was already so.
pub async fn set_disabled(db: &mut AnyConnection, id: &UserId, disabled_at: Option<i64>) -> Result<bool, sqlx::Error> {
    let changed =
        sqlx::query("UPDATE users SET disabled_at = $2 WHERE id = $1 AND (disabled_at IS NULL) = ($2 IS NOT NULL)")
            .bind(id)
            .bind(disabled_at)
            .execute(db)
            .await?;
    Ok(changed.rows_affected() > 0)
}

/// Whether the account `id` is an administrator that may act: granted, and not disabled.
pub async fn is_admin(db: impl Exec<'_>, id: &UserId) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM users WHERE id = $1 AND admin_since IS NOT NULL AND disabled_at IS NULL")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}

/// Makes the account an administrator (`Some(now)`) or no longer one (`None`); `false` when it
/// already was so. In a change that took [`lock_admins`] first.
pub async fn set_admin(db: &mut AnyConnection, id: &UserId, since: Option<i64>) -> Result<bool, sqlx::Error> {
    let changed =
        sqlx::query("UPDATE users SET admin_since = $2 WHERE id = $1 AND (admin_since IS NULL) = ($2 IS NOT NULL)")
            .bind(id)
            .bind(since)
            .execute(db)
            .await?;
    Ok(changed.rows_affected() > 0)
}

/// Serialises the changes that could leave no administrator (revoking, disabling or deleting one),
/// for the rest of the change's transaction: two administrators removing each other at once must
/// not both see the other one still there. SQLite's changes already run one at a time (`BEGIN
/// IMMEDIATE`); PostgreSQL takes a transaction-scoped advisory lock.
pub(crate) async fn lock_admins(db: &mut AnyConnection, dialect: super::Dialect) -> Result<(), sqlx::Error> {
    if dialect == super::Dialect::Postgres {
        // An arbitrary key of this project's own ("LKADMIN" in ASCII).
        sqlx::query("SELECT pg_advisory_xact_lock(21534567624681806)").execute(db).await?;
    }
    Ok(())
}

/// How many enabled administrators there are besides `id`.
pub async fn other_admins(db: &mut AnyConnection, id: &UserId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE admin_since IS NOT NULL AND disabled_at IS NULL AND id <> $1")
        .bind(id)
        .fetch_one(db)
        .await
}

/// An account as the administrators' list shows it.
#[derive(Clone, Debug, FromRow)]
pub struct ListedUser {
    /// Its id.
    pub id: UserId,
    /// Its address.
    pub email: String,
    /// Its display name.
    pub name: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// When its address was confirmed.
    pub email_verified_at: Option<i64>,
    /// When it was disabled.
    pub disabled_at: Option<i64>,
    /// Since when it is an administrator.
    pub admin_since: Option<i64>,
}

/// Up to `limit` accounts whose address sorts after `after`, by address, whose address or name
/// holds `search` (lower-case; `%`, `_` and `\` in it are matched as themselves).
pub async fn search(
    db: impl Exec<'_>,
    search: Option<&str>,
    after: &str,
    limit: i64,
) -> Result<Vec<ListedUser>, sqlx::Error> {
    let pattern = search.map(|s| {
        let escaped = s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        format!("%{escaped}%")
    });
    sqlx::query_as(
        "SELECT id, email, name, created_at, email_verified_at, disabled_at, admin_since FROM users
         WHERE email > $1
           AND ($2 IS NULL OR email LIKE $2 ESCAPE '\\' OR LOWER(COALESCE(name, '')) LIKE $2 ESCAPE '\\')
         ORDER BY email LIMIT $3",
    )
    .bind(after)
    .bind(pattern)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The account `id` as the administrators' list shows it.
pub async fn listed(db: impl Exec<'_>, id: &UserId) -> Result<Option<ListedUser>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, email, name, created_at, email_verified_at, disabled_at, admin_since FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Every administrator (disabled ones too), by address.
pub async fn admins(db: impl Exec<'_>) -> Result<Vec<ListedUser>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, email, name, created_at, email_verified_at, disabled_at, admin_since FROM users
         WHERE admin_since IS NOT NULL ORDER BY email",
    )
    .fetch_all(db)
    .await
}

/// How many accounts there are.
pub async fn count(db: impl Exec<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(db).await
}
