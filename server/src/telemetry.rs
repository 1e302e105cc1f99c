//! What an operator watches: the log (text, or JSON with `LATCHKEY_LOG_FORMAT=json`), one line per
//! answered request, and Prometheus metrics on a listener of their own (`LATCHKEY_METRICS_ADDR`).
//!
//! Each request runs in a `request` span carrying its id (`X-Request-Id`, made here unless a trusted
//! proxy sent a plain one), method, route (the pattern, never the typed path) and, once known, the user's id;
//! its last line says the status and latency. Nothing here reads a body, a query string, a cookie
//! or an `Authorization` header, so tokens, passwords, credentials and session ids never reach it.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderName;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use engine::base::config::LogFormat;
use metrics::{counter, describe_counter, describe_histogram, histogram};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::limits::{self, TrustedProxies};

/// Requests answered, by route, method and status.
const HTTP_REQUESTS: &str = "latchkey_http_requests_total";
/// Time from a request's arrival to its answer, by route and method.
const HTTP_SECONDS: &str = "latchkey_http_request_seconds";

/// Histogram buckets of every `*_seconds` metric: 1 ms to 10 s.
const BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// `RUST_LOG` when it is not set (docs/configuration.md).
pub const DEFAULT_LOG_FILTER: &str = "warn,latchkey=info,server=info,app=info,engine=info,tower_http=info";

/// The header that carries a request's id, in and out.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Logs to stderr in `format`, filtered by `RUST_LOG` (default: info for Latchkey — the `latchkey`
/// binary, whose start-up says where it listens, and its crates — warn for dependencies); colours
/// only on a terminal, so a log file or journal gets plain text.
pub fn init_logs(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(colours).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.with_target(false).init(),
        // One object per line; the request's fields under "span", the event's at the top level.
        LogFormat::Json => logs.json().flatten_event(true).with_current_span(true).with_span_list(false).init(),
    }
}

/// Makes the Prometheus recorder the process's `metrics` recorder; its handle renders the text.
pub fn install_metrics() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)?
        .install_recorder()?;
    engine::base::measure::describe();
    describe_counter!(HTTP_REQUESTS, "Requests answered, by route, method and status");
    describe_histogram!(HTTP_SECONDS, metrics::Unit::Seconds, "Time to answer a request, by route and method");
    Ok(handle)
}

/// Serves `GET /metrics` on `listener` (the metrics address, never the public one), and keeps the
/// histograms' buffers drained.
pub async fn serve_metrics(listener: tokio::net::TcpListener, handle: PrometheusHandle) -> std::io::Result<()> {
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let metrics = Router::new().route("/metrics", get(move || std::future::ready(handle.render())));
    axum::serve(listener, metrics).await
}

/// The request's span: its id, method and route; `user_id` is filled in once the request is
/// authenticated ([`engine::base::types::UserId::note_in_log`]).
pub fn request_span(request: &Request) -> tracing::Span {
    let id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        route = %route(request),
        user_id = tracing::field::Empty,
    )
}

/// Keeps a request's `X-Request-Id` only when a trusted proxy (`LATCHKEY_TRUSTED_PROXIES`) sent
/// it and it is a plain id, `[A-Za-z0-9-]{1,64}`; any other is dropped, and the server makes one.
/// A client cannot then pass as another request in the log, or write its own text into every line.
pub async fn trusted_request_id(State(trusted): State<TrustedProxies>, mut request: Request, next: Next) -> Response {
    let from_a_trusted_proxy = limits::peer(&request).is_some_and(|peer| trusted.trust(&peer));
    let plain = |id: &[u8]| (1..=64).contains(&id.len()) && id.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-');
    let keep = from_a_trusted_proxy && request.headers().get(&REQUEST_ID).is_some_and(|id| plain(id.as_bytes()));
    if !keep {
        request.headers_mut().remove(&REQUEST_ID);
    }
    next.run(request).await
}

/// Counts and times each request, and logs its answer (inside its span).
pub async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (route, method) = (route(&request), request.method().to_string());
    let response = next.run(request).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    counter!(HTTP_REQUESTS, "route" => route.clone(), "method" => method.clone(), "status" => status.to_string())
        .increment(1);
    histogram!(HTTP_SECONDS, "route" => route, "method" => method).record(took.as_secs_f64());
    tracing::info!(status, latency_ms = took.as_secs_f64() * 1000.0, "answered");
    response
}

/// The route pattern that matched (`/auth/passkeys/{id}`), so ids never become labels; requests no
/// route matched are `/pkg/*` (the site's files) or `unmatched`.
fn route(request: &Request) -> String {
    match request.extensions().get::<MatchedPath>() {
        Some(matched) => matched.as_str().to_owned(),
        None if request.uri().path().starts_with("/pkg/") => "/pkg/*".to_owned(),
        None => "unmatched".to_owned(),
    }
}
