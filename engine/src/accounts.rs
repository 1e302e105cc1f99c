//! Email + password accounts: sign-up, password sign-in (within the budget of `lockout.rs`), the
//! password added, changed or removed, profile, and deletion. Passwords are hashed and checked
//! against the common-password list by `passwords.rs`.

use proto::{TokenPair, UserInfo};

use crate::activity::{self, Event};
use crate::clock::rfc3339;
use crate::db::sign_ins;
use crate::db::users::{self, PasswordRemoval, UserRow};
use crate::error::Error;
use crate::hooks::{SignInMethod, run_hook};
use crate::lockout;
use crate::mail::{self, Change};
use crate::passwords::{hash_password, refuse_common, verify_password};
use crate::reauth::Recent;
use crate::state::Engine;
use crate::tokens;
use crate::types::{Caller, DisplayName, Email, Password, UserId};
use crate::verification;

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
    }
}

/// Creates an account with a password (one of 8 to 128 characters that is not on the common list).
pub async fn sign_up(
    engine: &Engine,
    email: &str,
    password: &str,
    name: Option<&str>,
    caller: &Caller,
    now: i64,
) -> Result<UserRow, Error> {
    let email = Email::parse(email)?;
    let password = Password::parse(password)?;
    refuse_common(&password)?;
    let name = name.filter(|n| !n.trim().is_empty()).map(DisplayName::parse).transpose()?;
    // Checked before hashing, so a taken email costs no Argon2 work (the insert still decides a race).
    if users::by_email(&engine.db, email.as_str()).await?.is_some() {
        return Err(Error::EmailTaken);
    }
    let password_hash = hash_password(&engine.hashing, password).await?;
    let user = new_user_row(email, name, Some(password_hash), now);
    verification::insert_account(engine, &user, now).await?;
    activity::record(engine, &user.id, Event::AccountCreated, Some(caller), now).await?;
    run_hook("on_signed_up", engine.hooks.on_signed_up(&user_info(&user))).await;
    Ok(user)
}

/// `POST /auth/register`: sign-up with a password, then a first token pair.
pub async fn register(
    engine: &Engine,
    email: &str,
    password: &str,
    name: Option<&str>,
    caller: &Caller,
    now: i64,
) -> Result<TokenPair, Error> {
    let user = sign_up(engine, email, password, name, caller, now).await?;
    tokens::start_password_sign_in(&engine.db, &engine.tokens, &user.id, &caller.user_agent, now).await
}

/// Checks email and password for `caller`, within the lockout budget of its address (taken before
/// the check); the same error for an unknown email and a wrong password. Either outcome for an
/// existing account is in its activity.
pub async fn verify_login(
    engine: &Engine,
    email: &str,
    password: &str,
    caller: &Caller,
    now: i64,
) -> Result<UserRow, Error> {
    // Malformed input gets the same answer as a wrong password: nothing to learn from the difference.
    let (Ok(email), Ok(password)) = (Email::parse(email), Password::parse(password)) else {
        return Err(Error::InvalidCredentials);
    };
    let address = caller.address.to_string();
    lockout::take_attempt(engine, email.as_str(), &address, now).await?;
    let user = users::by_email(&engine.db, email.as_str()).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let has_password = hash.is_some();
    let matches = verify_password(&engine.hashing, password, hash).await? && has_password;
    match user {
        Some(user) if matches => {
            lockout::forget_attempts(engine, email.as_str(), &address).await?;
            let signed_in = Event::SignedIn { method: SignInMethod::Password, passkey: None };
            activity::record(engine, &user.id, signed_in, Some(caller), now).await?;
            run_hook("on_signed_in", engine.hooks.on_signed_in(&user_info(&user), SignInMethod::Password)).await;
            Ok(user)
        }
        Some(user) => {
            let failed = Event::SignInFailed { method: SignInMethod::Password };
            activity::record(engine, &user.id, failed, Some(caller), now).await?;
            Err(Error::InvalidCredentials)
        }
        None => Err(Error::InvalidCredentials),
    }
}

/// `POST /auth/login`.
pub async fn login(
    engine: &Engine,
    email: &str,
    password: &str,
    caller: &Caller,
    now: i64,
) -> Result<TokenPair, Error> {
    let user = verify_login(engine, email, password, caller, now).await?;
    tokens::start_password_sign_in(&engine.db, &engine.tokens, &user.id, &caller.user_agent, now).await
}

