//! The WebAuthn ceremonies, in [`registration`] and [`authentication`]: [`start_registration`], [`finish_registration`], [`start_authentication`]
//! and [`finish_authentication`] (with [`start_sign_up`], the registration that creates its account,
//! and [`finish_browser_authentication`], the portal's form, which starts a sign-in for the browser
//! session instead of handing out tokens). Section numbers are from WebAuthn Level 3 (W3C); rule
//! numbers are the ceremony rules of docs/api.md.
//!
//! # Registration (§7.1)
//! 1. *begin* (signed-in user): webauthn-rs makes `PublicKeyCredentialCreationOptions` (§5.4) with a
//!    fresh 32-byte challenge, `userVerification: "required"` and the user's existing credentials in
//!    `excludeCredentials`. [`registration`] asks for `residentKey: "preferred"` (discoverable passkeys where
//!    the authenticator can) and adds EdDSA to the algorithms. The state is stored in the challenge
//!    store under `reg:<user id>:<challenge>`, which binds it to the user who began it (rule 2).
//! 2. The browser calls `navigator.credentials.create()` and sends back `toJSON()` of the result.
//! 3. *complete*: it reads the challenge out of `clientDataJSON` and **takes** the state (atomic,
//!    single use, TTL: rule 1); a state begun by another user is simply not found under this user's key.
//!    webauthn-rs then checks (§7.1 steps 5–26): `type` is `webauthn.create`, the challenge matches,
//!    the origin is one of the configured origins exactly, `crossOrigin` is not true, rpIdHash is
//!    SHA-256(rp id), UP and UV are set, the algorithm was offered, and parses the public key. This
//!    file then stores the credential; the UNIQUE credential ID makes a second registration of the
//!    same credential (by anyone) a 409 that leaves the existing row untouched (§7.1 step 22, rule 4).
//!
//! # Authentication (§7.2)
//! 1. *begin*: with an email, `allowCredentials` lists that user's passkeys (a *targeted* ceremony);
//!    when the email has none (nobody's, or a password account's), it lists stand-in ids that no
//!    authenticator holds ([`stand_in`](crate::passkeys::stand_in), §14.6.2), so the answer does not
//!    tell whether the address has passkeys here; without an email, it is empty and the
//!    authenticator offers its discoverable credentials (a *discoverable* ceremony, also used for
//!    autofill). The state is stored under `auth:<challenge>`, so the REST flow needs no cookie.
//! 2. The browser calls `navigator.credentials.get()`.
//! 3. *complete*: the state is taken (rule 1); the credential is looked up by its ID (unknown → 401).
//!    [`authentication`] enforces §7.2 step 6: in a targeted ceremony the credential must belong to the user
//!    begin named (and no credential completes a stand-in one); a `userHandle`, when present, must be the owner's handle; a discoverable response
//!    must carry one (rule 5); `crossOrigin: true` is refused (webauthn-rs 0.5 checks it only when
//!    registering). webauthn-rs checks the credential is allowed, `type`, challenge, origin, rpIdHash, UP and UV, the signature over `authenticatorData || SHA-256(clientDataJSON)`,
//!    and that a non-zero signature counter increased (§7.2 steps 11–21). It persists the new
//!    counter, backup state and last use in one conditional UPDATE, so two racing assertions cannot
//!    both pass the counter check (§7.2 step 22, rule 6); the new sign-in (and, for API
//!    clients, its first refresh token) and its record in the owner's activity are written in the
//!    same transaction and database round trip, only when the UPDATE matched
//!    (`db/passkey_sign_in.rs`).
//!
//! This module keeps what both share: the ceremony state in the challenge store between *begin* and
//! *complete*, and the challenge read out of `clientDataJSON`.

mod authentication;
mod registration;

pub use authentication::{SignedIn, finish_authentication, finish_browser_authentication, start_authentication};
pub(crate) use registration::registration_change;
pub use registration::{finish_registration, finish_sign_up, start_registration, start_sign_up};

use std::time::Instant;

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::Passkey;
/// What the browser sends back: `credential.toJSON()` of a registration, and of a sign-in.
pub use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};
use webauthn_rs_proto::AuthenticatorTransport;

