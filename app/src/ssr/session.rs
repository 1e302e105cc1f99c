//! Browser sessions for the portal (tower-sessions): who is signed in, and the sign-in's refresh
//! family so that signing out revokes it. REST clients use Bearer tokens instead.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{MemoryStore, Session};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::ssr::config::{Config, SessionStoreKind};

use crate::ssr::db::users::UserRow;
use crate::ssr::error::Error;
use crate::ssr::state::AppState;
use crate::ssr::tokens;

const SIGNED_IN: &str = "signed_in";
/// How often expired sessions are removed from a database store.
const EXPIRED_SWEEP: Duration = Duration::from_secs(3600);

/// The store behind the portal's session cookie (`LATCHKEY_SESSION_STORE`).
#[derive(Clone, Debug)]
pub enum SessionBackend {
    /// In the process.
    Memory(MemoryStore),
    /// In Redis, shared with the challenge store's pool.
    Redis(RedisStore<fred::prelude::Pool>),
    /// In the SQLite database (table `tower_sessions`).
    Sqlite(SqliteStore),
    /// In the PostgreSQL database (schema `tower_sessions`).
    Postgres(PostgresStore),
}

impl SessionBackend {
    /// Opens the configured store; a database store gets its table and an hourly sweep of expired sessions.
    pub async fn open(config: &Config, redis: Option<&fred::prelude::Pool>) -> Result<Self, String> {
        match (config.session_store, redis) {
            (SessionStoreKind::Memory, _) => Ok(Self::Memory(MemoryStore::default())),
            (SessionStoreKind::Redis, Some(pool)) => Ok(Self::Redis(RedisStore::new(pool.clone()))),
            (SessionStoreKind::Redis, None) => Err("the Redis session store needs LATCHKEY_REDIS_URL".into()),
            (SessionStoreKind::Database, _) if config.database_url.starts_with("sqlite:") => {
                let pool = sqlx::SqlitePool::connect(&config.database_url).await.map_err(|e| e.to_string())?;
                let store = SqliteStore::new(pool);
                store.migrate().await.map_err(|e| e.to_string())?;
                sweep_expired(store.clone());
                Ok(Self::Sqlite(store))
            }
            (SessionStoreKind::Database, _) => {
                let pool = sqlx::PgPool::connect(&config.database_url).await.map_err(|e| e.to_string())?;
                let store = PostgresStore::new(pool);
                store.migrate().await.map_err(|e| e.to_string())?;
                sweep_expired(store.clone());
                Ok(Self::Postgres(store))
            }
        }
    }
}

fn sweep_expired(store: impl ExpiredDeletion + 'static) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EXPIRED_SWEEP);
        loop {
            every.tick().await;
            if let Err(error) = store.delete_expired().await {
                tracing::warn!(%error, "could not delete expired sessions");
            }
        }
    });
}
const PENDING_SIGN_UP: &str = "pending_sign_up";

/// The signed-in user of a portal request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionUser {
    /// User id.
    pub user_id: String,
    /// The refresh-token family started at sign-in; sign-out revokes it.
    pub family_id: String,
}

impl<S: Send + Sync> FromRequestParts<S> for SessionUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await.map_err(|_| Error::Unauthorized)?;
        current_user(&session).await
    }
}

/// The session's signed-in user, or [`Error::Unauthorized`].
pub async fn current_user(session: &Session) -> Result<SessionUser, Error> {
    session.get::<SessionUser>(SIGNED_IN).await.map_err(session_store_error)?.ok_or(Error::Unauthorized)
}

/// Signs `user` in: a new session id (so a planted id is useless), a new token family.
pub async fn sign_in(session: &Session, state: &AppState, user: &UserRow, now: i64) -> Result<(), Error> {
    let family_id = tokens::start_family(&state.db, &user.id, now).await?;
    enter(session, user, family_id).await
}

/// Signs `user` in with a token family already started (a passkey sign-in writes its own): a new
/// session id, so a planted id is useless.
pub async fn enter(session: &Session, user: &UserRow, family_id: String) -> Result<(), Error> {
    session.cycle_id().await.map_err(session_store_error)?;
    session.insert(SIGNED_IN, SessionUser { user_id: user.id.clone(), family_id }).await.map_err(session_store_error)
}

/// Signs out: revokes the sign-in's refresh family and ends the session.
pub async fn sign_out(session: &Session, state: &AppState, now: i64) -> Result<(), Error> {
    if let Some(user) = session.get::<SessionUser>(SIGNED_IN).await.map_err(session_store_error)? {
        tokens::end_session(&state.db, &user.family_id, now).await?;
    }
    session.flush().await.map_err(session_store_error)
}

/// Remembers the not-yet-created account of a passkey-only sign-up between begin and complete.
pub async fn remember_pending_sign_up(session: &Session, user_id: &str) -> Result<(), Error> {
    session.insert(PENDING_SIGN_UP, user_id.to_owned()).await.map_err(session_store_error)
}

/// Takes the pending sign-up's user id.
pub async fn take_pending_sign_up(session: &Session) -> Result<Option<String>, Error> {
    session.remove::<String>(PENDING_SIGN_UP).await.map_err(session_store_error)
}

fn session_store_error(err: tower_sessions::session::Error) -> Error {
    tracing::warn!(error = %err, "session store unavailable");
    Error::Unavailable
}
