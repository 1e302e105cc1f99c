//! Queries on `login_attempts`: the password sign-in budget of an (email, address) pair, taken in
//! one atomic statement before any password is checked.

use sqlx::FromRow;

use super::Exec;

/// What reserving one attempt found.
#[derive(Debug, FromRow)]
pub struct Reservation {
    /// Every try so far, this one included.
    pub attempts: i64,
    /// The number of the last try that was allowed to check a password.
    pub granted: i64,
    /// Tries allowed since the last success, this one included when it was allowed.
    pub failures: i64,
    /// No try is allowed before this time (Unix seconds).
    pub locked_until: Option<i64>,
}

impl Reservation {
    /// Whether this try may check a password.
    pub fn allowed(&self) -> bool {
        self.attempts == self.granted
    }
}

/// How a pair's tries are budgeted: `free` tries (at least 2, so a first try never locks), then a
/// lock of `lock_seconds` (an SQL expression of `login_attempts.failures`, the count before this
/// try); when `starts_over`, a lock that has run out leaves a fresh budget behind instead of
/// locking again on the next failure.
pub struct Budget<'a> {
    pub free: i64,
    pub lock_seconds: &'a str,
    pub starts_over: bool,
}

/// Counts a try for (`email`, `address`) and, unless the pair is locked, allows it; when it is the
/// `free`-th (or a later) try of its budget, the pair is locked at once, so concurrent tries are
/// refused rather than evaluated. One statement: of a burst, exactly the tries within the budget
/// are allowed.
pub async fn reserve(
    db: impl Exec<'_>,
    email: &str,
    address: &str,
    budget: &Budget<'_>,
    now: i64,
) -> Result<Reservation, sqlx::Error> {
    let lock_seconds = budget.lock_seconds;
    let (fresh_failures, fresh_lock) = if budget.starts_over {
        (
            "WHEN login_attempts.locked_until IS NOT NULL THEN 1",
            "WHEN login_attempts.locked_until IS NOT NULL THEN NULL",
        )
    } else {
        ("", "")
    };
    let sql = format!(
        "INSERT INTO login_attempts (email, address, attempts, granted, failures, locked_until, updated_at)
         VALUES ($1, $2, 1, 1, 1, NULL, $3)
         ON CONFLICT (email, address) DO UPDATE SET
             attempts = login_attempts.attempts + 1,
             granted = CASE WHEN login_attempts.locked_until > $3 THEN login_attempts.granted
                            ELSE login_attempts.attempts + 1 END,
             failures = CASE WHEN login_attempts.locked_until > $3 THEN login_attempts.failures
                             {fresh_failures}
                             ELSE login_attempts.failures + 1 END,
             locked_until = CASE WHEN login_attempts.locked_until > $3 THEN login_attempts.locked_until
                                 {fresh_lock}
                                 WHEN login_attempts.failures + 1 >= $4 THEN $3 + {lock_seconds}
                                 ELSE NULL END,
             updated_at = $3
         RETURNING attempts, granted, failures, locked_until"
    );
    sqlx::query_as(&sql).bind(email).bind(address).bind(now).bind(budget.free).fetch_one(db).await
}

/// Forgets the tries of (`email`, `address`) after a successful sign-in.
pub async fn clear(db: impl Exec<'_>, email: &str, address: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_attempts WHERE email = $1 AND address = $2")
        .bind(email)
        .bind(address)
        .execute(db)
        .await
        .map(|_| ())
}

/// Drops the pairs not tried since `before` and no longer locked (housekeeping).
pub async fn prune(db: impl Exec<'_>, before: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM login_attempts WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $1)")
        .bind(before)
        .execute(db)
        .await
        .map(|done| done.rows_affected())
}
