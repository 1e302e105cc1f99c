//! Tests of the authenticator through its public API, checking its output the way a relying party would.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use ciborium::Value as Cbor;
use p256::ecdsa::signature::Verifier as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::{Algorithm, Error, SoftAuthenticator, Tweaks, b64url, from_b64url};

const RP_ID: &str = "example.com";
const ORIGIN: &str = "https://example.com";
const USER_ID: &[u8] = b"user-handle-1234";
const CREATE_CHALLENGE: &str = "cmVnaXN0cmF0aW9uLWNoYWxsZW5nZQ";
const GET_CHALLENGE: &str = "YXNzZXJ0aW9uLWNoYWxsZW5nZQ";

fn creation_options(exclude: &[String]) -> Value {
    json!({
        "rp": { "id": RP_ID, "name": "Example" },
        "user": { "id": b64url(USER_ID), "name": "ada", "displayName": "Ada" },
        "challenge": CREATE_CHALLENGE,
        "pubKeyCredParams": [
            { "type": "public-key", "alg": -7 },
            { "type": "public-key", "alg": -8 },
        ],
        "excludeCredentials": exclude
            .iter()
            .map(|id| json!({ "type": "public-key", "id": id }))
            .collect::<Vec<_>>(),
        "authenticatorSelection": { "residentKey": "required", "userVerification": "required" },
    })
}

fn request_options(allow: &[String]) -> Value {
    json!({
        "challenge": GET_CHALLENGE,
        "rpId": RP_ID,
        "allowCredentials": allow
            .iter()
            .map(|id| json!({ "type": "public-key", "id": id }))
            .collect::<Vec<_>>(),
        "userVerification": "required",
    })
}

/// Decodes a base64url member of `json` found by a JSON pointer.
fn bytes_at(json: &Value, pointer: &str) -> Vec<u8> {
    from_b64url(json.pointer(pointer).unwrap().as_str().unwrap()).unwrap()
}

fn client_data(credential: &Value) -> Value {
    serde_json::from_slice(&bytes_at(credential, "/response/clientDataJSON")).unwrap()
}

/// The fixed 37-byte head of authenticator data.
struct AuthDataHead {
    rp_id_hash: Vec<u8>,
    flags: u8,
    sign_count: u32,
}

fn head(auth_data: &[u8]) -> AuthDataHead {
    AuthDataHead {
        rp_id_hash: auth_data[..32].to_vec(),
        flags: auth_data[32],
        sign_count: u32::from_be_bytes(auth_data[33..37].try_into().unwrap()),
    }
}

fn assertion_head(assertion: &Value) -> AuthDataHead {
    head(&bytes_at(assertion, "/response/authenticatorData"))
}

fn map_get(map: &Cbor, key: impl Into<Cbor>) -> &Cbor {
    let key = key.into();
    let entries = map.as_map().unwrap();
    &entries.iter().find(|(k, _)| *k == key).unwrap().1
}

/// What a relying party reads out of a registration's attestation object.
struct Registered {
    auth_data: Vec<u8>,
    aaguid: Vec<u8>,
    credential_id: Vec<u8>,
    cose_key_bytes: Vec<u8>,
    cose_key: Cbor,
}

fn parse_registration(registration: &Value) -> Registered {
    let object: Cbor = ciborium::from_reader(bytes_at(registration, "/response/attestationObject").as_slice()).unwrap();
    assert_eq!(map_get(&object, "fmt"), &Cbor::from("none"));
    assert_eq!(map_get(&object, "attStmt"), &Cbor::Map(Vec::new()));
    let auth_data = map_get(&object, "authData").as_bytes().unwrap().clone();

    let id_len = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
    let credential_id = auth_data[55..55 + id_len].to_vec();
    let cose_key_bytes = auth_data[55 + id_len..].to_vec();
    let mut rest = cose_key_bytes.as_slice();
    let cose_key: Cbor = ciborium::from_reader(&mut rest).unwrap();
    assert!(rest.is_empty(), "bytes after the COSE key");
    Registered { aaguid: auth_data[37..53].to_vec(), auth_data, credential_id, cose_key_bytes, cose_key }
}

fn cose_bytes(cose_key: &Cbor, label: i64) -> Vec<u8> {
    map_get(cose_key, label).as_bytes().unwrap().clone()
}

fn signed_message(assertion: &Value) -> Vec<u8> {
    let auth_data = bytes_at(assertion, "/response/authenticatorData");
    let client_data = bytes_at(assertion, "/response/clientDataJSON");
    [auth_data, Sha256::digest(client_data).to_vec()].concat()
}

