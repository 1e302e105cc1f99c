//! Latchkey's engine: everything that runs only on the server — accounts, the WebAuthn ceremonies,
//! tokens, the challenge store, browser sign-ins and the database — with no Leptos in it.
//!
//! The REST handlers (`server/src/rest.rs`) and the portal's server functions (`app/src/server_fns.rs`)
//! are thin doors into the functions here: each extracts its input and the caller, calls one
//! function, and answers. The modules, from the bottom up (none imports one listed after it):
//!
//! | module | owns |
//! |---|---|
//! | [`error`] | the one [`Error`] enum, its code, status and JSON body |
//! | [`types`] | parsed values and typed ids (`Email`, `Password`, `UserId`, `CredentialId`, …) |
//! | [`clock`] | Unix seconds; `now` is passed in, so tests never sleep |
//! | [`measure`] | the metrics: each counter and histogram named and described once |
//! | [`config`] | [`Config`] from `LATCHKEY_*` variables (docs/configuration.md) |
//! | [`sealed`] | AES-256-GCM under keys derived from the operator secret, one per purpose |
//! | [`db`] | the pool and the queries, one file per table |
//! | [`challenge`] | where ceremony state waits between *begin* and *complete* |
//! | [`aaguid`] | authenticator names |
//! | [`clients`] | the OpenID Connect clients (apps) from `LATCHKEY_OIDC_CLIENTS` |
//! | [`keys`] | the ES256/RS256 signing keys: made, sealed, shared through the database, rotated, published |
//! | [`tokens`] | access tokens (JWT) signed and checked, refresh tokens made: no SQL |
//! | [`notify`] | a change and what it tells: [`Change`](notify::change::Change), one unit of work (its statements, mail and record committed together, then the hooks); mail through the outbox; each account's activity; the application's hooks |
//! | [`state`] | [`Engine`]: everything a request needs, built once at start-up |
//! | [`sign_in`] | the sign-in: started (how), refreshed, ended (which), listed, [`Recent`](sign_in::Recent) |
//! | [`lockout`] | the password sign-in budget per email and address, taken before any check |
//! | [`verification`] | proof that an account's email address is its owner's (a mailed link or code), and changing it |
//! | [`recovery`] | one-time links that let someone who lost their passkeys add one: the operator's, or mailed |
//! | [`accounts`], [`passkeys`] | passwords and profiles; listing, renaming, deleting passkeys |
//! | [`ceremony`] | the four WebAuthn ceremony functions, narrated step by step |
//! | [`oidc`] | the OpenID Connect provider: authorize, codes, token, userinfo, logout |
//! | [`http`] | the HTTP edge, the only wing with axum and tower-sessions: extractors (the Bearer user, the session user, JSON bodies), each error's HTTP answer, and the portal's sign-ins in the browser's cookie session |
//! | [`ops`] | what the operator runs beside the requests: `check-config` ([`ops::check`]) and the hourly housekeeping ([`ops::housekeeping`]) |

pub mod aaguid;
pub mod accounts;
pub mod ceremony;
pub mod challenge;
pub mod clients;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod keys;
pub mod lockout;
pub mod measure;
pub mod notify;
pub mod oidc;
pub mod ops;
pub mod passkeys;
pub mod passwords;
pub mod recovery;
pub mod sealed;
pub mod sign_in;
pub mod state;
pub mod tokens;
pub mod types;
pub mod verification;

pub use config::Config;
pub use error::Error;
pub use state::{Engine, StartupError};
