//! Housekeeping: what expires is deleted, so the tables stay the size of what is live — refresh
//! tokens past their expiry, sign-ins ended more than a day ago, login-attempt counters idle for a
//! day, authorization codes expired for a day and activity older than
//! `LATCHKEY_ACTIVITY_RETENTION_DAYS`, mail sent a day ago and email verifications expired for a day;
//! and the signing keys' schedule: a key that has
//! signed for `LATCHKEY_KEY_ROTATION_SECS` is rotated and retired keys past their publication are
//! deleted (`keys.rs`). Runs at start-up and then hourly on every instance (the deletes are
//! idempotent; the database picks one rotator).

use std::sync::Arc;
use std::time::Duration;

use crate::base::clock;
use crate::base::config::Config;
use crate::base::error::Error;
use crate::db::{
    Db, activity, authorization_codes, email_verifications, login_attempts, outbox, recovery_links, refresh_tokens,
    sign_ins,
};
use crate::tokens::keys::{self, KeyRing};

/// How often the tables are swept.
const EVERY: Duration = Duration::from_secs(3600);
/// Ended sign-ins and idle counters are kept this long (seconds), for whoever looks into an incident.
const KEEP: i64 = 24 * 3600;

/// What one sweep deleted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Expired refresh tokens.
    pub refresh_tokens: u64,
    /// Sign-ins ended more than a day ago.
    pub sign_ins: u64,
    /// Login-attempt counters idle for a day and not locked.
    pub login_attempts: u64,
    /// Authorization codes expired for a day (kept that long so a late replay is still recognised).
    pub authorization_codes: u64,
    /// Activity older than the retention time.
    pub activity: u64,
    /// Mail sent (or refused for good) more than a day ago.
    pub mail: u64,
    /// Email verifications expired for a day.
    pub email_verifications: u64,
    /// Recovery links expired for a day.
    pub recovery_links: u64,
}

/// Deletes what expired as of `now`; the activity kept for `activity_retention`
/// (`LATCHKEY_ACTIVITY_RETENTION_DAYS`).
pub async fn prune(db: &Db, activity_retention: Duration, now: i64) -> Result<Pruned, Error> {
    let retention = i64::try_from(activity_retention.as_secs()).unwrap_or(i64::MAX);
    Ok(Pruned {
        refresh_tokens: refresh_tokens::prune(db, now).await?,
        sign_ins: sign_ins::prune_ended(db, now - KEEP).await?,
        login_attempts: login_attempts::prune(db, now - KEEP).await?,
        authorization_codes: authorization_codes::prune(db, now - KEEP).await?,
        activity: activity::prune(db, now.saturating_sub(retention)).await?,
        mail: outbox::prune(db, now - KEEP).await?,
        email_verifications: email_verifications::prune(db, now - KEEP).await?,
        recovery_links: recovery_links::prune(db, now - KEEP).await?,
    })
}

/// Sweeps now and then every hour, in the background: rotates the signing keys when due
/// (`LATCHKEY_KEY_ROTATION_DAYS`) and prunes.
pub fn start(db: Db, keys: Arc<KeyRing>, config: &Config) {
    let (rotation, retention) = (config.tokens.key_rotation, config.stores.activity_retention);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        loop {
            every.tick().await;
            if let Err(error) = keys::rotate_due(&keys, rotation, clock::now()).await {
                tracing::warn!(%error, "signing key schedule failed; retrying in an hour");
            }
            match prune(&db, retention, clock::now()).await {
                Ok(pruned) if pruned != Pruned::default() => tracing::info!(?pruned, "housekeeping"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "housekeeping failed; retrying in an hour"),
            }
        }
    });
}