/// Verifies an assertion's signature with the public key read back out of the registration.
fn verify(registration: &Value, assertion: &Value) -> Result<(), p256::ecdsa::Error> {
    let key = parse_registration(registration).cose_key;
    let message = signed_message(assertion);
    let signature = bytes_at(assertion, "/response/signature");
    match registration["response"]["publicKeyAlgorithm"].as_i64() {
        Some(-7) => {
            let point = p256::EncodedPoint::from_affine_coordinates(
                cose_bytes(&key, -2).as_slice().into(),
                cose_bytes(&key, -3).as_slice().into(),
                false,
            );
            let verifying_key = p256::ecdsa::VerifyingKey::from_encoded_point(&point)?;
            let signature = p256::ecdsa::DerSignature::try_from(signature.as_slice())?;
            verifying_key.verify(&message, &signature)
        }
        Some(-8) => {
            let x: [u8; 32] = cose_bytes(&key, -2).try_into().unwrap();
            let verifying_key = ed25519_dalek::VerifyingKey::from_bytes(&x)?;
            let signature = ed25519_dalek::Signature::from_slice(&signature)?;
            verifying_key.verify_strict(&message, &signature)
        }
        other => panic!("unexpected publicKeyAlgorithm {other:?}"),
    }
}

/// An authenticator holding one credential for [`RP_ID`], and its registration.
fn registered(algorithm: Algorithm) -> (SoftAuthenticator, Value) {
    let mut authenticator = SoftAuthenticator::with_algorithm(algorithm);
    let registration = authenticator.create(&creation_options(&[]), ORIGIN).unwrap();
    (authenticator, registration)
}

#[test]
fn es256_registration_has_the_expected_shape() {
    let mut authenticator = SoftAuthenticator::new();
    authenticator.set_aaguid([7; 16]);
    let registration = authenticator.create(&creation_options(&[]), ORIGIN).unwrap();
    let parsed = parse_registration(&registration);

    assert_eq!(registration["type"], "public-key");
    assert_eq!(registration["id"], registration["rawId"]);
    assert_eq!(registration["authenticatorAttachment"], "platform");
    assert_eq!(registration["clientExtensionResults"], json!({}));
    assert_eq!(registration["response"]["transports"], json!(["internal"]));
    assert_eq!(registration["response"]["publicKeyAlgorithm"], -7);
    assert_eq!(bytes_at(&registration, "/response/authenticatorData"), parsed.auth_data);

    let head = head(&parsed.auth_data);
    assert_eq!(head.rp_id_hash, Sha256::digest(RP_ID).to_vec());
    assert_eq!(head.flags, 0x45, "UP | UV | AT");
    assert_eq!(head.sign_count, 0);
    assert_eq!(parsed.aaguid, [7; 16]);
    assert_eq!(parsed.credential_id.len(), 32);
    assert_eq!(parsed.credential_id, bytes_at(&registration, "/rawId"));
    assert_eq!(authenticator.credential_ids(), vec![parsed.credential_id]);
    assert_eq!(authenticator.credential_id_b64(0).unwrap(), registration["id"]);
    assert_eq!(authenticator.credential_id_b64(1), None);

    // Canonical CBOR: kty 2, alg -7, crv 1, then x and y as 32-byte strings.
    assert_eq!(parsed.cose_key_bytes[..10], [0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]);
    assert_eq!(parsed.cose_key_bytes[42..44], [0x22, 0x58]);
    assert_eq!(parsed.cose_key_bytes.len(), 77);
}

