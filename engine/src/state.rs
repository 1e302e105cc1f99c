//! [`Engine`]: what the doors hold — the parts every wing stands on and one handle per wing, built
//! once from the [`Config`] at start-up.

use std::sync::Arc;

use url::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::accounts::Accounts;
use crate::base::clock;
use crate::base::config::Config;
use crate::base::sealed::{Purpose, Sealer};
use crate::db::Db;
use crate::notify::Notify;
use crate::notify::hooks::{EventHooks, NoHooks};
use crate::notify::mail::Mailer;
use crate::oidc::Provider;
use crate::passkeys::RelyingParty;
use crate::passkeys::aaguid::AuthenticatorNames;
use crate::passkeys::challenge::{ChallengeStore, MemoryChallengeStore, RedisChallengeStore, connect_redis};
use crate::passkeys::stand_in::StandIns;
use crate::sign_in::SignIns;
use crate::tokens::TokenKeys;
use crate::tokens::clients::{Clients, ClientsError};
use crate::tokens::keys::KeyRing;
use crate::tokens::secret::HashingQueue;

/// The engine's shared state: given to the server's routes as their state (through `FromRef`) and
/// to the portal's server functions as Leptos context. Cheap to clone.
///
/// It holds the parts every wing stands on and one handle per wing; each wing's functions take
/// their own handle, never the whole engine.
#[derive(Clone)]
pub struct Engine {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// Users, passkeys, sign-ins and refresh tokens.
    pub db: Db,
    /// The Redis pool when configured (the server keeps browser sessions in it too).
    pub redis: Option<fred::prelude::Pool>,
    /// The signing keys (current, next, retired), as this instance last read them.
    pub keys: Arc<KeyRing>,
    /// Access and refresh tokens.
    pub tokens: Arc<TokenKeys>,
    /// The apps registered as OpenID Connect clients (none without `LATCHKEY_OIDC_CLIENTS`).
    pub clients: Arc<Clients>,
    /// Changes and what they tell: the mailer (and the outbox worker's wake-up call) and the
    /// application's event hooks.
    pub notify: Notify,
    /// The sign-ins' wing: a user's list, and how recent a sign-in is.
    pub sign_ins: SignIns,
    /// The accounts' wing: sign-up, passwords, email addresses, recovery.
    pub accounts: Accounts,
    /// The passkeys' wing: the WebAuthn relying party.
    pub relying_party: RelyingParty,
    /// The OpenID Connect provider.
    pub provider: Provider,
}

