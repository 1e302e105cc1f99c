//! A user's sign-ins, seen and ended by the user: `GET /auth/sign-ins`, `DELETE /auth/sign-ins/{id}`,
//! `DELETE /auth/sign-ins/others` (also under their first name, `/auth/sessions`), and the account
//! page's list. Ending one ends the app sign-ins that came from it too; each is in the account's
//! activity.

use proto::SignInItem;

use super::SignIns;
use super::{SESSION_IDLE_LIFETIME_SECS, Which, end, end_others_in};
use crate::base::clock::rfc3339;
use crate::base::error::Error;
use crate::base::types::{Caller, SignInId, UserId, device_of};
use crate::db::sign_ins::{ListedSignIn, not_ended_of_user};
use crate::notify::activity::Event;

/// `user_id`'s sign-ins that are still going: `current` (marked) first, then the newest first. An
/// administrator's view of someone else's has no `current`.
pub async fn of_user(
    sign_ins: &SignIns,
    user_id: &UserId,
    current: Option<&SignInId>,
    now: i64,
) -> Result<Vec<SignInItem>, Error> {
    let rows = not_ended_of_user(&sign_ins.db, user_id, now).await?;
    let mut items: Vec<SignInItem> =
        rows.into_iter().filter(|row| still_going(row, now)).map(|row| item(sign_ins, row, current)).collect();
    // Stable: the others stay newest first.
    items.sort_by_key(|item| !item.current);
    Ok(items)
}

/// Ends `user_id`'s sign-in `id` (and the app sign-ins that came from it).
pub async fn end_one(
    sign_ins: &SignIns,
    user_id: &UserId,
    id: &SignInId,
    caller: &Caller,
    now: i64,
) -> Result<(), Error> {
    let mut change = sign_ins.notify.change(now).await?;
    if !end(change.db(), Which::OneOf { user: user_id, sign_in: id }, now).await?.contains(id) {
        return Err(Error::SignInNotFound);
    }
    change.record(user_id, Event::SignInEnded, Some(caller)).await?;
    change.commit().await?;
    tracing::info!(%user_id, sign_in_id = %id, "sign-in ended by its user");
    Ok(())
}

/// Ends every sign-in of `user_id` but `current` (and the apps signed in through it); returns how
/// many ended.
pub async fn end_others(
    sign_ins: &SignIns,
    user_id: &UserId,
    current: &SignInId,
    caller: &Caller,
    now: i64,
) -> Result<u64, Error> {
    let mut change = sign_ins.notify.change(now).await?;
    let ended = end_others_in(&mut change, user_id, current, caller).await?;
    change.record(user_id, Event::OtherSignInsEnded(ended), Some(caller)).await?;
    change.commit().await?;
    tracing::info!(%user_id, ended, "other sign-ins ended by their user");
    Ok(ended)
}

/// A sign-in not ended is still going while something can continue it: a refresh token that can
/// still be exchanged, or — for a browser session, which has none — a session not idle for longer
/// than sessions live.
fn still_going(row: &ListedSignIn, now: i64) -> bool {
    match row.last_refresh_at {
        Some(_) => row.live_tokens > 0,
        None => last_used(row) > now - SESSION_IDLE_LIFETIME_SECS,
    }
}

fn last_used(row: &ListedSignIn) -> i64 {
    [Some(row.created_at), row.last_used_at, row.last_refresh_at].into_iter().flatten().max().unwrap_or_default()
}

fn item(sign_ins: &SignIns, row: ListedSignIn, current: Option<&SignInId>) -> SignInItem {
    let device = match &row.client_id {
        Some(client_id) => sign_ins.clients.get(client_id).map_or_else(|| client_id.clone(), |c| c.name.clone()),
        None => device_of(row.user_agent.as_deref()),
    };
    SignInItem {
        current: current == Some(&row.id),
        id: row.id.to_string(),
        method: row.method.clone(),
        passkey_name: row.passkey_name.clone(),
        device,
        created_at: rfc3339(row.created_at),
        last_used_at: rfc3339(last_used(&row)),
        user_agent: row.user_agent,
        network: row.network,
        client_id: row.client_id,
    }
}
