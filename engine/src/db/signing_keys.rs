//! Queries on `signing_keys`: per algorithm one `current` key, one `next` and the `retired` ones still
//! published. Rotation moves all three in one transaction whose first statement is the write that
//! decides who rotates, so two instances (or an instance and the `keys rotate` command) never both do.

use sqlx::FromRow;

use super::Exec;

/// A key's place in its rotation.
pub const CURRENT: &str = "current";
/// Published ahead of use; becomes current at the next rotation.
pub const NEXT: &str = "next";
/// No longer signs; published until every token it signed has expired.
pub const RETIRED: &str = "retired";

/// What a key is and where it stands, without its key material (what `latchkey keys list` prints).
#[derive(Debug, FromRow)]
pub struct KeyInfo {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// `ES256` or `RS256`.
    pub alg: String,
    /// [`CURRENT`], [`NEXT`] or [`RETIRED`].
    pub state: String,
    /// Unix seconds.
    pub created_at: i64,
    /// When it became current (Unix seconds).
    pub activated_at: Option<i64>,
    /// Retired keys: published until then (Unix seconds).
    pub publish_until: Option<i64>,
}

/// One row of `signing_keys`.
#[derive(FromRow)]
pub struct KeyRow {
    /// The key's id, algorithm and place in its rotation.
    #[sqlx(flatten)]
    pub info: KeyInfo,
    /// The public key as published (a JWK, JSON).
    pub public_jwk: String,
    /// The private key, encrypted (`keys::Sealer`).
    pub sealed_private_key: String,
}

/// A key about to be stored.
pub struct NewKeyRow<'a> {
    /// RFC 7638 thumbprint of the public key.
    pub kid: &'a str,
    /// `ES256` or `RS256`.
    pub alg: &'a str,
    /// The public key (JWK JSON).
    pub public_jwk: &'a str,
    /// The sealed private key.
    pub sealed_private_key: &'a str,
}

/// Every key still published at `now`: current, next, and retired ones whose time has not run out.
pub async fn published(db: impl Exec<'_>, now: i64) -> Result<Vec<KeyRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kid, alg, state, public_jwk, sealed_private_key, created_at, activated_at, publish_until
         FROM signing_keys WHERE publish_until IS NULL OR publish_until > $1 ORDER BY alg, created_at",
    )
    .bind(now)
    .fetch_all(db)
    .await
}

/// Stores `key` in `state` ([`CURRENT`] or [`NEXT`]) unless that place is already taken (another
/// instance got there first); returns whether it was stored.
pub async fn insert_if_vacant(
    db: impl Exec<'_>,
    key: &NewKeyRow<'_>,
    state: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let activated_at = (state == CURRENT).then_some(now);
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, state, public_jwk, sealed_private_key, created_at, activated_at, publish_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL) ON CONFLICT DO NOTHING",
    )
    .bind(key.kid)
    .bind(key.alg)
    .bind(state)
    .bind(key.public_jwk)
    .bind(key.sealed_private_key)
    .bind(now)
    .bind(activated_at)
    .execute(db)
    .await
    .map(|done| done.rows_affected() == 1)
}

/// Rotates `alg` if its current key became current at or before `due`: the current key retires
/// (published until `publish_until`), the next key becomes current, and `new_next` is the next one.
/// Returns false, changing nothing, when the current key is younger (someone else just rotated).
pub async fn rotate(
    db: &super::Db,
    alg: &str,
    due: i64,
    new_next: &NewKeyRow<'_>,
    publish_until: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    let retired = sqlx::query(
        "UPDATE signing_keys SET state = 'retired', publish_until = $3
         WHERE alg = $1 AND state = 'current' AND activated_at <= $2",
    )
    .bind(alg)
    .bind(due)
    .bind(publish_until)
    .execute(&mut *tx)
    .await?;
    if retired.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    let promoted =
        sqlx::query("UPDATE signing_keys SET state = 'current', activated_at = $2 WHERE alg = $1 AND state = 'next'")
            .bind(alg)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    // Without a next key (never the case once a ring has started), the new key signs at once.
    let (state, activated_at) = if promoted.rows_affected() == 1 { (NEXT, None) } else { (CURRENT, Some(now)) };
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, state, public_jwk, sealed_private_key, created_at, activated_at, publish_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
    )
    .bind(new_next.kid)
    .bind(new_next.alg)
    .bind(state)
    .bind(new_next.public_jwk)
    .bind(new_next.sealed_private_key)
    .bind(now)
    .bind(activated_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Deletes retired keys whose publication ended before `now` (their private halves go with them).
pub async fn prune(db: impl Exec<'_>, now: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM signing_keys WHERE state = 'retired' AND publish_until <= $1")
        .bind(now)
        .execute(db)
        .await
        .map(|done| done.rows_affected())
}
