//! The test kit's one error type.

use crate::Algorithm;

/// Why the authenticator refused or failed to answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The options JSON lacks a required member, or has one of the wrong type.
    #[error("the options JSON has no valid `{0}`")]
    InvalidOptions(&'static str),
    /// A value that should be base64url is not.
    #[error("invalid base64url: {0}")]
    Base64(#[from] base64::DecodeError),
    /// `pubKeyCredParams` does not offer the authenticator's algorithm.
    #[error("the authenticator uses {0}, which pubKeyCredParams does not offer")]
    UnsupportedAlgorithm(Algorithm),
    /// `excludeCredentials` lists a credential this authenticator holds for the relying party.
    #[error("credential excluded: this authenticator already holds a credential in excludeCredentials")]
    CredentialExcluded,
    /// No held credential for the relying party fits the request.
    #[error("this authenticator holds no credential for `{rp_id}` that the request allows")]
    NoCredential {
        /// The relying party the request was for.
        rp_id: String,
    },
    /// Encoding CBOR failed.
    #[error("CBOR encoding failed: {0}")]
    Cbor(String),
    /// A key or signature operation failed.
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),
}
