//! Groups: named sets of accounts, given to apps as the `groups` claim (scope `groups`) and used
//! by an app's `allowed_groups` to say who may sign in to it. The operator manages them.

use super::Accounts;
use crate::base::error::{Error, OrConflict};
use crate::base::types::{Email, group_name};
use crate::db::groups::{self, GroupRow};
use crate::db::users;

/// The longest description.
const MAX_DESCRIPTION: usize = 200;

/// Makes the group `name`.
pub async fn create(accounts: &Accounts, name: &str, description: Option<&str>, now: i64) -> Result<(), Error> {
    let name = group_name(name)?;
    let description = description.map(str::trim).filter(|d| !d.is_empty());
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION || d.chars().any(char::is_control)) {
        return Err(Error::InvalidRequest(format!(
            "Describe the group in at most {MAX_DESCRIPTION} characters, without control characters."
        )));
    }
    groups::insert(&accounts.db, name, description, now).await.or_conflict(Error::GroupExists)?;
    tracing::info!(group = name, "group made by the operator");
    Ok(())
}

/// Deletes the group `name`; its members leave it (and apps that allow only it, at once).
pub async fn delete(accounts: &Accounts, name: &str) -> Result<(), Error> {
    if groups::delete(&accounts.db, group_name(name)?).await? { Ok(()) } else { Err(Error::GroupNotFound) }
}

/// Puts the account of `email` in the group `name`; `false` when it already was.
pub async fn add(accounts: &Accounts, name: &str, email: &str, now: i64) -> Result<bool, Error> {
    let name = group_name(name)?;
    let user = users::by_email(&accounts.db, Email::parse(email)?.as_str()).await?.ok_or(Error::AccountNotFound)?;
    if !groups::exists(&accounts.db, name).await? {
        return Err(Error::GroupNotFound);
    }
    Ok(groups::add_member(&accounts.db, name, &user.id, now).await?)
}

/// Takes the account of `email` out of the group `name`: an app that allows only that group
/// refuses its next sign-in and its next refresh. `false` when it was not in it.
pub async fn remove(accounts: &Accounts, name: &str, email: &str) -> Result<bool, Error> {
    let name = group_name(name)?;
    let user = users::by_email(&accounts.db, Email::parse(email)?.as_str()).await?.ok_or(Error::AccountNotFound)?;
    if !groups::exists(&accounts.db, name).await? {
        return Err(Error::GroupNotFound);
    }
    Ok(groups::remove_member(&accounts.db, name, &user.id).await?)
}

/// Every group, by name, with its description and size.
pub async fn list(accounts: &Accounts) -> Result<Vec<GroupRow>, Error> {
    Ok(groups::list(&accounts.db).await?)
}
