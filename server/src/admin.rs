//! The operator's API, off unless `LATCHKEY_ADMIN_TOKEN` is set: `POST /admin/recovery-links`
//! (`{email, ttl_secs?}` → 201 `{url, expires_at}`), the same as `server admin recovery-link`.
//! Every call needs `Authorization: Bearer <LATCHKEY_ADMIN_TOKEN>`.

use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Json;
use axum::routing::post;
use engine::clock::now;
use engine::extract::{ApiJson, bearer_token};
use engine::recovery::{self, RecoveryLink};
use engine::{Engine, Error};
use serde::Deserialize;

/// The routes, when the operator set a token.
pub fn routes<S>(engine: &Engine) -> Router<S>
where
    Engine: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    if engine.config.admin_token.is_none() {
        return Router::new();
    }
    Router::new().route("/admin/recovery-links", post(make_recovery_link))
}

#[derive(Deserialize)]
struct RecoveryLinkRequest {
    email: String,
    ttl_secs: Option<u64>,
}

/// The operator, by their token (compared in constant time).
fn operator(engine: &Engine, headers: &HeaderMap) -> Result<(), Error> {
    let expected = engine.config.admin_token.as_ref().ok_or(Error::InvalidToken)?;
    let given = bearer_token(headers).ok_or(Error::InvalidToken)?;
    if engine::types::constant_time_eq(given.as_bytes(), expected.expose().as_bytes()) {
        Ok(())
    } else {
        Err(Error::InvalidToken)
    }
}

async fn make_recovery_link(
    State(engine): State<Engine>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RecoveryLinkRequest>,
) -> Result<(StatusCode, Json<RecoveryLink>), Error> {
    operator(&engine, &headers)?;
    let ttl = body.ttl_secs.map_or(recovery::DEFAULT_TTL, Duration::from_secs);
    let link = recovery::operator_link(&engine, &body.email, ttl, now()).await?;
    Ok((StatusCode::CREATED, Json(link)))
}
