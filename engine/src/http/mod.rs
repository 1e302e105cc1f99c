//! The HTTP edge: the one wing that knows axum and tower-sessions. The doors (`server/src/rest.rs`,
//! `server/src/oidc.rs`, the portal's server functions in `app/`) take their input and caller
//! through [`extract`], call the engine, and answer through [`IntoResponse`](axum::response::IntoResponse)
//! ([`response`]); the portal's sign-ins live in the browser's cookie session through [`portal`].
//! Everything below this wing takes plain values.

pub mod admin;
pub mod extract;
pub mod portal;
pub mod response;
pub mod returned_form;
pub mod shown_once;

pub use response::{error_head, error_response};
