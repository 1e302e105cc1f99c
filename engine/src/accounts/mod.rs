//! Accounts: email + password sign-up, password sign-in (within the budget of [`lockout`]), the
//! password added, changed or removed, profile, and deletion (here); the password policy
//! ([`passwords`]); proof of the email address ([`verification`]); and recovery links for someone
//! who lost their passkeys ([`recovery`]). Passwords are hashed by `tokens/secret.rs`.

pub mod admins;
pub mod claims;
pub mod groups;
pub mod invitations;
pub mod lockout;
pub mod passwords;
pub mod recovery;
pub mod standing;
pub mod verification;

use std::sync::Arc;

use proto::{TokenPair, UserInfo};

use crate::base::clock::rfc3339;
use crate::base::config::{Config, SignUp};
use crate::base::error::{Error, OrConflict};
use crate::base::types::{Caller, DisplayName, Email, Password, UserId};
use crate::db::Db;
use crate::db::email_verifications;
use crate::db::invitations as db_invitations;
use crate::db::users::{self, PasswordRemoval, UserRow};
use crate::notify::Notify;
use crate::notify::activity::Event;
use crate::notify::change::{Change, Hook};
use crate::notify::hooks::SignInMethod;
use crate::notify::mail::{Letter, Notice};
use crate::sign_in::Recent;
use crate::sign_in::{self, How};
use crate::tokens::TokenKeys;
use crate::tokens::secret::HashingQueue;
use crate::tokens::secret::{hash_password, verify_password};
use passwords::refuse_common;

/// The wing's handle: what accounts, their passwords, email addresses and recovery need. Cheap to
/// clone.
#[derive(Clone)]
pub struct Accounts {
    /// The database.
    pub db: Db,
    /// Changes, with their mail and records.
    pub notify: Notify,
    /// The issuer (the site's address, for links) and whether mailed recovery links are on.
    pub config: Arc<Config>,
    /// Access tokens and refresh tokens, for a REST client's first pair.
    pub tokens: Arc<TokenKeys>,
    /// Argon2 work waiting for a core (bounded; `tokens/secret.rs`).
    pub hashing: Arc<HashingQueue>,
}

/// The public view of a user row.
pub fn user_info(user: &UserRow) -> UserInfo {
    UserInfo {
        id: user.id.to_string(),
        email: user.email.clone(),
        name: user.name.clone(),
        created_at: rfc3339(user.created_at),
        email_verified: user.email_verified_at.is_some(),
    }
}

/// A user row for a new account, with a fresh id and WebAuthn user handle.
pub fn new_user_row(email: Email, name: Option<DisplayName>, password_hash: Option<String>, now: i64) -> UserRow {
    UserRow {
        id: UserId::generate(),
        email: email.as_str().to_owned(),
        name: name.map(DisplayName::into_string),
        password_hash,
        webauthn_handle: uuid::Uuid::new_v4().to_string(),
        created_at: now,
        email_verified_at: None,
        disabled_at: None,
    }
}

/// The proof that a new account may be made: the operator's rule (`LATCHKEY_SIGN_UP`) admits its
/// address, or it holds an invitation (which [`create`] uses up in its change, or refuses the
/// account). [`create`] takes one, so no door makes an account without asking [`admit`].
#[derive(Debug)]
pub struct Admitted {
    /// The SHA-256 of the invitation's token, when one admits it.
    invitation: Option<String>,
}

impl Admitted {
    /// Admitted by the invitation whose token hashes to `hash`, as [`admit`] found it (a passkey
    /// sign-up carries the hash from *begin* to *complete*); [`create`] uses it up or refuses.
    pub(crate) fn invited(hash: String) -> Self {
        Self { invitation: Some(hash) }
    }

    /// The SHA-256 of the invitation's token, when one admits the account.
    pub(crate) fn invitation(&self) -> Option<&str> {
        self.invitation.as_deref()
    }
}

