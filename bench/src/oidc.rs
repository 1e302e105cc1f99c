//! The OpenID Connect provider under load: an app signing in a user who is already signed in to the
//! portal (a returning user: the browser's `GET /oidc/authorize` with the portal's session cookie,
//! answered with a code, then the app's server's `POST /oidc/token`), and the key set apps fetch.
//! The clients file registers one app per case: RS256 (the default) or ES256 ID tokens, and a
//! secret written in plain text or as an Argon2id hash (checked with Argon2id on every exchange).

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use serde_json::Value;

use crate::BoxError;
use crate::client::{Api, OpError, VirtualUser};

/// Where the bench's apps say they live; never contacted (the bench reads the redirect's `Location`).
const CALLBACK: &str = "https://app.bench.example/callback";
/// The plain secret of every bench app; the hashed app's file holds its Argon2id hash.
pub const SECRET: &str = "bench-app-secret-of-at-least-32-characters";
/// RFC 7636 Appendix B's verifier and its S256 challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// One registered bench app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum App {
    /// RS256 ID tokens, plain secret.
    Rs256,
    /// ES256 ID tokens, plain secret.
    Es256,
    /// RS256 ID tokens, Argon2id-hashed secret.
    Hashed,
    /// ES256 ID tokens, asking for `openid` alone: no profile, no custom claims, no groups read.
    Openid,
    /// ES256 ID tokens, for the group `bench` only (`allowed_groups`), asking for `groups` too: the
    /// account's groups are read on every exchange, and named in both tokens.
    Groups,
}

impl App {
    /// Its `client_id`.
    pub fn client_id(self) -> &'static str {
        match self {
            Self::Rs256 => "bench-rs256",
            Self::Es256 => "bench-es256",
            Self::Hashed => "bench-hashed",
            Self::Openid => "bench-openid",
            Self::Groups => "bench-groups",
        }
    }

    /// The scopes it asks for.
    fn scope(self) -> &'static str {
        match self {
            Self::Rs256 | Self::Es256 | Self::Hashed => "openid email profile",
            Self::Openid => "openid",
            Self::Groups => "openid email profile groups",
        }
    }
}

/// The group the [`App::Groups`] app allows.
pub const GROUP: &str = "bench";

/// Writes the clients file for the bench's apps into `dir`.
pub fn clients_file(dir: &Path) -> Result<PathBuf, BoxError> {
    let hash = engine::tokens::secret::hash_secret(SECRET).map_err(|e| e.to_string())?;
    let entry = |app: App, secret: &str, alg: &str| {
        format!(
            "[[clients]]\nclient_id = \"{}\"\nclient_secret = \"{secret}\"\nredirect_uris = [\"{CALLBACK}\"]\n\
             skip_consent = true\nid_token_signed_response_alg = \"{alg}\"\n\n",
            app.client_id()
        )
    };
    let text = [
        entry(App::Rs256, SECRET, "RS256"),
        entry(App::Es256, SECRET, "ES256"),
        entry(App::Hashed, &hash, "RS256"),
        entry(App::Openid, SECRET, "ES256"),
        format!("{}\nallowed_groups = [\"{GROUP}\"]\n\n", entry(App::Groups, SECRET, "ES256").trim_end()),
    ]
    .concat();
    let path = dir.join("bench-clients.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Signs `user` in to the portal (once, before the measured phases: an Argon2id hash each), keeping
/// the session cookie its browser carries to `/oidc/authorize`.
pub async fn enter_portal(api: &Api, user: &mut VirtualUser) -> Result<(), OpError> {
    user.portal_session = Some(portal_session(api.http(), api.base(), user).await?);
    Ok(())
}

/// The portal's password sign-in (the server function the sign-in page's form posts to).
async fn portal_session(http: &reqwest::Client, base: &str, user: &VirtualUser) -> Result<String, OpError> {
    use leptos::server_fn::ServerFn as _;
    let response = http
        .post(format!("{base}{}", app::server_fns::PasswordSignIn::PATH))
        .header("origin", crate::client::ORIGIN)
        .header("accept", "application/json")
        .form(&[("email", user.email.as_str()), ("password", user.password.as_str())])
        .send()
        .await?;
    let cookie = response.headers().get("set-cookie").and_then(|c| c.to_str().ok()).and_then(|c| c.split(';').next());
    match cookie {
        Some(cookie) if response.status().is_success() || response.status().is_redirection() => Ok(cookie.to_owned()),
        _ => Err(OpError::Status(response.status().as_u16(), "portal sign-in".into())),
    }
}

/// One app sign-in of a returning user: authorize (with the session cookie; consent is skipped for
/// the bench apps) → code → token exchange, whose answer must carry an ID token.
pub async fn sign_in(api: &Api, user: &mut VirtualUser, app: App) -> Result<(), OpError> {
    if user.portal_session.is_none() {
        enter_portal(api, user).await?;
    }
    let (http, base) = (api.http(), api.base());
    let session = user.portal_session.clone().unwrap_or_default();
    let authorize = http
        .get(format!("{base}/oidc/authorize"))
        .query(&[
            ("client_id", app.client_id()),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", app.scope()),
            ("state", "bench-state"),
            ("nonce", "bench-nonce"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .header("cookie", session)
        .send()
        .await?;
    let location = authorize.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default();
    let code = url::Url::parse(location)
        .ok()
        .and_then(|url| url.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()))
        .ok_or_else(|| OpError::Status(authorize.status().as_u16(), format!("authorize answered {location:.40}")))?;
    let exchange = http
        .post(format!("{base}/oidc/token"))
        .basic_auth(app.client_id(), Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await?;
    let status = exchange.status();
    let body: Value = exchange.json().await.map_err(|e| OpError::Body(e.without_url().to_string()))?;
    if status != StatusCode::OK || !body["id_token"].is_string() {
        return Err(OpError::Status(status.as_u16(), body["error"].as_str().unwrap_or_default().to_owned()));
    }
    Ok(())
}

/// Puts every one of `users` in the group [`GROUP`] through the admin API (the operator's token),
/// before the phase of the app that allows only it.
pub async fn join_group(api: &Api, users: &[VirtualUser], admin_token: &str) -> Result<(), BoxError> {
    let (http, base) = (api.http(), api.base());
    let made =
        http.post(format!("{base}/admin/groups")).bearer_auth(admin_token).json(&serde_json::json!({"name": GROUP}));
    let made = made.send().await?;
    if !made.status().is_success() {
        return Err(format!("POST /admin/groups answered {}", made.status()).into());
    }
    for user in users {
        let me: Value =
            http.get(format!("{base}/auth/me")).bearer_auth(&user.access_token).send().await?.json().await?;
        let id = me["id"].as_str().ok_or("GET /auth/me gave no id")?;
        let added = http
            .post(format!("{base}/admin/groups/{GROUP}/members"))
            .bearer_auth(admin_token)
            .json(&serde_json::json!({ "user_id": id }))
            .send()
            .await?;
        if !added.status().is_success() {
            return Err(format!("adding a member answered {}", added.status()).into());
        }
    }
    Ok(())
}

/// `GET /.well-known/jwks.json`, as an app refreshing its key cache does.
pub async fn fetch_keys(api: &Api) -> Result<(), OpError> {
    let response = api.http().get(format!("{}/.well-known/jwks.json", api.base())).send().await?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| OpError::Body(e.without_url().to_string()))?;
    match body["keys"].as_array() {
        Some(keys) if status == StatusCode::OK && keys.len() >= 4 => Ok(()),
        _ => Err(OpError::Status(status.as_u16(), "jwks".into())),
    }
}
