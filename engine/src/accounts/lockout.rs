//! The password lockout (docs/security.md): a budget of password checks per email, taken
//! atomically *before* a password is checked, so a burst of concurrent guesses gets no more checks
//! than guesses sent one by one.
//!
//! Two budgets, both keyed by the email as typed (so an unknown email locks exactly like a real
//! one, and a 429 reveals nothing):
//! - per email and client address: 5 tries, then a lock of 30 s that doubles with every further
//!   failure up to 15 minutes, until a success. A guesser locks only their own address.
//! - per email across all addresses: 20 tries, then a lock of 15 minutes; when it has run out the
//!   budget starts over. So locking the owner's password sign-in everywhere takes 20 failures from
//!   several addresses (each limited as above) for every 15 minutes it lasts, never one request
//!   per lock, and guessing across addresses gets at most 20 tries a quarter-hour (80 an hour, under
//!   the 100 OWASP ASVS allows).
//!
//! Passkey sign-in and recovery links do not check the password and are never locked. A success
//! clears both budgets.
use std::sync::OnceLock;
use std::time::Duration;

use super::Accounts;
use crate::base::error::Error;
use crate::db::login_attempts::{self, Budget};

/// Tries per email and client address before the first lock.
pub const FREE_PER_ADDRESS: i64 = 5;
/// Tries per email across all addresses before the first lock.
pub const FREE_PER_ACCOUNT: i64 = 20;
/// The first lock of an address; it doubles with every further failure, up to [`MAX_LOCK`], which
/// is also the account-wide lock.
const FIRST_LOCK: Duration = Duration::from_secs(30);
const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
/// The `address` of the all-addresses budget.
const ALL_ADDRESSES: &str = "*";

/// The lock after the `over`-th try beyond the free ones (0: the last free try): 30 s, doubling, at
/// most 15 minutes.
pub fn lock_duration(over: i64) -> Duration {
    let doublings = u32::try_from(over).unwrap_or(0).min(16);
    FIRST_LOCK.saturating_mul(1 << doublings).min(MAX_LOCK)
}

/// [`lock_duration`] as the SQL the reservation runs (`$4` is the free tries), written out once
/// from the function so the two cannot disagree.
fn lock_seconds_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let mut sql = String::from("CASE (login_attempts.failures + 1 - $4)");
        let mut over = 0;
        while lock_duration(over) < MAX_LOCK {
            sql.push_str(&format!(" WHEN {over} THEN {}", lock_duration(over).as_secs()));
            over += 1;
        }
        sql.push_str(&format!(" ELSE {} END", MAX_LOCK.as_secs()));
        sql
    })
}

/// Takes one password check from `email`'s budgets for `address`, or refuses with
/// [`Error::TooManyAttempts`] (without saying whether the account exists).
pub async fn take_attempt(accounts: &Accounts, email: &str, address: &str, now: i64) -> Result<(), Error> {
    let account_lock = MAX_LOCK.as_secs().to_string();
    let per_address = Budget { free: FREE_PER_ADDRESS, lock_seconds: lock_seconds_sql(), starts_over: false };
    let per_account = Budget { free: FREE_PER_ACCOUNT, lock_seconds: &account_lock, starts_over: true };
    for (scope, budget) in [(address, per_address), (ALL_ADDRESSES, per_account)] {
        let reservation = login_attempts::reserve(&accounts.db, email, scope, &budget, now).await?;
        if !reservation.allowed() {
            let until = reservation.locked_until.unwrap_or(now);
            tracing::info!(scope, "password sign-in refused while locked");
            crate::base::measure::rate_limited("lockout");
            return Err(Error::TooManyAttempts {
                retry_after: Duration::from_secs(u64::try_from(until - now).unwrap_or(0).max(1)),
            });
        }
    }
    Ok(())
}

/// After a successful sign-in: `email`'s tries from `address`, and across addresses, start over.
pub async fn forget_attempts(accounts: &Accounts, email: &str, address: &str) -> Result<(), Error> {
    login_attempts::clear(&accounts.db, email, address).await?;
    login_attempts::clear(&accounts.db, email, ALL_ADDRESSES).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_double_from_thirty_seconds_up_to_fifteen_minutes() {
        assert_eq!(lock_duration(0), Duration::from_secs(30));
        assert_eq!(lock_duration(1), Duration::from_secs(60));
        assert_eq!(lock_duration(4), Duration::from_secs(480));
        assert_eq!(lock_duration(5), MAX_LOCK);
        assert_eq!(lock_duration(1_000), MAX_LOCK);
    }

    #[test]
    fn the_sql_says_what_the_function_says() {
        assert_eq!(
            lock_seconds_sql(),
            "CASE (login_attempts.failures + 1 - $4) WHEN 0 THEN 30 WHEN 1 THEN 60 WHEN 2 THEN 120 WHEN 3 THEN 240 \
             WHEN 4 THEN 480 ELSE 900 END"
        );
    }
}
