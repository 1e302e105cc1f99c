//! Recovery for someone who lost their passkeys: a one-time link that lets them add a new passkey,
//! and nothing else. The operator makes it (`latchkey admin recovery-link EMAIL`, or
//! `POST /admin/recovery-links` with `LATCHKEY_ADMIN_TOKEN`) after checking who is asking, and
//! hands it over. There are no recovery codes: a code kept for years is a password that bypasses
//! the passkeys, and is lost with them.
//!
//! Opening the link (`/recover?token=…`) and pressing its button uses it — once, before it expires
//! (an hour by default) — and starts a restricted browser session that can only register a passkey
//! (`portal::start_recovery`); that passkey's registration turns it into a normal sign-in. The use
//! is in the account's activity, and the owner is mailed about it in the same transaction.
//!
//! That mail carries a one-click "this wasn't me" (`/recover/undo?token=…`, a week): it removes the
//! passkey the link added and ends its sign-ins. And a passkey a *mailed* link added is held for
//! `LATCHKEY_RECOVERY_HOLD_SECS` (a day): whoever holds the mailbox gets in, but its sign-ins
//! cannot delete the other passkeys or change the password or the address until the hold ends,
//! while the owner is told and the account's other passkeys can still act (review item M4).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use super::Accounts;
use crate::base::error::Error;
use crate::base::types::{Caller, CredentialId, Email, SignInId, UserId};
use crate::db::recovery_links::{self, NewLink};
use crate::db::{passkeys, sign_ins, users};
use crate::notify::activity::Event;
use crate::notify::audit::{About, Action, Actor};
use crate::notify::change::Change;
use crate::notify::mail::Letter;
use crate::sign_in::{self, Which};
use crate::tokens::secret::stored_hash;

/// How long an operator's link works unless the operator says otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);
/// The longest an operator's link may work.
pub const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long the "this wasn't me" of a used link works.
pub const UNDO_SECS: i64 = 7 * 24 * 3600;

/// A link the operator hands to the account's owner.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecoveryLink {
    /// The address to open.
    pub url: String,
    /// Until when it works (RFC 3339).
    pub expires_at: String,
}

/// Makes, by `actor`, a one-time recovery link for the account `id`, working for `ttl` (at most a
/// week).
pub async fn operator_link(
    accounts: &Accounts,
    actor: &Actor,
    id: &UserId,
    ttl: Duration,
    now: i64,
) -> Result<RecoveryLink, Error> {
    if ttl.is_zero() || ttl > MAX_TTL {
        return Err(Error::InvalidRequest("A recovery link works for 1 second to 7 days.".into()));
    }
    let user = users::by_id(&accounts.db, id).await?.ok_or(Error::AccountNotFound)?;
    if user.disabled_at.is_some() {
        return Err(Error::AccountDisabled);
    }
    let token = random_secret();
    let expires_at = now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
    let token_hash = stored_hash(&token);
    // Who made it (`operator`, `token` or an administrator's id): an administrator's unused links
    // die with their role (`admins::withdraw_links_of`). Any maker but `email` is not held.
    let made_by = actor.name();
    let link = NewLink {
        token_hash: &token_hash,
        user_id: &user.id,
        made_by: &made_by,
        expires_at,
        browser_hash: None,
        requested_from: None,
    };
    let mut change = accounts.notify.change(now).await?;
    recovery_links::insert(change.db(), &link, now).await?;
    let about = About { user: Some((&user.id, &user.email)), ..About::default() };
    change.audit(actor, Action::RecoveryLinkMade, about).await?;
    change.record(&user.id, Event::RecoveryLinkMade, actor.caller()).await?;
    change.commit().await?;
    tracing::info!(user_id = %user.id, expires_at, "recovery link made by an administrator");
    Ok(RecoveryLink {
        url: format!("{}/recover?token={token}", accounts.config.issuer()),
        expires_at: crate::base::clock::rfc3339(expires_at),
    })
}

