//! Email verification: proof that an account's address is its owner's. At sign-up (and on request,
//! from the account page or `POST /auth/email/verification`) a mail carries a link and an eight-digit
//! code; either proves the address once, within 24 hours. The link's token and the code are stored
//! as hashes; a code may be tried five times; at most one mail a minute and five a day per account.
//! The link opens a page that asks for a click, so a mail scanner that follows links uses nothing.
//!
//! The verification and its mail are written in the same change as the account (or as each
//! other), so a sign-up never ends up without its mail.
//!
//! A change of address waits for the new address's confirmation. While it waits it is shown on the
//! account page, the current address has been told of it and it is in the account's activity; a
//! newer request replaces it, and it ends when the account's other sign-ins are ended or its
//! password is set, changed or removed: whoever asked from a stolen sign-in loses the request with
//! the sign-in.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::{Rng, RngCore};

use super::Accounts;
use crate::base::error::{Error, OrConflict};
use crate::base::types::{Caller, Email, UserId, constant_time_eq};
use crate::db::email_verifications::{self, CHANGE, CodeTries, NewVerification, VERIFY};
use crate::db::users::{self, UserRow};
use crate::notify::activity::Event;
use crate::notify::change::Change;
use crate::notify::mail::{Letter, Notice};
use crate::sign_in::Recent;
use crate::tokens::secret::stored_hash;

/// How long a link and its code work.
pub const VERIFICATION_TTL_SECS: i64 = 24 * 3600;
/// Codes tried before a verification stops working: five per verification, and ten per address a
/// day whichever accounts asked for it (so claiming one address from many accounts gets no more
/// guesses: a one-in-ten-million chance a day at an eight-digit code, 1 in 27,000 over a year of
/// trying). The link is not limited: it cannot be guessed.
const CODE_TRIES: CodeTries = CodeTries { per_verification: 5, per_address_a_day: 10 };
/// The shortest time between two verification mails to one account.
const RESEND_AFTER_SECS: i64 = 60;
/// Verification mails one account may get in a day.
const MAX_PER_DAY: i64 = 5;

/// Writes a verification of `email` for `user_id` in `change` for `purpose`, and the mail that
/// carries its link and code.
async fn write(change: &mut Change<'_>, user_id: &UserId, email: &str, purpose: &str) -> Result<(), Error> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let code = format!("{:08}", rand::rngs::OsRng.gen_range(0..100_000_000));
    // Mailed in two groups of four, which are easier to copy; spaces are ignored when it is typed.
    let shown = format!("{} {}", &code[..4], &code[4..]);
    let token_hash = stored_hash(&token);
    let code_hash = code_hash(&token_hash, &code);
    let row = NewVerification {
        token_hash: &token_hash,
        user_id,
        email,
        code_hash: &code_hash,
        purpose,
        expires_at: change.now() + VERIFICATION_TTL_SECS,
    };
    let now = change.now();
    email_verifications::insert(change.db(), &row, now).await?;
    let link = format!("{}/verify-email?token={token}", change.config().issuer());
    change.tell(Letter::VerifyEmail { email, link: &link, code: &shown, change: purpose == CHANGE }).await
}

/// A code is eight digits, so its hash is salted with its verification's token hash.
fn code_hash(token_hash: &str, code: &str) -> String {
    stored_hash(&format!("{token_hash}:{code}"))
}

/// In the change that creates an account: when mail is on, the verification of its address and
/// the mail that carries it.
pub async fn ask(change: &mut Change<'_>, user_id: &UserId, email: &str) -> Result<(), Error> {
    if !change.mail_enabled() {
        return Ok(());
    }
    write(change, user_id, email, VERIFY).await
}

/// Mails a new link and code to `user`'s address (the account page's "send again",
/// `POST /auth/email/verification`), within one a minute and five a day.
pub async fn resend(accounts: &Accounts, user: &UserRow, now: i64) -> Result<(), Error> {
    if !accounts.notify.mail_enabled() {
        return Err(Error::EmailDisabled);
    }
    if user.email_verified_at.is_some() {
        return Err(Error::InvalidRequest("Your email address is already confirmed.".into()));
    }
    within_limits(accounts, &user.id, VERIFY, now).await?;
    let mut change = accounts.notify.change(now).await?;
    write(&mut change, &user.id, &user.email, VERIFY).await?;
    change.commit().await
}

/// `PUT /auth/email` and the account page: mails a link and code to `new_email`; the account moves
/// to it once it is confirmed (and the old address is told). The current address is told of the
/// request at once, and it is recorded; an earlier request still waiting ends. Needs a [`Recent`]
/// sign-in.
pub async fn start_change(
    accounts: &Accounts,
    user: &UserRow,
    new_email: &str,
    caller: &Caller,
    _recent: &Recent,
    now: i64,
) -> Result<(), Error> {
    if !accounts.notify.mail_enabled() {
        return Err(Error::EmailDisabled);
    }
    let new_email = Email::parse(new_email)?;
    super::may_move_to(&accounts.config.sign_up, &new_email)?;
    if new_email.as_str() == user.email {
        return Err(Error::InvalidRequest("That is already your account's email address.".into()));
    }
    if users::by_email(&accounts.db, new_email.as_str()).await?.is_some() {
        return Err(Error::EmailTaken);
    }
    within_limits(accounts, &user.id, CHANGE, now).await?;
    let mut change = accounts.notify.change(now).await?;
    email_verifications::cancel(change.db(), &user.id, CHANGE, now).await?;
    write(&mut change, &user.id, new_email.as_str(), CHANGE).await?;
    let requested = Notice::EmailChangeRequested(new_email.as_str());
    change.tell(Letter::Notice { email: &user.email, what: requested }).await?;
    change.record(&user.id, Event::EmailChangeRequested(new_email.as_str()), Some(caller)).await?;
    change.commit().await
}

