//! Queries on `token_families` (one per sign-in) and `refresh_tokens` (hashes only, single use).

use super::Db;

/// Starts a family: the chain of refresh tokens descending from one sign-in.
pub async fn insert_family(db: &Db, family_id: &str, user_id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO token_families (id, user_id, revoked_at, created_at) VALUES ($1, $2, NULL, $3)")
        .bind(family_id)
        .bind(user_id)
        .bind(now)
        .execute(db.pool())
        .await
        .map(|_| ())
}

/// Stores the hash of a new refresh token.
pub async fn insert_refresh_token(
    db: &Db,
    token_hash: &str,
    family_id: &str,
    user_id: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at, used_at, created_at)
         VALUES ($1, $2, $3, $4, NULL, $5)",
    )
    .bind(token_hash)
    .bind(family_id)
    .bind(user_id)
    .bind(expires_at)
    .bind(now)
    .execute(db.pool())
    .await
    .map(|_| ())
}

/// A refresh token consumed by [`use_refresh_token`].
#[derive(Debug, sqlx::FromRow)]
pub struct UsedToken {
    /// Its family.
    pub family_id: String,
    /// Its owner.
    pub user_id: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// 1 while its family has not been revoked (sign-out, or a reused token), else 0.
    pub family_active: i64,
}

/// Marks an unused token as used, in one statement so that of concurrent callers exactly one wins,
/// and reports in the same round trip whether its family is still active.
pub async fn use_refresh_token(db: &Db, token_hash: &str, now: i64) -> Result<Option<UsedToken>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL
         RETURNING family_id, user_id, expires_at,
             CAST(CASE WHEN EXISTS (SELECT 1 FROM token_families f
                                    WHERE f.id = refresh_tokens.family_id AND f.revoked_at IS NULL)
                  THEN 1 ELSE 0 END AS BIGINT) AS family_active",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db.pool())
    .await
}

/// The family of a token, used or not; `None` for a token that was never issued.
pub async fn family_of(db: &Db, token_hash: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(db.pool())
        .await
}

/// Revokes every token of a family (sign-out, or a reused token).
pub async fn revoke_family(db: &Db, family_id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE token_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(family_id)
        .bind(now)
        .execute(db.pool())
        .await
        .map(|_| ())
}