/// 32 random bytes, base64url: a link's token, or the secret that binds a link to a browser.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How long a link asked for by email works, and the browser cookie that binds it.
pub const EMAIL_LINK_SECS: i64 = 15 * 60;
/// Links one account may be sent in an hour.
const EMAIL_LINKS_PER_ACCOUNT: i64 = 3;
/// Links one client address may ask for in an hour.
const EMAIL_LINKS_PER_ADDRESS: i64 = 5;

/// "Lost your passkey?" (`LATCHKEY_EMAIL_RECOVERY`): mails a recovery link to the account of
/// `email` that works only in the browser holding `browser_secret`, for 15 minutes, once. The
/// answer is the same whether or not the account exists; nothing is sent to an address that was
/// never confirmed, nor beyond three links an hour per account and five per client address.
pub async fn email_link(
    accounts: &Accounts,
    email: &str,
    browser_secret: &str,
    address: &str,
    now: i64,
) -> Result<(), Error> {
    if !accounts.config.mail.email_recovery || !accounts.notify.mail_enabled() {
        return Err(Error::InvalidRequest(
            "Recovery by email is off on this server. Ask its operator for a recovery link.".into(),
        ));
    }
    let email = Email::parse(email)?;
    let Some(user) = users::by_email(&accounts.db, email.as_str()).await? else { return Ok(()) };
    if user.email_verified_at.is_none() {
        tracing::info!(user_id = %user.id, "recovery link asked for an unconfirmed address: not sent");
        return Ok(());
    }
    // The same answer as for anyone else: the page does not tell the account's standing.
    if user.disabled_at.is_some() {
        tracing::info!(user_id = %user.id, "recovery link asked for a disabled account: not sent");
        return Ok(());
    }
    let (for_account, from_address) = recovery_links::asked_since(&accounts.db, &user.id, address, now - 3600).await?;
    if for_account >= EMAIL_LINKS_PER_ACCOUNT || from_address >= EMAIL_LINKS_PER_ADDRESS {
        tracing::warn!(user_id = %user.id, address, "recovery links asked too often: not sent");
        return Ok(());
    }
    let token = random_secret();
    let url = format!("{}/recover?token={token}", accounts.config.issuer());
    let (token_hash, browser_hash) = (stored_hash(&token), stored_hash(browser_secret));
    let link = NewLink {
        token_hash: &token_hash,
        user_id: &user.id,
        made_by: "email",
        expires_at: now + EMAIL_LINK_SECS,
        browser_hash: Some(&browser_hash),
        requested_from: Some(address),
    };
    let mut change = accounts.notify.change(now).await?;
    recovery_links::insert(change.db(), &link, now).await?;
    change.tell(Letter::RecoveryLink { email: &user.email, link: &url }).await?;
    change.commit().await
}

/// Who made a link that was used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MadeBy {
    /// The operator or an administrator, after checking who asked.
    Operator,
    /// The user, by email: proof of the mailbox only.
    Email,
}

/// The account a link is for — its id and address — while this browser may use it, without using
/// it: the recovery page names it, and it is checked against whoever is signed in.
pub async fn account_of(
    accounts: &Accounts,
    token: &str,
    browser_secret: Option<&str>,
    now: i64,
) -> Result<Option<(UserId, String)>, Error> {
    let browser_hash = browser_secret.map(stored_hash);
    Ok(recovery_links::usable(&accounts.db, &stored_hash(token.trim()), browser_hash.as_deref(), now).await?)
}

