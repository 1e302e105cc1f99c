//! The Latchkey server: builds the axum `Router` — portal pages, server functions, REST API, health
//! checks — from a [`Config`], so `main` and the integration tests start exactly the same app.

mod admin;
mod assets;
mod brand;
mod cross_origin;
#[cfg(test)]
mod docs_agree;
mod health;
mod layers;
mod limits;
mod listen;
mod oidc;
mod openapi;
mod rest;
mod sessions;
mod site;
pub mod telemetry;

use app::{App, ProductName, shell};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use engine::{Config, Engine};
use leptos::config::LeptosOptions;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use engine::notify::hooks::EventHooks;
pub use layers::MAX_BODY_BYTES;

use crate::assets::Assets;
use crate::sessions::SessionBackend;
use crate::site::Site;

/// Why the server could not start; `main` prints it as one line.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The engine's stores or WebAuthn settings.
    #[error(transparent)]
    Engine(#[from] engine::StartupError),
    /// The browser session store.
    #[error("session store (LATCHKEY_SESSION_STORE): {0}")]
    Sessions(String),
    /// A brand file (`LATCHKEY_BRAND_*`).
    #[error("{0}")]
    Brand(String),
}

/// Everything start-up builds from the configuration: the engine and the browser session store.
pub struct Latchkey {
    engine: Engine,
    sessions: SessionBackend,
    brand: brand::Brand,
}

/// What the routes share: the engine, and Leptos' options for the pages and the static files.
#[derive(Clone, FromRef)]
struct AppState {
    engine: Engine,
    leptos_options: LeptosOptions,
}

