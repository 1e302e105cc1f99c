//! An account's standing: disabled by the operator — every sign-in ended at once (browser, REST
//! and apps), and no sign-in, refresh or recovery link works until it is enabled again — or
//! enabled. Each is one change: the flag, the ended sign-ins, the owner's record and their mail.

use super::{Accounts, admins};
use crate::base::error::Error;
use crate::base::types::UserId;
use crate::db::{email_verifications, users};
use crate::notify::activity::Event;
use crate::notify::audit::{About, Action, Actor};
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

/// Disables (`disabled`) or enables the account `id`, by `actor`. The last administrator who can
/// act is not disabled ([`Error::LastAdmin`]).
pub async fn set_disabled(
    accounts: &Accounts,
    actor: &Actor,
    id: &UserId,
    disabled: bool,
    now: i64,
) -> Result<Standing, Error> {
    let mut change = accounts.notify.change(now).await?;
    let user = admins::target(&mut change, id).await?;
    if disabled {
        admins::keep_one_admin(&mut change, id).await?;
        admins::withdraw_links_of(&mut change, id).await?;
    }
    if !users::set_disabled(change.db(), &user.id, disabled.then_some(now)).await? {
        return Ok(Standing::Unchanged);
    }
    let about = About { user: Some((&user.id, &user.email)), ..About::default() };
    let standing = if disabled {
        let ended = end(change.db(), Which::AllOf(&user.id), now).await?.count();
        // A move to a new address still waiting for its confirmation dies with the sign-ins, as
        // when they are ended by the owner: a thief's request must not outlive the account's use.
        email_verifications::cancel(change.db(), &user.id, email_verifications::CHANGE, now).await?;
        change.audit(actor, Action::AccountDisabled, about).await?;
        change.record(&user.id, Event::AccountDisabled, actor.caller()).await?;
        change.tell(Letter::Notice { email: &user.email, what: Notice::AccountDisabled }).await?;
        Standing::Disabled { sign_ins_ended: ended }
    } else {
        change.audit(actor, Action::AccountEnabled, about).await?;
        change.record(&user.id, Event::AccountEnabled, actor.caller()).await?;
        change.tell(Letter::Notice { email: &user.email, what: Notice::AccountEnabled }).await?;
        Standing::Enabled
    };
    change.commit().await?;
    tracing::info!(user_id = %user.id, ?standing, "account standing changed by an administrator");
    Ok(standing)
}
