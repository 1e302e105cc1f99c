//! A sign-in: one proof of who someone is — a passkey, a password, a recovery link's new passkey, or
//! an app's authorization code redeemed — and what continues it until it ends. REST clients
//! continue it with rotating refresh tokens; the portal's browser session holds its id; an app's
//! sign-in hangs off the portal sign-in that answered the app, and ends with it when the user ends
//! that one from their list.
//!
//! | file | does |
//! |---|---|
//! | [`start`] | [`start()`] one, made [`How`]; [`start_with_tokens`] for a REST client |
//! | [`refresh`] | refresh tokens: issued, used once and rotated; a reused one ends its sign-in |
//! | [`end`] | [`end()`], the one verb that ends sign-ins; [`Which`] says which |
//! | [`list`] | a user's sign-ins, listed, and ended by the user (with their record) |
//! | [`recent`] | [`Recent`]: proof of a sign-in made within the re-authentication window |
//!
//! The passkey sign-in, the hot path, starts its sign-in in one batch with the passkey's use and
//! its record (`db/passkey_sign_in.rs`, written by `passkeys/ceremony/authentication.rs`); every other sign-in starts here.
//! Access and ID tokens are minted without SQL (`tokens/jwt.rs`, `oidc/token.rs`).

pub mod end;
pub mod list;
pub mod recent;
pub mod refresh;
pub mod start;

pub use end::{Which, end, end_others_in};
pub use recent::Recent;
pub use start::{How, start, start_with_tokens};

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::base::types::{SignInId, UserId};
use crate::db::Db;
use crate::notify::Notify;
use crate::tokens::clients::Clients;

/// The wing's handle: what listing and ending a user's sign-ins, and judging how recent one is,
/// need. Cheap to clone.
#[derive(Clone)]
pub struct SignIns {
    /// The database.
    pub db: Db,
    /// Changes, with their records.
    pub notify: Notify,
    /// The apps, by whose names their sign-ins are listed.
    pub clients: Arc<Clients>,
    /// How long ago a sign-in may have been made and still count as [`Recent`].
    pub reauth_window: Duration,
    /// How long a sign-in lasts at most, from its start (`LATCHKEY_SESSION_MAX_AGE_SECS`).
    pub max_age: Duration,
}

impl SignIns {
    /// Whether a sign-in started at `started_at` is past [`SignIns::max_age`] at `now`.
    pub fn too_old(&self, started_at: i64, now: i64) -> bool {
        past_max_age(self.max_age, started_at, now)
    }
}

/// Whether a sign-in started at `started_at` has lived `max_age` or longer at `now`.
pub fn past_max_age(max_age: Duration, started_at: i64, now: i64) -> bool {
    started_at.saturating_add(i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX)) <= now
}

/// The sign-in a browser session holds (the portal keeps it in the cookie session, `http/portal.rs`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionUser {
    /// User id.
    pub user_id: UserId,
    /// The sign-in this session continues; signing out ends it.
    #[serde(alias = "family_id")] // sessions stored before the rename stay signed in
    pub sign_in_id: SignInId,
}

/// A browser session ends after a week without requests; so does its place in the list of sign-ins.
pub const SESSION_IDLE_LIFETIME_SECS: i64 = 7 * 24 * 3600;
