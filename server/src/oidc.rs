//! The OpenID Connect provider's HTTP doors (docs/oidc.md): each handler reads the request, calls one
//! function of `engine::oidc`, and answers — a redirect for the browser's endpoints, JSON for the
//! app's server.
//!
//! Two groups: [`browser_routes`] (authorize, resume, end_session) sit inside the cookie-session
//! layer, since they act for the browser's signed-in user; [`app_routes`] (discovery, token,
//! userinfo, revocation) never read cookies and get the REST API's CORS, so a browser app
//! (a public client) can call them.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use engine::base::clock::now;
use engine::http::portal::{self, SessionUser};
use engine::oidc::authorize::{self, Answer};
use engine::oidc::error::{OAuthCode, OAuthError};
use engine::oidc::token::{self, ClientRequest};
use engine::oidc::{Discovery, paths, userinfo};
use engine::{Engine, Error};
use tower_sessions::Session;

/// The endpoints the browser is sent to; they need the cookie session.
pub fn browser_routes<S>() -> Router<S>
where
    Engine: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(paths::AUTHORIZE, get(authorize).post(to_get))
        .route(paths::RESUME, get(resume))
        .route(paths::END_SESSION, get(end_session).post(to_get))
}

/// The endpoints an app's server (or a browser app) calls.
pub fn app_routes<S>() -> Router<S>
where
    Engine: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route(paths::TOKEN, axum::routing::post(token))
        .route(paths::USERINFO, get(userinfo).post(userinfo))
        .route(paths::REVOKE, axum::routing::post(revoke))
}

/// The provider's metadata; apps read it once at start-up, so caches may keep it a while.
async fn discovery(State(engine): State<Engine>) -> Response {
    let cache = HeaderValue::from_static("public, max-age=300");
    ([(header::CACHE_CONTROL, cache)], axum::Json(Discovery::new(&engine.config))).into_response()
}

async fn authorize(State(engine): State<Engine>, session: Session, RawQuery(query): RawQuery) -> Response {
    let params = pairs(query.as_deref().unwrap_or_default().as_bytes());
    match signed_in(&session, &engine).await {
        Ok(user) => go(authorize::authorize(&engine.provider, &params, user.as_ref(), now()).await),
        Err(error) => error.into_response(),
    }
}

async fn resume(State(engine): State<Engine>, session: Session, RawQuery(query): RawQuery) -> Response {
    let params = pairs(query.as_deref().unwrap_or_default().as_bytes());
    let Some((_, sealed)) = params.iter().find(|(name, _)| name == "request") else {
        return go(Ok(Answer::Problem(proto::AuthorizeProblem::Expired)));
    };
    match signed_in(&session, &engine).await {
        Ok(user) => go(authorize::resume(&engine.provider, sealed, user.as_ref(), now()).await),
        Err(error) => error.into_response(),
    }
}

async fn end_session(State(engine): State<Engine>, session: Session, RawQuery(query): RawQuery) -> Response {
    let params = pairs(query.as_deref().unwrap_or_default().as_bytes());
    go(portal::end_session(&session, &engine, &params, now()).await)
}

/// A form POST to a browser endpoint (OIDC Core §3.1.2.1 allows it) is sent on as a GET with the
/// same parameters: a POST from the app's site does not carry the portal's `SameSite=Lax` cookie,
/// and the GET that follows does.
async fn to_get(method: Method, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> Response {
    if method != Method::POST || !is_form(&headers) {
        return Error::InvalidRequest("Send the parameters as a query, or as an HTML form.".into()).into_response();
    }
    let query: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs(&body)).finish();
    let location = format!("{}?{query}", uri.path());
    redirect(StatusCode::SEE_OTHER, &location)
}

async fn token(State(engine): State<Engine>, headers: HeaderMap, body: Bytes) -> Response {
    if !is_form(&headers) {
        return form_required();
    }
    let params = pairs(&body);
    let request = ClientRequest { params: &params, authorization: authorization(&headers) };
    match token::token(&engine.provider, &request, now()).await {
        // RFC 6749 §5.1: tokens are never cached.
        Ok(tokens) => {
            ([(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")], axum::Json(tokens)).into_response()
        }
        Err(error) => error.into_response(),
    }
}

async fn revoke(State(engine): State<Engine>, headers: HeaderMap, body: Bytes) -> Response {
    if !is_form(&headers) {
        return form_required();
    }
    let params = pairs(&body);
    let request = ClientRequest { params: &params, authorization: authorization(&headers) };
    match token::revoke(&engine.provider, &request, now()).await {
        Ok(()) => ([(header::CACHE_CONTROL, "no-store")], StatusCode::OK).into_response(),
        Err(error) => error.into_response(),
    }
}

/// The access token from `Authorization: Bearer`, or (POST, RFC 6750 §2.2) the form's `access_token`.
async fn userinfo(State(engine): State<Engine>, method: Method, headers: HeaderMap, body: Bytes) -> Response {
    let bearer = engine::http::extract::bearer_token(&headers).map(str::to_owned);
    let in_form = (method == Method::POST && is_form(&headers))
        .then(|| pairs(&body).into_iter().find(|(name, _)| name == "access_token").map(|(_, token)| token))
        .flatten();
    let token = match (bearer, in_form) {
        (Some(_), Some(_)) => {
            return OAuthError::new(OAuthCode::InvalidRequest, "send the access token once, not twice").into_response();
        }
        (bearer, in_form) => bearer.or(in_form),
    };
    match userinfo::userinfo(&engine.provider, token.as_deref(), now()).await {
        Ok(claims) => ([(header::CACHE_CONTROL, "no-store")], axum::Json(claims)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// The browser's signed-in user, if its sign-in still stands; an unreachable store is an error,
/// not "signed out".
async fn signed_in(session: &Session, engine: &Engine) -> Result<Option<SessionUser>, Error> {
    match portal::current_user(session, engine, now()).await {
        Ok(user) => Ok(Some(user)),
        Err(Error::SignInRequired) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Sends the browser where the engine said (RFC 6749 §4.1.2 uses 302).
fn go(answer: Result<Answer, Error>) -> Response {
    match answer {
        Ok(answer) => redirect(StatusCode::FOUND, &answer.location()),
        Err(error) => error.into_response(),
    }
}

fn redirect(status: StatusCode, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => {
            (status, [(header::LOCATION, location), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))])
                .into_response()
        }
        Err(_) => Error::internal("a redirect address was not a valid header").into_response(),
    }
}

fn pairs(form: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(form).into_owned().collect()
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok())
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

fn form_required() -> Response {
    OAuthError::new(OAuthCode::InvalidRequest, "send the body as application/x-www-form-urlencoded (RFC 6749 §3.2)")
        .into_response()
}
