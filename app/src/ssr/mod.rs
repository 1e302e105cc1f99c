//! The engine: everything that runs only on the server (database, WebAuthn, tokens, challenge store).
//! REST handlers (in `server`) and the portal's server functions are thin doors into these functions.

pub mod aaguid;
pub mod accounts;
pub mod ceremony;
pub mod challenge;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod hooks;
pub mod passkeys;
pub mod session;
pub mod state;
pub mod tokens;
pub mod types;

pub use config::Config;
pub use error::Error;
pub use state::AppState;
