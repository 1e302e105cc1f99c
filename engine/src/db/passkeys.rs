//! Queries on `passkeys`.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row as _};

use super::users::UserRow;
use super::{Exec, flag};
use crate::base::types::{CredentialId, UserId};

/// A row of `passkeys`: the whole webauthn-rs `Passkey` as JSON plus the columns the API lists.
#[derive(Clone, Debug)]
pub struct PasskeyRow {
    /// Credential ID (unique).
    pub credential_id: CredentialId,
    /// Owner.
    pub user_id: UserId,
    /// Name the owner gave it.
    pub name: String,
    /// Authenticator model, as a UUID string.
    pub aaguid: String,
    /// `webauthn_rs::prelude::Passkey` serialised as JSON (public key, counter, flags).
    pub passkey: String,
    /// Last signature counter seen.
    pub sign_count: i64,
    /// The credential may be synced (BE flag).
    pub backup_eligible: bool,
    /// The credential is currently synced (BS flag).
    pub backed_up: bool,
    /// JSON array of transports the browser reported.
    pub transports: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last sign-in, if any.
    pub last_used_at: Option<i64>,
}

/// Every column of `passkeys`, in [`PasskeyRow`]'s order.
const COLUMNS: &str = "credential_id, user_id, name, aaguid, passkey, sign_count, backup_eligible, backed_up, transports, created_at, last_used_at";

impl FromRow<'_, AnyRow> for PasskeyRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            credential_id: row.try_get("credential_id")?,
            user_id: row.try_get("user_id")?,
            name: row.try_get("name")?,
            aaguid: row.try_get("aaguid")?,
            passkey: row.try_get("passkey")?,
            sign_count: row.try_get("sign_count")?,
            backup_eligible: row.try_get::<i64, _>("backup_eligible")? != 0,
            backed_up: row.try_get::<i64, _>("backed_up")? != 0,
            transports: row.try_get("transports")?,
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
        })
    }
}

/// Inserts a passkey; an existing credential ID is a unique violation and leaves that row untouched.
pub async fn insert(db: impl Exec<'_>, row: &PasskeyRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("INSERT INTO passkeys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
        .bind(&row.credential_id)
        .bind(&row.user_id)
        .bind(&row.name)
        .bind(&row.aaguid)
        .bind(&row.passkey)
        .bind(row.sign_count)
        .bind(flag(row.backup_eligible))
        .bind(flag(row.backed_up))
        .bind(&row.transports)
        .bind(row.created_at)
        .bind(row.last_used_at)
        .execute(db)
        .await
        .map(|_| ())
}

/// Records that passkey `id` was used at `now` (a sign-in made with it without an assertion: the
/// one a recovery link starts with the passkey it adds).
pub async fn mark_used(db: impl Exec<'_>, id: &CredentialId, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE passkeys SET last_used_at = $2 WHERE credential_id = $1")
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(|_| ())
}

/// A user's passkeys, oldest first.
pub async fn of_user(db: impl Exec<'_>, user_id: &UserId) -> Result<Vec<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, credential_id"))
        .bind(user_id)
        .fetch_all(db)
        .await
}

/// How many passkeys a user has.
pub async fn count_of_user(db: impl Exec<'_>, user_id: &UserId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = $1").bind(user_id).fetch_one(db).await
}

/// The passkeys of the user with this (normalised) email, oldest first; empty when there is no such
/// user or they have none. One query: a targeted sign-in's only read.
pub async fn of_email(db: impl Exec<'_>, email: &str) -> Result<Vec<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM passkeys WHERE user_id = (SELECT id FROM users WHERE email = $1)
         ORDER BY created_at, credential_id"
    ))
    .bind(email)
    .fetch_all(db)
    .await
}

/// The passkey with this credential ID and its owner, in one query: a sign-in's only read.
pub async fn with_owner(
    db: impl Exec<'_>,
    credential_id: &CredentialId,
) -> Result<Option<(PasskeyRow, UserRow)>, sqlx::Error> {
    // The owner's columns are renamed inside the derived table, so `COLUMNS` stays unambiguous.
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS}, owner_email, owner_name, owner_password_hash, owner_webauthn_handle, owner_created_at,
                owner_email_verified_at, owner_disabled_at
         FROM passkeys JOIN (
             SELECT id AS owner_id, email AS owner_email, name AS owner_name, password_hash AS owner_password_hash,
                    webauthn_handle AS owner_webauthn_handle, created_at AS owner_created_at,
                    email_verified_at AS owner_email_verified_at, disabled_at AS owner_disabled_at
             FROM users
         ) AS owners ON owners.owner_id = passkeys.user_id
         WHERE credential_id = $1"
    ))
    .bind(credential_id)
    .fetch_optional(db)
    .await?;
    row.map(|row| Ok((PasskeyRow::from_row(&row)?, owner_of(&row)?))).transpose()
}

