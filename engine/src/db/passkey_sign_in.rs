//! The one write that spans tables: recording a passkey sign-in — the passkey's new counter, backup
//! state and last use, the new sign-in, and (for API clients) its first refresh token — in one
//! database round trip, with plain SQL per database.
//!
//! The counter condition is part of the UPDATE, so of two racing assertions only one moves the
//! counter (ceremony rule 6, docs/api.md), and the sign-in and token are written only when it moved.
//!
//! A sign-in is the hot path, and on SQLite every statement is a hand-off to the connection's
//! thread and back (BENCHMARKS.md), so the writes go as one batch rather than one call each:
//! PostgreSQL runs them as one statement of data-modifying CTEs; SQLite has no writable CTEs, so it
//! gets the statements in one string, each INSERT guarded by `changes() = 1` (the statement before
//! it wrote its one row). Each of those commits on its own: should a later one fail, the counter has
//! moved and no sign-in was started, and the caller answers with an error. Nothing is lost by that:
//! the assertion was genuine and is spent either way. (Wrapping them in a transaction was measured:
//! BEGIN and COMMIT are two more round trips, and cost more than the commits they save.)
//!
//! Parameters of every form: `$1` credential id, `$2` the serialised `Passkey`, `$3` its new
//! counter, `$4` backed up (0/1), `$5` now, `$6` sign-in id, `$7` user id, `$8` the client's
//! `User-Agent` (or NULL), and with a refresh token `$9` its hash and `$10` its expiry.

use super::passkeys::PasskeyRow;
use super::{Db, Dialect, flag};
use crate::types::SignInId;

const SQLITE: &str = "\
UPDATE passkeys SET passkey = $2, sign_count = $3, backed_up = $4, last_used_at = $5
 WHERE credential_id = $1 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0));
INSERT INTO sign_ins (id, user_id, revoked_at, created_at, method, passkey_id, auth_time, user_agent)
 SELECT $6, $7, NULL, $5, 'passkey', $1, $5, $8 WHERE changes() = 1";

const SQLITE_WITH_REFRESH_TOKEN: &str = "\
UPDATE passkeys SET passkey = $2, sign_count = $3, backed_up = $4, last_used_at = $5
 WHERE credential_id = $1 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0));
INSERT INTO sign_ins (id, user_id, revoked_at, created_at, method, passkey_id, auth_time, user_agent)
 SELECT $6, $7, NULL, $5, 'passkey', $1, $5, $8 WHERE changes() = 1;
INSERT INTO refresh_tokens (token_hash, sign_in_id, user_id, expires_at, used_at, created_at)
 SELECT $9, $6, $7, $10, NULL, $5 WHERE changes() = 1";

const POSTGRES: &str = "\
WITH used AS (
  UPDATE passkeys SET passkey = $2, sign_count = $3, backed_up = $4, last_used_at = $5
   WHERE credential_id = $1 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0))
   RETURNING user_id)
INSERT INTO sign_ins (id, user_id, revoked_at, created_at, method, passkey_id, auth_time, user_agent)
 SELECT $6, $7, NULL, $5, 'passkey', $1, $5, $8 FROM used";

const POSTGRES_WITH_REFRESH_TOKEN: &str = "\
WITH used AS (
  UPDATE passkeys SET passkey = $2, sign_count = $3, backed_up = $4, last_used_at = $5
   WHERE credential_id = $1 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0))
   RETURNING user_id),
sign_in AS (
  INSERT INTO sign_ins (id, user_id, revoked_at, created_at, method, passkey_id, auth_time, user_agent)
 SELECT $6, $7, NULL, $5, 'passkey', $1, $5, $8 FROM used RETURNING id)
INSERT INTO refresh_tokens (token_hash, sign_in_id, user_id, expires_at, used_at, created_at)
 SELECT $9, id, $7, $10, NULL, $5 FROM sign_in";

/// A passkey sign-in to record: the passkey's state after the assertion, and what the sign-in starts.
pub struct PasskeySignIn<'a> {
    /// The passkey with its new counter, backup state and serialised `Passkey`.
    pub updated: &'a PasskeyRow,
    /// The new sign-in.
    pub sign_in_id: &'a SignInId,
    /// The client's `User-Agent`, if it sent one.
    pub user_agent: Option<&'a str>,
    /// The sign-in's first refresh token (hash, expiry), for API clients; the portal stores none.
    pub refresh_token: Option<(&'a str, i64)>,
}

/// Records a passkey sign-in in one round trip. `false` means the counter did not advance (a
/// possibly cloned authenticator, or a racing assertion) and nothing was written.
pub async fn record(db: &Db, sign_in: &PasskeySignIn<'_>, now: i64) -> Result<bool, sqlx::Error> {
    let sql = match (db.dialect(), sign_in.refresh_token.is_some()) {
        (Dialect::Sqlite, false) => SQLITE,
        (Dialect::Sqlite, true) => SQLITE_WITH_REFRESH_TOKEN,
        (Dialect::Postgres, false) => POSTGRES,
        (Dialect::Postgres, true) => POSTGRES_WITH_REFRESH_TOKEN,
    };
    let updated = sign_in.updated;
    let mut query = sqlx::query(sql)
        .bind(&updated.credential_id)
        .bind(&updated.passkey)
        .bind(updated.sign_count)
        .bind(flag(updated.backed_up))
        .bind(now)
        .bind(sign_in.sign_in_id)
        .bind(&updated.user_id)
        .bind(sign_in.user_agent);
    if let Some((hash, expires_at)) = sign_in.refresh_token {
        query = query.bind(hash).bind(expires_at);
    }
    // Both forms report rows only when the UPDATE matched (SQLite sums its statements' counts).
    Ok(query.execute(db.pool()).await?.rows_affected() > 0)
}
