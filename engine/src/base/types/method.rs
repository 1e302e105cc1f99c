//! How a sign-in was made, and what OpenID Connect calls it (`amr`, `acr`).

use serde::{Deserialize, Serialize};

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
