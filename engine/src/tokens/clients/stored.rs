//! The apps administrators make (the console, the admin API), kept in the database and held in
//! memory as a [`Snapshot`]. Every change moves a version counter in its own transaction; each
//! instance reads the counter every [`WATCH_EVERY`] and the apps again when it moved, so a change
//! made on one instance is in force on all of them within seconds (docs/admin.md, "Several
//! instances"). The instance that made the change reads them at once.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{Client, ClientSecret, Clients, ClientsError, Settings, Source};
use crate::base::error::Error;
use crate::base::types::Secret;
use crate::db::Db;
use crate::db::apps::{self, AppRow};

/// How often each instance looks for changes made elsewhere: a change is in force everywhere
/// within this and one read of the apps (the bound is five seconds).
pub const WATCH_EVERY: Duration = Duration::from_secs(2);

/// The database's apps as last read, and the version they were read at.
#[derive(Debug, Default)]
pub struct Snapshot {
    version: Option<i64>,
    pub(super) by_id: HashMap<String, Arc<Client>>,
}

/// A new secret, as the app is given it once, and the digest that is kept.
pub fn new_secret() -> (Secret, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let digest = hex(&Sha256::digest(secret.as_bytes()));
    (Secret::new(secret), digest)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl AppRow {
    /// Its settings.
    pub fn settings(&self) -> Result<Settings, String> {
        serde_json::from_str(&self.settings).map_err(|e| format!("settings: {e}"))
    }

    /// The app, checked as a clients-file entry is.
    pub fn client(&self) -> Result<Client, String> {
        let settings = self.settings()?;
        let checked = settings.check(&self.client_id)?;
        let secret = match (&self.secret_digest, settings.public) {
            (None, true) => None,
            (Some(current), false) => {
                let current = digest(current).ok_or("secret_digest: not a SHA-256")?;
                let previous = match (&self.previous_secret_digest, self.previous_secret_until) {
                    (Some(old), Some(until)) => {
                        Some((digest(old).ok_or("previous_secret_digest: not a SHA-256")?, until))
                    }
                    _ => None,
                };
                Some(ClientSecret::Generated { current, previous })
            }
            _ => return Err("secret_digest: does not match `public`".into()),
        };
        Ok(checked.into_client(self.client_id.clone(), secret, None, Source::Console))
    }
}

impl Clients {
    /// Reads the database's apps at start-up: one whose id is also in the clients file is refused
    /// with a sentence, as is one that no longer passes the checks.
    pub async fn load_stored(&self, db: &Db) -> Result<(), ClientsError> {
        let unreadable = |e: Error| ClientsError(format!("the apps in the database cannot be read: {e}"));
        let version = apps::version(db).await.map_err(|e| unreadable(e.into()))?;
        let rows = apps::all(db).await.map_err(|e| unreadable(e.into()))?;
        let mut by_id = HashMap::new();
        for row in rows {
            if self.file.contains_key(&row.client_id) {
                return Err(ClientsError(format!(
                    "client `{}` is in this file and also an app made in the admin console; remove it from \
                     one of them (the console deletes its own)",
                    row.client_id
                )));
            }
            let client = row.client().map_err(|why| {
                ClientsError(format!("the console's app `{}` is refused: {why}; fix it in the console", row.client_id))
            })?;
            by_id.insert(row.client_id, Arc::new(client));
        }
        self.replace(Snapshot { version: Some(version), by_id });
        Ok(())
    }

    /// Reads the database's apps again if they changed since they were last read. An app that
    /// cannot be used (its id taken by the clients file on this instance, or settings this
    /// version refuses) is left out and logged; the others stay in force.
    pub async fn refresh(&self, db: &Db) -> Result<(), Error> {
        let version = apps::version(db).await?;
        if self.snapshot().version.is_some_and(|held| held >= version) {
            return Ok(());
        }
        let rows = apps::all(db).await?;
        let mut by_id = HashMap::new();
        for row in rows {
            if self.file.contains_key(&row.client_id) {
                tracing::error!(client_id = row.client_id, "a console app has the id of a clients-file app; left out");
                continue;
            }
            match row.client() {
                Ok(client) => {
                    by_id.insert(row.client_id, Arc::new(client));
                }
                Err(why) => tracing::error!(client_id = row.client_id, why, "a console app is refused; left out"),
            }
        }
        self.replace(Snapshot { version: Some(version), by_id });
        Ok(())
    }

    /// Holds `snapshot` unless a newer one is held already (two reads may finish out of order).
    fn replace(&self, snapshot: Snapshot) {
        let mut held = self.stored.write().unwrap_or_else(PoisonError::into_inner);
        if held.version <= snapshot.version {
            *held = Arc::new(snapshot);
        }
    }
}

/// Looks for changes every [`WATCH_EVERY`], in the background, for as long as the instance holds
/// its apps: it keeps only a weak handle on them, so an instance that is dropped (tests and tools
/// build several in one process) stops its watch and lets its pool's connections go.
pub fn watch(clients: &Arc<Clients>, db: Db) {
    let clients = Arc::downgrade(clients);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(WATCH_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is at once, and start-up has just read the apps.
        every.tick().await;
        loop {
            every.tick().await;
            let Some(clients) = clients.upgrade() else { break };
            if let Err(error) = clients.refresh(&db).await {
                tracing::warn!(%error, "apps not read again; keeping the ones read before");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_secret_is_256_random_bits_of_which_only_the_digest_is_kept() {
        let (secret, kept) = new_secret();
        assert_eq!(secret.expose().len(), 43);
        assert_eq!(digest(&kept), Some(Sha256::digest(secret.expose().as_bytes()).into()));
        assert!(!kept.contains(secret.expose()));
        assert_ne!(new_secret().1, kept);
        assert_eq!(digest("zz"), None);
        assert_eq!(digest(&"g".repeat(64)), None);
    }
}