impl Latchkey {
    /// Connects the stores, applies migrations and opens the session store.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        site::provide_built_in_names();
        let brand = brand::Brand::load(&config).map_err(StartupError::Brand)?;
        let engine = Engine::build(config).await?;
        engine::ops::housekeeping::start(engine.db.clone(), engine.keys.clone(), &engine.config);
        engine::notify::mail::start(engine.db.clone(), engine.notify.mailer().clone());
        engine::tokens::keys::reload_periodically(engine.keys.clone());
        engine::tokens::clients::stored::watch(&engine.clients, engine.db.clone());
        let sessions =
            SessionBackend::open(&engine.config, engine.redis.as_ref()).await.map_err(StartupError::Sessions)?;
        Ok(Self { engine, sessions, brand })
    }

    /// The engine the server was built on (for start-up's reports).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Replaces the event hooks (the default does nothing).
    pub fn with_hooks(mut self, hooks: impl EventHooks + 'static) -> Self {
        self.engine = self.engine.with_hooks(hooks);
        self
    }

    /// Serves the application on `listener`, with the configured connection limits, until Ctrl-C or
    /// SIGTERM; then drains in-flight requests.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        let http = &self.engine.config.http;
        let limits = listen::ConnectionLimits {
            header_timeout: http.header_timeout,
            max_connections: http.max_connections,
            max_per_address: http.max_connections_per_address,
            trusted_proxies: limits::TrustedProxies::new(&self.engine.config),
        };
        listen::serve(listener, self.router(), limits, shutdown_signal()).await
    }

    /// The whole application, as a `Router` (for embedding; [`Latchkey::serve`] runs it).
    pub fn router(self) -> Router {
        let Self { engine, sessions, brand } = self;
        let config = &engine.config;
        let site = Site::configured(config.http.site_root.as_deref());
        tracing::info!("{}", site.describe());
        let assets = Assets::read(&site);
        let leptos_options = LeptosOptions::builder()
            .output_name(assets.portal.clone())
            // Only Leptos' file handler reads it, and a site in the binary is served without it (below).
            .site_root(site.dir().map(|dir| dir.to_string_lossy().into_owned()).unwrap_or_default())
            .site_pkg_dir("pkg")
            .site_addr(config.http.addr)
            .build();
        let https_only = config.https_only();
        let request_timeout = config.http.request_timeout;
        let limits = limits::Limits::new(config);
        let trusted_proxies = limits.trusted_proxies();
        let cors = cross_origin::cors(&config.http.cors_origins);
        let state = AppState { engine: engine.clone(), leptos_options: leptos_options.clone() };
        let product_name = ProductName(config.product_name.clone());
        let site_assets = app::SiteAssets { brand: brand.for_pages(), ..assets.for_pages() };
        let context = move || {
            leptos::context::provide_context(engine.clone());
            leptos::context::provide_context(product_name.clone());
            leptos::context::provide_context(site_assets.clone());
        };

        let pages = Router::new()
            .leptos_routes_with_context(&state, portal_routes(), context.clone(), {
                let leptos_options = leptos_options.clone();
                move || shell(leptos_options.clone())
            })
            .merge(oidc::browser_routes());
        // Any other path: a file of the site, or the portal's "not found" page.
        let portal = match site.dir() {
            Some(_) => pages.fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell)),
            None => {
                let not_found =
                    leptos_axum::render_app_to_stream_with_context(context, move || shell(leptos_options.clone()));
                pages.fallback(move |request: Request| {
                    let not_found = not_found.clone();
                    async move {
                        match site::embedded_file(request.uri().path()) {
                            Some(file) => file,
                            None => {
                                let mut page = not_found(request).await;
                                *page.status_mut() = StatusCode::NOT_FOUND;
                                page
                            }
                        }
                    }
                })
            }
        };
        let portal = portal
            .layer(middleware::from_fn(layers::portal_answers))
            .layer(middleware::from_fn_with_state(state.engine.clone(), layers::returned_forms))
            .layer(middleware::from_fn(layers::reference_policy))
            .layer(middleware::from_fn(assets::cache_forever))
            .layer(middleware::from_fn_with_state(state.engine.clone(), layers::refuse_foreign_server_fn_calls));
        // The REST API and the operator's, with the OpenAPI document their annotations make.
        let (rest, mut api) = rest::routes().split_for_parts();
        let (admin, admin_api) = admin::routes().split_for_parts();
        api.merge(admin_api);
        // The REST API authenticates with Bearer tokens only, so it stays outside the cookie sessions.
        sessions
            .layer(portal, https_only)
            .merge(
                rest.merge(cross_origin::public_key_routes())
                    .merge(oidc::app_routes())
                    .merge(openapi::routes(openapi::document(api, &state.engine.config.product_name)))
                    .layer(tower::util::option_layer(cors)),
            )
            .merge(cross_origin::routes())
            .merge(brand.routes(std::sync::Arc::clone(&state.engine.clients)))
            // The operator's API: never for browsers on other sites (outside the CORS layer).
            .merge(admin)
            .merge(health::routes())
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
            .layer(middleware::from_fn(layers::refuse_oversize_bodies))
            .layer(middleware::from_fn(move |request, next| layers::time_limit(request_timeout, request, next)))
            .layer(middleware::from_fn_with_state(limits, limits::limit))
            // Every response: no framing (clickjacking of the sign-in page), no MIME sniffing, no full
            // URLs in Referer to other sites. Handlers that set their own keep them.
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("frame-ancestors 'none'"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::REFERRER_POLICY,
                HeaderValue::from_static("strict-origin-when-cross-origin"),
            ))
            // Served over https only: browsers keep to https for two years (not for other subdomains,
            // which this server cannot vouch for).
            .layer(SetResponseHeaderLayer::if_not_present(
                header::STRICT_TRANSPORT_SECURITY,
                https_only.then(|| HeaderValue::from_static("max-age=63072000")),
            ))
            .layer(middleware::from_fn(telemetry::observe))
            .layer(TraceLayer::new_for_http().make_span_with(telemetry::request_span))
            // Every answer names its request (the proxy's id when it sent one), as the log does.
            .layer(PropagateRequestIdLayer::new(telemetry::REQUEST_ID.clone()))
            .layer(SetRequestIdLayer::new(telemetry::REQUEST_ID.clone(), MakeRequestUuid))
            // Before any of it: a request's own id counts only from a trusted proxy.
            .layer(middleware::from_fn_with_state(trusted_proxies, telemetry::trusted_request_id))
            .with_state(state)
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// The portal's routes, listed once per process. Listing them renders the app under a switch that
/// is process-wide (leptos_router's `SuppressResourceLoad`): a page of another instance in this
/// process whose data load is first polled meanwhile waits for it forever (leptos issue #4773).
/// One list, made before any instance serves, leaves no such window.
fn portal_routes() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}
