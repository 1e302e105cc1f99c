//! The database: one connection pool over SQLite or PostgreSQL, chosen by URL, and the queries per table.
//!
//! Queries are written once, in the SQL both databases accept (`$1` placeholders, `TEXT`/`BIGINT`
//! columns, `RETURNING`), and run through `sqlx::Any`; the integration suite runs every one of them
//! against both databases. The one write with a form per database is a passkey sign-in's batch
//! ([`passkey_sign_in`]). Timestamps are Unix seconds in `BIGINT` columns; booleans are 0/1
//! `BIGINT`s in the schema (the one integer type both databases and `sqlx::Any` agree on) and
//! `bool` in every row type. Functions return `sqlx::Error`, which `?` turns into the engine's
//! [`Error`](crate::base::error::Error); [`OrConflict`](crate::base::error::OrConflict) names a unique violation.
//!
//! Each function takes where it runs ([`Exec`]): `&Db`, each statement on its own, or the
//! transaction of a `Change` (`notify/change.rs`), so a change's statements, its mail and its
//! record commit together. The few that run several statements take the change's connection
//! (`&mut AnyConnection`): they only make sense inside one.

pub mod activity;
pub mod admin_audit;
pub mod apps;
pub mod authorization_codes;
pub mod claims;
pub mod consents;
pub mod email_verifications;
pub mod groups;
pub mod invitations;
pub mod login_attempts;
pub mod outbox;
pub mod passkey_sign_in;
pub mod passkeys;
pub mod recovery_links;
pub mod refresh_tokens;
pub mod sign_ins;
pub mod signing_keys;
pub mod users;

use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use sqlx::any::{AnyPoolOptions, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo, install_default_drivers};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::{Any, AnyPool, Describe, Either, Execute, Executor};

/// Where a query runs: `&Db` (a connection from the pool, each statement on its own) or the
/// transaction of a `Change` (`notify/change.rs`) (`change.db()`), so one function serves both.
pub trait Exec<'c>: Executor<'c, Database = Any> {}

impl<'c, T: Executor<'c, Database = Any>> Exec<'c> for T {}

/// Migrations are embedded at compile time from `migrations/`; they run at start-up.
static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// The connection pool; cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    dialect: Dialect,
}

/// Which database is behind the pool, for the few statements whose best form differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Db {
    /// Connects to `url` (`sqlite:…` or `postgres://…`). SQLite files use WAL so readers never wait for
    /// writers, with a cap on the WAL file and a periodic checkpoint so it cannot grow without bound.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        if sqlite {
            create_private_file(url)?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 16 })
            .acquire_timeout(Duration::from_secs(3))
            // No ping before every statement (it was a thread round trip per query): a connection that
            // died with its server fails one query with an I/O error (a 503) and is then replaced.
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 5000; PRAGMA journal_size_limit = 67108864;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        if sqlite {
            checkpoint_periodically(pool.clone());
        }
        Ok(Self { pool, dialect: if sqlite { Dialect::Sqlite } else { Dialect::Postgres } })
    }

    /// Applies the pending migrations in `migrations/`.
    pub async fn migrate(&self) -> Result<(), MigrateError> {
        MIGRATOR.run(&self.pool).await
    }

    /// The versions of the embedded migrations this database has not applied yet (all of them on
    /// an empty database), for `check-config`.
    pub async fn pending_migrations(&self) -> Result<Vec<i64>, sqlx::Error> {
        let applied: Vec<i64> = match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&self.pool)
            .await
        {
            Ok(applied) => applied,
            // No bookkeeping table yet: nothing was ever applied.
            Err(sqlx::Error::Database(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(MIGRATOR.iter().map(|m| m.version).filter(|v| !applied.contains(v)).collect())
    }

    /// Whether the database answers, for `/readyz`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }

    /// BEGIN: a transaction for a `Change` (`notify/change.rs`). SQLite's is IMMEDIATE: it takes
    /// the write lock at once (waiting up to the busy timeout), so a change that reads before it
    /// writes never fails to upgrade its lock because another connection wrote in between.
    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, Any>, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.pool.begin().await,
        }
    }

    /// The pool, for the query modules.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The database behind the pool.
    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }
}

/// The file an SQLite URL names; `None` for another database or an in-memory one.
pub(crate) fn sqlite_file(url: &str) -> Result<Option<std::path::PathBuf>, sqlx::Error> {
    use std::str::FromStr as _;
    if !url.starts_with("sqlite:") || url.contains(":memory:") {
        return Ok(None);
    }
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
    let path = options.get_filename();
    Ok((!path.as_os_str().is_empty() && path != std::path::Path::new(":memory:")).then(|| path.to_path_buf()))
}

/// Creates a missing SQLite file readable and writable by its owner only (SQLite gives its `-wal`
/// and `-shm` files the same permissions), so password hashes and passkeys are not world-readable.
fn create_private_file(url: &str) -> Result<(), sqlx::Error> {
    let Some(path) = sqlite_file(url)? else {
        return Ok(());
    };
    if path.exists() {
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    match file.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(sqlx::Error::Io(e)),
    }
}

/// Under steady load some connection always has a read open, so SQLite's automatic checkpoints never
/// reset the WAL (it grew to ~200 MB in 18 s of benchmark); a TRUNCATE checkpoint every 30 s does.
fn checkpoint_periodically(pool: AnyPool) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(30));
        every.tick().await;
        loop {
            every.tick().await;
            match sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await {
                Ok(_) => {}
                Err(sqlx::Error::PoolClosed) => break,
                Err(error) => tracing::debug!(%error, "WAL checkpoint skipped"),
            }
        }
    });
}

/// `&Db` runs statements on the pool, as `&AnyPool` does; the pool itself stays private to `db/`.
impl<'c> Executor<'c> for &'c Db {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        self.pool.fetch_many(query)
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        self.pool.fetch_optional(query)
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement<'q>, sqlx::Error>>
    where
        'c: 'e,
    {
        self.pool.prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Any>, sqlx::Error>>
    where
        'c: 'e,
    {
        self.pool.describe(sql)
    }
}

/// A boolean as the schema stores it (0/1 `BIGINT`).
fn flag(value: bool) -> i64 {
    i64::from(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_sqlite_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("latchkey-db-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("private.db");

        let db = Db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
        db.migrate().await.unwrap();

        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