/// Whether `email` may make an account here: with `invitation` (a token), when it can still be
/// used and is for this address or any; else by the operator's rule (`LATCHKEY_SIGN_UP`), asked
/// before anything else about the address, so where sign-up is closed nobody learns from it which
/// addresses have accounts.
pub async fn admit(
    db: &Db,
    rule: &SignUp,
    email: &Email,
    invitation: Option<&str>,
    now: i64,
) -> Result<Admitted, Error> {
    if let Some(token) = invitation.map(str::trim).filter(|t| !t.is_empty()) {
        let found = invitations::usable(db, token, now).await?;
        if found.email.as_deref().is_some_and(|only| only != email.as_str()) {
            return Err(Error::InvalidInvitation("This invitation is for another email address."));
        }
        return Ok(Admitted::invited(crate::tokens::secret::stored_hash(token)));
    }
    match rule {
        SignUp::Closed => Err(Error::SignUpClosed),
        SignUp::Invite => Err(Error::InvitationRequired),
        rule if rule.admits_domain(email.domain()) => Ok(Admitted { invitation: None }),
        SignUp::Domains(_) => Err(Error::EmailDomainNotAllowed { domains: rule.domains_said() }),
        SignUp::Open => Ok(Admitted { invitation: None }),
    }
}

/// Whether an account may move to `email`: where accounts are for some domains only, a new address
/// must be at one of them too (or the rule would be passed by signing up at one and moving away).
pub fn may_move_to(rule: &SignUp, email: &Email) -> Result<(), Error> {
    match rule {
        SignUp::Domains(_) if !rule.admits_domain(email.domain()) => {
            Err(Error::EmailDomainNotAllowed { domains: rule.domains_said() })
        }
        _ => Ok(()),
    }
}

/// Creates an account with a password (one of 8 to 128 characters that is not on the common list),
/// in a change the caller goes on with (a sign-in for it) and commits: the account, the mail that
/// asks to confirm its address, and its record.
pub async fn sign_up<'e>(
    accounts: &'e Accounts,
    email: &str,
    password: &str,
    name: Option<&str>,
    invitation: Option<&str>,
    caller: &Caller,
    now: i64,
) -> Result<(UserRow, Change<'e>), Error> {
    let email = Email::parse(email)?;
    let admitted = admit(&accounts.db, &accounts.config.sign_up, &email, invitation, now).await?;
    let password = Password::parse(password)?;
    refuse_common(&password)?;
    let name = name.filter(|n| !n.trim().is_empty()).map(DisplayName::parse).transpose()?;
    // Checked before hashing, so a taken email costs no Argon2 work (the insert still decides a race).
    if users::by_email(&accounts.db, email.as_str()).await?.is_some() {
        return Err(Error::EmailTaken);
    }
    let password_hash = hash_password(&accounts.hashing, password).await?;
    let user = new_user_row(email, name, Some(password_hash), now);
    let mut change = accounts.notify.change(now).await?;
    create(&mut change, &user, caller, &admitted).await?;
    Ok((user, change))
}

/// Writes a new account in `change`: the row, its invitation used up (refused if it was used,
/// withdrawn or expired meanwhile), the mail that asks to confirm its address (when mail is on and
/// a mailed invitation did not already prove it), the record, and the application's hook. A taken
/// email is [`Error::EmailTaken`].
pub async fn create(
    change: &mut Change<'_>,
    user: &UserRow,
    caller: &Caller,
    admitted: &Admitted,
) -> Result<(), Error> {
    users::insert(change.db(), user).await.or_conflict(Error::EmailTaken)?;
    let (mut proved, mut admin, now) = (false, None, change.now());
    if let Some(hash) = admitted.invitation() {
        let used = db_invitations::take(change.db(), hash, &user.id, &user.email, now).await?.ok_or(
            Error::InvalidInvitation("This invitation was used, withdrawn or expired meanwhile. Ask for a new one."),
        )?;
        // Mailed to this address: following its link proved the mailbox.
        proved = used.mailed && used.email.as_deref() == Some(user.email.as_str());
        // The groups it joins (one deleted since is skipped).
        for group in used.groups.as_deref().unwrap_or_default().split_whitespace() {
            crate::db::groups::add_member(change.db(), group, &user.id, now).await?;
        }
        admin = used.admin.then_some(used.id);
    }
    if proved {
        email_verifications::mark_verified(change.db(), &user.id, &user.email, now).await?;
    } else {
        verification::ask(change, &user.id, &user.email).await?;
    }
    change.record(&user.id, Event::AccountCreated, Some(caller)).await?;
    if let Some(invitation) = admin {
        admins::grant_invited(change, user, &invitation).await?;
    }
    change.after(Hook::SignedUp(user_info(user)));
    Ok(())
}