/// The account's change of address waiting for confirmation, if any: (new address, until when).
pub async fn pending_change(accounts: &Accounts, user_id: &UserId, now: i64) -> Result<Option<(String, i64)>, Error> {
    Ok(email_verifications::pending(&accounts.db, user_id, CHANGE, now).await?)
}

/// One verification mail a minute and five a day per account and purpose.
async fn within_limits(accounts: &Accounts, user_id: &UserId, purpose: &str, now: i64) -> Result<(), Error> {
    let (today, newest) = email_verifications::sent_since(&accounts.db, user_id, purpose, now - 24 * 3600).await?;
    let wait = match newest {
        Some(at) if at > now - RESEND_AFTER_SECS => at + RESEND_AFTER_SECS - now,
        _ if today >= MAX_PER_DAY => 3600,
        _ => 0,
    };
    if wait > 0 {
        let retry_after = std::time::Duration::from_secs(u64::try_from(wait).unwrap_or(1));
        crate::base::measure::rate_limited("mail");
        return Err(Error::TooManyMails { retry_after });
    }
    Ok(())
}

/// Applies a used verification in `change`: the account's own address is confirmed, or — for a
/// change — the account moves to the new, confirmed address, the old one is told, and the move is
/// in the account's activity.
async fn apply(change: &mut Change<'_>, user_id: &UserId, email: &str, purpose: &str) -> Result<(), Error> {
    let now = change.now();
    if purpose != CHANGE {
        return if email_verifications::mark_verified(change.db(), user_id, email, now).await? {
            Ok(())
        } else {
            // The account's address changed since: this proves an address it no longer has.
            Err(Error::InvalidVerification)
        };
    }
    let user = users::by_id(change.db(), user_id).await?.ok_or(Error::InvalidVerification)?;
    // Told first: a notice goes to an address an account has confirmed, which this one is until the move.
    change.tell(Letter::Notice { email: &user.email, what: Notice::EmailChanged(email) }).await?;
    email_verifications::change_to(change.db(), user_id, email, now).await.or_conflict(Error::EmailTaken)?;
    change.record(user_id, Event::EmailChanged, None).await?;
    tracing::info!(%user_id, "email address changed");
    Ok(())
}

/// The mailed link: proves the address it was sent to, once, for whoever holds it (no sign-in
/// needed). Returns whose address it was.
pub async fn confirm_link(
    accounts: &Accounts,
    token: &str,
    signed_in: Option<&UserId>,
    now: i64,
) -> Result<UserId, Error> {
    let mut change = accounts.notify.change(now).await?;
    let (user_id, email, purpose) = email_verifications::use_token(change.db(), &stored_hash(token.trim()), now)
        .await?
        .ok_or(Error::InvalidVerification)?;
    // Where a confirmed address is what lets an account into apps (`LATCHKEY_SIGN_UP=domains`),
    // anyone could sign up as `ceo@example.com` and have the real owner's click confirm it for
    // them: a new account's address is confirmed by link only in a browser signed in to it (or
    // by the code, typed on its account page). Refused, the link stays unused (rolled back).
    if accounts.config.sign_up.needs_confirmed_address() && purpose != CHANGE && signed_in != Some(&user_id) {
        return Err(Error::SignInToConfirm);
    }
    apply(&mut change, &user_id, &email, &purpose).await?;
    change.commit().await?;
    tracing::info!(%user_id, "email address verified by link");
    Ok(user_id)
}

/// The mailed code, typed by the signed-in `user_id`: proves the address of their newest
/// verification; five wrong codes end that verification (each try is counted on its own, whatever
/// comes of it).
pub async fn confirm_code(accounts: &Accounts, user_id: &UserId, code: &str, now: i64) -> Result<(), Error> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let (token_hash, expected, email, purpose) = email_verifications::try_code(&accounts.db, user_id, &CODE_TRIES, now)
        .await?
        .ok_or(Error::InvalidVerification)?;
    if !constant_time_eq(code_hash(&token_hash, &code).as_bytes(), expected.as_bytes()) {
        return Err(Error::InvalidVerification);
    }
    let mut change = accounts.notify.change(now).await?;
    if !email_verifications::mark_used(change.db(), &token_hash, now).await? {
        return Err(Error::InvalidVerification);
    }
    apply(&mut change, user_id, &email, &purpose).await?;
    change.commit().await?;
    tracing::info!(%user_id, "email address verified by code");
    Ok(())
}