fn owner_of(row: &AnyRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        id: row.try_get("user_id")?,
        email: row.try_get("owner_email")?,
        name: row.try_get("owner_name")?,
        password_hash: row.try_get("owner_password_hash")?,
        webauthn_handle: row.try_get("owner_webauthn_handle")?,
        created_at: row.try_get("owner_created_at")?,
        email_verified_at: row.try_get("owner_email_verified_at")?,
        disabled_at: row.try_get("owner_disabled_at")?,
    })
}

/// Renames one of the user's passkeys; `None` when it is not theirs.
pub async fn set_name(
    db: impl Exec<'_>,
    user_id: &UserId,
    credential_id: &CredentialId,
    name: &str,
) -> Result<Option<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE passkeys SET name = $3 WHERE user_id = $1 AND credential_id = $2 RETURNING {COLUMNS}"
    ))
    .bind(user_id)
    .bind(credential_id)
    .bind(name)
    .fetch_optional(db)
    .await
}

/// Deletes one of the user's passkeys and returns it, never the account's only way in; on the
/// connection of a `Change` (`notify/change.rs`), whose transaction holds the user's row lock.
pub async fn delete(
    conn: &mut AnyConnection,
    user_id: &UserId,
    credential_id: &CredentialId,
) -> Result<Deleted, sqlx::Error> {
    // Takes the user's row lock first (PostgreSQL; SQLite's one writer is already alone), so two
    // deletions of an account's last two passkeys run one after the other, and the second sees one.
    sqlx::query("UPDATE users SET id = id WHERE id = $1").bind(user_id).execute(&mut *conn).await?;
    let deleted: Option<PasskeyRow> = sqlx::query_as(&format!(
        "DELETE FROM passkeys WHERE user_id = $1 AND credential_id = $2
           AND (EXISTS (SELECT 1 FROM users WHERE id = $1 AND password_hash IS NOT NULL)
                OR (SELECT COUNT(*) FROM passkeys WHERE user_id = $1) > 1)
         RETURNING {COLUMNS}"
    ))
    .bind(user_id)
    .bind(credential_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match deleted {
        Some(row) => Deleted::Deleted(row),
        None => {
            let exists: Option<(String,)> =
                sqlx::query_as("SELECT credential_id FROM passkeys WHERE user_id = $1 AND credential_id = $2")
                    .bind(user_id)
                    .bind(credential_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            if exists.is_some() { Deleted::LastWayIn } else { Deleted::NotFound }
        }
    })
}

/// Holds passkey `credential_id` until `until` (one a mailed recovery link added).
pub async fn hold(db: impl Exec<'_>, credential_id: &CredentialId, until: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE passkeys SET held_until = $2 WHERE credential_id = $1")
        .bind(credential_id)
        .bind(until)
        .execute(db)
        .await
        .map(|_| ())
}

/// The user's passkeys held at `now`: (id, name, until when).
pub async fn held_of_user(
    db: impl Exec<'_>,
    user_id: &UserId,
    now: i64,
) -> Result<Vec<(CredentialId, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT credential_id, name, held_until FROM passkeys WHERE user_id = $1 AND held_until > $2 ORDER BY created_at",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(db)
    .await
}

/// Removes passkey `credential_id` of `user_id` whatever else the account has ("this wasn't me"
/// after a recovery: the account's owner, or the mailbox's, says it is not theirs); its name.
pub async fn remove(
    db: impl Exec<'_>,
    user_id: &UserId,
    credential_id: &CredentialId,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM passkeys WHERE user_id = $1 AND credential_id = $2 RETURNING name")
        .bind(user_id)
        .bind(credential_id)
        .fetch_optional(db)
        .await
}

/// What [`delete`] did.
#[derive(Debug)]
pub enum Deleted {
    /// The passkey, as it was.
    Deleted(PasskeyRow),
    /// Kept: it is the account's only way in (no password, no other passkey).
    LastWayIn,
    /// The user has no such passkey.
    NotFound,
}
