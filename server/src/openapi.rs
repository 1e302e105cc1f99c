//! The REST API's OpenAPI 3.1 document, served at `/openapi.json`: the paths and shapes come from the
//! handlers' `#[utoipa::path]` annotations (collected by the routers that mount them, `rest.rs` and
//! `admin.rs`); this adds the title, the bearer scheme and the tags.

use std::sync::Arc;

use axum::Router;
use axum::response::Json;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{InfoBuilder, OpenApi};

/// Where the document is served.
pub const PATH: &str = "/openapi.json";

const DESCRIPTION: &str = "REST API: email + password accounts, passkeys (WebAuthn), tokens, sign-ins, email \
verification and the operator's recovery links. Errors are `{\"error\": \"<code>\", \"message\": \"<sentence>\"}` \
with the status of their code; 429 and 503 carry `Retry-After`. docs/api.md is the prose contract.";

/// The document: `paths` (with their schemas) from the routers, and what describes the whole API,
/// under the product's name (`LATCHKEY_PRODUCT_NAME`).
pub fn document(mut api: OpenApi, product_name: &str) -> OpenApi {
    let description = format!("{product_name}'s {DESCRIPTION}");
    api.info = InfoBuilder::new()
        .title(product_name)
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(description))
        .build();
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("An access token (`access_token` of a token pair), or for /admin the operator's LATCHKEY_ADMIN_TOKEN"))
                .build(),
        ),
    );
    api.tags = Some(
        [
            ("password", "Accounts with an email and a password"),
            ("passkeys", "Passkey registration, sign-in and management (WebAuthn)"),
            ("tokens", "Refreshing and ending a sign-in's tokens"),
            ("account", "The signed-in account"),
            ("email", "Verifying and changing the email address"),
            ("sign-ins", "The account's sign-ins, listed and ended"),
            ("admin", "The admin API: an administrator's access token, or the operator's LATCHKEY_ADMIN_TOKEN (docs/admin.md)"),
        ]
        .into_iter()
        .map(|(name, description)| TagBuilder::new().name(name).description(Some(description)).build())
        .collect(),
    );
    api
}

/// `GET /openapi.json`.
pub fn routes<S: Clone + Send + Sync + 'static>(api: OpenApi) -> Router<S> {
    let api = Arc::new(api);
    Router::new().route(PATH, get(move || std::future::ready(Json(api.as_ref().clone()))))
}
