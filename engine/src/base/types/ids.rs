//! Typed ids: the same text in JSON, in the database and on the wire, but distinct types, so a
//! credential id can never be passed where a user id belongs.

use std::fmt;

use serde::{Deserialize, Serialize};

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
    /// A fresh id: a UUIDv7, so ids sort in the order sign-ins started (an account's oldest
    /// sign-ins past its share end first, even among those of one second).
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }
}
