//! The software authenticator: its credentials, and the registration and assertion ceremonies.

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::key::{Algorithm, KeyPair};
use crate::options::{CreationOptions, RequestOptions};
use crate::{Error, b64url, cbor};

/// Authenticator data flag: user present.
const USER_PRESENT: u8 = 0x01;
/// Authenticator data flag: user verified.
const USER_VERIFIED: u8 = 0x04;
/// Authenticator data flag: backup eligible.
const BACKUP_ELIGIBLE: u8 = 0x08;
/// Authenticator data flag: backed up.
const BACKUP_STATE: u8 = 0x10;
/// Authenticator data flag: attested credential data follows the counter.
const ATTESTED_CREDENTIAL_DATA: u8 = 0x40;

/// Length of the random credential ids this authenticator mints (unless a test asks for another).
const CREDENTIAL_ID_LEN: usize = 32;

/// Deviations a test can ask for; every one is applied BEFORE signing, so the result still carries a valid signature.
#[derive(Clone, Debug, Default)]
pub struct Tweaks {
    /// Report this `origin` in clientDataJSON instead of the real one.
    pub origin: Option<String>,
    /// Report `"crossOrigin": true` in clientDataJSON.
    pub cross_origin: bool,
    /// Report this `type` in clientDataJSON, e.g. `"webauthn.get"` during a registration.
    pub client_data_type: Option<String>,
    /// Compute the authenticator data's rpIdHash from this id instead of the options' one.
    pub rp_id: Option<String>,
    /// Set the UV flag as given; it is set by default.
    pub user_verified: Option<bool>,
    /// Set the UP flag as given; it is set by default.
    pub user_present: Option<bool>,
    /// Report exactly this signature counter; the stored counter is then left as it was.
    pub sign_count: Option<u32>,
    /// Leave `userHandle` out of the assertion.
    pub omit_user_handle: bool,
    /// Report this `userHandle` instead of the credential's.
    pub user_handle: Option<Vec<u8>>,
    /// get: assert with this held credential (of the request's relying party), ignoring allowCredentials.
    /// create: register this held credential again (same id and key), as a cloned authenticator would.
    pub credential_id: Option<Vec<u8>>,
    /// create: mint a credential id of this many bytes instead of 32 (WebAuthn allows at most 1023).
    pub credential_id_len: Option<usize>,
    /// Report this `challenge` in clientDataJSON instead of the options' one.
    pub challenge: Option<String>,
}

/// One discoverable credential held by the authenticator.
#[derive(Clone, Debug)]
struct Credential {
    id: Vec<u8>,
    rp_id: String,
    user_handle: Vec<u8>,
    key: KeyPair,
    sign_count: u32,
}

/// A platform authenticator in software, together with the client (browser) part of WebAuthn.
///
/// It holds the credentials it creates, so keep one per simulated device and clone it to model a
/// copied authenticator.
#[derive(Clone, Debug)]
pub struct SoftAuthenticator {
    algorithm: Algorithm,
    aaguid: [u8; 16],
    backup_eligible: bool,
    backup_state: bool,
    counter_step: u32,
    credentials: Vec<Credential>,
}

impl Default for SoftAuthenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl SoftAuthenticator {
    /// An ES256 authenticator that verifies the user, is not backup eligible, counts signatures
    /// in steps of 1 and has the all-zero AAGUID.
    pub fn new() -> Self {
        Self::with_algorithm(Algorithm::Es256)
    }

    /// Like [`SoftAuthenticator::new`], creating its credentials with `algorithm`.
    pub fn with_algorithm(algorithm: Algorithm) -> Self {
        Self {
            algorithm,
            aaguid: [0; 16],
            backup_eligible: false,
            backup_state: false,
            counter_step: 1,
            credentials: Vec::new(),
        }
    }

    /// Sets the AAGUID reported in attested credential data.
    pub fn set_aaguid(&mut self, aaguid: [u8; 16]) {
        self.aaguid = aaguid;
    }

