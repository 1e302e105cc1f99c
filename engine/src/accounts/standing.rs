//! An account's standing: disabled by the operator — every sign-in ended at once (browser, REST
//! and apps), and no sign-in, refresh or recovery link works until it is enabled again — or
//! enabled. Each is one change: the flag, the ended sign-ins, the owner's record and their mail.

use super::Accounts;
use crate::base::error::Error;
use crate::base::types::Email;
use crate::db::{email_verifications, users};
use crate::notify::activity::Event;
use crate::notify::mail::{Letter, Notice};
use crate::sign_in::{Which, end};

/// What [`set_disabled`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The account is now disabled; this many sign-ins were ended.
    Disabled {
        /// Sign-ins ended (portal, REST and app sign-ins alike).
        sign_ins_ended: u64,
    },
    /// The account may sign in again.
    Enabled,
    /// It already was as asked: nothing changed, nobody was told.
    Unchanged,
}

/// Disables (`disabled`) or enables the account of `email`.
pub async fn set_disabled(accounts: &Accounts, email: &str, disabled: bool, now: i64) -> Result<Standing, Error> {
    let email = Email::parse(email)?;
    let mut change = accounts.notify.change(now).await?;
    let user = users::by_email(change.db(), email.as_str()).await?.ok_or(Error::AccountNotFound)?;
    if !users::set_disabled(change.db(), &user.id, disabled.then_some(now)).await? {
        return Ok(Standing::Unchanged);
    }
    let standing = if disabled {
        let ended = end(change.db(), Which::AllOf(&user.id), now).await?.count();
        // A move to a new address still waiting for its confirmation dies with the sign-ins, as
        // when they are ended by the owner: a thief's request must not outlive the account's use.
        email_verifications::cancel(change.db(), &user.id, email_verifications::CHANGE, now).await?;
        change.record(&user.id, Event::AccountDisabled, None).await?;
        change.tell(Letter::Notice { email: &user.email, what: Notice::AccountDisabled }).await?;
        Standing::Disabled { sign_ins_ended: ended }
    } else {
        change.record(&user.id, Event::AccountEnabled, None).await?;
        change.tell(Letter::Notice { email: &user.email, what: Notice::AccountEnabled }).await?;
        Standing::Enabled
    };
    change.commit().await?;
    tracing::info!(user_id = %user.id, ?standing, "account standing changed by the operator");
    Ok(standing)
}
