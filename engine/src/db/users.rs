//! Queries on `users`.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use super::Db;
use super::outbox::{self, NewMail};
use crate::types::UserId;

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
}

/// Every column of `users`, in [`UserRow`]'s order.
pub(super) const COLUMNS: &str = "id, email, name, password_hash, webauthn_handle, created_at, email_verified_at";

/// Inserts a new user; a taken email is a unique violation.
pub async fn insert(db: &Db, user: &UserRow) -> Result<(), sqlx::Error> {
    insert_on(db.pool(), user).await
}

/// [`insert`], on `executor` (a transaction that writes more).
pub async fn insert_on<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    user: &UserRow,
) -> Result<(), sqlx::Error> {
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
    .execute(executor)
    .await
    .map(|_| ())
}

/// The user with this normalised email.
pub async fn by_email(db: &Db, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = $1")).bind(email).fetch_optional(db.pool()).await
}

/// The user with this id.
pub async fn by_id(db: &Db, id: &UserId) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1")).bind(id).fetch_optional(db.pool()).await
}

/// Deletes a user; their passkeys, sign-ins, refresh tokens, authorization codes and consents go
/// with them in the same statement (`ON DELETE CASCADE`). `false` when there was no such user.
pub async fn delete(db: &Db, id: &UserId) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(db.pool()).await?.rows_affected() > 0)
}

/// Sets (or clears) the display name; returns the updated user.
pub async fn set_name(db: &Db, id: &UserId, name: Option<&str>) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("UPDATE users SET name = $2 WHERE id = $1 RETURNING {COLUMNS}"))
        .bind(id)
        .bind(name)
        .fetch_optional(db.pool())
        .await
}

/// Sets the password hash and writes the mail that tells the owner, in one transaction; `false`
/// when there is no such user.
pub async fn set_password_hash(
    db: &Db,
    id: &UserId,
    hash: &str,
    notice: Option<&NewMail>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    let done =
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1").bind(id).bind(hash).execute(&mut *tx).await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if let Some(mail) = notice {
        outbox::insert(&mut *tx, mail, now).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Removes the password of an account that has a passkey, with the mail that tells the owner.
pub async fn remove_password(
    db: &Db,
    id: &UserId,
    notice: Option<&NewMail>,
    now: i64,
) -> Result<PasswordRemoval, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    // The user's row lock first, as passkey deletion takes it (`passkeys::delete`): removing the
    // password and deleting the last passkey at once run one after the other, and the second sees
    // the first's result.
    sqlx::query("UPDATE users SET id = id WHERE id = $1").bind(id).execute(&mut *tx).await?;
    let removed = sqlx::query(
        "UPDATE users SET password_hash = NULL WHERE id = $1 AND password_hash IS NOT NULL
           AND EXISTS (SELECT 1 FROM passkeys WHERE user_id = $1)",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let outcome = if removed > 0 {
        if let Some(mail) = notice {
            outbox::insert(&mut *tx, mail, now).await?;
        }
        PasswordRemoval::Removed
    } else {
        let has_password: Option<(Option<String>,)> =
            sqlx::query_as("SELECT password_hash FROM users WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
        match has_password {
            Some((Some(_),)) => PasswordRemoval::OnlyWayIn,
            _ => PasswordRemoval::NotSet,
        }
    };
    tx.commit().await?;
    Ok(outcome)
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
