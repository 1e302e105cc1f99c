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
