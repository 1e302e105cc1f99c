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

/// The code named `name` if a page acts on it (`error.code() == …`), else
/// [`ErrorCode::InvalidRequest`]: in the browser, every other code's sentence is all the page
/// shows. The islands so carry a few codes' names rather than all of them (serde's derived reader
/// puts every name, present and future, in every bundle: `make weight`). A page that starts
/// matching on another code adds it here; `every_code_a_page_matches_on_is_read_by_name` fails
/// until it does.
pub fn acted_on(name: &str) -> ErrorCode {
    match name {
        "sign_in_required" => ErrorCode::SignInRequired,
        "reauthentication_required" => ErrorCode::ReauthenticationRequired,
        "unknown_credential" => ErrorCode::UnknownCredential,
        "invalid_email" => ErrorCode::InvalidEmail,
        "email_taken" => ErrorCode::EmailTaken,
        "email_domain_not_allowed" => ErrorCode::EmailDomainNotAllowed,
        "admin_required" => ErrorCode::AdminRequired,
        "too_many_attempts" => ErrorCode::TooManyAttempts,
        "network_error" => ErrorCode::NetworkError,
        _ => ErrorCode::InvalidRequest,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_no_page_acts_on_reads_as_its_sentence_alone() {
        assert_eq!(acted_on("group_not_found"), ErrorCode::InvalidRequest);
        assert_eq!(acted_on(""), ErrorCode::InvalidRequest);
        assert_eq!(acted_on("sign_in_required"), ErrorCode::SignInRequired);
    }

    /// A page that matches on a code the browser does not read by name would never see it.
    #[test]
    fn every_code_a_page_matches_on_is_read_by_name() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![root];
        let mut matched = std::collections::BTreeSet::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (at, _) in text.match_indices("ErrorCode::") {
                let name: String = text[at + 11..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                if !name.is_empty() {
                    matched.insert(name);
                }
            }
        }
        // The fallback and the server's conversions are not pages acting.
        matched.remove("InvalidRequest");
        assert!(matched.contains("SignInRequired"), "the scan found the pages: {matched:?}");
        for name in matched {
            let code: ErrorCode = serde_json::from_value(serde_json::Value::String(snake(&name)))
                .unwrap_or_else(|_| panic!("ErrorCode::{name} is not a code"));
            let wire = serde_json::to_value(code).unwrap();
            assert_eq!(
                acted_on(wire.as_str().unwrap()),
                code,
                "a page matches on ErrorCode::{name}: read it in `acted_on`"
            );
        }
    }

    fn snake(name: &str) -> String {
        let mut out = String::new();
        for c in name.chars() {
            if c.is_ascii_uppercase() && !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }
}
