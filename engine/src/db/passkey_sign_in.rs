//! The one write that spans tables: recording a passkey sign-in — the passkey's new counter, backup
//! state and last use, the new sign-in, (for API clients) its first refresh token, and its record
//! in the owner's activity — in one transaction and one database round trip, with plain SQL per
//! database.
//!
//! The counter condition is part of the UPDATE, so of two racing assertions only one moves the
//! counter (ceremony rule 6, docs/api.md), and the rest is written only when it moved.
//!
//! A sign-in is the hot path, and on SQLite every statement is a hand-off to the connection's
//! thread and back (BENCHMARKS.md), so the writes go as one batch rather than one call each (sqlx's
//! own BEGIN and COMMIT would be two more hand-offs):
//! - PostgreSQL runs them as one statement of data-modifying CTEs, atomic as any statement is.
//! - SQLite has no writable CTEs, so it gets the statements in one string between `BEGIN
//!   IMMEDIATE` and `COMMIT`, each INSERT guarded by `changes() = 1` (the statement before it wrote
//!   its one row). sqlx does not know of a transaction it did not begin, so the batch runs in a task
//!   of its own that ends it either way — COMMIT, or ROLLBACK after a failed statement — even when
//!   the request that asked is dropped meanwhile; a connection it cannot bring back to no
//!   transaction is closed, never returned to the pool.
//!
//! Parameters of every form: `$1` credential id, `$2` the serialised `Passkey`, `$3` its new
//! counter, `$4` backed up (0/1), `$5` now, `$6` sign-in id, `$7` user id, `$8` the client's
//! `User-Agent` (or NULL), `$9` the activity row's id, `$10` its kind, `$11` its detail, `$12` the
//! client's address, `$13` its network (the list of sign-ins shows it), and with a refresh token
//! `$14` its hash and `$15` its expiry.

use sqlx::any::AnyArguments;
use sqlx::pool::PoolConnection;
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Executor as _};

use super::activity::NewActivity;
use super::passkeys::PasskeyRow;
use super::{Db, Dialect, flag};
use crate::base::types::SignInId;

const SQLITE: &str = "\
BEGIN IMMEDIATE;
UPDATE passkeys SET passkey = $2, sign_count = $3, backed_up = $4, last_used_at = $5
 WHERE credential_id = $1 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0));
INSERT INTO sign_ins (id, user_id, revoked_at, created_at, method, passkey_id, auth_time, user_agent, network)
 SELECT $6, $7, NULL, $5, 'passkey', $1, $5, $8, $13 WHERE changes() = 1;
INSERT INTO activity (id, user_id, at, kind, detail, address, user_agent)
 SELECT $9, $7, $5, $10, $11, $12, $8 WHERE changes() = 1 RETURNING id;
COMMIT";

const SQLITE_WITH_REFRESH_TOKEN: &str = "\
BEGIN IMMEDIATE;
UPDATE passkeys SET passkey = $2, sign_count = $3, backed_up = $4, last_used_at = $5
 WHERE credential_id = $1 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0));
INSERT INTO sign_ins (id, user_id, revoked_at, created_at, method, passkey_id, auth_time, user_agent, network)
 SELECT $6, $7, NULL, $5, 'passkey', $1, $5, $8, $13 WHERE changes() = 1;
INSERT INTO refresh_tokens (token_hash, sign_in_id, user_id, expires_at, used_at, created_at)
 SELECT $14, $6, $7, $15, NULL, $5 WHERE changes() = 1;
INSERT INTO activity (id, user_id, at, kind, detail, address, user_agent)
 SELECT $9, $7, $5, $10, $11, $12, $8 WHERE changes() = 1 RETURNING id;
COMMIT";

const POSTGRES: &str = "\
WITH used AS (
  UPDATE passkeys SET passkey = $2, sign_count = $3, backed_up = $4, last_used_at = $5
   WHERE credential_id = $1 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0))
   RETURNING user_id),
sign_in AS (
  INSERT INTO sign_ins (id, user_id, revoked_at, created_at, method, passkey_id, auth_time, user_agent, network)
  SELECT $6, $7, NULL, $5, 'passkey', $1, $5, $8, $13 FROM used RETURNING id)
INSERT INTO activity (id, user_id, at, kind, detail, address, user_agent)
 SELECT $9, $7, $5, $10, $11, $12, $8 FROM sign_in RETURNING id";

const POSTGRES_WITH_REFRESH_TOKEN: &str = "\
WITH used AS (
  UPDATE passkeys SET passkey = $2, sign_count = $3, backed_up = $4, last_used_at = $5
   WHERE credential_id = $1 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0))
   RETURNING user_id),
sign_in AS (
  INSERT INTO sign_ins (id, user_id, revoked_at, created_at, method, passkey_id, auth_time, user_agent, network)
  SELECT $6, $7, NULL, $5, 'passkey', $1, $5, $8, $13 FROM used RETURNING id),
