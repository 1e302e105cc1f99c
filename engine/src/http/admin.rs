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
use crate::sign_in::recent::Recent;
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
        // One read: whether the account is an administrator now (not disabled), and its address.
        let account = db::users::listed(&engine.db, token.id()).await?.ok_or(Error::InvalidToken)?;
        if account.admin_since.is_none() || account.disabled_at.is_some() {
            return Err(Error::AdminRequired);
        }
        Ok(Self::Admin { token: Box::new(token), email: account.email, caller })
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

/// How many days the overview's chart shows.
pub const OVERVIEW_DAYS: i64 = 30;

/// The admin console's overview: how many accounts, sign-ins still going, apps and pending
/// invitations, and the sign-ins of the last [`OVERVIEW_DAYS`] days by method (from the accounts'
/// activity, which keeps 90 days).
pub async fn overview(engine: &Engine, now: i64) -> Result<proto::AdminOverview, Error> {
    let today = now.div_euclid(86_400);
    let first = today - (OVERVIEW_DAYS - 1);
    let counted = db::activity::sign_ins_per_day(&engine.db, first * 86_400).await?;
    let days = (first..=today)
        .map(|day| {
            let of = |method: &str| {
                counted.iter().filter(|(d, m, _)| *d == day && m == method).map(|(_, _, n)| *n).sum::<i64>()
            };
            proto::SignInDay {
                date: crate::base::clock::rfc3339(day * 86_400)[..10].to_owned(),
                passkey: u32::try_from(of("passkey")).unwrap_or(u32::MAX),
                password: u32::try_from(of("password")).unwrap_or(u32::MAX),
            }
        })
        .collect();
    let idle = crate::sign_in::SESSION_IDLE_LIFETIME_SECS;
    let count = |n: i64| u64::try_from(n).unwrap_or_default();
    Ok(proto::AdminOverview {
        accounts: count(db::users::count(&engine.db).await?),
        sign_ins: count(db::sign_ins::going(&engine.db, now, idle).await?),
        apps: u64::try_from(engine.provider.clients.len()).unwrap_or_default(),
        pending_invitations: count(db::invitations::pending(&engine.db, now).await?),
        days,
    })
}

/// The portal's administrator check: the signed-in account `id` is an administrator now, or
/// [`Error::AdminRequired`].
pub async fn require_admin(engine: &Engine, id: &UserId) -> Result<(), Error> {
    if db::users::is_admin(&engine.db, id).await? { Ok(()) } else { Err(Error::AdminRequired) }
}

/// The console's administrator making a change: an administrator now (not disabled), whose browser
/// sign-in is recent — the [`Recent`] proves it, so a console change cannot skip the check.
pub async fn console_actor(engine: &Engine, id: &UserId, _recent: &Recent, caller: Caller) -> Result<Actor, Error> {
    let account = db::users::listed(&engine.db, id).await?.ok_or(Error::SignInRequired)?;
    if account.admin_since.is_none() || account.disabled_at.is_some() {
        return Err(Error::AdminRequired);
    }
    Ok(Actor::admin(id.clone(), account.email, caller))
}

impl From<db::users::ListedUser> for proto::Person {
    fn from(user: db::users::ListedUser) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email,
            name: user.name,
            created_at: crate::base::clock::rfc3339(user.created_at),
            email_verified: user.email_verified_at.is_some(),
            disabled: user.disabled_at.is_some(),
            admin: user.admin_since.is_some(),
        }
    }
}

/// The account `id` as administrators see it (the admin API's and the console's person): its
/// passkeys, sign-ins going, groups and newest activity; [`Error::AccountNotFound`] when none.
pub async fn person(engine: &Engine, id: &UserId, now: i64) -> Result<proto::PersonFacts, Error> {
    let person = db::users::listed(&engine.db, id).await?.ok_or(Error::AccountNotFound)?;
    Ok(proto::PersonFacts {
        person: person.into(),
        passkeys: crate::passkeys::manage::list_passkeys(&engine.relying_party, id).await?,
        sign_ins: crate::sign_in::list::of_user(&engine.sign_ins, id, None, now).await?,
        groups: db::groups::names_of_user(&engine.db, id).await?,
        activity: crate::notify::activity::recent(&engine.db, id).await?,
    })
}
