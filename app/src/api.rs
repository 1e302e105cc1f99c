//! The JSON shapes of the REST API (shared/API.md), shared by the server and the portal's pages.

use serde::{Deserialize, Serialize};

/// Returned by register, login, refresh and passkey sign-in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TokenPair {
    /// A JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Single-use, opaque; exchange it at `/auth/refresh`.
    pub refresh_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Access-token lifetime in seconds.
    pub expires_in: i64,
}

/// `GET /auth/me`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct UserInfo {
    /// User id.
    pub id: String,
    /// Normalised email.
    pub email: String,
    /// Display name, if given.
    pub name: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// What is known about an authenticator model from its AAGUID.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuthenticatorInfo {
    /// e.g. "iCloud Keychain"; "Passkey" when the model is unknown.
    pub name: String,
    /// Icon (usually a data: URL) for light backgrounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_light: Option<String>,
    /// Icon for dark backgrounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_dark: Option<String>,
}

/// An item of `GET /auth/passkeys`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PasskeyItem {
    /// Credential ID, base64url.
    pub id: String,
    /// Name the owner gave it.
    pub name: String,
    /// Authenticator model as a UUID string.
    pub aaguid: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC; `null` until first use.
    pub last_used_at: Option<String>,
    /// Resolved from the AAGUID.
    pub authenticator: AuthenticatorInfo,
    /// Whether the credential may be synced across devices.
    pub backup_eligible: bool,
    /// Whether it is currently synced (a "synced" passkey rather than a device-bound one).
    pub backed_up: bool,
    /// Transports the browser reported (`internal`, `hybrid`, `usb`, …).
    pub transports: Vec<String>,
}

/// `201` of `POST /auth/passkeys/register/complete`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RegisteredPasskey {
    /// Credential ID, base64url.
    pub id: String,
    /// Its name.
    pub name: String,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// What the portal's pages show of the signed-in account.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AccountView {
    /// The user.
    pub user: UserInfo,
    /// The WebAuthn user handle (base64url), for the browser's Signal API.
    pub user_handle: String,
    /// The relying-party id, for the browser's Signal API.
    pub rp_id: String,
    /// The user's passkeys, oldest first.
    pub passkeys: Vec<PasskeyItem>,
}

/// An error a server function returns to the portal: a stable code and a sentence a person can act on.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct PortalError {
    /// Stable snake_case code (the REST API's codes, plus `network_error`).
    pub code: String,
    /// What happened and what to do.
    pub message: String,
}

impl leptos::server_fn::error::FromServerFnError for PortalError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(error: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr;
        match error {
            // On the server: the request itself was malformed.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) | ServerFnErrorErr::Deserialization(_) => {
                let error =
                    Self { code: "invalid_request".into(), message: "The form was not filled in as expected.".into() };
                #[cfg(feature = "ssr")]
                answer_with_status(axum::http::StatusCode::BAD_REQUEST, None);
                error
            }
            // In the browser: the server could not be reached or answered something unreadable.
            _ => Self {
                code: "network_error".into(),
                message: "Latchkey could not be reached. Check your connection and try again.".into(),
            },
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::ssr::Error> for PortalError {
    fn from(err: crate::ssr::Error) -> Self {
        let retry_after =
            matches!(err, crate::ssr::Error::Unavailable).then_some(crate::ssr::Error::RETRY_AFTER_UNAVAILABLE);
        answer_with_status(err.status(), retry_after);
        Self { code: err.code().into(), message: err.to_string() }
    }
}

/// Gives a failing server function the error's HTTP status (a fetch from the hydrated page), except
/// for a plain form post without JavaScript, which Leptos answers with a redirect back to the form.
#[cfg(feature = "ssr")]
fn answer_with_status(status: axum::http::StatusCode, retry_after: Option<std::time::Duration>) {
    use axum::http::{HeaderValue, header};
    use leptos::prelude::use_context;
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else { return };
    let plain_form = use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
    });
    if plain_form {
        return;
    }
    response.set_status(status);
    if let Some(after) = retry_after {
        response.insert_header(header::RETRY_AFTER, HeaderValue::from(after.as_secs()));
    }
}
