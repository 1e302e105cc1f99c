//! Abuse protection (docs/security.md): per-client rate limits, keyed by the peer address unless a
//! trusted proxy names the client. Clients are told apart by binding to distinct loopback addresses.

use app::server_fns::PasskeySignInOptions;
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Env, ORIGIN, TestServer, client_from};

/// An HTTP client whose connections come from `address` (any of 127.0.0.0/8 works on Linux).
/// A wrong-password login from `client`, optionally through `X-Forwarded-For`: (status, Retry-After, body).
async fn login(
    server: &TestServer,
    client: &reqwest::Client,
    forwarded_for: Option<&str>,
) -> (StatusCode, Option<u64>, Value) {
    let mut request = client
        .post(format!("{}/auth/login", server.base))
        .json(&json!({"email": "ada@example.com", "password": "wrong password"}));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    let response = request.send().await.unwrap();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    (response.status(), retry_after, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_client_over_its_password_limit_gets_429_and_other_clients_do_not() {
    let server = TestServer::start_with(Env::new().await.set("LATCHKEY_RATE_LIMIT_PASSWORD", "3/min")).await;
    let (first, second) = (client_from("127.0.0.1"), client_from("127.0.0.2"));

    for _ in 0..3 {
        assert_eq!(login(&server, &first, None).await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, retry_after, body) = login(&server, &first, None).await;
    let (other, _, _) = login(&server, &second, None).await;

    assert_eq!((status, body["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
    let retry_after = retry_after.expect("Retry-After");
    assert!((1..=20).contains(&retry_after), "one request per 20 s comes back: {retry_after}");
    assert_eq!(body["retry_after"], retry_after);
    assert_eq!(other, StatusCode::UNAUTHORIZED, "another address has its own budget");
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_a_trusted_proxy() {
    let direct = TestServer::start_with(Env::new().await.set("LATCHKEY_RATE_LIMIT_PASSWORD", "2/min")).await;
    let behind_proxy = TestServer::start_with(
        Env::new().await.set("LATCHKEY_RATE_LIMIT_PASSWORD", "2/min").set("LATCHKEY_TRUSTED_PROXIES", "127.0.0.1"),
    )
    .await;
    let proxy = client_from("127.0.0.1");

    for server in [&direct, &behind_proxy] {
        for _ in 0..2 {
            assert_eq!(login(server, &proxy, Some("198.51.100.1")).await.0, StatusCode::UNAUTHORIZED);
        }
    }
    let spoofed = login(&direct, &proxy, Some("198.51.100.2")).await.0;
    let same_client = login(&behind_proxy, &proxy, Some("198.51.100.1")).await.0;
    let other_client = login(&behind_proxy, &proxy, Some("198.51.100.2")).await.0;

    assert_eq!(spoofed, StatusCode::TOO_MANY_REQUESTS, "an untrusted peer cannot choose its bucket");
    assert_eq!(same_client, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(other_client, StatusCode::UNAUTHORIZED, "behind a trusted proxy, each client has its own budget");
}

/// L3: behind a proxy that appends `X-Forwarded-For`, a client used to pick a fresh bucket for every
/// request by sending its own `Forwarded` header (which was preferred, and the proxy passes it on),
/// or by making the proxy's entry unreadable so the address before it counted. One header, chosen by
/// the operator, is read now; an entry that does not parse is the proxy's own.
#[tokio::test]
async fn a_client_behind_a_proxy_cannot_pick_its_bucket() {
    let env =
        Env::new().await.set("LATCHKEY_RATE_LIMIT_PASSWORD", "2/min").set("LATCHKEY_TRUSTED_PROXIES", "127.0.0.1");
    let server = TestServer::start_with(env).await;
    let proxy = client_from("127.0.0.1");
    let send = |forwarded_for: String, forwarded: Option<String>| {
        let mut request = proxy
            .post(format!("{}/auth/login", server.base))
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({"email": "ada@example.com", "password": "wrong password"}));
        if let Some(forwarded) = forwarded {
            request = request.header("forwarded", forwarded);
        }
        async move { request.send().await.unwrap().status() }
    };

    let mut other_header = Vec::new();
    for i in 0..4 {
        other_header.push(send("203.0.113.7".into(), Some(format!("for=198.51.100.{i}"))).await);
    }
    let mut unreadable_entry = Vec::new();
    for i in 0..4 {
        unreadable_entry.push(send(format!("198.51.100.{i}, unknown"), None).await);
    }

    let limited = [
        StatusCode::UNAUTHORIZED,
        StatusCode::UNAUTHORIZED,
        StatusCode::TOO_MANY_REQUESTS,
        StatusCode::TOO_MANY_REQUESTS,
    ];
    assert_eq!(other_header, limited, "the Forwarded header the client sent is not read");
    assert_eq!(unreadable_entry, limited, "the unreadable last entry is the proxy's, not the client's choice");
}

/// M6: a routed IPv6 /48 holds 65,536 /64s, and each had a fresh budget, so one network could begin
/// ceremonies without end. Its /56s and the /48 now share budgets of 4 and 16 clients' worth.
#[tokio::test]
async fn the_64s_of_one_ipv6_network_share_its_budget() {
    let env =
        Env::new().await.set("LATCHKEY_RATE_LIMIT_CEREMONY", "2/min").set("LATCHKEY_TRUSTED_PROXIES", "127.0.0.1");
    let server = TestServer::start_with(env).await;
    let proxy = client_from("127.0.0.1");
    let begin = |client: String| {
        let request = proxy
            .post(format!("{}/auth/passkeys/authenticate/begin", server.base))
            .header("x-forwarded-for", client)
            .json(&json!({}));
        async move { request.send().await.unwrap().status() }
    };

    let mut across_56s = Vec::new();
    for i in 1..=40 {
        across_56s.push(begin(format!("2001:db8:1:{i:x}00::1")).await);
    }
    let mut within_one_56 = Vec::new();
    for i in 1..=20 {
        within_one_56.push(begin(format!("2001:db8:2:{i:x}::1")).await);
    }

    let passed = |statuses: &[StatusCode]| statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(passed(&across_56s), 32, "forty /56s of one /48: its 2 × 16 ({across_56s:?})");
    assert_eq!(passed(&within_one_56), 8, "twenty /64s of one /56: its 2 × 4 ({within_one_56:?})");
    assert!(across_56s[32..].iter().chain(&within_one_56[8..]).all(|s| *s == StatusCode::TOO_MANY_REQUESTS));
}

#[tokio::test]
async fn passkey_ceremonies_refresh_and_server_functions_are_limited_too() {
    let env = Env::new()
        .await
        .set("LATCHKEY_RATE_LIMIT_REFRESH", "2/min")
        .set("LATCHKEY_RATE_LIMIT_PORTAL", "2/min")
        .set("LATCHKEY_RATE_LIMIT_CEREMONY", "2/min");
    let server = TestServer::start_with(env).await;
    let (client, browser) = (client_from("127.0.0.3"), client_from("127.0.0.5"));
    let post = |path: &'static str, body: Value| {
        let request = client.post(format!("{}{path}", server.base)).json(&body);
        async move { request.send().await.unwrap().status() }
    };
    let server_fn = || {
        // From another address: these calls count as ceremonies too, whose budget `client` spends.
        let request = browser
            .post(format!("{}{}", server.base, PasskeySignInOptions::PATH))
            .header("origin", ORIGIN)
            .header("content-type", "application/x-www-form-urlencoded");
        async move { request.send().await.unwrap() }
    };

    let begins = [
        post("/auth/passkeys/authenticate/begin", json!({})).await,
        post("/auth/passkeys/authenticate/begin", json!({})).await,
    ];
    let third_begin = post("/auth/passkeys/authenticate/begin", json!({})).await;
    let refreshes = [
        post("/auth/refresh", json!({"refresh_token": "x"})).await,
        post("/auth/refresh", json!({"refresh_token": "x"})).await,
    ];
    let third_refresh = post("/auth/refresh", json!({"refresh_token": "x"})).await;
    let calls = [server_fn().await.status(), server_fn().await.status()];
    let third_call = server_fn().await;

    assert_eq!(begins, [StatusCode::OK; 2]);
    assert_eq!(third_begin, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refreshes, [StatusCode::UNAUTHORIZED; 2]);
    assert_eq!(third_refresh, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(calls, [StatusCode::OK; 2]);
    assert_eq!(third_call.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third_call.headers().contains_key("retry-after"));
    assert_eq!(third_call.json::<Value>().await.unwrap()["error"], "rate_limited");
}

/// The defaults fit an office behind one NAT: twenty people at one address signing in to the portal
/// twice within fifteen seconds (each page load begins an autofill ceremony, then the button
/// begins its own) all get in. Before, one address had 60 ceremonies a minute and this saw 429s.
/// One client's flood from that address is still refused.
#[tokio::test]
async fn an_office_behind_one_address_signs_in_and_a_flood_from_it_is_still_refused() {
    use app::server_fns::FinishPasskeySignIn;
    let server = TestServer::start().await;
    let mut people = Vec::new();
    for i in 0..20 {
        // Their accounts were made elsewhere, over time (sign-up has its own budget).
        let setup = client_from(&format!("127.0.1.{}", i + 1));
        let email = format!("person{i}@office.example");
        let registered = setup
            .post(format!("{}/auth/register", server.base))
            .json(&json!({ "email": email, "password": "correct horse battery" }))
            .send()
            .await
            .unwrap();
        let token = registered.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
        let mut key = crate::common::authenticator();
        server.add_passkey(&token, &mut key).await;
        people.push(key);
    }
    let office = client_from("127.0.2.1");
    let call = |path: &'static str, form: Vec<(&'static str, String)>| {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let request = office
            .post(format!("{}{path}", server.base))
            .header("origin", ORIGIN)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    let started = std::time::Instant::now();
    let mut refused = Vec::new();
    for round in 0..2 {
        for (person, key) in people.iter_mut().enumerate() {
            let (autofill, _) = call(PasskeySignInOptions::PATH, vec![]).await;
            let (button, options) = call(PasskeySignInOptions::PATH, vec![]).await;
            let signed_in = match options.as_str().map(serde_json::from_str::<Value>) {
                Some(Ok(options)) => {
                    let credential = key.get(&options, ORIGIN).unwrap().to_string();
                    call(FinishPasskeySignIn::PATH, vec![("credential", credential)]).await.0
                }
                _ => button,
            };
            for status in [autofill, button, signed_in] {
                if status != StatusCode::OK {
                    refused.push((round, person, status));
                }
            }
        }
    }
    let office_took = started.elapsed();
    // One client at the same address floods the ceremony begins.
    let mut flood = Vec::new();
    for _ in 0..1_200 {
        flood.push(
            office
                .post(format!("{}/auth/passkeys/authenticate/begin", server.base))
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .status(),
        );
    }

    println!("the office's 120 calls took {office_took:?}");
    assert!(office_took < std::time::Duration::from_secs(15), "{office_took:?}");
    assert!(refused.is_empty(), "the office was refused: {refused:?}");
    let flood_refused = flood.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert!(flood_refused > 0, "a flood from one address is refused too");
    assert!(flood.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::TOO_MANY_REQUESTS), "{flood:?}");
}

/// L10: the endpoints outside the costly kinds (the account API, pages, the OpenID Connect
/// endpoints) had no budget, though each may read the database, and one address could hold every
/// connection the server accepts. A catch-all budget per address covers them, and an address holds
/// at most its share of connections.
#[tokio::test]
async fn every_endpoint_that_reads_the_database_has_a_budget_and_an_address_a_connection_share() {
    use tokio::io::AsyncReadExt as _;
    let env = Env::new().await.set("LATCHKEY_RATE_LIMIT_ANY", "3/min").set("LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS", "4");
    let server = TestServer::start_with(env).await;
    let (client, other) = (client_from("127.0.0.90"), client_from("127.0.0.91"));
    let get = |client: &reqwest::Client, path: &str| {
        let request = client.get(format!("{}{path}", server.base));
        async move { request.send().await.unwrap().status() }
    };

    let mut me = Vec::new();
    for _ in 0..4 {
        me.push(get(&client, "/auth/me").await);
    }
    let health = get(&client, "/healthz").await;
    let others_me = get(&other, "/auth/me").await;

    // Four idle connections from one address; its fifth is closed at once, another address is served.
    let from = |address: &str| {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{address}:0").parse().unwrap()).unwrap();
        let target = server.base.trim_start_matches("http://").parse().unwrap();
        async move { socket.connect(target).await.unwrap() }
    };
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(from("127.0.0.92").await);
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut fifth = from("127.0.0.92").await;
    let mut byte = [0u8; 1];
    let closed = tokio::time::timeout(std::time::Duration::from_secs(2), fifth.read(&mut byte)).await;
    let served = get(&client_from("127.0.0.93"), "/healthz").await;

    assert_eq!(me[..3], [StatusCode::UNAUTHORIZED; 3]);
    assert_eq!(me[3], StatusCode::TOO_MANY_REQUESTS, "the fourth call of the minute");
    assert_eq!(health, StatusCode::OK, "health checks have no budget");
    assert_eq!(others_me, StatusCode::UNAUTHORIZED, "another address has its own");
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "the fifth connection was closed: {closed:?}");
    assert_eq!(served, StatusCode::OK);
    drop(idle);
}

#[tokio::test]
async fn a_limit_switched_off_limits_nothing() {
    // The cap on ceremonies in flight per client is raised too: this test is about the rate limit.
    let env =
        Env::new().await.set("LATCHKEY_RATE_LIMIT_CEREMONY", "off").set("LATCHKEY_MAX_CEREMONIES_PER_CLIENT", "100");
    let server = TestServer::start_with(env).await;
    let client = client_from("127.0.0.4");

    let mut statuses = Vec::new();
    for _ in 0..70 {
        let request = client.post(format!("{}/auth/passkeys/authenticate/begin", server.base)).json(&json!({}));
        statuses.push(request.send().await.unwrap().status());
    }

    assert!(statuses.iter().all(|s| *s == StatusCode::OK), "70 > the default 60/min, all answered");
}

/// A server whose rate limits are off, so the lockout alone decides.
async fn without_rate_limits() -> TestServer {
    TestServer::start_with(
        Env::new().await.set("LATCHKEY_RATE_LIMIT_PASSWORD", "off").set("LATCHKEY_RATE_LIMIT_CEREMONY", "off"),
    )
    .await
}

async fn login_as(server: &TestServer, client: &reqwest::Client, email: &str, password: &str) -> StatusCode {
    let request =
        client.post(format!("{}/auth/login", server.base)).json(&json!({"email": email, "password": password}));
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn a_burst_of_guesses_gets_no_more_password_checks_than_guesses_sent_one_by_one() {
    let server = without_rate_limits().await;
    server.sign_up("ada@example.com").await;
    let (guesser, owner) = (client_from("127.0.0.20"), client_from("127.0.0.21"));

    let burst =
        futures::future::join_all((0..50).map(|_| login_as(&server, &guesser, "ada@example.com", "wrong password")))
            .await;
    let right_but_locked = login_as(&server, &guesser, "ada@example.com", "correct horse battery").await;
    let owner_elsewhere = login_as(&server, &owner, "ada@example.com", "correct horse battery").await;

    let checked = burst.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = burst.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, refused), (5, 45), "{burst:?}");
    assert_eq!(right_but_locked, StatusCode::TOO_MANY_REQUESTS, "a right password does not win while locked");
    assert_eq!(owner_elsewhere, StatusCode::OK, "the guesser locked only their own address");
}

#[tokio::test]
async fn an_unknown_email_is_locked_like_a_real_one() {
    let server = without_rate_limits().await;
    server.sign_up("ada@example.com").await;
    let client = client_from("127.0.0.22");

    let mut real = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..6 {
        real.push(login_as(&server, &client, "ada@example.com", "wrong password").await);
        unknown.push(login_as(&server, &client, "nobody@example.com", "wrong password").await);
    }

    assert_eq!(real, unknown, "a 429 must not tell which accounts exist");
    assert_eq!(real.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
}

#[tokio::test]
async fn guesses_from_many_addresses_lock_password_sign_in_everywhere_but_never_passkeys() {
    let server = without_rate_limits().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = crate::common::authenticator();
    server.add_passkey(&token, &mut key).await;

    for host in 30..34 {
        let client = client_from(&format!("127.0.0.{host}"));
        for _ in 0..5 {
            login_as(&server, &client, "ada@example.com", "wrong password").await;
        }
    }
    let owner = login_as(&server, &client_from("127.0.0.40"), "ada@example.com", "correct horse battery").await;
    let passkey = server.sign_in(&mut key, Some("ada@example.com")).await;

    assert_eq!(owner, StatusCode::TOO_MANY_REQUESTS, "20 failures across addresses lock the account's password");
    assert_eq!(passkey.status, StatusCode::OK, "passkey sign-in is never locked: {}", passkey.body);
}

/// M7: once the account-wide lock has run out, one guess from one address must not lock the
/// owner out for another 15 minutes (before: every failure past the 20th locked it again, so one
/// request per 15 minutes held it for good); a fresh round of 20 guesses still locks it.
#[tokio::test]
async fn an_expired_account_lock_is_not_held_by_one_guess_every_fifteen_minutes() {
    let env = Env::new().await.set("LATCHKEY_RATE_LIMIT_PASSWORD", "off").set("LATCHKEY_RATE_LIMIT_CEREMONY", "off");
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let db = crate::common::stores::connect(&database).await;
    server.sign_up("ada@example.com").await;
    let guessers: Vec<_> = (70..78).map(|host| client_from(&format!("127.0.0.{host}"))).collect();
    let owner = client_from("127.0.0.79");
    for guesser in &guessers[..4] {
        for _ in 0..5 {
            login_as(&server, guesser, "ada@example.com", "wrong password").await;
        }
    }
    let locked = login_as(&server, &owner, "ada@example.com", "correct horse battery").await;

    crate::common::stores::expire_password_locks(&db).await;
    let one_more_guess = login_as(&server, &guessers[0], "ada@example.com", "wrong password").await;
    let after_one_guess = login_as(&server, &owner, "ada@example.com", "correct horse battery").await;

    for guesser in &guessers[4..] {
        for _ in 0..5 {
            login_as(&server, guesser, "ada@example.com", "wrong password").await;
        }
    }
    let after_a_fresh_round = login_as(&server, &owner, "ada@example.com", "correct horse battery").await;

    assert_eq!(locked, StatusCode::TOO_MANY_REQUESTS, "20 failures across addresses lock the account");
    assert_eq!(one_more_guess, StatusCode::UNAUTHORIZED, "the guess after the lock is checked, and fails");
    assert_eq!(after_one_guess, StatusCode::OK, "one guess after the lock ran out does not lock it again");
    assert_eq!(after_a_fresh_round, StatusCode::TOO_MANY_REQUESTS, "20 more failures lock it again");
}

#[tokio::test]
async fn queued_password_hashes_are_capped_with_a_503() {
    let server = without_rate_limits().await;
    let client = client_from("127.0.0.50");

    let answers = futures::future::join_all((0..120).map(|i| {
        let request = client
            .post(format!("{}/auth/register", server.base))
            .json(&json!({"email": format!("user{i}@example.com"), "password": "correct horse battery"}));
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.headers().contains_key("retry-after"))
        }
    }))
    .await;

    let created = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let busy: Vec<_> = answers.iter().filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE).collect();
    assert!(!busy.is_empty() && busy.iter().all(|(_, retry)| *retry), "{answers:?}");
    assert_eq!(created + busy.len(), 120, "nothing but 201 or 503: {answers:?}");
    assert!(created >= 32, "at least the queue's worth got through: {created}");
}

/// A raw TCP connection to the test server, for clients that misbehave below HTTP.
async fn connect(server: &TestServer) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(server.base.trim_start_matches("http://")).await.unwrap()
}

/// Reads until the server closes the connection; returns what it sent and how long that took.
async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> (String, std::time::Duration) {
    use tokio::io::AsyncReadExt as _;
    let started = std::time::Instant::now();
    let mut received = Vec::new();
    // A bound so a broken server fails the test instead of hanging it; not a speed check.
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), stream.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the server never closed the connection");
    (String::from_utf8_lossy(&received).into_owned(), started.elapsed())
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed() {
    use tokio::io::AsyncWriteExt as _;
    let server = TestServer::start_with(Env::new().await.set("LATCHKEY_HEADER_TIMEOUT_SECS", "1")).await;

    let mut slow = connect(&server).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
    let (_, slow_open) = read_until_closed(&mut slow).await;
    let mut idle = connect(&server).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let (answer, idle_open) = read_until_closed(&mut idle).await;

    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    eprintln!("slow-header connection closed after {slow_open:?}; idle keep-alive after {idle_open:?}");
}

#[tokio::test]
async fn a_request_whose_body_never_ends_gets_a_408() {
    use tokio::io::AsyncWriteExt as _;
    let server = TestServer::start_with(Env::new().await.set("LATCHKEY_REQUEST_TIMEOUT_SECS", "1")).await;

    let mut stream = connect(&server).await;
    let head = "POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"email\":";
    stream.write_all(head.as_bytes()).await.unwrap();
    let (answer, _) = read_until_closed(&mut stream).await;

    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""error":"request_timeout""#), "{answer}");
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    use tokio::io::AsyncWriteExt as _;
    let server = TestServer::start_with(Env::new().await.set("LATCHKEY_MAX_CONNECTIONS", "2")).await;
    let (mut first, mut second) = (connect(&server).await, connect(&server).await);
    for held in [&mut first, &mut second] {
        held.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
    }

    let third = tokio::spawn({
        let url = format!("{}/healthz", server.base);
        async move { reqwest::get(url).await.unwrap().status() }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let waited = !third.is_finished();
    drop(first);
    let answered = third.await.unwrap();

    assert!(waited, "a third connection was served while two were open");
    assert_eq!(answered, StatusCode::OK, "it is served once a connection closes");
    drop(second);
}

#[tokio::test]
async fn a_client_sending_megabytes_reads_a_413_not_a_reset() {
    use tokio::io::AsyncWriteExt as _;
    let server = TestServer::start().await;
    // Ten megabytes, as the review sent (before: a reset above 8 MiB).
    let body = vec![b' '; 10_000_000];
    let head = format!(
        "POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );

    // Like a simple client: send the whole request, then read the answer.
    let mut stream = connect(&server).await;
    stream.write_all(head.as_bytes()).await.unwrap();
    let sent = stream.write_all(&body).await;
    let (answer, _) = read_until_closed(&mut stream).await;

    assert!(sent.is_ok(), "the server hung up while the body was on its way: {sent:?}");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""error":"payload_too_large""#), "{answer}");
}

#[tokio::test]
async fn a_flood_of_begin_calls_from_one_address_leaves_other_ceremonies_alone() {
    let env =
        Env::new().await.set("LATCHKEY_RATE_LIMIT_CEREMONY", "off").set("LATCHKEY_MAX_CEREMONIES_PER_CLIENT", "5");
    let server = TestServer::start_with(env).await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = crate::common::authenticator();
    server.add_passkey(&token, &mut key).await;
    let (flooder, ada) = (client_from("127.0.0.60"), client_from("127.0.0.61"));
    let begin = |client: &reqwest::Client| {
        let request = client.post(format!("{}/auth/passkeys/authenticate/begin", server.base)).json(&json!({}));
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };

    let mut flood = Vec::new();
    for _ in 0..20 {
        flood.push(begin(&flooder).await.0);
    }
    let (status, options) = begin(&ada).await;
    let credential = key.get(&options, ORIGIN).unwrap();
    let signed_in = ada
        .post(format!("{}/auth/passkeys/authenticate/complete", server.base))
        .json(&json!({ "credential": credential }))
        .send()
        .await
        .unwrap()
        .status();

    assert_eq!(flood.iter().filter(|s| **s == StatusCode::OK).count(), 5, "{flood:?}");
    assert!(flood[5..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "{flood:?}");
    assert_eq!((status, signed_in), (StatusCode::OK, StatusCode::OK), "another client's sign-in is unaffected");
}

#[tokio::test]
async fn registrations_in_flight_are_capped_per_account_and_a_finished_one_frees_its_place() {
    let server = TestServer::start_with(Env::new().await.set("LATCHKEY_MAX_CEREMONIES_PER_CLIENT", "2")).await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let begin = || server.post("/auth/passkeys/register/begin", Some(&token), json!({}));

    let first = begin().await;
    let second = begin().await;
    let third = begin().await;
    let mut key = crate::common::authenticator();
    let credential = key.create(&first.body, ORIGIN).unwrap();
    let finished =
        server.post("/auth/passkeys/register/complete", Some(&token), json!({ "credential": credential })).await;
    let after = begin().await;

    assert_eq!((first.status, second.status), (StatusCode::OK, StatusCode::OK));
    assert_eq!((third.status, third.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert!(third.headers.contains_key("retry-after"));
    assert_eq!(finished.status, StatusCode::CREATED, "{}", finished.body);
    assert_eq!(after.status, StatusCode::OK, "the finished ceremony gave its place back");
}

/// H2: an account built to be heavy (many passkeys with the longest ids and transports lists as long
/// as a request allows) must not make each anonymous targeted *begin* store its weight.
#[tokio::test]
async fn a_targeted_begin_stores_no_more_than_a_discoverable_one_however_heavy_the_account() {
    let mut engine = None;
    let env = Env::new().await.set("LATCHKEY_RATE_LIMIT_CEREMONY", "off");
    let server = TestServer::start_with_state(env, |app| {
        engine = Some(app.engine().clone());
        app
    })
    .await;
    let store = engine.unwrap().relying_party.challenges.clone();
    let (token, _) = server.sign_up("heavy@example.com").await;
    let mut keys: Vec<_> = (0..12).map(|_| crate::common::authenticator()).collect();
    let long_ids = testkit::Tweaks { credential_id_len: Some(1023), ..Default::default() };
    let mut transports = vec![json!("usb"); 3000];
    transports.extend([json!("smoke-signal"), json!("internal"), json!("usb")]);
    for key in &mut keys {
        let options = server.post("/auth/passkeys/register/begin", Some(&token), json!({})).await;
        let mut credential = key.create_with(&options.body, ORIGIN, &long_ids).unwrap();
        credential["response"]["transports"] = json!(transports);
        let added =
            server.post("/auth/passkeys/register/complete", Some(&token), json!({ "credential": credential })).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    }

    let targeted = server.begin_sign_in(Some("heavy@example.com")).await;
    let discoverable = server.begin_sign_in(None).await;
    let stored = |options: &Value| {
        let key = format!("auth:{}", options["challenge"].as_str().unwrap());
        let store = store.clone();
        async move { store.stored_len(&key).await.unwrap().expect("the ceremony waits in the store") }
    };
    let (targeted_bytes, discoverable_bytes) = (stored(&targeted).await, stored(&discoverable).await);
    let allowed = targeted["allowCredentials"].as_array().unwrap();
    let signed_in = server.sign_in(&mut keys[7], Some("heavy@example.com")).await;

    println!("stored: targeted {targeted_bytes} bytes, discoverable {discoverable_bytes} bytes");
    assert!(
        targeted_bytes <= discoverable_bytes + 128,
        "a targeted begin stored {targeted_bytes} bytes, a discoverable one {discoverable_bytes}"
    );
    assert_eq!(allowed.len(), 12, "the options still list the account's passkeys");
    for credential in allowed {
        assert_eq!(credential["transports"], json!(["usb", "internal"]), "known transports, each once");
    }
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
}

#[tokio::test]
async fn a_refused_request_leaves_its_keep_alive_connection_usable() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let server = TestServer::start_with(Env::new().await.set("LATCHKEY_RATE_LIMIT_CEREMONY", "1/min")).await;
    let mut stream = connect(&server).await;
    stream.set_nodelay(true).unwrap();

    let mut statuses = Vec::new();
    for _ in 0..20 {
        // The body follows the headers a moment later, as it may on any network: the limiter
        // answers before it arrives.
        let head = "POST /auth/passkeys/authenticate/begin HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n";
        stream.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        if stream.write_all(b"{}").await.is_err() {
            break;
        }
        let mut answer = Vec::new();
        let mut byte = [0u8; 1];
        while !answer.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                break;
            }
            answer.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&answer).to_ascii_lowercase();
        let Some(length) = head.split("content-length: ").nth(1).and_then(|v| v.split("\r\n").next()) else { break };
        let mut body = vec![0u8; length.parse().unwrap()];
        stream.read_exact(&mut body).await.unwrap();
        statuses.push(head.split(' ').nth(1).unwrap_or_default().to_owned());
    }

    assert_eq!(statuses.len(), 20, "the connection was closed after {} answers: {statuses:?}", statuses.len());
    assert_eq!(statuses[0], "200");
    assert!(statuses[1..].iter().all(|s| s == "429"), "{statuses:?}");
}

/// A clients file with one confidential app whose secret is kept as an Argon2id hash.
fn hashed_secret_client(secret: &str) -> String {
    let hash = engine::tokens::secret::hash_secret(secret).unwrap();
    let text = format!(
        "[[clients]]\nclient_id = \"app\"\nname = \"App\"\nclient_secret = \"{hash}\"\nredirect_uris = [\"https://app.example/cb\"]\n"
    );
    crate::common::clients_file(&text)
}

/// A token request for the app with `secret` (and a code that does not exist).
fn token_request(server: &TestServer, client: &reqwest::Client, secret: &str) -> reqwest::RequestBuilder {
    client.post(format!("{}/oidc/token", server.base)).basic_auth("app", Some(secret)).form(&[
        ("grant_type", "authorization_code"),
        ("code", "no-such-code"),
        ("redirect_uri", "https://app.example/cb"),
    ])
}

/// Attack H1 (docs/security.md): wrong client secrets sent to the token endpoint by clients that
/// hang up after 5 ms. Each costs an Argon2id check; the checks running at once are counted, and
/// must never exceed the client-secret queue's one slot, however many callers gave up.
#[tokio::test]
async fn hung_up_token_requests_never_run_more_hashes_than_the_queue_allows() {
    let env = Env::new()
        .await
        .set("LATCHKEY_OIDC_CLIENTS", hashed_secret_client("the app's secret"))
        .set("LATCHKEY_RATE_LIMIT_TOKEN", "off");
    let mut engine = None;
    let server = TestServer::start_with_state(env, |app| {
        engine = Some(app.engine().clone());
        app
    })
    .await;
    let queue = engine.expect("the engine").provider.client_hashing;
    let client = client_from("127.0.0.60");

    let mut peak = 0;
    for i in 0..24 {
        let guess = token_request(&server, &client, &format!("wrong secret {i}")).send();
        let _ = tokio::time::timeout(std::time::Duration::from_millis(5), guess).await;
        peak = peak.max(queue.running());
    }
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while (queue.running() > 0 || queue.waiting() > 0) && std::time::Instant::now() < until {
        peak = peak.max(queue.running());
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }

    assert_eq!(peak, 1, "client-secret checks running at once");
    assert_eq!(queue.waiting(), 0, "callers who hung up are not left counted as waiting");
    let answer = token_request(&server, &client, "still wrong").send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "the endpoint still answers a client that waits");
}

#[tokio::test]
async fn token_and_revocation_requests_have_a_budget_per_address() {
    let env = Env::new()
        .await
        .set("LATCHKEY_OIDC_CLIENTS", hashed_secret_client("the app's secret"))
        .set("LATCHKEY_RATE_LIMIT_TOKEN", "2/min");
    let server = TestServer::start_with(env).await;
    let (app, other) = (client_from("127.0.0.61"), client_from("127.0.0.62"));
    let revoke = |client: &reqwest::Client| {
        let request = client
            .post(format!("{}/oidc/revoke", server.base))
            .basic_auth("app", Some("wrong"))
            .form(&[("token", "no-such-token")]);
        async move { request.send().await.unwrap().status() }
    };

    let first = token_request(&server, &app, "wrong").send().await.unwrap().status();
    let second = revoke(&app).await;
    let third = token_request(&server, &app, "wrong").send().await.unwrap();
    let elsewhere = revoke(&other).await;

    assert_eq!([first, second], [StatusCode::UNAUTHORIZED; 2]);
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key("retry-after"));
    assert_eq!(elsewhere, StatusCode::UNAUTHORIZED, "another address has its own budget");
}

/// Attack L13 (docs/security.md): `X-Request-Id` names a request in every log line and in its
/// answer. A client may not choose it (to pass as another request, or to put its own text into
/// the log): only a trusted proxy's id is kept, and only when it is a plain id of at most 64
/// letters, digits and hyphens; otherwise the server makes one.
#[tokio::test]
async fn only_a_trusted_proxy_names_a_request() {
    let server = TestServer::start_with(Env::new().await.set("LATCHKEY_TRUSTED_PROXIES", "127.0.0.70")).await;
    let id_of = |from: &'static str, id: String| {
        let request = client_from(from).get(format!("{}/healthz", server.base)).header("x-request-id", id);
        async move {
            let answer = request.send().await.unwrap();
            answer.headers()["x-request-id"].to_str().unwrap().to_owned()
        }
    };
    let made_here = |id: &str| uuid::Uuid::parse_str(id).is_ok();

    let from_a_client = id_of("127.0.0.71", "chosen-by-the-client".into()).await;
    let from_the_proxy = id_of("127.0.0.70", "proxy-id-42".into()).await;
    let odd_from_the_proxy = id_of("127.0.0.70", "not an id; user_id=someone-else".into()).await;
    let long_from_the_proxy = id_of("127.0.0.70", "a".repeat(65)).await;

    assert!(made_here(&from_a_client), "a client's id is replaced: {from_a_client}");
    assert_eq!(from_the_proxy, "proxy-id-42");
    assert!(made_here(&odd_from_the_proxy), "{odd_from_the_proxy}");
    assert!(made_here(&long_from_the_proxy), "{long_from_the_proxy}");
}
