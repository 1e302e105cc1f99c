//! Sealing with the operator secret: AES-256-GCM under a key derived (HKDF-SHA256) from
//! `LATCHKEY_OPERATOR_SECRET`, one key per *purpose*, so what is sealed for one use never opens for
//! another. Associated data binds a sealed value to its context (a key's `kid`; the name of what a
//! sealed request is). Used for the signing keys at rest (`keys.rs`) and for the OpenID Connect
//! authorization requests a browser carries through sign-in and consent (`oidc/request.rs`) and for
//! a failed form's error on its way back to its page (`http/returned_form.rs`);
//! and for the admin API's page cursors (`http/admin.rs`); [`derive_key`] also keys the stand-in credential ids of `passkeys/stand_in.rs`.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::base::types::Secret;

/// What a [`Sealer`]'s key is for; each derives its own key (the HKDF `info`).
#[derive(Clone, Copy, Debug)]
pub enum Purpose {
    /// Private signing keys in the database.
    SigningKeysAtRest,
    /// Authorization requests waiting in the browser for a sign-in or a consent.
    AuthorizationRequests,
    /// The keys of the stand-in credential ids a passkey sign-in names for an email without
    /// passkeys (their generator's and their marks').
    StandInCredentialIds,
    /// A failed form's error and kept fields, on their way back to its page (`http/returned_form.rs`).
    ReturnedForms,
    /// Where the admin API's next page of a list starts (`http/admin.rs`).
    AdminCursors,
    /// A secret the console made, on its way to the one page that shows it (`http/shown_once.rs`).
    ShownOnce,
}

impl Purpose {
    fn info(self) -> &'static [u8] {
        match self {
            // The first purpose's info predates the others; changing it would strand stored keys.
            Self::SigningKeysAtRest => b"signing keys at rest v1",
            Self::AuthorizationRequests => b"authorization requests v1",
            Self::StandInCredentialIds => b"stand-in credential ids v1",
            Self::ReturnedForms => b"returned forms v1",
            Self::AdminCursors => b"admin cursors v1",
            Self::ShownOnce => b"shown once v1",
        }
    }
}

/// Seals and opens with one purpose's key.
pub struct Sealer {
    key: LessSafeKey,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(<redacted>)")
    }
}

/// `purpose`'s 32-byte key, derived from the operator secret (HKDF-SHA256, the purpose as `info`).
pub(crate) fn derive_key(operator_secret: &Secret, purpose: Purpose) -> [u8; 32] {
    let mut okm = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(b"latchkey"), operator_secret.expose().as_bytes())
        .expand(purpose.info(), &mut okm)
        .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 output length"));
    okm
}

/// A value that did not open: tampered with, sealed for another context or purpose, or under
/// another operator secret. Nothing more is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed value does not open")]
pub struct Unopened;

impl Sealer {
    /// Derives `purpose`'s key from the operator secret.
    pub fn new(operator_secret: &Secret, purpose: Purpose) -> Self {
        let okm = derive_key(operator_secret, purpose);
        let key = UnboundKey::new(&AES_256_GCM, &okm).unwrap_or_else(|_| unreachable!("a 32-byte AES-256 key"));
        Self { key: LessSafeKey::new(key) }
    }

    /// `base64url(nonce || ciphertext || tag)`, with `context` as associated data. `None` only if the
    /// system has no randomness for the nonce.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Option<String> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).ok()?;
        let mut sealed = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context.as_bytes()), &mut sealed)
            .ok()?;
        Some(URL_SAFE_NO_PAD.encode([nonce.as_slice(), &sealed].concat()))
    }

    /// Opens what [`Sealer::seal`] made for `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, Unopened> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| Unopened)?;
        if bytes.len() < NONCE_LEN {
            return Err(Unopened);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unopened)?;
        let mut buffer = ciphertext.to_vec();
        let plaintext =
            self.key.open_in_place(nonce, Aad::from(context.as_bytes()), &mut buffer).map_err(|_| Unopened)?;
        Ok(plaintext.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_secret_purpose_and_context() {
        let secret = Secret::new("an-operator-secret-of-at-least-32-bytes");
        let sealer = Sealer::new(&secret, Purpose::SigningKeysAtRest);
        let sealed = sealer.seal("kid-1", b"private key").unwrap();
        assert_eq!(sealer.open("kid-1", &sealed).unwrap(), b"private key");
        assert_ne!(sealed, sealer.seal("kid-1", b"private key").unwrap(), "a fresh nonce every time");
        assert_eq!(sealer.open("kid-2", &sealed), Err(Unopened), "bound to its context");
        let other = Sealer::new(&Secret::new("another-operator-secret-of-32-bytes!!"), Purpose::SigningKeysAtRest);
        assert_eq!(other.open("kid-1", &sealed), Err(Unopened), "bound to the secret");
        let requests = Sealer::new(&secret, Purpose::AuthorizationRequests);
        assert_eq!(requests.open("kid-1", &sealed), Err(Unopened), "bound to its purpose");
        let mut tampered = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(sealer.open("kid-1", &URL_SAFE_NO_PAD.encode(tampered)), Err(Unopened));
        assert_eq!(sealer.open("kid-1", "not base64!"), Err(Unopened));
        assert!(!sealed.contains("private"));
    }

    #[test]
    fn a_sealer_never_prints_its_key() {
        let printed = format!("{:?}", Sealer::new(&Secret::new("x".repeat(32)), Purpose::SigningKeysAtRest));
        assert_eq!(printed, "Sealer(<redacted>)");
    }
}
