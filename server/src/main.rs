//! Starts Latchkey: load config, init telemetry, build the app, serve.

use std::process::ExitCode;

use engine::Config;
use server::Latchkey;
use tracing_subscriber::EnvFilter;

/// mimalloc returns freed memory to the system; with glibc's malloc, the 19 MiB Argon2 buffers stay
/// in per-thread arenas, and the benchmark's peak RSS was ~650 MiB instead of ~40 MiB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return fail(format_args!("configuration error: {e}")),
    };
    init_telemetry();
    warn_about_development_defaults(&config);
    let addr = config.addr;
    let app = match Latchkey::build(config).await {
        Ok(app) => app,
        Err(e) => return fail(format_args!("start-up failed: {e}")),
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => return fail(format_args!("cannot listen on {addr} (LATCHKEY_ADDR): {e}")),
    };
    tracing::info!("Latchkey listening on http://{addr}");
    match app.serve(listener).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format_args!("server error: {e}")),
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default: info for Latchkey, warn for dependencies).
fn init_telemetry() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,server=info,app=info,engine=info,tower_http=info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr).init();
}

fn warn_about_development_defaults(config: &Config) {
    if config.jwt_secret_is_dev_default {
        tracing::warn!(
            "LATCHKEY_JWT_SECRET is not set: using the built-in DEVELOPMENT secret. Anyone can mint tokens. Set it (32+ bytes) and LATCHKEY_ENV=production before deploying."
        );
    }
}

/// One line on stderr, and a failing exit code.
fn fail(reason: std::fmt::Arguments<'_>) -> ExitCode {
    eprintln!("latchkey: {reason}");
    ExitCode::FAILURE
}
