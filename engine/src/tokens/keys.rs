//! Signing keys: the asymmetric keys that sign Latchkey's tokens, shared by every instance through the
//! database and published at `/.well-known/jwks.json`.
//!
//! Per algorithm ([`ALGORITHMS`]: ES256 signs access tokens, RS256 is there for OpenID Connect ID
//! tokens) the database holds a *current* key, which signs; a *next* key, published a whole rotation
//! period before it signs anything, so every verifier has it cached by then; and *retired* keys,
//! published until every token they signed has expired. A rotation (the `keys rotate` command, or the
//! schedule, [`rotate_due`]) retires the current key, promotes the next and makes a new next, so no
//! live token ever stops verifying. Every instance re-reads the keys every [`RELOAD_EVERY`], and at
//! once when it meets a `kid` it does not know ([`KeyRing::reload_if_stale`]).
//!
//! A key's `kid` is its RFC 7638 thumbprint. Private keys are sealed with AES-256-GCM under a key
//! derived from `LATCHKEY_OPERATOR_SECRET` (`sealed.rs`), the `kid` bound as associated data so a
//! sealed key cannot be passed off as another; they are opened only into this process's memory and
//! no type holding them prints them (`Debug` shows the `kid`).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::Serialize;

use crate::base::clock;
use crate::base::error::Error;
use crate::base::sealed::{Purpose, Sealer};
use crate::base::types::Secret;
use crate::db::Db;
use crate::db::signing_keys::{self, CURRENT, KeyInfo, KeyRow, NEXT, NewKeyRow};

/// The algorithms Latchkey signs with, each with its own keys.
pub const ALGORITHMS: [Algorithm; 2] = [Algorithm::ES256, Algorithm::RS256];
/// How often every instance re-reads the keys, so a rotation elsewhere reaches it.
pub const RELOAD_EVERY: Duration = Duration::from_secs(30);
/// An unknown `kid` re-reads the keys at most this often (a stream of made-up `kid`s costs one read).
const RELOAD_ON_MISS_AFTER: i64 = 5;
/// Clock skew allowed to verifiers, added to how long a retired key stays published.
const SKEW: i64 = 60;

/// Why the keys could not be opened or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A sealed key does not open with this operator secret.
    #[error(
        "the signing key {0} in the database cannot be decrypted with LATCHKEY_OPERATOR_SECRET (is it the secret they were made with?)"
    )]
    Sealed(String),
    /// The database could not be read or written.
    #[error("the signing keys could not be read or stored: {0}")]
    Database(#[from] sqlx::Error),
    /// A key could not be generated or parsed.
    #[error("a signing key could not be made: {0}")]
    Crypto(String),
}

impl From<KeyError> for Error {
    fn from(err: KeyError) -> Self {
        match err {
            KeyError::Database(db) => Self::from(db),
            other => Self::internal(other),
        }
    }
}

/// A freshly generated key pair: its public JWK (with `kid`) and the private key in the DER form
/// jsonwebtoken reads (PKCS#8 for EC, PKCS#1 for RSA).
struct Generated {
    kid: String,
    jwk: Jwk,
    private_der: Vec<u8>,
}

impl Generated {
    fn new(alg: Algorithm) -> Result<Self, KeyError> {
        let crypto = |what: &str| KeyError::Crypto(format!("{alg:?}: {what}"));
        let private_der = match alg {
            Algorithm::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|pair| pair.to_pkcs8v1())
                .map_err(|_| crypto("generation failed"))?
                .as_ref()
                .to_vec(),
            Algorithm::RS256 => {
                let pkcs8 = RsaKeyPair::generate(KeySize::Rsa2048)
                    .and_then(|pair| pair.as_der())
                    .map_err(|_| crypto("generation failed"))?;
                // jsonwebtoken's RSA signer takes the PKCS#1 key that PKCS#8 wraps.
                pkcs8::PrivateKeyInfo::try_from(pkcs8.as_ref()).map_err(|_| crypto("PKCS#8"))?.private_key.to_vec()
            }
            _ => return Err(crypto("not an algorithm Latchkey signs with")),
        };
        let mut jwk = Jwk::from_encoding_key(&encoding_key(alg, &private_der), alg)
            .map_err(|e| crypto(&format!("public key: {e}")))?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256);
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Self { kid, jwk, private_der })
    }
}

