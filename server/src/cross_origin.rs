//! Apps on other sites: CORS for the REST API and the public keys (`LATCHKEY_CORS_ORIGINS`), the
//! public keys that verify Latchkey's tokens at `/.well-known/jwks.json`, and the WebAuthn related
//! origins document (`LATCHKEY_RELATED_ORIGINS`) at `/.well-known/webauthn`.
//!
//! The REST API authenticates with bearer tokens, never cookies, so cross-origin calls never carry
//! credentials: `Access-Control-Allow-Credentials` is never sent, and each origin is listed exactly.

use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use engine::Engine;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use url::Url;

/// The CORS layer for the configured origins, or `None` when none is configured (then no
/// cross-origin page may read an answer).
pub fn cors(origins: &[Url]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(&origin.origin().ascii_serialization()).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            // Rate-limited and locked answers say when to come back.
            .expose_headers([header::RETRY_AFTER])
            .max_age(Duration::from_secs(600)),
    )
}

/// `/.well-known/webauthn`.
pub fn routes<S>() -> Router<S>
where
    Engine: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route("/.well-known/webauthn", get(related_origins))
}

/// `/.well-known/jwks.json`, for the CORS layer of the REST API.
pub fn public_key_routes<S>() -> Router<S>
where
    Engine: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route("/.well-known/jwks.json", get(public_keys))
}

/// How long verifiers may cache the key set. A key is published a whole rotation period before it
/// signs, so a cache this old still knows every key in use.
const JWKS_MAX_AGE_SECS: u64 = 300;

/// The public keys (RFC 7517): the current, next and retired keys of each algorithm, each with its
/// `kid`, `alg` and `use: sig`.
async fn public_keys(State(engine): State<Engine>) -> Response {
    let cache = HeaderValue::from_str(&format!("public, max-age={JWKS_MAX_AGE_SECS}"))
        .unwrap_or(HeaderValue::from_static("no-cache"));
    ([(header::CACHE_CONTROL, cache)], axum::Json(engine.keys.jwks())).into_response()
}

/// The origins of other sites allowed to use this RP ID (WebAuthn L3 §5.11); 404 when there are none.
async fn related_origins(State(engine): State<Engine>) -> Response {
    let origins = &engine.config.webauthn.related_origins;
    if origins.is_empty() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let origins: Vec<String> = origins.iter().map(|o| o.origin().ascii_serialization()).collect();
    axum::Json(json!({ "origins": origins })).into_response()
}
