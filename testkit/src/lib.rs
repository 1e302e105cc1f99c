//! A software WebAuthn authenticator and client that produces real ES256 and EdDSA signatures.
//!
//! [`SoftAuthenticator`] takes the options a relying party sends (the W3C
//! `PublicKeyCredentialCreationOptionsJSON` / `PublicKeyCredentialRequestOptionsJSON` forms, as
//! [`serde_json::Value`]) and answers with what a browser's `PublicKeyCredential.toJSON()` gives,
//! so integration tests and the load generator can drive the server without a browser.
//!
//! ```
//! use serde_json::json;
//! use testkit::SoftAuthenticator;
//!
//! # fn main() -> Result<(), testkit::Error> {
//! let mut authenticator = SoftAuthenticator::new();
//! let creation = json!({
//!     "rp": { "id": "example.com", "name": "Example" },
//!     "user": { "id": "dXNlcg", "name": "ada", "displayName": "Ada" },
//!     "challenge": "Y2hhbGxlbmdl",
//!     "pubKeyCredParams": [{ "type": "public-key", "alg": -7 }],
//! });
//! let registration = authenticator.create(&creation, "https://example.com")?;
//!
//! let request = json!({ "challenge": "YWdhaW4", "rpId": "example.com" });
//! let assertion = authenticator.get(&request, "https://example.com")?;
//! assert_eq!(assertion["id"], registration["id"]);
//! # Ok(())
//! # }
//! ```

mod authenticator;
mod cbor;
mod error;
mod key;
mod options;
#[cfg(test)]
mod tests;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

pub use authenticator::{SoftAuthenticator, Tweaks};
pub use error::Error;
pub use key::Algorithm;

/// base64url without padding when encoding; padding is accepted but not required when decoding.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Encodes bytes as base64url without padding, the form WebAuthn's JSON uses for binary values.
pub fn b64url(bytes: &[u8]) -> String {
    BASE64URL.encode(bytes)
}

/// Decodes base64url (padding optional).
pub fn from_b64url(s: &str) -> Result<Vec<u8>, Error> {
    Ok(BASE64URL.decode(s)?)
}
