//! The operator's API, off unless `LATCHKEY_ADMIN_TOKEN` is set: `POST /admin/recovery-links`
//! (`{email, ttl_secs?}` → 201 `{url, expires_at}`), the same as `latchkey admin recovery-link`.
//! Every call needs `Authorization: Bearer <LATCHKEY_ADMIN_TOKEN>`.

use std::time::Duration;

use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Json;
use engine::accounts::recovery::{self, RecoveryLink};
use engine::base::clock::now;
use engine::http::extract::{ApiJson, bearer_token};
use engine::{Engine, Error};
use proto::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes with their descriptions (the server mounts them only when the operator set a token).
pub fn routes<S>() -> OpenApiRouter<S>
where
    Engine: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::new().routes(routes!(make_recovery_link))
}

#[derive(Deserialize, ToSchema)]
struct RecoveryLinkRequest {
    /// The account's email address.
    email: String,
    /// How long the link works, in seconds (at most 7 days; 1 hour by default).
    ttl_secs: Option<u64>,
}

/// `201` of `POST /admin/recovery-links`.
#[derive(Serialize, ToSchema)]
struct RecoveryLinkAnswer {
    /// The one-time link to hand to the account's owner.
    url: String,
    /// When it stops working (RFC 3339).
    expires_at: String,
}

/// The operator, by their token (compared in constant time).
fn operator(engine: &Engine, headers: &HeaderMap) -> Result<(), Error> {
    let expected = engine.config.http.admin_token.as_ref().ok_or(Error::InvalidToken)?;
    let given = bearer_token(headers).ok_or(Error::InvalidToken)?;
    if engine::base::types::constant_time_eq(given.as_bytes(), expected.expose().as_bytes()) {
        Ok(())
    } else {
        Err(Error::InvalidToken)
    }
}

/// Make a one-time link that lets the account's owner add a new passkey.
#[utoipa::path(post, path = "/admin/recovery-links", tag = "admin", security(("bearer" = [])),
    request_body = RecoveryLinkRequest,
    responses(
        (status = 201, description = "The link", body = RecoveryLinkAnswer),
        (status = 400, description = "`invalid_request` (a ttl over 7 days), `invalid_email`", body = ApiError),
        (status = 401, description = "`invalid_token` (not the operator's token)", body = ApiError),
        (status = 404, description = "`account_not_found`", body = ApiError),
    ))]
async fn make_recovery_link(
    State(engine): State<Engine>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RecoveryLinkRequest>,
) -> Result<(StatusCode, Json<RecoveryLinkAnswer>), Error> {
    operator(&engine, &headers)?;
    let ttl = body.ttl_secs.map_or(recovery::DEFAULT_TTL, Duration::from_secs);
    let RecoveryLink { url, expires_at } = recovery::operator_link(&engine.accounts, &body.email, ttl, now()).await?;
    Ok((StatusCode::CREATED, Json(RecoveryLinkAnswer { url, expires_at })))
}
