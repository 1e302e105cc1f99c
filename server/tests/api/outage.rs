//! Rule 8: a store outage is a 503 with Retry-After (never a 500, never a sign-in), and service
//! resumes by itself when the store returns.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Env, FlakyProxy, ORIGIN, TestServer, authenticator, backend_is_postgres, redis_url};

fn socket_addr(url: &str) -> SocketAddr {
    let rest = url.split("://").nth(1).unwrap();
    let host_port = rest.rsplit('@').next().unwrap().split('/').next().unwrap();
    host_port.parse().unwrap()
}

async fn eventually_ok(server: &TestServer) {
    for _ in 0..50 {
        if server.get("/readyz", None).await.status == StatusCode::OK {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the service did not resume after the store came back");
}

#[tokio::test]
async fn a_redis_outage_is_a_503_and_service_resumes() {
    let Some(redis) = redis_url() else {
        eprintln!("skipped: needs LATCHKEY_TEST_REDIS_URL");
        return;
    };
    let proxy = FlakyProxy::start(socket_addr(&redis)).await;
    let server =
        TestServer::start_with(Env::new().await.set("LATCHKEY_REDIS_URL", format!("redis://{}", proxy.addr))).await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    server.add_passkey(&token, &mut key).await;
    let options = server.begin_sign_in(None).await;
    let assertion = json!({ "credential": key.get(&options, ORIGIN).unwrap() });

    proxy.cut();
    let begin = server.post("/auth/passkeys/authenticate/begin", None, json!({})).await;
    let complete = server.post("/auth/passkeys/authenticate/complete", None, assertion.clone()).await;
    let ready = server.get("/readyz", None).await;

    for answer in [&begin, &complete, &ready] {
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{}", answer.body);
        assert!(answer.headers.contains_key("retry-after"));
    }
    assert_eq!(begin.code(), "service_unavailable");
    proxy.restore();
    eventually_ok(&server).await;
    let resumed = server.post("/auth/passkeys/authenticate/complete", None, assertion).await;
    assert_eq!(resumed.status, StatusCode::OK, "the ceremony survived the outage: {}", resumed.body);
}

#[tokio::test]
async fn a_database_outage_is_a_503_and_service_resumes() {
    if !backend_is_postgres() {
        eprintln!("skipped: an SQLite file cannot go away like a database server");
        return;
    }
    let env = Env::new().await;
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let proxy = FlakyProxy::start(socket_addr(&database)).await;
    let (base, name) = database.rsplit_once('/').unwrap();
    let scheme_and_user =
        base.rsplit_once('@').map(|(user, _)| format!("{user}@")).unwrap_or_else(|| "postgres://".into());
    let proxied = format!("{scheme_and_user}{}/{name}", proxy.addr);
    let server = TestServer::start_with(env.set("LATCHKEY_DATABASE_URL", proxied)).await;
    let (token, _) = server.sign_up("ada@example.com").await;

    proxy.cut();
    let login = server
        .post("/auth/login", None, json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .await;
    let list = server.get("/auth/passkeys", Some(&token)).await;

    for answer in [&login, &list] {
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"),
            "{}",
            answer.body
        );
        assert!(answer.headers.contains_key("retry-after"));
    }
    proxy.restore();
    eventually_ok(&server).await;
    assert_eq!(server.get("/auth/passkeys", Some(&token)).await.status, StatusCode::OK);
}
