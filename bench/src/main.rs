//! The Latchkey load generator (`make bench`): starts the release server on a fresh database, seeds
//! users that each hold a passkey in their own software authenticator (real ES256 signatures), drives
//! fixed-duration phases over loopback HTTP and prints one markdown table of throughput, latency,
//! errors, server CPU per operation and server peak RSS.

mod client;
mod oidc;
mod phases;
mod procfs;
mod report;
mod server;
mod signing;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::client::{Api, VirtualUser};
use crate::phases::{Op, PhaseResult, Watched};
use crate::procfs::Pid;
use crate::server::{Backend, Server};

/// Every error ends the run with its message.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "\
usage: bench [options]
  --backend sqlite|postgres   stores to run on (default sqlite: SQLite file + in-memory ceremonies;
                              postgres: a fresh PostgreSQL database + Redis)
  --server PATH               server binary (default target/release/latchkey)
  --pg-url URL                PostgreSQL to CREATE DATABASE on (default postgres://postgres@127.0.0.1:5432/postgres)
  --redis-url URL             Redis for the postgres run (default redis://127.0.0.1:6379)
  --users N                   seeded users, one passkey each (default 512)
  --concurrency N             clients in the closed-loop phases (default 16)
  --password-concurrency N    clients in the password-login phase (default 4; each Argon2id needs 19 MiB)
  --seed-concurrency N        clients while seeding (default 2)
  --duration SECS             length of every phase (default 10)
  --warmup SECS               unreported discoverable sign-ins before the first phase (default 2)
  --rate N                    arrivals per second in the paced sign-in phase (default 1000)
  --paced-workers N           workers sharing the paced arrivals (default 64)
  --phases LIST               comma-separated subset of discoverable,targeted,refresh,list,register,paced,
                              oidc,oidc-es256,oidc-openid,oidc-groups,jwks,password,oidc-hashed,signing
  --site DIR                  where the bundle's .wasm, .js and .css are (default target/site-release/pkg)
  --work-dir DIR              SQLite files and server logs (default target/bench)";

const ALL_PHASES: [&str; 14] = [
    "discoverable",
    "targeted",
    "refresh",
    "list",
    "register",
    "paced",
    "oidc",
    "oidc-es256",
    "oidc-openid",
    "oidc-groups",
    "jwks",
    "password",
    "oidc-hashed",
    "signing",
];

/// The command line.
struct Options {
    backend: Backend,
    server: PathBuf,
    users: usize,
    concurrency: usize,
    password_concurrency: usize,
    seed_concurrency: usize,
    duration: Duration,
    warmup: Duration,
    rate: u32,
    paced_workers: usize,
    phases: Vec<String>,
    site: PathBuf,
    work_dir: PathBuf,
}

impl Options {
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, BoxError> {
        let mut backend = "sqlite".to_owned();
        let mut pg_url = "postgres://postgres@127.0.0.1:5432/postgres".to_owned();
        let mut redis_url = "redis://127.0.0.1:6379".to_owned();
        let mut options = Self {
            backend: Backend::Sqlite,
            server: "target/release/latchkey".into(),
            users: 512,
            concurrency: 16,
            password_concurrency: 4,
            seed_concurrency: 2,
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            rate: 1000,
            paced_workers: 64,
            phases: ALL_PHASES.iter().map(|&p| p.to_owned()).collect(),
            site: "target/site-release/pkg".into(),
            work_dir: "target/bench".into(),
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--help" || arg == "-h" {
                return Err(USAGE.into());
            }
            let (flag, value) = match arg.split_once('=') {
                Some((flag, value)) => (flag.to_owned(), value.to_owned()),
                None => {
                    let value = args.next().ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))?;
                    (arg, value)
                }
            };
            let number = |v: &str| v.parse::<usize>().map_err(|_| format!("{flag}: not a number: {v}"));
            match flag.as_str() {
                "--backend" => backend = value,
                "--server" => options.server = value.into(),
                "--pg-url" => pg_url = value,
                "--redis-url" => redis_url = value,
                "--users" => options.users = number(&value)?.max(1),
                "--concurrency" => options.concurrency = number(&value)?.max(1),
                "--password-concurrency" => options.password_concurrency = number(&value)?.max(1),
                "--seed-concurrency" => options.seed_concurrency = number(&value)?.max(1),
                "--duration" => options.duration = Duration::from_secs(number(&value)?.max(1) as u64),
                "--warmup" => options.warmup = Duration::from_secs(number(&value)? as u64),
                "--rate" => options.rate = u32::try_from(number(&value)?.max(1))?,
                "--paced-workers" => options.paced_workers = number(&value)?.max(1),
                "--phases" => {
                    options.phases = value.split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect();
                    if let Some(bad) = options.phases.iter().find(|p| !ALL_PHASES.contains(&p.as_str())) {
                        return Err(format!("--phases: unknown phase {bad}\n{USAGE}").into());
                    }
                }
                "--site" => options.site = value.into(),
                "--work-dir" => options.work_dir = value.into(),
                _ => return Err(format!("unknown option {flag}\n{USAGE}").into()),
            }
        }
        options.backend = match backend.as_str() {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres { admin_url: pg_url, redis_url },
            other => return Err(format!("--backend: sqlite or postgres, not {other}").into()),
        };
        // Every worker needs users of its own.
        options.users = options.users.max(options.concurrency).max(options.paced_workers);
        Ok(options)
    }

    fn wants(&self, phase: &str) -> bool {
        self.phases.iter().any(|p| p == phase)
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let options = Options::parse(std::env::args().skip(1))?;
    let connections = options.concurrency.max(options.paced_workers).max(options.seed_concurrency) + 8;
    let probe = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    eprintln!("bench: starting {} on {}", options.server.display(), options.backend.label());
    let server = Server::start(&options.server, &options.backend, &options.work_dir, &probe).await?;
    let outcome = measure(&options, &server, connections).await;
    let log = server.log.clone();
    server.stop().await;
    let report = outcome?;
    println!("{report}");
    eprintln!("bench: server log (RUST_LOG=warn) in {}", log.display());
    Ok(())
}

