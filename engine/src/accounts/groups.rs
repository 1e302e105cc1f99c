//! Groups: named sets of accounts, given to apps as the `groups` claim (scope `groups`) and used
//! by an app's `allowed_groups` to say who may sign in to it. Administrators manage them (the
//! admin API, or the operator's command line); a group is named by its id or its name.
//!
//! Each change is one [`Change`](crate::notify::change::Change) with its record in the
//! administrators' log, and a membership change with the account's activity row too.

use super::{Accounts, admins};
use crate::base::error::{Error, OrConflict};
use crate::base::types::{UserId, group_name};
use crate::db::groups::{self, GroupRow, MemberRow};
use crate::notify::activity::Event;
use crate::notify::audit::{About, Action, Actor};

/// The longest description.
const MAX_DESCRIPTION: usize = 200;

/// A description as kept: trimmed, `None` when empty; refused when too long or with control
/// characters.
fn description(description: Option<&str>) -> Result<Option<&str>, Error> {
    let description = description.map(str::trim).filter(|d| !d.is_empty());
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION || d.chars().any(char::is_control)) {
        return Err(Error::InvalidRequest(format!(
            "Describe the group in at most {MAX_DESCRIPTION} characters, without control characters."
        )));
    }
    Ok(description)
}

/// The group whose id or name is `key`, or [`Error::GroupNotFound`].
pub async fn find(accounts: &Accounts, key: &str) -> Result<GroupRow, Error> {
    groups::find(&accounts.db, key.trim()).await?.ok_or(Error::GroupNotFound)
}

/// Makes the group `name`; returns it.
pub async fn create(
    accounts: &Accounts,
    actor: &Actor,
    name: &str,
    about: Option<&str>,
    now: i64,
) -> Result<GroupRow, Error> {
    let name = group_name(name)?;
    let about = description(about)?;
    let mut change = accounts.notify.change(now).await?;
    let id = groups::insert(change.db(), name, about, now).await.or_conflict(Error::GroupExists)?;
    change.audit(actor, Action::GroupCreated, About { subject: Some(name), detail: about, ..About::default() }).await?;
    change.commit().await?;
    tracing::info!(group = name, "group made");
    Ok(GroupRow { id, name: name.to_owned(), description: about.map(str::to_owned), created_at: now, members: 0 })
}

/// Renames (when `name` is given) and describes anew (when `about` is given; empty clears it) the
/// group `key`; returns it as it is now.
pub async fn update(
    accounts: &Accounts,
    actor: &Actor,
    key: &str,
    name: Option<&str>,
    about: Option<&str>,
    now: i64,
) -> Result<GroupRow, Error> {
    let name = name.map(group_name).transpose()?;
    let about = about.map(|a| description(Some(a))).transpose()?;
    let mut change = accounts.notify.change(now).await?;
    let mut group = groups::find(change.db(), key.trim()).await?.ok_or(Error::GroupNotFound)?;
    let was = group.name.clone();
    if let Some(name) = name {
        group.name = name.to_owned();
    }
    if let Some(about) = about {
        group.description = about.map(str::to_owned);
    }
    groups::update(change.db(), &group.id, &group.name, group.description.as_deref())
        .await
        .or_conflict(Error::GroupExists)?;
    let detail = (was != group.name).then(|| format!("renamed from {was}"));
    let about = About { subject: Some(&group.name), detail: detail.as_deref(), ..About::default() };
    change.audit(actor, Action::GroupUpdated, about).await?;
    change.commit().await?;
    Ok(group)
}

/// Deletes the group `key`; its members leave it (and apps that allow only it, at once).
pub async fn delete(accounts: &Accounts, actor: &Actor, key: &str, now: i64) -> Result<(), Error> {
    let mut change = accounts.notify.change(now).await?;
    let group = groups::find(change.db(), key.trim()).await?.ok_or(Error::GroupNotFound)?;
    groups::delete(change.db(), &group.id).await?;
    change.audit(actor, Action::GroupDeleted, About { subject: Some(&group.name), ..About::default() }).await?;
    change.commit().await?;
    Ok(())
}

/// Puts the account `user` in the group `key`; `false` when it already was.
pub async fn add(accounts: &Accounts, actor: &Actor, key: &str, user: &UserId, now: i64) -> Result<bool, Error> {
    let mut change = accounts.notify.change(now).await?;
    let group = groups::find(change.db(), key.trim()).await?.ok_or(Error::GroupNotFound)?;
    let account = admins::target(&mut change, user).await?;
    if !groups::add_member(change.db(), &group.name, user, now).await? {
        return Ok(false);
    }
    let about = About { user: Some((&account.id, &account.email)), subject: Some(&group.name), ..About::default() };
    change.audit(actor, Action::MemberAdded, about).await?;
    change.record(user, Event::JoinedGroup(&group.name), actor.caller()).await?;
    change.commit().await?;
    Ok(true)
}

/// Takes the account `user` out of the group `key`: an app that allows only that group refuses its
/// next sign-in and its next refresh. `false` when it was not in it.
pub async fn remove(accounts: &Accounts, actor: &Actor, key: &str, user: &UserId, now: i64) -> Result<bool, Error> {
    let mut change = accounts.notify.change(now).await?;
    let group = groups::find(change.db(), key.trim()).await?.ok_or(Error::GroupNotFound)?;
    let account = admins::target(&mut change, user).await?;
    if !groups::remove_member(change.db(), &group.id, user).await? {
        return Ok(false);
    }
    let about = About { user: Some((&account.id, &account.email)), subject: Some(&group.name), ..About::default() };
    change.audit(actor, Action::MemberRemoved, about).await?;
    change.record(user, Event::LeftGroup(&group.name), actor.caller()).await?;
    change.commit().await?;
    Ok(true)
}

/// Every group, by name, with its description and size.
pub async fn list(accounts: &Accounts) -> Result<Vec<GroupRow>, Error> {
    Ok(groups::list(&accounts.db).await?)
}

/// The members of the group `key`, by address.
pub async fn members(accounts: &Accounts, key: &str) -> Result<(GroupRow, Vec<MemberRow>), Error> {
    let group = find(accounts, key).await?;
    let members = groups::members(&accounts.db, &group.id).await?;
    Ok((group, members))
}