/// Uses a recovery link: once, before it expires, and — for one the user asked for by email — only
/// in the browser holding `browser_secret`. Mails the account's owner that it was used, in the
/// same transaction. Returns whose account it recovers, and who made the link.
pub async fn redeem(
    accounts: &Accounts,
    token: &str,
    browser_secret: Option<&str>,
    now: i64,
) -> Result<(UserId, MadeBy), Error> {
    let browser_hash = browser_secret.map(stored_hash);
    let undo_token = random_secret();
    let undo = recovery_links::Undo { hash: &stored_hash(&undo_token), until: now + UNDO_SECS };
    let mut change = accounts.notify.change(now).await?;
    let (user_id, made_by, email) =
        recovery_links::use_link(change.db(), &stored_hash(token.trim()), browser_hash.as_deref(), &undo, now)
            .await?
            .ok_or(Error::InvalidRecoveryLink)?;
    let made_by = if made_by == "email" { MadeBy::Email } else { MadeBy::Operator };
    let undo_link = format!("{}/recover/undo?token={undo_token}", accounts.config.issuer());
    change.tell(Letter::RecoveryUsed { email: &email, undo_link: &undo_link }).await?;
    change.commit().await?;
    tracing::info!(%user_id, ?made_by, "recovery link used");
    Ok((user_id, made_by))
}

/// In the change that adds the passkey of a used link (`token`, as the browser holds it): notes
/// the passkey on the link, for "this wasn't me"; and for a link made by email, holds it for
/// `LATCHKEY_RECOVERY_HOLD_SECS`.
pub(crate) async fn note_passkey(
    change: &mut Change<'_>,
    token_hash: &str,
    passkey_id: &CredentialId,
    made_by: MadeBy,
) -> Result<(), Error> {
    recovery_links::note_passkey(change.db(), token_hash, passkey_id).await?;
    if made_by == MadeBy::Email {
        let until = change.now() + i64::try_from(change.config().mail.recovery_hold.as_secs()).unwrap_or(i64::MAX);
        passkeys::hold(change.db(), passkey_id, until).await?;
    }
    Ok(())
}

/// "This wasn't me", from the mail about a used link: removes the passkey the link added and ends
/// every sign-in made with it (the recovery's own among them), once, within [`UNDO_SECS`].
pub async fn undo(accounts: &Accounts, undo_token: &str, caller: &Caller, now: i64) -> Result<(), Error> {
    let mut change = accounts.notify.change(now).await?;
    let (user_id, passkey_id) = recovery_links::take_undo(change.db(), &stored_hash(undo_token.trim()), now)
        .await?
        .ok_or(Error::InvalidRecoveryLink)?;
    if let Some(passkey_id) = passkey_id {
        remove_recovered(&mut change, &user_id, &passkey_id, caller).await?;
    }
    change.commit().await?;
    tracing::info!(%user_id, "recovery undone from its mail");
    Ok(())
}

/// "This wasn't me", from the account page of a sign-in not made with the held passkey: removes
/// the account's held passkeys and ends their sign-ins.
pub async fn undo_held(
    accounts: &Accounts,
    user_id: &UserId,
    current: &SignInId,
    caller: &Caller,
    now: i64,
) -> Result<(), Error> {
    let mut change = accounts.notify.change(now).await?;
    let held = passkeys::held_of_user(change.db(), user_id, now).await?;
    let current_passkey = sign_ins::by_id(change.db(), current).await?.and_then(|row| row.passkey_id);
    if held.iter().any(|(id, _, _)| Some(id) == current_passkey.as_ref()) {
        // Only the account's other passkeys may say the held one is not theirs.
        return Err(Error::RecoveryHold { until: held.iter().map(|(_, _, until)| *until).max().unwrap_or(now) });
    }
    for (passkey_id, _, _) in &held {
        recovery_links::take_undo_of_passkey(change.db(), passkey_id).await?;
        remove_recovered(&mut change, user_id, passkey_id, caller).await?;
    }
    change.commit().await
}

/// Removes the passkey a recovery added and ends the sign-ins made with it, recorded.
async fn remove_recovered(
    change: &mut Change<'_>,
    user_id: &UserId,
    passkey_id: &CredentialId,
    caller: &Caller,
) -> Result<(), Error> {
    let now = change.now();
    let nobody = SignInId::generate();
    sign_in::end(change.db(), Which::MadeWith { user: user_id, passkey: passkey_id, keep: &nobody }, now).await?;
    if let Some(name) = passkeys::remove(change.db(), user_id, passkey_id).await? {
        change.record(user_id, Event::RecoveryUndone(&name), Some(caller)).await?;
    }
    Ok(())
}
