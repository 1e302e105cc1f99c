//! Credential key pairs: generation, COSE public keys and signatures.

use std::fmt;

use ciborium::Value;
#[cfg(not(feature = "openssl-signer"))]
use p256::ecdsa::DerSignature;
// One trait for both curves: p256 and ed25519-dalek share the `signature` crate.
use p256::ecdsa::signature::Signer as _;
use p256::elliptic_curve::sec1::Coordinates;
use rand::rngs::OsRng;

use crate::{Error, cbor};

/// The signature algorithm an authenticator creates its credentials with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA over P-256 with SHA-256 (COSE -7); signatures are ASN.1 DER.
    #[default]
    Es256,
    /// Ed25519 (COSE -8); signatures are the raw 64 bytes.
    EdDsa,
}

impl Algorithm {
    /// The COSE algorithm identifier, as in `pubKeyCredParams[].alg` and `publicKeyAlgorithm`.
    pub const fn cose_identifier(self) -> i64 {
        match self {
            Self::Es256 => -7,
            Self::EdDsa => -8,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        };
        write!(f, "{name} ({})", self.cose_identifier())
    }
}

/// The private key of one credential.
#[derive(Clone, Debug)]
pub(crate) enum KeyPair {
    Es256(Es256Key),
    EdDsa(ed25519_dalek::SigningKey),
}

/// An ES256 key. Its signatures come from RustCrypto's `p256`, an implementation independent of the
/// OpenSSL that verifies them on the server. With the `openssl-signer` feature (the load generator,
/// whose CPU shares the benchmark machine with the server) they come from OpenSSL instead, which
/// signs ~4x faster here; the key and the signatures' form are the same.
#[derive(Clone, Debug)]
pub(crate) struct Es256Key {
    key: p256::ecdsa::SigningKey,
    #[cfg(feature = "openssl-signer")]
    openssl: openssl::pkey::PKey<openssl::pkey::Private>,
}

impl Es256Key {
    fn generate() -> Result<Self, Error> {
        let key = p256::ecdsa::SigningKey::random(&mut OsRng);
        #[cfg(feature = "openssl-signer")]
        let openssl = fast::private_key(&key)?;
        Ok(Self {
            key,
            #[cfg(feature = "openssl-signer")]
            openssl,
        })
    }

    #[cfg(not(feature = "openssl-signer"))]
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let signature: DerSignature = self.key.try_sign(message).map_err(|err| Error::Crypto(err.to_string()))?;
        Ok(signature.as_bytes().to_vec())
    }

    #[cfg(feature = "openssl-signer")]
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        fast::sign(&self.openssl, message)
    }
}

#[cfg(feature = "openssl-signer")]
mod fast {
    use openssl::bn::{BigNum, BigNumContext};
    use openssl::ec::{EcGroup, EcKey, EcPoint};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::{PKey, Private};
    use openssl::sign::Signer;

    use crate::Error;

    fn crypto(err: openssl::error::ErrorStack) -> Error {
        Error::Crypto(err.to_string())
    }

    /// The same private key, as OpenSSL's.
    pub(super) fn private_key(key: &p256::ecdsa::SigningKey) -> Result<PKey<Private>, Error> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(crypto)?;
        let secret = BigNum::from_slice(&key.to_bytes()).map_err(crypto)?;
        let public = key.verifying_key().to_encoded_point(false);
        let mut context = BigNumContext::new().map_err(crypto)?;
        let point = EcPoint::from_bytes(&group, public.as_bytes(), &mut context).map_err(crypto)?;
        let pair = EcKey::from_private_components(&group, &secret, &point).map_err(crypto)?;
        PKey::from_ec_key(pair).map_err(crypto)
    }

    /// ECDSA over SHA-256 of `message`, DER-encoded.
    pub(super) fn sign(key: &PKey<Private>, message: &[u8]) -> Result<Vec<u8>, Error> {
        Signer::new(MessageDigest::sha256(), key).and_then(|mut s| s.sign_oneshot_to_vec(message)).map_err(crypto)
    }
}

impl KeyPair {
    /// A fresh random key for `algorithm`.
    pub(crate) fn generate(algorithm: Algorithm) -> Result<Self, Error> {
        Ok(match algorithm {
            Algorithm::Es256 => Self::Es256(Es256Key::generate()?),
            Algorithm::EdDsa => Self::EdDsa(ed25519_dalek::SigningKey::generate(&mut OsRng)),
        })
    }

    /// The algorithm this key signs with.
    pub(crate) fn algorithm(&self) -> Algorithm {
        match self {
            Self::Es256(_) => Algorithm::Es256,
            Self::EdDsa(_) => Algorithm::EdDsa,
        }
    }

    /// The public key as a CBOR-encoded COSE key, as it appears in attested credential data.
    pub(crate) fn cose_public_key(&self) -> Result<Vec<u8>, Error> {
        // kty (1), alg (3), crv (-1), x (-2), y (-3): labels from RFC 9053.
        let alg = Value::from(self.algorithm().cose_identifier());
        let key = match self {
            Self::Es256(key) => {
                let point = key.key.verifying_key().to_encoded_point(false);
                let Coordinates::Uncompressed { x, y } = point.coordinates() else {
                    return Err(Error::Crypto("P-256 public key is not a finite point".into()));
                };
                cbor::int_map([
                    (1, Value::from(2)), // EC2
                    (3, alg),
                    (-1, Value::from(1)), // P-256
                    (-2, Value::Bytes(x.to_vec())),
                    (-3, Value::Bytes(y.to_vec())),
                ])
            }
            Self::EdDsa(key) => cbor::int_map([
                (1, Value::from(1)), // OKP
                (3, alg),
                (-1, Value::from(6)), // Ed25519
                (-2, Value::Bytes(key.verifying_key().to_bytes().to_vec())),
            ]),
        };
        cbor::to_vec(&key)
    }

    /// Signs `message`: a DER-encoded ECDSA signature for ES256, the raw 64 bytes for EdDSA.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Self::Es256(key) => key.sign(message),
            Self::EdDsa(key) => Ok(key.sign(message).to_bytes().to_vec()),
        }
    }
}
