//! The Latchkey server: builds the axum `Router` (portal pages, server functions, REST API, health
//! checks) from a [`Config`], so `main` and the integration tests start exactly the same app.

mod health;
mod rest;

use app::ssr::session::SessionBackend;
use app::ssr::{AppState, Config, Error};
use app::{App, shell};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::HeaderValue;
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};

pub use app::ssr::hooks::EventHooks;

/// The largest request body accepted anywhere (ceremony rule 7).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Builds the shared state from the configuration: connects the stores and applies migrations.
pub async fn build_state(config: Config) -> Result<AppState, app::ssr::state::StartupError> {
    let leptos_options = LeptosOptions::builder()
        .output_name("portal")
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .build();
    AppState::build(config, leptos_options).await
}

/// The whole application for a built state.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let leptos_options = state.leptos_options.clone();
    let portal = Router::new()
        .merge(health::routes())
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || leptos::context::provide_context(state.clone())
            },
            move || shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.clone(), refuse_foreign_server_fn_calls));
    // The REST API authenticates with Bearer tokens only, so it stays outside the cookie sessions.
    with_sessions(portal, &state)
        .merge(rest::routes())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn(refuse_oversize_bodies))
        // Every response: no framing (clickjacking of the sign-in page), no MIME sniffing, no full
        // URLs in Referer to other sites. Handlers that set their own keep them.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}

/// Browser sessions: an HttpOnly, SameSite=Lax cookie (Secure when every origin is https) whose
/// data lives in the configured store.
fn with_sessions(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    fn configure<S: SessionStore>(store: S, secure: bool) -> SessionManagerLayer<S> {
        SessionManagerLayer::new(store)
            .with_name("latchkey_session")
            .with_secure(secure)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::days(7)))
    }
    let secure = state.config.secure_cookies();
    match state.sessions.clone() {
        SessionBackend::Memory(store) => router.layer(configure(store, secure)),
        SessionBackend::Redis(store) => router.layer(configure(store, secure)),
        SessionBackend::Sqlite(store) => router.layer(configure(store, secure)),
        SessionBackend::Postgres(store) => router.layer(configure(store, secure)),
    }
}

/// Server functions act on the browser session's cookie, so they must come from the portal's own
/// pages: the `Origin` header (sent by browsers on every POST) must be a configured origin.
async fn refuse_foreign_server_fn_calls(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/api/") {
        let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let allowed =
            origin.is_some_and(|o| state.config.origins.iter().any(|u| u.origin().ascii_serialization() == o));
        if !allowed {
            return Error::ForbiddenOrigin.into_response();
        }
    }
    next.run(request).await
}

/// Answers a declared oversize body with the API's JSON 413 before anything reads it; bodies
/// without a length are cut off by `RequestBodyLimitLayer` as they stream.
async fn refuse_oversize_bodies(request: Request, next: Next) -> Response {
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Error::PayloadTooLarge.into_response();
    }
    next.run(request).await
}

/// Serves `app` on `listener` until Ctrl-C or SIGTERM, then drains in-flight requests.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await
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
