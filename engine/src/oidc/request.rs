//! An authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1): read from the app's query, checked
//! against its registration, and — while the user signs in or consents — carried by the browser
//! *sealed* (AES-256-GCM under a key of the operator secret, `sealed.rs`), so nothing is stored for
//! a visitor who never signs in, any instance can continue it, and nobody can alter it on the way.
//!
//! The order of the checks is the RFC's: until the client and the exact redirect URI are known to be
//! registered, an error is a page on this site ([`AuthorizeProblem`]) and never a redirect; after,
//! errors go back to the app's redirect URI with `error`, `state` and `iss`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proto::AuthorizeProblem;
use serde::{Deserialize, Serialize};
use url::Url;

use super::error::OAuthCode;
use super::known_scopes;
use super::params::Params;
use crate::base::sealed::Sealer;
use crate::tokens::clients::{Client, Clients};

/// How long an authorization request may wait for the user to sign in (or sign up) and consent.
pub const REQUEST_TTL: i64 = 30 * 60;
/// The longest `state` or `nonce` accepted, in bytes: the sealed request travels in the sign-in
/// page's `next`, which the portal keeps to 4,096 bytes (`app/src/return_path.rs`).
const MAX_VALUE_BYTES: usize = 512;
/// The longest `login_hint`, in bytes (an email address is at most 254).
const MAX_LOGIN_HINT_BYTES: usize = 320;
/// The longest resume address ([`resume_path`]) sent to the sign-in page: under the portal's
/// 4,096-byte limit on `next`, whatever the registered redirect URI's length.
pub const MAX_RESUME_PATH: usize = 4000;
/// The associated data of a sealed request: it can be opened as nothing else.
const SEALED_AS: &str = "oidc authorization request";

/// The `prompt` parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// `none`: answer without showing anything.
    pub none: bool,
    /// `login`: the user must sign in again, even if signed in.
    pub login: bool,
    /// `consent`: ask for consent even if it was given before.
    pub consent: bool,
}

/// A checked authorization request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// The registered app.
    pub client_id: String,
    /// One of its registered redirect URIs, exactly as sent.
    pub redirect_uri: String,
    /// The scopes Latchkey knows of those asked for, in [`SCOPES`] order, space-separated.
    pub scope: String,
    /// Returned to the app unchanged.
    pub state: Option<String>,
    /// Put into the ID token.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// `prompt`.
    pub prompt: Prompt,
    /// `max_age`: the longest time since the user last proved who they are, in seconds.
    pub max_age: Option<i64>,
    /// `login_hint`: the email to fill in and to ask passkeys of.
    pub login_hint: Option<String>,
    /// When the request arrived (Unix seconds): `prompt=login` wants a sign-in after this.
    pub received_at: i64,
}

/// Why a request is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not to be sent back to the app: show the page.
    Page(AuthorizeProblem),
    /// Sent back to the app (its redirect URI is registered) with this error.
    ToApp(ErrorRedirect),
}

/// An error the browser takes back to the app.
#[derive(Debug, PartialEq, Eq)]
pub struct ErrorRedirect {
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// The request's `state`, if it had one.
    pub state: Option<String>,
    /// The error.
    pub code: OAuthCode,
    /// For the app's developer.
    pub description: String,
}

impl ErrorRedirect {
    /// The address, with `error`, `error_description`, `state` and `iss` (RFC 9207).
    pub fn location(&self, issuer: &str) -> String {
        let mut pairs = vec![("error", self.code.as_str()), ("error_description", self.description.as_str())];
        if let Some(state) = &self.state {
            pairs.push(("state", state));
        }
        pairs.push(("iss", issuer));
        with_query(&self.redirect_uri, &pairs)
    }
}

/// `uri` with `pairs` added to its query (a registered redirect URI may have a query of its own).
pub fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    match Url::parse(uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            url.into()
        }
        // Registered URIs are checked at start-up; a request's is compared with them exactly.
        Err(_) => uri.to_owned(),
    }
}

/// The parameters an authorization request may carry (others are ignored, RFC 6749 §3.1).
const PARAMETERS: [&str; 14] = [
    "client_id",
    "redirect_uri",
    "state",
    "response_type",
    "response_mode",
    "scope",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "nonce",
    "login_hint",
    "request",
    "request_uri",
];

