//! Ending sign-ins: one verb, [`end()`], for sign-out, a reused refresh token, a replayed code, the
//! user's list, a deleted passkey, a changed password and an app's logout. Ending a sign-in ends
//! what the server holds of it at once: its refresh tokens stop working, and a browser session
//! that holds it is signed out on its next request. An access token already issued is a signed
//! statement the server does not look up: it works until it expires (`LATCHKEY_ACCESS_TTL_SECS`).

use crate::base::error::Error;
pub use crate::db::sign_ins::{Ended, Which};
use crate::db::{Exec, sign_ins};

/// Ends the sign-ins `which` names that are still going; says which ended.
pub async fn end(db: impl Exec<'_>, which: Which<'_>, now: i64) -> Result<Ended, Error> {
    Ok(sign_ins::end(db, which, now).await?)
}
