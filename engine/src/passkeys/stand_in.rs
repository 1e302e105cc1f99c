//! Stand-in credential ids (WebAuthn Level 3 §14.6.2, *username enumeration*). A passkey sign-in
//! begun with an email that has no passkeys (nobody's address, or an account that signs in with a
//! password) lists credential ids that no authenticator holds, so that the answer has the shape of
//! a known account's and does not tell a stranger which addresses have passkeys here. They are an
//! HMAC of the address under a key derived from the operator secret: the same address gets the
//! same ids every time, as an account's real ids stay the same, and nobody without the secret can
//! compute them or tell them from real ones by asking twice.

use std::fmt;

use aws_lc_rs::hmac;
use webauthn_rs_proto::{AllowCredentials, AuthenticatorTransport};

use crate::base::sealed::{Purpose, derive_key};
use crate::base::types::{Email, Secret};

/// Makes an email's stand-in credential ids.
pub struct StandIns {
    key: hmac::Key,
}

impl fmt::Debug for StandIns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StandIns(<redacted>)")
    }
}

impl StandIns {
    /// Lengths the ids of platform and synced passkeys commonly have, in bytes.
    const ID_LENGTHS: [usize; 3] = [16, 20, 32];

    /// Keys the ids with a key derived from the operator secret for this purpose alone.
    pub fn new(operator_secret: &Secret) -> Self {
        let key = derive_key(operator_secret, Purpose::StandInCredentialIds);
        Self { key: hmac::Key::new(hmac::HMAC_SHA256, &key) }
    }

    /// One or two ids for `email`, each 16, 20 or 32 bytes long and reachable the way a synced
    /// passkey is (`hybrid`, `internal`); which, and how many, depends only on the address.
    pub fn for_email(&self, email: &Email) -> Vec<AllowCredentials> {
        let shape = self.tag(b"shape", email);
        let count = 1 + usize::from(shape[0] & 1);
        (0..count)
            .map(|index| {
                let length = Self::ID_LENGTHS[usize::from(shape[1 + index]) % Self::ID_LENGTHS.len()];
                let id = self.tag(&[b'i', b'd', b'0' + index as u8], email);
                AllowCredentials {
                    type_: "public-key".into(),
                    id: id[..length].to_vec().into(),
                    transports: Some(vec![AuthenticatorTransport::Hybrid, AuthenticatorTransport::Internal]),
                }
            })
            .collect()
    }

    /// HMAC-SHA256 of a label and the address; the label ends at a NUL byte, which no address holds.
    fn tag(&self, label: &[u8], email: &Email) -> [u8; 32] {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(label);
        context.update(b"\0");
        context.update(email.as_str().as_bytes());
        let mut tag = [0u8; 32];
        tag.copy_from_slice(context.sign().as_ref());
        tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stand_ins(secret: &str) -> StandIns {
        StandIns::new(&Secret::new(secret))
    }

    fn ids(stand_ins: &StandIns, email: &str) -> Vec<Vec<u8>> {
        let email = Email::parse(email).unwrap();
        stand_ins.for_email(&email).into_iter().map(|allowed| allowed.id.to_vec()).collect()
    }

    #[test]
    fn an_address_gets_the_same_ids_every_time_and_another_address_others() {
        let ours = stand_ins("an-operator-secret-of-at-least-32-bytes");
        let first = ids(&ours, "nobody@example.com");
        assert_eq!(first, ids(&ours, "NOBODY@Example.com"), "the address as accounts are found by it");
        assert_ne!(first, ids(&ours, "somebody@example.com"));
        let theirs = stand_ins("another-operator-secret-of-32-bytes!!");
        assert_ne!(first, ids(&theirs, "nobody@example.com"), "only the operator secret computes them");
    }

    #[test]
    fn the_ids_have_the_shapes_of_real_ones() {
        let stand_ins = stand_ins("an-operator-secret-of-at-least-32-bytes");
        let (mut counts, mut lengths) = (Vec::new(), Vec::new());
        for n in 0..200 {
            let email = Email::parse(&format!("person{n}@example.com")).unwrap();
            let listed = stand_ins.for_email(&email);
            counts.push(listed.len());
            for allowed in &listed {
                lengths.push(allowed.id.len());
                assert_eq!(allowed.type_, "public-key");
                assert_eq!(
                    allowed.transports.as_deref(),
                    Some([AuthenticatorTransport::Hybrid, AuthenticatorTransport::Internal].as_slice())
                );
            }
            if let [a, b] = listed.as_slice() {
                assert_ne!(a.id, b.id);
            }
        }
        for expected in [1, 2] {
            assert!(counts.contains(&expected), "some addresses get {expected} ids");
        }
        for expected in StandIns::ID_LENGTHS {
            assert!(lengths.contains(&expected), "some ids are {expected} bytes long");
        }
        assert!(lengths.iter().all(|length| StandIns::ID_LENGTHS.contains(length)));
    }
}