use crate::base::error::Error;
use crate::base::measure;
use crate::base::types::ClientAddr;
use crate::db::passkeys::PasskeyRow;
use crate::passkeys::RelyingParty;
use crate::passkeys::challenge::StoreError;

/// The challenge store's owner of an anonymous ceremony: the client's address.
fn client_owner(client: ClientAddr) -> String {
    format!("ip:{client}")
}

async fn store_ceremony(rp: &RelyingParty, key: &str, owner: &str, ceremony: &impl Serialize) -> Result<(), Error> {
    let json = serde_json::to_string(ceremony).map_err(Error::internal)?;
    let started = Instant::now();
    let stored = rp.challenges.put(key, owner, json, rp.challenge_ttl).await;
    measure::store_time("challenge", "put", started.elapsed());
    stored.map_err(store_unavailable)
}

async fn take_ceremony<T: for<'de> Deserialize<'de>>(rp: &RelyingParty, key: &str) -> Result<T, Error> {
    let started = Instant::now();
    let taken = rp.challenges.take(key).await;
    measure::store_time("challenge", "take", started.elapsed());
    let json = taken.map_err(store_unavailable)?;
    serde_json::from_str(&json.ok_or(Error::CeremonyExpired)?).map_err(Error::internal)
}

fn store_unavailable(error: StoreError) -> Error {
    match error {
        // One client's share is used up; nobody else is affected.
        StoreError::OwnerFull { retry_after } => {
            measure::rate_limited("ceremonies_in_flight");
            Error::RateLimited { retry_after }
        }
        other => {
            tracing::warn!(error = %other, "challenge store unavailable");
            measure::store_error("challenge");
            Error::Unavailable
        }
    }
}

/// The challenge a response answers, read from `clientDataJSON` to find its ceremony (webauthn-rs
/// compares it with the stored state's challenge again during verification). `crossOrigin: true` is
/// refused here (§7.1 step 10 / §7.2 step 14 leave it to the RP; webauthn-rs 0.5 checks it only
/// during registration).
fn challenge_of(client_data_json: &[u8]) -> Result<String, Error> {
    #[derive(Deserialize)]
    struct ClientData {
        challenge: String,
        #[serde(rename = "crossOrigin", default)]
        cross_origin: Option<bool>,
    }
    let data: ClientData = serde_json::from_slice(client_data_json)
        .map_err(|_| Error::InvalidRequest("clientDataJSON is not the JSON a browser produces.".into()))?;
    if data.cross_origin == Some(true) {
        return Err(Error::AuthenticationFailed("cross-origin (embedded) requests are not accepted"));
    }
    let well_formed = !data.challenge.is_empty()
        && data.challenge.len() <= 128
        && data.challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if well_formed { Ok(data.challenge) } else { Err(Error::CeremonyExpired) }
}

/// `transports` cut to the values WebAuthn defines, each once, in the order given.
fn known_transports(transports: &[AuthenticatorTransport]) -> Vec<AuthenticatorTransport> {
    let mut known: Vec<AuthenticatorTransport> = Vec::new();
    for transport in transports {
        if *transport != AuthenticatorTransport::Unknown && !known.contains(transport) {
            known.push(transport.clone());
        }
    }
    known
}

fn stored_passkey(row: &PasskeyRow) -> Result<Passkey, Error> {
    serde_json::from_str(&row.passkey).map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_read_from_client_data() {
        let data = br#"{"type":"webauthn.get","challenge":"abc-_123","origin":"http://localhost:3000"}"#;
        assert_eq!(challenge_of(data).unwrap(), "abc-_123");
    }

    #[test]
    fn odd_challenges_never_reach_the_store() {
        assert!(matches!(challenge_of(br#"{"challenge":"a:b"}"#), Err(Error::CeremonyExpired)));
        assert!(matches!(challenge_of(br#"{"challenge":""}"#), Err(Error::CeremonyExpired)));
        assert!(matches!(challenge_of(b"not json"), Err(Error::InvalidRequest(_))));
    }

    #[test]
    fn cross_origin_responses_are_refused() {
        let data = br#"{"type":"webauthn.get","challenge":"abc","origin":"http://localhost:3000","crossOrigin":true}"#;
        assert!(matches!(challenge_of(data), Err(Error::AuthenticationFailed(_))));
    }
}
