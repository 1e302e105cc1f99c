//! Administrators: accounts that may manage the others (the admin API, and the console to come).
//! The first is made at the command line (`latchkey admin grant EMAIL`, or an invitation made with
//! `--admin`); afterwards administrators grant and revoke it — each change by a recent sign-in
//! (the HTTP wing makes an administrator's [`Actor`] only from a `Recent`) — and the last one who
//! can act is never removed: not revoked, disabled or deleted ([`Error::LastAdmin`]).
//!
//! Every change here is one [`Change`]: the statements, the administrators' record, the account's
//! activity row and its mail commit together.

use super::Accounts;
use crate::base::error::Error;
use crate::base::types::{DisplayName, Email, UserId};
use crate::db::users::{self, ListedUser, UserRow};
use crate::db::{invitations, recovery_links};
use crate::notify::activity::Event;
use crate::notify::audit::{About, Action, Actor};
use crate::notify::change::Change;
use crate::notify::mail::{Letter, Notice};

/// The account of `email`, or [`Error::AccountNotFound`] (for the command line, which names accounts
/// by address).
pub async fn account_of(accounts: &Accounts, email: &str) -> Result<UserRow, Error> {
    let email = Email::parse(email)?;
    users::by_email(&accounts.db, email.as_str()).await?.ok_or(Error::AccountNotFound)
}

/// The account `id` in `change`, or [`Error::AccountNotFound`].
pub(crate) async fn target(change: &mut Change<'_>, id: &UserId) -> Result<UserRow, Error> {
    users::by_id(change.db(), id).await?.ok_or(Error::AccountNotFound)
}

/// Refuses, with [`Error::LastAdmin`], a change that would leave no administrator who can act:
/// called before revoking, disabling or deleting `id`, in the change that does it. It holds the
/// administrators' lock for the rest of the change, so two such changes run one after the other.
pub(crate) async fn keep_one_admin(change: &mut Change<'_>, id: &UserId) -> Result<(), Error> {
    let dialect = change.dialect();
    users::lock_admins(change.db(), dialect).await?;
    if users::is_admin(change.db(), id).await? && users::other_admins(change.db(), id).await? == 0 {
        return Err(Error::LastAdmin);
    }
    Ok(())
}

/// Withdraws, in `change`, the unused invitations and recovery links the administrator `id` made:
/// a link made while they were one must not outlive their role (an invitation that makes an
/// administrator would give it back). Called when they are revoked, disabled or deleted.
pub(crate) async fn withdraw_links_of(change: &mut Change<'_>, id: &UserId) -> Result<(), Error> {
    let now = change.now();
    invitations::revoke_made_by(change.db(), id.as_str(), now).await?;
    recovery_links::delete_unused_made_by(change.db(), id.as_str()).await?;
    Ok(())
}

/// Makes the account `id` an administrator (`admin`) or no longer one; `false` when it already was
/// as asked (nothing is recorded or mailed then).
pub async fn set_admin(accounts: &Accounts, actor: &Actor, id: &UserId, admin: bool, now: i64) -> Result<bool, Error> {
    let mut change = accounts.notify.change(now).await?;
    let user = target(&mut change, id).await?;
    if !admin {
        keep_one_admin(&mut change, id).await?;
    }
    if !users::set_admin(change.db(), id, admin.then_some(now)).await? {
        return Ok(false);
    }
    if !admin {
        withdraw_links_of(&mut change, id).await?;
    }
    let (action, event, notice) = if admin {
        (Action::AdminGranted, Event::AdminGranted, Notice::AdminGranted)
    } else {
        (Action::AdminRevoked, Event::AdminRevoked, Notice::AdminRevoked)
    };
    change.audit(actor, action, About { user: Some((&user.id, &user.email)), ..About::default() }).await?;
    change.record(&user.id, event, actor.caller()).await?;
    change.tell(Letter::Notice { email: &user.email, what: notice }).await?;
    change.commit().await?;
    tracing::info!(user_id = %user.id, admin, "administrator flag changed");
    Ok(true)
}

/// Changes the display name of the account `id` (empty clears it).
pub async fn rename(accounts: &Accounts, actor: &Actor, id: &UserId, name: &str, now: i64) -> Result<(), Error> {
    let name = Some(name).filter(|n| !n.trim().is_empty()).map(DisplayName::parse).transpose()?;
    let mut change = accounts.notify.change(now).await?;
    let user = target(&mut change, id).await?;
    let name = name.as_ref().map(DisplayName::as_str);
    if user.name.as_deref() == name {
        return Ok(());
    }
    users::set_name(change.db(), id, name).await?;
    let about = About { user: Some((&user.id, &user.email)), detail: name, ..About::default() };
    change.audit(actor, Action::AccountRenamed, about).await?;
    change.record(&user.id, Event::RenamedByAdmin, actor.caller()).await?;
    change.commit().await?;
    Ok(())
}

/// Deletes the account `id` as its owner's own deletion does (everything of it in one statement,
/// the application's hook told), and records who did it. The last administrator is not deleted.
pub async fn delete(accounts: &Accounts, actor: &Actor, id: &UserId, now: i64) -> Result<(), Error> {
    let mut change = accounts.notify.change(now).await?;
    let user = target(&mut change, id).await?;
    keep_one_admin(&mut change, id).await?;
    withdraw_links_of(&mut change, id).await?;
    super::remove(&mut change, &user).await?;
    change
        .audit(actor, Action::AccountDeleted, About { user: Some((&user.id, &user.email)), ..About::default() })
        .await?;
    change.commit().await?;
    tracing::info!(user_id = %user.id, "account deleted by an administrator");
    Ok(())
}

/// Every administrator (disabled ones too), by address.
pub async fn list(accounts: &Accounts) -> Result<Vec<ListedUser>, Error> {
    Ok(users::admins(&accounts.db).await?)
}

/// Makes a new account the administrator its invitation said it would be, in the change that
/// makes the account (the invitation was the administrators' act, recorded when it was made).
pub(crate) async fn grant_invited(change: &mut Change<'_>, user: &UserRow, invitation: &str) -> Result<(), Error> {
    let now = change.now();
    users::set_admin(change.db(), &user.id, Some(now)).await?;
    let about = About { user: Some((&user.id, &user.email)), subject: Some(invitation), ..About::default() };
    change.audit(&Actor::invitation(), Action::AdminGranted, about).await?;
    change.record(&user.id, Event::AdminGranted, None).await?;
    Ok(())
}
