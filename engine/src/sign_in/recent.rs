//! Re-authentication for dangerous changes: adding or deleting a passkey, adding, changing or
//! removing the password and deleting the account need a sign-in (passkey or password) made within
//! `LATCHKEY_REAUTH_WINDOW_SECS` (5 minutes by default), so a stolen older token or browser session
//! cannot enrol the thief's passkey or remove the owner's.
//!
//! The functions that make those changes take a [`Recent`], and only [`Recent::check`] makes one:
//! a door that forgets the check does not compile. REST clients get 401
//! `reauthentication_required` (with RFC 9470's `insufficient_user_authentication` challenge) and
//! sign in again with a passkey or password, which starts a sign-in whose `auth_time` is now; the
//! portal sends the browser to sign in again and back.

use super::SignIns;
use crate::base::error::Error;
use crate::base::types::{SignInId, SignInMethod};
use crate::db;

/// How a sign-in was made, as far as a dangerous change cares.
#[derive(Debug, Clone, Copy)]
pub struct Made {
    /// When the user proved who they are (Unix seconds).
    pub auth_time: i64,
    /// How (`None` for sign-ins recorded before methods were).
    pub method: Option<SignInMethod>,
    /// Until when the passkey it was made with is held, if it ever was.
    pub held_until: Option<i64>,
}

/// Proof that the caller's sign-in was made within the re-authentication window, and which sign-in
/// that is (a change that ends the account's other sign-ins keeps this one).
#[derive(Debug)]
pub struct Recent(SignInId);

impl Recent {
    /// The proof for `sign_in`, made at `auth_time` (Unix seconds), or
    /// [`Error::ReauthenticationRequired`] when that is longer ago than the window.
    pub fn check(sign_ins: &SignIns, sign_in: &SignInId, auth_time: i64, now: i64) -> Result<Self, Error> {
        let window = i64::try_from(sign_ins.reauth_window.as_secs()).unwrap_or(i64::MAX);
        if now.saturating_sub(auth_time) <= window {
            Ok(Self(sign_in.clone()))
        } else {
            Err(Error::ReauthenticationRequired)
        }
    }

    /// [`Recent::check_sign_in`] for an access token, which outlives its sign-in by up to its
    /// lifetime: the sign-in must also still stand (not ended by a sign-out, the user's list or a
    /// new password), or the token is [`Error::InvalidToken`] for a dangerous change.
    pub async fn check_standing(
        sign_ins: &SignIns,
        sign_in: &SignInId,
        auth_time: i64,
        now: i64,
    ) -> Result<Self, Error> {
        // The same one read as a browser session's (sign-in and passkey hold joined).
        let made = db::sign_ins::activity(&sign_ins.db, sign_in)
            .await?
            .filter(|made| made.active)
            .ok_or(Error::InvalidToken)?;
        Self::check_sign_in(
            sign_ins,
            sign_in,
            &Made { auth_time, method: made.method, held_until: made.held_until },
            now,
        )
    }

    /// [`Recent::check`] for a sign-in `made` as it was: one made with a passkey a mailed recovery
    /// link added is held until [`Made::held_until`] ([`Error::RecoveryHold`]); one made by the
    /// mailed link itself proves only the mailbox, so it is never enough, however recent.
    pub fn check_sign_in(sign_ins: &SignIns, sign_in: &SignInId, made: &Made, now: i64) -> Result<Self, Error> {
        if let Some(until) = made.held_until.filter(|until| *until > now) {
            return Err(Error::RecoveryHold { until });
        }
        if made.method == Some(SignInMethod::EmailLink) {
            return Err(Error::ReauthenticationRequired);
        }
        Self::check(sign_ins, sign_in, made.auth_time, now)
    }

    /// The recent sign-in.
    pub fn sign_in(&self) -> &SignInId {
        &self.0
    }

    /// A used recovery link stands in for a recent sign-in, for adding the passkey it was made for
    /// (`portal::finish_recovery`), and for nothing else; it keeps no sign-in.
    pub(crate) fn of_recovery() -> Self {
        Self(SignInId::generate())
    }
}