/// Seeds, runs every phase and renders the report.
async fn measure(options: &Options, server: &Server, connections: usize) -> Result<String, BoxError> {
    let watched = Watched { pid: server.pid, ticks_per_second: procfs::clock_ticks_per_second() };
    let idle_rss = procfs::status_kib(Pid::Of(server.pid), "VmRSS")?;
    let api = Api::new(server.base.clone(), connections)?;

    eprintln!("bench: seeding {} users, each with a passkey", options.users);
    let seeding = Instant::now();
    let mut users = seed(&api, options.users, options.seed_concurrency).await?;
    let seed_time = seeding.elapsed();
    let seeded_rss = procfs::status_kib(Pid::Of(server.pid), "VmRSS")?;

    if !options.warmup.is_zero() {
        phases::closed_loop(&api, &mut users, Op::SignInDiscoverable, options.concurrency, options.warmup, watched)
            .await?;
    }

    let oidc_phases = ["oidc", "oidc-es256", "oidc-openid", "oidc-groups", "oidc-hashed"];
    if oidc_phases.iter().any(|phase| options.wants(phase)) {
        // Unmeasured: the OIDC phases time a returning user, already signed in to the portal.
        eprintln!("bench: signing {} users in to the portal (password, Argon2id)", users.len());
        let half = users.len() / 2;
        let (first, second) = users.split_at_mut(half);
        let (a, b) = tokio::join!(enter_portal(&api, first), enter_portal(&api, second));
        a.and(b).map_err(|e| format!("portal sign-in failed: {e}"))?;
    }
    if options.wants("oidc-groups") {
        oidc::join_group(&api, &users, crate::server::ADMIN_TOKEN).await?;
    }

    let mut results: Vec<PhaseResult> = Vec::new();
    let closed = [
        ("discoverable", Op::SignInDiscoverable, options.concurrency),
        ("targeted", Op::SignInTargeted, options.concurrency),
        ("refresh", Op::Refresh, options.concurrency),
        ("list", Op::ListPasskeys, options.concurrency),
        // After the list phase, so that the lists stay one passkey long.
        ("register", Op::RegisterPasskey, options.concurrency),
        ("oidc", Op::AppSignIn(oidc::App::Rs256), options.concurrency),
        ("oidc-es256", Op::AppSignIn(oidc::App::Es256), options.concurrency),
        ("oidc-openid", Op::AppSignIn(oidc::App::Openid), options.concurrency),
        ("oidc-groups", Op::AppSignIn(oidc::App::Groups), options.concurrency),
        ("jwks", Op::FetchKeys, options.concurrency),
    ];
    for (phase, op, concurrency) in closed {
        if options.wants(phase) {
            eprintln!("bench: {} ({concurrency} clients, {} s)", op.label(), options.duration.as_secs());
            results.push(phases::closed_loop(&api, &mut users, op, concurrency, options.duration, watched).await?);
        }
    }
    if options.wants("paced") {
        eprintln!("bench: discoverable sign-ins at {}/s ({} s)", options.rate, options.duration.as_secs());
        let op = Op::SignInDiscoverable;
        let (rate, workers) = (options.rate, options.paced_workers);
        results.push(phases::paced(&api, &mut users, op, rate, workers, options.duration, watched).await?);
    }
    // Last: Argon2id's 19 MiB per hash would otherwise stay in the allocator during the other phases.
    if options.wants("password") {
        let concurrency = options.password_concurrency;
        eprintln!("bench: password login ({concurrency} clients, {} s)", options.duration.as_secs());
        let op = Op::PasswordLogin;
        results.push(phases::closed_loop(&api, &mut users, op, concurrency, options.duration, watched).await?);
    }
    if options.wants("oidc-hashed") {
        let concurrency = options.password_concurrency;
        let op = Op::AppSignIn(oidc::App::Hashed);
        eprintln!("bench: {} ({concurrency} clients, {} s)", op.label(), options.duration.as_secs());
        results.push(phases::closed_loop(&api, &mut users, op, concurrency, options.duration, watched).await?);
    }
    let passkeys: usize = users.iter().map(|u| u.passkeys).sum();

    let mut out = format!("## {}\n\n", options.backend.label());
    out.push_str(&format!(
        "- machine: {}; {}\n- server: `{}` (release), `RUST_LOG=warn`; load generator on the same machine\n\
         - cold start (spawn → first `/readyz` 200, fresh database, migrations included): **{:.0} ms**\n\
         - server RSS: {:.1} MiB idle after start, {:.1} MiB after seeding {} users with a password and a passkey each ({:.1} s)\n\
         - every phase runs {} s; latency is per whole operation (both requests of a ceremony); \
         peak RSS is `VmHWM` reset at the start of each phase; {} passkeys stored at the end\n\n",
        report::machine(),
        report::now(),
        options.server.display(),
        server.cold_start.as_secs_f64() * 1000.0,
        idle_rss as f64 / 1024.0,
        seeded_rss as f64 / 1024.0,
        users.len(),
        seed_time.as_secs_f64(),
        options.duration.as_secs(),
        passkeys,
    ));
    out.push_str(&report::table(&results));
    let errors = report::errors(&results);
    if !errors.is_empty() {
        out.push_str(&format!("\nErrors:\n{errors}"));
    }
    out.push('\n');
    if options.wants("signing") {
        eprintln!("bench: token signing costs");
        out.push_str(&signing::costs(&options.work_dir).await?);
        out.push('\n');
    }
    out.push_str(&report::site_size(&options.site));
    Ok(out)
}

