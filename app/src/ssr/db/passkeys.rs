//! Queries on `passkeys`.

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row as _};

use super::users::UserRow;
use super::{Db, Dialect};

/// A row of `passkeys`: the whole webauthn-rs `Passkey` as JSON plus the columns the API lists.
#[derive(Clone, Debug, FromRow)]
pub struct PasskeyRow {
    /// Credential ID, base64url without padding (unique).
    pub credential_id: String,
    /// Owner.
    pub user_id: String,
    /// Name the owner gave it.
    pub name: String,
    /// Authenticator model, as a UUID string.
    pub aaguid: String,
    /// `webauthn_rs::prelude::Passkey` serialised as JSON (public key, counter, flags).
    pub passkey: String,
    /// Last signature counter seen.
    pub sign_count: i64,
    /// 1 when the credential may be synced (BE flag).
    pub backup_eligible: i64,
    /// 1 when the credential is currently synced (BS flag).
    pub backed_up: i64,
    /// JSON array of transports the browser reported.
    pub transports: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last sign-in, if any.
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str = "credential_id, user_id, name, aaguid, passkey, sign_count, backup_eligible, backed_up, transports, created_at, last_used_at";

/// Inserts a passkey; an existing credential ID is a unique violation and leaves that row untouched.
pub async fn insert_passkey(db: &Db, row: &PasskeyRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("INSERT INTO passkeys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
        .bind(&row.credential_id)
        .bind(&row.user_id)
        .bind(&row.name)
        .bind(&row.aaguid)
        .bind(&row.passkey)
        .bind(row.sign_count)
        .bind(row.backup_eligible)
        .bind(row.backed_up)
        .bind(&row.transports)
        .bind(row.created_at)
        .bind(row.last_used_at)
        .execute(db.pool())
        .await
        .map(|_| ())
}

/// A user's passkeys, oldest first.
pub async fn list_passkeys(db: &Db, user_id: &str) -> Result<Vec<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, credential_id"))
        .bind(user_id)
        .fetch_all(db.pool())
        .await
}

/// The passkeys of the user with this (normalised) email, oldest first; empty when there is no such
/// user or they have none. One query: a targeted sign-in's only read.
pub async fn list_passkeys_by_email(db: &Db, email: &str) -> Result<Vec<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM passkeys WHERE user_id = (SELECT id FROM users WHERE email = $1)
         ORDER BY created_at, credential_id"
    ))
    .bind(email)
    .fetch_all(db.pool())
    .await
}

/// The passkey with this credential ID and its owner, in one query: a sign-in's only read.
pub async fn find_passkey_and_owner(
    db: &Db,
    credential_id: &str,
) -> Result<Option<(PasskeyRow, UserRow)>, sqlx::Error> {
    // The owner's columns are renamed inside the derived table, so `COLUMNS` stays unambiguous.
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS}, owner_email, owner_name, owner_password_hash, owner_webauthn_handle,
                owner_failed_logins, owner_locked_until, owner_created_at
         FROM passkeys JOIN (
             SELECT id AS owner_id, email AS owner_email, name AS owner_name, password_hash AS owner_password_hash,
                    webauthn_handle AS owner_webauthn_handle, failed_logins AS owner_failed_logins,
                    locked_until AS owner_locked_until, created_at AS owner_created_at
             FROM users
         ) AS owners ON owners.owner_id = passkeys.user_id
         WHERE credential_id = $1"
    ))
    .bind(credential_id)
    .fetch_optional(db.pool())
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
        failed_logins: row.try_get("owner_failed_logins")?,
        locked_until: row.try_get("owner_locked_until")?,
        created_at: row.try_get("owner_created_at")?,
    })
}

/// The passkey's new state, only if its signature counter advanced (or stays 0, for authenticators
/// without one).
macro_rules! use_passkey {
    () => {
        "UPDATE passkeys SET passkey = $2, sign_count = $3, backed_up = $4, last_used_at = $5 \
         WHERE credential_id = $1 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0))"
    };
}

macro_rules! sqlite_sign_in {
    () => {
        concat!(
            use_passkey!(),
            "; INSERT INTO token_families (id, user_id, revoked_at, created_at) SELECT $6, $7, NULL, $5 WHERE changes() = 1"
        )
    };
}

