//! The engine's one public error type: what a client can act on, its HTTP status and stable code.
//!
//! Internal causes (sqlx, webauthn-rs, Redis) are logged once here, where they become an [`Error`],
//! and are never shown to the client.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Everything that can go wrong in a request, phrased as what the client should know.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not the JSON this endpoint takes.
    #[error("{0}")]
    InvalidRequest(String),
    /// The body is JSON but declared as something else (or not declared).
    #[error("Send the body as JSON with `Content-Type: application/json`.")]
    UnsupportedMediaType,
    /// The body is larger than the 64 KiB limit.
    #[error("The request body is larger than the 64 KiB limit.")]
    PayloadTooLarge,
    /// The email is not of the form `name@example.com`.
    #[error("Enter an email address like name@example.com.")]
    InvalidEmail,
    /// The password is outside 8 to 128 characters.
    #[error("Use a password of 8 to 128 characters.")]
    InvalidPassword,
    /// A name is empty, too long or contains control characters.
    #[error("Use a name of 1 to 64 characters, without control characters.")]
    InvalidName,
    /// Registration with an email that already has an account.
    #[error("An account with this email already exists. Sign in instead.")]
    EmailTaken,
    /// Wrong email or password (deliberately the same answer for both).
    #[error("The email or password is not correct.")]
    InvalidCredentials,
    /// Too many failed sign-ins for this account; try again after the delay.
    #[error("Too many failed attempts. Try again in {} seconds.", .retry_after.as_secs())]
    TooManyAttempts {
        /// How long until the next attempt is allowed.
        retry_after: Duration,
    },
    /// Missing, malformed, expired or revoked access token.
    #[error("Sign in to continue: the access token is missing, invalid or expired.")]
    Unauthorized,
    /// Unknown, used, expired or revoked refresh token.
    #[error("The refresh token is invalid, expired or already used. Sign in again.")]
    InvalidRefreshToken,
    /// The ceremony's challenge is unknown: never issued, already used, or older than its lifetime.
    #[error("This passkey request has expired or was already used. Start again.")]
    CeremonyExpired,
    /// The credential ID is already registered (to anyone).
    #[error("This passkey is already registered.")]
    CredentialExists,
    /// The authenticator's response failed verification during registration.
    #[error("The passkey could not be registered: {0}")]
    RegistrationFailed(&'static str),
    /// No passkey with this credential ID exists.
    #[error(
        "This passkey is not known here. It may have been deleted; use another passkey or sign in with your password."
    )]
    UnknownCredential,
    /// The assertion failed verification.
    #[error("Passkey sign-in failed: {0}")]
    AuthenticationFailed(&'static str),
    /// The signature counter did not increase: the authenticator may have been cloned.
    #[error(
        "This passkey's signature counter went backwards, which can mean it was copied. Sign in another way and review your passkeys."
    )]
    PossibleClonedAuthenticator,
    /// The passkey does not exist or belongs to someone else.
    #[error("No passkey with this id belongs to your account.")]
    PasskeyNotFound,
    /// A portal (server function) request that did not come from one of the configured origins.
    #[error("This request did not come from Latchkey's own pages. Open Latchkey at its usual address and try again.")]
    ForbiddenOrigin,
    /// A store (database, Redis) is unreachable; the client should retry later.
    #[error("The service is temporarily unavailable. Try again shortly.")]
    Unavailable,
    /// A bug or an unexpected failure; details are in the server log only.
    #[error("Something went wrong on our side.")]
    Internal,
}

/// The JSON body of every error response.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
}

impl Error {
    /// Seconds a client should wait after a 503.
    pub const RETRY_AFTER_UNAVAILABLE: Duration = Duration::from_secs(5);

    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest(_)
            | Self::InvalidEmail
            | Self::InvalidPassword
            | Self::InvalidName
            | Self::CeremonyExpired
            | Self::RegistrationFailed(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::EmailTaken | Self::CredentialExists => StatusCode::CONFLICT,
            Self::InvalidCredentials
            | Self::Unauthorized
            | Self::InvalidRefreshToken
            | Self::UnknownCredential
            | Self::AuthenticationFailed(_)
            | Self::PossibleClonedAuthenticator => StatusCode::UNAUTHORIZED,
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::PasskeyNotFound => StatusCode::NOT_FOUND,
            Self::ForbiddenOrigin => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable snake_case code clients can match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::InvalidEmail => "invalid_email",
            Self::InvalidPassword => "invalid_password",
            Self::InvalidName => "invalid_name",
            Self::EmailTaken => "email_taken",
            Self::InvalidCredentials => "invalid_credentials",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::Unauthorized => "invalid_token",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::CeremonyExpired => "ceremony_expired",
            Self::CredentialExists => "credential_exists",
            Self::RegistrationFailed(_) => "registration_failed",
            Self::UnknownCredential => "unknown_credential",
            Self::AuthenticationFailed(_) => "authentication_failed",
            Self::PossibleClonedAuthenticator => "possible_cloned_authenticator",
            Self::PasskeyNotFound => "passkey_not_found",
            Self::ForbiddenOrigin => "forbidden_origin",
            Self::Unavailable => "service_unavailable",
            Self::Internal => "internal_error",
        }
    }

    /// Maps a database error: lost connections become [`Error::Unavailable`], the rest are bugs.
    pub fn from_db(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_) => {
                tracing::warn!(error = %err, "database unavailable");
                Self::Unavailable
            }
            sqlx::Error::Database(ref db) if is_connection_failure(db.code().as_deref()) => {
                tracing::warn!(error = %err, "database unavailable");
                Self::Unavailable
            }
            other => Self::internal(other),
        }
    }

    /// Logs an unexpected failure and hides it behind [`Error::Internal`].
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::Internal
    }
}

/// PostgreSQL class 08 (connection exception) and 57P0x (server shutting down); SQLite's BUSY, LOCKED,
/// IOERR and CANTOPEN families (SQLite codes are numbers whose low byte is the primary code).
fn is_connection_failure(code: Option<&str>) -> bool {
    match code {
        Some(code) => match code.parse::<u32>() {
            Ok(sqlite) => matches!(sqlite & 0xff, 5 | 6 | 10 | 14),
            Err(_) => code.starts_with("08") || code.starts_with("57P0"),
        },
        None => false,
    }
}

/// Whether a database error is a unique-constraint violation (one helper, so handlers never match strings).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody { error: self.code(), message: self.to_string() };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            Self::Unavailable => {
                headers.insert(header::RETRY_AFTER, seconds(Self::RETRY_AFTER_UNAVAILABLE));
            }
            Self::TooManyAttempts { retry_after } => {
                headers.insert(header::RETRY_AFTER, seconds(*retry_after));
            }
            Self::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

fn seconds(duration: Duration) -> HeaderValue {
    HeaderValue::from(duration.as_secs().max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_are_4xx_and_outages_503_with_retry_after() {
        assert!(Error::InvalidRequest("x".into()).status().is_client_error());
        let response = Error::Unavailable.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
    }

    #[test]
    fn unauthorized_asks_for_a_bearer_token() {
        let response = Error::Unauthorized.into_response();
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }

    #[test]
    fn lockout_says_when_to_retry() {
        let response = Error::TooManyAttempts { retry_after: Duration::from_secs(30) }.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "30");
    }
}
