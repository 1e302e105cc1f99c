//! Ending sign-ins: one verb, [`end()`], for sign-out, a reused refresh token, a replayed code, the
//! user's list, a deleted passkey, a changed password and an app's logout. Ending a sign-in ends
//! what the server holds of it at once: its refresh tokens stop working, and a browser session
//! that holds it is signed out on its next request. An access token already issued is a signed
//! statement the server does not look up: it works until it expires (`LATCHKEY_ACCESS_TTL_SECS`).

use crate::base::error::Error;
use crate::base::types::{Caller, SignInId, UserId};
pub use crate::db::sign_ins::{Ended, Which};
use crate::db::{Exec, email_verifications, sign_ins};
use crate::notify::activity::Event;
use crate::notify::change::Change;

/// Ends the sign-ins `which` names that are still going; says which ended.
pub async fn end(db: impl Exec<'_>, which: Which<'_>, now: i64) -> Result<Ended, Error> {
    Ok(sign_ins::end(db, which, now).await?)
}

/// Ends every sign-in of `user` but `keep`, in `change`, with what one of them may have left
/// waiting: a change of email address not yet confirmed, which would otherwise outlive a thief's
/// sign-in (its end is recorded). Signing out everywhere else, and setting, changing or removing
/// the password, end sign-ins this way. Returns how many sign-ins ended.
pub async fn end_others_in(
    change: &mut Change<'_>,
    user: &UserId,
    keep: &SignInId,
    caller: &Caller,
) -> Result<u64, Error> {
    let now = change.now();
    let ended = end(change.db(), Which::OthersOf { user, keep }, now).await?.count();
    if email_verifications::cancel(change.db(), user, email_verifications::CHANGE, now).await? > 0 {
        change.record(user, Event::EmailChangeCancelled, Some(caller)).await?;
    }
    Ok(ended)
}
