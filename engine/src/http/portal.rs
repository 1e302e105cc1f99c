//! The portal's sign-ins, held in the browser's cookie session (tower-sessions): what each of the
//! portal's server functions does, as one function here. REST clients hold tokens instead
//! (`sign_in/`); both start the same kind of sign-in, and signing out ends it.
//!
//! "Session" in Latchkey means only this: the browser's cookie and what it holds.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proto::{AccountView, HeldPasskey, PendingEmail, RecoveryFor, UserInfo};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::accounts::recovery::MadeBy;
use crate::accounts::{self, find_user, user_info, verification};
use crate::base::clock::rfc3339;
use crate::base::error::Error;
use crate::base::types::constant_time_eq;
use crate::base::types::{Caller, ClientAddr, CredentialId, SignInId, UserId};
use crate::db::sign_ins;
use crate::db::users::{self, UserRow};
use crate::notify::activity::Event;
use crate::notify::change::Change;
use crate::passkeys::ceremony::{self, PublicKeyCredential, RegisterPublicKeyCredential};
use crate::passkeys::manage::list_passkeys;
use crate::sign_in::{self, How, Recent, Which};
use crate::state::Engine;
use crate::tokens::secret::stored_hash;

/// Where the signed-in user is kept in the session.
const SIGNED_IN: &str = "signed_in";

/// Where a used recovery link's restricted session is kept: it can only add a passkey.
const RECOVERING: &str = "recovering";

/// Why a recovery link is refused where another account is signed in.
pub const SIGNED_IN_AS_ANOTHER: &str =
    "You are signed in as another account in this browser. Sign out first, then open the link again.";

/// The most browser sign-ins one account keeps; a new one past it ends the least recently used.
pub const BROWSER_SIGN_INS_PER_ACCOUNT: i64 = 100;

/// How long the restricted session of a used recovery link lasts.
pub const RECOVERY_SESSION_SECS: i64 = 15 * 60;

/// A used recovery link's restricted session: whose account, until when, who made the link, and
/// the link's hash (the session continues for that link only).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Recovering {
    user_id: UserId,
    until: i64,
    #[serde(default = "operator")]
    made_by: MadeBy,
    #[serde(default)]
    link: String,
}

fn operator() -> MadeBy {
    MadeBy::Operator
}

pub use crate::sign_in::SESSION_IDLE_LIFETIME_SECS;

/// How stale a session's "last used" may get before a request writes it again.
const LAST_USED_PRECISION_SECS: i64 = 60;

pub use crate::sign_in::SessionUser;

/// The session's signed-in user, or [`Error::SignInRequired`] — also when its sign-in was ended
/// elsewhere (from another device's list of sign-ins, or by deleting the passkey it was made
/// with), which ends the session here too. Notes the sign-in's use, at most once a minute.
pub async fn current_user(session: &Session, engine: &Engine, now: i64) -> Result<SessionUser, Error> {
    current_sign_in(session, engine, now).await.map(|(user, _)| user)
}

/// [`current_user`], with when and how the user proved who they are for the session's sign-in (for
/// [`Recent::check_sign_in`] before a dangerous change), read in the same query.
pub async fn current_sign_in(
    session: &Session,
    engine: &Engine,
    now: i64,
) -> Result<(SessionUser, sign_ins::Activity), Error> {
    let user = signed_in(session).await?.ok_or(Error::SignInRequired)?;
    match sign_ins::activity(&engine.db, &user.sign_in_id).await? {
        Some(activity) if activity.active && engine.sign_ins.too_old(activity.started_at, now) => {
            // As old as a sign-in may be: it ends, whatever its use (LATCHKEY_SESSION_MAX_AGE_SECS).
            sign_in::end(&engine.db, Which::One(&user.sign_in_id), now).await?;
            session.flush().await.map_err(session_store_error)?;
            Err(Error::SignInRequired)
        }
        Some(activity) if activity.active => {
            user.user_id.note_in_log();
            if activity.last_used_at.is_none_or(|at| at < now - LAST_USED_PRECISION_SECS) {
                sign_ins::note_use(&engine.db, &user.sign_in_id, now).await?;
            }
            Ok((user, activity))
        }
        _ => {
            session.flush().await.map_err(session_store_error)?;
            Err(Error::SignInRequired)
        }
    }
}

/// The user the session holds, without asking whether the sign-in still stands (the OpenID Connect
/// provider's checks that compare sign-ins do their own).
pub async fn signed_in(session: &Session) -> Result<Option<SessionUser>, Error> {
    session.get::<SessionUser>(SIGNED_IN).await.map_err(session_store_error)
}

/// Email + password sign-in.
pub async fn sign_in_with_password(
    session: &Session,
    engine: &Engine,
    email: &str,
    password: &str,
    caller: &Caller,
    now: i64,
) -> Result<(), Error> {
    let (user, change) = accounts::verify_login(&engine.accounts, email, password, caller, now).await?;
    start_sign_in(session, engine, change, &user, How::Password, caller).await
}

