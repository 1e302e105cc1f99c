//! TLS to the stores: PostgreSQL with `sslmode=verify-full` and Redis over `rediss://`. The test
//! makes its own certificate authority and starts a PostgreSQL cluster and a Redis server that accept
//! TLS only, on free ports; the shared services are left alone. Runs in the PostgreSQL pass of the
//! suite (the machine that has those services also has their server binaries).

use std::net::TcpListener as StdListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use reqwest::StatusCode;

use crate::common::{Env, TestServer, authenticator, backend_is_postgres};

#[tokio::test]
async fn the_stores_are_reached_over_tls_with_the_certificate_checked() {
    if !backend_is_postgres() {
        eprintln!("skipped: runs in the PostgreSQL pass (LATCHKEY_TEST_BACKEND=postgres)");
        return;
    }
    let pki = Pki::new();
    let redis = TlsRedis::start(&pki);
    let postgres = TlsPostgres::start(&pki);
    let ca = pki.ca.display().to_string();
    let verified_pg = postgres.url(&format!("sslmode=verify-full&sslrootcert={ca}"));
    let tls_env = |env: Env| {
        env.set("LATCHKEY_DATABASE_URL", &verified_pg)
            .set("LATCHKEY_REDIS_URL", redis.url())
            .set("LATCHKEY_REDIS_CA_FILE", &ca)
    };

    // A whole passkey sign-up and sign-in: accounts in PostgreSQL, ceremonies and browser sessions
    // in Redis, every byte over TLS (neither server accepts anything else; see the refusals below).
    let server = TestServer::start_with(tls_env(Env::new().await)).await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    server.add_passkey(&token, &mut key).await;
    let signed_in = server.sign_in(&mut key, None).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert_eq!(server.get("/readyz", None).await.status, StatusCode::OK);
    // Browser sessions in the database take the same TLS connection settings.
    assert!(build(tls_env(Env::new().await).set("LATCHKEY_SESSION_STORE", "database")).await.is_ok());
    // `sslmode=require` encrypts without checking the certificate (libpq's meaning).
    assert!(
        build(tls_env(Env::new().await).set("LATCHKEY_DATABASE_URL", postgres.url("sslmode=require"))).await.is_ok()
    );

    // The servers refuse plain connections, so the successes above were TLS.
    let plain_pg = build(tls_env(Env::new().await).set("LATCHKEY_DATABASE_URL", postgres.url("sslmode=disable"))).await;
    assert!(plain_pg.is_err_and(|e| e.contains("no encryption")), "plain PostgreSQL must be refused");
    let plain_redis = redis.url().replacen("rediss://", "redis://", 1);
    let plain_redis =
        build(Env::new().await.set("LATCHKEY_DATABASE_URL", &verified_pg).set("LATCHKEY_REDIS_URL", plain_redis)).await;
    assert!(plain_redis.is_err(), "a plain connection to the TLS-only Redis must fail");

    // A server whose certificate does not chain to the trusted CA is refused, for each store.
    let stranger = pki.stranger_ca.display().to_string();
    let wrong_pg = postgres.url(&format!("sslmode=verify-full&sslrootcert={stranger}"));
    let refused = build(tls_env(Env::new().await).set("LATCHKEY_DATABASE_URL", wrong_pg)).await;
    assert!(refused.is_err_and(|e| e.contains("certificate")), "an unknown issuer must be refused");
    let refused = build(tls_env(Env::new().await).set("LATCHKEY_REDIS_CA_FILE", &stranger)).await;
    assert!(refused.is_err_and(|e| e.to_lowercase().contains("certificate")), "an unknown issuer must be refused");
    // With no CA file the system's roots are used, and they do not know the test's CA either.
    let mut env = tls_env(Env::new().await);
    env.remove("LATCHKEY_REDIS_CA_FILE");
    assert!(build(env).await.is_err(), "a self-signed Redis must not pass the system's roots");
}

/// Builds the server for `env` without serving it: the store connections are made in here.
async fn build(env: Env) -> Result<(), String> {
    let env = env.set("LATCHKEY_REDIS_PREFIX", format!("lk-test:tls:{}:", uuid::Uuid::new_v4()));
    let config = engine::Config::from_lookup(|k| env.get(k)).map_err(|e| e.to_string())?;
    server::Latchkey::build(config).await.map(drop).map_err(|e| format!("{e:?}"))
}