/// Reads and checks an authorization request's parameters (query or form).
pub fn read(clients: &Clients, params: &[(String, String)], now: i64) -> Result<AuthorizationRequest, Refusal> {
    let params = Params::new(params);
    // RFC 6749 §3.1: no parameter may be sent twice. The two that decide where errors go first.
    let client = params
        .single("client_id")
        .and_then(|id| clients.get(id))
        .ok_or(Refusal::Page(AuthorizeProblem::UnknownClient))?;
    let redirect_uri = params
        .single("redirect_uri")
        .filter(|uri| is_registered(&client, uri))
        .ok_or(Refusal::Page(AuthorizeProblem::RedirectUri))?;
    let state = params.get("state").map(str::to_owned);
    let refuse = |code: OAuthCode, description: String| {
        Refusal::ToApp(ErrorRedirect { redirect_uri: redirect_uri.to_owned(), state: state.clone(), code, description })
    };
    if let Some(refusal) = params.repeated_refusal(&PARAMETERS) {
        return Err(refuse(OAuthCode::InvalidRequest, refusal));
    }
    if params.has("request") {
        return Err(refuse(OAuthCode::RequestNotSupported, "request objects are not supported".into()));
    }
    if params.has("request_uri") {
        return Err(refuse(OAuthCode::RequestUriNotSupported, "request_uri is not supported".into()));
    }
    match params.single("response_type") {
        Some("code") => {}
        Some(_) => {
            return Err(refuse(OAuthCode::UnsupportedResponseType, "only response_type=code is supported".into()));
        }
        None => return Err(refuse(OAuthCode::InvalidRequest, "response_type is missing".into())),
    }
    if params.single("response_mode").is_some_and(|mode| mode != "query") {
        return Err(refuse(OAuthCode::InvalidRequest, "only response_mode=query is supported".into()));
    }
    let asked: Vec<&str> = params.single("scope").unwrap_or_default().split_ascii_whitespace().collect();
    if !asked.contains(&"openid") {
        return Err(refuse(OAuthCode::InvalidScope, "the scope must include openid".into()));
    }
    let scope = known_scopes(|known| asked.contains(&known));
    let code_challenge = match (params.single("code_challenge"), params.single("code_challenge_method")) {
        (None, None) if client.require_pkce => {
            return Err(refuse(OAuthCode::InvalidRequest, "PKCE is required: send code_challenge with S256".into()));
        }
        (None, None) => None,
        (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => Some(challenge.to_owned()),
        (Some(_), Some("S256")) => {
            return Err(refuse(OAuthCode::InvalidRequest, "code_challenge is not a base64url SHA-256".into()));
        }
        _ => {
            return Err(refuse(
                OAuthCode::InvalidRequest,
                "send code_challenge with code_challenge_method=S256 (plain is not accepted)".into(),
            ));
        }
    };
    let mut prompt = Prompt::default();
    for value in params.single("prompt").unwrap_or_default().split_ascii_whitespace() {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            // Latchkey has one account per browser session: choosing one is signing in.
            "select_account" => prompt.login = true,
            // Never the value itself: the app may show the description (docs/security.md).
            _ => {
                return Err(refuse(
                    OAuthCode::InvalidRequest,
                    "prompt takes none, login, consent or select_account".into(),
                ));
            }
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(refuse(OAuthCode::InvalidRequest, "prompt=none cannot be combined with another value".into()));
    }
    let max_age = match params.single("max_age") {
        None => None,
        Some(raw) => Some(
            raw.parse::<u32>()
                .map_err(|_| refuse(OAuthCode::InvalidRequest, "max_age must be a whole number of seconds".into()))?,
        ),
    };
    let nonce = params.get("nonce").map(str::to_owned);
    for (name, value) in [("state", &state), ("nonce", &nonce)] {
        if value.as_ref().is_some_and(|v| v.len() > MAX_VALUE_BYTES) {
            return Err(refuse(OAuthCode::InvalidRequest, format!("{name} is longer than {MAX_VALUE_BYTES} bytes")));
        }
    }
    let login_hint = params
        .single("login_hint")
        .map(str::trim)
        .filter(|hint| !hint.is_empty() && hint.len() <= MAX_LOGIN_HINT_BYTES)
        .map(str::to_owned);
    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state,
        nonce,
        code_challenge,
        prompt,
        max_age: max_age.map(i64::from),
        login_hint,
        received_at: now,
    })
}

/// Whether `uri` is exactly one of the client's redirect URIs (RFC 9700 §4.1.3: no patterns, no
/// prefixes).
fn is_registered(client: &Client, uri: &str) -> bool {
    client.redirect_uris.iter().any(|registered| registered.as_str() == uri)
}

/// A PKCE S256 challenge is the base64url of 32 bytes: 43 characters.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && URL_SAFE_NO_PAD.decode(challenge).is_ok_and(|bytes| bytes.len() == 32)
}