    /// Sets the BE (backup eligible) and BS (backed up) flags; no combination is refused.
    pub fn set_backup(&mut self, eligible: bool, state: bool) {
        self.backup_eligible = eligible;
        self.backup_state = state;
    }

    /// Sets how much each assertion adds to a credential's counter; 0 models an authenticator
    /// without a counter, which always reports 0.
    pub fn set_counter_step(&mut self, step: u32) {
        self.counter_step = step;
    }

    /// The ids of the held credentials, oldest first.
    pub fn credential_ids(&self) -> Vec<Vec<u8>> {
        self.credentials.iter().map(|c| c.id.clone()).collect()
    }

    /// The base64url id of the `index`-th held credential (oldest first), if there is one.
    pub fn credential_id_b64(&self, index: usize) -> Option<String> {
        self.credentials.get(index).map(|c| b64url(&c.id))
    }

    /// Registers a new credential: `navigator.credentials.create()` followed by `toJSON()`.
    pub fn create(&mut self, options: &Value, origin: &str) -> Result<Value, Error> {
        self.create_with(options, origin, &Tweaks::default())
    }

    /// [`SoftAuthenticator::create`] with deviations from a well-behaved client and authenticator.
    pub fn create_with(&mut self, options: &Value, origin: &str, tweaks: &Tweaks) -> Result<Value, Error> {
        let options = CreationOptions::parse(options)?;
        if !options.algorithms.contains(&self.algorithm.cose_identifier()) {
            return Err(Error::UnsupportedAlgorithm(self.algorithm));
        }
        let excluded = self
            .credentials
            .iter()
            .any(|held| held.rp_id == options.rp_id && options.exclude_credentials.iter().any(|id| id == &held.id));
        if excluded {
            return Err(Error::CredentialExcluded);
        }

        let (id, key) = match &tweaks.credential_id {
            // Re-registering a held credential, as a cloned or misbehaving authenticator would.
            Some(id) => {
                let held = self
                    .credentials
                    .iter()
                    .find(|held| &held.id[..] == id.as_slice())
                    .ok_or_else(|| Error::NoCredential { rp_id: options.rp_id.clone() })?;
                (held.id.clone(), held.key.clone())
            }
            None => {
                let id = (0..tweaks.credential_id_len.unwrap_or(CREDENTIAL_ID_LEN)).map(|_| rand::random()).collect();
                (id, KeyPair::generate(self.algorithm)?)
            }
        };
        let credential = Credential { id, rp_id: options.rp_id, user_handle: options.user_handle, key, sign_count: 0 };
        let client_data = client_data_json("webauthn.create", &options.challenge, origin, tweaks);
        let auth_data = authenticator_data(
            tweaks.rp_id.as_deref().unwrap_or(&credential.rp_id),
            self.flags(tweaks) | ATTESTED_CREDENTIAL_DATA,
            tweaks.sign_count.unwrap_or(credential.sign_count),
            &self.attested_credential_data(&credential)?,
        );
        let attestation_object = cbor::none_attestation_object(&auth_data)?;

        let id = b64url(&credential.id);
        let algorithm = credential.key.algorithm().cose_identifier();
        self.credentials.push(credential);
        Ok(json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(&client_data),
                "attestationObject": b64url(&attestation_object),
                "transports": ["internal"],
                "publicKeyAlgorithm": algorithm,
                "authenticatorData": b64url(&auth_data),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }))
    }

    /// Signs in with a held credential: `navigator.credentials.get()` followed by `toJSON()`.
    pub fn get(&mut self, options: &Value, origin: &str) -> Result<Value, Error> {
        self.get_with(options, origin, &Tweaks::default())
    }

    /// [`SoftAuthenticator::get`] with deviations from a well-behaved client and authenticator.
    pub fn get_with(&mut self, options: &Value, origin: &str, tweaks: &Tweaks) -> Result<Value, Error> {
        let options = RequestOptions::parse(options)?;
        let flags = self.flags(tweaks);
        let step = self.counter_step;
        let credential = select_credential(&mut self.credentials, &options, tweaks)?;
        let sign_count = match tweaks.sign_count {
            Some(count) => count,
            None => {
                credential.sign_count = credential.sign_count.saturating_add(step);
                credential.sign_count
            }
        };

        let client_data = client_data_json("webauthn.get", &options.challenge, origin, tweaks);
        let auth_data = authenticator_data(tweaks.rp_id.as_deref().unwrap_or(&options.rp_id), flags, sign_count, &[]);
        let signed = [auth_data.as_slice(), &Sha256::digest(&client_data)].concat();
        let signature = credential.key.sign(&signed)?;

        let id = b64url(&credential.id);
        let mut response = json!({
            "clientDataJSON": b64url(&client_data),
            "authenticatorData": b64url(&auth_data),
            "signature": b64url(&signature),
        });
        if !tweaks.omit_user_handle {
            let user_handle = tweaks.user_handle.as_ref().unwrap_or(&credential.user_handle);
            response["userHandle"] = Value::from(b64url(user_handle));
        }
        Ok(json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }))
    }

    /// The UP, UV, BE and BS bits of the flags byte.
    fn flags(&self, tweaks: &Tweaks) -> u8 {
        let mut flags = 0;
        if tweaks.user_present.unwrap_or(true) {
            flags |= USER_PRESENT;
        }
        if tweaks.user_verified.unwrap_or(true) {
            flags |= USER_VERIFIED;
        }
        if self.backup_eligible {
            flags |= BACKUP_ELIGIBLE;
        }
        if self.backup_state {
            flags |= BACKUP_STATE;
        }
        flags
    }

    /// AAGUID | credential id length (u16, big-endian) | credential id | COSE public key.
    fn attested_credential_data(&self, credential: &Credential) -> Result<Vec<u8>, Error> {
        let length = u16::try_from(credential.id.len()).unwrap_or(u16::MAX);
        Ok([self.aaguid.as_slice(), &length.to_be_bytes(), &credential.id, &credential.key.cose_public_key()?].concat())
    }
}

