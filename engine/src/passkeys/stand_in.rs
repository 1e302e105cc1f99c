//! Stand-in credential ids (WebAuthn Level 3 §14.6.2, *username enumeration*). A passkey sign-in
//! begun with an email that has no passkeys (nobody's address, or an account that signs in with a
//! password) lists credential ids that no authenticator holds, so that the answer has the shape of
//! a known account's and does not tell a stranger which addresses have passkeys here.
//!
//! The ids come from webauthn-rs's fake credential generator: an HMAC of the address (under a key
//! derived from the operator secret) seeds its distribution of how many passkeys accounts have and
//! of which kinds (the id lengths of Android, Apple, Windows Hello, YubiKey and password-manager
//! passkeys). So the same address gets the same ids every time, as an account's real ids stay the
//! same, and nobody without the secret can compute them. Each id's last bytes are a mark (an HMAC
//! of the rest), so *complete* knows one it made wherever it is sent, and refuses it as it
//! refuses a real passkey, not as an id nobody has; the passkey it checks a stand-in ceremony's own
//! ids against has a public key whose private half nobody holds.
//!
//! What stays visible: a list with what the generator never makes (a kind of id it does not know,
//! or many passkeys) shows an account; the generator's lists are the common ones.

use std::fmt;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use webauthn_rs::fake::{FakePasskeyDistribution, WebauthnFakeCredentialGenerator};
use webauthn_rs::prelude::Passkey;
use webauthn_rs_proto::{AllowCredentials, AuthenticatorTransport};

use crate::base::error::Error;
use crate::base::sealed::{Purpose, derive_key};
use crate::base::types::{Secret, constant_time_eq};

/// Makes an email's stand-in credential ids, and knows them again.
pub struct StandIns {
    ids: WebauthnFakeCredentialGenerator<FakePasskeyDistribution>,
    marks: hmac::Key,
    /// The uncompressed P-256 point the stand-in passkey claims (`04 || x || y`).
    public_key: Vec<u8>,
}

impl fmt::Debug for StandIns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StandIns(<redacted>)")
    }
}

impl StandIns {
    /// The bytes at the end of an id that say this module made it.
    const MARK_LEN: usize = 8;
    /// The shortest id the generator makes (a password manager's).
    const SHORTEST: usize = 16;

    /// Keys the ids with keys derived from the operator secret for this purpose alone.
    pub fn new(operator_secret: &Secret) -> Result<Self, Error> {
        let key = derive_key(operator_secret, Purpose::StandInCredentialIds);
        let ids = WebauthnFakeCredentialGenerator::new(&key[..16]).map_err(Error::internal)?;
        let marks = hmac::Key::new(hmac::HMAC_SHA256, &key[16..]);
        // A key pair made and dropped at once: its public half is all anyone ever has of it.
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).map_err(Error::internal)?;
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).map_err(Error::internal)?;
        Ok(Self { ids, marks, public_key: pair.public_key().as_ref().to_vec() })
    }

    /// `email`'s ids as a targeted ceremony's options list them, with the transports such
    /// passkeys' browsers report; the same for the same address every time.
    pub fn for_email(&self, email: &str) -> Result<Vec<AllowCredentials>, Error> {
        let listed = self.ids(email)?.into_iter().map(|id| {
            let transports = transports_of(id.len());
            AllowCredentials { type_: "public-key".into(), id: id.into(), transports: Some(transports.to_vec()) }
        });
        Ok(listed.collect())
    }

    /// Whether `id` is one of `email`'s stand-in ids.
    pub fn listed(&self, email: &str, id: &[u8]) -> Result<bool, Error> {
        Ok(self.ids(email)?.iter().any(|listed| listed.as_slice() == id))
    }

    /// Whether `id` is one [`StandIns::for_email`] made for any address (under this secret).
    pub fn made(&self, id: &[u8]) -> bool {
        id.len() >= Self::SHORTEST && {
            let (body, mark) = id.split_at(id.len() - Self::MARK_LEN);
            constant_time_eq(mark, &self.mark(body))
        }
    }

    /// A passkey with stand-in `id` and a public key nobody can sign for, so that an answer to a
    /// stand-in ceremony goes through every check a real passkey's does and fails at the signature.
    pub fn passkey(&self, id: &[u8]) -> Result<Passkey, Error> {
        let (x, y) = self.public_key[1..].split_at(32);
        let passkey = serde_json::json!({ "cred": {
            "cred_id": URL_SAFE_NO_PAD.encode(id),
            "cred": { "type_": "ES256", "key": { "EC_EC2": {
                "curve": "SECP256R1", "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
            } } },
            "counter": 0,
            "transports": null,
            "user_verified": true,
            "backup_eligible": true,
            "backup_state": true,
            "registration_policy": "required",
            "extensions": {},
            "attestation": { "data": "None", "metadata": "None" },
            "attestation_format": "none",
        } });
        serde_json::from_value(passkey).map_err(Error::internal)
    }

    /// The generator's ids for `email`, each ending in its mark. The generator gives some
    /// addresses none (accounts without passkeys); here, where every account that lists ids has at
    /// least one, such an address is drawn again under a numbered name.
    fn ids(&self, email: &str) -> Result<Vec<Vec<u8>>, Error> {
        for draw in 0u8.. {
            let name = [email.as_bytes(), b"\0", &[draw]].concat();
            let ids = self.ids.generate(&name).map_err(Error::internal)?;
            if !ids.is_empty() {
                return Ok(ids.into_iter().map(|id| self.marked(id.to_vec())).collect());
            }
        }
        unreachable!("the generator gives most names at least one id")
    }

    fn marked(&self, mut id: Vec<u8>) -> Vec<u8> {
        let body_len = id.len() - Self::MARK_LEN;
        let mark = self.mark(&id[..body_len]);
        id[body_len..].copy_from_slice(&mark);
        id
    }

    fn mark(&self, body: &[u8]) -> [u8; Self::MARK_LEN] {
        let mut mark = [0u8; Self::MARK_LEN];
        mark.copy_from_slice(&hmac::sign(&self.marks, body).as_ref()[..Self::MARK_LEN]);
        mark
    }
}

