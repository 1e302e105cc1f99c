//! Latchkey's engine: everything that runs only on the server — accounts, the WebAuthn ceremonies,
//! tokens, the challenge store, browser sign-ins and the database — with no Leptos in it.
//!
//! The REST handlers (`server/src/rest.rs`) and the portal's server functions (`app/src/server_fns.rs`)
//! are thin doors into the functions here: each extracts its input and the caller, calls one
//! function, and answers. The wings, from the bottom up (none imports one listed after it):
//!
//! | wing | owns |
//! |---|---|
//! | [`base`] | the one [`Error`] enum; parsed values and typed ids; Unix seconds; the metrics; the [`Config`]; sealing under the operator secret |
//! | [`db`] | the pool and the queries, one file per table; each function on the pool or a change's transaction |
//! | [`tokens`] | access tokens (JWT) minted and checked without SQL; the signing keys; the OpenID Connect clients; Argon2id and SHA-256 for secrets |
//! | [`notify`] | a change and what it tells: [`Change`](notify::change::Change), one unit of work (its statements, mail and record committed together, then the hooks); mail through the outbox; each account's activity; the administrators' record; the application's hooks |
//! | [`sign_in`] | the sign-in: started (how), refreshed, ended (which), listed, [`Recent`](sign_in::Recent) |
//! | [`accounts`] | sign-up and password sign-in, the password policy and lockout, the profile, proof of the email address, recovery links, invitations, administrators, groups and their custom claims, disabled accounts |
//! | [`passkeys`] | the four WebAuthn ceremonies, narrated step by step; the challenge store (memory or Redis); authenticator names; a user's passkeys listed, renamed, deleted |
//! | [`oidc`] | the OpenID Connect provider: authorize, codes, token, userinfo, logout |
//! | [`ops`] | what the operator runs beside the requests: `check-config` ([`ops::check`]) and the hourly housekeeping ([`ops::housekeeping`]) |
//! | [`state`] | [`Engine`]: the parts every wing stands on and one handle per wing ([`SignIns`](sign_in::SignIns), [`Accounts`](accounts::Accounts), [`RelyingParty`](passkeys::RelyingParty), [`Provider`](oidc::Provider)), built once at start-up; each wing's functions take their own handle |
//! | [`http`] | the HTTP edge, the only wing that knows the web framework and the cookie session: extractors (the Bearer user, the session user, JSON bodies), each error's HTTP answer, and the portal's sign-ins in the browser's cookie session; the admin API's caller and page cursors |

pub mod accounts;
pub mod base;
pub mod db;
pub mod http;
pub mod notify;
pub mod oidc;
pub mod ops;
pub mod passkeys;
pub mod sign_in;
pub mod state;
pub mod tokens;

pub use base::config::Config;
pub use base::error::Error;
pub use state::{Engine, StartupError};