/// `POST /auth/register`: sign-up with a password, then a first token pair, all in one change.
pub async fn register(
    accounts: &Accounts,
    email: &str,
    password: &str,
    name: Option<&str>,
    invitation: Option<&str>,
    caller: &Caller,
    now: i64,
) -> Result<TokenPair, Error> {
    let (user, change) = sign_up(accounts, email, password, name, invitation, caller, now).await?;
    first_tokens(accounts, change, &user, caller, now).await
}

/// Checks email and password for `caller`, within the lockout budget of its address (taken before
/// the check); the same error for an unknown email and a wrong password. Either outcome for an
/// existing account is in its activity: a failure is recorded at once, a success in the change
/// returned, which the caller goes on with (the sign-in it starts) and commits.
pub async fn verify_login<'e>(
    accounts: &'e Accounts,
    email: &str,
    password: &str,
    caller: &Caller,
    now: i64,
) -> Result<(UserRow, Change<'e>), Error> {
    // Malformed input gets the same answer as a wrong password: nothing to learn from the difference.
    let (Ok(email), Ok(password)) = (Email::parse(email), Password::parse(password)) else {
        return Err(Error::InvalidCredentials);
    };
    let address = caller.address.to_string();
    lockout::take_attempt(accounts, email.as_str(), &address, now).await?;
    let user = users::by_email(&accounts.db, email.as_str()).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let has_password = hash.is_some();
    let matches = verify_password(&accounts.hashing, password, hash).await? && has_password;
    match user {
        // Told only to someone who knows the password: nobody else learns the account's standing.
        Some(user) if matches && user.disabled_at.is_some() => Err(Error::AccountDisabled),
        Some(user) if matches => {
            lockout::forget_attempts(accounts, email.as_str(), &address).await?;
            let mut change = accounts.notify.change(now).await?;
            let signed_in = Event::SignedIn { method: SignInMethod::Password, passkey: None };
            change.record(&user.id, signed_in, Some(caller)).await?;
            change.after(Hook::SignedIn(user_info(&user), SignInMethod::Password));
            Ok((user, change))
        }
        Some(user) => {
            let mut change = accounts.notify.change(now).await?;
            let failed = Event::SignInFailed { method: SignInMethod::Password };
            change.record(&user.id, failed, Some(caller)).await?;
            change.commit().await?;
            Err(Error::InvalidCredentials)
        }
        None => Err(Error::InvalidCredentials),
    }
}

/// `POST /auth/login`.
pub async fn login(
    accounts: &Accounts,
    email: &str,
    password: &str,
    caller: &Caller,
    now: i64,
) -> Result<TokenPair, Error> {
    let (user, change) = verify_login(accounts, email, password, caller, now).await?;
    first_tokens(accounts, change, &user, caller, now).await
}

/// Starts the password sign-in of a REST client in the `change` that checked or created `user`,
/// commits it, and returns the sign-in's first token pair.
async fn first_tokens(
    accounts: &Accounts,
    mut change: Change<'_>,
    user: &UserRow,
    caller: &Caller,
    now: i64,
) -> Result<TokenPair, Error> {
    let pair = sign_in::start_with_tokens(change.db(), &accounts.tokens, &user.id, How::Password, caller, now).await?;
    change.commit().await?;
    Ok(pair)
}

/// `PUT /auth/password` and the account page: adds a password to a passkey-only account, or
/// changes it; the same rules as sign-up. Every other sign-in of the account ends (all but the
/// [`Recent`] one making the change): whoever knew the old password, or holds a sign-in made with
/// it, is out.
pub async fn set_password(
    accounts: &Accounts,
    user_id: &UserId,
    password: &str,
    caller: &Caller,
    recent: &Recent,
    now: i64,
) -> Result<(), Error> {
    let password = Password::parse(password)?;
    refuse_common(&password)?;
    let user = find_user(&accounts.db, user_id, Error::SignInRequired).await?;
    let had_password = user.password_hash.is_some();
    let hash = hash_password(&accounts.hashing, password).await?;
    let mut change = accounts.notify.change(now).await?;
    if !users::set_password_hash(change.db(), user_id, &hash).await? {
        return Err(Error::SignInRequired);
    }
    let ended = sign_in::end_others_in(&mut change, user_id, recent.sign_in(), caller).await?;
    let (notice, event) = match had_password {
        true => (Notice::PasswordChanged, Event::PasswordChanged),
        false => (Notice::PasswordSet, Event::PasswordSet),
    };
    change.tell(Letter::Notice { email: &user.email, what: notice }).await?;
    change.record(user_id, event, Some(caller)).await?;
    change.commit().await?;
    tracing::info!(%user_id, ended, "password set by its user; other sign-ins ended");
    Ok(())
}