/// The credential an assertion uses: the one `tweaks` names, else the first allowed one, else
/// (for an empty allow list) the first discoverable one; always one held for the request's RP.
fn select_credential<'a>(
    credentials: &'a mut [Credential],
    options: &RequestOptions,
    tweaks: &Tweaks,
) -> Result<&'a mut Credential, Error> {
    let mut for_rp = credentials.iter_mut().filter(|held| held.rp_id == options.rp_id);
    let selected = match &tweaks.credential_id {
        Some(id) => for_rp.find(|held| id == &held.id),
        None if options.allow_credentials.is_empty() => for_rp.next(),
        None => for_rp.find(|held| options.allow_credentials.iter().any(|id| id == &held.id)),
    };
    selected.ok_or_else(|| Error::NoCredential { rp_id: options.rp_id.clone() })
}

/// The collected client data, with the members in the order browsers write them.
fn client_data_json(ty: &str, challenge: &str, origin: &str, tweaks: &Tweaks) -> Vec<u8> {
    let ty = tweaks.client_data_type.as_deref().unwrap_or(ty);
    let challenge = tweaks.challenge.as_deref().unwrap_or(challenge);
    let origin = tweaks.origin.as_deref().unwrap_or(origin);
    // Written by hand because a serde_json map would sort the members; `Value` escapes the strings.
    format!(
        r#"{{"type":{},"challenge":{},"origin":{},"crossOrigin":{}}}"#,
        Value::from(ty),
        Value::from(challenge),
        Value::from(origin),
        tweaks.cross_origin,
    )
    .into_bytes()
}

/// SHA-256(rpId) | flags | signCount (u32, big-endian) | attested credential data (may be empty).
fn authenticator_data(rp_id: &str, flags: u8, sign_count: u32, attested: &[u8]) -> Vec<u8> {
    let rp_id_hash = Sha256::digest(rp_id);
    [&rp_id_hash[..], &[flags], &sign_count.to_be_bytes(), attested].concat()
}
