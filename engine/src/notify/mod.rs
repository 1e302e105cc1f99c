//! A change and what it tells: [`change`] (`Change`, one unit of work: the change's statements, its
//! mail and its record, committed together, then the hooks), [`mail`] (letters from templates,
//! through the outbox table, to the SMTP server), [`activity`] (each account's record of security
//! events) and [`hooks`] (what the application built on Latchkey hears).

//!
//! [`Notify`] is the wing's handle: what every other wing holds to begin a change.

pub mod activity;
pub mod audit;
pub mod change;
pub mod hooks;
pub mod mail;

use std::sync::Arc;

use crate::base::config::Config;
use crate::base::error::Error;
use crate::db::Db;
use change::{Change, Consequences};
use hooks::EventHooks;
use mail::Mailer;

/// What a change needs to commit with its consequences: the database, the configuration (the
/// site's name and address, for what is written), the mailer and the application's hooks. Cheap
/// to clone.
#[derive(Clone)]
pub struct Notify {
    db: Db,
    config: Arc<Config>,
    mail: Arc<Mailer>,
    hooks: Arc<dyn EventHooks>,
}

impl Notify {
    /// The handle over these parts.
    pub fn new(db: Db, config: Arc<Config>, mail: Arc<Mailer>, hooks: Arc<dyn EventHooks>) -> Self {
        Self { db, config, mail, hooks }
    }

    /// BEGIN of one unit of work: a change and its consequences, committed together ([`change`]).
    pub async fn change(&self, now: i64) -> Result<Change<'_>, Error> {
        Change::begin(&self.db, &self.config, &self.mail, &*self.hooks, now).await
    }

    /// What follows a write that commits on its own (the passkey sign-in's batch).
    pub fn consequences(&self) -> Consequences<'_> {
        Consequences::new(&self.mail, &*self.hooks)
    }

    /// Whether mail goes anywhere (an SMTP server is configured).
    pub fn mail_enabled(&self) -> bool {
        self.mail.enabled()
    }

    /// The mailer, for the outbox worker.
    pub fn mailer(&self) -> &Arc<Mailer> {
        &self.mail
    }
}