/// What the engine is made of: everything built at start-up, before it is shared out to the wings.
struct Parts {
    config: Arc<Config>,
    db: Db,
    redis: Option<fred::prelude::Pool>,
    keys: Arc<KeyRing>,
    tokens: Arc<TokenKeys>,
    clients: Arc<Clients>,
    notify: Notify,
    webauthn: Arc<Webauthn>,
    challenges: Arc<dyn ChallengeStore>,
    authenticators: Arc<AuthenticatorNames>,
    request_sealer: Arc<Sealer>,
    hashing: Arc<HashingQueue>,
    client_hashing: Arc<HashingQueue>,
    stand_ins: Arc<StandIns>,
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
        let clients = match &config.tokens.oidc_clients {
            Some(path) => Clients::load(path)?,
            None => Clients::default(),
        };
        let db = Db::connect(&config.stores.database_url)
            .await
            .map_err(|e| StartupError::Database(format!("unreachable: {e}")))?;
        db.migrate().await.map_err(|e| StartupError::Database(format!("migration failed: {e}")))?;
        clients.load_stored(&db).await?;
        let keys = Arc::new(
            KeyRing::open(db.clone(), &config.tokens.operator_secret, config.longest_token_ttl(), clock::now()).await?,
        );
        let redis = match &config.stores.redis_url {
            Some(url) => Some(
                connect_redis(url, config.stores.redis_ca_file.as_deref())
                    .await
                    .map_err(|e| StartupError::Redis(e.to_string()))?,
            ),
            None => None,
        };
        let per_client = config.webauthn.max_ceremonies_per_client;
        let challenges: Arc<dyn ChallengeStore> = match &redis {
            Some(pool) => Arc::new(RedisChallengeStore::new(pool.clone(), &config.stores.redis_prefix, per_client)),
            None => Arc::new(MemoryChallengeStore::new(MemoryChallengeStore::DEFAULT_MAX_ENTRIES, per_client)),
        };
        let tokens = Arc::new(TokenKeys::new(&config, keys.clone()));
        let config = Arc::new(config);
        Ok(Self::assemble(Parts {
            notify: Notify::new(db.clone(), config.clone(), mail, Arc::new(NoHooks)),
            webauthn: Arc::new(webauthn),
            challenges,
            authenticators: Arc::new(AuthenticatorNames::configured(config.webauthn.aaguid_file.as_deref())),
            request_sealer: Arc::new(Sealer::new(&config.tokens.operator_secret, Purpose::AuthorizationRequests)),
            stand_ins: Arc::new(
                StandIns::new(&config.tokens.operator_secret)
                    .map_err(|e| StartupError::Webauthn(format!("stand-in credential ids: {e}")))?,
            ),
            hashing: Arc::new(HashingQueue::default()),
            // Argon2 checks of OpenID Connect client secrets: their own queue of one core, so wrong
            // secrets sent to the (unauthenticated) token endpoint never take password sign-ins' places.
            client_hashing: Arc::new(HashingQueue::with_slots(1)),
            config,
            db,
            redis,
            keys,
            tokens,
            clients: Arc::new(clients),
        }))
    }

    /// The engine from its parts: each wing's handle made from what it needs.
    fn assemble(parts: Parts) -> Self {
        let Parts {
            config,
            db,
            redis,
            keys,
            tokens,
            clients,
            notify,
            webauthn,
            challenges,
            authenticators,
            request_sealer,
            stand_ins,
            hashing,
            client_hashing,
        } = parts;
        let sign_ins = SignIns {
            db: db.clone(),
            notify: notify.clone(),
            clients: clients.clone(),
            reauth_window: config.tokens.reauth_window,
            max_age: config.tokens.session_max_age,
        };
        let accounts = Accounts {
            db: db.clone(),
            notify: notify.clone(),
            config: config.clone(),
            tokens: tokens.clone(),
            hashing,
        };
        let relying_party = RelyingParty {
            db: db.clone(),
            notify: notify.clone(),
            webauthn,
            challenges,
            authenticators,
            tokens: tokens.clone(),
            challenge_ttl: config.webauthn.challenge_ttl,
            max_passkeys: config.webauthn.max_passkeys,
            stand_ins,
            sign_up: config.sign_up.clone(),
        };
        let provider = Provider {
            db: db.clone(),
            notify: notify.clone(),
            config: config.clone(),
            clients: clients.clone(),
            keys: keys.clone(),
            tokens: tokens.clone(),
            client_hashing,
            request_sealer,
        };
        Self { config, db, redis, keys, tokens, clients, notify, sign_ins, accounts, relying_party, provider }
    }

    /// Replaces the event hooks (the default does nothing).
    pub fn with_hooks(self, hooks: impl EventHooks + 'static) -> Self {
        Self::assemble(Parts {
            notify: Notify::new(self.db.clone(), self.config.clone(), self.notify.mailer().clone(), Arc::new(hooks)),
            webauthn: self.relying_party.webauthn,
            challenges: self.relying_party.challenges,
            authenticators: self.relying_party.authenticators,
            request_sealer: self.provider.request_sealer,
            stand_ins: self.relying_party.stand_ins,
            hashing: self.accounts.hashing,
            client_hashing: self.provider.client_hashing,
            config: self.config,
            db: self.db,
            redis: self.redis,
            keys: self.keys,
            tokens: self.tokens,
            clients: self.clients,
        })
    }
}

fn build_webauthn(config: &Config) -> Result<Webauthn, StartupError> {
    let refused = |e: webauthn_rs::prelude::WebauthnError| StartupError::Webauthn(e.to_string());
    let (first, rest): (&Url, &[Url]) =
        config.webauthn.origins.split_first().ok_or_else(|| StartupError::Webauthn("no origin".into()))?;
    let builder = WebauthnBuilder::new(&config.webauthn.rp_id, first)
        .map_err(refused)?
        .rp_name(&config.webauthn.rp_name)
        .timeout(config.webauthn.challenge_ttl);
    // Related origins (other sites listed at /.well-known/webauthn) use this RP ID too.
    rest.iter()
        .chain(&config.webauthn.related_origins)
        .fold(builder, |b, origin| b.append_allowed_origin(origin))
        .build()
        .map_err(refused)
}
