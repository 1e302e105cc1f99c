//! The test harness: starts the real app on 127.0.0.1:0 with a fresh database (SQLite file, or a new
//! PostgreSQL database when `LATCHKEY_TEST_BACKEND=postgres`) and talks HTTP to it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::{SoftAuthenticator, Tweaks};
use tokio::net::{TcpListener, TcpStream};

/// The origin every test ceremony claims to come from (the configured one).
pub const ORIGIN: &str = "http://localhost:3000";
/// The operator secret the test servers seal their signing keys with, so a test can open them
/// (through [`engine_for`]) and sign tokens of its own.
pub const OPERATOR_SECRET: &str = "integration-test-secret-of-at-least-32-bytes";
/// AAGUID the tests' authenticators report, and the name the test AAGUID file gives it.
pub const TEST_AAGUID: [u8; 16] = [0x11; 16];
pub const TEST_AUTHENTICATOR: &str = "Test Authenticator";

/// Which stores the suite runs against, from the environment `make` sets.
pub fn backend_is_postgres() -> bool {
    std::env::var("LATCHKEY_TEST_BACKEND").as_deref() == Ok("postgres")
}

/// The Redis URL when the suite has one.
pub fn redis_url() -> Option<String> {
    std::env::var("LATCHKEY_TEST_REDIS_URL").ok().filter(|u| !u.is_empty())
}

/// A fresh, empty database URL for one test.
pub async fn fresh_database() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    if backend_is_postgres() {
        use sqlx::Connection;
        let admin = std::env::var("LATCHKEY_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let mut conn = sqlx::PgConnection::connect(&admin).await.expect("PostgreSQL reachable");
        sqlx::query(&format!("CREATE DATABASE lk_test_{id}")).execute(&mut conn).await.expect("create database");
        let base = admin.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin);
        format!("{base}/lk_test_{id}")
    } else {
        let dir = std::env::temp_dir().join("latchkey-tests");
        std::fs::create_dir_all(&dir).expect("temp dir");
        format!("sqlite://{}/{id}.db", dir.display())
    }
}

/// The AAGUID names file every test server reads, written once per test run (rewriting it for each
/// test let a server read it half-written while another test truncated it).
fn aaguid_file() -> String {
    static FILE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("latchkey-tests-aaguids-{}.json", std::process::id()));
        let aaguid = uuid::Uuid::from_bytes(TEST_AAGUID).to_string();
        std::fs::write(&path, json!({ aaguid: TEST_AUTHENTICATOR }).to_string()).expect("aaguid file");
        path.display().to_string()
    })
    .clone()
}

