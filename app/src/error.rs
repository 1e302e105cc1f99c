//! [`PortalError`]: what a server function answers when it fails — the same body as the REST API's
//! errors (`{"error", "message", "retry_after"?}`), with a typed [`ErrorCode`] the pages match on.
//! Its HTTP status and headers are set in one place on the server, from the code (the server's
//! `server_fn_errors` layer calls the engine's `error_head`); converting never sets response state.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use proto::ApiError;

use crate::codec::{BrowserJsonEncoding, FromJson};
pub use proto::ErrorCode;
use serde::{Deserialize, Serialize};

/// An error a server function returns to the portal: a stable code and a sentence a person can act on.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, thiserror::Error)]
#[serde(transparent)]
#[error("{}", .0.message)]
pub struct PortalError(pub ApiError);

impl PortalError {
    /// What went wrong, for the page's logic.
    pub fn code(&self) -> ErrorCode {
        self.0.error
    }

    /// The sentence to show.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    fn new(code: ErrorCode, message: &str) -> Self {
        Self(ApiError { error: code, message: message.to_owned(), retry_after: None })
    }
}

impl FromServerFnError for PortalError {
    // JSON on the wire; read in the browser without serde_json (codec.rs).
    type Encoder = BrowserJsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        match error {
            // On the server: the request itself was malformed.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) | ServerFnErrorErr::Deserialization(_) => {
                Self::new(ErrorCode::InvalidRequest, "The form was not filled in as expected.")
            }
            // In the browser: the server could not be reached or answered something unreadable.
            _ => Self::new(
                ErrorCode::NetworkError,
                "The server could not be reached. Check your connection and try again.",
            ),
        }
    }
}

impl FromJson for PortalError {
    fn from_json(text: &str) -> Option<Self> {
        ApiError::from_json(text).map(Self)
    }
}

#[cfg(feature = "ssr")]
impl From<engine::Error> for PortalError {
    fn from(err: engine::Error) -> Self {
        Self(err.to_body())
    }
}
