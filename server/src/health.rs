//! Health checks: `/healthz` (the process answers) and `/readyz` (its stores answer too).

use axum::extract::{FromRef, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use engine::{Engine, Error};
use serde_json::json;

/// The routes, for any router state the [`Engine`] can be taken from.
pub fn routes<S>() -> Router<S>
where
    Engine: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(engine): State<Engine>) -> impl IntoResponse {
    let database = engine.db.ping().await.map_err(|e| tracing::warn!(error = %e, "readyz: database unreachable"));
    let challenges = engine
        .relying_party
        .challenges
        .ping()
        .await
        .map_err(|e| tracing::warn!(error = %e, "readyz: challenge store unreachable"));
    let ready = database.is_ok() && challenges.is_ok();
    let body = Json(json!({
        "status": if ready { "ready" } else { "unavailable" },
        "database": if database.is_ok() { "ok" } else { "unreachable" },
        "challenge_store": if challenges.is_ok() { "ok" } else { "unreachable" },
    }));
    if ready {
        (StatusCode::OK, body).into_response()
    } else {
        let retry_after = Error::RETRY_AFTER_UNAVAILABLE.as_secs().to_string();
        (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, retry_after)], body).into_response()
    }
}
