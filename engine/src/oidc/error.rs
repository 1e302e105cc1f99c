//! OAuth's error vocabulary. Apps' OAuth and OpenID Connect libraries parse these exact codes, so the
//! provider's endpoints answer with them instead of the REST API's `{"error", "message"}`: as JSON
//! `{"error", "error_description"}` from the token, userinfo and revocation endpoints (RFC 6749
//! §5.2, RFC 6750 §3), and as query parameters of the redirect back to the app from the
//! authorization endpoint (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6). A store outage is still a 503
//! with `Retry-After`.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::Error;

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
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    fn status(self) -> StatusCode {
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
    retry_after: Option<Duration>,
}

impl OAuthError {
    /// An error with its description.
    pub fn new(code: OAuthCode, description: impl Into<String>) -> Self {
        Self { code, description: description.into(), retry_after: None }
    }
}

/// The JSON body.
#[derive(Serialize)]
struct Body<'a> {
    error: OAuthCode,
    error_description: &'a str,
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

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = Body { error: self.code, error_description: &self.description };
        let mut response = (self.code.status(), axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(wait) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        }
        let challenge = match self.code {
            // RFC 6749 §5.2: a 401 names the scheme the client may authenticate with.
            OAuthCode::InvalidClient => Some(r#"Basic realm="latchkey""#.to_owned()),
            // RFC 6750 §3: the description is quoted, so it must not carry a quote or a backslash.
            OAuthCode::InvalidToken => Some(format!(
                r#"Bearer error="invalid_token", error_description="{}""#,
                self.description.replace(['"', '\\'], "'")
            )),
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_oauth_status_and_headers() {
        let client = OAuthError::new(OAuthCode::InvalidClient, "no").into_response();
        assert_eq!(client.status(), StatusCode::UNAUTHORIZED);
        assert!(client.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().starts_with("Basic"));
        let grant = OAuthError::new(OAuthCode::InvalidGrant, "used").into_response();
        assert_eq!(grant.status(), StatusCode::BAD_REQUEST);
        assert_eq!(grant.headers()[header::CACHE_CONTROL], "no-store");
        let outage = OAuthError::from(Error::Unavailable).into_response();
        assert_eq!(outage.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(outage.headers()[header::RETRY_AFTER], "5");
        let token = OAuthError::new(OAuthCode::InvalidToken, r#"say "hi""#).into_response();
        assert_eq!(
            token.headers()[header::WWW_AUTHENTICATE],
            r#"Bearer error="invalid_token", error_description="say 'hi'""#
        );
    }
}
