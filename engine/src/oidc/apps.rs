//! "Your apps": the apps an account may sign in to (an app without `allowed_groups`, or one that
//! allows one of its groups) and those it allowed, each with its logo, its own address
//! (`client_uri`) and whether it is signed in; and "Remove access", which withdraws the account's
//! consent and ends the app's sign-ins at once (its refresh token stops working, and the next
//! sign-in asks for consent again).

use proto::AppItem;

use super::Provider;
use crate::base::error::Error;
use crate::base::types::{Caller, UserId};
use crate::db::sign_ins::{self, Which};
use crate::db::{consents, groups};
use crate::notify::activity::Event;

/// `user`'s apps, by name.
pub async fn of_user(provider: &Provider, user: &UserId, now: i64) -> Result<Vec<AppItem>, Error> {
    let groups = groups::names_of_user(&provider.db, user).await?;
    let consented = consents::apps_of(&provider.db, user).await?;
    let signed_in = sign_ins::not_ended_of_user(&provider.db, user, now).await?;
    let access_ttl = provider.tokens.access_ttl();
    let mut apps: Vec<AppItem> = provider
        .clients
        .all()
        .into_iter()
        .filter_map(|client| {
            let allowed = client.admits(&groups);
            let consented = consented.contains(&client.id);
            // Going: its refresh tokens still work, or (without `offline_access`) its access token
            // may still be in use.
            let going = |s: &&sign_ins::ListedSignIn| s.live_tokens > 0 || s.created_at > now - access_ttl;
            let sign_ins =
                signed_in.iter().filter(|s| s.client_id.as_deref() == Some(client.id.as_str())).filter(going);
            let sign_ins = u32::try_from(sign_ins.count()).unwrap_or(u32::MAX);
            (allowed || consented || sign_ins > 0).then(|| AppItem {
                client_id: client.id.clone(),
                name: client.name.clone(),
                logo: client.logo_address(),
                launch: client.client_uri.as_ref().map(|u| u.to_string()),
                allowed,
                consented,
                sign_ins,
            })
        })
        .collect();
    apps.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.client_id.cmp(&b.client_id)));
    Ok(apps)
}

/// Withdraws `user`'s consent to the app `client_id` and ends its sign-ins, in one change with its
/// record; an app it never allowed nor signed in to is [`Error::InvalidRequest`] (the sign-in
/// bundle carries every error code's name, so one more is weighed; this needs none of its own).
pub async fn remove_access(
    provider: &Provider,
    user: &UserId,
    client_id: &str,
    caller: &Caller,
    now: i64,
) -> Result<(), Error> {
    let not_yours = || Error::InvalidRequest("None of your apps has this id.".into());
    let client = provider.clients.get(client_id).ok_or_else(not_yours)?;
    let mut change = provider.notify.change(now).await?;
    let withdrawn = consents::withdraw(change.db(), user, client_id).await?;
    let ended = sign_ins::end(change.db(), Which::AppOf { user, client_id }, now).await?.count();
    if !withdrawn && ended == 0 {
        return Err(not_yours());
    }
    change.record(user, Event::AppAccessRemoved(&client.name), Some(caller)).await?;
    change.commit().await?;
    tracing::info!(%user, client_id, ended, "app access removed by its user");
    Ok(())
}
