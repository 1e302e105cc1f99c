//! One virtual user per account: its tokens and its own software authenticator, and the REST calls
//! of every benchmarked operation (docs/api.md).

use std::fmt;

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use testkit::SoftAuthenticator;

/// The origin the server is configured with (`LATCHKEY_ORIGINS`) and the authenticators claim.
pub const ORIGIN: &str = "http://localhost:3000";

/// Why one operation failed; its text is the key errors are counted under.
#[derive(Debug)]
pub enum OpError {
    /// The server answered with an unexpected status (and this `error` code, if any).
    Status(u16, String),
    /// No answer: connection refused, reset or timed out.
    Transport(String),
    /// The software authenticator refused the options.
    Authenticator(String),
    /// The answer was not the JSON expected.
    Body(String),
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status, code) => write!(f, "HTTP {status} {code}"),
            Self::Transport(e) => write!(f, "transport: {e}"),
            Self::Authenticator(e) => write!(f, "authenticator: {e}"),
            Self::Body(e) => write!(f, "body: {e}"),
        }
    }
}

impl std::error::Error for OpError {}

impl From<reqwest::Error> for OpError {
    fn from(e: reqwest::Error) -> Self {
        // Without the URL, so that errors count under a few keys.
        Self::Transport(e.without_url().to_string())
    }
}

impl From<testkit::Error> for OpError {
    fn from(e: testkit::Error) -> Self {
        Self::Authenticator(e.to_string())
    }
}

/// The token pair every sign-in answers with.
#[derive(Deserialize)]
struct TokenPair {
    access_token: String,
    refresh_token: String,
}

/// The HTTP client (one keep-alive pool shared by every virtual user) and the server's base URL.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// A seeded account with a passkey, driven by one worker task at a time.
pub struct VirtualUser {
    /// Its email (unique per run).
    pub email: String,
    /// Its password (always the right one: wrong ones would lock the account).
    pub password: String,
    /// The latest access token.
    pub access_token: String,
    /// The latest refresh token; `None` after a failed rotation left it unusable.
    pub refresh_token: Option<String>,
    /// The device holding this user's first passkey.
    pub authenticator: SoftAuthenticator,
    /// How many passkeys the server holds for it.
    pub passkeys: usize,
    /// The portal's session cookie, once the OpenID Connect phases signed it in to the portal.
    pub portal_session: Option<String>,
}

impl Api {
    /// A client for the server at `base` (`http://127.0.0.1:<port>`) keeping up to `connections` idle.
    pub fn new(base: String, connections: usize) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            // Redirects are read, not followed (the OpenID Connect phases read the code from one).
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(connections)
            .tcp_nodelay(true)
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Ok(Self { http, base })
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Result<(StatusCode, Vec<u8>), OpError> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        Ok((status, response.bytes().await?.to_vec()))
    }

    /// Signs up `email` with `password` (`POST /auth/register`) and returns the user without a passkey.
    pub async fn sign_up(&self, email: String, password: String) -> Result<VirtualUser, OpError> {
        let (status, body) =
            self.post("/auth/register", None, &json!({ "email": email, "password": password })).await?;
        let pair: TokenPair = expect(status, StatusCode::CREATED, &body)?;
        Ok(VirtualUser {
            email,
            password,
            access_token: pair.access_token,
            refresh_token: Some(pair.refresh_token),
            authenticator: SoftAuthenticator::new(),
            passkeys: 0,
            portal_session: None,
        })
    }

    /// A passkey registration (register/begin + the authenticator + register/complete) on `device`.
    pub async fn register_passkey(
        &self,
        user: &mut VirtualUser,
        device: &mut SoftAuthenticator,
    ) -> Result<(), OpError> {
        let token = Some(user.access_token.as_str());
        let (status, body) = self.post("/auth/passkeys/register/begin", token, &json!({})).await?;
        let options: Value = expect(status, StatusCode::OK, &body)?;
        let credential = device.create(&options, ORIGIN)?;
        let request = json!({ "credential": credential, "name": "bench key" });
        let (status, body) = self.post("/auth/passkeys/register/complete", token, &request).await?;
        let _: Value = expect(status, StatusCode::CREATED, &body)?;
        user.passkeys += 1;
        Ok(())
    }

    /// A passkey sign-in (authenticate/begin + the authenticator + authenticate/complete): targeted
    /// (`{email}`, allowCredentials listed) or discoverable (`{}`, the authenticator picks).
    pub async fn passkey_sign_in(&self, user: &mut VirtualUser, targeted: bool) -> Result<(), OpError> {
        let begin = if targeted { json!({ "email": user.email }) } else { json!({}) };
        let (status, body) = self.post("/auth/passkeys/authenticate/begin", None, &begin).await?;
        let options: Value = expect(status, StatusCode::OK, &body)?;
        let credential = user.authenticator.get(&options, ORIGIN)?;
        let (status, body) =
            self.post("/auth/passkeys/authenticate/complete", None, &json!({ "credential": credential })).await?;
        user.keep(expect(status, StatusCode::OK, &body)?);
        Ok(())
    }

    /// A refresh-token rotation (`POST /auth/refresh`). A user whose token was lost to an earlier
    /// failure first signs in again with its passkey.
    pub async fn refresh(&self, user: &mut VirtualUser) -> Result<(), OpError> {
        if user.refresh_token.is_none() {
            self.passkey_sign_in(user, false).await?;
        }
        let token = user.refresh_token.take().unwrap_or_default();
        let (status, body) = self.post("/auth/refresh", None, &json!({ "refresh_token": token })).await?;
        user.keep(expect(status, StatusCode::OK, &body)?);
        Ok(())
    }

    /// `GET /auth/passkeys` with the user's access token.
    pub async fn list_passkeys(&self, user: &VirtualUser) -> Result<(), OpError> {
        let response =
            self.http.get(format!("{}/auth/passkeys", self.base)).bearer_auth(&user.access_token).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        let list: Vec<Value> = expect(status, StatusCode::OK, &body)?;
        if list.len() == user.passkeys {
            Ok(())
        } else {
            Err(OpError::Body(format!("listed {} passkeys, expected {}", list.len(), user.passkeys)))
        }
    }

    /// The HTTP client, for the phases that make their own requests (`oidc.rs`).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `POST /auth/login` with the right password.
    pub async fn password_login(&self, user: &mut VirtualUser) -> Result<(), OpError> {
        let request = json!({ "email": user.email, "password": user.password });
        let (status, body) = self.post("/auth/login", None, &request).await?;
        user.keep(expect(status, StatusCode::OK, &body)?);
        Ok(())
    }
}

impl VirtualUser {
    fn keep(&mut self, pair: TokenPair) {
        self.access_token = pair.access_token;
        self.refresh_token = Some(pair.refresh_token);
    }
}

/// The body as `T` when the status is `want`; otherwise the status and the API's error code.
fn expect<T: for<'de> Deserialize<'de>>(status: StatusCode, want: StatusCode, body: &[u8]) -> Result<T, OpError> {
    if status != want {
        let code = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        return Err(OpError::Status(status.as_u16(), code));
    }
    serde_json::from_slice(body).map_err(|e| OpError::Body(e.to_string()))
}