#[test]
fn client_data_json_is_what_a_browser_sends() {
    let (mut authenticator, registration) = registered(Algorithm::Es256);
    let raw = bytes_at(&registration, "/response/clientDataJSON");
    assert!(raw.starts_with(br#"{"type":"webauthn.create","#));
    assert_eq!(
        client_data(&registration),
        json!({
            "type": "webauthn.create",
            "challenge": CREATE_CHALLENGE,
            "origin": ORIGIN,
            "crossOrigin": false,
        })
    );

    let assertion = authenticator.get(&request_options(&[]), ORIGIN).unwrap();
    assert_eq!(
        client_data(&assertion),
        json!({
            "type": "webauthn.get",
            "challenge": GET_CHALLENGE,
            "origin": ORIGIN,
            "crossOrigin": false,
        })
    );
}

#[test]
fn es256_assertion_signature_verifies() {
    let (mut authenticator, registration) = registered(Algorithm::Es256);
    let assertion =
        authenticator.get(&request_options(&[registration["id"].as_str().unwrap().to_owned()]), ORIGIN).unwrap();

    assert_eq!(assertion["id"], registration["id"]);
    assert_eq!(assertion["rawId"], registration["id"]);
    assert_eq!(assertion["type"], "public-key");
    assert_eq!(bytes_at(&assertion, "/response/userHandle"), USER_ID);
    let head = assertion_head(&assertion);
    assert_eq!(head.rp_id_hash, Sha256::digest(RP_ID).to_vec());
    assert_eq!(head.flags, 0x05, "UP | UV");
    assert_eq!(bytes_at(&assertion, "/response/authenticatorData").len(), 37);
    verify(&registration, &assertion).unwrap();
}

#[test]
fn signatures_over_tampered_data_do_not_verify() {
    for algorithm in [Algorithm::Es256, Algorithm::EdDsa] {
        let (mut authenticator, registration) = registered(algorithm);
        let mut assertion = authenticator.get(&request_options(&[]), ORIGIN).unwrap();
        verify(&registration, &assertion).unwrap();

        let mut auth_data = bytes_at(&assertion, "/response/authenticatorData");
        auth_data[32] ^= 0x04;
        assertion["response"]["authenticatorData"] = json!(b64url(&auth_data));
        assert!(verify(&registration, &assertion).is_err(), "{algorithm}");
    }
}

#[test]
fn eddsa_registration_and_assertion_verify() {
    let (mut authenticator, registration) = registered(Algorithm::EdDsa);
    assert_eq!(registration["response"]["publicKeyAlgorithm"], -8);
    let parsed = parse_registration(&registration);
    // Canonical CBOR: kty 1, alg -8, crv 6, then x as a 32-byte string.
    assert_eq!(parsed.cose_key_bytes[..10], [0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20]);
    assert_eq!(parsed.cose_key_bytes.len(), 42);

    let assertion = authenticator.get(&request_options(&[]), ORIGIN).unwrap();
    assert_eq!(bytes_at(&assertion, "/response/signature").len(), 64);
    verify(&registration, &assertion).unwrap();
}

#[test]
fn counter_increases_by_the_step() {
    let (mut authenticator, _) = registered(Algorithm::Es256);
    let mut counts = Vec::new();
    for _ in 0..2 {
        let assertion = authenticator.get(&request_options(&[]), ORIGIN).unwrap();
        counts.push(assertion_head(&assertion).sign_count);
    }
    authenticator.set_counter_step(5);
    let assertion = authenticator.get(&request_options(&[]), ORIGIN).unwrap();
    counts.push(assertion_head(&assertion).sign_count);
    assert_eq!(counts, [1, 2, 7]);
}

#[test]
fn counter_step_zero_always_reports_zero() {
    let mut authenticator = SoftAuthenticator::new();
    authenticator.set_counter_step(0);
    authenticator.create(&creation_options(&[]), ORIGIN).unwrap();
    for _ in 0..3 {
        let assertion = authenticator.get(&request_options(&[]), ORIGIN).unwrap();
        assert_eq!(assertion_head(&assertion).sign_count, 0);
    }
}

#[test]
fn clones_share_the_counter_state_they_were_cloned_with() {
    let (mut original, _) = registered(Algorithm::Es256);
    original.get(&request_options(&[]), ORIGIN).unwrap();
    let mut copy = original.clone();
    original.get(&request_options(&[]), ORIGIN).unwrap();
    let from_copy = copy.get(&request_options(&[]), ORIGIN).unwrap();
    assert_eq!(assertion_head(&from_copy).sign_count, 2);
}

#[test]
fn allow_credentials_selects_the_listed_credential() {
    let (mut authenticator, _) = registered(Algorithm::Es256);
    let second = authenticator.create(&creation_options(&[]), ORIGIN).unwrap();
    let second_id = second["id"].as_str().unwrap().to_owned();

    let assertion = authenticator.get(&request_options(&[b64url(b"not held"), second_id]), ORIGIN).unwrap();
    assert_eq!(assertion["id"], second["id"]);
    verify(&second, &assertion).unwrap();
}

#[test]
fn allow_credentials_without_a_held_credential_is_refused() {
    let (mut authenticator, _) = registered(Algorithm::Es256);
    let err = authenticator.get(&request_options(&[b64url(&[9; 32])]), ORIGIN).unwrap_err();
    assert!(matches!(err, Error::NoCredential { ref rp_id } if rp_id == RP_ID), "{err}");
}

#[test]
fn discoverable_request_uses_the_first_credential_of_the_rp() {
    let mut authenticator = SoftAuthenticator::new();
    let mut other_rp = creation_options(&[]);
    other_rp["rp"]["id"] = json!("other.example");
    authenticator.create(&other_rp, "https://other.example").unwrap();
    let first = authenticator.create(&creation_options(&[]), ORIGIN).unwrap();
    authenticator.create(&creation_options(&[]), ORIGIN).unwrap();

    let mut options = request_options(&[]);
    options.as_object_mut().unwrap().remove("allowCredentials");
    let assertion = authenticator.get(&options, ORIGIN).unwrap();
    assert_eq!(assertion["id"], first["id"]);
}

#[test]
fn no_credential_for_the_rp_is_refused() {
    let mut authenticator = SoftAuthenticator::new();
    let err = authenticator.get(&request_options(&[]), ORIGIN).unwrap_err();
    assert!(matches!(err, Error::NoCredential { .. }), "{err}");
}

#[test]
fn exclude_credentials_with_a_held_credential_is_refused() {
    let (mut authenticator, registration) = registered(Algorithm::Es256);
    let held = registration["id"].as_str().unwrap().to_owned();
    let err = authenticator.create(&creation_options(&[held]), ORIGIN).unwrap_err();
    assert!(matches!(err, Error::CredentialExcluded), "{err}");
    assert!(err.to_string().contains("credential excluded"));
    assert_eq!(authenticator.credential_ids().len(), 1);

    authenticator.create(&creation_options(&[b64url(&[9; 32])]), ORIGIN).unwrap();
    assert_eq!(authenticator.credential_ids().len(), 2);
}

#[test]
fn an_algorithm_the_rp_does_not_offer_is_refused() {
    let mut options = creation_options(&[]);
    options["pubKeyCredParams"] = json!([{ "type": "public-key", "alg": -7 }]);
    let mut authenticator = SoftAuthenticator::with_algorithm(Algorithm::EdDsa);
    let err = authenticator.create(&options, ORIGIN).unwrap_err();
    assert!(matches!(err, Error::UnsupportedAlgorithm(Algorithm::EdDsa)), "{err}");
    assert!(authenticator.credential_ids().is_empty());
}

#[test]
fn webauthn_rs_public_key_wrapper_is_accepted() {
    let mut authenticator = SoftAuthenticator::new();
    let registration = authenticator.create(&json!({ "publicKey": creation_options(&[]) }), ORIGIN).unwrap();
    let assertion =
        authenticator.get(&json!({ "publicKey": request_options(&[]), "mediation": null }), ORIGIN).unwrap();
    verify(&registration, &assertion).unwrap();
}

#[test]
fn missing_members_are_reported_by_name() {
    let mut options = creation_options(&[]);
    options["user"].as_object_mut().unwrap().remove("id");
    let err = SoftAuthenticator::new().create(&options, ORIGIN).unwrap_err();
    assert!(matches!(err, Error::InvalidOptions("/user/id")), "{err}");
}

#[test]
fn flag_tweaks_change_the_flags_byte_and_still_sign() {
    let (mut authenticator, registration) = registered(Algorithm::Es256);
    let tweaks = Tweaks { user_verified: Some(false), user_present: Some(false), ..Tweaks::default() };
    let assertion = authenticator.get_with(&request_options(&[]), ORIGIN, &tweaks).unwrap();
    assert_eq!(assertion_head(&assertion).flags, 0x00);
    verify(&registration, &assertion).unwrap();

    authenticator.set_backup(true, true);
    let assertion = authenticator.get(&request_options(&[]), ORIGIN).unwrap();
    assert_eq!(assertion_head(&assertion).flags, 0x1d, "UP | UV | BE | BS");

    let tweaks = Tweaks { user_verified: Some(false), ..Tweaks::default() };
    let registration = authenticator.create_with(&creation_options(&[]), ORIGIN, &tweaks).unwrap();
    assert_eq!(head(&parse_registration(&registration).auth_data).flags, 0x59, "UP | BE | BS | AT");
}

#[test]
fn rp_id_tweak_changes_the_rp_id_hash_only() {
    let (mut authenticator, registration) = registered(Algorithm::EdDsa);
    let tweaks = Tweaks { rp_id: Some("evil.example".into()), ..Tweaks::default() };
    let assertion = authenticator.get_with(&request_options(&[]), ORIGIN, &tweaks).unwrap();
    assert_eq!(assertion_head(&assertion).rp_id_hash, Sha256::digest("evil.example").to_vec());
    verify(&registration, &assertion).unwrap();

    let registration = authenticator.create_with(&creation_options(&[]), ORIGIN, &tweaks).unwrap();
    let auth_data = parse_registration(&registration).auth_data;
    assert_eq!(head(&auth_data).rp_id_hash, Sha256::digest("evil.example").to_vec());
    // The credential still belongs to the options' RP.
    let tweaks = Tweaks { credential_id: Some(bytes_at(&registration, "/rawId")), ..Tweaks::default() };
    authenticator.get_with(&request_options(&[]), ORIGIN, &tweaks).unwrap();
}

#[test]
fn client_data_tweaks_change_client_data_and_still_sign() {
    let (mut authenticator, registration) = registered(Algorithm::Es256);
    let tweaks = Tweaks {
        origin: Some("https://evil.example".into()),
        cross_origin: true,
        client_data_type: Some("webauthn.create".into()),
        challenge: Some("b3RoZXI".into()),
        ..Tweaks::default()
    };
    let assertion = authenticator.get_with(&request_options(&[]), ORIGIN, &tweaks).unwrap();
    assert_eq!(
        client_data(&assertion),
        json!({
            "type": "webauthn.create",
            "challenge": "b3RoZXI",
            "origin": "https://evil.example",
            "crossOrigin": true,
        })
    );
    verify(&registration, &assertion).unwrap();

    let tweaks = Tweaks { client_data_type: Some("webauthn.get".into()), ..Tweaks::default() };
    let registration = authenticator.create_with(&creation_options(&[]), ORIGIN, &tweaks).unwrap();
    assert_eq!(client_data(&registration)["type"], "webauthn.get");
}

#[test]
fn sign_count_tweak_reports_exactly_and_keeps_the_stored_counter() {
    let (mut authenticator, registration) = registered(Algorithm::Es256);
    authenticator.get(&request_options(&[]), ORIGIN).unwrap();
    let tweaks = Tweaks { sign_count: Some(100), ..Tweaks::default() };
    let assertion = authenticator.get_with(&request_options(&[]), ORIGIN, &tweaks).unwrap();
    assert_eq!(assertion_head(&assertion).sign_count, 100);
    verify(&registration, &assertion).unwrap();

    let assertion = authenticator.get(&request_options(&[]), ORIGIN).unwrap();
    assert_eq!(assertion_head(&assertion).sign_count, 2);
}

#[test]
fn user_handle_tweaks() {
    let (mut authenticator, registration) = registered(Algorithm::Es256);
    let omit = Tweaks { omit_user_handle: true, ..Tweaks::default() };
    let assertion = authenticator.get_with(&request_options(&[]), ORIGIN, &omit).unwrap();
    assert!(assertion["response"].get("userHandle").is_none());
    verify(&registration, &assertion).unwrap();

    let replace = Tweaks { user_handle: Some(b"someone else".to_vec()), ..Tweaks::default() };
    let assertion = authenticator.get_with(&request_options(&[]), ORIGIN, &replace).unwrap();
    assert_eq!(bytes_at(&assertion, "/response/userHandle"), b"someone else");
}

#[test]
fn credential_id_tweak_overrides_allow_credentials() {
    let (mut authenticator, first) = registered(Algorithm::Es256);
    let second = authenticator.create(&creation_options(&[]), ORIGIN).unwrap();
    let tweaks = Tweaks { credential_id: Some(bytes_at(&second, "/rawId")), ..Tweaks::default() };
    let allow_first = request_options(&[first["id"].as_str().unwrap().to_owned()]);
    let assertion = authenticator.get_with(&allow_first, ORIGIN, &tweaks).unwrap();
    assert_eq!(assertion["id"], second["id"]);
    verify(&second, &assertion).unwrap();

    let unknown = Tweaks { credential_id: Some(vec![9; 32]), ..Tweaks::default() };
    let err = authenticator.get_with(&allow_first, ORIGIN, &unknown).unwrap_err();
    assert!(matches!(err, Error::NoCredential { .. }), "{err}");
}

#[test]
fn base64url_round_trips_without_padding() {
    let bytes = [0xfb, 0xff, 0x01];
    assert_eq!(b64url(&bytes), "-_8B");
    assert_eq!(b64url(b"ab"), "YWI");
    assert_eq!(from_b64url("YWI").unwrap(), b"ab");
    assert_eq!(from_b64url("YWI=").unwrap(), b"ab");
    assert!(matches!(from_b64url("YW+/"), Err(Error::Base64(_))));
}
