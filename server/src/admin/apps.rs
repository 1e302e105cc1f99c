//! The admin API's apps (docs/api.md, "Admin API"): every app, the clients file's (read-only) and
//! the console's, which administrators make, change, give a new secret and delete. A secret is
//! in the answer that made it and nowhere else, ever again.

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::Json;
use engine::base::clock::{now, rfc3339};
use engine::http::admin::AdminCaller;
use engine::http::extract::{ApiJson, ApiPath, OptionalJson};
use engine::oidc::registry;
use engine::tokens::clients::Settings;
use engine::{Engine, Error};
use proto::{ApiError, ConsoleApp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes with their descriptions.
pub fn routes<S>() -> OpenApiRouter<S>
where
    Engine: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::new()
        .routes(routes!(list_apps, create_app))
        .routes(routes!(get_app, update_app, delete_app))
        .routes(routes!(rotate_secret))
}

/// An app's settings: what an administrator sets (the clients file's fields but for its id,
/// secret and logo).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AppSettings {
    /// What the consent page calls it (1 to 64 characters; the id when absent).
    name: Option<String>,
    /// A browser or native app, which keeps no secret and must use PKCE (chosen when made).
    #[serde(default)]
    public: bool,
    /// Exact redirect URIs: https, or http on localhost (at least one).
    redirect_uris: Vec<String>,
    /// Exact URIs it may return to after signing out.
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    /// Skip the consent page (first-party apps).
    #[serde(default)]
    skip_consent: bool,
    /// Require a PKCE S256 challenge (default true; always for public apps).
    require_pkce: Option<bool>,
    /// `RS256` (default) or `ES256`.
    id_token_signed_response_alg: Option<String>,
    /// When not empty, only accounts in one of these groups may sign in to it.
    #[serde(default)]
    allowed_groups: Vec<String>,
    /// The app's own address, which "Your apps" opens.
    client_uri: Option<String>,
}

impl From<AppSettings> for Settings {
    fn from(s: AppSettings) -> Self {
        Self {
            name: s.name,
            public: s.public,
            redirect_uris: s.redirect_uris,
            post_logout_redirect_uris: s.post_logout_redirect_uris,
            skip_consent: s.skip_consent,
            require_pkce: s.require_pkce,
            id_token_signed_response_alg: s.id_token_signed_response_alg,
            allowed_groups: s.allowed_groups,
            client_uri: s.client_uri,
        }
    }
}

/// Every app, the clients file's and the console's, by name.
#[utoipa::path(get, path = "/admin/apps", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "The apps", body = Vec<ConsoleApp>),
        (status = 401, description = "`invalid_token`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
    ))]
async fn list_apps(State(engine): State<Engine>, _admin: AdminCaller) -> Result<Json<Vec<ConsoleApp>>, Error> {
    Ok(Json(registry::list(&engine.provider, now()).await?.into_iter().map(ConsoleApp::from).collect()))
}

/// A new app: its id and its settings.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewApp {
    /// 1 to 128 letters, digits, `-`, `.`, `_` or `~`; not one of the clients file's.
    client_id: String,
    /// What the consent page calls it (1 to 64 characters; the id when absent).
    name: Option<String>,
    /// A browser or native app, which keeps no secret and must use PKCE.
    #[serde(default)]
    public: bool,
    /// Exact redirect URIs: https, or http on localhost (at least one).
    redirect_uris: Vec<String>,
    /// Exact URIs it may return to after signing out.
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    /// Skip the consent page (first-party apps).
    #[serde(default)]
    skip_consent: bool,
    /// Require a PKCE S256 challenge (default true; always for public apps).
    require_pkce: Option<bool>,
    /// `RS256` (default) or `ES256`.
    id_token_signed_response_alg: Option<String>,
    /// When not empty, only accounts in one of these groups may sign in to it.
    #[serde(default)]
    allowed_groups: Vec<String>,
    /// The app's own address, which "Your apps" opens.
    client_uri: Option<String>,
}

/// An app with the secret just made for it.
#[derive(Serialize, ToSchema)]
struct AppWithSecret {
    #[serde(flatten)]
    app: ConsoleApp,
    /// Its secret (confidential apps): shown this once, only its SHA-256 is kept.
    client_secret: Option<String>,
}

/// Make an app; a confidential one's secret is in the answer, and nowhere else ever again.
#[utoipa::path(post, path = "/admin/apps", tag = "admin", security(("bearer" = [])), request_body = NewApp,
    responses(
        (status = 201, description = "The app, with its secret", body = AppWithSecret),
        (status = 400, description = "`invalid_app` (the sentence names the field), `invalid_request`", body = ApiError),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 409, description = "`app_exists`", body = ApiError),
    ))]
