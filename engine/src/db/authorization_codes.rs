//! Queries on `authorization_codes`: stored by hash, taken in one statement so that of concurrent
//! redemptions exactly one wins.

use sqlx::FromRow;

use super::Exec;
use crate::base::types::{SignInId, UserId};

/// What a code grants.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Grant {
    /// The app it was issued to.
    pub client_id: String,
    /// The exact redirect URI of the authorization request.
    pub redirect_uri: String,
    /// Who signed in.
    pub user_id: UserId,
    /// The portal sign-in it came from.
    pub sign_in_id: SignInId,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// The request's `nonce`, for the ID token.
    pub nonce: Option<String>,
    /// The PKCE S256 challenge, base64url.
    pub code_challenge: Option<String>,
    /// When the user authenticated (Unix seconds).
    pub auth_time: i64,
}

/// A code just used up: what it grants, and until when it could be redeemed.
#[derive(FromRow)]
pub struct TakenCode {
    /// What it grants.
    #[sqlx(flatten)]
    pub grant: Grant,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Stores a new code's hash with what it grants.
pub async fn insert(
    db: impl Exec<'_>,
    code_hash: &str,
    row: &Grant,
    expires_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO authorization_codes (code_hash, client_id, redirect_uri, user_id, sign_in_id, scope, nonce,
             code_challenge, auth_time, expires_at, used_at, issued_sign_in_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, $11)",
    )
    .bind(code_hash)
    .bind(&row.client_id)
    .bind(&row.redirect_uri)
    .bind(&row.user_id)
    .bind(&row.sign_in_id)
    .bind(&row.scope)
    .bind(&row.nonce)
    .bind(&row.code_challenge)
    .bind(row.auth_time)
    .bind(expires_at)
    .bind(now)
    .execute(db)
    .await
    .map(|_| ())
}

/// Marks an unused code as used, naming the sign-in its redemption will start (`issued`) in the
/// same statement, and returns what it grants; `None` if it is unknown or already used.
pub async fn take(
    db: impl Exec<'_>,
    code_hash: &str,
    issued: &SignInId,
    now: i64,
) -> Result<Option<TakenCode>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE authorization_codes SET used_at = $2, issued_sign_in_id = $3 WHERE code_hash = $1 AND used_at IS NULL
         RETURNING client_id, redirect_uri, user_id, sign_in_id, scope, nonce, code_challenge, auth_time, expires_at",
    )
    .bind(code_hash)
    .bind(now)
    .bind(issued)
    .fetch_optional(db)
    .await
}

/// For a code that exists (used): the sign-in its redemption started.
pub async fn issued_sign_in(db: impl Exec<'_>, code_hash: &str) -> Result<Option<Option<SignInId>>, sqlx::Error> {
    sqlx::query_scalar("SELECT issued_sign_in_id FROM authorization_codes WHERE code_hash = $1")
        .bind(code_hash)
        .fetch_optional(db)
        .await
}

/// Deletes codes that expired before `before` (kept a while after, so a late replay is still seen).
pub async fn prune(db: impl Exec<'_>, before: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM authorization_codes WHERE expires_at < $1")
        .bind(before)
        .execute(db)
        .await
        .map(|done| done.rows_affected())
}
