//! The server build's face of [`navigator`](super): the same functions as `web.rs`, doing nothing.
//! Pages name them in event handlers and effects, which never run on the server.

use super::{CeremonyFailure, Prompt};
use crate::ProductName;

/// The product's name, from the context the server provides.
pub fn product_name() -> String {
    leptos::prelude::use_context::<ProductName>().map(|ProductName(name)| name).unwrap_or_default()
}

/// The path of the page being rendered (without its query).
pub fn request_path() -> String {
    leptos::prelude::use_context::<leptos_router::location::RequestUrl>()
        .and_then(|url| url.parse().ok())
        .map(|url| url.path().to_owned())
        .unwrap_or_default()
}

/// Never on the server.
pub fn submitted_form(_event: &leptos::ev::SubmitEvent) -> Option<String> {
    None
}

/// Never on the server.
pub fn focused_id() -> Option<String> {
    None
}

/// Nothing to focus on the server.
pub fn focus(_id: &str) {}

/// Whether `event` is Enter pressed in the page's field `id`: never, on the server.
pub fn enter_in(_event: &leptos::ev::KeyboardEvent, _id: &str) -> bool {
    false
}

/// Never on the server.
pub fn submit(_id: &str) {}

/// Never on the server.
pub fn attribute(_id: &str, _name: &str) -> Option<String> {
    None
}

/// Never on the server.
pub fn attributes(_selector: &str, _name: &str) -> Vec<String> {
    Vec::new()
}

/// Never on the server.
pub fn valid_input(_id: &str) -> Option<String> {
    None
}

/// Never on the server.
pub fn filled_input(_id: &str) -> Option<String> {
    None
}

/// Never on the server.
pub fn passkeys_supported() -> bool {
    false
}

/// Never on the server.
pub async fn conditional_mediation_available() -> bool {
    false
}

/// Never on the server.
pub async fn conditional_create_available() -> bool {
    false
}

/// There is no authenticator on the server.
pub async fn create(_options_json: &str, _prompt: Prompt) -> Result<String, CeremonyFailure> {
    Err(CeremonyFailure::Unsupported)
}

/// There is no authenticator on the server.
pub async fn get(_options_json: &str, _prompt: Prompt) -> Result<String, CeremonyFailure> {
    Err(CeremonyFailure::Unsupported)
}

/// Nothing to tell on the server.
pub fn signal_unknown_credential(_rp_id: &str, _credential_id: &str) {}

/// Nothing to tell on the server.
pub fn signal_all_accepted_credentials(_rp_id: &str, _user_id: &str, _credential_ids: &[String]) {}

/// Nothing to tell on the server.
pub fn signal_current_user_details(_rp_id: &str, _user_id: &str, _name: &str, _display_name: &str) {}

/// No page to leave on the server.
pub fn go(_path: &str) {}

/// The `id` of a `credential.toJSON()` string (read in the browser only).
pub fn credential_id_of(_credential_json: &str) -> Option<String> {
    None
}

/// The `rpId` of request options JSON (read in the browser only).
pub fn rp_id_of(_options_json: &str) -> Option<String> {
    None
}