macro_rules! sqlite_first_token {
    () => {
        "; INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at, used_at, created_at) \
         SELECT $8, $6, $7, $9, NULL, $5 WHERE changes() = 1"
    };
}

/// A passkey sign-in to record: the passkey's state after the assertion, and what the sign-in starts.
pub struct PasskeySignIn<'a> {
    /// The passkey with its new counter, backup state and serialised `Passkey`.
    pub updated: &'a PasskeyRow,
    /// The new token family (`token_families.id`).
    pub family_id: &'a str,
    /// The family's first refresh token (hash, expiry), for API clients; the portal stores none.
    pub refresh_token: Option<(&'a str, i64)>,
}

/// Records a passkey sign-in in one database round trip: the passkey's new counter, backup state and
/// last use, then the new token family and its first refresh token. The counter condition is part of
/// the UPDATE, so of two racing assertions only one moves the counter, and the family and token are
/// written only when it moved. `false` means it did not (a possibly cloned authenticator) and
/// nothing was written.
///
/// A sign-in is the hot path, and on SQLite every statement is a hand-off to the connection's
/// thread and back (BENCHMARKS.md), so the writes go as one batch rather than one call each:
/// PostgreSQL runs them as one statement of data-modifying CTEs; SQLite has no writable CTEs, so it
/// gets the statements in one string, each INSERT guarded by `changes() = 1` (the statement before
/// it wrote its one row). Each of those commits on its own: should a later one fail, the counter has
/// moved and no session was started, and the caller answers with an error. Nothing is lost by that:
/// the assertion was genuine and is spent either way. (Wrapping them in a transaction was measured:
/// BEGIN and COMMIT are two more round trips, and cost more than the commits they save.)
pub async fn record_passkey_sign_in(db: &Db, sign_in: &PasskeySignIn<'_>, now: i64) -> Result<bool, sqlx::Error> {
    let sql = match (db.dialect(), sign_in.refresh_token.is_some()) {
        (Dialect::Sqlite, true) => concat!(sqlite_sign_in!(), sqlite_first_token!()),
        (Dialect::Sqlite, false) => sqlite_sign_in!(),
        (Dialect::Postgres, true) => concat!(
            "WITH used AS (",
            use_passkey!(),
            " RETURNING user_id), ",
            "family AS (INSERT INTO token_families (id, user_id, revoked_at, created_at) ",
            "SELECT $6, $7, NULL, $5 FROM used RETURNING id) ",
            "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at, used_at, created_at) ",
            "SELECT $8, id, $7, $9, NULL, $5 FROM family"
        ),
        (Dialect::Postgres, false) => concat!(
            "WITH used AS (",
            use_passkey!(),
            " RETURNING user_id) ",
            "INSERT INTO token_families (id, user_id, revoked_at, created_at) SELECT $6, $7, NULL, $5 FROM used"
        ),
    };
    let updated = sign_in.updated;
    let mut query = sqlx::query(sql)
        .bind(&updated.credential_id)
        .bind(&updated.passkey)
        .bind(updated.sign_count)
        .bind(updated.backed_up)
        .bind(now)
        .bind(sign_in.family_id)
        .bind(&updated.user_id);
    if let Some((hash, expires_at)) = sign_in.refresh_token {
        query = query.bind(hash).bind(expires_at);
    }
    // Both forms report rows only when the UPDATE matched (SQLite sums its statements' counts).
    Ok(query.execute(db.pool()).await?.rows_affected() > 0)
}

/// Renames one of the user's passkeys; `None` when it is not theirs.
pub async fn rename_passkey(
    db: &Db,
    user_id: &str,
    credential_id: &str,
    name: &str,
) -> Result<Option<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE passkeys SET name = $3 WHERE user_id = $1 AND credential_id = $2 RETURNING {COLUMNS}"
    ))
    .bind(user_id)
    .bind(credential_id)
    .bind(name)
    .fetch_optional(db.pool())
    .await
}

/// Deletes one of the user's passkeys and returns it; `None` when it is not theirs.
pub async fn delete_passkey(db: &Db, user_id: &str, credential_id: &str) -> Result<Option<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!("DELETE FROM passkeys WHERE user_id = $1 AND credential_id = $2 RETURNING {COLUMNS}"))
        .bind(user_id)
        .bind(credential_id)
        .fetch_optional(db.pool())
        .await
}
