//! Passkeys: the four WebAuthn ceremonies, narrated step by step ([`ceremony`]); where their state
//! waits between *begin* and *complete* ([`challenge`], in memory or Redis); the authenticators'
//! names ([`aaguid`]); the credential ids a sign-in names for an email without passkeys
//! ([`stand_in`]); and a user's passkeys listed, renamed and deleted ([`manage`]).
//! [`RelyingParty`] is the wing's handle.

pub mod aaguid;
pub mod ceremony;
pub mod challenge;
pub mod manage;
pub mod stand_in;

use std::sync::Arc;
use std::time::Duration;

use webauthn_rs::Webauthn;

use aaguid::AuthenticatorNames;
use challenge::ChallengeStore;
use stand_in::StandIns;

use crate::base::config::SignUp;
use crate::db::Db;
use crate::notify::Notify;
use crate::tokens::TokenKeys;

/// The WebAuthn relying party: webauthn-rs configured with the RP ID and origins, where ceremony
/// state waits between *begin* and *complete*, the authenticators' names, and the limits. Cheap
/// to clone.
#[derive(Clone)]
pub struct RelyingParty {
    /// The database.
    pub db: Db,
    /// Changes, with their mail and records, and the sign-in batch's consequences.
    pub notify: Notify,
    /// webauthn-rs, configured.
    pub webauthn: Arc<Webauthn>,
    /// Ceremony state between begin and complete.
    pub challenges: Arc<dyn ChallengeStore>,
    /// AAGUID → authenticator names.
    pub authenticators: Arc<AuthenticatorNames>,
    /// Access and refresh tokens, for a REST client's first pair.
    pub tokens: Arc<TokenKeys>,
    /// How long a ceremony may take (`LATCHKEY_CHALLENGE_TTL_SECS`).
    pub challenge_ttl: Duration,
    /// The most passkeys one account may have (`LATCHKEY_MAX_PASSKEYS`).
    pub max_passkeys: usize,
    /// The credential ids a sign-in lists for an email without passkeys.
    pub stand_ins: Arc<StandIns>,
    /// Who may make an account with a passkey (`LATCHKEY_SIGN_UP`).
    pub sign_up: SignUp,
}
