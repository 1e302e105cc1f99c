//! The admin API's caller and its page cursors. A caller is the operator, by
//! `LATCHKEY_ADMIN_TOKEN` (compared in constant time), or an administrator, by an access token of
//! the account API whose sign-in still stands and whose account is an administrator now (not
//! disabled); anyone else with a valid token is 403 `admin_required`. A change needs more: an
//! administrator's [`Actor`] is made only from a recent sign-in ([`AdminCaller::actor`]).
//!
//! A list's next page starts after a cursor the server sealed (AES-GCM under the operator secret,
//! for that list alone): a cursor that was changed, or made for another list, is 400
//! `invalid_cursor`, never a page from somewhere else.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::extract::{BearerUser, bearer_token};
use crate::base::error::Error;
use crate::base::sealed::{Purpose, Sealer};
use crate::base::types::{Caller, UserId, constant_time_eq};
use crate::db;
use crate::notify::audit::Actor;
use crate::state::Engine;

/// Who calls the admin API.
pub enum AdminCaller {
    /// The operator's `LATCHKEY_ADMIN_TOKEN`.
    Operator(Caller),
    /// An administrator, signed in.
    Admin {
        /// Their access token (boxed: its claims are most of the caller's size).
        token: Box<BearerUser>,
        /// Their address, for the record.
        email: String,
        /// Where the request came from.
        caller: Caller,
    },
}

impl AdminCaller {
    /// Who takes a change: the operator's token, or an administrator whose sign-in is recent
    /// ([`Error::ReauthenticationRequired`] otherwise: every administrative change needs one).
    pub async fn actor(&self, engine: &Engine, now: i64) -> Result<Actor, Error> {
        match self {
            Self::Operator(caller) => Ok(Actor::token(caller.clone())),
            Self::Admin { token, email, caller } => {
                token.recent(engine, now).await?;
                Ok(Actor::admin(token.id().clone(), email.clone(), caller.clone()))
            }
        }
    }

    /// The administrator's account, when one calls.
    pub fn admin_id(&self) -> Option<&UserId> {
        match self {
            Self::Operator(_) => None,
            Self::Admin { token, .. } => Some(token.id()),
        }
    }
}

impl<S> FromRequestParts<S> for AdminCaller
where
    Engine: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let engine = Engine::from_ref(state);
        let caller = Caller::from_request_parts(parts, state).await.unwrap_or_else(|never| match never {});
        let given = bearer_token(&parts.headers).ok_or(Error::InvalidToken)?;
        if let Some(expected) = &engine.config.http.admin_token
            && constant_time_eq(given.as_bytes(), expected.expose().as_bytes())
        {
            return Ok(Self::Operator(caller));
        }
        let token = BearerUser::from_request_parts(parts, state).await?;
        // A token outlives its sign-in by up to its lifetime: an ended sign-in reads nothing here.
        let standing = db::sign_ins::activity(&engine.db, token.sign_in()).await?.is_some_and(|made| made.active);
        if !standing {
            return Err(Error::InvalidToken);
        }
        if !db::users::is_admin(&engine.db, token.id()).await? {
            return Err(Error::AdminRequired);
        }
        let email = db::users::by_id(&engine.db, token.id()).await?.ok_or(Error::InvalidToken)?.email;
        Ok(Self::Admin { token: Box::new(token), email, caller })
    }
}

/// The sealed cursor that starts `list`'s next page after `position`.
pub fn cursor(engine: &Engine, list: &str, position: &str) -> Option<String> {
    sealer(engine).seal(list, position.as_bytes())
}

/// Where `list`'s page starts: nothing for the first page, else what [`cursor`] sealed for it.
pub fn position(engine: &Engine, list: &str, cursor: Option<&str>) -> Result<Option<String>, Error> {
    let Some(cursor) = cursor.map(str::trim).filter(|c| !c.is_empty()) else { return Ok(None) };
    let opened = sealer(engine).open(list, cursor).map_err(|_| Error::InvalidCursor)?;
    String::from_utf8(opened).map(Some).map_err(|_| Error::InvalidCursor)
}

fn sealer(engine: &Engine) -> Sealer {
    Sealer::new(&engine.config.tokens.operator_secret, Purpose::AdminCursors)
}

/// The number of items a page holds: `asked` within 1 to 100, 50 when not asked.
pub fn page_size(asked: Option<u32>) -> Result<i64, Error> {
    match asked {
        None => Ok(50),
        Some(n @ 1..=100) => Ok(i64::from(n)),
        Some(_) => Err(Error::InvalidRequest("Ask for 1 to 100 items a page (`limit`).".into())),
    }
}
