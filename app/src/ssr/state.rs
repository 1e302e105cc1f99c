//! [`AppState`]: everything a request needs, built once from the [`Config`] at start-up.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use url::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::ssr::aaguid::AuthenticatorNames;
use crate::ssr::challenge::{ChallengeStore, MemoryChallengeStore, RedisChallengeStore, connect_redis};
use crate::ssr::config::Config;
use crate::ssr::db::Db;
use crate::ssr::hooks::{EventHooks, NoHooks};
use crate::ssr::session::SessionBackend;
use crate::ssr::tokens::TokenKeys;

/// Shared application state: given to axum routes as `State` and to Leptos as context.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Leptos' own options (site root, output name).
    pub leptos_options: LeptosOptions,
    /// The validated configuration.
    pub config: Arc<Config>,
    /// Users, passkeys and refresh tokens.
    pub db: Db,
    /// The WebAuthn relying party.
    pub webauthn: Arc<Webauthn>,
    /// JWT keys and token lifetimes.
    pub tokens: Arc<TokenKeys>,
    /// Ceremony state between begin and complete.
    pub challenges: Arc<dyn ChallengeStore>,
    /// The Redis pool when configured.
    pub redis: Option<fred::prelude::Pool>,
    /// Where the portal's browser sessions live.
    pub sessions: SessionBackend,
    /// AAGUID → authenticator names.
    pub authenticators: Arc<AuthenticatorNames>,
    /// The application's event hooks.
    pub hooks: Arc<dyn EventHooks>,
}

/// Why the state could not be built; start-up stops with this one line.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database is unreachable or a migration failed.
    #[error("database {0}")]
    Database(String),
    /// The session store could not be opened.
    #[error("session store (LATCHKEY_SESSION_STORE): {0}")]
    Sessions(String),
    /// Redis is unreachable.
    #[error("redis at LATCHKEY_REDIS_URL: {0}")]
    Redis(String),
    /// webauthn-rs refused the RP ID / origins.
    #[error("WebAuthn configuration refused: {0}")]
    Webauthn(String),
}

impl AppState {
    /// Connects the stores, applies migrations and sets up WebAuthn.
    pub async fn build(config: Config, leptos_options: LeptosOptions) -> Result<Self, StartupError> {
        let webauthn = build_webauthn(&config)?;
        let db =
            Db::connect(&config.database_url).await.map_err(|e| StartupError::Database(format!("unreachable: {e}")))?;
        db.migrate().await.map_err(|e| StartupError::Database(format!("migration failed: {e}")))?;
        let redis = match &config.redis_url {
            Some(url) => Some(connect_redis(url).await.map_err(|e| StartupError::Redis(e.to_string()))?),
            None => None,
        };
        let challenges: Arc<dyn ChallengeStore> = match &redis {
            Some(pool) => Arc::new(RedisChallengeStore::new(pool.clone())),
            None => Arc::new(MemoryChallengeStore::default()),
        };
        let sessions = SessionBackend::open(&config, redis.as_ref()).await.map_err(StartupError::Sessions)?;
        let aaguid_file = config.aaguid_file.clone().unwrap_or_else(|| "target/aaguids.json".into());
        Ok(Self {
            leptos_options,
            tokens: Arc::new(TokenKeys::new(&config)),
            config: Arc::new(config),
            db,
            webauthn: Arc::new(webauthn),
            challenges,
            redis,
            sessions,
            authenticators: Arc::new(AuthenticatorNames::load(&aaguid_file)),
            hooks: Arc::new(NoHooks),
        })
    }

    /// Replaces the event hooks (the default does nothing).
    pub fn with_hooks(mut self, hooks: impl EventHooks + 'static) -> Self {
        self.hooks = Arc::new(hooks);
        self
    }
}

fn build_webauthn(config: &Config) -> Result<Webauthn, StartupError> {
    let refused = |e: webauthn_rs::prelude::WebauthnError| StartupError::Webauthn(e.to_string());
    let (first, rest): (&Url, &[Url]) =
        config.origins.split_first().ok_or_else(|| StartupError::Webauthn("no origin".into()))?;
    let builder = WebauthnBuilder::new(&config.rp_id, first)
        .map_err(refused)?
        .rp_name(&config.rp_name)
        .timeout(config.challenge_ttl);
    rest.iter().fold(builder, |b, origin| b.append_allowed_origin(origin)).build().map_err(refused)
}
