//! Email + password accounts: sign-up, password sign-in (within the budget of `lockout.rs`), and
//! profile. Passwords are hashed by `passwords.rs`.

use proto::{TokenPair, UserInfo};

use crate::clock::rfc3339;
use crate::db::users::{self, UserRow};
use crate::error::{Error, OrConflict};
use crate::hooks::{SignInMethod, run_hook};
use crate::lockout;
use crate::passwords::{hash_password, verify_password};
use crate::reauth::Recent;
use crate::state::Engine;
use crate::tokens;
use crate::types::{DisplayName, Email, Password, UserAgent, UserId};

/// The public view of a user row.
pub fn user_info(user: &UserRow) -> UserInfo {
    UserInfo {
        id: user.id.to_string(),
        email: user.email.clone(),
        name: user.name.clone(),
        created_at: rfc3339(user.created_at),
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
    }
}

/// Creates an account. With `password: None` the account is passkey-only (the portal's sign-up
/// registers a passkey right after).
pub async fn sign_up(
    engine: &Engine,
    email: &str,
    password: Option<&str>,
    name: Option<&str>,
    now: i64,
) -> Result<UserRow, Error> {
    let email = Email::parse(email)?;
    let password = password.map(Password::parse).transpose()?;
    let name = name.filter(|n| !n.trim().is_empty()).map(DisplayName::parse).transpose()?;
    // Checked before hashing, so a taken email costs no Argon2 work (the insert still decides a race).
    if users::by_email(&engine.db, email.as_str()).await?.is_some() {
        return Err(Error::EmailTaken);
    }
    let password_hash = match password {
        Some(password) => Some(hash_password(&engine.hashing, password).await?),
        None => None,
    };
    let user = new_user_row(email, name, password_hash, now);
    users::insert(&engine.db, &user).await.or_conflict(Error::EmailTaken)?;
    run_hook("on_signed_up", engine.hooks.on_signed_up(&user_info(&user))).await;
    Ok(user)
}

/// `POST /auth/register`: sign-up with a password, then a first token pair.
pub async fn register(
    engine: &Engine,
    email: &str,
    password: &str,
    name: Option<&str>,
    user_agent: &UserAgent,
    now: i64,
) -> Result<TokenPair, Error> {
    let user = sign_up(engine, email, Some(password), name, now).await?;
    tokens::start_password_sign_in(&engine.db, &engine.tokens, &user.id, user_agent, now).await
}

/// Checks email and password for a client at `address`, within the lockout budget (taken before
/// the check); the same error for an unknown email and a wrong password.
pub async fn verify_login(
    engine: &Engine,
    email: &str,
    password: &str,
    address: &str,
    now: i64,
) -> Result<UserRow, Error> {
    // Malformed input gets the same answer as a wrong password: nothing to learn from the difference.
    let (Ok(email), Ok(password)) = (Email::parse(email), Password::parse(password)) else {
        return Err(Error::InvalidCredentials);
    };
    lockout::take_attempt(engine, email.as_str(), address, now).await?;
    let user = users::by_email(&engine.db, email.as_str()).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let has_password = hash.is_some();
    let matches = verify_password(&engine.hashing, password, hash).await? && has_password;
    match user {
        Some(user) if matches => {
            lockout::forget_attempts(engine, email.as_str(), address).await?;
            run_hook("on_signed_in", engine.hooks.on_signed_in(&user_info(&user), SignInMethod::Password)).await;
            Ok(user)
        }
        _ => Err(Error::InvalidCredentials),
    }
}

/// `POST /auth/login` from a client at `address`.
pub async fn login(
    engine: &Engine,
    email: &str,
    password: &str,
    address: &str,
    user_agent: &UserAgent,
    now: i64,
) -> Result<TokenPair, Error> {
    let user = verify_login(engine, email, password, address, now).await?;
    tokens::start_password_sign_in(&engine.db, &engine.tokens, &user.id, user_agent, now).await
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
