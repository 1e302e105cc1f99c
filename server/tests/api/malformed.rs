//! Bad input of every kind gets a 4xx with the API's error shape, and the server keeps serving.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{ORIGIN, TestServer, authenticator};

const JSON: Option<&str> = Some("application/json");

/// What is sent, where, with which content type and token, and the status it must get.
type Case<'a> = (&'a str, Method, &'a str, Option<&'a str>, Vec<u8>, Option<&'a str>, StatusCode);

#[tokio::test]
async fn malformed_bodies_get_a_4xx_and_the_server_stays_up() {
    let server = TestServer::start().await;
    let (token, _) = server.sign_up("ada@example.com").await;
    let mut key = authenticator();
    server.add_passkey(&token, &mut key).await;
    let options = server.begin_sign_in(None).await;
    let good = key.get(&options, ORIGIN).unwrap();
    let with = |path: &str, value: serde_json::Value| -> serde_json::Value {
        let mut credential = good.clone();
        *credential.pointer_mut(path).unwrap() = value;
        json!({ "credential": credential })
    };
    let b64 = |s: &str| testkit::b64url(s.as_bytes());

    let auth = Some(token.as_str());
    let complete = "/auth/passkeys/authenticate/complete";
    let cases: Vec<Case> = vec![
        ("not JSON", Method::POST, "/auth/register", JSON, b"{email:".to_vec(), None, StatusCode::BAD_REQUEST),
        ("wrong types", Method::POST, "/auth/register", JSON, br#"{"email":1,"password":true}"#.to_vec(), None, StatusCode::BAD_REQUEST),
        ("missing field", Method::POST, "/auth/register", JSON, br#"{"email":"a@b.co"}"#.to_vec(), None, StatusCode::BAD_REQUEST),
        ("text/plain", Method::POST, "/auth/register", Some("text/plain"), br#"{"email":"a@b.co","password":"12345678"}"#.to_vec(), None, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("no content type", Method::POST, "/auth/login", None, br#"{"email":"a@b.co","password":"12345678"}"#.to_vec(), None, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("an array", Method::POST, "/auth/login", JSON, b"[]".to_vec(), None, StatusCode::BAD_REQUEST),
        ("null", Method::POST, "/auth/login", JSON, b"null".to_vec(), None, StatusCode::BAD_REQUEST),
        ("invalid UTF-8", Method::POST, "/auth/login", JSON, vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'], None, StatusCode::BAD_REQUEST),
        ("a huge number", Method::POST, "/auth/login", JSON, br#"{"email":1e999999,"password":"x"}"#.to_vec(), None, StatusCode::BAD_REQUEST),
        ("deep nesting", Method::POST, "/auth/login", JSON, "[".repeat(10_000).into_bytes(), None, StatusCode::BAD_REQUEST),
        ("refresh token of the wrong type", Method::POST, "/auth/refresh", JSON, br#"{"refresh_token":5}"#.to_vec(), None, StatusCode::BAD_REQUEST),
        ("a made-up refresh token", Method::POST, "/auth/refresh", JSON, br#"{"refresh_token":"made-up"}"#.to_vec(), None, StatusCode::UNAUTHORIZED),
        ("email of the wrong type", Method::POST, "/auth/passkeys/authenticate/begin", JSON, br#"{"email":5}"#.to_vec(), None, StatusCode::BAD_REQUEST),
        ("an invalid email", Method::POST, "/auth/passkeys/authenticate/begin", JSON, br#"{"email":"nope"}"#.to_vec(), None, StatusCode::BAD_REQUEST),
        ("begin with text/plain", Method::POST, "/auth/passkeys/authenticate/begin", Some("text/plain"), b"x".to_vec(), None, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("no credential", Method::POST, complete, JSON, b"{}".to_vec(), None, StatusCode::BAD_REQUEST),
        ("an empty credential", Method::POST, complete, JSON, br#"{"credential":{}}"#.to_vec(), None, StatusCode::BAD_REQUEST),
        ("rawId not base64url", Method::POST, complete, JSON, with("/rawId", json!("!!!")).to_string().into_bytes(), None, StatusCode::BAD_REQUEST),
        ("signature not base64url", Method::POST, complete, JSON, with("/response/signature", json!("%%%")).to_string().into_bytes(), None, StatusCode::BAD_REQUEST),
        ("clientDataJSON not JSON", Method::POST, complete, JSON, with("/response/clientDataJSON", json!(b64("nope"))).to_string().into_bytes(), None, StatusCode::BAD_REQUEST),
        ("an unknown challenge", Method::POST, complete, JSON, with("/response/clientDataJSON", json!(b64(r#"{"type":"webauthn.get","challenge":"AAAA","origin":"http://localhost:3000"}"#))).to_string().into_bytes(), None, StatusCode::BAD_REQUEST),
        ("response of the wrong type", Method::POST, complete, JSON, with("/response", json!([1, 2])).to_string().into_bytes(), None, StatusCode::BAD_REQUEST),
        ("credential as a string", Method::POST, "/auth/passkeys/register/complete", JSON, br#"{"credential":"x"}"#.to_vec(), auth, StatusCode::BAD_REQUEST),
        ("attestation garbage", Method::POST, "/auth/passkeys/register/complete", JSON,
            json!({"credential": {"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": b64(r#"{"challenge":"AAAA"}"#), "attestationObject": "AAAA"}}}).to_string().into_bytes(),
            auth, StatusCode::BAD_REQUEST),
        ("register/complete without a token", Method::POST, "/auth/passkeys/register/complete", JSON, b"{}".to_vec(), None, StatusCode::UNAUTHORIZED),
        ("rename an unknown id", Method::PATCH, "/auth/passkeys/unknown", JSON, br#"{"name":"x"}"#.to_vec(), auth, StatusCode::NOT_FOUND),
        ("rename to an empty name", Method::PATCH, "/auth/passkeys/unknown", JSON, br#"{"name":"  "}"#.to_vec(), auth, StatusCode::BAD_REQUEST),
        ("delete an unknown id", Method::DELETE, "/auth/passkeys/AAAA", None, Vec::new(), auth, StatusCode::NOT_FOUND),
        ("an id that is not UTF-8", Method::DELETE, "/auth/passkeys/%ff%fe", None, Vec::new(), auth, StatusCode::BAD_REQUEST),
        ("register/begin with a non-JSON body", Method::POST, "/auth/passkeys/register/begin", Some("text/plain"), b"x".to_vec(), auth, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("an oversize body", Method::POST, "/auth/login", JSON, vec![b' '; 64 * 1024 + 1], None, StatusCode::PAYLOAD_TOO_LARGE),
        ("an oversize credential", Method::POST, complete, JSON, with("/id", json!("A".repeat(70_000))).to_string().into_bytes(), None, StatusCode::PAYLOAD_TOO_LARGE),
    ];

    for (what, method, path, content_type, body, token, expected) in cases {
        let answer = server.raw(method, path, content_type, body, token).await;
        assert_eq!(answer.status, expected, "{what}: {}", answer.body);
        assert!(
            answer.body["error"].is_string() && answer.body["message"].is_string(),
            "{what}: not the error shape: {}",
            answer.body
        );
    }

    assert_eq!(server.get("/healthz", None).await.status, StatusCode::OK);
    let still_works = server.post("/auth/passkeys/authenticate/complete", None, json!({ "credential": good })).await;
    assert_eq!(still_works.status, StatusCode::OK, "the good assertion still completes: {}", still_works.body);
}

#[tokio::test]
async fn an_oversize_body_without_a_length_is_refused() {
    let server = TestServer::start().await;
    let chunks = futures::stream::iter((0..80).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024])));
    let response = reqwest::Client::new()
        .post(format!("{}/auth/login", server.base))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}
