//! Reading the relying party's options JSON into what the authenticator needs.
//!
//! Both W3C forms are accepted bare or wrapped as `{"publicKey": {..}}`, which is how webauthn-rs
//! serialises its `CreationChallengeResponse` and `RequestChallengeResponse`.

use serde_json::Value;

use crate::{Error, from_b64url};

/// The parts of `PublicKeyCredentialCreationOptionsJSON` a registration uses.
#[derive(Debug)]
pub(crate) struct CreationOptions {
    pub(crate) rp_id: String,
    pub(crate) user_handle: Vec<u8>,
    /// Kept exactly as sent: it goes into clientDataJSON unchanged.
    pub(crate) challenge: String,
    /// COSE identifiers from `pubKeyCredParams`, in the relying party's order of preference.
    pub(crate) algorithms: Vec<i64>,
    pub(crate) exclude_credentials: Vec<Vec<u8>>,
}

impl CreationOptions {
    pub(crate) fn parse(json: &Value) -> Result<Self, Error> {
        let json = unwrap_public_key(json);
        Ok(Self {
            rp_id: string_at(json, "/rp/id")?.to_owned(),
            user_handle: from_b64url(string_at(json, "/user/id")?)?,
            challenge: string_at(json, "/challenge")?.to_owned(),
            algorithms: algorithms(json)?,
            exclude_credentials: credential_ids(json, "excludeCredentials")?,
        })
    }
}

/// The parts of `PublicKeyCredentialRequestOptionsJSON` an assertion uses.
#[derive(Debug)]
pub(crate) struct RequestOptions {
    pub(crate) rp_id: String,
    /// Kept exactly as sent: it goes into clientDataJSON unchanged.
    pub(crate) challenge: String,
    /// Empty when the relying party asks for a discoverable credential.
    pub(crate) allow_credentials: Vec<Vec<u8>>,
}

impl RequestOptions {
    pub(crate) fn parse(json: &Value) -> Result<Self, Error> {
        let json = unwrap_public_key(json);
        Ok(Self {
            rp_id: string_at(json, "/rpId")?.to_owned(),
            challenge: string_at(json, "/challenge")?.to_owned(),
            allow_credentials: credential_ids(json, "allowCredentials")?,
        })
    }
}

fn unwrap_public_key(json: &Value) -> &Value {
    json.get("publicKey").unwrap_or(json)
}

/// The string at a JSON pointer such as `/rp/id`.
fn string_at<'a>(json: &'a Value, pointer: &'static str) -> Result<&'a str, Error> {
    json.pointer(pointer).and_then(Value::as_str).ok_or(Error::InvalidOptions(pointer))
}

/// The algorithms of the `public-key` entries of `pubKeyCredParams`.
///
/// An empty list means the client's defaults, ES256 and RS256 (WebAuthn §5.1.3, step 10).
fn algorithms(json: &Value) -> Result<Vec<i64>, Error> {
    const MEMBER: &str = "pubKeyCredParams";
    const DEFAULTS: [i64; 2] = [-7, -257];

    let params = json.get(MEMBER).and_then(Value::as_array).ok_or(Error::InvalidOptions(MEMBER))?;
    if params.is_empty() {
        return Ok(DEFAULTS.to_vec());
    }
    params
        .iter()
        .filter(|param| param.get("type").and_then(Value::as_str) == Some("public-key"))
        .map(|param| param.get("alg").and_then(Value::as_i64).ok_or(Error::InvalidOptions(MEMBER)))
        .collect()
}

/// The decoded ids of a list of credential descriptors; an absent or null list is empty.
fn credential_ids(json: &Value, member: &'static str) -> Result<Vec<Vec<u8>>, Error> {
    let descriptors = match json.get(member) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(list) => list.as_array().ok_or(Error::InvalidOptions(member))?,
    };
    descriptors
        .iter()
        .map(|descriptor| {
            let id = descriptor.get("id").and_then(Value::as_str).ok_or(Error::InvalidOptions(member))?;
            from_b64url(id)
        })
        .collect()
}
