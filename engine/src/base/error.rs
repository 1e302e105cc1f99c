//! The engine's one public error type: what a client can act on, its stable [`ErrorCode`], its HTTP
//! status and its `{"error", "message"}` body, the same for the REST API and the portal. Where it
//! becomes an HTTP answer (with `Retry-After` and `WWW-Authenticate`) is `http/response.rs`.
//!
//! Internal causes (sqlx, webauthn-rs, Redis) are logged once here, where they become an [`Error`],
//! and are never shown to the client.

use std::time::Duration;

use http::StatusCode;
pub use proto::{ApiError, ErrorCode};

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
    /// The request took longer than `LATCHKEY_REQUEST_TIMEOUT_SECS`.
    #[error("The request took too long. Try again.")]
    RequestTimeout,
    /// The email is not of the form `name@example.com`.
    #[error("Enter an email address like name@example.com.")]
    InvalidEmail,
    /// The password is outside 8 to 128 characters.
    #[error("Use a password of 8 to 128 characters.")]
    InvalidPassword,
    /// A name is empty, too long or contains control or invisible formatting characters.
    #[error("Use a name of 1 to 64 characters, without control characters or invisible formatting.")]
    InvalidName,
    /// Registration with an email that already has an account.
    #[error("An account with this email already exists. Sign in instead.")]
    EmailTaken,
    /// The account was disabled by the operator: no sign-in, refresh or recovery.
    #[error("This account is disabled. Ask an administrator to enable it.")]
    AccountDisabled,
    /// A new account's address confirmed by link in a browser not signed in to it, where a
    /// confirmed address lets the account into apps (`LATCHKEY_SIGN_UP=domains`).
    #[error(
        "Sign in to this account first, then follow the link again (or type the code on its account page). If you did not make an account here, ignore the mail."
    )]
    SignInToConfirm,
    /// A group name that is not a slug.
    #[error(
        "Name a group with 1 to 64 lower-case letters, digits, - and _, starting with a letter or digit (and not shaped like a group id)."
    )]
    InvalidGroupName,
    /// A group of that name exists already.
    #[error("A group of this name exists already.")]
    GroupExists,
    /// No group has that name (or id).
    #[error("No group has this name or id.")]
    GroupNotFound,
    /// An app's settings that cannot be kept: `field: why`.
    #[error("{0}")]
    InvalidApp(String),
    /// An app with this id exists already.
    #[error("An app with this client id exists already. Choose another id.")]
    AppExists,
    /// No app has this id.
    #[error("No app has this client id.")]
    AppNotFound,
    /// The app is registered in the clients file.
    #[error("This app comes from the clients file (LATCHKEY_OIDC_CLIENTS). Change it there and restart.")]
    AppInFile,
    /// An invitation that is unknown, used, revoked, expired or for another address: why.
    #[error("{0}")]
    InvalidInvitation(&'static str),
    /// A sign-up where nobody may make an account (`LATCHKEY_SIGN_UP=closed`).
    #[error("New accounts are not made here. Ask the administrator for one.")]
    SignUpClosed,
    /// A sign-up without an invitation where one is needed (`LATCHKEY_SIGN_UP=invite`).
    #[error("An account here needs an invitation. Ask an administrator to invite you.")]
    InvitationRequired,
    /// A sign-up (or a new address) at a domain accounts are not for (`LATCHKEY_SIGN_UP=domains`).
    #[error("Accounts here are for addresses at {domains}. Use one of those, or ask an administrator to invite you.")]
    EmailDomainNotAllowed {
        /// The domains allowed, as a sentence says them ("example.com or example.org").
        domains: String,
    },
    /// Wrong email or password (deliberately the same answer for both).
    #[error("The email or password is not correct.")]
    InvalidCredentials,
    /// Too many failed sign-ins for this account; try again after the delay.
    #[error("Too many failed attempts. Try again in {} seconds.", whole_seconds(*.retry_after))]
    TooManyAttempts {
        /// How long until the next attempt is allowed.
        retry_after: Duration,
    },
    /// Too many requests from this client address for this kind of endpoint.
    #[error("Too many requests from your network. Try again in {} seconds.", whole_seconds(*.retry_after))]
    RateLimited {
        /// How long until the next request is allowed.
        retry_after: Duration,
    },
    /// REST: a missing, malformed or expired access token.
    #[error("Sign in to continue: the access token is missing, invalid or expired.")]
    InvalidToken,
    /// Portal: nobody is signed in in this browser (or the account is gone).
    #[error("Please sign in to see this page.")]
    SignInRequired,
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
    /// The account already holds `max` passkeys.
    #[error("This account already has {max} passkeys, the most allowed. Delete one to add another.")]
    TooManyPasskeys {
        /// The configured cap (`LATCHKEY_MAX_PASSKEYS`).
        max: usize,
    },
    /// The passkey does not exist or belongs to someone else.
    #[error("No passkey with this id belongs to your account.")]
    PasskeyNotFound,
    /// Deleting the account's only way in: its last passkey, without a password.
    #[error("This passkey is the only way into your account. Add another passkey first; then this one can be deleted.")]
    LastPasskey,
    /// Removing the account's only way in: its password, without a passkey.
    #[error("Your password is the only way into your account. Add a passkey first; then the password can be removed.")]
    PasswordOnlyWayIn,
    /// Removing a password from an account that has none.
    #[error("Your account has no password to remove.")]
    PasswordNotSet,
    /// A password on the shipped list of the most common breached passwords.
    #[error("This password is one of the most common in known data breaches, so it is guessed first. Choose another.")]
    CommonPassword,
    /// A recovery link that is wrong, used or expired.
    #[error("This recovery link is wrong, already used or expired. Ask for a new one.")]
    InvalidRecoveryLink,
    /// No account has this email or id (the operator's commands and the admin API only: sign-in
    /// never says so).
    #[error("No account has this email address or id.")]
    AccountNotFound,
    /// The admin API, to a caller that is not an administrator (nor the operator's token).
    #[error("Only an administrator may do this.")]
    AdminRequired,
    /// A change that would leave no administrator who can act.
    #[error("This is the last administrator: make another account an administrator first.")]
    LastAdmin,
    /// A custom claim whose name is reserved or malformed, whose value is null or too long, or
    /// whose scope is not one that releases claims: why.
    #[error("{0}")]
    InvalidClaim(String),
    /// A page cursor that this server did not give, or that was changed.
    #[error("This cursor is not one this server gave. Start again from the first page.")]
    InvalidCursor,
    /// An email verification link or code that is wrong, used or expired.
    #[error("This link or code is wrong, already used or expired. Send a new one from your account page.")]
    InvalidVerification,
    /// Mail is not set up (production without `LATCHKEY_SMTP_URL`).
    #[error("Email is not set up on this server, so no mail can be sent. Tell its administrator.")]
    EmailDisabled,
    /// A dangerous change (a passkey or the password added, changed or removed; the account deleted)
    /// by a sign-in older than the re-authentication window.
    #[error("For this change, confirm it's you: sign in again with your passkey or password, then try once more.")]
    ReauthenticationRequired,
    /// A dangerous change by a sign-in made with a passkey a mailed recovery link added less than
    /// `LATCHKEY_RECOVERY_HOLD_SECS` ago.
    #[error(
        "This passkey was added with a recovery link sent by email. Until {}, it cannot change how the account \
         signs in; the account's other passkeys can.",
        crate::base::clock::rfc3339(*.until)
    )]
    RecoveryHold {
        /// When the hold ends (Unix seconds).
        until: i64,
    },
    /// The sign-in does not exist, is not the caller's, or has already ended.
    #[error("No sign-in with this id of your account is still going.")]
    SignInNotFound,
    /// A portal (server function) request that did not come from one of the configured origins.
    #[error("This request did not come from this site's own pages. Open the site at its usual address and try again.")]
    ForbiddenOrigin,
    /// Too many mails of one kind to this account for now.
    #[error("Too many emails to this account. Try again in {} seconds.", whole_seconds(*.retry_after))]
    TooManyMails {
        /// How long until the next mail may be sent.
        retry_after: Duration,
    },
    /// A store (database, Redis) is unreachable; the client should retry later.
    #[error("The service is temporarily unavailable. Try again shortly.")]
    Unavailable,
    /// A bug or an unexpected failure; details are in the server log only.
    #[error("Something went wrong on our side.")]
    Internal,
}