/// Sign-up with email + password; the new account is signed in.
pub async fn sign_up_with_password(
    session: &Session,
    engine: &Engine,
    email: &str,
    password: &str,
    invitation: Option<&str>,
    caller: &Caller,
    now: i64,
) -> Result<(), Error> {
    let (user, change) = accounts::sign_up(&engine.accounts, email, password, None, invitation, caller, now).await?;
    start_sign_in(session, engine, change, &user, How::Password, caller).await
}

/// Verifies a passkey assertion and signs its owner in.
pub async fn finish_passkey_sign_in(
    session: &Session,
    engine: &Engine,
    credential: &PublicKeyCredential,
    caller: &Caller,
    now: i64,
) -> Result<(), Error> {
    let signed_in = ceremony::finish_browser_authentication(&engine.relying_party, credential, caller, now).await?;
    enter(session, engine, &signed_in.user.id, signed_in.sign_in_id, now).await
}

/// Begins a passkey-only sign-up: creation options. Nothing is stored in the session (an anonymous
/// visitor never gets a stored session): the future account waits in the ceremony.
pub async fn start_passkey_sign_up(
    engine: &Engine,
    email: &str,
    invitation: Option<&str>,
    client: ClientAddr,
    now: i64,
) -> Result<serde_json::Value, Error> {
    ceremony::start_sign_up(&engine.relying_party, email, invitation, client, now).await
}

/// Verifies the new passkey, creates the account with it and signs it in.
pub async fn finish_passkey_sign_up(
    session: &Session,
    engine: &Engine,
    credential: &RegisterPublicKeyCredential,
    caller: &Caller,
    now: i64,
) -> Result<(), Error> {
    let (user, passkey_id, change) = ceremony::finish_sign_up(&engine.relying_party, credential, caller, now).await?;
    start_sign_in(session, engine, change, &user, How::Passkey(&passkey_id), caller).await
}

/// The signed-in user's account.
pub async fn account(engine: &Engine, user_id: &UserId) -> Result<UserInfo, Error> {
    Ok(user_info(&find_user(&engine.db, user_id, Error::SignInRequired).await?))
}

/// The signed-in account as the portal's pages show it, with what the browser's Signal API needs.
/// `held_until` is the hold on the passkey this sign-in was made with, if any.
pub async fn account_view(
    engine: &Engine,
    user_id: &UserId,
    held_until: Option<i64>,
    now: i64,
) -> Result<AccountView, Error> {
    let user = find_user(&engine.db, user_id, Error::SignInRequired).await?;
    let handle = uuid::Uuid::parse_str(&user.webauthn_handle).map_err(Error::internal)?;
    Ok(AccountView {
        user: user_info(&user),
        user_handle: URL_SAFE_NO_PAD.encode(handle.as_bytes()),
        rp_id: engine.config.webauthn.rp_id.clone(),
        passkeys: list_passkeys(&engine.relying_party, user_id).await?,
        has_password: user.password_hash.is_some(),
        pending_email: verification::pending_change(&engine.accounts, user_id, now)
            .await?
            .map(|(email, until)| PendingEmail { email, until: rfc3339(until) }),
        held: crate::db::passkeys::held_of_user(&engine.db, user_id, now)
            .await?
            .into_iter()
            .map(|(_, name, until)| HeldPasskey { name, until: rfc3339(until) })
            .collect(),
        held_here: held_until.is_some_and(|until| until > now),
    })
}

/// Deletes the signed-in account (see [`accounts::delete_account`]) and empties the session.
pub async fn delete_account(
    session: &Session,
    engine: &Engine,
    user: &SessionUser,
    typed_email: &str,
    recent: &Recent,
    now: i64,
) -> Result<(), Error> {
    accounts::delete_account(&engine.accounts, &user.user_id, typed_email, recent, now).await?;
    session.flush().await.map_err(session_store_error)
}

/// Request options for confirming it's still `user` before a dangerous change: for their passkeys
/// (found by the account's email on the server, never one the page sends).
pub async fn confirm_options(
    engine: &Engine,
    user: &SessionUser,
    client: ClientAddr,
) -> Result<serde_json::Value, Error> {
    let account = find_user(&engine.db, &user.user_id, Error::SignInRequired).await?;
    ceremony::start_authentication(&engine.relying_party, Some(&account.email), client).await
}

