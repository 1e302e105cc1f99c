//! The Latchkey server: builds the axum `Router` (portal pages, server functions, REST API, health
//! checks) from a [`Config`], so `main` and the integration tests start exactly the same app.

mod health;
mod rest;

use std::time::Duration;

use app::ssr::{AppState, Config, Error};
use app::{App, shell};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

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
    Router::new()
        .merge(rest::routes())
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
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn(refuse_oversize_bodies))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
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
    // Give load balancers a moment to notice before connections close.
    tokio::time::sleep(Duration::from_millis(10)).await;
}
