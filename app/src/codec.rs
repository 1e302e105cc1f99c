//! How server functions answer the browser: JSON, as the default codec writes it, but read in the
//! browser by the browser's own `JSON.parse` instead of serde_json. The answers the islands read are
//! small — a string of WebAuthn options, nothing, or an error body — and a JSON parser in Rust, with
//! serde's error messages (one of which formats floats: 16 KB of WASM), weighed more than the
//! sign-in page's own code (BENCHMARKS.md, "Where the bytes go").
//!
//! On the wire nothing changes: an error is still the REST API's body (`{"error", "message",
//! "retry_after"?}`), so `curl` and the integration tests read the same JSON as before.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use proto::ErrorCode;
use serde::Serialize;

/// The encoding: written with serde_json, read with [`FromJson`].
pub struct BrowserJsonEncoding;

/// A server function's `output` codec: `#[server(output = BrowserJson)]`.
pub type BrowserJson = Post<BrowserJsonEncoding>;

impl ContentType for BrowserJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for BrowserJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for BrowserJsonEncoding {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(value).map(Bytes::from)
    }
}

impl<T: FromJson> Decodes<T> for BrowserJsonEncoding {
    type Error = Unreadable;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        std::str::from_utf8(&bytes).ok().and_then(T::from_json).ok_or(Unreadable)
    }
}

/// An answer that is not the JSON expected.
#[derive(Debug)]
pub struct Unreadable;

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the answer is not the JSON expected")
    }
}

/// A value read from JSON text: in the browser by `JSON.parse`, elsewhere by serde_json.
pub trait FromJson: Sized {
    /// The value, or `None` when the text is not this value's JSON.
    fn from_json(text: &str) -> Option<Self>;
}

impl FromJson for () {
    fn from_json(text: &str) -> Option<Self> {
        (text.trim() == "null").then_some(())
    }
}

impl FromJson for bool {
    fn from_json(text: &str) -> Option<Self> {
        match text.trim() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

impl FromJson for String {
    fn from_json(text: &str) -> Option<Self> {
        #[cfg(feature = "hydrate")]
        return js_sys::JSON::parse(text).ok()?.as_string();
        #[cfg(not(feature = "hydrate"))]
        return serde_json::from_str(text).ok();
    }
}

impl FromJson for proto::ApiError {
    fn from_json(text: &str) -> Option<Self> {
        #[cfg(feature = "hydrate")]
        return {
            use js_sys::Reflect;

            let body = js_sys::JSON::parse(text).ok()?;
            let field = |name: &str| Reflect::get(&body, &name.into()).ok();
            let error = acted_on(&field("error")?.as_string()?);
            let message = field("message")?.as_string()?;
            let retry_after = field("retry_after").and_then(|v| v.as_f64()).map(|s| s as u64);
            Some(Self { error, message, retry_after })
        };
        #[cfg(not(feature = "hydrate"))]
        return serde_json::from_str(text).ok();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn written<T: Serialize>(value: &T) -> String {
        let bytes = <BrowserJsonEncoding as Encodes<T>>::encode(value).unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn answers_read_back_what_the_server_wrote() {
        assert_eq!(<()>::from_json(&written(&())), Some(()));
        let options = r#"{"publicKey":{"rpId":"localhost"}}"#.to_owned();
        assert_eq!(String::from_json(&written(&options)), Some(options));
        let error = proto::ApiError {
            error: proto::ErrorCode::TooManyAttempts,
            message: "Wait a minute.".into(),
            retry_after: Some(30),
        };
        assert_eq!(written(&error), r#"{"error":"too_many_attempts","message":"Wait a minute.","retry_after":30}"#);
        assert_eq!(proto::ApiError::from_json(&written(&error)), Some(error));
    }

    #[test]
    fn other_json_is_unreadable() {
        assert_eq!(String::from_json("{}"), None);
        assert_eq!(<()>::from_json(r#""""#), None);
        assert!(<BrowserJsonEncoding as Decodes<String>>::decode(Bytes::from_static(b"\xff")).is_err());
    }

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
