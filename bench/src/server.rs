//! The server under test: a fresh database, the release binary started as a child process, its
//! cold start timed up to the first `/readyz` 200, and its shutdown and clean-up.

use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sqlx::Connection as _;

use crate::BoxError;
use crate::client::ORIGIN;

/// The operator's token of the bench's servers: the `oidc-groups` phase makes its group through the
/// admin API.
pub const ADMIN_TOKEN: &str = "bench-operator-token-of-at-least-32-characters";

/// The stores a run uses.
#[derive(Clone, Debug)]
pub enum Backend {
    /// A fresh SQLite file, ceremonies in memory.
    Sqlite,
    /// A fresh PostgreSQL database made on the server at `admin_url`, ceremonies in Redis at `redis_url`.
    Postgres {
        /// A database the load generator may run `CREATE DATABASE` on.
        admin_url: String,
        /// Where the server keeps ceremony state.
        redis_url: String,
    },
}

impl Backend {
    /// Human name for the report.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite + in-memory challenge store",
            Self::Postgres { .. } => "PostgreSQL + Redis",
        }
    }
}

/// The fresh database a run made, to be removed afterwards.
enum Database {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// A running server.
pub struct Server {
    child: Child,
    /// Its process id, for `/proc`.
    pub pid: u32,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Spawn until the first `/readyz` 200.
    pub cold_start: Duration,
    /// Where its stderr goes.
    pub log: PathBuf,
    database: Database,
}

/// A run-unique suffix for database names.
fn stamp() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("{}_{}", std::process::id(), nanos % 1_000_000_000_000)
}

async fn create_database(backend: &Backend, dir: &std::path::Path) -> Result<(String, Database), BoxError> {
    match backend {
        Backend::Sqlite => {
            let path = dir.join(format!("bench-{}.db", stamp()));
            Ok((format!("sqlite://{}", path.display()), Database::Sqlite(path)))
        }
        Backend::Postgres { admin_url, .. } => {
            let name = format!("latchkey_bench_{}", stamp());
            let mut conn = sqlx::PgConnection::connect(admin_url)
                .await
                .map_err(|e| format!("PostgreSQL at {admin_url} (start it with scripts/services.sh): {e}"))?;
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await?;
            conn.close().await?;
            let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base);
            Ok((format!("{base}/{name}"), Database::Postgres { admin_url: admin_url.clone(), name }))
        }
    }
}

/// A port nobody listens on right now.
fn free_port() -> Result<u16, BoxError> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Server {
    /// Makes a fresh database, starts `binary` on it and waits until `/readyz` answers 200.
    pub async fn start(
        binary: &std::path::Path,
        backend: &Backend,
        work_dir: &std::path::Path,
        http: &reqwest::Client,
    ) -> Result<Self, BoxError> {
        if !binary.is_file() {
            return Err(format!("{} not found: run `cargo build --release -p server` first", binary.display()).into());
        }
        std::fs::create_dir_all(work_dir)?;
        let (database_url, database) = create_database(backend, work_dir).await?;
        let port = free_port()?;
        let log = work_dir
            .join(format!("server-{}.log", if matches!(backend, Backend::Sqlite) { "sqlite" } else { "postgres" }));

        let mut command = Command::new(binary);
        // Nothing from the caller's environment may change what is measured.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("LATCHKEY_") {
                command.env_remove(key);
            }
        }
        let redis_url = match backend {
            Backend::Sqlite => String::new(), // empty = unset, also over a `.env` file
            Backend::Postgres { redis_url, .. } => redis_url.clone(),
        };
        command
            .env("LATCHKEY_ADDR", format!("127.0.0.1:{port}"))
            .env("LATCHKEY_ENV", "development")
            .env("LATCHKEY_DATABASE_URL", &database_url)
            .env("LATCHKEY_REDIS_URL", redis_url)
            .env("LATCHKEY_OPERATOR_SECRET", "bench-secret-bench-secret-bench-secret-0123456789")
            .env("LATCHKEY_ORIGINS", ORIGIN)
            .env("LATCHKEY_OIDC_CLIENTS", crate::oidc::clients_file(work_dir)?)
            // The load generator is one client address sending thousands of sign-ins per second on
            // purpose: the per-client rate limits (docs/security.md) are switched off for it.
            .env("LATCHKEY_RATE_LIMIT_PASSWORD", "off")
            .env("LATCHKEY_RATE_LIMIT_CEREMONY", "off")
            .env("LATCHKEY_RATE_LIMIT_REFRESH", "off")
            .env("LATCHKEY_RATE_LIMIT_PORTAL", "off")
            .env("LATCHKEY_RATE_LIMIT_TOKEN", "off")
            .env("LATCHKEY_RATE_LIMIT_ANY", "off")
            .env("LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS", "100000")
            .env("LATCHKEY_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log)?);

        let started = Instant::now();
        let child = command.spawn().map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let pid = child.id();
        let mut server =
            Self { child, pid, base: format!("http://127.0.0.1:{port}"), cold_start: Duration::ZERO, log, database };
        match server.wait_ready(http, started).await {
            Ok(cold_start) => {
                server.cold_start = cold_start;
                Ok(server)
            }
            Err(e) => {
                server.stop().await;
                Err(e)
            }
        }
    }

    async fn wait_ready(&mut self, http: &reqwest::Client, started: Instant) -> Result<Duration, BoxError> {
        let url = format!("{}/readyz", self.base);
        while started.elapsed() < Duration::from_secs(60) {
            if let Some(status) = self.child.try_wait()? {
                return Err(
                    format!("the server exited ({status}) before it was ready; see {}", self.log.display()).into()
                );
            }
            if let Ok(response) = http.get(&url).send().await
                && response.status() == reqwest::StatusCode::OK
            {
                return Ok(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Err(format!("the server was not ready within 60 s; see {}", self.log.display()).into())
    }

    /// SIGTERM (graceful shutdown), SIGKILL after 5 s, then removes the run's database.
    pub async fn stop(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.pid.to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        match &self.database {
            Database::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Database::Postgres { admin_url, name } => {
                if let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await {
                    if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut conn).await {
                        eprintln!("bench: could not drop database {name}: {e}");
                    }
                    let _ = conn.close().await;
                }
            }
        }
    }
}
