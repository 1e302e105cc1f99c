//! The browser's passkey APIs as the pages use them: `navigator.credentials.create/get` with the
//! server's options in the W3C JSON forms, feature detection, the Signal API, and navigation.
//!
//! Two faces with the same functions, so the pages and flows need no `cfg`: `web.rs` (hydrate
//! builds) calls the browser through web-sys; `inert.rs` (server builds) does nothing, because on
//! the server these are only ever named, never called — they run in event handlers and effects.

#[cfg(not(feature = "hydrate"))]
#[path = "inert.rs"]
mod face;
#[cfg(feature = "hydrate")]
#[path = "web.rs"]
mod face;

pub use face::*;

/// How a WebAuthn request asks: browsers allow one at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// A prompt the person asked for (a button): first cancels any background request.
    Modal,
    /// A quiet request in the background (`mediation: "conditional"`: the email field's autofill,
    /// or a passkey made silently after a password sign-in), replacing any earlier one.
    Background,
}

/// Why a browser ceremony did not produce a credential, in terms a person can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CeremonyFailure {
    /// The prompt was dismissed or timed out (`NotAllowedError`).
    Cancelled,
    /// The authenticator already holds a passkey for this account (`InvalidStateError`).
    AlreadyRegistered,
    /// The page's origin does not fit the relying party (`SecurityError`).
    WrongSite,
    /// A newer ceremony replaced this one (`AbortError`); nothing to show.
    Aborted,
    /// The browser has no WebAuthn.
    Unsupported,
    /// Anything else.
    Other,
}

impl CeremonyFailure {
    /// The sentence shown to the person.
    pub fn message(&self) -> &'static str {
        match self {
            Self::Cancelled => "The passkey prompt was closed or timed out. Try again when you're ready.",
            Self::AlreadyRegistered => {
                "This passkey is already registered on this device. Use it to sign in, or add a passkey from another device."
            }
            Self::WrongSite => {
                "This page's address does not match the site your passkeys belong to. Open this site at its usual address and try again."
            }
            Self::Aborted => "",
            Self::Unsupported => "This browser does not support passkeys. Sign in with your password instead.",
            Self::Other => "The passkey could not be used. Try again, or sign in with your password.",
        }
    }
}
