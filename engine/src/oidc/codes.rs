//! Authorization codes of the OpenID Connect provider: what `/authorize` hands the app's browser and
//! the app's server exchanges at the token endpoint. A code is 32 random bytes, stored only as its
//! SHA-256, valid for [`CODE_TTL`] seconds, and redeemable once, by the client it was issued to, with
//! the same redirect URI and the PKCE verifier of its challenge (RFC 6749 §4.1.3, RFC 7636 §4.6).
//! Any refused redemption still uses the code up. A code presented again means it was copied, so the
//! sign-in its first redemption started is ended (RFC 6749 §4.1.2, RFC 9700 §4.2.4). The codes
//! live in the database, so one instance may issue a code and another redeem it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::base::error::Error;
use crate::base::types::{SignInId, constant_time_eq};
use crate::db::Db;
use crate::db::authorization_codes;
use crate::sign_in::{self, Which};
use crate::tokens::secret::stored_hash;

/// How long a code may wait for its exchange (RFC 6749 §4.1.2 recommends at most ten minutes; an
/// app's server exchanges it within a second).
pub const CODE_TTL: i64 = 60;

pub use crate::db::authorization_codes::Grant;

/// A redemption as the token endpoint receives it.
#[derive(Debug)]
pub struct Exchange<'a> {
    /// The code.
    pub code: &'a str,
    /// The authenticated client.
    pub client_id: &'a str,
    /// The `redirect_uri` parameter of the token request.
    pub redirect_uri: &'a str,
    /// The PKCE `code_verifier`, when sent.
    pub code_verifier: Option<&'a str>,
}

/// Why a code was not exchanged: every case is `invalid_grant` to the app, with this sentence as
/// its `error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Never issued.
    #[error("unknown code")]
    Unknown,
    /// Already redeemed (and the sign-in it started is now ended).
    #[error("code used twice")]
    Replayed,
    /// Older than its lifetime.
    #[error("code expired")]
    Expired,
    /// Issued to another client.
    #[error("code issued to another client")]
    WrongClient,
    /// The redirect URI differs from the authorization request's.
    #[error("redirect_uri differs from the authorization request")]
    WrongRedirectUri,
    /// The request had a PKCE challenge and no verifier came.
    #[error("code_verifier missing")]
    MissingVerifier,
    /// The verifier does not match the challenge (or is malformed).
    #[error("code_verifier does not match")]
    WrongVerifier,
    /// A verifier came for a request that had no challenge (a PKCE downgrade, RFC 9700 §4.8.2).
    #[error("code_verifier without a code_challenge")]
    UnexpectedVerifier,
}

/// Issues a code for `grant`; the code itself is returned, only its hash is stored.
pub async fn issue(db: &Db, grant: &Grant, now: i64) -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let code = URL_SAFE_NO_PAD.encode(bytes);
    authorization_codes::insert(db, &stored_hash(&code), grant, now.saturating_add(CODE_TTL), now).await?;
    Ok(code)
}

/// Redeems a code, in the transaction of the change that records the sign-in it starts: uses it
/// up, then checks its expiry, client, redirect URI and PKCE verifier. `starts` is the id of that
/// sign-in; it is written with the code, so a later replay finds the sign-in to end. A replay that
/// comes while the redemption's change is open waits for it (the code's row is locked, or on
/// SQLite the database) and then finds its sign-in committed. A refused code is used up all the
/// same: the caller commits the change either way.
pub async fn redeem(
    conn: &mut AnyConnection,
    exchange: &Exchange<'_>,
    starts: &SignInId,
    now: i64,
) -> Result<Result<Grant, Refusal>, Error> {
    let code_hash = stored_hash(exchange.code);
    let Some(taken) = authorization_codes::take(&mut *conn, &code_hash, starts, now).await? else {
        return match authorization_codes::issued_sign_in(&mut *conn, &code_hash).await? {
            None => Ok(Err(Refusal::Unknown)),
            Some(issued) => {
                if let Some(sign_in_id) = issued {
                    tracing::warn!(%sign_in_id, client_id = exchange.client_id, "authorization code replayed; ending its sign-in");
                    sign_in::end(&mut *conn, Which::One(&sign_in_id), now).await?;
                }
                Ok(Err(Refusal::Replayed))
            }
        };
    };
    let grant = taken.grant;
    let refusal = if taken.expires_at <= now {
        Some(Refusal::Expired)
    } else if grant.client_id != exchange.client_id {
        Some(Refusal::WrongClient)
    } else if grant.redirect_uri != exchange.redirect_uri {
        Some(Refusal::WrongRedirectUri)
    } else {
        pkce(grant.code_challenge.as_deref(), exchange.code_verifier).err()
    };
    Ok(match refusal {
        Some(refusal) => Err(refusal),
        None => Ok(grant),
    })
}

/// RFC 7636 §4.6 with S256, the only method offered: `BASE64URL(SHA256(verifier)) == challenge`.
fn pkce(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), Refusal> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(Refusal::UnexpectedVerifier),
        (Some(_), None) => Err(Refusal::MissingVerifier),
        (Some(challenge), Some(verifier)) => {
            // §4.1: 43 to 128 characters of the unreserved set.
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if well_formed && constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
                Ok(())
            } else {
                Err(Refusal::WrongVerifier)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_the_rfc_7636_example() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(pkce(Some(challenge), Some(verifier)), Ok(()));
        assert_eq!(pkce(Some(challenge), Some(&verifier.replace('d', "e"))), Err(Refusal::WrongVerifier));
        assert_eq!(pkce(Some(challenge), Some("short")), Err(Refusal::WrongVerifier));
        assert_eq!(pkce(Some(challenge), None), Err(Refusal::MissingVerifier));
        assert_eq!(pkce(None, Some(verifier)), Err(Refusal::UnexpectedVerifier));
        assert_eq!(pkce(None, None), Ok(()));
    }
}
