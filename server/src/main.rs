//! The `latchkey` command: `serve` (the default) loads the configuration, starts telemetry, builds
//! the app and serves it; the other subcommands run one operator task on the same configuration.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use engine::Config;
use engine::notify::audit::Actor;
use server::Latchkey;

/// mimalloc returns freed memory to the system; with glibc's malloc, the 19 MiB Argon2 buffers stay
/// in per-thread arenas, and the benchmark's peak RSS was ~650 MiB instead of ~40 MiB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Latchkey: a passkey-first sign-in portal, its REST API and an OpenID Connect provider.
#[derive(Parser)]
#[command(
    name = "latchkey",
    version,
    after_help = "Configured by LATCHKEY_* environment variables and an optional .env file (docs/configuration.md)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal, the REST API and OpenID Connect (what runs without a subcommand)
    Serve,
    /// Check every setting and try the database, Redis and SMTP server they name; exit 1 on errors
    CheckConfig,
    /// Apply the database migrations and exit (serve applies them at start too)
    Migrate,
    /// The token signing keys, shared by every instance through the database
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Operator tasks on accounts
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Read an app's client secret (32+ characters) on stdin; print its Argon2id hash for LATCHKEY_OIDC_CLIENTS
    HashSecret,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Retire the current signing keys, promote the next ones, make new next ones
    Rotate,
    /// Print the published signing keys (kid, algorithm, state, dates)
    List,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Print a one-time link that lets the account's owner add a new passkey
    RecoveryLink {
        /// The account's email address
        email: String,
        /// How long the link works: 30m, 1h, 2d, … (at most 7d)
        #[arg(long, default_value = "1h", value_parser = parse_ttl)]
        ttl: Duration,
    },
    /// Print (and mail, to EMAIL when mail is on) a one-time link that makes an account, whatever
    /// LATCHKEY_SIGN_UP says
    Invite {
        /// The one address that may use it (any, without)
        email: Option<String>,
        /// A group the new account joins (again for more)
        #[arg(long = "group")]
        groups: Vec<String>,
        /// Make the new account an administrator
        #[arg(long)]
        admin: bool,
        /// How long the link works: 30m, 1h, 7d, … (at most 30d)
        #[arg(long, default_value = "7d", value_parser = parse_ttl)]
        ttl: Duration,
    },
    /// Withdraw an unused invitation: its link stops working
    RevokeInvitation {
        /// The invitation's id, as `admin invite` printed it
        id: String,
    },
    /// Make, delete and fill groups (the `groups` claim, an app's `allowed_groups`)
    Group {
        #[command(subcommand)]
        command: GroupCommand,
    },
    /// Disable an account: end every sign-in of it now, and refuse sign-in, refresh and recovery
    Disable {
        /// The account's email address
        email: String,
    },
    /// Enable a disabled account again
    Enable {
        /// The account's email address
        email: String,
    },
    /// Make an account an administrator (the first one comes from here)
    Grant {
        /// The account's email address
        email: String,
    },
    /// Make an account no longer an administrator (never the last one)
    Revoke {
        /// The account's email address
        email: String,
    },
    /// Print every administrator
    Admins,
}

#[derive(Subcommand)]
enum GroupCommand {
    /// Make a group
    Create {
        /// Its name: lower-case letters, digits, - and _
        name: String,
        /// What it is for
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete a group (its members leave it)
    Delete {
        /// Its name
        name: String,
    },
    /// Put an account in a group
    Add {
        /// The group's name
        name: String,
        /// The account's email address
        email: String,
    },
    /// Take an account out of a group
    Remove {
        /// The group's name
        name: String,
        /// The account's email address
        email: String,
    },
    /// Print every group, its size and description
    List,
}

#[tokio::main]
async fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    match command {
        Command::HashSecret => return hash_secret(),
        Command::CheckConfig => return check_config().await,
        _ => {}
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return fail(format_args!("configuration error: {e}")),
    };
    server::telemetry::init_logs(config.http.log_format);
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(config).await,
        Command::Keys { command } => keys(config, matches!(command, KeysCommand::Rotate)).await,
        Command::Admin { command } => admin(config, command).await,
        // Answered above, before the configuration is read.
        Command::HashSecret | Command::CheckConfig => ExitCode::SUCCESS,
    }
}

