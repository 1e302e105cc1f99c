//! Parsed values: each type validates its input once, at the edge, and is trusted everywhere after.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Declares an id newtype over `String`: the same text in JSON, in the database and on the wire,
/// but a distinct type, so a credential id can never be passed where a user id belongs.
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id read from a request, a token or a row.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

typed_id! {
    /// A user's id: an opaque random UUID, never derived from the email.
    UserId
}

typed_id! {
    /// A passkey's credential ID, base64url without padding (the API's passkey `id`).
    CredentialId
}

typed_id! {
    /// A sign-in: one passkey or password sign-in, which a browser session or a chain of refresh
    /// tokens continues (the access token's `sid`). Signing out ends it.
    SignInId
}

impl UserId {
    /// A fresh random id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// Names this user in the request's log span (the server's `request` span declares `user_id`),
    /// so every later line of the request says whose it was. Only the id: never a token or session.
    pub fn note_in_log(&self) {
        tracing::Span::current().record("user_id", tracing::field::display(self));
    }
}

impl SignInId {
    /// A fresh random id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }
}

/// How a user proved who they are for a sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignInMethod {
    /// Email and password.
    Password,
    /// A passkey (WebAuthn, with user verification: webauthn-rs asks every passkey for it).
    Passkey,
    /// A recovery link mailed to the account's confirmed address (then a new passkey was added):
    /// proof of the mailbox only, never enough for a dangerous change.
    EmailLink,
}

impl SignInMethod {
    /// The name stored in `sign_ins.method`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Passkey => "passkey",
            Self::EmailLink => "email_link",
        }
    }

    /// Reads `sign_ins.method`; `None` for sign-ins recorded before the method was (`unknown`).
    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "password" => Some(Self::Password),
            "passkey" => Some(Self::Passkey),
            "email_link" => Some(Self::EmailLink),
            _ => None,
        }
    }

    /// The OpenID Connect `amr` values (RFC 8176): a password is `pwd`; a passkey is proof of
    /// possession of a key (`pop`: synced passkeys live in software, others in hardware, so neither
    /// `hwk` nor `swk` is claimed) unlocked by the user's PIN or biometric (`mfa`); a mailed link is
    /// a one-time secret (`otp`).
    pub fn amr(self) -> &'static [&'static str] {
        match self {
            Self::Password => &["pwd"],
            Self::Passkey => &["pop", "mfa"],
            Self::EmailLink => &["otp"],
        }
    }

    /// The OpenID Connect `acr` this method meets: a passkey is phishing-resistant (`phr`, OpenID
    /// EAP ACR Values); a password meets none worth naming.
    pub fn acr(self) -> Option<&'static str> {
        match self {
            Self::Password | Self::EmailLink => None,
            Self::Passkey => Some("phr"),
        }
    }
}

/// The client a request is from, as the server's rate-limit layer resolved it: the TCP peer, or
/// behind a trusted proxy the forwarded client; an IPv6 client as its /64. Without that layer
/// (never in the server) every request is from the unspecified address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

impl fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The `User-Agent` a sign-in was made with, to tell a user's sign-ins apart: at most 256 characters,
/// without control characters; empty when the client sent none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserAgent(String);

impl UserAgent {
    const MAX_CHARS: usize = 256;

    /// From a header's value, cut to 256 characters.
    pub fn new(raw: &str) -> Self {
        Self(raw.trim().chars().filter(|c| !c.is_control()).take(Self::MAX_CHARS).collect())
    }

    /// The value, `None` when there was none.
    pub fn get(&self) -> Option<&str> {
        (!self.0.is_empty()).then_some(self.0.as_str())
    }
}

