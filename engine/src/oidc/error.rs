//! OAuth's error vocabulary. Apps' OAuth and OpenID Connect libraries parse these exact codes, so the
//! provider's endpoints answer with them instead of the REST API's `{"error", "message"}`: as JSON
//! `{"error", "error_description"}` from the token, userinfo and revocation endpoints (RFC 6749
//! §5.2, RFC 6750 §3), and as query parameters of the redirect back to the app from the
//! authorization endpoint (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6). A store outage is still a 503
//! with `Retry-After`.

use std::time::Duration;

use http::StatusCode;
use serde::Serialize;

use crate::base::error::Error;

/// An OAuth / OpenID Connect error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthCode {
    /// A parameter is missing, repeated, malformed or not allowed.
    InvalidRequest,
    /// The client is unknown or did not authenticate.
    InvalidClient,
    /// The code or refresh token is not good (unknown, used, expired, another client's, …).
    InvalidGrant,
    /// The client may not use this grant.
    UnauthorizedClient,
    /// Not `authorization_code` or `refresh_token`.
    UnsupportedGrantType,
    /// Not `code`.
    UnsupportedResponseType,
    /// No `openid` scope, or more than was granted.
    InvalidScope,
    /// The user said no.
    AccessDenied,
    /// `prompt=none`, and nobody (or nobody recently enough) is signed in.
    LoginRequired,
    /// `prompt=none`, and the user has not consented to this app.
    ConsentRequired,
    /// `prompt=none`, and the user must do something first on a page of the portal (confirm their
    /// address).
    InteractionRequired,
    /// A `request` object (not supported).
    RequestNotSupported,
    /// A `request_uri` (not supported).
    RequestUriNotSupported,
    /// The access token is missing, invalid, expired or ended (RFC 6750).
    InvalidToken,
    /// A bug; the details are in the log.
    ServerError,
    /// A store is unreachable; try again shortly.
    TemporarilyUnavailable,
}

impl OAuthCode {
    /// The code as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    /// The HTTP status it is answered with.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Self::InvalidClient | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// An OAuth error with a sentence for the developer of the app.
#[derive(Debug, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    /// The code.
    pub code: OAuthCode,
    /// What went wrong, for the app's developer (`error_description`).
    pub description: String,
    pub(crate) retry_after: Option<Duration>,
}

impl OAuthError {
    /// An error with its description.
    pub fn new(code: OAuthCode, description: impl Into<String>) -> Self {
        Self { code, description: description.into(), retry_after: None }
    }
}

/// The JSON body.
#[derive(Serialize)]
pub(crate) struct Body<'a> {
    /// `error`.
    pub error: OAuthCode,
    /// `error_description`.
    pub error_description: &'a str,
}

impl From<Error> for OAuthError {
    fn from(err: Error) -> Self {
        let retry_after = err.retry_after();
        let code = match err {
            Error::Unavailable => OAuthCode::TemporarilyUnavailable,
            Error::Internal => OAuthCode::ServerError,
            Error::InvalidToken | Error::SignInRequired => OAuthCode::InvalidToken,
            _ => OAuthCode::InvalidRequest,
        };
        Self { code, description: err.to_string(), retry_after }
    }
}

impl From<sqlx::Error> for OAuthError {
    fn from(err: sqlx::Error) -> Self {
        Error::from(err).into()
    }
}
