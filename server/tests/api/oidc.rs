//! The OpenID Connect provider (issue 14, being built): its clients file is read at start-up, and a
//! wrong entry stops the server with one line naming the client and the field.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::common::Env;

fn clients_file(text: &str) -> String {
    let path = std::env::temp_dir().join(format!("latchkey-clients-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, text).expect("clients file");
    path.display().to_string()
}

async fn start(env: Env) -> Result<server::Latchkey, String> {
    let config = engine::Config::from_lookup(|k| env.get(k)).map_err(|e| e.to_string())?;
    server::Latchkey::build(config).await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_clients_file_is_read_at_start_up_and_a_wrong_entry_stops_it() {
    let good = clients_file(
        r#"
        [[clients]]
        client_id = "grafana"
        client_secret = "a-plain-secret-of-at-least-32-characters"
        redirect_uris = ["https://grafana.example.com/login/generic_oauth"]
        "#,
    );
    let good_path = good.clone();
    let app = start(Env::new().await.set("LATCHKEY_OIDC_CLIENTS", good)).await.expect("starts");
    assert_eq!(app.engine().clients.len(), 1);
    assert_eq!(app.engine().clients.with_plain_secrets(), ["grafana"]);

    let wrong = clients_file(
        r#"
        [[clients]]
        client_id = "grafana"
        client_secret = "a-plain-secret-of-at-least-32-characters"
        redirect_uris = ["http://grafana.example.com/login/generic_oauth"]
        "#,
    );
    let err = start(Env::new().await.set("LATCHKEY_OIDC_CLIENTS", wrong.clone())).await.err().expect("refused");
    assert_eq!(
        err,
        format!(
            "LATCHKEY_OIDC_CLIENTS: {wrong}: client `grafana`: redirect_uris: \
             `http://grafana.example.com/login/generic_oauth` must be https (http only on localhost)"
        )
    );
    for file in [good_path, wrong] {
        std::fs::remove_file(file).ok();
    }
    let missing = start(Env::new().await.set("LATCHKEY_OIDC_CLIENTS", "/nonexistent/clients.toml")).await;
    assert!(
        missing.err().expect("refused").starts_with("LATCHKEY_OIDC_CLIENTS: cannot read /nonexistent/clients.toml")
    );
}

#[tokio::test]
async fn hash_secret_prints_an_argon2id_hash_the_clients_file_takes() {
    let run = |secret: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
            .arg("hash-secret")
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary runs");
        child.stdin.take().unwrap().write_all(format!("{secret}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let secret = "a-client-secret-of-at-least-32-characters";
    let output = run(secret);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let hash = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(secret), "{hash}");
    use argon2::PasswordVerifier as _;
    let parsed = argon2::PasswordHash::new(&hash).unwrap();
    assert!(argon2::Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok());
    let file = format!(
        "[[clients]]\nclient_id = \"app\"\nclient_secret = \"{hash}\"\nredirect_uris = [\"https://app.example/cb\"]\n"
    );
    assert!(engine::clients::Clients::parse(&file).is_ok());

    let short = run("too-short");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 32 characters"));
}
