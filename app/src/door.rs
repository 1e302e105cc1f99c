//! What every server function needs on the server, in one line each: the [`Engine`], the
//! browser's cookie session, the signed-in user (or their account), a parsed credential, the time.
//! A server function in any file of a fork uses these (see `pages/notes.rs`); none of them touches
//! the database itself.
//!
//! Take the engine (and anything else read from the context) **before the first `.await`**: a page
//! rendered on the server may poll a resource's server function after the reactive owner it
//! started under is gone, and a context read then fails ("the Engine is not in the Leptos
//! context").

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use engine::base::types::{Caller, ClientAddr};
use engine::http::extract::CurrentUser;
use engine::{Engine, Error};
use leptos::prelude::use_context;
use proto::UserInfo;
use tower_sessions::Session;

use crate::error::PortalError;

/// The engine the server gave the pages as context.
pub fn engine() -> Result<Engine, PortalError> {
    use_context::<Engine>().ok_or_else(|| Error::internal("the Engine is not in the Leptos context").into())
}

/// The request's browser session (signed in or not).
pub async fn session() -> Result<Session, PortalError> {
    let mut parts = parts()?;
    Ok(engine::http::extract::browser_session(&mut parts, &()).await?)
}

/// The signed-in user, or [`ErrorCode::SignInRequired`](crate::error::ErrorCode::SignInRequired)
/// ("Please sign in to see this page.").
pub async fn user() -> Result<CurrentUser, PortalError> {
    let engine = engine()?;
    Ok(CurrentUser::of(session().await?, &engine, now()).await?)
}

/// Who made the request (address and `User-Agent`), recorded with a sign-in it starts and in the
/// account's activity.
pub async fn caller() -> Result<Caller, PortalError> {
    let mut parts = parts()?;
    Ok(Caller::from_request_parts(&mut parts, &()).await.unwrap_or_else(|never| match never {}))
}

/// The signed-in user's account (`id`, `email`, `name`, `created_at`), or
/// [`ErrorCode::SignInRequired`](crate::error::ErrorCode::SignInRequired).
pub async fn account() -> Result<UserInfo, PortalError> {
    let engine = engine()?;
    let user = user().await?;
    Ok(engine::http::portal::account(&engine, user.id()).await?)
}

/// The cookie that binds a recovery link asked for by email to the browser that asked.
pub const RECOVERY_COOKIE: &str = "latchkey_recovery";

/// The value of the request's cookie `name`.
pub fn cookie(name: &str) -> Option<String> {
    engine::http::extract::cookie(&parts().ok()?.headers, name).map(str::to_owned)
}

/// What this page's form left when its post failed (the error, and the fields it keeps), carried
/// by a sealed cookie; never read from the address.
pub fn returned_form() -> Option<engine::http::returned_form::ReturnedForm> {
    let engine = engine().ok()?;
    let sealed = cookie(engine::http::returned_form::cookie_name(&engine.config))?;
    engine::http::returned_form::ReturnedForm::open(&engine.config, &sealed, now())
}

/// Adds a `Set-Cookie` header with `cookie` to the answer.
pub fn set_cookie(cookie: &str) {
    if let (Some(response), Ok(value)) =
        (use_context::<leptos_axum::ResponseOptions>(), axum::http::HeaderValue::from_str(cookie))
    {
        response.append_header(axum::http::header::SET_COOKIE, value);
    }
}

/// Sets the recovery cookie to `secret` on the answer: HttpOnly, for the 15 minutes a link asked
/// for by email works, `Secure` when the site is served over HTTPS.
pub fn set_recovery_cookie(engine: &Engine, secret: &str) {
    let attributes = engine::http::returned_form::attributes(&engine.config);
    let max_age = engine::accounts::recovery::EMAIL_LINK_SECS;
    let cookie = format!("{RECOVERY_COOKIE}={secret}; {attributes}; Max-Age={max_age}");
    if let (Some(response), Ok(value)) =
        (use_context::<leptos_axum::ResponseOptions>(), axum::http::HeaderValue::from_str(&cookie))
    {
        response.append_header(axum::http::header::SET_COOKIE, value);
    }
}

/// The client the request is from (the peer, or behind a trusted proxy the forwarded client).
pub async fn client() -> Result<ClientAddr, PortalError> {
    let mut parts = parts()?;
    Ok(ClientAddr::from_request_parts(&mut parts, &()).await.unwrap_or_else(|never| match never {}))
}

/// A `credential.toJSON()` the browser sent, as JSON text.
pub fn credential<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, PortalError> {
    serde_json::from_str(json)
        .map_err(|e| Error::InvalidRequest(format!("The browser's answer is not valid: {e}")).into())
}

/// The current time in Unix seconds.
pub fn now() -> i64 {
    engine::base::clock::now()
}

fn parts() -> Result<Parts, PortalError> {
    use_context::<Parts>().ok_or_else(|| Error::internal("the request is not in the Leptos context").into())
}

/// Which app sent the visitor to the sign-in page, when `next` continues its authorization request.
pub fn sign_in_for(next: &str) -> Option<proto::SignInFor> {
    engine::oidc::authorize::sign_in_for(&engine().ok()?.provider, next, now())
}

/// Sends this page's Content-Security-Policy: scripts only with this response's nonce (Leptos puts
/// it on the islands script it writes), WebAssembly compilation, and nothing framed, embedded or
/// posted elsewhere — except, on the sign-in and consent pages of an app's authorization request,
/// to that app's origin, where the form's answer redirects. Icons of passkey providers are `data:`
/// images.
pub fn send_content_security_policy() {
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let app = match (engine(), parts()) {
        (Ok(engine), Ok(parts)) => {
            engine::oidc::authorize::form_target_origin(&engine.provider, parts.uri.path(), parts.uri.query(), now())
        }
        _ => None,
    };
    let form_action = match app {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action {form_action}"
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}