async fn enter_portal(api: &Api, users: &mut [VirtualUser]) -> Result<(), client::OpError> {
    for user in users {
        oidc::enter_portal(api, user).await?;
    }
    Ok(())
}

/// Signs up `count` users with a password, then registers one passkey each with its own authenticator.
async fn seed(api: &Api, count: usize, concurrency: usize) -> Result<Vec<VirtualUser>, BoxError> {
    let concurrency = concurrency.clamp(1, count.max(1));
    let mut tasks = JoinSet::new();
    for worker in 0..concurrency {
        let api = api.clone();
        tasks.spawn(async move {
            let mut users = Vec::new();
            for i in (worker..count).step_by(concurrency) {
                let email = format!("user{i}@bench.example");
                let mut user = api.sign_up(email, "correct horse battery staple".to_owned()).await?;
                let mut device = std::mem::take(&mut user.authenticator);
                api.register_passkey(&mut user, &mut device).await?;
                user.authenticator = device;
                users.push(user);
            }
            Ok::<_, client::OpError>(users)
        });
    }
    let mut users = Vec::with_capacity(count);
    while let Some(joined) = tasks.join_next().await {
        users.extend(joined?.map_err(|e| format!("seeding failed: {e}"))?);
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, BoxError> {
        Options::parse(args.iter().map(|&a| a.to_owned()))
    }

    #[test]
    fn defaults_suit_two_cores() {
        let options = parse(&[]).unwrap();
        assert!(matches!(options.backend, Backend::Sqlite));
        assert_eq!((options.concurrency, options.duration.as_secs()), (16, 10));
        assert!(options.users >= options.paced_workers);
    }

    #[test]
    fn flags_take_a_value_or_an_equals_sign() {
        let options = parse(&["--backend", "postgres", "--concurrency=8", "--phases", "paced,list"]).unwrap();
        assert!(matches!(options.backend, Backend::Postgres { .. }));
        assert_eq!(options.concurrency, 8);
        assert!(options.wants("list") && !options.wants("targeted"));
    }

    #[test]
    fn mistakes_are_refused() {
        assert!(parse(&["--phases", "nope"]).is_err());
        assert!(parse(&["--users"]).is_err());
        assert!(parse(&["--backend", "mysql"]).is_err());
        assert!(parse(&["--frobnicate", "1"]).is_err());
    }
}
