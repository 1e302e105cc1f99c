//! [`Change`]: one unit of work. A change to an account commits with its consequences — its
//! statements, the mail it causes (a row in the outbox) and its record in the account's activity —
//! in one database transaction. Only once that is committed does the mail worker wake, do the
//! metrics count it, and do the application's hooks hear of it.
//!
//! ```text
//! let mut change = accounts.notify.change(now).await?;      BEGIN
//! users::set_password_hash(change.db(), &id, &hash).await?; the statements
//! change.tell(Letter::Notice { .. }).await?;                the mail, same transaction
//! change.record(&id, Event::PasswordChanged, caller).await?; the activity row, same transaction
//! change.after(Hook::SignedIn(..));                         told once committed
//! change.commit().await?;                                   COMMIT, wake the mail worker, run the hooks
//! ```
//!
//! A change dropped before [`Change::commit`] — an error returned with `?`, a client that hung up —
//! rolls back: nothing of it is written and nobody is told. So there is no change without its
//! record and no record without its change, and no mail about a change that did not happen.

use proto::{PasskeyItem, UserInfo};
use sqlx::{Any, AnyConnection, Transaction};

use crate::base::config::Config;
use crate::base::error::Error;
use crate::base::types::{Caller, UserId};
use crate::db::Db;
use crate::db::{Dialect, activity, admin_audit, outbox, users};
use crate::notify::activity::{Event, Recorded};
use crate::notify::audit::{self, About, Action, Actor};
use crate::notify::hooks::{EventHooks, SignInMethod, run_hook};
use crate::notify::mail::{Letter, Mailer, compose};

/// The most mail one address is sent in an hour, whatever causes it.
pub const MAIL_PER_ADDRESS_AN_HOUR: i64 = 10;

/// One unit of work: begun by [`Notify::change`](super::Notify::change), committed by
/// [`Change::commit`], rolled back when dropped.
#[must_use = "a change that is not committed is rolled back"]
pub struct Change<'e> {
    tx: Transaction<'static, Any>,
    dialect: Dialect,
    config: &'e Config,
    now: i64,
    then: Consequences<'e>,
}

impl<'e> Change<'e> {
    /// BEGIN.
    pub async fn begin(
        db: &Db,
        config: &'e Config,
        mailer: &'e Mailer,
        hooks: &'e dyn EventHooks,
        now: i64,
    ) -> Result<Self, Error> {
        Ok(Self { tx: db.begin().await?, dialect: db.dialect(), config, now, then: Consequences::new(mailer, hooks) })
    }

