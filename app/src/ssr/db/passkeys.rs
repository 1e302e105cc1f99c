//! Queries on `passkeys`.

use sqlx::FromRow;

use super::Db;

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

/// The passkey with this credential ID, whoever owns it.
pub async fn find_passkey(db: &Db, credential_id: &str) -> Result<Option<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM passkeys WHERE credential_id = $1"))
        .bind(credential_id)
        .fetch_optional(db.pool())
        .await
}

/// Persists a successful sign-in. The counter condition is checked in the same statement, so two
/// racing assertions cannot both move the counter; `false` means the count did not increase.
pub async fn record_passkey_use(db: &Db, updated: &PasskeyRow, now: i64) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE passkeys SET passkey = $2, sign_count = $3, backed_up = $4, last_used_at = $5
         WHERE credential_id = $1 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0))",
    )
    .bind(&updated.credential_id)
    .bind(&updated.passkey)
    .bind(updated.sign_count)
    .bind(updated.backed_up)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(result.rows_affected() == 1)
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