/// `check-config`: one line per finding on stdout; exit 1 when any is an error.
async fn check_config() -> ExitCode {
    if let Err(e) = engine::base::config::load_dotenv() {
        return fail(format_args!("{e}"));
    }
    let report = engine::ops::check::run(|key| std::env::var(key).ok()).await;
    for finding in &report.findings {
        println!("{finding}");
    }
    if report.has_errors() {
        println!("Fix the errors above, then run `latchkey check-config` again.");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `migrate`: the pending migrations, applied; what was applied, printed.
async fn migrate(config: Config) -> ExitCode {
    let db = match engine::db::Db::connect(&config.stores.database_url).await {
        Ok(db) => db,
        Err(e) => return fail(format_args!("database unreachable (LATCHKEY_DATABASE_URL): {e}")),
    };
    let pending = match db.pending_migrations().await {
        Ok(pending) => pending,
        Err(e) => return fail(format_args!("cannot read the applied migrations: {e}")),
    };
    if let Err(e) = db.migrate().await {
        return fail(format_args!("migration failed: {e}"));
    }
    match pending.as_slice() {
        [] => println!("nothing to apply: every migration is applied"),
        versions => println!(
            "applied {} migration(s): {}",
            versions.len(),
            versions.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        ),
    }
    match engine::ops::addresses::no_longer_accepted(&db).await {
        Ok(ids) => {
            if let Some(sentence) = engine::ops::addresses::report(&ids) {
                println!("warning: {sentence}");
            }
        }
        Err(e) => return fail(format_args!("cannot read the accounts' addresses: {e}")),
    }
    ExitCode::SUCCESS
}

async fn serve(config: Config) -> ExitCode {
    warn_about_development_defaults(&config);
    let (addr, metrics_addr) = (config.http.addr, config.http.metrics_addr);
    if let Some(metrics_addr) = metrics_addr
        && let Err(e) = serve_metrics(metrics_addr).await
    {
        return fail(format_args!("{e}"));
    }
    let app = match Latchkey::build(config).await {
        Ok(app) => app,
        Err(e) => return fail(format_args!("start-up failed: {e}")),
    };
    let mail = app.engine().notify.mailer();
    if mail.enabled() {
        tracing::info!("{}", mail.describe());
    } else {
        tracing::warn!("{}", mail.describe());
    }
    let db = app.engine().db.clone();
    tokio::spawn(async move {
        match engine::ops::addresses::no_longer_accepted(&db).await {
            Ok(ids) => {
                if let Some(sentence) = engine::ops::addresses::report(&ids) {
                    tracing::warn!("{sentence}");
                }
            }
            Err(error) => tracing::warn!(%error, "could not read the accounts' addresses"),
        }
    });
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

/// Installs the Prometheus recorder and serves `/metrics` on `addr` (`LATCHKEY_METRICS_ADDR`).
async fn serve_metrics(addr: std::net::SocketAddr) -> Result<(), String> {
    let handle = server::telemetry::install_metrics().map_err(|e| format!("metrics: {e}"))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr} (LATCHKEY_METRICS_ADDR): {e}"))?;
    tracing::info!("metrics at http://{addr}/metrics");
    tokio::spawn(async move {
        if let Err(e) = server::telemetry::serve_metrics(listener, handle).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(())
}

/// `keys rotate` and `keys list`: the keys in the configured database, as every instance sees them.
/// Running instances pick a rotation up within `engine::tokens::keys::RELOAD_EVERY`.
async fn keys(config: Config, rotate: bool) -> ExitCode {
    warn_about_development_defaults(&config);
    let engine = match built(config).await {
        Ok(engine) => engine,
        Err(failed) => return failed,
    };
    let now = engine::base::clock::now();
    if rotate {
        match engine.keys.rotate_now(now).await {
            Ok(kids) => println!("rotated; now signing with {}", kids.join(", ")),
            Err(e) => return fail(format_args!("rotation failed: {e}")),
        }
    }
    match engine.keys.summaries(now).await {
        Ok(keys) => {
            for key in keys {
                let since = key.activated_at.map(engine::base::clock::rfc3339).unwrap_or_else(|| "-".into());
                let until = key.publish_until.map(engine::base::clock::rfc3339).unwrap_or_else(|| "-".into());
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

/// The engine an admin command works with, or the exit of a start-up that failed.
async fn built(config: Config) -> Result<engine::Engine, ExitCode> {
    engine::Engine::build(config).await.map_err(|e| fail(format_args!("start-up failed: {e}")))
}

/// `admin …`: what changed on stdout (a link, or one line), anything else on stderr. Each change is
/// the operator's, in the administrators' record (actor `operator`).
async fn admin(config: Config, command: AdminCommand) -> ExitCode {
    let engine = match built(config).await {
        Ok(engine) => engine,
        Err(failed) => return failed,
    };
    match admin_command(&engine, command, engine::base::clock::now()).await {
        Ok(said) => {
            println!("{}", said.trim_end());
            ExitCode::SUCCESS
        }
        Err(e) => fail(format_args!("{e}")),
    }
}

async fn admin_command(engine: &engine::Engine, command: AdminCommand, now: i64) -> Result<String, engine::Error> {
    use engine::accounts::admins::{self, account_of};
    use engine::accounts::standing::{self, Standing};
    use engine::accounts::{invitations, recovery};
    let (accounts, operator) = (&engine.accounts, Actor::operator());
    Ok(match command {
        AdminCommand::RecoveryLink { email, ttl } => {
            let user = account_of(accounts, &email).await?;
            let link = recovery::operator_link(accounts, &operator, &user.id, ttl, now).await?;
            eprintln!("works once, until {}", link.expires_at);
            link.url
        }
        AdminCommand::Invite { email, groups, admin, ttl } => {
            let what = invitations::Invite { email: email.as_deref(), groups: &groups, admin, ttl };
            let invitation = invitations::invite(accounts, &operator, &what, now).await?;
            let mailed = match (&invitation.email, invitation.mailed) {
                (Some(to), true) => format!("; mailed to {to}"),
                (Some(to), false) => format!("; for {to} only (mail is off: hand it over yourself)"),
                (None, _) => "; for any address".to_owned(),
            };
            let joins = if invitation.groups.is_empty() {
                String::new()
            } else {
                format!("; joins {}", invitation.groups.join(", "))
            };
            let admin = if invitation.admin { "; makes an administrator" } else { "" };
            eprintln!("invitation {} works once, until {}{mailed}{joins}{admin}", invitation.id, invitation.expires_at);
            invitation.url
        }
        AdminCommand::RevokeInvitation { id } => {
            invitations::revoke(accounts, &operator, &id, now).await?;
            format!("invitation {id} is withdrawn")
        }
        AdminCommand::Group { command } => group(accounts, &operator, command, now).await?,
        AdminCommand::Disable { email } => {
            let user = account_of(accounts, &email).await?;
            match standing::set_disabled(accounts, &operator, &user.id, true, now).await? {
                Standing::Disabled { sign_ins_ended } => {
                    format!("{} is disabled; {sign_ins_ended} sign-in(s) ended", user.email)
                }
                _ => format!("{} already was disabled", user.email),
            }
        }
        AdminCommand::Enable { email } => {
            let user = account_of(accounts, &email).await?;
            match standing::set_disabled(accounts, &operator, &user.id, false, now).await? {
                Standing::Unchanged => format!("{} already was enabled", user.email),
                _ => format!("{} is enabled", user.email),
            }
        }
        AdminCommand::Grant { email } => {
            let user = account_of(accounts, &email).await?;
            if admins::set_admin(accounts, &operator, &user.id, true, now).await? {
                format!("{} is an administrator", user.email)
            } else {
                format!("{} already was an administrator", user.email)
            }
        }
        AdminCommand::Revoke { email } => {
            let user = account_of(accounts, &email).await?;
            if admins::set_admin(accounts, &operator, &user.id, false, now).await? {
                format!("{} is no longer an administrator", user.email)
            } else {
                format!("{} was not an administrator", user.email)
            }
        }
        AdminCommand::Admins => {
            let lines: Vec<String> = admins::list(accounts)
                .await?
                .iter()
                .map(|a| {
                    let since = engine::base::clock::rfc3339(a.admin_since.unwrap_or_default());
                    let disabled = if a.disabled_at.is_some() { "  (disabled)" } else { "" };
                    format!("{}  since {since}{disabled}", a.email)
                })
                .collect();
            if lines.is_empty() { "no administrators".to_owned() } else { lines.join("\n") }
        }
    })
}
/// `admin group create|delete|add|remove|list`: one line saying what changed (or the list).
async fn group(
    accounts: &engine::accounts::Accounts,
    operator: &Actor,
    command: GroupCommand,
    now: i64,
) -> Result<String, engine::Error> {
    use engine::accounts::admins::account_of;
    use engine::accounts::groups;
    Ok(match command {
        GroupCommand::Create { name, description } => {
            groups::create(accounts, operator, &name, description.as_deref(), now).await?;
            format!("group {name} made")
        }
        GroupCommand::Delete { name } => {
            groups::delete(accounts, operator, &name, now).await?;
            format!("group {name} deleted")
        }
        GroupCommand::Add { name, email } => {
            let user = account_of(accounts, &email).await?;
            if groups::add(accounts, operator, &name, &user.id, now).await? {
                format!("{} is in {name}", user.email)
            } else {
                format!("{} already was in {name}", user.email)
            }
        }
        GroupCommand::Remove { name, email } => {
            let user = account_of(accounts, &email).await?;
            if groups::remove(accounts, operator, &name, &user.id, now).await? {
                format!("{} left {name}", user.email)
            } else {
                format!("{} was not in {name}", user.email)
            }
        }
        GroupCommand::List => {
            let lines: Vec<String> = groups::list(accounts)
                .await?
                .iter()
                .map(|g| format!("{}  {} member(s)  {}", g.name, g.members, g.description.as_deref().unwrap_or("")))
                .collect();
            if lines.is_empty() { "no groups".to_owned() } else { lines.join("\n") }
        }
    })
}

/// `30s`, `30m`, `1h`, `2d`.
fn parse_ttl(raw: &str) -> Result<Duration, String> {
    let refused = || format!("`{raw}`: use a number and a unit, like 30m, 1h or 2d");
    let unit = match raw.chars().last() {
        Some('s') => 1,
        Some('m') => 60,
        Some('h') => 3600,
        Some('d') => 86_400,
        _ => return Err(refused()),
    };
    let count: u64 = raw[..raw.len() - 1].parse().map_err(|_| refused())?;
    count.checked_mul(unit).map(Duration::from_secs).ok_or_else(refused)
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
    match engine::tokens::secret::hash_secret(secret) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(format_args!("hashing failed: {e}")),
    }
}

fn warn_about_development_defaults(config: &Config) {
    if config.tokens.operator_secret_is_dev_default {
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