/// Confirms it's still `user` with one of their passkeys: a new sign-in, made now, replaces the
/// session's (so the change that asked for it can go on). Another account's passkey is refused and
/// the sign-in it made ended at once.
pub async fn confirm_with_passkey(
    session: &Session,
    engine: &Engine,
    user: &SessionUser,
    credential: &PublicKeyCredential,
    caller: &Caller,
    now: i64,
) -> Result<(), Error> {
    let signed_in = ceremony::finish_browser_authentication(&engine.relying_party, credential, caller, now).await?;
    if signed_in.user.id != user.user_id {
        sign_in::end(&engine.db, Which::One(&signed_in.sign_in_id), now).await?;
        return Err(Error::AuthenticationFailed("this passkey belongs to another account"));
    }
    enter(session, engine, &user.user_id, signed_in.sign_in_id, now).await
}

/// Confirms it's still `user` with the account's password (within the same lockout budget as a
/// sign-in): a new sign-in, made now, replaces the session's.
pub async fn confirm_with_password(
    session: &Session,
    engine: &Engine,
    user: &SessionUser,
    password: &str,
    caller: &Caller,
    now: i64,
) -> Result<(), Error> {
    let account = find_user(&engine.db, &user.user_id, Error::SignInRequired).await?;
    let (verified, change) = accounts::verify_login(&engine.accounts, &account.email, password, caller, now).await?;
    start_sign_in(session, engine, change, &verified, How::Password, caller).await
}

/// Creation options for the passkey a recovery link lets its holder add. The first call uses the
/// link (`recovery::redeem`) and starts a restricted session under a new id, which signs out
/// whoever was signed in here; calls within [`RECOVERY_SESSION_SECS`] after it (the prompt was
/// dismissed) continue that session. The restricted session is not a sign-in: every other page and
/// server function still asks to sign in.
///
/// `browser_secret` is the secret of this browser's recovery cookie, which a link the user asked
/// for by email must match.
pub async fn recovery_passkey_options(
    session: &Session,
    engine: &Engine,
    token: &str,
    browser_secret: Option<&str>,
    now: i64,
) -> Result<serde_json::Value, Error> {
    let user_id = match recovering(session, now).await? {
        Some(restricted) if constant_time_eq(restricted.link.as_bytes(), stored_hash(token.trim()).as_bytes()) => {
            restricted.user_id
        }
        // Another link, or none: this browser's restricted session is not the caller's to go on with.
        Some(_) => return Err(Error::InvalidRecoveryLink),
        None => {
            // A link for another account than the one signed in here is refused, unused: it would
            // sign this browser in to the link's account (the way to slip someone into one).
            if let Some(here) = signed_in(session).await? {
                let link_for =
                    crate::accounts::recovery::account_of(&engine.accounts, token, browser_secret, now).await?;
                if link_for.is_some_and(|(user_id, _)| user_id != here.user_id) {
                    return Err(Error::InvalidRequest(SIGNED_IN_AS_ANOTHER.into()));
                }
            }
            let (user_id, made_by) =
                crate::accounts::recovery::redeem(&engine.accounts, token, browser_secret, now).await?;
            if let Some(before) = signed_in(session).await? {
                sign_in::end(&engine.db, Which::One(&before.sign_in_id), now).await?;
                session.remove::<SessionUser>(SIGNED_IN).await.map_err(session_store_error)?;
            }
            session.cycle_id().await.map_err(session_store_error)?;
            let link = stored_hash(token.trim());
            let restricted = Recovering { user_id: user_id.clone(), until: now + RECOVERY_SESSION_SECS, made_by, link };
            session.insert(RECOVERING, restricted).await.map_err(session_store_error)?;
            user_id
        }
    };
    ceremony::start_registration(&engine.relying_party, &user_id, Error::InvalidRecoveryLink, &Recent::of_recovery())
        .await
}

/// What the recovery page shows of a link: the account it is for (while this browser may use it),
/// and the account signed in here when that is another one.
pub async fn recovery_for(
    session: &Session,
    engine: &Engine,
    token: &str,
    browser_secret: Option<&str>,
    now: i64,
) -> Result<RecoveryFor, Error> {
    let link_for = crate::accounts::recovery::account_of(&engine.accounts, token, browser_secret, now).await?;
    let here = match (signed_in(session).await?, &link_for) {
        (Some(here), Some((user_id, _))) if here.user_id != *user_id => {
            users::by_id(&engine.db, &here.user_id).await?.map(|user| user.email)
        }
        _ => None,
    };
    Ok(RecoveryFor { email: link_for.map(|(_, email)| email), signed_in_as_another: here })
}