/// The environment a test server starts with; tests override single variables.
#[derive(Clone)]
pub struct Env(HashMap<&'static str, String>);

impl Env {
    pub async fn new() -> Self {
        let mut vars = HashMap::from([
            ("LATCHKEY_ADDR", "127.0.0.1:0".to_string()),
            ("LATCHKEY_ORIGINS", ORIGIN.to_string()),
            ("LATCHKEY_OPERATOR_SECRET", OPERATOR_SECRET.to_string()),
            ("LATCHKEY_DATABASE_URL", fresh_database().await),
            ("LATCHKEY_AAGUID_FILE", aaguid_file()),
        ]);
        if let Some(url) = redis_url().filter(|_| backend_is_postgres()) {
            vars.insert("LATCHKEY_REDIS_URL", url);
        }
        Self(vars)
    }

    pub fn set(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.0.insert(key, value.into());
        self
    }

    pub fn remove(&mut self, key: &str) {
        self.0.remove(key);
    }

    /// Every variable, for a process started with the same settings.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(key, value)| (*key, value.as_str()))
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
}

/// An engine on a test server's database (and its operator secret): the same keys, users and sign-ins,
/// for tests that sign tokens, run housekeeping or look at what a server stored.
pub async fn engine_for(database: &str) -> engine::Engine {
    engine_with(database, &[]).await
}

/// [`engine_for`], with more settings (`LATCHKEY_*` name and value).
pub async fn engine_with(database: &str, settings: &[(&str, &str)]) -> engine::Engine {
    let config = engine::Config::from_lookup(|key| match key {
        "LATCHKEY_DATABASE_URL" => Some(database.to_owned()),
        "LATCHKEY_OPERATOR_SECRET" => Some(OPERATOR_SECRET.to_owned()),
        _ => settings.iter().find(|(name, _)| *name == key).map(|(_, value)| (*value).to_owned()),
    })
    .expect("valid test config");
    engine::Engine::build(config).await.expect("engine builds")
}

/// A running server and an HTTP client for it.
pub struct TestServer {
    pub base: String,
    /// The configured origin the ceremonies of the helpers below claim ([`ORIGIN`] unless started
    /// with [`TestServer::start_at_own_origin`]).
    pub origin: String,
    client: reqwest::Client,
}

/// One HTTP answer: status, headers and the JSON body (`Value::Null` when empty or not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The `error` code of an error body.
    pub fn code(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Env::new().await).await
    }

    pub async fn start_with(env: Env) -> Self {
        Self::start_with_state(env, |app| app).await
    }

    /// Starts a server that the test adjusts first (e.g. with event hooks).
    pub async fn start_with_state(env: Env, adjust: impl FnOnce(server::Latchkey) -> server::Latchkey) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve(env, listener, adjust).await
    }

    /// Starts a server whose configured origin is its real address, `http://localhost:<port>` (unless
    /// `env` names one already, as a second instance of the same deployment does), for clients
    /// that follow the addresses it publishes (OpenID Connect discovery). Returns it with its origin.
    pub async fn start_at_own_origin(env: Env) -> (Self, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let own = format!("http://localhost:{}", listener.local_addr().expect("addr").port());
        let origin = match env.get("LATCHKEY_ORIGINS") {
            Some(configured) if configured != ORIGIN => configured,
            _ => own,
        };
        let server = Self::serve(env.set("LATCHKEY_ORIGINS", origin.clone()), listener, |app| app).await;
        (server, origin)
    }

    async fn serve(env: Env, listener: TcpListener, adjust: impl FnOnce(server::Latchkey) -> server::Latchkey) -> Self {
        // Servers of one test share Redis keys exactly when they share a database (a test of two
        // instances); tests running side by side never see each other's ceremonies in flight.
        let database = env.get("LATCHKEY_DATABASE_URL").unwrap_or_default();
        let env = match env.get("LATCHKEY_REDIS_PREFIX") {
            Some(_) => env,
            None => env.set("LATCHKEY_REDIS_PREFIX", format!("lk-test:{database}:")),
        };
        let config = engine::Config::from_lookup(|k| env.get(k)).expect("valid test config");
        let app = adjust(server::Latchkey::build(config).await.expect("server builds"));
        let addr = listener.local_addr().expect("addr");
        // Exactly what `main` runs: the same connection limits and timeouts.
        tokio::spawn(app.serve(listener));
        let origin = env.get("LATCHKEY_ORIGINS").unwrap_or_else(|| ORIGIN.to_owned());
        Self { base: format!("http://{addr}"), origin, client: reqwest::Client::new() }
    }

    /// A client for a server already listening at `base` (a `latchkey` process a test started).
    pub fn at(base: String) -> Self {
        Self { base, origin: ORIGIN.to_owned(), client: reqwest::Client::new() }
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.expect("server answers")).await
    }

    /// A request with an arbitrary body and content type, for malformed-input tests.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        token: Option<&str>,
    ) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send().await.expect("server answers")).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.request(Method::GET, path, token, None).await
    }

    /// Registers `email` with a password; returns the access and refresh tokens.
    pub async fn sign_up(&self, email: &str) -> (String, String) {
        let answer =
            self.post("/auth/register", None, json!({"email": email, "password": "correct horse battery"})).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        (answer.body["access_token"].as_str().unwrap().into(), answer.body["refresh_token"].as_str().unwrap().into())
    }

    /// Confirms the address of `token`'s account with the code its sign-up mailed to `email` (notices
    /// are mailed only to confirmed addresses).
    pub async fn confirm_address(&self, smtp: &SmtpServer, token: &str, email: &str) {
        let code = smtp.mail_with(email, "Confirm your email").await.code();
        let confirmed = self.post("/auth/email/verify-code", Some(token), json!({ "code": code })).await;
        assert_eq!(confirmed.status, StatusCode::NO_CONTENT, "{}", confirmed.body);
    }

    /// Runs a whole registration; returns the complete answer.
    pub async fn register_passkey_with(
        &self,
        token: &str,
        authenticator: &mut SoftAuthenticator,
        tweaks: &Tweaks,
        name: Option<&str>,
    ) -> Answer {
        let options = self.post("/auth/passkeys/register/begin", Some(token), json!({})).await;
        assert_eq!(options.status, StatusCode::OK, "{}", options.body);
        let credential = authenticator.create_with(&options.body, &self.origin, tweaks).expect("authenticator creates");
        let mut body = json!({ "credential": credential });
        if let Some(name) = name {
            body["name"] = json!(name);
        }
        self.post("/auth/passkeys/register/complete", Some(token), body).await
    }

    /// Registers a passkey and returns its id.
    pub async fn add_passkey(&self, token: &str, authenticator: &mut SoftAuthenticator) -> String {
        let answer = self.register_passkey_with(token, authenticator, &Tweaks::default(), Some("Test key")).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.body["id"].as_str().unwrap().to_owned()
    }

    /// authenticate/begin (targeted when `email` is given).
    pub async fn begin_sign_in(&self, email: Option<&str>) -> Value {
        let body = email.map(|e| json!({ "email": e })).unwrap_or_else(|| json!({}));
        let options = self.post("/auth/passkeys/authenticate/begin", None, body).await;
        assert_eq!(options.status, StatusCode::OK, "{}", options.body);
        options.body
    }

    /// A whole passkey sign-in; returns the complete answer.
    pub async fn sign_in_with(
        &self,
        authenticator: &mut SoftAuthenticator,
        email: Option<&str>,
        tweaks: &Tweaks,
    ) -> Answer {
        let options = self.begin_sign_in(email).await;
        let credential = authenticator.get_with(&options, &self.origin, tweaks).expect("authenticator signs");
        self.post("/auth/passkeys/authenticate/complete", None, json!({ "credential": credential })).await
    }

    pub async fn sign_in(&self, authenticator: &mut SoftAuthenticator, email: Option<&str>) -> Answer {
        self.sign_in_with(authenticator, email, &Tweaks::default()).await
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer { status, headers, body }
}

