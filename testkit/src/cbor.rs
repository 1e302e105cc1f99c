//! The little CBOR the authenticator writes: COSE keys and the "none" attestation object.
//!
//! Map entries are listed in CTAP2 canonical order (shorter encodings first, then bytewise), which
//! ciborium keeps as given.

use ciborium::Value;

use crate::Error;

/// Encodes one CBOR value.
pub(crate) fn to_vec(value: &Value) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes).map_err(|err| Error::Cbor(err.to_string()))?;
    Ok(bytes)
}

/// A map with integer keys, as COSE keys use.
pub(crate) fn int_map(entries: impl IntoIterator<Item = (i64, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(key, value)| (Value::from(key), value)).collect())
}

/// The attestation object of the "none" format: `{"fmt": "none", "attStmt": {}, "authData": ..}`.
pub(crate) fn none_attestation_object(auth_data: &[u8]) -> Result<Vec<u8>, Error> {
    to_vec(&Value::Map(vec![
        (Value::from("fmt"), Value::from("none")),
        (Value::from("attStmt"), Value::Map(Vec::new())),
        (Value::from("authData"), Value::Bytes(auth_data.to_vec())),
    ]))
}
