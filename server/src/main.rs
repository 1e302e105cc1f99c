//! Starts Latchkey: load config, init telemetry, build the app, serve. Or, with arguments, one
//! operator command on the same configuration (`server keys rotate`, `server keys list`,
//! `server admin recovery-link`).

use std::process::ExitCode;

use engine::Config;
use server::Latchkey;
use tracing_subscriber::EnvFilter;

/// mimalloc returns freed memory to the system; with glibc's malloc, the 19 MiB Argon2 buffers stay
/// in per-thread arenas, and the benchmark's peak RSS was ~650 MiB instead of ~40 MiB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: server                 serve (configured by LATCHKEY_* variables)
       server keys rotate     retire the current signing keys, promote the next ones, make new next ones
       server keys list       print the published signing keys (kid, algorithm, state, dates)
       server hash-secret     read a client secret (32+ characters) on stdin, print its Argon2id hash
                              for LATCHKEY_OIDC_CLIENTS
       server admin recovery-link EMAIL [--ttl 1h]
                              print a one-time link that lets the account's owner add a new passkey
                              (--ttl: 30m, 1h, 2d, …; at most 7d; 1h by default)";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if args == ["hash-secret"] {
        return hash_secret();
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return fail(format_args!("configuration error: {e}")),
    };
    init_telemetry();
    match args.as_slice() {
        [] => serve(config).await,
        ["keys", "rotate"] => keys(config, true).await,
        ["keys", "list"] => keys(config, false).await,
        ["admin", "recovery-link", email] => recovery_link(config, email, "1h").await,
        ["admin", "recovery-link", email, "--ttl", ttl] => recovery_link(config, email, ttl).await,
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

async fn serve(config: Config) -> ExitCode {
    warn_about_development_defaults(&config);
    let addr = config.addr;
    let app = match Latchkey::build(config).await {
        Ok(app) => app,
        Err(e) => return fail(format_args!("start-up failed: {e}")),
    };
    let mail = &app.engine().mail;
    if mail.enabled() {
        tracing::info!("{}", mail.describe());
    } else {
        tracing::warn!("{}", mail.describe());
    }
    let plain = app.engine().clients.with_plain_secrets();
    if !plain.is_empty() {
        tracing::warn!(
            clients = %plain.join(", "),
            "LATCHKEY_OIDC_CLIENTS: client secrets written in plain text; store Argon2id hashes instead (docs/configuration.md)"
        );
    }
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

/// `keys rotate` and `keys list`: the keys in the configured database, as every instance sees them.
/// Running instances pick a rotation up within `engine::keys::RELOAD_EVERY`.
async fn keys(config: Config, rotate: bool) -> ExitCode {
    warn_about_development_defaults(&config);
    let engine = match engine::Engine::build(config).await {
        Ok(engine) => engine,
        Err(e) => return fail(format_args!("start-up failed: {e}")),
    };
    let now = engine::clock::now();
    if rotate {
        match engine.keys.rotate_now(now).await {
            Ok(kids) => println!("rotated; now signing with {}", kids.join(", ")),
            Err(e) => return fail(format_args!("rotation failed: {e}")),
        }
    }
    match engine.keys.summaries(now).await {
        Ok(keys) => {
            for key in keys {
                let since = key.activated_at.map(engine::clock::rfc3339).unwrap_or_else(|| "-".into());
                let until = key.publish_until.map(engine::clock::rfc3339).unwrap_or_else(|| "-".into());
                println!(
                    "{}  {}  {:<7}  signing since {since:<20}  published until {until}",
                    key.kid, key.alg, key.state
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(format_args!("cannot read the keys: {e}")),
    }
}

/// `admin recovery-link EMAIL [--ttl 1h]`: a one-time recovery link on stdout, for the operator to
/// hand to the account's owner once they have checked who is asking.
async fn recovery_link(config: Config, email: &str, ttl: &str) -> ExitCode {
    let Some(ttl) = parse_ttl(ttl) else {
        return fail(format_args!("--ttl `{ttl}`: use a number and a unit, like 30m, 1h or 2d"));
    };
    let engine = match engine::Engine::build(config).await {
        Ok(engine) => engine,
        Err(e) => return fail(format_args!("start-up failed: {e}")),
    };
    match engine::recovery::operator_link(&engine, email, ttl, engine::clock::now()).await {
        Ok(link) => {
            println!("{}", link.url);
            eprintln!("works once, until {}", link.expires_at);
            ExitCode::SUCCESS
        }
        Err(e) => fail(format_args!("{e}")),
    }
}

/// `30s`, `30m`, `1h`, `2d`.
fn parse_ttl(raw: &str) -> Option<std::time::Duration> {
    let unit = match raw.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let count: u64 = raw[..raw.len() - 1].parse().ok()?;
    Some(std::time::Duration::from_secs(count.checked_mul(unit)?))
}

/// `hash-secret`: one line on stdin, its Argon2id PHC string on stdout (so the secret never appears in
/// the process list or the shell history).
fn hash_secret() -> ExitCode {
    let mut secret = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut secret) {
        return fail(format_args!("cannot read the secret from stdin: {e}"));
    }
    let secret = secret.trim_end_matches(['\r', '\n']);
    if secret.chars().count() < 32 {
        return fail(format_args!("use a secret of at least 32 characters, e.g. `openssl rand -hex 32`"));
    }
    match engine::passwords::hash_secret(secret) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(format_args!("hashing failed: {e}")),
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default: info for Latchkey, warn for dependencies).
fn init_telemetry() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,server=info,app=info,engine=info,tower_http=info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr).init();
}

fn warn_about_development_defaults(config: &Config) {
    if config.operator_secret_is_dev_default {
        tracing::warn!(
            "LATCHKEY_OPERATOR_SECRET is not set: the signing keys are encrypted with the built-in DEVELOPMENT secret, so anyone who reads the database can mint tokens. Set it (32+ random bytes) and LATCHKEY_ENV=production before deploying."
        );
    }
}

/// One line on stderr, and a failing exit code.
fn fail(reason: std::fmt::Arguments<'_>) -> ExitCode {
    eprintln!("latchkey: {reason}");
    ExitCode::FAILURE
}