impl AuthorizationRequest {
    /// The request sealed for the browser to carry (base64url).
    pub fn seal(&self, sealer: &Sealer) -> Option<String> {
        sealer.seal(SEALED_AS, &serde_json::to_vec(self).ok()?)
    }

    /// Opens a sealed request that is younger than [`REQUEST_TTL`] and whose client and redirect URI
    /// are still registered (the clients file may have changed since).
    pub fn open(sealed: &str, sealer: &Sealer, clients: &Clients, now: i64) -> Result<Self, AuthorizeProblem> {
        let bytes = sealer.open(SEALED_AS, sealed).map_err(|_| AuthorizeProblem::Expired)?;
        let request: Self = serde_json::from_slice(&bytes).map_err(|_| AuthorizeProblem::Expired)?;
        if now >= request.received_at.saturating_add(REQUEST_TTL) {
            return Err(AuthorizeProblem::Expired);
        }
        let client = clients.get(&request.client_id).ok_or(AuthorizeProblem::UnknownClient)?;
        if !is_registered(&client, &request.redirect_uri) {
            return Err(AuthorizeProblem::RedirectUri);
        }
        Ok(request)
    }

    /// An error for the app, about this request.
    pub fn error(&self, code: OAuthCode, description: impl Into<String>) -> ErrorRedirect {
        ErrorRedirect {
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            code,
            description: description.into(),
        }
    }
}

/// Where the browser continues a sealed request after signing in or consenting.
pub fn resume_path(sealed: &str) -> String {
    format!("{}?request={sealed}", super::paths::RESUME)
}