/// What the browsers of the passkeys whose ids are `len` bytes long report for them.
fn transports_of(len: usize) -> &'static [AuthenticatorTransport] {
    use AuthenticatorTransport::{Hybrid, Internal, Nfc, Usb};
    match len {
        // YubiKey (ECDSA and EdDSA)
        64 | 128 => &[Nfc, Usb],
        // Windows Hello
        32 => &[Internal],
        // Android, Apple, password managers: synced, and reachable from another device
        _ => &[Hybrid, Internal],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stand_ins(secret: &str) -> StandIns {
        StandIns::new(&Secret::new(secret)).unwrap()
    }

    fn ids(stand_ins: &StandIns, email: &str) -> Vec<Vec<u8>> {
        stand_ins.for_email(email).unwrap().into_iter().map(|allowed| allowed.id.to_vec()).collect()
    }

    #[test]
    fn an_address_gets_the_same_ids_every_time_and_another_address_others() {
        let ours = stand_ins("an-operator-secret-of-at-least-32-bytes");
        let first = ids(&ours, "nobody@example.com");
        assert_eq!(first, ids(&ours, "nobody@example.com"));
        assert_eq!(
            first,
            ids(&stand_ins("an-operator-secret-of-at-least-32-bytes"), "nobody@example.com"),
            "after a restart"
        );
        assert_ne!(first, ids(&ours, "somebody@example.com"));
        let theirs = stand_ins("another-operator-secret-of-32-bytes!!");
        assert_ne!(first, ids(&theirs, "nobody@example.com"), "only the operator secret computes them");
    }

    #[test]
    fn the_ids_are_known_by_their_maker_and_listed_for_their_address_only() {
        let ours = stand_ins("an-operator-secret-of-at-least-32-bytes");
        let theirs = stand_ins("another-operator-secret-of-32-bytes!!");
        for id in ids(&ours, "nobody@example.com") {
            assert!(ours.made(&id));
            assert!(ours.listed("nobody@example.com", &id).unwrap());
            assert!(!ours.listed("somebody@example.com", &id).unwrap());
            assert!(!theirs.made(&id), "another secret's");
            let mut altered = id.clone();
            altered[0] ^= 1;
            assert!(!ours.made(&altered), "a changed id");
            assert!(!ours.made(&id[..id.len() - 1]), "a shortened id");
            assert_eq!(ours.passkey(&id).unwrap().cred_id().as_slice(), id.as_slice());
        }
        assert!(!ours.made(&[0u8; 16]) && !ours.made(&[]) && !ours.made(&[7u8; 64]), "ids nobody made");
    }

    #[test]
    fn the_ids_have_the_shapes_of_real_ones() {
        let stand_ins = stand_ins("an-operator-secret-of-at-least-32-bytes");
        let (mut counts, mut lengths) = (Vec::new(), Vec::new());
        for n in 0..300 {
            let listed = stand_ins.for_email(&format!("person{n}@example.com")).unwrap();
            counts.push(listed.len());
            for allowed in &listed {
                lengths.push(allowed.id.len());
                assert_eq!(allowed.type_, "public-key");
                assert_eq!(allowed.transports.as_deref(), Some(transports_of(allowed.id.len())));
            }
        }
        assert!(counts.iter().all(|count| (1..=3).contains(count)), "{counts:?}");
        assert!(counts.iter().filter(|&&count| count == 1).count() > counts.len() / 2, "most have one");
        for expected in [16, 20, 32, 64, 65] {
            assert!(lengths.contains(&expected), "some ids are {expected} bytes long: {lengths:?}");
        }
    }
}
