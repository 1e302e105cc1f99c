//! Running Latchkey: the `latchkey` command's subcommands and `--help`, `check-config`'s findings,
//! and `migrate`, each run as the operator runs them (the built binary, its environment only).

use std::process::{Command, Output};

use reqwest::{Method, StatusCode};
use serde_json::json;
use testkit::Tweaks;

use crate::common::*;

/// `latchkey ARGS` with exactly `vars` as its environment (no `.env` is read from the test's directory).
fn latchkey(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let dir = std::env::temp_dir().join("latchkey-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(vars.iter().copied())
        .env("RUST_LOG", "error")
        .output()
        .expect("the latchkey binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn help_names_every_subcommand_and_an_unknown_one_is_a_usage_error() {
    let help = latchkey(&["--help"], &[]);
    assert!(help.status.success());
    let text = stdout(&help);
    for subcommand in ["serve", "check-config", "migrate", "keys", "admin", "hash-secret"] {
        assert!(text.contains(&format!("\n  {subcommand} ")), "{subcommand} missing from:\n{text}");
    }
    assert!(text.contains("LATCHKEY_"), "{text}");
    let keys = stdout(&latchkey(&["keys", "--help"], &[]));
    assert!(keys.contains("rotate") && keys.contains("list"), "{keys}");
    let unknown = latchkey(&["serv"], &[]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unrecognized subcommand 'serv'"));
}

#[test]
fn check_config_names_every_refused_setting_with_its_fix_and_fails() {
    let output = latchkey(
        &["check-config"],
        &[
            ("LATCHKEY_ADDR", "localhost:3000"),
            ("LATCHKEY_RP_ID", "127.0.0.1"),
            ("LATCHKEY_RATE_LIMIT_PASSWORD", "many"),
        ],
    );
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    for line in [
        "error   LATCHKEY_ADDR: expected an address like 127.0.0.1:3000",
        "error   LATCHKEY_RP_ID: `127.0.0.1` is an IP address; WebAuthn needs a domain",
        "error   LATCHKEY_RATE_LIMIT_PASSWORD: `many` is not a rate like 30/min",
    ] {
        assert!(report.contains(line), "{line:?} missing from:\n{report}");
    }
}

#[tokio::test]
async fn check_config_passes_a_working_setup_and_tries_each_store() {
    let env = Env::new().await;
    let vars: Vec<(&str, &str)> = env.vars().collect();
    let output = latchkey(&["check-config"], &vars);
    let report = stdout(&output);
    assert!(output.status.success(), "{report}{}", String::from_utf8_lossy(&output.stderr));
    assert!(report.contains("ok      settings: every LATCHKEY_* variable is accepted"), "{report}");
    assert!(report.contains("ok      LATCHKEY_DATABASE_URL: "), "{report}");
    if env.get("LATCHKEY_REDIS_URL").is_some() {
        assert!(report.contains("ok      LATCHKEY_REDIS_URL: answers"), "{report}");
    }
    assert!(!report.contains("error"), "{report}");
}

#[tokio::test]
async fn check_config_says_which_store_cannot_be_reached() {
    let env = Env::new()
        .await
        .set("LATCHKEY_DATABASE_URL", "postgres://latchkey@127.0.0.1:1/latchkey")
        .set("LATCHKEY_REDIS_URL", "redis://127.0.0.1:1")
        .set("LATCHKEY_SMTP_URL", "smtp://127.0.0.1:1");
    let vars: Vec<(&str, &str)> = env.vars().collect();
    let output = latchkey(&["check-config"], &vars);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    for subject in ["LATCHKEY_DATABASE_URL", "LATCHKEY_REDIS_URL"] {
        assert!(report.contains(&format!("error   {subject}: ")), "{subject} not reported:\n{report}");
    }
    // Mail waits in the outbox, so a mail server that is down does not stop the service.
    assert!(report.contains("warning LATCHKEY_SMTP_URL: the SMTP server cannot be reached"), "{report}");
}

#[tokio::test]
async fn check_config_warns_when_the_rp_id_is_narrower_than_the_site() {
    let output = latchkey(
        &["check-config"],
        &[
            ("LATCHKEY_RP_ID", "login.example.com"),
            ("LATCHKEY_ORIGINS", "https://login.example.com"),
            ("LATCHKEY_OPERATOR_SECRET", OPERATOR_SECRET),
            ("LATCHKEY_DATABASE_URL", &fresh_database().await),
        ],
    );
    let report = stdout(&output);
    assert!(output.status.success(), "a warning is not an error:\n{report}");
    assert!(
        report.contains("warning LATCHKEY_RP_ID: `login.example.com` is narrower than the site `example.com`"),
        "{report}"
    );
}

#[tokio::test]
async fn migrate_applies_every_migration_once() {
    let database = fresh_database().await;
    let vars = [("LATCHKEY_DATABASE_URL", database.as_str())];
    let first = latchkey(&["migrate"], &vars);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let applied = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations")).unwrap().count();
    assert!(stdout(&first).starts_with(&format!("applied {applied} migration(s): ")), "{}", stdout(&first));
    let again = latchkey(&["migrate"], &vars);
    assert_eq!(stdout(&again).trim(), "nothing to apply: every migration is applied");
    let checked = latchkey(&["check-config"], &vars);
    assert!(stdout(&checked).contains("answers, and every migration is applied"), "{}", stdout(&checked));
}

/// M1: addresses stored before the grammar tightened are reported, by id, and left as they are.
#[tokio::test]
async fn migrate_and_check_config_report_stored_addresses_no_longer_accepted() {
    let database = fresh_database().await;
    let vars = [("LATCHKEY_DATABASE_URL", database.as_str())];
    assert!(latchkey(&["migrate"], &vars).status.success());
    let db = stores::connect(&database).await;
    for (id, email) in [
        ("00000000-0000-4000-8000-000000000001", "<victim@example.com>"),
        ("00000000-0000-4000-8000-000000000002", "ada@example.com"),
    ] {
        sqlx::query("INSERT INTO users (id, email, webauthn_handle, created_at) VALUES ($1, $2, $1, 0)")
            .bind(id)
            .bind(email)
            .execute(&db)
            .await
            .unwrap();
    }

    let migrated = stdout(&latchkey(&["migrate"], &vars));
    let checked = stdout(&latchkey(&["check-config"], &vars));
    let kept: String = sqlx::query_scalar("SELECT email FROM users WHERE id = '00000000-0000-4000-8000-000000000001'")
        .fetch_one(&db)
        .await
        .unwrap();

    for said in [&migrated, &checked] {
        assert!(said.contains("1 account(s) have an email address that is no longer accepted"), "{said}");
        assert!(said.contains("00000000-0000-4000-8000-000000000001"), "{said}");
        assert!(!said.contains("00000000-0000-4000-8000-000000000002"), "{said}");
    }
    assert_eq!(kept, "<victim@example.com>", "reported, not rewritten");
}

/// A free port on 127.0.0.1 (free when asked; the process that binds it next is the test's own).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `latchkey serve` process, killed when dropped; its stderr goes to `log`.
struct Running {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl Running {
    async fn start(env: &Env) -> (Self, String) {
        let addr = env.get("LATCHKEY_ADDR").unwrap();
        let log = std::env::temp_dir().join(format!("latchkey-tests/{}.log", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(log.parent().unwrap()).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .arg("serve")
            .current_dir(log.parent().unwrap())
            .env_clear()
            .envs(env.vars())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("latchkey starts");
        let running = Self { child, log };
        let base = format!("http://{addr}");
        for _ in 0..200 {
            if reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
                return (running, base);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("latchkey did not answer /healthz:\n{}", running.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of one sample line of Prometheus' text (`name{labels} value`), 0 when absent.
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |value| value.trim().parse().unwrap())
}

#[tokio::test]
async fn metrics_count_what_happened_and_json_logs_name_requests_without_secrets() {
    let metrics_port = free_port();
    let env = Env::new()
        .await
        .set("LATCHKEY_ADDR", format!("127.0.0.1:{}", free_port()))
        .set("LATCHKEY_METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
        .set("LATCHKEY_LOG_FORMAT", "json")
        .set("LATCHKEY_RATE_LIMIT_REFRESH", "2/h")
        .set("RUST_LOG", "info");
    let (running, base) = Running::start(&env).await;
    let server = TestServer::at(base);

    let (access, refresh) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    let passkey_id = server.add_passkey(&access, &mut key).await;
    assert_eq!(server.sign_in(&mut key, Some("ada@example.com")).await.status, StatusCode::OK);
    let forged = Tweaks { origin: Some("https://evil.example".into()), ..Tweaks::default() };
    let refused = server.sign_in_with(&mut key, Some("ada@example.com"), &forged).await;
    assert_eq!(refused.code(), "authentication_failed");
    let me = server.get("/auth/me", Some(&access)).await;
    assert_eq!(me.status, StatusCode::OK);
    let request_id = me.headers["x-request-id"].to_str().unwrap().to_owned();
    let renamed = server
        .request(Method::PATCH, &format!("/auth/passkeys/{passkey_id}"), Some(&access), Some(json!({"name": "Key"})))
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    let next = server.post("/auth/refresh", None, json!({ "refresh_token": refresh })).await;
    assert_eq!(next.status, StatusCode::OK);
    let reused = server.post("/auth/refresh", None, json!({ "refresh_token": refresh })).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    let limited = server.post("/auth/refresh", None, json!({ "refresh_token": refresh })).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);

    let metrics = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics")).await.unwrap().text().await.unwrap();
    for (series, expected) in [
        (r#"latchkey_ceremonies_begun_total{kind="registration"}"#, 1.0),
        (r#"latchkey_ceremonies_completed_total{kind="registration"}"#, 1.0),
        (r#"latchkey_ceremonies_begun_total{kind="authentication"}"#, 2.0),
        (r#"latchkey_ceremonies_completed_total{kind="authentication"}"#, 1.0),
        (r#"latchkey_ceremonies_failed_total{kind="authentication",reason="authentication_failed"}"#, 1.0),
        (r#"latchkey_sign_ins_total{method="passkey"}"#, 1.0),
        (r#"latchkey_tokens_issued_total{client="api"}"#, 3.0),
        (r#"latchkey_token_refreshes_total{client="api"}"#, 1.0),
        (r#"latchkey_refresh_token_reuse_total"#, 1.0),
        (r#"latchkey_rate_limited_total{limit="refresh"}"#, 1.0),
        (r#"latchkey_http_requests_total{route="/auth/me",method="GET",status="200"}"#, 1.0),
        (r#"latchkey_http_requests_total{route="/auth/passkeys/{id}",method="PATCH",status="200"}"#, 1.0),
        (r#"latchkey_http_requests_total{route="/auth/refresh",method="POST",status="429"}"#, 1.0),
        (r#"latchkey_store_seconds_count{store="challenge",op="put"}"#, 3.0),
        (r#"latchkey_http_request_seconds_count{route="/auth/me",method="GET"}"#, 1.0),
    ] {
        assert_eq!(sample(&metrics, series), expected, "{series} in:\n{metrics}");
    }
    assert!(metrics.contains("# HELP latchkey_sign_ins_total Sign-ins, by method"), "{metrics}");

    let log = running.log();
    let lines: Vec<serde_json::Value> =
        log.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect();
    let answered = lines
        .iter()
        .find(|line| line["message"] == "answered" && line["span"]["request_id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("no line for request {request_id}:\n{log}"));
    assert_eq!(answered["span"]["route"], "/auth/me");
    assert_eq!(answered["span"]["method"], "GET");
    assert_eq!(answered["status"], 200);
    assert!(answered["latency_ms"].as_f64().is_some(), "{answered}");
    assert_eq!(answered["span"]["user_id"], me.body["id"], "{answered}");
    let renamed_line = lines.iter().find(|l| l["span"]["route"] == "/auth/passkeys/{id}").expect("the rename's line");
    assert_eq!(renamed_line["span"]["user_id"], me.body["id"]);
    for secret in [access.as_str(), refresh.as_str(), "correct horse battery", passkey_id.as_str()] {
        assert!(!log.contains(secret), "the log holds a secret or an id from a path: {secret}");
    }
}

/// What an operator reads with the default log filter: start-up said nothing of where it listens
/// (the line was logged under the binary's name, `latchkey`, which the filter left out), and every
/// view of a signed-in page logged errors ("the Engine is not in the Leptos context").
#[tokio::test]
async fn the_default_log_says_where_it_listens_and_signed_in_pages_log_no_errors() {
    use app::server_fns::PasswordSignIn;
    use leptos::server_fn::ServerFn;
    let addr = format!("127.0.0.1:{}", free_port());
    let (running, base) = Running::start(&Env::new().await.set("LATCHKEY_ADDR", addr.clone())).await;
    let server = TestServer::at(base.clone());
    server.sign_up("ada@example.com").await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let signed_in = client
        .post(format!("{base}{}", PasswordSignIn::PATH))
        .header("origin", ORIGIN)
        .form(&[("email", "ada@example.com"), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();

    for path in ["/", "/passkeys", "/account", "/notes"] {
        let page = client.get(format!("{base}{path}")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{path}");
    }
    let log = running.log();

    assert!(log.contains(&format!("listening on http://{addr}")), "{log}");
    assert!(!log.contains("ERROR") && !log.contains("Leptos context"), "{log}");
    assert!(!log.contains('\u{1b}'), "no terminal colours in a log file: {log}");
}

#[test]
fn a_brand_file_that_cannot_be_read_stops_start_up_with_its_variable() {
    let served = latchkey(&["serve"], &[("LATCHKEY_BRAND_LOGO", "/nonexistent/acme.svg")]);
    let said = String::from_utf8_lossy(&served.stderr);
    assert!(!served.status.success());
    assert!(said.contains("LATCHKEY_BRAND_LOGO") && said.contains("/nonexistent/acme.svg"), "{said}");
    let checked = latchkey(&["check-config"], &[("LATCHKEY_BRAND_ACCENT", "#ffcc00")]);
    assert!(stdout(&checked).contains("LATCHKEY_BRAND_ACCENT"), "{}", stdout(&checked));
}

/// The operations of docs/api.md's endpoint tables: `(METHOD, /path)`.
fn documented_operations() -> std::collections::BTreeSet<(String, String)> {
    let contract = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.md")).unwrap();
    let mut operations = std::collections::BTreeSet::new();
    for row in contract.lines().filter(|line| line.starts_with("| ")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (Some(methods), Some(path)) = (cells.get(1), cells.get(2)) else { continue };
        let Some(path) = path.strip_prefix('`').and_then(|p| p.strip_suffix('`')) else { continue };
        for method in methods.split(' ').filter(|word| ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(word)) {
            operations.insert((method.to_owned(), path.to_owned()));
        }
    }
    operations
}

#[tokio::test]
async fn the_openapi_document_matches_the_contract_and_the_routes() {
    let env = Env::new().await.set("LATCHKEY_ADMIN_TOKEN", "an-operator-token-of-at-least-32-characters");
    let server = TestServer::start_with(env).await;
    let answer = server.get("/openapi.json", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    let api = answer.body;
    assert!(api["openapi"].as_str().unwrap().starts_with("3.1"), "{}", api["openapi"]);

    let mut described = std::collections::BTreeSet::new();
    for (path, item) in api["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            described.insert((method.to_uppercase(), path.clone()));
            // Every error a response names has that response's status.
            for (status, response) in operation["responses"].as_object().unwrap() {
                let description = response["description"].as_str().unwrap_or_default();
                let codes = description.split('`').skip(1).step_by(2);
                for code in codes.filter(|_| !status.starts_with('2')) {
                    let parsed: proto::ErrorCode = serde_json::from_value(json!(code))
                        .unwrap_or_else(|_| panic!("{method} {path} {status}: `{code}` is no error code"));
                    assert_eq!(parsed.status().to_string(), *status, "{method} {path}: `{code}`");
                }
            }
        }
    }
    let documented = documented_operations();
    // 24 of the account API, its three sign-in operations also under their first path
    // (`/auth/sessions`), and 21 of the admin API.
    assert_eq!(documented.len(), 54, "docs/api.md's tables: {documented:?}");
    assert_eq!(described, documented, "the OpenAPI document and docs/api.md name the same operations");

    // Each one is routed: it answers for itself (JSON), never the portal's "not found" page or 405.
    for (method, path) in &described {
        let path = path.replace("{id}", "some-id");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let answer = server.raw(method.clone(), &path, Some("application/json"), b"{}".to_vec(), None).await;
        assert_ne!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(answer.body.is_object(), "{method} {path} is not routed: {}", answer.status);
    }
}