/// `DELETE /auth/password` and the account page: removes the password of an account that keeps a
/// passkey (never its only way in), and ends every other sign-in, as [`set_password`] does.
pub async fn remove_password(
    accounts: &Accounts,
    user_id: &UserId,
    caller: &Caller,
    recent: &Recent,
    now: i64,
) -> Result<(), Error> {
    let user = find_user(&accounts.db, user_id, Error::SignInRequired).await?;
    let mut change = accounts.notify.change(now).await?;
    match users::remove_password(change.db(), user_id).await? {
        PasswordRemoval::Removed => {}
        PasswordRemoval::OnlyWayIn => return Err(Error::PasswordOnlyWayIn),
        PasswordRemoval::NotSet => return Err(Error::PasswordNotSet),
    }
    let ended = sign_in::end_others_in(&mut change, user_id, recent.sign_in(), caller).await?;
    change.tell(Letter::Notice { email: &user.email, what: Notice::PasswordRemoved }).await?;
    change.record(user_id, Event::PasswordRemoved, Some(caller)).await?;
    change.commit().await?;
    tracing::info!(%user_id, ended, "password removed by its user; other sign-ins ended");
    Ok(())
}

/// `DELETE /auth/me` and the account page: deletes the account of a [`Recent`] sign-in, confirmed by
/// its email typed in again (compared as emails are: trimmed, case-insensitive). Everything of it
/// goes in one statement: passkeys, sign-ins, tokens, codes, consents, activity.
pub async fn delete_account(
    accounts: &Accounts,
    user_id: &UserId,
    typed_email: &str,
    _recent: &Recent,
    now: i64,
) -> Result<(), Error> {
    let user = find_user(&accounts.db, user_id, Error::SignInRequired).await?;
    if Email::parse(typed_email).ok().is_none_or(|typed| typed.as_str() != user.email) {
        return Err(Error::InvalidRequest("Type your account's email address to confirm the deletion.".into()));
    }
    let mut change = accounts.notify.change(now).await?;
    // The last administrator does not delete themselves (the admin API's rule, at every door).
    admins::keep_one_admin(&mut change, user_id).await?;
    admins::withdraw_links_of(&mut change, user_id).await?;
    let deleted = remove(&mut change, &user).await?;
    change.commit().await?;
    if deleted {
        tracing::info!(%user_id, "account deleted by its user");
    }
    Ok(())
}

/// Deletes `user` in `change` — passkeys, sign-ins, tokens, codes, consents, memberships and
/// activity go with the row (`ON DELETE CASCADE`) — and tells the application's hook once it is
/// committed; `false` when it was gone already. Its owner's deletion and an administrator's alike.
pub(crate) async fn remove(change: &mut Change<'_>, user: &UserRow) -> Result<bool, Error> {
    let deleted = users::delete(change.db(), &user.id).await?;
    if deleted {
        change.after(Hook::AccountDeleted(user_info(user)));
    }
    Ok(deleted)
}

/// The account behind a token or a session; a deleted account is `gone` (the door's "not signed in").
pub async fn find_user(db: &Db, user_id: &UserId, gone: Error) -> Result<UserRow, Error> {
    users::by_id(db, user_id).await?.ok_or(gone)
}

/// `GET /auth/me`.
pub async fn me(accounts: &Accounts, user_id: &UserId) -> Result<UserInfo, Error> {
    Ok(user_info(&find_user(&accounts.db, user_id, Error::InvalidToken).await?))
}

/// Changes the display name (empty clears it).
pub async fn rename_user(accounts: &Accounts, user_id: &UserId, name: &str) -> Result<UserInfo, Error> {
    let name = Some(name).filter(|n| !n.trim().is_empty()).map(DisplayName::parse).transpose()?;
    let user = users::set_name(&accounts.db, user_id, name.as_ref().map(DisplayName::as_str))
        .await?
        .ok_or(Error::SignInRequired)?;
    Ok(user_info(&user))
}