    /// Where the change's statements run: the transaction.
    pub fn db(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// When the change is made (Unix seconds).
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The configuration (the site's name and address, for what is written).
    pub fn config(&self) -> &'e Config {
        self.config
    }

    /// Whether mail goes anywhere ([`Change::tell`] writes nothing when it does not).
    pub fn mail_enabled(&self) -> bool {
        self.then.mailer.enabled()
    }

    /// Writes `letter` into the outbox in this transaction (nothing when mail is off); the mail
    /// worker wakes once the change is committed.
    ///
    /// What an address is sent is bounded, so the portal's sender cannot be made a relay: a notice
    /// goes only to an address its account has confirmed (an unconfirmed one gets its confirmation
    /// and nothing else), and no address gets more than [`MAIL_PER_ADDRESS_AN_HOUR`] mails an
    /// hour — a notice past that is left out (the change still happens, and is in the account's
    /// activity), a mail that was asked for is refused with 429.
    pub async fn tell(&mut self, letter: Letter<'_>) -> Result<(), Error> {
        if !self.mail_enabled() {
            return Ok(());
        }
        let to = letter.recipient();
        if letter.is_notice() && !users::email_confirmed(&mut *self.tx, to).await? {
            tracing::info!(template = letter.template(), "notice not mailed: the address is not confirmed");
            return Ok(());
        }
        let hour_ago = self.now - 3600;
        if outbox::count_to(&mut *self.tx, to, hour_ago).await? >= MAIL_PER_ADDRESS_AN_HOUR {
            crate::base::measure::rate_limited("mail_per_address");
            if letter.is_notice() {
                tracing::warn!(template = letter.template(), "notice not mailed: its address had its mails this hour");
                return Ok(());
            }
            return Err(Error::TooManyMails { retry_after: std::time::Duration::from_secs(3600) });
        }
        let mail = compose(self.config, letter)?;
        outbox::insert(&mut *self.tx, &mail, self.now).await?;
        self.then.wake = true;
        Ok(())
    }

    /// Records `event` in `user_id`'s activity, made by `caller` (`None` when no request made
    /// it), in this transaction; the application's hook hears of it once the change is committed.
    pub async fn record(&mut self, user_id: &UserId, event: Event<'_>, caller: Option<&Caller>) -> Result<(), Error> {
        let recorded = Recorded::new(user_id, event, caller, self.now);
        let since = self.now - crate::notify::activity::REPEATS_WITHIN_SECS;
        let counted = recorded.repeats() && activity::repeat(&mut *self.tx, &recorded.row(), since).await?;
        if !counted {
            activity::insert(&mut *self.tx, &recorded.row()).await?;
        }
        self.then.recorded(recorded);
        Ok(())
    }

    /// Records the administrative `action` by `actor` in the administrators' record
    /// (`notify/audit.rs`), in this transaction.
    pub async fn audit(&mut self, actor: &Actor, action: Action, about: About<'_>) -> Result<(), Error> {
        admin_audit::insert(&mut *self.tx, &audit::row(actor, action, about, self.now)).await?;
        Ok(())
    }

    /// Which database the change runs on, for the few statements whose form differs.
    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Tells the application `hook` once the change is committed.
    pub fn after(&mut self, hook: Hook) {
        self.then.after(hook);
    }

    /// COMMIT; then wakes the mail worker and runs the hooks, in the order they were added.
    pub async fn commit(self) -> Result<(), Error> {
        self.tx.commit().await?;
        self.then.follow().await;
        Ok(())
    }
}

/// What the application's [`EventHooks`] hear of, once a change is committed.
#[derive(Debug, Clone)]
pub enum Hook {
    /// A new account ([`EventHooks::on_signed_up`]).
    SignedUp(UserInfo),
    /// A sign-in ([`EventHooks::on_signed_in`]).
    SignedIn(UserInfo, SignInMethod),
    /// A passkey added ([`EventHooks::on_passkey_registered`]).
    PasskeyRegistered(UserInfo, PasskeyItem),
    /// A passkey removed ([`EventHooks::on_passkey_deleted`]).
    PasskeyDeleted(UserInfo, PasskeyItem),
    /// An account deleted ([`EventHooks::on_account_deleted`]).
    AccountDeleted(UserInfo),
}

/// What follows a committed write: the mail worker woken, sign-ins counted, hooks run. A
/// [`Change`] keeps one; the passkey sign-in, whose write is one batch of its own
/// (`db/passkey_sign_in.rs`), makes one itself.
pub struct Consequences<'e> {
    mailer: &'e Mailer,
    hooks: &'e dyn EventHooks,
    wake: bool,
    told: Vec<Told>,
}

/// One thing to tell, in order.
enum Told {
    Activity(Recorded),
    Hook(Hook),
}

impl<'e> Consequences<'e> {
    /// Nothing to follow yet.
    pub fn new(mailer: &'e Mailer, hooks: &'e dyn EventHooks) -> Self {
        Self { mailer, hooks, wake: false, told: Vec::new() }
    }

    /// An event written with the change: counted, and told to [`EventHooks::on_activity`].
    pub fn recorded(&mut self, recorded: Recorded) {
        self.told.push(Told::Activity(recorded));
    }

    /// A hook to run.
    pub fn after(&mut self, hook: Hook) {
        self.told.push(Told::Hook(hook));
    }

    /// Once committed: wakes the mail worker, counts, and runs the hooks. A failing hook is logged
    /// and changes nothing (`hooks.rs`).
    pub async fn follow(self) {
        if self.wake {
            self.mailer.wake();
        }
        for told in self.told {
            match told {
                Told::Activity(recorded) => {
                    let (user_id, item) = recorded.told();
                    run_hook("on_activity", self.hooks.on_activity(&user_id, &item)).await;
                }
                Told::Hook(hook) => run(self.hooks, hook).await,
            }
        }
    }
}

async fn run(hooks: &dyn EventHooks, hook: Hook) {
    match &hook {
        Hook::SignedUp(user) => run_hook("on_signed_up", hooks.on_signed_up(user)).await,
        Hook::SignedIn(user, method) => run_hook("on_signed_in", hooks.on_signed_in(user, *method)).await,
        Hook::PasskeyRegistered(user, passkey) => {
            run_hook("on_passkey_registered", hooks.on_passkey_registered(user, passkey)).await;
        }
        Hook::PasskeyDeleted(user, passkey) => {
            run_hook("on_passkey_deleted", hooks.on_passkey_deleted(user, passkey)).await;
        }
        Hook::AccountDeleted(user) => run_hook("on_account_deleted", hooks.on_account_deleted(user)).await,
    }
}