/// `PUT /auth/password` and the account page: adds a password to a passkey-only account, or
/// changes it; the same rules as sign-up. Every other sign-in of the account ends (all but the
/// [`Recent`] one making the change): whoever knew the old password, or holds a sign-in made with
/// it, is out.
pub async fn set_password(
    engine: &Engine,
    user_id: &UserId,
    password: &str,
    caller: &Caller,
    recent: &Recent,
    now: i64,
) -> Result<(), Error> {
    let password = Password::parse(password)?;
    refuse_common(&password)?;
    let user = find_user(engine, user_id, Error::SignInRequired).await?;
    let had_password = user.password_hash.is_some();
    let change = if had_password { Change::PasswordChanged } else { Change::PasswordSet };
    let notice = mail::notice(&engine.config, &engine.mail, &user.email, change)?;
    let hash = hash_password(&engine.hashing, password).await?;
    if !users::set_password_hash(&engine.db, user_id, &hash, notice.as_ref(), now).await? {
        return Err(Error::SignInRequired);
    }
    engine.mail.wake();
    let ended = sign_ins::revoke_others(&engine.db, user_id, recent.sign_in(), now).await?;
    tracing::info!(%user_id, ended, "password set by its user; other sign-ins ended");
    let event = if had_password { Event::PasswordChanged } else { Event::PasswordSet };
    activity::record(engine, user_id, event, Some(caller), now).await
}

/// `DELETE /auth/password` and the account page: removes the password of an account that keeps a
/// passkey (never its only way in), and ends every other sign-in, as [`set_password`] does.
pub async fn remove_password(
    engine: &Engine,
    user_id: &UserId,
    caller: &Caller,
    recent: &Recent,
    now: i64,
) -> Result<(), Error> {
    let user = find_user(engine, user_id, Error::SignInRequired).await?;
    let notice = mail::notice(&engine.config, &engine.mail, &user.email, Change::PasswordRemoved)?;
    match users::remove_password(&engine.db, user_id, notice.as_ref(), now).await? {
        PasswordRemoval::Removed => engine.mail.wake(),
        PasswordRemoval::OnlyWayIn => return Err(Error::PasswordOnlyWayIn),
        PasswordRemoval::NotSet => return Err(Error::PasswordNotSet),
    }
    let ended = sign_ins::revoke_others(&engine.db, user_id, recent.sign_in(), now).await?;
    tracing::info!(%user_id, ended, "password removed by its user; other sign-ins ended");
    activity::record(engine, user_id, Event::PasswordRemoved, Some(caller), now).await
}

/// `DELETE /auth/me` and the account page: deletes the account of a [`Recent`] sign-in, confirmed by
/// its email typed in again (compared as emails are: trimmed, case-insensitive). Everything of it
/// goes in one statement: passkeys, sign-ins, tokens, codes, consents.
pub async fn delete_account(
    engine: &Engine,
    user_id: &UserId,
    typed_email: &str,
    _recent: &Recent,
) -> Result<(), Error> {
    let user = find_user(engine, user_id, Error::SignInRequired).await?;
    if Email::parse(typed_email).ok().is_none_or(|typed| typed.as_str() != user.email) {
        return Err(Error::InvalidRequest("Type your account's email address to confirm the deletion.".into()));
    }
    if users::delete(&engine.db, user_id).await? {
        tracing::info!(%user_id, "account deleted by its user");
        run_hook("on_account_deleted", engine.hooks.on_account_deleted(&user_info(&user))).await;
    }
    Ok(())
}

/// The account behind a token or a session; a deleted account is `gone` (the door's "not signed in").
pub async fn find_user(engine: &Engine, user_id: &UserId, gone: Error) -> Result<UserRow, Error> {
    users::by_id(&engine.db, user_id).await?.ok_or(gone)
}

/// `GET /auth/me`.
pub async fn me(engine: &Engine, user_id: &UserId) -> Result<UserInfo, Error> {
    Ok(user_info(&find_user(engine, user_id, Error::InvalidToken).await?))
}

/// Changes the display name (empty clears it).
pub async fn rename_user(engine: &Engine, user_id: &UserId, name: &str) -> Result<UserInfo, Error> {
    let name = Some(name).filter(|n| !n.trim().is_empty()).map(DisplayName::parse).transpose()?;
    let user = users::set_name(&engine.db, user_id, name.as_ref().map(DisplayName::as_str))
        .await?
        .ok_or(Error::SignInRequired)?;
    Ok(user_info(&user))
}
