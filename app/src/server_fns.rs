//! The portal's server functions: thin doors into the same engine the REST API uses. Each one gets
//! the `AppState` and the browser session, calls one engine function, and answers with a
//! [`PortalError`] a person can act on.

use leptos::prelude::*;

use crate::api::{AccountView, PasskeyItem, PortalError, UserInfo};

#[cfg(feature = "ssr")]
mod door {
    //! What every server function needs: the state, the session, the signed-in user.
    use leptos::prelude::use_context;
    use tower_sessions::Session;

    use crate::api::PortalError;
    use crate::ssr::session::{self, SessionUser};
    use crate::ssr::{AppState, Error};

    pub fn state() -> Result<AppState, PortalError> {
        use_context::<AppState>().ok_or_else(|| Error::internal("AppState is not in the Leptos context").into())
    }

    pub async fn session() -> Result<Session, PortalError> {
        leptos_axum::extract::<Session>().await.map_err(|e| Error::internal(format!("no session layer: {e}")).into())
    }

    pub async fn user() -> Result<(Session, SessionUser), PortalError> {
        let session = session().await?;
        let user = session::current_user(&session).await?;
        Ok((session, user))
    }

    pub fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, PortalError> {
        serde_json::from_str(json)
            .map_err(|e| Error::InvalidRequest(format!("The browser's answer is not valid: {e}")).into())
    }

    pub fn to_json(value: &serde_json::Value) -> String {
        value.to_string()
    }
}

/// Request options for a discoverable passkey sign-in (button or autofill), as JSON.
#[server]
pub async fn passkey_sign_in_options() -> Result<String, PortalError> {
    let state = door::state()?;
    let options = crate::ssr::ceremony::start_authentication(&state, None).await?;
    Ok(door::to_json(&options))
}

/// Verifies a passkey assertion (`credential.toJSON()` as JSON) and signs its owner in.
#[server]
pub async fn finish_passkey_sign_in(credential: String) -> Result<(), PortalError> {
    use crate::ssr::{ceremony, clock, session};
    let (state, browser) = (door::state()?, door::session().await?);
    let credential = door::parse(&credential)?;
    let now = clock::now();
    let signed_in = ceremony::finish_browser_authentication(&state, &credential, now).await?;
    session::enter(&browser, &signed_in.user, signed_in.family_id).await?;
    Ok(())
}

/// Email + password sign-in; works as a plain HTML form without JavaScript.
#[server]
pub async fn password_sign_in(email: String, password: String) -> Result<(), PortalError> {
    use crate::ssr::{accounts, clock, session};
    let (state, browser) = (door::state()?, door::session().await?);
    let now = clock::now();
    let user = accounts::verify_login(&state, &email, &password, now).await?;
    session::sign_in(&browser, &state, &user, now).await?;
    leptos_axum::redirect("/passkeys?offer=1");
    Ok(())
}

/// Sign-up with email + password; works without JavaScript.
#[server]
pub async fn sign_up_with_password(email: String, password: String) -> Result<(), PortalError> {
    use crate::ssr::{accounts, clock, session};
    let (state, browser) = (door::state()?, door::session().await?);
    let now = clock::now();
    let user = accounts::sign_up(&state, &email, Some(&password), None, now).await?;
    session::sign_in(&browser, &state, &user, now).await?;
    leptos_axum::redirect("/passkeys?offer=1");
    Ok(())
}

/// Creation options for a passkey-only sign-up; the account is created when the passkey is.
#[server]
pub async fn sign_up_with_passkey_options(email: String) -> Result<String, PortalError> {
    use crate::ssr::{ceremony, clock, session};
    let (state, browser) = (door::state()?, door::session().await?);
    let (user_id, options) = ceremony::start_sign_up(&state, &email, clock::now()).await?;
    session::remember_pending_sign_up(&browser, &user_id).await?;
    Ok(door::to_json(&options))
}