/// The sealed request of a [`resume_path`] (the sign-in page's `next`), if `path` is one.
pub fn sealed_in(path: &str) -> Option<&str> {
    path.strip_prefix(super::paths::RESUME)?.strip_prefix("?request=").filter(|sealed| !sealed.contains('&'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::sealed::Purpose;
    use crate::base::types::Secret;

    const CLIENTS: &str = r#"
        [[clients]]
        client_id = "app"
        client_secret = "a-plain-secret-of-at-least-32-characters"
        redirect_uris = ["https://app.example/cb", "https://app.example/cb?tenant=1"]
        [[clients]]
        client_id = "legacy"
        client_secret = "a-plain-secret-of-at-least-32-characters"
        redirect_uris = ["https://legacy.example/cb"]
        require_pkce = false
    "#;
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("client_id", "app"),
            ("redirect_uri", "https://app.example/cb"),
            ("response_type", "code"),
            ("scope", "openid email unknown"),
            ("state", "s1"),
            ("nonce", "n1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
    }

    /// Parameters to replace (`Some`) or leave out (`None`) in the good request.
    type Change = Vec<(&'static str, Option<&'static str>)>;

    fn with(change: &[(&'static str, Option<&'static str>)]) -> Vec<(String, String)> {
        let mut pairs = good();
        for (name, value) in change {
            pairs.retain(|(n, _)| n != name);
            if let Some(value) = value {
                pairs.push((name, value));
            }
        }
        params(&pairs)
    }

    #[test]
    fn a_good_request_keeps_the_known_scopes() {
        let clients = Clients::parse(CLIENTS).unwrap();
        let request = read(&clients, &params(&good()), 100).unwrap();
        assert_eq!(request.scope, "openid email");
        assert_eq!(request.code_challenge.as_deref(), Some(CHALLENGE));
        assert_eq!(
            (request.state.as_deref(), request.nonce.as_deref(), request.received_at),
            (Some("s1"), Some("n1"), 100)
        );
    }

    #[test]
    fn without_a_registered_client_and_exact_redirect_uri_the_answer_is_a_page() {
        let clients = Clients::parse(CLIENTS).unwrap();
        for (change, problem) in [
            (vec![("client_id", None)], AuthorizeProblem::UnknownClient),
            (vec![("client_id", Some("nobody"))], AuthorizeProblem::UnknownClient),
            (vec![("redirect_uri", None)], AuthorizeProblem::RedirectUri),
            (vec![("redirect_uri", Some("https://app.example/cb/"))], AuthorizeProblem::RedirectUri),
            (vec![("redirect_uri", Some("https://app.example/cb?x=1"))], AuthorizeProblem::RedirectUri),
            (vec![("redirect_uri", Some("https://evil.example/cb"))], AuthorizeProblem::RedirectUri),
            (vec![("redirect_uri", Some("https://legacy.example/cb"))], AuthorizeProblem::RedirectUri),
        ] {
            assert_eq!(read(&clients, &with(&change), 0), Err(Refusal::Page(problem)), "{change:?}");
        }
        let mut twice = params(&good());
        twice.push(("redirect_uri".into(), "https://app.example/cb?tenant=1".into()));
        assert_eq!(read(&clients, &twice, 0), Err(Refusal::Page(AuthorizeProblem::RedirectUri)));
    }

    #[test]
    fn other_errors_go_back_to_the_app_with_state() {
        let clients = Clients::parse(CLIENTS).unwrap();
        let cases: Vec<(Change, OAuthCode)> = vec![
            (vec![("response_type", Some("token"))], OAuthCode::UnsupportedResponseType),
            (vec![("response_type", None)], OAuthCode::InvalidRequest),
            (vec![("scope", Some("email profile"))], OAuthCode::InvalidScope),
            (vec![("code_challenge", None), ("code_challenge_method", None)], OAuthCode::InvalidRequest),
            (vec![("code_challenge_method", Some("plain"))], OAuthCode::InvalidRequest),
            (vec![("code_challenge_method", None)], OAuthCode::InvalidRequest),
            (vec![("code_challenge", Some("short"))], OAuthCode::InvalidRequest),
            (vec![("prompt", Some("none login"))], OAuthCode::InvalidRequest),
            (vec![("prompt", Some("sometimes"))], OAuthCode::InvalidRequest),
            (vec![("max_age", Some("-1"))], OAuthCode::InvalidRequest),
            (vec![("response_mode", Some("fragment"))], OAuthCode::InvalidRequest),
            (vec![("request", Some("eyJ"))], OAuthCode::RequestNotSupported),
            (vec![("request_uri", Some("https://app.example/r"))], OAuthCode::RequestUriNotSupported),
        ];
        for (change, code) in cases {
            match read(&clients, &with(&change), 0) {
                Err(Refusal::ToApp(redirect)) => {
                    assert_eq!((redirect.code, redirect.state.as_deref()), (code, Some("s1")), "{change:?}");
                    let location = redirect.location("https://login.example");
                    assert!(location.starts_with("https://app.example/cb?error="), "{location}");
                    assert!(location.ends_with("&state=s1&iss=https%3A%2F%2Flogin.example"), "{location}");
                }
                other => panic!("{change:?}: {other:?}"),
            }
        }
        for (name, value) in [("state", "s".repeat(513)), ("nonce", "é".repeat(257))] {
            let mut long = params(&good());
            long.retain(|(n, _)| n != name);
            long.push((name.into(), value));
            assert!(
                matches!(
                    read(&clients, &long, 0),
                    Err(Refusal::ToApp(ErrorRedirect { code: OAuthCode::InvalidRequest, .. }))
                ),
                "{name} over 512 bytes"
            );
        }
        let mut twice = params(&good());
        twice.push(("nonce".into(), "n2".into()));
        assert!(matches!(
            read(&clients, &twice, 0),
            Err(Refusal::ToApp(ErrorRedirect { code: OAuthCode::InvalidRequest, .. }))
        ));
    }

    #[test]
    fn pkce_may_be_left_out_only_where_the_client_allows_it() {
        let clients = Clients::parse(CLIENTS).unwrap();
        let legacy = with(&[
            ("client_id", Some("legacy")),
            ("redirect_uri", Some("https://legacy.example/cb")),
            ("code_challenge", None),
            ("code_challenge_method", None),
        ]);
        assert_eq!(read(&clients, &legacy, 0).unwrap().code_challenge, None);
    }

    #[test]
    fn a_sealed_request_opens_until_it_expires_and_only_unaltered() {
        let clients = Clients::parse(CLIENTS).unwrap();
        let sealer =
            Sealer::new(&Secret::new("an-operator-secret-of-at-least-32-bytes"), Purpose::AuthorizationRequests);
        let request = read(&clients, &params(&good()), 1_000).unwrap();
        let sealed = request.seal(&sealer).unwrap();
        assert_eq!(AuthorizationRequest::open(&sealed, &sealer, &clients, 1_000 + REQUEST_TTL - 1), Ok(request));
        assert_eq!(
            AuthorizationRequest::open(&sealed, &sealer, &clients, 1_000 + REQUEST_TTL),
            Err(AuthorizeProblem::Expired)
        );
        let mut altered = sealed.clone().into_bytes();
        altered[20] = if altered[20] == b'a' { b'b' } else { b'a' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(AuthorizationRequest::open(&altered, &sealer, &clients, 1_000), Err(AuthorizeProblem::Expired));
        let fewer = Clients::parse("").unwrap();
        assert_eq!(AuthorizationRequest::open(&sealed, &sealer, &fewer, 1_000), Err(AuthorizeProblem::UnknownClient));
    }
}