/// Writes an OpenID Connect clients file (`LATCHKEY_OIDC_CLIENTS`) holding `text`; returns its path.
pub fn clients_file(text: &str) -> String {
    let path = std::env::temp_dir().join(format!("latchkey-clients-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, text).expect("clients file");
    path.display().to_string()
}

/// An authenticator that reports the test AAGUID.
pub fn authenticator() -> SoftAuthenticator {
    let mut authenticator = SoftAuthenticator::new();
    authenticator.set_aaguid(TEST_AAGUID);
    authenticator
}

/// A TCP forwarder to a real service that a test can cut and restore, to simulate an outage.
pub struct FlakyProxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    generation: Arc<tokio::sync::watch::Sender<u64>>,
}

impl FlakyProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let up = Arc::new(AtomicBool::new(true));
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let generation = Arc::new(generation);
        let (accept_up, accept_generation) = (up.clone(), generation.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !accept_up.load(Ordering::SeqCst) {
                    continue; // dropping the socket refuses the connection
                }
                let mut cut = accept_generation.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { addr, up, generation }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Direct access to the test server's database, for states HTTP alone cannot produce.
pub mod stores {
    use sqlx::{AnyPool, Row as _};

    pub async fn connect(url: &str) -> AnyPool {
        sqlx::any::install_default_drivers();
        AnyPool::connect(url).await.unwrap()
    }

    /// Sets the counter inside every stored webauthn-rs `Passkey` to 0, leaving `sign_count` as it is.
    pub async fn roll_back_stored_counter(db: &AnyPool) {
        for row in sqlx::query("SELECT credential_id, passkey FROM passkeys").fetch_all(db).await.unwrap() {
            let (id, json): (String, String) = (row.get(0), row.get(1));
            let mut passkey: serde_json::Value = serde_json::from_str(&json).unwrap();
            *passkey.pointer_mut("/cred/counter").expect("webauthn-rs keeps the counter here") = 0.into();
            sqlx::query("UPDATE passkeys SET passkey = $1 WHERE credential_id = $2")
                .bind(passkey.to_string())
                .bind(id)
                .execute(db)
                .await
                .unwrap();
        }
    }

    /// Moves every sign-in's `auth_time` `seconds` into the past, as if the user had proved who they
    /// are that long ago (tokens refreshed afterwards carry it).
    pub async fn age_sign_ins(db: &AnyPool, seconds: i64) {
        sqlx::query("UPDATE sign_ins SET auth_time = COALESCE(auth_time, created_at) - $1")
            .bind(seconds)
            .execute(db)
            .await
            .unwrap();
    }

    /// Lets every password lock run out, as if its time had passed.
    pub async fn expire_password_locks(db: &AnyPool) {
        sqlx::query("UPDATE login_attempts SET locked_until = 1 WHERE locked_until IS NOT NULL")
            .execute(db)
            .await
            .unwrap();
    }

    /// Moves every sign-in's start `seconds` into the past (its `auth_time` stays).
    pub async fn age_sign_in_starts(db: &AnyPool, seconds: i64) {
        sqlx::query("UPDATE sign_ins SET auth_time = COALESCE(auth_time, created_at), created_at = created_at - $1")
            .bind(seconds)
            .execute(db)
            .await
            .unwrap();
    }

    /// Moves every mailed confirmation `seconds` into the past, as if it had been sent that long ago
    /// (past the minute before another may be sent).
    pub async fn age_email_verifications(db: &AnyPool, seconds: i64) {
        sqlx::query("UPDATE email_verifications SET created_at = created_at - $1")
            .bind(seconds)
            .execute(db)
            .await
            .unwrap();
    }

    pub async fn count(db: &AnyPool, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(db).await.unwrap()
    }
}

/// A real SMTP server on 127.0.0.1 (the `mailin-embedded` crate, no TLS) that keeps every mail it
/// accepts, for tests of what Latchkey mails.
pub struct SmtpServer {
    pub addr: SocketAddr,
    received: Arc<std::sync::Mutex<Vec<ReceivedMail>>>,
}

/// A mail the test SMTP server accepted: its recipients and its raw text (headers and body).
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    pub to: Vec<String>,
    pub raw: String,
}

impl ReceivedMail {
    /// The raw text with quoted-printable undone (soft line breaks, `=XX` bytes), to read as a person.
    pub fn text(&self) -> String {
        let joined = self.raw.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let (mut decoded, mut i) = (Vec::with_capacity(bytes.len()), 0);
        while i < bytes.len() {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
            match (bytes[i], hex) {
                (b'=', Some(byte)) => {
                    decoded.push(byte);
                    i += 3;
                }
                (byte, _) => {
                    decoded.push(byte);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&decoded).into_owned()
    }

    /// The first `https?://…/<path>?token=…` link in the mail's text.
    pub fn link(&self, path: &str) -> String {
        let text = self.text();
        let start = text.find(&format!("{path}?token=")).expect("the mail has the link");
        let begin = text[..start].rfind("http").expect("an absolute link");
        text[begin..].split(|c: char| c.is_whitespace() || c == '"' || c == '<').next().unwrap().to_owned()
    }

    /// The eight-digit code after `account page: ` in the mail's text (mailed as two groups of
    /// four), as it would be typed.
    pub fn code(&self) -> String {
        let text = self.text();
        let at = text.find("account page: ").expect("the mail has the code") + "account page: ".len();
        let shown = text[at..].lines().next().unwrap_or_default().trim();
        let code: String = shown.split(' ').collect();
        assert!(code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()), "not an eight-digit code: {shown:?}");
        code
    }
}

#[derive(Clone)]
struct Keeper {
    received: Arc<std::sync::Mutex<Vec<ReceivedMail>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for Keeper {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let mail =
            ReceivedMail { to: std::mem::take(&mut self.to), raw: String::from_utf8_lossy(&self.data).into_owned() };
        self.received.lock().unwrap().push(mail);
        mailin_embedded::response::OK
    }
}

impl SmtpServer {
    /// Starts the server on its own threads (it runs until the test process ends).
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(std::sync::Mutex::new(Vec::new()));
        let keeper = Keeper { received: received.clone(), to: Vec::new(), data: Vec::new() };
        std::thread::spawn(move || {
            let mut server = mailin_embedded::Server::new(keeper);
            // One thread per connection, and senders keep theirs open (lettre's pool): enough for all.
            server.with_name("smtp.test").with_num_threads(64).with_tcp_listener(listener);
            let _ = server.serve();
        });
        Self { addr, received }
    }

    /// `LATCHKEY_SMTP_URL` for a server at `addr` (this one, or a proxy in front of it).
    pub fn url_at(addr: SocketAddr) -> String {
        format!("smtp://{addr}")
    }

    /// Every mail so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to 20 s) until a mail to `to` has arrived, and returns the newest.
    pub async fn mail_to(&self, to: &str) -> ReceivedMail {
        self.mail_with(to, "").await
    }

    /// Waits (up to 20 s) until a mail to `to` whose text has `needle` has arrived; the newest.
    pub async fn mail_with(&self, to: &str, needle: &str) -> ReceivedMail {
        for _ in 0..200 {
            let found =
                self.received().into_iter().rev().find(|m| m.to.iter().any(|t| t == to) && m.text().contains(needle));
            if let Some(mail) = found {
                return mail;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no mail to {to} arrived; got {:?}", self.received().iter().map(|m| &m.to).collect::<Vec<_>>());
    }
}

/// A client whose connections come from `address` (any 127.x.y.z is this machine), so a test can
/// play several clients.
pub fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder().local_address(address.parse::<std::net::IpAddr>().unwrap()).build().unwrap()
}

/// `latchkey …` with the test server's settings: (succeeded, stdout and stderr).
pub fn operator(env: &Env, args: &[&str]) -> (bool, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_latchkey"));
    let output = command.args(args).env_clear().envs(env.vars()).env("RUST_LOG", "warn").output();
    let output = output.unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), said)
}