/// Verifies the new passkey, creates the account and signs it in.
#[server]
pub async fn finish_sign_up_with_passkey(credential: String) -> Result<(), PortalError> {
    use crate::ssr::db::users;
    use crate::ssr::{Error, ceremony, clock, session};
    let (state, browser) = (door::state()?, door::session().await?);
    let credential = door::parse(&credential)?;
    let user_id = session::take_pending_sign_up(&browser).await?.ok_or(Error::CeremonyExpired)?;
    let now = clock::now();
    ceremony::finish_registration(&state, &user_id, &credential, None, now).await?;
    let user = users::find_user_by_id(&state.db, &user_id).await.map_err(Error::from_db)?.ok_or(Error::Unauthorized)?;
    session::sign_in(&browser, &state, &user, now).await?;
    Ok(())
}

/// The signed-in account and its passkeys.
#[server]
pub async fn my_account() -> Result<AccountView, PortalError> {
    use crate::ssr::{Error, accounts, passkeys};
    use base64::Engine as _;
    let state = door::state()?;
    let (_, signed_in) = door::user().await?;
    let user = crate::ssr::db::users::find_user_by_id(&state.db, &signed_in.user_id)
        .await
        .map_err(Error::from_db)?
        .ok_or(Error::Unauthorized)?;
    let handle = uuid::Uuid::parse_str(&user.webauthn_handle).map_err(Error::internal)?;
    Ok(AccountView {
        user: accounts::user_info(&user),
        user_handle: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(handle.as_bytes()),
        rp_id: state.config.rp_id.clone(),
        passkeys: passkeys::list_passkeys(&state, &user.id).await?,
    })
}

/// Creation options for adding a passkey to the signed-in account.
#[server]
pub async fn add_passkey_options() -> Result<String, PortalError> {
    let state = door::state()?;
    let (_, user) = door::user().await?;
    let options = crate::ssr::ceremony::start_registration(&state, &user.user_id).await?;
    Ok(door::to_json(&options))
}

/// Verifies and stores a new passkey for the signed-in account.
#[server]
pub async fn finish_add_passkey(credential: String, name: String) -> Result<PasskeyItem, PortalError> {
    use crate::ssr::{ceremony, clock};
    let state = door::state()?;
    let (_, user) = door::user().await?;
    let credential = door::parse(&credential)?;
    let name = Some(name.as_str()).filter(|n| !n.trim().is_empty());
    Ok(ceremony::finish_registration(&state, &user.user_id, &credential, name, clock::now()).await?)
}

/// Renames one of the signed-in account's passkeys.
#[server]
pub async fn rename_my_passkey(id: String, name: String) -> Result<PasskeyItem, PortalError> {
    let state = door::state()?;
    let (_, user) = door::user().await?;
    Ok(crate::ssr::passkeys::rename_passkey(&state, &user.user_id, &id, &name).await?)
}

/// Deletes one of the signed-in account's passkeys.
#[server]
pub async fn delete_my_passkey(id: String) -> Result<(), PortalError> {
    let state = door::state()?;
    let (_, user) = door::user().await?;
    crate::ssr::passkeys::delete_passkey(&state, &user.user_id, &id).await?;
    Ok(())
}

/// Changes the signed-in account's display name.
#[server]
pub async fn rename_me(name: String) -> Result<UserInfo, PortalError> {
    let state = door::state()?;
    let (_, user) = door::user().await?;
    Ok(crate::ssr::accounts::rename_user(&state, &user.user_id, &name).await?)
}

/// Signs out: ends the session and revokes its refresh family. Works without JavaScript.
#[server]
pub async fn sign_out() -> Result<(), PortalError> {
    let (state, browser) = (door::state()?, door::session().await?);
    crate::ssr::session::sign_out(&browser, &state, crate::ssr::clock::now()).await?;
    leptos_axum::redirect("/");
    Ok(())
}