/// "Browser on system" from a `User-Agent`, for people to recognise their devices by; the whole
/// value is in the answer too. The few browsers and systems people use, tested in the order that
/// tells them apart (Edge and Chrome also say "Safari"; Android also says "Linux").
pub fn device_of(user_agent: Option<&str>) -> String {
    let Some(agent) = user_agent.filter(|a| !a.is_empty()) else {
        return "Unknown device".to_owned();
    };
    const BROWSERS: [(&str, &str); 8] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("python", "Python"),
        ("node", "Node.js"),
    ];
    const SYSTEMS: [(&str, &str); 7] = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ];
    let browser = BROWSERS.iter().find(|(mark, _)| agent.contains(mark)).map(|(_, name)| *name);
    let system = SYSTEMS.iter().find(|(mark, _)| agent.contains(mark)).map(|(_, name)| *name);
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(name), None) | (None, Some(name)) => name.to_owned(),
        (None, None) => agent.split(['/', ' ']).next().unwrap_or(agent).to_owned(),
    }
}

/// Who made a request, as a user's record of sign-ins and activity shows it: the client's address
/// (behind a trusted proxy, the forwarded client) and its `User-Agent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The client's address.
    pub address: ClientAddr,
    /// Its `User-Agent`.
    pub user_agent: UserAgent,
}

/// An email address, trimmed and lower-cased so that comparisons are case-insensitive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Longest address RFC 5321 allows through SMTP.
    const MAX_LEN: usize = 254;

    /// Trims, lower-cases and checks the shape `local@domain.tld`; deliverability is not checked.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= Self::MAX_LEN
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && match email.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if valid { Ok(Self(email)) } else { Err(Error::InvalidEmail) }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: 8 to 128 characters. Its `Debug` never prints it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    const MIN_CHARS: usize = 8;
    const MAX_CHARS: usize = 128;

    /// Checks the length in characters (not bytes), as people count them.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let chars = raw.chars().count();
        if (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Error::InvalidPassword)
        }
    }

    /// The password's bytes, for hashing.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A name a person gives a passkey (or themselves): 1 to 64 characters after trimming, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    const MAX_CHARS: usize = 64;

    /// Trims and validates; the result is stored and shown verbatim, as text.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS || name.chars().any(char::is_control) {
            return Err(Error::InvalidName);
        }
        Ok(Self(name.to_owned()))
    }

    /// The validated name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the name.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// A secret string (JWT key, refresh token) whose `Debug` prints `<redacted>`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call sites are easy to grep for.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Compares two byte strings without stopping at the first difference (only the length shows).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(Email::parse("  Alice@Example.COM ").unwrap().as_str(), "alice@example.com");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "a b@example.com",
            "a@b@c.com",
            "alice@.com",
            "alice@com.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("ünïcödé").is_err(), "7 characters, 11 bytes");
        assert!(Password::parse("ünïcödé!").is_ok());
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn password_debug_is_redacted() {
        let password = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
        assert_eq!(format!("{:?}", Secret::new("s3cret")), "<redacted>");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  MacBook Touch ID ").unwrap().as_str(), "MacBook Touch ID");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"é".repeat(64)).is_ok());
        assert!(DisplayName::parse(&"é".repeat(65)).is_err());
        assert!(DisplayName::parse("bad\u{0007}name").is_err());
        assert!(DisplayName::parse("line\nbreak").is_err());
    }

    #[test]
    fn markup_in_names_is_kept_as_text() {
        assert_eq!(DisplayName::parse("<b>key</b>").unwrap().as_str(), "<b>key</b>");
    }

    #[test]
    fn devices_are_named_as_people_know_them() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
        let android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
        assert_eq!(device_of(Some(firefox)), "Firefox on Linux");
        assert_eq!(device_of(Some(chrome)), "Chrome on Windows");
        assert_eq!(device_of(Some(edge)), "Edge on Windows");
        assert_eq!(device_of(Some(safari)), "Safari on iPhone");
        assert_eq!(device_of(Some(android)), "Chrome on Android");
        assert_eq!(device_of(Some("curl/8.5.0")), "curl");
        assert_eq!(device_of(Some("my-sync-tool/2.1")), "my-sync-tool");
        assert_eq!(device_of(None), "Unknown device");
    }
}