token AS (
  INSERT INTO refresh_tokens (token_hash, sign_in_id, user_id, expires_at, used_at, created_at)
  SELECT $14, id, $7, $15, NULL, $5 FROM sign_in)
INSERT INTO activity (id, user_id, at, kind, detail, address, user_agent)
 SELECT $9, $7, $5, $10, $11, $12, $8 FROM sign_in RETURNING id";

/// A passkey sign-in to record: the passkey's state after the assertion, what the sign-in starts,
/// and its record.
pub struct PasskeySignIn<'a> {
    /// The passkey with its new counter, backup state and serialised `Passkey`.
    pub updated: &'a PasskeyRow,
    /// The new sign-in.
    pub sign_in_id: &'a SignInId,
    /// The sign-in's first refresh token (hash, expiry), for API clients; the portal stores none.
    pub refresh_token: Option<(&'a str, i64)>,
    /// The sign-in's record in the owner's activity; its user, time and `User-Agent` (the
    /// client's, if it sent one) are the sign-in's too.
    pub activity: NewActivity<'a>,
    /// The network the client is in (`203.0.113.0/24`), for the list of sign-ins.
    pub network: Option<&'a str>,
}

/// Records a passkey sign-in in one transaction and one round trip. `false` means the counter did
/// not advance (a possibly cloned authenticator, or a racing assertion) and nothing was written.
pub async fn record(db: &Db, sign_in: &PasskeySignIn<'_>, now: i64) -> Result<bool, sqlx::Error> {
    let sql = match (db.dialect(), sign_in.refresh_token.is_some()) {
        (Dialect::Sqlite, false) => SQLITE,
        (Dialect::Sqlite, true) => SQLITE_WITH_REFRESH_TOKEN,
        (Dialect::Postgres, false) => POSTGRES,
        (Dialect::Postgres, true) => POSTGRES_WITH_REFRESH_TOKEN,
    };
    let (updated, activity) = (sign_in.updated, &sign_in.activity);
    // Owned values: on SQLite the query moves into a task of its own.
    let mut query = sqlx::query(sql)
        .bind(updated.credential_id.to_string())
        .bind(updated.passkey.clone())
        .bind(updated.sign_count)
        .bind(flag(updated.backed_up))
        .bind(now)
        .bind(sign_in.sign_in_id.to_string())
        .bind(updated.user_id.to_string())
        .bind(activity.user_agent.map(str::to_owned))
        .bind(activity.id.to_owned())
        .bind(activity.kind.to_owned())
        .bind(activity.detail.map(str::to_owned))
        .bind(activity.address.map(str::to_owned))
        .bind(sign_in.network.map(str::to_owned));
    if let Some((hash, expires_at)) = sign_in.refresh_token {
        query = query.bind(hash.to_owned()).bind(expires_at);
    }
    // The last INSERT returns the activity row's id, which it writes only when every statement
    // before it wrote its row. (Not a sum of changes: sqlx reads SQLite's change count after BEGIN
    // and COMMIT too, which then still report the connection's previous statement.)
    let written = match db.dialect() {
        // All of the answer, to its end: a COMMIT refused after the row came (a deferred check) is an error.
        Dialect::Postgres => !db.pool().fetch_all(query).await?.is_empty(),
        Dialect::Sqlite => {
            let pool = db.pool().clone();
            tokio::spawn(async move { in_own_transaction(&pool, query).await })
                .await
                .map_err(|_| sqlx::Error::WorkerCrashed)??
        }
    };
    Ok(written)
}

/// Runs a batch that begins and commits its own transaction, on one connection; says whether it
/// returned a row (the sign-in was written). After a failed statement it rolls back. A connection
/// that may still be inside the batch's transaction — its ROLLBACK failed for another reason than
/// there being none, or the task panicked midway — is closed rather than handed to the next caller.
async fn in_own_transaction(
    pool: &AnyPool,
    batch: Query<'static, Any, AnyArguments<'static>>,
) -> Result<bool, sqlx::Error> {
    let mut conn = ClosedOnPanic(pool.acquire().await?);
    match conn.0.fetch_all(batch).await {
        Ok(returned) => Ok(!returned.is_empty()),
        Err(error) => {
            match conn.0.execute("ROLLBACK").await {
                Ok(_) => {}
                // BEGIN itself failed (the busy timeout ran out): the connection is as it was.
                Err(sqlx::Error::Database(none)) if none.message().contains("no transaction is active") => {}
                Err(rollback) => {
                    tracing::warn!(%rollback, "sign-in batch could not roll back; closing its connection");
                    conn.0.close_on_drop();
                }
            }
            Err(error)
        }
    }
}

/// A pooled connection that is closed instead of returned to the pool when it is dropped by a
/// panic: sqlx does not know of the batch's transaction, so it could not roll it back itself.
struct ClosedOnPanic(PoolConnection<Any>);

impl Drop for ClosedOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.close_on_drop();
        }
    }
}