async fn create_app(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiJson(body): ApiJson<NewApp>,
) -> Result<(StatusCode, Json<AppWithSecret>), Error> {
    let now = now();
    let actor = admin.actor(&engine, now).await?;
    let client_id = body.client_id.clone();
    let settings = Settings::from(AppSettings {
        name: body.name,
        public: body.public,
        redirect_uris: body.redirect_uris,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
        skip_consent: body.skip_consent,
        require_pkce: body.require_pkce,
        id_token_signed_response_alg: body.id_token_signed_response_alg,
        allowed_groups: body.allowed_groups,
        client_uri: body.client_uri,
    });
    let (app, secret) = registry::create(&engine.provider, &actor, &client_id, &settings, now).await?;
    let client_secret = secret.map(|s| s.expose().to_owned());
    Ok((StatusCode::CREATED, Json(AppWithSecret { app: app.into(), client_secret })))
}

/// One app.
#[utoipa::path(get, path = "/admin/apps/{client_id}", tag = "admin", security(("bearer" = [])),
    params(("client_id" = String, Path, description = "The app's client id")),
    responses(
        (status = 200, description = "The app", body = ConsoleApp),
        (status = 401, description = "`invalid_token`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`app_not_found`", body = ApiError),
    ))]
async fn get_app(
    State(engine): State<Engine>,
    _admin: AdminCaller,
    ApiPath(client_id): ApiPath<String>,
) -> Result<Json<ConsoleApp>, Error> {
    Ok(Json(registry::get(&engine.provider, &client_id, now()).await?.into()))
}

/// Replace a console app's settings (all of them; `public` cannot change).
#[utoipa::path(put, path = "/admin/apps/{client_id}", tag = "admin", security(("bearer" = [])),
    params(("client_id" = String, Path, description = "The app's client id")), request_body = AppSettings,
    responses(
        (status = 200, description = "The app as it is now", body = ConsoleApp),
        (status = 400, description = "`invalid_app`, `invalid_request`", body = ApiError),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`app_not_found`", body = ApiError),
        (status = 409, description = "`app_in_file`", body = ApiError),
    ))]
async fn update_app(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath(client_id): ApiPath<String>,
    ApiJson(body): ApiJson<AppSettings>,
) -> Result<Json<ConsoleApp>, Error> {
    let now = now();
    let actor = admin.actor(&engine, now).await?;
    let app = registry::update(&engine.provider, &actor, &client_id, &body.into(), now).await?;
    Ok(Json(app.into()))
}

/// Delete a console app: its sign-ins end at once, the consents given to it go.
#[utoipa::path(delete, path = "/admin/apps/{client_id}", tag = "admin", security(("bearer" = [])),
    params(("client_id" = String, Path, description = "The app's client id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`app_not_found`", body = ApiError),
        (status = 409, description = "`app_in_file`", body = ApiError),
    ))]
async fn delete_app(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath(client_id): ApiPath<String>,
) -> Result<StatusCode, Error> {
    let now = now();
    let actor = admin.actor(&engine, now).await?;
    registry::delete(&engine.provider, &actor, &client_id, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How long the old secret keeps working.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
struct Rotation {
    /// Seconds the old secret keeps working, so the app can be redeployed (default 86400, a day;
    /// 0 stops it at once; at most 30 days).
    overlap_secs: Option<i64>,
}

/// The new secret.
#[derive(Serialize, ToSchema)]
struct NewSecret {
    /// The app's new secret: shown this once.
    client_secret: String,
    /// Until when the old one still works (RFC 3339); absent when it stopped at once.
    previous_secret_until: Option<String>,
}

/// The default overlap of a rotation: a day.
const DEFAULT_OVERLAP_SECS: i64 = 24 * 3600;

/// Give a confidential console app a new secret; the old one keeps working for the overlap.
#[utoipa::path(post, path = "/admin/apps/{client_id}/secret", tag = "admin", security(("bearer" = [])),
    params(("client_id" = String, Path, description = "The app's client id")), request_body = Rotation,
    responses(
        (status = 200, description = "The new secret", body = NewSecret),
        (status = 400, description = "`invalid_app` (a public app, or an overlap out of range), `invalid_request`", body = ApiError),
        (status = 401, description = "`invalid_token`, `reauthentication_required`", body = ApiError),
        (status = 403, description = "`admin_required`", body = ApiError),
        (status = 404, description = "`app_not_found`", body = ApiError),
        (status = 409, description = "`app_in_file`", body = ApiError),
    ))]
async fn rotate_secret(
    State(engine): State<Engine>,
    admin: AdminCaller,
    ApiPath(client_id): ApiPath<String>,
    OptionalJson(body): OptionalJson<Rotation>,
) -> Result<Json<NewSecret>, Error> {
    let now = now();
    let actor = admin.actor(&engine, now).await?;
    let overlap = body.overlap_secs.unwrap_or(DEFAULT_OVERLAP_SECS);
    let (app, secret) = registry::rotate_secret(&engine.provider, &actor, &client_id, overlap, now).await?;
    Ok(Json(NewSecret {
        client_secret: secret.expose().to_owned(),
        previous_secret_until: app.previous_secret_until.map(rfc3339),
    }))
}