fn encoding_key(alg: Algorithm, der: &[u8]) -> EncodingKey {
    match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_der(der),
        _ => EncodingKey::from_ec_der(der),
    }
}

/// A current key, ready to sign.
struct SigningKey {
    kid: String,
    key: EncodingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// A published key, ready to verify.
pub struct VerifyingKey {
    /// The algorithm the key is for; a token naming another is refused.
    pub alg: Algorithm,
    /// The public key.
    pub key: DecodingKey,
}

/// What one read of the database gave.
struct Loaded {
    signing: HashMap<Algorithm, SigningKey>,
    verifying: HashMap<String, Arc<VerifyingKey>>,
    jwks: JwkSet,
    /// When this read was made (Unix seconds): an unknown `kid` re-reads only if it is a few seconds old.
    read_at: i64,
}

impl Loaded {
    fn empty(read_at: i64) -> Self {
        Self { signing: HashMap::new(), verifying: HashMap::new(), jwks: JwkSet { keys: Vec::new() }, read_at }
    }
}

/// The signing keys as this instance last read them, and the way to read them again.
pub struct KeyRing {
    db: Db,
    sealer: Sealer,
    /// A retired key stays published this long (the longest token lifetime, plus reload and skew).
    keep_retired: i64,
    loaded: RwLock<Arc<Loaded>>,
    /// Held while an unknown `kid` re-reads the keys, so a burst of them costs one read, not one each.
    rereading: tokio::sync::Mutex<()>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<String> = self.current().verifying.keys().cloned().collect();
        f.debug_struct("KeyRing").field("published", &kids).finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Opens the keys in `db`, first making the current and next key of each algorithm if there are
    /// none yet (at the first start; concurrent first starts agree through the unique indexes).
    /// `longest_token_ttl` is the longest lifetime of any token these keys sign.
    pub async fn open(
        db: Db,
        operator_secret: &Secret,
        longest_token_ttl: Duration,
        now: i64,
    ) -> Result<Self, KeyError> {
        let ttl = i64::try_from(longest_token_ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let reload = i64::try_from(RELOAD_EVERY.as_secs()).unwrap_or(0);
        let ring = Self {
            db,
            sealer: Sealer::new(operator_secret, Purpose::SigningKeysAtRest),
            keep_retired: ttl.saturating_add(reload).saturating_add(SKEW),
            loaded: RwLock::new(Arc::new(Loaded::empty(0))),
            rereading: tokio::sync::Mutex::new(()),
        };
        ring.fill_vacancies(now).await?;
        ring.reload(now).await?;
        Ok(ring)
    }

    /// Makes the current or next key of any algorithm that lacks one.
    async fn fill_vacancies(&self, now: i64) -> Result<(), KeyError> {
        let rows = signing_keys::published(&self.db, now).await?;
        for alg in ALGORITHMS {
            for state in [CURRENT, NEXT] {
                if !rows.iter().any(|row| row.info.alg == alg_name(alg) && row.info.state == state) {
                    let key = self.generate(alg).await?;
                    signing_keys::insert_if_vacant(&self.db, &key.row(), state, now).await?;
                }
            }
        }
        Ok(())
    }

    async fn generate(&self, alg: Algorithm) -> Result<SealedKey, KeyError> {
        // RSA generation takes tens of milliseconds: off the async threads.
        let generated = tokio::task::spawn_blocking(move || Generated::new(alg))
            .await
            .map_err(|e| KeyError::Crypto(e.to_string()))??;
        let public_jwk = serde_json::to_string(&generated.jwk).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let sealed_private_key = self
            .sealer
            .seal(&generated.kid, &generated.private_der)
            .ok_or_else(|| KeyError::Crypto("sealing failed".into()))?;
        Ok(SealedKey { kid: generated.kid, alg: alg_name(alg), public_jwk, sealed_private_key })
    }

    /// Reads the published keys again and opens the current ones.
    pub async fn reload(&self, now: i64) -> Result<(), KeyError> {
        let rows = signing_keys::published(&self.db, now).await?;
        let loaded = self.load(&rows, now)?;
        *self.loaded.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(loaded);
        Ok(())
    }

    /// Reloads unless the keys were read within the last few seconds; for a `kid` not (yet) known.
    pub async fn reload_if_stale(&self, now: i64) -> Result<(), KeyError> {
        // Callers that arrive during a re-read wait for it, then find the keys fresh.
        let _rereading = self.rereading.lock().await;
        if now - self.current().read_at < RELOAD_ON_MISS_AFTER {
            return Ok(());
        }
        self.reload(now).await
    }

    fn load(&self, rows: &[KeyRow], now: i64) -> Result<Loaded, KeyError> {
        let mut loaded = Loaded::empty(now);
        for row in rows {
            let Some(alg) = ALGORITHMS.into_iter().find(|alg| alg_name(*alg) == row.info.alg) else {
                continue;
            };
            let jwk: Jwk = serde_json::from_str(&row.public_jwk)
                .map_err(|e| KeyError::Crypto(format!("stored public key {}: {e}", row.info.kid)))?;
            let key = DecodingKey::from_jwk(&jwk).map_err(|e| KeyError::Crypto(format!("{}: {e}", row.info.kid)))?;
            loaded.verifying.insert(row.info.kid.clone(), Arc::new(VerifyingKey { alg, key }));
            loaded.jwks.keys.push(jwk);
            if row.info.state == CURRENT {
                let der = self
                    .sealer
                    .open(&row.info.kid, &row.sealed_private_key)
                    .map_err(|_| KeyError::Sealed(row.info.kid.clone()))?;
                loaded.signing.insert(alg, SigningKey { kid: row.info.kid.clone(), key: encoding_key(alg, &der) });
            }
        }
        if let Some(alg) = ALGORITHMS.into_iter().find(|alg| !loaded.signing.contains_key(alg)) {
            return Err(KeyError::Crypto(format!("no current {} key in the database", alg_name(alg))));
        }
        Ok(loaded)
    }

    fn current(&self) -> Arc<Loaded> {
        self.loaded.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Signs `claims` with the current key of `alg`, naming it in the header's `kid`.
    pub fn sign(&self, alg: Algorithm, typ: &str, claims: &impl Serialize) -> Result<String, Error> {
        let loaded = self.current();
        let signing = loaded.signing.get(&alg).ok_or_else(|| Error::internal(format!("no {alg:?} key")))?;
        let mut header = Header::new(alg);
        header.kid = Some(signing.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &signing.key).map_err(Error::internal)
    }

    /// The published key with this `kid`, if this instance knows it.
    pub fn verifying_key(&self, kid: &str) -> Option<Arc<VerifyingKey>> {
        self.current().verifying.get(kid).cloned()
    }

    /// The published key named `kid`; an unknown `kid` re-reads the keys once (another instance may
    /// have rotated, [`KeyRing::reload_if_stale`]) before it is `None`.
    pub async fn find(&self, kid: &str, now: i64) -> Result<Option<Arc<VerifyingKey>>, Error> {
        if let Some(key) = self.verifying_key(kid) {
            return Ok(Some(key));
        }
        self.reload_if_stale(now).await?;
        Ok(self.verifying_key(kid))
    }

    /// The public keys to publish: current, next and retired, of every algorithm.
    pub fn jwks(&self) -> JwkSet {
        self.current().jwks.clone()
    }

    /// The `kid` of the key now signing for `alg`.
    pub fn current_kid(&self, alg: Algorithm) -> Option<String> {
        self.current().signing.get(&alg).map(|key| key.kid.clone())
    }

    /// Rotates every algorithm now (the `keys rotate` command); returns the new current `kid`s.
    pub async fn rotate_now(&self, now: i64) -> Result<Vec<String>, KeyError> {
        for alg in ALGORITHMS {
            self.rotate(alg, now, now).await?;
        }
        self.reload(now).await?;
        Ok(ALGORITHMS.into_iter().filter_map(|alg| self.current_kid(alg)).collect())
    }

    /// Rotates `alg` if its current key became current at or before `due`; false if it did not.
    async fn rotate(&self, alg: Algorithm, due: i64, now: i64) -> Result<bool, KeyError> {
        self.fill_vacancies(now).await?;
        let new_next = self.generate(alg).await?;
        let publish_until = now.saturating_add(self.keep_retired);
        let rotated = signing_keys::rotate(&self.db, alg_name(alg), due, &new_next.row(), publish_until, now).await?;
        if rotated {
            tracing::info!(alg = alg_name(alg), "signing key rotated");
        }
        Ok(rotated)
    }

    /// Every key in the database that is still published, for `keys list`.
    pub async fn summaries(&self, now: i64) -> Result<Vec<KeyInfo>, KeyError> {
        Ok(signing_keys::published(&self.db, now).await?.into_iter().map(|row| row.info).collect())
    }
}

/// A generated key, sealed, before it is stored.
struct SealedKey {
    kid: String,
    alg: &'static str,
    public_jwk: String,
    sealed_private_key: String,
}

impl SealedKey {
    fn row(&self) -> NewKeyRow<'_> {
        NewKeyRow {
            kid: &self.kid,
            alg: self.alg,
            public_jwk: &self.public_jwk,
            sealed_private_key: &self.sealed_private_key,
        }
    }
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => "RS256",
        _ => "ES256",
    }
}

/// The schedule: rotates each algorithm whose current key has signed for `every`, deletes retired
/// keys past their publication, and reloads. Run by housekeeping on every instance; the database
/// decides which instance rotates.
pub async fn rotate_due(ring: &KeyRing, every: Duration, now: i64) -> Result<(), KeyError> {
    let due = now.saturating_sub(i64::try_from(every.as_secs()).unwrap_or(i64::MAX));
    let rows = signing_keys::published(&ring.db, now).await?;
    for alg in ALGORITHMS {
        // Only then make a new key (RSA generation costs tens of milliseconds of CPU).
        let is_due = rows.iter().any(|row| {
            row.info.alg == alg_name(alg)
                && row.info.state == CURRENT
                && row.info.activated_at.is_some_and(|at| at <= due)
        });
        if is_due {
            ring.rotate(alg, due, now).await?;
        }
    }
    signing_keys::prune(&ring.db, now).await?;
    ring.reload(now).await
}

/// Re-reads the keys every [`RELOAD_EVERY`], in the background.
pub fn reload_periodically(ring: Arc<KeyRing>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(RELOAD_EVERY);
        every.tick().await;
        loop {
            every.tick().await;
            if let Err(error) = ring.reload(clock::now()).await {
                tracing::warn!(%error, "signing keys not reloaded; keeping the ones read before");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_named_by_their_rfc7638_thumbprint() {
        for alg in ALGORITHMS {
            let key = Generated::new(alg).unwrap();
            assert_eq!(key.jwk.common.key_id.as_deref(), Some(key.kid.as_str()));
            assert_eq!(key.kid.len(), 43, "base64url of a SHA-256 digest");
            let token = jsonwebtoken::encode(
                &Header::new(alg),
                &serde_json::json!({"sub": "x", "exp": clock::now() + 60}),
                &encoding_key(alg, &key.private_der),
            )
            .unwrap();
            let mut validation = jsonwebtoken::Validation::new(alg);
            validation.validate_aud = false;
            let decoding = DecodingKey::from_jwk(&key.jwk).unwrap();
            assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).is_ok());
        }
    }

    #[test]
    fn an_rfc7638_thumbprint_matches_the_rfc_example() {
        // RFC 7638 §3.1: this RSA key's thumbprint is NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs.
        let jwk: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        }))
        .unwrap();
        assert_eq!(jwk.thumbprint(ThumbprintHash::SHA256), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn private_keys_never_print() {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let key = Generated::new(Algorithm::ES256).unwrap();
        let signing = SigningKey { kid: key.kid.clone(), key: encoding_key(Algorithm::ES256, &key.private_der) };
        let printed = format!("{signing:?}");
        assert!(printed.contains(&key.kid));
        let der_b64 = URL_SAFE_NO_PAD.encode(&key.private_der);
        assert!(!printed.contains(&der_b64[..16]) && !printed.contains("content"), "{printed}");
    }
}