/// A certificate authority, a server certificate it issued for `localhost`, and a second authority
/// that issued nothing the servers present.
struct Pki {
    dir: PathBuf,
    ca: PathBuf,
    stranger_ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Pki {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("latchkey-tls-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let authority = |name: &str| {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, name);
            CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
        };
        let ca = authority("Latchkey test CA");
        let stranger = authority("Some other CA");
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "localhost");
        let cert = params.signed_by(&key, &ca).unwrap();

        let pki = Self {
            ca: dir.join("ca.pem"),
            stranger_ca: dir.join("stranger-ca.pem"),
            cert: dir.join("server.crt"),
            key: dir.join("server.key"),
            dir,
        };
        std::fs::write(&pki.ca, ca.pem()).unwrap();
        std::fs::write(&pki.stranger_ca, stranger.pem()).unwrap();
        std::fs::write(&pki.cert, cert.pem()).unwrap();
        std::fs::write(&pki.key, key.serialize_pem()).unwrap();
        std::fs::set_permissions(&pki.key, std::fs::Permissions::from_mode(0o600)).unwrap();
        // The PostgreSQL server may run as another user (see `TlsPostgres`); it needs to pass through.
        std::fs::set_permissions(&pki.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        pki
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis server listening on TLS only (`--port 0` turns the plain port off).
struct TlsRedis {
    child: Child,
    port: u16,
}

impl TlsRedis {
    fn start(pki: &Pki) -> Self {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
            .arg("--tls-cert-file")
            .arg(&pki.cert)
            .arg("--tls-key-file")
            .arg(&pki.key)
            .arg("--tls-ca-cert-file")
            .arg(&pki.ca)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (Debian package redis-server) runs");
        wait_for_port(port, "redis-server");
        Self { child, port }
    }

    fn url(&self) -> String {
        format!("rediss://localhost:{}", self.port)
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A throwaway PostgreSQL cluster whose `pg_hba.conf` admits TLS connections only.
struct TlsPostgres {
    child: Child,
    port: u16,
}

impl TlsPostgres {
    fn start(pki: &Pki) -> Self {
        let bin = postgres_bin();
        let data = pki.dir.join("pg");
        // PostgreSQL refuses to run as root; CI runs as root, so the cluster belongs to `postgres`.
        let owner = run_as();
        std::fs::create_dir_all(&data).unwrap();
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&data, Some(uid), Some(gid)).unwrap();
        }
        let mut initdb = Command::new(bin.join("initdb"));
        initdb.arg("-D").arg(&data).args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        let status = as_owner(&mut initdb, owner).stdout(Stdio::null()).status().expect("initdb runs");
        assert!(status.success(), "initdb failed");

        for (from, name) in [(&pki.cert, "server.crt"), (&pki.key, "server.key")] {
            let to = data.join(name);
            std::fs::copy(from, &to).unwrap();
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::chown(&to, Some(uid), Some(gid)).unwrap();
            }
        }
        std::fs::write(
            data.join("pg_hba.conf"),
            "hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
        )
        .unwrap();

        let port = free_port();
        let mut postgres = Command::new(bin.join("postgres"));
        postgres
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-c", "ssl=on", "-c", "ssl_cert_file=server.crt", "-c", "ssl_key_file=server.key"])
            .arg("-k")
            .arg(&data);
        let child = as_owner(&mut postgres, owner).stderr(Stdio::null()).spawn().expect("postgres runs");
        let ready = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            Command::new(bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
                .status()
                .is_ok_and(|s| s.success())
        });
        assert!(ready, "the test's PostgreSQL did not start");
        Self { child, port }
    }

    fn url(&self, params: &str) -> String {
        format!("postgres://postgres@localhost:{}/postgres?{params}", self.port)
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        // SIGQUIT: immediate shutdown, the postmaster takes its backends with it.
        let _ = Command::new("kill").args(["-QUIT", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

/// Debian's server binaries (package postgresql-15 or newer).
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql")
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("an initdb under /usr/lib/postgresql/*/bin")
}

/// The user and group to run PostgreSQL as when this process is root.
fn run_as() -> Option<(u32, u32)> {
    let id = |args: &[&str]| {
        let out = Command::new("id").args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse::<u32>().ok()
    };
    if id(&["-u"]) != Some(0) {
        return None;
    }
    Some((id(&["-u", "postgres"]).expect("a postgres user"), id(&["-g", "postgres"]).expect("a postgres group")))
}

fn as_owner(command: &mut Command, owner: Option<(u32, u32)>) -> &mut Command {
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
    command
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16, what: &str) {
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "{what} did not start listening on {port}");
}