impl Error {
    /// Seconds a client should wait after a 503.
    pub const RETRY_AFTER_UNAVAILABLE: Duration = Duration::from_secs(5);

    /// The stable code clients match on.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidRequest(_) => ErrorCode::InvalidRequest,
            Self::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            Self::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            Self::RequestTimeout => ErrorCode::RequestTimeout,
            Self::InvalidEmail => ErrorCode::InvalidEmail,
            Self::InvalidPassword => ErrorCode::InvalidPassword,
            Self::InvalidName => ErrorCode::InvalidName,
            Self::EmailTaken => ErrorCode::EmailTaken,
            Self::SignUpClosed => ErrorCode::SignUpClosed,
            Self::InvalidInvitation(_) => ErrorCode::InvalidInvitation,
            Self::InvalidGroupName => ErrorCode::InvalidGroupName,
            Self::GroupExists => ErrorCode::GroupExists,
            Self::GroupNotFound => ErrorCode::GroupNotFound,
            Self::InvalidApp(_) => ErrorCode::InvalidApp,
            Self::AppExists => ErrorCode::AppExists,
            Self::AppNotFound => ErrorCode::AppNotFound,
            Self::AppInFile => ErrorCode::AppInFile,
            Self::AccountDisabled => ErrorCode::AccountDisabled,
            Self::InvitationRequired => ErrorCode::InvitationRequired,
            Self::EmailDomainNotAllowed { .. } => ErrorCode::EmailDomainNotAllowed,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::TooManyAttempts { .. } => ErrorCode::TooManyAttempts,
            Self::RateLimited { .. } | Self::TooManyMails { .. } => ErrorCode::RateLimited,
            Self::InvalidToken => ErrorCode::InvalidToken,
            Self::SignInRequired | Self::SignInToConfirm => ErrorCode::SignInRequired,
            Self::InvalidRefreshToken => ErrorCode::InvalidRefreshToken,
            Self::CeremonyExpired => ErrorCode::CeremonyExpired,
            Self::CredentialExists => ErrorCode::CredentialExists,
            Self::RegistrationFailed(_) => ErrorCode::RegistrationFailed,
            Self::UnknownCredential => ErrorCode::UnknownCredential,
            Self::AuthenticationFailed(_) => ErrorCode::AuthenticationFailed,
            Self::PossibleClonedAuthenticator => ErrorCode::PossibleClonedAuthenticator,
            Self::PasskeyNotFound => ErrorCode::PasskeyNotFound,
            Self::LastPasskey => ErrorCode::LastPasskey,
            Self::PasswordOnlyWayIn => ErrorCode::PasswordOnlyWayIn,
            Self::PasswordNotSet => ErrorCode::PasswordNotSet,
            Self::CommonPassword => ErrorCode::CommonPassword,
            Self::InvalidVerification => ErrorCode::InvalidVerification,
            Self::InvalidRecoveryLink => ErrorCode::InvalidRecoveryLink,
            Self::AccountNotFound => ErrorCode::AccountNotFound,
            Self::AdminRequired => ErrorCode::AdminRequired,
            Self::LastAdmin => ErrorCode::LastAdmin,
            Self::InvalidCursor => ErrorCode::InvalidCursor,
            Self::InvalidClaim(_) => ErrorCode::InvalidClaim,
            Self::EmailDisabled => ErrorCode::EmailDisabled,
            Self::SignInNotFound => ErrorCode::SignInNotFound,
            Self::ReauthenticationRequired => ErrorCode::ReauthenticationRequired,
            Self::TooManyPasskeys { .. } => ErrorCode::TooManyPasskeys,
            Self::ForbiddenOrigin => ErrorCode::ForbiddenOrigin,
            Self::RecoveryHold { .. } => ErrorCode::RecoveryHold,
            Self::Unavailable => ErrorCode::ServiceUnavailable,
            Self::Internal => ErrorCode::InternalError,
        }
    }

    /// The HTTP status for this error (from its code, the same for both doors).
    pub fn status(&self) -> StatusCode {
        status_of(self.code())
    }

    /// How long the client should wait before trying again, when it should.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable => Some(Self::RETRY_AFTER_UNAVAILABLE),
            Self::TooManyAttempts { retry_after }
            | Self::RateLimited { retry_after }
            | Self::TooManyMails { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// The JSON body both doors send.
    pub fn to_body(&self) -> ApiError {
        ApiError { error: self.code(), message: self.to_string(), retry_after: self.retry_after().map(whole_seconds) }
    }

    /// Maps a database error: lost connections become [`Error::Unavailable`], the rest are bugs.
    fn from_db(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_) => {
                tracing::warn!(error = %err, "database unavailable");
                crate::base::measure::store_error("database");
                Self::Unavailable
            }
            sqlx::Error::Database(ref db) if is_connection_failure(db.as_ref()) => {
                tracing::warn!(error = %err, "database unavailable");
                crate::base::measure::store_error("database");
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

/// Whether a database error means the database cannot be used right now (rather than a bug).
fn is_connection_failure(error: &dyn sqlx::error::DatabaseError) -> bool {
    let sqlite = error.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
    is_unavailable_code(sqlite, error.code().as_deref())
}

/// SQLite's BUSY, LOCKED, IOERR and CANTOPEN families (its codes are numbers whose low byte is the
/// primary code); PostgreSQL's class 08 (connection exception) and 57P0x (server shutting down).
/// The database decides how a code is read: many SQLSTATEs are all digits too (`08006`).
fn is_unavailable_code(sqlite: bool, code: Option<&str>) -> bool {
    match code {
        Some(code) if sqlite => code.parse::<u32>().is_ok_and(|code| matches!(code & 0xff, 5 | 6 | 10 | 14)),
        Some(code) => code.starts_with("08") || code.starts_with("57P0"),
        None => false,
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Self::from_db(err)
    }
}

/// A database result whose unique-constraint violation means a conflict the client caused.
pub trait OrConflict<T> {
    /// A unique violation becomes `conflict` (409); any other database error converts as usual.
    fn or_conflict(self, conflict: Error) -> Result<T, Error>;
}

impl<T> OrConflict<T> for Result<T, sqlx::Error> {
    fn or_conflict(self, conflict: Error) -> Result<T, Error> {
        self.map_err(|err| match err {
            sqlx::Error::Database(ref db) if db.is_unique_violation() => conflict,
            other => Error::from_db(other),
        })
    }
}

/// A wait in whole seconds, rounded up and at least 1, as `Retry-After` counts it.
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The HTTP status of an error code.
pub(crate) fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_read_by_the_database_that_reported_them() {
        assert!(is_unavailable_code(false, Some("08006")), "PostgreSQL connection failure (all digits)");
        assert!(is_unavailable_code(false, Some("57P01")), "PostgreSQL admin shutdown");
        assert!(!is_unavailable_code(false, Some("23505")), "a unique violation is not an outage");
        assert!(is_unavailable_code(true, Some("5")), "SQLITE_BUSY");
        assert!(is_unavailable_code(true, Some("261")), "SQLITE_BUSY_RECOVERY");
        assert!(!is_unavailable_code(true, Some("2067")), "SQLITE_CONSTRAINT_UNIQUE");
    }
}
