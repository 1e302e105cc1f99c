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

    fn from_server_fn_error(_: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        Self {
            code: "network_error".into(),
            message: "Latchkey could not be reached. Check your connection and try again.".into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::ssr::Error> for PortalError {
    fn from(err: crate::ssr::Error) -> Self {
        Self { code: err.code().into(), message: err.to_string() }
    }
}
