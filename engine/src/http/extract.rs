//! Axum extractors for the doors: who is calling (a Bearer token for REST, the cookie session for
//! the portal) and JSON bodies whose every rejection is an [`Error`] with the API's
//! `{"error", "message"}` shape (never axum's plain-text rejections). Nothing else reads headers
//! or cookies.

use std::net::{IpAddr, Ipv4Addr};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use super::portal::{self, SessionUser};
use crate::base::error::Error;
use crate::base::types::{Caller, ClientAddr, SignInId, SignInMethod, UserAgent, UserId};
use crate::sign_in::Recent;
use crate::sign_in::recent::Made;
use crate::state::Engine;
use crate::tokens::AccessClaims;

/// The caller of a protected REST route, from `Authorization: Bearer <access token>`.
pub struct BearerUser(pub AccessClaims);

impl BearerUser {
    /// The user's id.
    pub fn id(&self) -> &UserId {
        &self.0.sub
    }

    /// The sign-in the token belongs to.
    pub fn sign_in(&self) -> &SignInId {
        &self.0.sid
    }

    /// When the user proved who they are for this sign-in (Unix seconds).
    pub fn auth_time(&self) -> i64 {
        self.0.auth_time
    }

    /// The proof that this token's sign-in is recent enough for a dangerous change, or
    /// [`Error::ReauthenticationRequired`] (401 with RFC 9470's step-up challenge); a token whose
    /// sign-in has ended since it was issued is [`Error::InvalidToken`].
    pub async fn recent(&self, engine: &Engine, now: i64) -> Result<Recent, Error> {
        Recent::check_standing(&engine.sign_ins, self.sign_in(), self.auth_time(), now).await
    }
}

impl<S> FromRequestParts<S> for BearerUser
where
    Engine: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let engine = Engine::from_ref(state);
        let token = bearer_token(&parts.headers).ok_or(Error::InvalidToken)?;
        let user = engine.tokens.verify_access(token, crate::base::clock::now()).await.map(Self)?;
        user.id().note_in_log();
        Ok(user)
    }
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case), if the request has one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().copied().unwrap_or(Self(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
        Ok(Self::new(value))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let address = ClientAddr::from_request_parts(parts, state).await?;
        let user_agent = UserAgent::from_request_parts(parts, state).await?;
        Ok(Self { address, user_agent })
    }
}

/// The signed-in user of a portal request, from the browser's cookie session; a signed-out
/// browser, or one whose sign-in was ended, is [`Error::SignInRequired`]. The portal's server
/// functions get it through `door::user()`.
pub struct CurrentUser {
    /// Who is signed in.
    pub user: SessionUser,
    /// The session that holds the sign-in.
    pub session: Session,
    /// When the user proved who they are for this sign-in (Unix seconds).
    pub auth_time: i64,
    /// How (`None` for sign-ins recorded before methods were).
    pub method: Option<SignInMethod>,
    /// Until when the passkey it was made with is held (a mailed recovery link added it), if ever.
    pub held_until: Option<i64>,
}

impl CurrentUser {
    /// The user's id.
    pub fn id(&self) -> &UserId {
        &self.user.user_id
    }
}

impl CurrentUser {
    /// The signed-in user of `session`, if its sign-in still stands ([`portal::current_user`]).
    pub async fn of(session: Session, engine: &Engine, now: i64) -> Result<Self, Error> {
        let (user, made) = portal::current_sign_in(&session, engine, now).await?;
        Ok(Self { user, session, auth_time: made.auth_time, method: made.method, held_until: made.held_until })
    }

    /// The proof that this sign-in is recent enough for a dangerous change, or
    /// [`Error::ReauthenticationRequired`] (the page then sends the browser to sign in again).
    pub fn recent(&self, engine: &Engine, now: i64) -> Result<Recent, Error> {
        let made = Made { auth_time: self.auth_time, method: self.method, held_until: self.held_until };
        Recent::check_sign_in(&engine.sign_ins, &self.user.sign_in_id, &made, now)
    }
}

/// The browser's cookie session of a portal request (set up by the server's session layer).
pub async fn browser_session<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<Session, Error> {
    Session::from_request_parts(parts, state)
        .await
        .map_err(|(_, why)| Error::internal(format!("no session layer: {why}")))
}

/// A JSON body (`Content-Type: application/json` required).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(Error::UnsupportedMediaType),
            Err(JsonRejection::JsonSyntaxError(e)) => {
                Err(Error::InvalidRequest(format!("The body is not valid JSON: {}", e.body_text())))
            }
            Err(JsonRejection::JsonDataError(e)) => Err(Error::InvalidRequest(e.body_text())),
            Err(JsonRejection::BytesRejection(e)) => Err(body_error(&e)),
            Err(other) => Err(Error::InvalidRequest(other.body_text())),
        }
    }
}

/// A path parameter; an undecodable one (e.g. invalid UTF-8) is a 400 in the API's error shape.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(Error::InvalidRequest(rejection.body_text())),
        }
    }
}

/// The query string, read into `T`; one that does not fit is 400 `invalid_request` with the reason.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(Error::InvalidRequest(rejection.body_text())),
        }
    }
}

/// A body that may be absent (then `T::default()`); when present it must be JSON, as for [`ApiJson`].
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime_lite::Essence>().ok())
            .is_some_and(|m| m.is_json());
        let bytes = Bytes::from_request(req, state).await.map_err(|e| body_error(&e))?;
        if bytes.is_empty() {
            return Ok(Self(T::default()));
        }
        if !is_json {
            return Err(Error::UnsupportedMediaType);
        }
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|e| Error::InvalidRequest(format!("The body is not the expected JSON: {e}")))
    }
}

fn body_error(rejection: &BytesRejection) -> Error {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::PayloadTooLarge
    } else {
        Error::InvalidRequest("The request body could not be read.".into())
    }
}

/// The one bit of media-type parsing needed: is it `application/json` or `application/*+json`?
mod mime_lite {
    pub struct Essence(String);

    impl std::str::FromStr for Essence {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            Ok(Self(s.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()))
        }
    }

    impl Essence {
        pub fn is_json(&self) -> bool {
            self.0 == "application/json" || (self.0.starts_with("application/") && self.0.ends_with("+json"))
        }
    }
}

/// The value of the cookie `name` in `headers` (the first, where a browser sent it twice).
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|line| line.split(';').map(str::trim).find_map(|pair| pair.strip_prefix(name)?.strip_prefix('=')))
}
