//! [`Engine`]: everything a request needs, built once from the [`Config`] at start-up.

use std::sync::Arc;

use url::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::aaguid::AuthenticatorNames;
use crate::base::clock;
use crate::base::config::Config;
use crate::base::error::Error;
use crate::base::sealed::{Purpose, Sealer};
use crate::challenge::{ChallengeStore, MemoryChallengeStore, RedisChallengeStore, connect_redis};
use crate::db::Db;
use crate::notify::change::{Change, Consequences};
use crate::notify::hooks::{EventHooks, NoHooks};
use crate::notify::mail::Mailer;
use crate::tokens::TokenKeys;
use crate::tokens::clients::{Clients, ClientsError};
use crate::tokens::keys::KeyRing;
use crate::tokens::secret::HashingQueue;

/// The engine's shared state: given to axum routes as `State` (through the server's `FromRef`) and
/// to the portal's server functions as Leptos context. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// Users, passkeys, sign-ins and refresh tokens.
    pub db: Db,
    /// The WebAuthn relying party.
    pub webauthn: Arc<Webauthn>,
    /// The signing keys (current, next, retired), as this instance last read them.
    pub keys: Arc<KeyRing>,
    /// Access and refresh tokens.
    pub tokens: Arc<TokenKeys>,
    /// Ceremony state between begin and complete.
    pub challenges: Arc<dyn ChallengeStore>,
    /// The Redis pool when configured (the server keeps browser sessions in it too).
    pub redis: Option<fred::prelude::Pool>,
    /// AAGUID → authenticator names.
    pub authenticators: Arc<AuthenticatorNames>,
    /// The apps registered as OpenID Connect clients (none without `LATCHKEY_OIDC_CLIENTS`).
    pub clients: Arc<Clients>,
    /// Seals the authorization requests a browser carries through sign-in and consent.
    pub request_sealer: Arc<Sealer>,
    /// The application's event hooks.
    pub hooks: Arc<dyn EventHooks>,
    /// Mail: how it is sent, and the outbox worker's wake-up call.
    pub mail: Arc<Mailer>,
    /// Argon2 work waiting for a core (bounded; `tokens/secret.rs`).
    pub hashing: Arc<HashingQueue>,
    /// Argon2 checks of OpenID Connect client secrets: their own queue of one core, so wrong
    /// secrets sent to the (unauthenticated) token endpoint never take password sign-ins' places.
    pub client_hashing: Arc<HashingQueue>,
}

/// Why the engine could not be built; start-up stops with this one line.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database is unreachable or a migration failed.
    #[error("database {0}")]
    Database(String),
    /// Redis is unreachable.
    #[error("redis at LATCHKEY_REDIS_URL: {0}")]
    Redis(String),
    /// The signing keys could not be made or opened.
    #[error("signing keys: {0}")]
    Keys(#[from] crate::tokens::keys::KeyError),
    /// The OpenID Connect clients file was refused.
    #[error(transparent)]
    Clients(#[from] ClientsError),
    /// `LATCHKEY_SMTP_URL` or `LATCHKEY_MAIL_FROM` was refused.
    #[error(transparent)]
    Mail(#[from] crate::notify::mail::MailConfigError),
    /// webauthn-rs refused the RP ID / origins.
    #[error("WebAuthn configuration refused: {0}")]
    Webauthn(String),
}

impl Engine {
    /// Connects the stores, applies migrations and sets up WebAuthn.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        // Every TLS client here (PostgreSQL, Redis, SMTP) uses ring: the one provider chosen for the
        // process, whichever other providers the dependency graph also compiles in.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let webauthn = build_webauthn(&config)?;
        let mail = Arc::new(Mailer::from_config(&config)?);
        let clients = match &config.oidc_clients {
            Some(path) => Clients::load(path)?,
            None => Clients::default(),
        };
        let db =
            Db::connect(&config.database_url).await.map_err(|e| StartupError::Database(format!("unreachable: {e}")))?;
        db.migrate().await.map_err(|e| StartupError::Database(format!("migration failed: {e}")))?;
        let keys = Arc::new(
            KeyRing::open(db.clone(), &config.operator_secret, config.longest_token_ttl(), clock::now()).await?,
        );
        let redis = match &config.redis_url {
            Some(url) => Some(
                connect_redis(url, config.redis_ca_file.as_deref())
                    .await
                    .map_err(|e| StartupError::Redis(e.to_string()))?,
            ),
            None => None,
        };
        let per_client = config.max_ceremonies_per_client;
        let challenges: Arc<dyn ChallengeStore> = match &redis {
            Some(pool) => Arc::new(RedisChallengeStore::new(pool.clone(), &config.redis_prefix, per_client)),
            None => Arc::new(MemoryChallengeStore::new(MemoryChallengeStore::DEFAULT_MAX_ENTRIES, per_client)),
        };
        let request_sealer = Arc::new(Sealer::new(&config.operator_secret, Purpose::AuthorizationRequests));
        let authenticators = Arc::new(AuthenticatorNames::configured(config.aaguid_file.as_deref()));
        Ok(Self {
            tokens: Arc::new(TokenKeys::new(&config, keys.clone())),
            keys,
            config: Arc::new(config),
            db,
            webauthn: Arc::new(webauthn),
            challenges,
            redis,
            authenticators,
            clients: Arc::new(clients),
            request_sealer,
            hooks: Arc::new(NoHooks),
            mail,
            hashing: Arc::new(HashingQueue::default()),
            client_hashing: Arc::new(HashingQueue::with_slots(1)),
        })
    }

    /// BEGIN of one unit of work: a change and its consequences, committed together (`notify/change.rs`).
    pub async fn change(&self, now: i64) -> Result<Change<'_>, Error> {
        Change::begin(&self.db, &self.config, &self.mail, &*self.hooks, now).await
    }

    /// What follows a write that commits on its own (the passkey sign-in's batch).
    pub fn consequences(&self) -> Consequences<'_> {
        Consequences::new(&self.mail, &*self.hooks)
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
    // Related origins (other sites listed at /.well-known/webauthn) use this RP ID too.
    rest.iter()
        .chain(&config.related_origins)
        .fold(builder, |b, origin| b.append_allowed_origin(origin))
        .build()
        .map_err(refused)
}