/// Verifies and stores the passkey of a recovery, and turns the restricted session into a sign-in
/// made with that passkey — recorded as made by the link for a link asked for by email, so it is
/// never enough for a dangerous change (`amr`: `otp`).
pub async fn finish_recovery(
    session: &Session,
    engine: &Engine,
    credential: &RegisterPublicKeyCredential,
    caller: &Caller,
    now: i64,
) -> Result<(), Error> {
    let Recovering { user_id, made_by, link, .. } =
        recovering(session, now).await?.ok_or(Error::InvalidRecoveryLink)?;
    let recent = Recent::of_recovery();
    let (passkey, mut change) =
        ceremony::registration_change(&engine.relying_party, &user_id, credential, None, caller, &recent, now).await?;
    change.record(&user_id, Event::Recovered(&passkey.name), Some(caller)).await?;
    let user = users::by_id(change.db(), &user_id).await?.ok_or(Error::InvalidRecoveryLink)?;
    // Disabled since the link was used: the recovery adds nothing (its sign-in would stand for
    // nothing either: a disabled account's sign-ins are inactive wherever they are read).
    if user.disabled_at.is_some() {
        return Err(Error::AccountDisabled);
    }
    let passkey_id = CredentialId::new(passkey.id);
    crate::accounts::recovery::note_passkey(&mut change, &link, &passkey_id, made_by).await?;
    let how = match made_by {
        MadeBy::Operator => How::Passkey(&passkey_id),
        MadeBy::Email => How::EmailLink(&passkey_id),
    };
    let sign_in = sign_in::start(change.db(), &user.id, how, Some(caller), now).await?;
    // It is used now, for this sign-in: it reads "Last used today", the lost ones do not.
    crate::db::passkeys::mark_used(change.db(), &passkey_id, now).await?;
    change.commit().await?;
    // The restricted session ends once the passkey and the sign-in are committed (never while the
    // change is open: a session store may be the same database), and before the sign-in enters
    // the session, so no step after the commit can leave it usable.
    session.remove::<Recovering>(RECOVERING).await.map_err(session_store_error)?;
    enter(session, engine, &user.id, sign_in.id, now).await
}

/// The session's restricted recovery session, while it lasts.
async fn recovering(session: &Session, now: i64) -> Result<Option<Recovering>, Error> {
    let restricted = session.get::<Recovering>(RECOVERING).await.map_err(session_store_error)?;
    Ok(restricted.filter(|r| r.until > now))
}

/// `GET`/`POST /oidc/end_session` for this browser: the app's logout (`oidc::logout`), and the
/// browser's own portal sign-in with it when the app's ID token names that very sign-in.
pub async fn end_session(
    session: &Session,
    engine: &Engine,
    params: &[(String, String)],
    now: i64,
) -> Result<crate::oidc::authorize::Answer, Error> {
    let browser = signed_in(session).await.ok().flatten();
    let logout = crate::oidc::logout::end_session(&engine.provider, params, browser.as_ref(), now).await?;
    if logout.signs_out_browser {
        sign_out(session, engine, now).await?;
    }
    Ok(logout.answer)
}

/// Signs out: ends the session's sign-in and the session itself.
pub async fn sign_out(session: &Session, engine: &Engine, now: i64) -> Result<(), Error> {
    if let Some(user) = signed_in(session).await? {
        sign_in::end(&engine.db, Which::One(&user.sign_in_id), now).await?;
    }
    session.flush().await.map_err(session_store_error)
}

/// Records a new sign-in for `user` in `change` (which made the sign-in: a password checked, an
/// account created), commits it, and enters the sign-in into the session.
async fn start_sign_in(
    session: &Session,
    engine: &Engine,
    mut change: Change<'_>,
    user: &UserRow,
    how: How<'_>,
    caller: &Caller,
) -> Result<(), Error> {
    let now = change.now();
    let sign_in = sign_in::start(change.db(), &user.id, how, Some(caller), now).await?;
    change.commit().await?;
    enter(session, engine, &user.id, sign_in.id, now).await
}

/// Puts a started sign-in into the session under a new session id, so a planted id is useless. A
/// sign-in the session held before (signing in again, to confirm it's you) ends: the new one
/// replaces it.
async fn enter(
    session: &Session,
    engine: &Engine,
    user_id: &UserId,
    sign_in_id: SignInId,
    now: i64,
) -> Result<(), Error> {
    if let Some(before) = signed_in(session).await? {
        sign_in::end(&engine.db, Which::One(&before.sign_in_id), now).await?;
    }
    // A recovery begun here and left (a shared browser) ends with any sign-in: it must never go on
    // for whoever signs in next.
    session.remove::<Recovering>(RECOVERING).await.map_err(session_store_error)?;
    session.cycle_id().await.map_err(session_store_error)?;
    session
        .insert(SIGNED_IN, SessionUser { user_id: user_id.clone(), sign_in_id })
        .await
        .map_err(session_store_error)?;
    // One account's share of browser sessions: its least recently used sign-ins past it end.
    sign_in::end(&engine.db, Which::BeyondNewest { user: user_id, keep: BROWSER_SIGN_INS_PER_ACCOUNT }, now).await?;
    Ok(())
}

fn session_store_error(err: tower_sessions::session::Error) -> Error {
    tracing::warn!(error = %err, "session store unavailable");
    Error::Unavailable
}
