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
            let error = crate::error::acted_on(&field("error")?.as_string()?);
            let message = field("message")?.as_string()?;
            let retry_after = field("retry_after").and_then(|v| v.as_f64()).map(|s| s as u64);
            Some(Self { error, message, retry_after })
        };
        #[cfg(not(feature = "hydrate"))]
        return serde_json::from_str(text).ok();
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
}
