//! The OpenID Connect provider end to end, with the `openidconnect` crate as the app (the relying
//! party): discovery, the authorization code flow with PKCE through the portal's sign-in and consent,
//! ID tokens checked against the published keys, userinfo, refresh, revocation, logout, `prompt` and
//! `max_age`, and every refusal — on SQLite, and on PostgreSQL + Redis with a second instance.

use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreIdTokenVerifier,
    CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, LoginHint, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    TokenResponse, TokenUrl,
};
use reqwest::StatusCode;
use serde_json::Value;
use testkit::SoftAuthenticator;
use url::Url;

use crate::common::{Env, TestServer, authenticator};

const APP: &str = "app";
const APP_SECRET: &str = "a-plain-secret-of-at-least-32-characters";
const APP_CALLBACK: &str = "https://app.example/cb";
const APP_SIGNED_OUT: &str = "https://app.example/bye";
const SPA: &str = "spa";
const SPA_CALLBACK: &str = "http://127.0.0.1:9/cb";
const FIRST_PARTY: &str = "wiki";
const FIRST_PARTY_CALLBACK: &str = "https://wiki.example/cb";
const TEAM: &str = "team";
const TEAM_CALLBACK: &str = "https://team.example/cb";
const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery";

/// The Example App's logo (`logo_uri`), an SVG that would run a script if opened as a page.
const APP_LOGO: &str = r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;

fn clients_file() -> String {
    let logo = std::env::temp_dir().join(format!("latchkey-app-logo-{}.svg", uuid::Uuid::new_v4().simple()));
    std::fs::write(&logo, APP_LOGO).expect("logo file");
    let text = format!(
        r#"
        [[clients]]
        client_id = "{APP}"
        name = "Example App"
        client_secret = "{APP_SECRET}"
        redirect_uris = ["{APP_CALLBACK}"]
        post_logout_redirect_uris = ["{APP_SIGNED_OUT}"]
        logo_uri = "{}"
        client_uri = "https://app.example/"

        [[clients]]
        client_id = "{SPA}"
        public = true
        redirect_uris = ["{SPA_CALLBACK}"]

        [[clients]]
        client_id = "{FIRST_PARTY}"
        client_secret = "{APP_SECRET}"
        redirect_uris = ["{FIRST_PARTY_CALLBACK}"]
        skip_consent = true
        id_token_signed_response_alg = "ES256"

        [[clients]]
        client_id = "{TEAM}"
        name = "Team Tool"
        client_secret = "{APP_SECRET}"
        redirect_uris = ["{TEAM_CALLBACK}"]
        skip_consent = true
        allowed_groups = ["staff"]
        "#,
        logo.display()
    );
    crate::common::clients_file(&text)
}

/// The provider, and (on PostgreSQL + Redis) a second instance of it on the same stores, where the
/// app redeems its codes.
struct Provider {
    first: TestServer,
    second: Option<TestServer>,
    issuer: String,
    database: String,
}

impl Provider {
    async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// With `settings` on each instance.
    async fn start_with(settings: &[(&'static str, String)]) -> Self {
        let with = |env: Env| settings.iter().fold(env, |env, (key, value)| env.set(key, value.clone()));
        let env = with(Env::new().await.set("LATCHKEY_OIDC_CLIENTS", clients_file()));
        let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
        let clients = env.get("LATCHKEY_OIDC_CLIENTS").unwrap();
        let (first, issuer) = TestServer::start_at_own_origin(env).await;
        let second = if crate::common::backend_is_postgres() {
            let env = Env::new()
                .await
                .set("LATCHKEY_DATABASE_URL", database.clone())
                .set("LATCHKEY_OIDC_CLIENTS", clients)
                .set("LATCHKEY_ORIGINS", issuer.clone());
            Some(TestServer::start_at_own_origin(with(env)).await.0)
        } else {
            None
        };
        Self { first, second, issuer, database }
    }

    /// Where the app's server talks to the provider: the second instance when there is one.
    fn token_url(&self) -> String {
        format!("{}/oidc/token", self.second.as_ref().unwrap_or(&self.first).base)
    }

    /// An account with a password and a passkey.
    async fn account(&self) -> SoftAuthenticator {
        let (token, _) = self.first.sign_up(EMAIL).await;
        let mut key = authenticator();
        self.first.add_passkey(&token, &mut key).await;
        key
    }
}

/// The app: an `openidconnect` client configured by discovery.
struct App {
    client: openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointSet,
        openidconnect::EndpointMaybeSet,
    >,
    http: reqwest::Client,
}

/// One authorization request as the app made it.
struct Started {
    url: Url,
    state: CsrfToken,
    nonce: Nonce,
    verifier: Option<PkceCodeVerifier>,
}

impl App {
    async fn discover(provider: &Provider, client_id: &str, secret: Option<&str>, redirect: &str) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(provider.issuer.clone()).unwrap(), &http)
            .await
            .expect("discovery and the key set parse");
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client_id.into()),
            secret.map(|s| ClientSecret::new(s.into())),
        )
        .set_redirect_uri(RedirectUrl::new(redirect.into()).unwrap())
        .set_token_uri(TokenUrl::new(provider.token_url()).unwrap());
        Self { client, http }
    }

    fn start(&self, scopes: &[&str], adjust: impl FnOnce(AuthRequest<'_>) -> AuthRequest<'_>) -> Started {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge);
        for scope in scopes {
            request = request.add_scope(Scope::new((*scope).into()));
        }
        let (url, state, nonce) = adjust(request).url();
        Started { url, state, nonce, verifier: Some(verifier) }
    }

    async fn exchange(&self, code: &str, verifier: Option<PkceCodeVerifier>) -> Result<CoreTokenResponse, String> {
        let mut request = self.client.exchange_code(AuthorizationCode::new(code.into()));
        if let Some(verifier) = verifier {
            request = request.set_pkce_verifier(verifier);
        }
        request.request_async(&self.http).await.map_err(describe)
    }

    fn verifier(&self) -> CoreIdTokenVerifier<'_> {
        self.client.id_token_verifier().set_allowed_algs(vec![
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        ])
    }
}

type AuthRequest<'a> = openidconnect::AuthorizationRequest<
    'a,
    openidconnect::core::CoreAuthDisplay,
    CoreAuthPrompt,
    openidconnect::core::CoreResponseType,
>;

/// The OAuth error code of a failed token request, or the failure's text.
fn describe<E: std::error::Error + 'static>(
    error: RequestTokenError<E, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> String {
    match error {
        RequestTokenError::ServerResponse(response) => response.error().as_ref().to_owned(),
        other => format!("{other:?}"),
    }
}

/// A browser: keeps the portal's session cookie, visits addresses without following redirects,
/// and calls the portal's server functions as its pages do.
struct Browser<'a> {
    server: &'a TestServer,
    http: reqwest::Client,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(server: &'a TestServer) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { server, http, cookie: None }
    }

    fn keep_cookie(&mut self, response: &reqwest::Response) {
        if let Some(set_cookie) = response.headers().get("set-cookie") {
            self.cookie = Some(set_cookie.to_str().unwrap().split(';').next().unwrap().to_owned());
        }
    }

    /// GET `url` (absolute, or a path on the provider): status, `Location`, headers, body.
    async fn visit(&mut self, url: &str) -> (StatusCode, Option<String>, reqwest::header::HeaderMap, String) {
        let url = if url.starts_with('/') { format!("{}{url}", self.server.base) } else { url.to_owned() };
        let url = url.replace(&self.server.origin, &self.server.base);
        let mut request = self.http.get(url);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        self.keep_cookie(&response);
        let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        let (status, headers) = (response.status(), response.headers().clone());
        (status, location, headers, response.text().await.unwrap())
    }

    /// Follows the provider's redirects from `url` until the browser leaves for the app (`Ok`) or
    /// stops on a page of the portal (`Err(path)`).
    async fn follow(&mut self, url: &str) -> Result<Url, String> {
        let mut next = url.to_owned();
        for _ in 0..5 {
            let (status, location, _, _) = self.visit(&next).await;
            let Some(location) = location else {
                return Err(
                    Url::parse(&next).map_or(next.clone(), |u| format!("{}?{}", u.path(), u.query().unwrap_or("")))
                );
            };
            assert!(status.is_redirection(), "{status}");
            if location.starts_with('/') {
                next = location;
                continue;
            }
            return Ok(Url::parse(&location).unwrap());
        }
        panic!("too many redirects from {url}");
    }

    async fn server_fn(&mut self, path: &str, fields: &[(&str, &str)], html_form: bool) -> reqwest::Response {
        let form: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let accept = if html_form { "text/html" } else { "application/json" };
        let mut request = self
            .http
            .post(format!("{}{path}", self.server.base))
            .header("origin", &self.server.origin)
            .header("referer", format!("{}/", self.server.origin))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", accept)
            .body(form);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        self.keep_cookie(&response);
        response
    }

    /// A passkey sign-in through the sign-in page's server functions (discoverable, or for `email`).
    async fn sign_in_with_passkey(&mut self, key: &mut SoftAuthenticator, email: Option<&str>) {
        use app::server_fns::{FinishPasskeySignIn, PasskeySignInOptions};
        use leptos::server_fn::ServerFn as _;
        let fields: Vec<(&str, &str)> = email.map(|e| vec![("email", e)]).unwrap_or_default();
        let options = self.server_fn(PasskeySignInOptions::PATH, &fields, false).await;
        assert_eq!(options.status(), StatusCode::OK);
        let options: Value = serde_json::from_str(&options.json::<String>().await.unwrap()).unwrap();
        if email.is_some() {
            assert_eq!(options["allowCredentials"].as_array().map(Vec::len), Some(1), "the hint targets the passkey");
        }
        let credential = key.get(&options, &self.server.origin).unwrap().to_string();
        let finished = self.server_fn(FinishPasskeySignIn::PATH, &[("credential", &credential)], false).await;
        assert_eq!(finished.status(), StatusCode::OK);
    }

    /// The password form, posted as a browser without JavaScript does; returns where it redirects.
    async fn sign_in_with_password(&mut self, next: &str) -> String {
        use app::server_fns::PasswordSignIn;
        use leptos::server_fn::ServerFn as _;
        let fields = [("email", EMAIL), ("password", PASSWORD), ("next", next)];
        let response = self.server_fn(PasswordSignIn::PATH, &fields, true).await;
        assert!(response.status().is_redirection(), "{}", response.status());
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    /// The consent page's form, answered as a browser without JavaScript does.
    async fn answer_consent(&mut self, consent_path: &str, decision: &str) -> Url {
        use app::server_fns::AnswerConsent;
        use leptos::server_fn::ServerFn as _;
        let request = Url::parse(&format!("http://x{consent_path}")).unwrap();
        let sealed = request.query_pairs().find(|(k, _)| k == "request").unwrap().1.into_owned();
        let response = self.server_fn(AnswerConsent::PATH, &[("request", &sealed), ("decision", decision)], true).await;
        assert!(response.status().is_redirection(), "{}", response.status());
        Url::parse(response.headers()["location"].to_str().unwrap()).expect("back to the app")
    }

    async fn signed_in(&mut self) -> bool {
        use app::server_fns::MyAccount;
        use leptos::server_fn::ServerFn as _;
        self.server_fn(MyAccount::PATH, &[], false).await.status() == StatusCode::OK
    }
}

/// The query parameter `name` of `url`.
fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The address of the app's logo a page shows.
fn app_logo(html: &str) -> Option<String> {
    let tag = html.split("<img").find(|tag| tag.contains(r#"data-testid="app-logo""#))?;
    Some(tag.split(r#"src=""#).nth(1)?.split('"').next()?.to_owned())
}

/// The sealed-request path a sign-in page address carries in `next`.
fn next_of(path: &str) -> String {
    param(&Url::parse(&format!("http://x{path}")).unwrap(), "next").expect("the sign-in page carries the request")
}

#[tokio::test]
async fn an_app_signs_a_user_in_with_a_passkey_through_the_portal() {
    let provider = Provider::start().await;
    let mut key = provider.account().await;
    let app = App::discover(&provider, APP, Some(APP_SECRET), APP_CALLBACK).await;
    let mut browser = Browser::new(&provider.first);

    // Not signed in: the authorize request lands on the sign-in page, which names the app.
    let started = app.start(&["email", "profile", "offline_access"], |r| r);
    let sign_in_page = browser.follow(started.url.as_str()).await.expect_err("a page of the portal");
    assert!(sign_in_page.starts_with("/?next=%2Foidc%2Fauthorize%2Fresume"), "{sign_in_page}");
    let (status, _, _, html) = browser.visit(&sign_in_page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Example App wants you to sign in."), "the page names the app");
    // Its logo heads the page, from Latchkey's own address (the page's CSP loads images from no
    // other), served so that it can never run as a page.
    let logo = app_logo(&html).unwrap_or_else(|| panic!("the app's logo on the sign-in page: {html}"));
    assert!(logo.starts_with(&format!("/brand/apps/{APP}?v=")), "{logo}");
    let (status, _, headers, svg) = browser.visit(&logo).await;
    assert_eq!((status, svg.as_str()), (StatusCode::OK, APP_LOGO));
    assert_eq!(headers["content-type"], "image/svg+xml");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("sandbox"), "{headers:?}");
    let (status, ..) = browser.visit(&format!("/brand/apps/{SPA}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an app without a logo has none");

    // A passkey sign-in, then on to the request, which asks for consent first.
    browser.sign_in_with_passkey(&mut key, None).await;
    let consent = browser.follow(&next_of(&sign_in_page)).await.expect_err("the consent page");
    assert!(consent.starts_with("/consent?request="), "{consent}");
    let (status, _, headers, html) = browser.visit(&consent).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Example App") && html.contains(EMAIL) && html.contains("Your email address"), "{html}");
    assert_eq!(app_logo(&html).as_deref(), Some(logo.as_str()), "the consent page shows it too: {html}");
    let policy = headers["content-security-policy"].to_str().unwrap();
    let form_action = policy.split(';').map(str::trim).find(|d| d.starts_with("form-action")).unwrap();
    assert_eq!(form_action, "form-action 'self' https://app.example", "the form may go on to the app, nowhere else");

    let back = browser.answer_consent(&consent, "allow").await;
    assert_eq!(back.origin().ascii_serialization(), "https://app.example");
    assert_eq!(param(&back, "state").as_deref(), Some(started.state.secret().as_str()));
    assert_eq!(param(&back, "iss").as_deref(), Some(provider.issuer.as_str()), "RFC 9207");

    // The app's server redeems the code (at the second instance, when there is one).
    let tokens = app.exchange(&param(&back, "code").unwrap(), started.verifier).await.expect("the code is good");
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token.claims(&app.verifier(), &started.nonce).expect("the ID token verifies through the JWKS");
    assert_eq!(claims.email().map(|e| e.as_str()), Some(EMAIL));
    assert_eq!(claims.email_verified(), Some(false), "not verified yet: never claimed otherwise");
    let amr: Vec<&str> = claims.auth_method_refs().unwrap().iter().map(|a| a.as_str()).collect();
    assert_eq!(amr, ["pop", "mfa"], "a passkey");
    assert_eq!(claims.auth_context_ref().map(|acr| acr.as_str()), Some("phr"));
    assert!(claims.auth_time().is_some());
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&app.verifier()).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    assert_eq!(tokens.scopes().map(|s| s.len()), Some(4));

    // Userinfo, for the access token; the address confirmed meanwhile (as the mailed link would).
    let db = crate::common::stores::connect(&provider.database).await;
    sqlx::query("UPDATE users SET email_verified_at = 1").execute(&db).await.unwrap();
    let info: CoreUserInfoClaims = app
        .client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&app.http)
        .await
        .expect("userinfo answers");
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(info.email().map(|e| e.as_str()), Some(EMAIL));
    assert_eq!(info.email_verified(), Some(true), "the confirmed address is claimed as verified");

    // The app's tokens are not the account API's, and the other way round.
    let me = provider.first.get("/auth/me", Some(tokens.access_token().secret())).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "an app's access token is refused by the account API");
    let refresh = tokens.refresh_token().expect("offline_access gives a refresh token").clone();
    let api = provider.first.post("/auth/refresh", None, serde_json::json!({"refresh_token": refresh.secret()})).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED, "an app's refresh token is refused by the account API");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_sign_in() {
    let provider = Provider::start().await;
    let mut key = provider.account().await;
    let app = App::discover(&provider, APP, Some(APP_SECRET), APP_CALLBACK).await;
    let tokens = sign_in_and_consent(&provider, &app, &mut key, &["offline_access"]).await;
    let first = tokens.refresh_token().unwrap().clone();
    let first_claims = tokens.id_token().unwrap().claims(&app.verifier(), |_: Option<&Nonce>| Ok(())).unwrap().clone();

    let wider = app
        .client
        .exchange_refresh_token(&first)
        .add_scope(Scope::new("email".into()))
        .request_async(&app.http)
        .await
        .map_err(describe);
    assert_eq!(wider.unwrap_err(), "invalid_scope", "only what was granted");
    let refreshed = refresh(&app, &first).await.expect("the refused request did not use the token up");
    let claims = refreshed.id_token().unwrap().claims(&app.verifier(), |_: Option<&Nonce>| Ok(())).unwrap();
    assert_eq!(claims.subject(), first_claims.subject());
    assert_eq!(claims.auth_time(), first_claims.auth_time(), "a refresh is not a sign-in");
    let second = refreshed.refresh_token().unwrap().clone();
    assert_ne!(second.secret(), first.secret(), "rotated");

    assert_eq!(refresh(&app, &first).await.unwrap_err(), "invalid_grant", "used once");
    assert_eq!(refresh(&app, &second).await.unwrap_err(), "invalid_grant", "the reuse ended the whole sign-in");
    let other = App::discover(&provider, FIRST_PARTY, Some(APP_SECRET), FIRST_PARTY_CALLBACK).await;
    let fresh = sign_in_and_consent(&provider, &app, &mut key, &["offline_access"]).await;
    let stolen = fresh.refresh_token().unwrap().clone();
    assert_eq!(refresh(&other, &stolen).await.unwrap_err(), "invalid_grant", "another app's token");
    assert_eq!(refresh(&app, &stolen).await.unwrap_err(), "invalid_grant", "which leaked, so it is ended");
}

async fn refresh(app: &App, token: &RefreshToken) -> Result<CoreTokenResponse, String> {
    app.client.exchange_refresh_token(token).request_async(&app.http).await.map_err(describe)
}

/// Signs in with a passkey (in a new browser) and allows the app; returns the app's tokens.
async fn sign_in_and_consent(
    provider: &Provider,
    app: &App,
    key: &mut SoftAuthenticator,
    scopes: &[&str],
) -> CoreTokenResponse {
    let mut browser = Browser::new(&provider.first);
    browser.sign_in_with_passkey(key, None).await;
    let (back, started) = allowed(&mut browser, app, scopes).await;
    app.exchange(&param(&back, "code").expect("a code"), started.verifier).await.expect("the code is good")
}

/// An authorization request for `scopes`, followed by the signed-in browser and allowed on the
/// consent page when asked: where the browser came back to the app, and the request.
/// The account (with a passkey) signed in to the portal and, with `offline_access`, to the Example
/// App: its passkey, the app, the browser, and the app's tokens.
async fn signed_in_to_app(provider: &Provider) -> (SoftAuthenticator, App, Browser<'_>, CoreTokenResponse) {
    let mut key = provider.account().await;
    let app = App::discover(provider, APP, Some(APP_SECRET), APP_CALLBACK).await;
    let mut browser = Browser::new(&provider.first);
    browser.sign_in_with_passkey(&mut key, None).await;
    let (back, started) = allowed(&mut browser, &app, &["offline_access"]).await;
    let tokens = app.exchange(&param(&back, "code").unwrap(), started.verifier).await.unwrap();
    (key, app, browser, tokens)
}

async fn allowed(browser: &mut Browser<'_>, app: &App, scopes: &[&str]) -> (Url, Started) {
    let started = app.start(scopes, |r| r);
    let back = match browser.follow(started.url.as_str()).await {
        Ok(back) => back,
        Err(consent) => browser.answer_consent(&consent, "allow").await,
    };
    (back, started)
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_ends_what_it_issued() {
    let provider = Provider::start().await;
    let mut key = provider.account().await;
    let app = App::discover(&provider, APP, Some(APP_SECRET), APP_CALLBACK).await;
    let mut browser = Browser::new(&provider.first);
    browser.sign_in_with_passkey(&mut key, None).await;
    let (back, started) = allowed(&mut browser, &app, &["offline_access"]).await;
    let code = param(&back, "code").unwrap();
    let verifier = started.verifier.as_ref().map(|v| PkceCodeVerifier::new(v.secret().clone()));

    let tokens = app.exchange(&code, started.verifier).await.expect("first use");
    assert_eq!(app.exchange(&code, verifier).await.unwrap_err(), "invalid_grant");
    let refreshed = refresh(&app, tokens.refresh_token().unwrap()).await;
    assert_eq!(refreshed.unwrap_err(), "invalid_grant", "the replay ended the sign-in the code had started");
    let info: Result<CoreUserInfoClaims, _> =
        app.client.user_info(tokens.access_token().clone(), None).unwrap().request_async(&app.http).await;
    assert!(info.is_err(), "userinfo refuses the ended sign-in's access token");
    assert!(browser.signed_in().await, "the user's own portal sign-in is untouched");
}

#[tokio::test]
async fn codes_are_bound_to_their_client_redirect_uri_and_verifier_and_expire() {
    let provider = Provider::start().await;
    let mut key = provider.account().await;
    let app = App::discover(&provider, APP, Some(APP_SECRET), APP_CALLBACK).await;
    let mut browser = Browser::new(&provider.first);
    browser.sign_in_with_passkey(&mut key, None).await;
    let (wrong_verifier, _) = new_code(&mut browser, &app).await;
    let (_, other_verifier) = new_code(&mut browser, &app).await;
    assert_eq!(app.exchange(&wrong_verifier, Some(other_verifier)).await.unwrap_err(), "invalid_grant");
    let (no_verifier, _) = new_code(&mut browser, &app).await;
    assert_eq!(app.exchange(&no_verifier, None).await.unwrap_err(), "invalid_grant");

    let (others, verifier) = new_code(&mut browser, &app).await;
    let other = App::discover(&provider, FIRST_PARTY, Some(APP_SECRET), FIRST_PARTY_CALLBACK).await;
    assert_eq!(other.exchange(&others, Some(verifier)).await.unwrap_err(), "invalid_grant", "another client's code");

    let (moved, verifier) = new_code(&mut browser, &app).await;
    let elsewhere = app.client.clone().set_redirect_uri(RedirectUrl::new("https://app.example/other".into()).unwrap());
    let refused = elsewhere
        .exchange_code(AuthorizationCode::new(moved))
        .set_pkce_verifier(verifier)
        .request_async(&app.http)
        .await
        .map_err(describe);
    assert_eq!(refused.unwrap_err(), "invalid_grant", "a different redirect_uri");

    let (right, verifier) = new_code(&mut browser, &app).await;
    let wrong_secret = App::discover(&provider, APP, Some("not-the-secret-of-this-app-at-all!!"), APP_CALLBACK).await;
    assert_eq!(wrong_secret.exchange(&right, Some(verifier)).await.unwrap_err(), "invalid_client");

    // A code older than its minute: issued by the engine the server runs, as if 61 s ago.
    let signed_in = provider.first.sign_in(&mut key, None).await;
    let user = crate::oidc::claims(signed_in.body["access_token"].as_str().unwrap());
    let grant = engine::oidc::codes::Grant {
        client_id: APP.into(),
        redirect_uri: APP_CALLBACK.into(),
        user_id: engine::base::types::UserId::new(user["sub"].as_str().unwrap()),
        sign_in_id: engine::base::types::SignInId::new(user["sid"].as_str().unwrap()),
        scope: "openid".into(),
        nonce: None,
        code_challenge: None,
        auth_time: user["auth_time"].as_i64().unwrap(),
    };
    let engine = crate::common::engine_for(&provider.database).await;
    let now = engine::base::clock::now();
    let expired =
        engine::oidc::codes::issue(&engine.db, &grant, now - engine::oidc::codes::CODE_TTL - 1).await.unwrap();
    assert_eq!(app.exchange(&expired, None).await.unwrap_err(), "invalid_grant", "an expired code");
    let fresh = engine::oidc::codes::issue(&engine.db, &grant, now).await.unwrap();
    assert!(app.exchange(&fresh, None).await.is_ok(), "the same grant, in time, is good: the refusal was the expiry");
}

#[tokio::test]
async fn requests_from_unknown_apps_or_to_unregistered_addresses_stop_on_a_page() {
    let provider = Provider::start().await;
    let mut browser = Browser::new(&provider.first);
    let authorize = |query: &str| format!("/oidc/authorize?response_type=code&scope=openid&{query}");
    let challenge = "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";

    for (query, reason) in [
        (format!("client_id=nobody&redirect_uri={APP_CALLBACK}&{challenge}"), "unknown_client"),
        (format!("redirect_uri={APP_CALLBACK}&{challenge}"), "unknown_client"),
        (format!("client_id={APP}&redirect_uri=https://evil.example/cb&{challenge}"), "redirect_uri"),
        (format!("client_id={APP}&redirect_uri={APP_CALLBACK}/&{challenge}"), "redirect_uri"),
        (format!("client_id={APP}&{challenge}"), "redirect_uri"),
    ] {
        let (status, location, _, _) = browser.visit(&authorize(&query)).await;
        assert_eq!(status, StatusCode::FOUND, "{query}");
        assert_eq!(
            location.as_deref(),
            Some(format!("/oidc/error?reason={reason}").as_str()),
            "never to the app: {query}"
        );
    }
    let (status, _, _, page) = browser.visit("/oidc/error?reason=redirect_uri").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("has not registered"), "the page says why");

    // Once the app and address are known, errors go back to the app, with state and iss.
    let (_, location, _, _) =
        browser.visit(&authorize(&format!("client_id={APP}&redirect_uri={APP_CALLBACK}&state=s1"))).await;
    let back = Url::parse(&location.unwrap()).unwrap();
    assert_eq!(
        (param(&back, "error").as_deref(), param(&back, "state").as_deref()),
        (Some("invalid_request"), Some("s1"))
    );
    assert!(param(&back, "error_description").unwrap().contains("PKCE"), "PKCE is required of every client by default");
    assert_eq!(param(&back, "iss").as_deref(), Some(provider.issuer.as_str()));

    let spa = App::discover(&provider, SPA, None, SPA_CALLBACK).await;
    let bad_scope = spa.start(&[], |r| r).url.as_str().replace("scope=openid", "scope=email");
    let back = browser.follow(&bad_scope).await.unwrap();
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_scope"));
}

#[tokio::test]
async fn prompt_none_answers_without_a_page_and_a_declined_consent_is_access_denied() {
    let provider = Provider::start().await;
    let mut key = provider.account().await;
    let app = App::discover(&provider, APP, Some(APP_SECRET), APP_CALLBACK).await;
    let mut browser = Browser::new(&provider.first);
    let silent = |app: &App| app.start(&[], |r| r.add_prompt(CoreAuthPrompt::None));

    let back = browser.follow(silent(&app).url.as_str()).await.expect("no page without a session");
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));

    browser.sign_in_with_passkey(&mut key, None).await;
    let back = browser.follow(silent(&app).url.as_str()).await.expect("no consent page either");
    assert_eq!(param(&back, "error").as_deref(), Some("consent_required"));

    let started = app.start(&[], |r| r);
    let consent = browser.follow(started.url.as_str()).await.unwrap_err();
    let declined = browser.answer_consent(&consent, "deny").await;
    assert_eq!(param(&declined, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&declined, "state").as_deref(), Some(started.state.secret().as_str()));

    let consent = browser.follow(app.start(&[], |r| r).url.as_str()).await.unwrap_err();
    browser.answer_consent(&consent, "allow").await;
    let back = browser.follow(silent(&app).url.as_str()).await.unwrap();
    assert!(param(&back, "code").is_some(), "consent is remembered: {back}");
    let more = app.start(&["email"], |r| r);
    assert!(browser.follow(more.url.as_str()).await.is_err(), "asking for more asks again");

    let wiki = App::discover(&provider, FIRST_PARTY, Some(APP_SECRET), FIRST_PARTY_CALLBACK).await;
    let asked = wiki.start(&[], |r| r.add_prompt(CoreAuthPrompt::Consent));
    assert!(browser.follow(asked.url.as_str()).await.is_err(), "prompt=consent asks even a skip_consent app's user");
    let started = wiki.start(&["email"], |r| r);
    let back = browser.follow(started.url.as_str()).await.expect("skip_consent: straight back");
    let tokens = wiki.exchange(&param(&back, "code").unwrap(), started.verifier).await.unwrap();
    let id_token = tokens.id_token().unwrap();
    assert_eq!(*id_token.signing_alg().unwrap(), CoreJwsSigningAlgorithm::EcdsaP256Sha256, "the client's algorithm");
    id_token.claims(&wiki.verifier(), &started.nonce).expect("an ES256 ID token verifies");
    // Signed by the access tokens' key, for the app's audience: only its header type tells an ES256
    // ID token from an access token, and the check docs/api.md gives apps looks at it.
    let (base, issuer, id_token) = (&provider.first.base, &provider.issuer, id_token.to_string());
    let as_access = crate::tokens::verify_access_token_like_an_app(base, issuer, &id_token, FIRST_PARTY).await;
    assert_eq!(as_access.unwrap_err(), "not an access token");
    let access = tokens.access_token().secret();
    let checked = crate::tokens::verify_access_token_like_an_app(base, issuer, access, FIRST_PARTY).await.unwrap();
    assert_eq!(checked["client_id"], FIRST_PARTY, "the app's access token passes the same check");
}

#[tokio::test]
async fn prompt_login_and_max_age_ask_for_a_new_sign_in_and_login_hint_fills_it_in() {
    let provider = Provider::start().await;
    let mut key = provider.account().await;
    let app = App::discover(&provider, APP, Some(APP_SECRET), APP_CALLBACK).await;
    let mut browser = Browser::new(&provider.first);
    browser.sign_in_with_passkey(&mut key, None).await;
    let consent = browser.follow(app.start(&[], |r| r).url.as_str()).await.unwrap_err();
    browser.answer_consent(&consent, "allow").await;

    fn login(r: AuthRequest<'_>) -> AuthRequest<'_> {
        r.add_prompt(CoreAuthPrompt::Login)
    }
    fn max_age_zero(r: AuthRequest<'_>) -> AuthRequest<'_> {
        r.set_max_age(std::time::Duration::ZERO)
    }
    for ask in [login as fn(AuthRequest<'_>) -> AuthRequest<'_>, max_age_zero] {
        // Times are whole seconds: let the last sign-in be older than the request.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let started = app.start(&[], |r| ask(r).set_login_hint(LoginHint::new(EMAIL.into())));
        let sign_in_page = browser.follow(started.url.as_str()).await.expect_err("signed in, but not for this request");
        let (_, _, _, html) = browser.visit(&sign_in_page).await;
        assert!(html.contains(&format!(r#"value="{EMAIL}""#)), "the login_hint fills in the email");
        // The password form (a plain form post): it goes on to the request, which now has its fresh sign-in.
        let next = browser.sign_in_with_password(&next_of(&sign_in_page)).await;
        let back = browser.follow(&next).await.expect("back to the app");
        let tokens = app.exchange(&param(&back, "code").unwrap(), started.verifier).await.unwrap();
        let claims = tokens.id_token().unwrap().claims(&app.verifier(), &started.nonce).unwrap();
        let amr: Vec<&str> = claims.auth_method_refs().unwrap().iter().map(|a| a.as_str()).collect();
        assert_eq!(amr, ["pwd"], "this time with the password");
        assert!(claims.auth_context_ref().is_none());
    }
    // A request that asks for a new sign-in cannot be answered on the consent page with the old one:
    // its sealed form, taken from the sign-in page's address, is sent back to sign in.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let started = app.start(&[], |r| r.add_prompt(CoreAuthPrompt::Login));
    let sign_in_page = browser.follow(started.url.as_str()).await.unwrap_err();
    let sealed = next_of(&sign_in_page).split_once("request=").unwrap().1.to_owned();
    let answer = {
        use app::server_fns::AnswerConsent;
        use leptos::server_fn::ServerFn as _;
        browser.server_fn(AnswerConsent::PATH, &[("request", &sealed), ("decision", "allow")], true).await
    };
    let location = answer.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/?next="), "sent to sign in, not to the app: {location}");

    // And the passkey button asks that account's passkeys when the app names it.
    browser.sign_in_with_passkey(&mut key, Some(EMAIL)).await;
}

#[tokio::test]
async fn logout_ends_the_portal_sign_in_and_the_apps_tokens() {
    let provider = Provider::start().await;
    let (mut key, app, mut browser, tokens) = signed_in_to_app(&provider).await;
    let hint = tokens.id_token().unwrap().to_string();

    let logout = |query: String| format!("/oidc/end_session?{query}");
    let (_, location, _, _) = browser.visit(&logout(format!("post_logout_redirect_uri={APP_SIGNED_OUT}"))).await;
    assert_eq!(location.as_deref(), Some("/oidc/error?reason=logout_hint"), "no hint, no sign-out");
    let (_, location, _, _) =
        browser.visit(&logout(format!("id_token_hint={hint}&post_logout_redirect_uri=https://evil.example/"))).await;
    assert_eq!(location.as_deref(), Some("/oidc/error?reason=logout_redirect_uri"));
    assert!(browser.signed_in().await, "refused requests sign nobody out");

    let (status, location, _, _) = browser
        .visit(&logout(format!("id_token_hint={hint}&post_logout_redirect_uri={APP_SIGNED_OUT}&state=bye1")))
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(location.as_deref(), Some(format!("{APP_SIGNED_OUT}?state=bye1").as_str()));
    assert!(!browser.signed_in().await, "the portal sign-in ended");
    // The same logout address, replayed after the user signed in again, ends nothing new.
    browser.sign_in_with_passkey(&mut key, None).await;
    let replayed = logout(format!("id_token_hint={hint}&post_logout_redirect_uri={APP_SIGNED_OUT}"));
    assert_eq!(browser.visit(&replayed).await.0, StatusCode::FOUND);
    assert!(browser.signed_in().await, "a hint for an earlier sign-in does not end this one");
    assert_eq!(refresh(&app, tokens.refresh_token().unwrap()).await.unwrap_err(), "invalid_grant");
    let info: Result<CoreUserInfoClaims, _> =
        app.client.user_info(tokens.access_token().clone(), None).unwrap().request_async(&app.http).await;
    assert!(info.is_err(), "the app's access token no longer gets userinfo");
}

#[tokio::test]
async fn revocation_ends_the_apps_sign_in_and_leaves_other_apps_tokens_alone() {
    let provider = Provider::start().await;
    let mut key = provider.account().await;
    let app = App::discover(&provider, APP, Some(APP_SECRET), APP_CALLBACK).await;
    let wiki = App::discover(&provider, FIRST_PARTY, Some(APP_SECRET), FIRST_PARTY_CALLBACK).await;
    let tokens = sign_in_and_consent(&provider, &app, &mut key, &["offline_access"]).await;
    let wiki_tokens = sign_in_and_consent(&provider, &wiki, &mut key, &["offline_access"]).await;

    let as_app = (APP, APP_SECRET);
    let other = revoke(&provider, as_app, wiki_tokens.refresh_token().unwrap().secret()).await;
    assert_eq!(other, StatusCode::OK, "200, whatever the token");
    assert!(refresh(&wiki, wiki_tokens.refresh_token().unwrap()).await.is_ok(), "another app's token is left alone");

    assert_eq!(revoke(&provider, as_app, tokens.refresh_token().unwrap().secret()).await, StatusCode::OK);
    assert_eq!(refresh(&app, tokens.refresh_token().unwrap()).await.unwrap_err(), "invalid_grant");
    assert_eq!(revoke(&provider, as_app, "never-issued").await, StatusCode::OK, "200 for unknown tokens");
    assert_eq!(revoke(&provider, (APP, "a-wrong-secret-of-at-least-32-chars!!"), "x").await, StatusCode::UNAUTHORIZED);

    // An access token revokes its sign-in too: userinfo then refuses it.
    let more = sign_in_and_consent(&provider, &app, &mut key, &[]).await;
    assert_eq!(revoke(&provider, as_app, more.access_token().secret()).await, StatusCode::OK);
    let info: Result<CoreUserInfoClaims, _> =
        app.client.user_info(more.access_token().clone(), None).unwrap().request_async(&app.http).await;
    assert!(info.is_err());
}

/// RFC 7009 revocation as the app's server sends it (the `openidconnect` crate refuses an http
/// revocation endpoint, which the test server has): `client_secret_basic` and the token.
async fn revoke(provider: &Provider, client: (&str, &str), token: &str) -> StatusCode {
    let response = reqwest::Client::new()
        .post(format!("{}/oidc/revoke", provider.first.base))
        .basic_auth(client.0, Some(client.1))
        .form(&[("token", token), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap();
    response.status()
}

#[tokio::test]
async fn an_id_token_signed_before_a_key_rotation_still_verifies_after_it() {
    let provider = Provider::start().await;
    let mut key = provider.account().await;
    let app = App::discover(&provider, APP, Some(APP_SECRET), APP_CALLBACK).await;
    let tokens = sign_in_and_consent(&provider, &app, &mut key, &[]).await;
    let old = tokens.id_token().unwrap().to_string();

    let engine = crate::common::engine_for(&provider.database).await;
    engine.keys.rotate_now(engine::base::clock::now()).await.expect("rotated");
    let after = App::discover(&provider, APP, Some(APP_SECRET), APP_CALLBACK).await; // refetches the keys
    let id_token: openidconnect::core::CoreIdToken = old.parse().unwrap();
    id_token.claims(&after.verifier(), |_: Option<&Nonce>| Ok(())).expect("the retired key is still published");
    let kid = jsonwebtoken::decode_header(&old).unwrap().kid.unwrap();
    let current = engine.keys.current_kid(jsonwebtoken::Algorithm::RS256).unwrap();
    assert_ne!(current, kid, "the key that signed it is retired");
    let published = provider.first.get("/.well-known/jwks.json", None).await.body["keys"].clone();
    let kids: Vec<&str> = published.as_array().unwrap().iter().filter_map(|k| k["kid"].as_str()).collect();
    assert!(kids.contains(&kid.as_str()) && kids.contains(&current.as_str()), "both published: {kids:?}");
}

#[tokio::test]
async fn discovery_describes_the_provider_and_browser_endpoints_accept_posts() {
    let provider = Provider::start().await;
    let discovery = provider.first.get("/.well-known/openid-configuration", None).await;
    assert_eq!(discovery.status, StatusCode::OK);
    let doc = &discovery.body;
    assert_eq!(doc["issuer"], provider.issuer);
    assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert!(doc.get("acr_values_supported").is_none(), "acr_values is not honoured, so not advertised");
    assert_eq!(doc["end_session_endpoint"], format!("{}/oidc/end_session", provider.issuer));
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
    );

    // An authorization request sent as a form POST comes back as a GET, so the session cookie goes along.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let posted = http
        .post(format!("{}/oidc/authorize", provider.first.base))
        .form(&[("client_id", APP), ("redirect_uri", APP_CALLBACK), ("scope", "openid")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    let location = posted.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("/oidc/authorize?client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"),
        "{location}"
    );

    // The token endpoint speaks OAuth errors.
    let json =
        http.post(format!("{}/oidc/token", provider.first.base)).json(&serde_json::json!({})).send().await.unwrap();
    assert_eq!(json.status(), StatusCode::BAD_REQUEST);
    let body: Value = json.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    let anonymous = http
        .post(format!("{}/oidc/token", provider.first.base))
        .form(&[("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", APP_CALLBACK)])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let grant = http
        .post(format!("{}/oidc/token", provider.first.base))
        .basic_auth(APP, Some(APP_SECRET))
        .form(&[("grant_type", "password"), ("username", EMAIL)])
        .send()
        .await
        .unwrap();
    assert_eq!(grant.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");

    // Userinfo wants an app's access token: the account API's is refused.
    let (api_token, _) = provider.first.sign_up(EMAIL).await;
    let userinfo = provider.first.get("/oidc/userinfo", Some(&api_token)).await;
    assert_eq!(userinfo.status, StatusCode::UNAUTHORIZED);
    assert_eq!(userinfo.code(), "invalid_token");
}

#[tokio::test]
async fn a_public_client_redeems_with_pkce_and_no_secret() {
    let provider = Provider::start().await;
    let mut key = provider.account().await;
    let spa = App::discover(&provider, SPA, None, SPA_CALLBACK).await;
    let tokens = sign_in_and_consent(&provider, &spa, &mut key, &["email"]).await;
    assert!(tokens.refresh_token().is_none(), "no offline_access, no refresh token");

    let mut browser = Browser::new(&provider.first);
    browser.sign_in_with_passkey(&mut key, None).await;
    let without_pkce =
        spa.start(&[], |r| r).url.as_str().replace("code_challenge_method=S256", "").replace("code_challenge=", "x=");
    let back = browser.follow(&without_pkce).await.unwrap();
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"), "a public client must use PKCE");
    let started = spa.start(&[], |r| r);
    let back = browser.follow(started.url.as_str()).await.unwrap();
    let with_secret = App::discover(&provider, SPA, Some("a-secret-a-public-client-cannot-keep!"), SPA_CALLBACK).await;
    assert_eq!(
        with_secret.exchange(&param(&back, "code").unwrap(), started.verifier).await.unwrap_err(),
        "invalid_client"
    );
}

/// A new code for the browser's signed-in user (allowing the app when asked), with its verifier.
async fn new_code(browser: &mut Browser<'_>, app: &App) -> (String, PkceCodeVerifier) {
    let (back, started) = allowed(browser, app, &[]).await;
    (param(&back, "code").expect("a code"), started.verifier.expect("PKCE"))
}

#[tokio::test]
async fn a_new_user_signs_up_from_the_sign_in_page_and_goes_on_to_the_app() {
    use app::server_fns::SignUpWithPassword;
    use leptos::server_fn::ServerFn as _;
    let provider = Provider::start().await;
    let wiki = App::discover(&provider, FIRST_PARTY, Some(APP_SECRET), FIRST_PARTY_CALLBACK).await;
    let mut browser = Browser::new(&provider.first);

    let started = wiki.start(&["email"], |r| r);
    let sign_in_page = browser.follow(started.url.as_str()).await.unwrap_err();
    let next = next_of(&sign_in_page);
    let (_, _, _, html) = browser.visit(&sign_in_page).await;
    let sign_up = format!("/sign-up?next={}", next.replace('?', "%3F").replace('=', "%3D"));
    assert!(html.contains(&format!(r#"href="{sign_up}""#)), "the sign-up link carries the request: {sign_up}");
    let (status, _, headers, html) = browser.visit(&sign_up).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"name="next""#), "the password form carries it too");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.ends_with("form-action 'self' https://wiki.example"), "{policy}");

    let fields = [("email", "grace@example.com"), ("password", PASSWORD), ("next", next.as_str())];
    let response = browser.server_fn(SignUpWithPassword::PATH, &fields, true).await;
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, next, "on to the request");
    let back = browser.follow(&location).await.expect("skip_consent: straight to the app");
    let tokens = wiki.exchange(&param(&back, "code").unwrap(), started.verifier).await.unwrap();
    let claims = tokens.id_token().unwrap().claims(&wiki.verifier(), &started.nonce).unwrap();
    assert_eq!(claims.email().map(|e| e.as_str()), Some("grace@example.com"));
}

/// Attack L1 (docs/security.md): an app shows `error_description` to its developer, often to its
/// users too. Text the request chose (a value, or a parameter's name) must never come back in it,
/// or anyone can make the provider's error say what they like ("call this number") on the app.
#[tokio::test]
async fn error_descriptions_never_repeat_what_the_request_said() {
    let provider = Provider::start().await;
    let mut browser = Browser::new(&provider.first);
    let bait = "Your-account-is-locked-call-555-0100";
    let challenge = "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
    let authorize = |extra: &str| {
        format!(
            "/oidc/authorize?response_type=code&scope=openid&client_id={APP}&redirect_uri={APP_CALLBACK}&{challenge}&{extra}"
        )
    };
    for extra in [format!("prompt={bait}"), format!("{bait}=1&{bait}=2")] {
        let (_, location, _, _) = browser.visit(&authorize(&extra)).await;
        let back = Url::parse(&location.expect("back to the app")).unwrap();
        let description = param(&back, "error_description").unwrap_or_default();
        assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"), "{extra}");
        assert!(!description.is_empty() && !description.contains(bait), "{extra}: {description}");
    }

    let http = reqwest::Client::new();
    for form in [vec![("grant_type", bait)], vec![("grant_type", "authorization_code"), (bait, "1"), (bait, "2")]] {
        let answer = http
            .post(provider.token_url())
            .basic_auth(APP, Some(APP_SECRET))
            .form(&form)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let description = answer["error_description"].as_str().unwrap_or_default();
        assert!(answer["error"].is_string() && !description.contains(bait), "{form:?}: {answer}");
    }
}

/// With `LATCHKEY_SIGN_UP=domains`, anyone can type an address at an allowed domain; only its owner
/// can confirm it. Until then the account uses the portal but signs in to no app: the access page
/// says why and mails the link again, `prompt=none` gets `interaction_required`, and a consent
/// posted by hand is stopped there too. Once confirmed, "Continue" goes on to the app.
#[tokio::test]
async fn where_accounts_are_for_some_domains_an_unconfirmed_address_signs_in_to_no_app() {
    use app::server_fns::SendVerification;
    use leptos::server_fn::ServerFn as _;
    let smtp = crate::common::SmtpServer::start();
    let provider = Provider::start_with(&[
        ("LATCHKEY_SIGN_UP", "domains".into()),
        ("LATCHKEY_SIGN_UP_DOMAINS", "example.com".into()),
        ("LATCHKEY_SMTP_URL", crate::common::SmtpServer::url_at(smtp.addr)),
    ])
    .await;
    let (token, _) = provider.first.sign_up(EMAIL).await;
    let mut key = authenticator();
    provider.first.add_passkey(&token, &mut key).await;
    let app = App::discover(&provider, APP, Some(APP_SECRET), APP_CALLBACK).await;
    let mut browser = Browser::new(&provider.first);
    browser.sign_in_with_passkey(&mut key, None).await;

    let silent = app.start(&[], |r| r.add_prompt(CoreAuthPrompt::None));
    let back = browser.follow(silent.url.as_str()).await.expect("no page for prompt=none");
    assert_eq!(param(&back, "error").as_deref(), Some("interaction_required"));
    assert!(param(&back, "code").is_none());

    let started = app.start(&["email"], |r| r);
    let access = browser.follow(started.url.as_str()).await.expect_err("the access page, not the app");
    assert!(access.starts_with("/access?request="), "{access}");
    let (status, _, _, html) = browser.visit(&access).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Confirm your address to sign in to Example App") && html.contains(EMAIL), "{html}");
    assert!(app_logo(&html).is_some(), "the app's logo, as on its other pages");

    // The consent form, posted by hand with the same request, is stopped at the same place.
    let request = param(&Url::parse(&format!("http://x{access}")).unwrap(), "request").unwrap();
    let use_consent = {
        use app::server_fns::AnswerConsent;
        browser.server_fn(AnswerConsent::PATH, &[("request", &request), ("decision", "allow")], true).await
    };
    assert_eq!(use_consent.headers()["location"].to_str().unwrap(), access, "no code from a hand-made consent");

    // "Send the link again" mails it (a second one, after the sign-up's, a minute on) and comes back
    // to the page.
    let db = crate::common::stores::connect(&provider.database).await;
    crate::common::stores::age_email_verifications(&db, 61).await;
    let back_here = format!("/access?request={request}&sent=1");
    let resent = browser.server_fn(SendVerification::PATH, &[("next", &back_here)], true).await;
    assert_eq!(resent.headers()["location"].to_str().unwrap(), back_here);
    let links = || smtp.received().iter().filter(|m| m.raw.contains("Confirm your email")).count();
    for _ in 0..100 {
        if links() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(links(), 2, "the sign-up's link, and the new one");

    // Confirmed: "Continue" asks the same request again, and it goes on (to consent, then the app).
    provider.first.confirm_address(&smtp, &token, EMAIL).await;
    let (_, _, _, html) = browser.visit(&access).await;
    let resume = html.split(r#"href=""#).find(|h| h.starts_with("/oidc/authorize/resume")).unwrap().split('"').next();
    let consent = browser.follow(&resume.unwrap().replace("&amp;", "&")).await.expect_err("the consent page");
    assert!(consent.starts_with("/consent?request="), "{consent}");
    let back = browser.answer_consent(&consent, "allow").await;
    assert!(param(&back, "code").is_some(), "{back}");
}

/// Disabling an account ends its apps' sign-ins too: the app's refresh token and access token
/// stop working at once, and a code issued just before is worth nothing.
#[tokio::test]
async fn a_disabled_account_loses_its_apps_sign_ins_at_once() {
    let provider = Provider::start().await;
    let (_, app, mut browser, tokens) = signed_in_to_app(&provider).await;
    let (pending, pending_started) = allowed(&mut browser, &app, &[]).await;

    let engine = crate::common::engine_for(&provider.database).await;
    let ada = engine::accounts::admins::account_of(&engine.accounts, EMAIL).await.unwrap().id;
    let operator = engine::notify::audit::Actor::operator();
    let now = engine::base::clock::now();
    let disabled = engine::accounts::standing::set_disabled(&engine.accounts, &operator, &ada, true, now);
    assert!(matches!(disabled.await.unwrap(), engine::accounts::standing::Standing::Disabled { .. }));

    assert_eq!(refresh(&app, tokens.refresh_token().unwrap()).await.unwrap_err(), "invalid_grant");
    let info: Result<CoreUserInfoClaims, _> =
        app.client.user_info(tokens.access_token().clone(), None).unwrap().request_async(&app.http).await;
    assert!(info.is_err(), "the app's access token no longer gets userinfo");
    let late = app.exchange(&param(&pending, "code").unwrap(), pending_started.verifier).await;
    assert_eq!(late.unwrap_err(), "invalid_grant", "a code issued before is worth nothing");
    assert!(!browser.signed_in().await, "and the browser is signed out");
}

/// The claims a JWT carries (its payload), as JSON.
fn payload(jwt: &str) -> Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Groups reach an app only when it asks (scope `groups`: the ID token and userinfo); an app with
/// `allowed_groups` gives no code to an account in none of them (the portal says why;
/// `prompt=none` gets `access_denied`), and once the account leaves the group, the app's next
/// refresh is refused and its sign-in ends.
#[tokio::test]
async fn groups_reach_the_apps_that_ask_and_an_app_for_some_groups_refuses_the_rest() {
    use engine::accounts::admins::account_of;
    use engine::accounts::groups;
    let provider = Provider::start().await;
    let mut key = provider.account().await;
    let engine = crate::common::engine_for(&provider.database).await;
    let now = engine::base::clock::now();
    let (op, ada) = (engine::notify::audit::Actor::operator(), account_of(&engine.accounts, EMAIL).await.unwrap().id);
    groups::create(&engine.accounts, &op, "staff", Some("Everyone who works here"), now).await.unwrap();
    groups::create(&engine.accounts, &op, "ops", None, now).await.unwrap();
    assert!(matches!(groups::create(&engine.accounts, &op, "ops", None, now).await, Err(engine::Error::GroupExists)));
    assert!(matches!(
        groups::create(&engine.accounts, &op, "Ops Team", None, now).await,
        Err(engine::Error::InvalidGroupName)
    ));
    assert!(groups::add(&engine.accounts, &op, "ops", &ada, now).await.unwrap());
    let mut browser = Browser::new(&provider.first);
    browser.sign_in_with_passkey(&mut key, None).await;

    // Asked for, the groups are in the ID token and userinfo; not asked for, they are not.
    let app = App::discover(&provider, APP, Some(APP_SECRET), APP_CALLBACK).await;
    let (back, started) = allowed(&mut browser, &app, &["groups"]).await;
    let tokens = app.exchange(&param(&back, "code").unwrap(), started.verifier).await.unwrap();
    assert_eq!(payload(&tokens.id_token().unwrap().to_string())["groups"], serde_json::json!(["ops"]));
    let info = provider.first.get("/oidc/userinfo", Some(tokens.access_token().secret())).await;
    assert_eq!(info.body["groups"], serde_json::json!(["ops"]), "{}", info.body);
    let (back, started) = allowed(&mut browser, &app, &[]).await;
    let plain = app.exchange(&param(&back, "code").unwrap(), started.verifier).await.unwrap();
    assert!(payload(&plain.id_token().unwrap().to_string()).get("groups").is_none());

    // The team's tool allows staff only: no code for someone in ops alone.
    let team = App::discover(&provider, TEAM, Some(APP_SECRET), TEAM_CALLBACK).await;
    let refused = browser.follow(team.start(&["offline_access"], |r| r).url.as_str()).await.expect_err("a page");
    assert!(refused.starts_with("/access?request="), "{refused}");
    let (_, _, _, html) = browser.visit(&refused).await;
    assert!(
        html.contains("Your account can&#x27;t use Team Tool") || html.contains("Your account can't use Team Tool"),
        "{html}"
    );
    assert!(!html.contains("access-continue"), "nothing to go on to: {html}");
    let silent = team.start(&[], |r| r.add_prompt(CoreAuthPrompt::None));
    let back = browser.follow(silent.url.as_str()).await.expect("no page for prompt=none");
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));

    // In staff, the tool signs in; out of staff again, its next refresh is refused.
    assert!(groups::add(&engine.accounts, &op, "staff", &ada, now).await.unwrap());
    let (back, started) = allowed(&mut browser, &team, &["groups", "offline_access"]).await;
    let tokens = team.exchange(&param(&back, "code").unwrap(), started.verifier).await.unwrap();
    assert_eq!(payload(&tokens.id_token().unwrap().to_string())["groups"], serde_json::json!(["ops", "staff"]));
    let refreshed = refresh(&team, tokens.refresh_token().unwrap()).await.unwrap();
    assert!(groups::remove(&engine.accounts, &op, "staff", &ada, now).await.unwrap());
    assert_eq!(refresh(&team, refreshed.refresh_token().unwrap()).await.unwrap_err(), "invalid_grant");
    let info = provider.first.get("/oidc/userinfo", Some(refreshed.access_token().secret())).await;
    assert_eq!(info.status, StatusCode::UNAUTHORIZED, "its sign-in ended: {}", info.body);
    assert!(matches!(groups::add(&engine.accounts, &op, "nope", &ada, now).await, Err(engine::Error::GroupNotFound)));
}

/// Custom claims reach an app's ID token and userinfo exactly when it was granted their scope: a
/// group's for its members (between two groups, the first by name), the account's own over its
/// groups'; the access token names the groups when `groups` was granted. Names the protocols use
/// are refused.
#[tokio::test]
async fn custom_claims_reach_the_apps_granted_their_scope_and_the_accounts_own_win() {
    use engine::accounts::admins::account_of;
    use engine::accounts::claims::{self, Whose};
    use engine::accounts::groups;
    use serde_json::json;
    let provider = Provider::start().await;
    let mut key = provider.account().await;
    let engine = crate::common::engine_for(&provider.database).await;
    let (now, op) = (engine::base::clock::now(), engine::notify::audit::Actor::operator());
    let ada = account_of(&engine.accounts, EMAIL).await.unwrap().id;
    for group in ["staff", "ops"] {
        groups::create(&engine.accounts, &op, group, None, now).await.unwrap();
        groups::add(&engine.accounts, &op, group, &ada, now).await.unwrap();
    }
    let set = |whose, name: &'static str, value: serde_json::Value, scope: Option<&'static str>| {
        let (accounts, op) = (&engine.accounts, &op);
        async move { claims::set(accounts, op, whose, name, &value, scope, now).await }
    };
    set(Whose::Group("staff"), "department", json!("Engineering"), None).await.unwrap();
    set(Whose::Group("ops"), "department", json!("Operations"), None).await.unwrap();
    set(Whose::Group("staff"), "clearance", json!(["blue", "green"]), Some("groups")).await.unwrap();
    set(Whose::User(&ada), "employee_id", json!(42), Some("email")).await.unwrap();
    for reserved in ["email", "sub", "groups", "Email", "SUB", "1st", "a b"] {
        let refused = set(Whose::User(&ada), reserved, json!(1), None).await;
        assert!(matches!(refused, Err(engine::Error::InvalidClaim(_))), "{reserved}: {refused:?}");
    }
    assert!(matches!(set(Whose::User(&ada), "x", json!(null), None).await, Err(engine::Error::InvalidClaim(_))));
    assert!(matches!(set(Whose::User(&ada), "x", json!(1), Some("openid")).await, Err(engine::Error::InvalidClaim(_))));

    let mut browser = Browser::new(&provider.first);
    browser.sign_in_with_passkey(&mut key, None).await;
    let app = App::discover(&provider, APP, Some(APP_SECRET), APP_CALLBACK).await;

    // `profile` alone: the groups' department (ops sorts first), nothing of `email` or `groups`.
    let (back, started) = allowed(&mut browser, &app, &["profile"]).await;
    let tokens = app.exchange(&param(&back, "code").unwrap(), started.verifier).await.unwrap();
    let id_token = payload(&tokens.id_token().unwrap().to_string());
    assert_eq!(id_token["department"], "Operations", "{id_token}");
    for absent in ["employee_id", "clearance", "groups"] {
        assert!(id_token.get(absent).is_none(), "{absent}: {id_token}");
    }
    assert!(payload(tokens.access_token().secret()).get("groups").is_none());

    // The account's own claim wins; every scope granted, every claim and the groups everywhere.
    set(Whose::User(&ada), "department", json!("Platform"), None).await.unwrap();
    let (back, started) = allowed(&mut browser, &app, &["profile", "email", "groups"]).await;
    let tokens = app.exchange(&param(&back, "code").unwrap(), started.verifier).await.unwrap();
    let id_token = payload(&tokens.id_token().unwrap().to_string());
    let info = provider.first.get("/oidc/userinfo", Some(tokens.access_token().secret())).await.body;
    for claims in [&id_token, &info] {
        assert_eq!(claims["department"], "Platform", "{claims}");
        assert_eq!(claims["employee_id"], 42, "{claims}");
        assert_eq!(claims["clearance"], json!(["blue", "green"]), "{claims}");
        assert_eq!(claims["groups"], json!(["ops", "staff"]), "{claims}");
        assert_eq!(claims["email"], EMAIL, "the protocol's own claims are untouched: {claims}");
    }
    assert_eq!(payload(tokens.access_token().secret())["groups"], json!(["ops", "staff"]));
}

/// "Your apps" lists the apps the account may use — with their logo and own address — and those it
/// allowed, never an app for a group it is not in; "Remove access" withdraws the consent and ends
/// the app's sign-in at once (its refresh token is refused, the next sign-in asks again), and is
/// refused for an app that has nothing of the account.
#[tokio::test]
async fn your_apps_lists_the_accounts_apps_and_remove_access_signs_the_app_out() {
    use app::server_fns::{MyApps, RemoveAppAccess};
    use leptos::server_fn::ServerFn as _;
    let provider = Provider::start().await;
    let (_, app, mut browser, tokens) = signed_in_to_app(&provider).await;
    let apps = |listed: &Value| -> Vec<Value> { listed.as_array().unwrap().clone() };
    let listed: Value = browser.server_fn(MyApps::PATH, &[], false).await.json().await.unwrap();
    let ids: Vec<&str> = listed.as_array().unwrap().iter().map(|a| a["client_id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&TEAM), "an app for staff only is not listed for someone outside staff: {listed}");
    let example = apps(&listed).into_iter().find(|a| a["client_id"] == APP).expect("the app signed in to");
    assert_eq!(example["name"], "Example App");
    assert_eq!((example["allowed"].as_bool(), example["consented"].as_bool()), (Some(true), Some(true)));
    assert_eq!(example["sign_ins"], 1);
    assert_eq!(example["launch"], "https://app.example/");
    assert!(example["logo"].as_str().unwrap().starts_with("/brand/apps/app?v="), "{example}");

    let removed = browser.server_fn(RemoveAppAccess::PATH, &[("client_id", APP)], true).await;
    assert!(removed.status().is_redirection(), "{}", removed.status());
    assert!(removed.headers()["location"].to_str().unwrap().ends_with("/account?done=app_removed"));
    assert_eq!(refresh(&app, tokens.refresh_token().unwrap()).await.unwrap_err(), "invalid_grant");
    let info = provider.first.get("/oidc/userinfo", Some(tokens.access_token().secret())).await;
    assert_eq!(info.status, StatusCode::UNAUTHORIZED, "its sign-in ended: {}", info.body);
    let listed: Value = browser.server_fn(MyApps::PATH, &[], false).await.json().await.unwrap();
    let example = apps(&listed).into_iter().find(|a| a["client_id"] == APP).expect("still open to the account");
    assert_eq!((example["consented"].as_bool(), example["sign_ins"].as_u64()), (Some(false), Some(0)));
    let consent = browser.follow(app.start(&[], |r| r).url.as_str()).await;
    assert!(consent.expect_err("the consent page again").starts_with("/consent"));

    for client_id in [APP, "no-such-app"] {
        let refused = browser.server_fn(RemoveAppAccess::PATH, &[("client_id", client_id)], false).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{client_id}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{body}");
    }
}

const OPERATOR_TOKEN: &str = "an-operator-token-of-at-least-32-characters";
const CONSOLE_APP: &str = "console-app";
const CONSOLE_CALLBACK: &str = "https://console-app.example/cb";

/// Whether `instance` knows `client_id`: its authorization endpoint stops on "unknown client" or not.
async fn knows(instance: &TestServer, client_id: &str, redirect: &str) -> bool {
    let query =
        format!("/oidc/authorize?response_type=code&scope=openid&client_id={client_id}&redirect_uri={redirect}");
    let (_, location, _) = crate::portal::page(instance, &query, None).await;
    !location.unwrap_or_default().contains("reason=unknown_client")
}

/// Waits up to five seconds for `instance` to know (or forget) `client_id`; says whether it did.
async fn within_five_seconds(instance: &TestServer, client_id: &str, redirect: &str, known: bool) -> bool {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < until {
        if knows(instance, client_id, redirect).await == known {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

/// An app made through the admin API signs users in with the real `openidconnect` client — on
/// PostgreSQL made on one instance and redeemed on the other within five seconds; its secret is
/// shown once; a rotation keeps the old secret for the overlap chosen (and none with 0); bad
/// settings are refused with the field named and nothing saved; the clients file's apps are
/// read-only; deleting it ends its sign-ins and what it was allowed.
#[tokio::test]
async fn apps_made_in_the_console_sign_users_in_on_every_instance_and_deleting_one_ends_its_sign_ins() {
    let provider = Provider::start_with(&[("LATCHKEY_ADMIN_TOKEN", OPERATOR_TOKEN.to_owned())]).await;
    let (api, op) = (&provider.first, Some(OPERATOR_TOKEN));
    let other = provider.second.as_ref().unwrap_or(&provider.first);
    let group = api.post("/admin/groups", op, serde_json::json!({"name": "staff"})).await;
    assert_eq!(group.status, StatusCode::CREATED);

    let app = |changes: Value| {
        let mut body = serde_json::json!({
            "client_id": CONSOLE_APP, "name": "Console App", "redirect_uris": [CONSOLE_CALLBACK],
            "post_logout_redirect_uris": ["https://console-app.example/bye"], "allowed_groups": [],
        });
        body.as_object_mut().unwrap().extend(changes.as_object().unwrap().clone());
        body
    };
    for (changes, field) in [
        (
            serde_json::json!({"redirect_uris": ["http://console-app.example/cb"]}),
            "redirect_uris: `http://console-app.example/cb` must be https",
        ),
        (serde_json::json!({"redirect_uris": ["/cb"]}), "redirect_uris: `/cb` is not an absolute URL"),
        (serde_json::json!({"redirect_uris": []}), "redirect_uris: list at least one"),
        (serde_json::json!({"client_id": "a b"}), "client_id:"),
        (serde_json::json!({"name": " "}), "name:"),
        (serde_json::json!({"allowed_groups": ["nobody-here"]}), "allowed_groups: no group is named `nobody-here`"),
        (serde_json::json!({"public": true, "require_pkce": false}), "require_pkce:"),
        (serde_json::json!({"id_token_signed_response_alg": "HS256"}), "id_token_signed_response_alg:"),
    ] {
        let refused = api.post("/admin/apps", op, app(changes.clone())).await;
        assert_eq!((refused.status, refused.code()), (StatusCode::BAD_REQUEST, "invalid_app"), "{changes}");
        let message = refused.body["message"].as_str().unwrap();
        assert!(message.starts_with(field), "{message}\n  expected: {field}");
    }
    let taken = api.post("/admin/apps", op, app(serde_json::json!({"client_id": APP}))).await;
    assert_eq!((taken.status, taken.code()), (StatusCode::CONFLICT, "app_exists"), "the clients file's id");
    let listed = api.get("/admin/apps", op).await;
    assert!(
        listed.body.as_array().unwrap().iter().all(|a| a["source"] == "file"),
        "nothing half-saved: {}",
        listed.body
    );

    let made = api.post("/admin/apps", op, app(serde_json::json!({"allowed_groups": ["staff"]}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let secret = made.body["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 43, "256 random bits");
    assert_eq!((made.body["source"].as_str(), made.body["name"].as_str()), (Some("console"), Some("Console App")));
    let twice = api.post("/admin/apps", op, app(serde_json::json!({}))).await;
    assert_eq!((twice.status, twice.code()), (StatusCode::CONFLICT, "app_exists"));
    let shown = api.get(&format!("/admin/apps/{CONSOLE_APP}"), op).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(!shown.body.to_string().contains(&secret) && shown.body.get("client_secret").is_none(), "shown once");
    let stored: String = sqlx::query_scalar("SELECT settings || COALESCE(secret_digest, '') FROM apps")
        .fetch_one(&crate::common::stores::connect(&provider.database).await)
        .await
        .unwrap();
    assert!(!stored.contains(&secret), "only a digest of the secret is kept");
    assert!(within_five_seconds(other, CONSOLE_APP, CONSOLE_CALLBACK, true).await, "the other instance knows it");

    // A person in the allowed group signs in to it, and the code is redeemed on the other instance.
    let (me, _) = provider.first.sign_up(EMAIL).await;
    let mut key = authenticator();
    provider.first.add_passkey(&me, &mut key).await;
    let my_id = provider.first.get("/auth/me", Some(&me)).await.body["id"].as_str().unwrap().to_owned();
    let joined = api.post("/admin/groups/staff/members", op, serde_json::json!({"user_id": my_id})).await;
    assert_eq!(joined.status, StatusCode::NO_CONTENT);
    let console = App::discover(&provider, CONSOLE_APP, Some(&secret), CONSOLE_CALLBACK).await;
    let mut browser = Browser::new(&provider.first);
    browser.sign_in_with_passkey(&mut key, None).await;
    let (back, started) = allowed(&mut browser, &console, &["offline_access"]).await;
    let tokens = console.exchange(&param(&back, "code").unwrap(), started.verifier).await.expect("the code is good");
    let refresh_token = tokens.refresh_token().unwrap().clone();

    // Rotation: the old secret keeps working for the overlap; with none, it stops at once.
    let path = format!("/admin/apps/{CONSOLE_APP}/secret");
    let rotated = api.post(&path, op, serde_json::json!({"overlap_secs": 3600})).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let newer = rotated.body["client_secret"].as_str().unwrap().to_owned();
    assert!(rotated.body["previous_secret_until"].is_string());
    // Secrets are tried on the instance that made the change (the other reads it within seconds).
    let with = |secret: &str| {
        let secret = secret.to_owned();
        let provider = &provider;
        async move {
            let app = App::discover(provider, CONSOLE_APP, Some(&secret), CONSOLE_CALLBACK).await;
            let token_uri = TokenUrl::new(format!("{}/oidc/token", provider.first.base)).unwrap();
            App { client: app.client.set_token_uri(token_uri), http: app.http }
        }
    };
    let old = with(&secret).await;
    let tokens = refresh(&old, &refresh_token).await.expect("the old secret works during the overlap");
    let fresh = with(&newer).await;
    let tokens = refresh(&fresh, tokens.refresh_token().unwrap()).await.expect("the new secret works");
    let no_overlap = api.post(&path, op, serde_json::json!({"overlap_secs": 0})).await;
    let newest = no_overlap.body["client_secret"].as_str().unwrap().to_owned();
    assert!(no_overlap.body["previous_secret_until"].is_null());
    let mut last = tokens.refresh_token().unwrap().clone();
    for stopped in [&secret, &newer] {
        let refused = refresh(&with(stopped).await, &last).await.unwrap_err();
        assert_eq!(refused, "invalid_client", "a replaced secret stops with overlap 0");
    }
    let tokens = refresh(&with(&newest).await, &last).await.expect("the newest secret works");
    last = tokens.refresh_token().unwrap().clone();
    for overlap in [-1, 31 * 24 * 3600] {
        let bad = api.post(&path, op, serde_json::json!({"overlap_secs": overlap})).await;
        assert_eq!((bad.status, bad.code()), (StatusCode::BAD_REQUEST, "invalid_app"), "{overlap}");
    }

    // Changes: its kind is fixed; the clients file's apps are only shown.
    let put = |id: &str, body: Value| {
        let path = format!("/admin/apps/{id}");
        async move { api.request(reqwest::Method::PUT, &path, op, Some(body)).await }
    };
    let kind = put(CONSOLE_APP, serde_json::json!({"public": true, "redirect_uris": [CONSOLE_CALLBACK]})).await;
    assert_eq!((kind.status, kind.code()), (StatusCode::BAD_REQUEST, "invalid_app"));
    let renamed = put(CONSOLE_APP, serde_json::json!({"name": "Renamed", "redirect_uris": [CONSOLE_CALLBACK]})).await;
    assert_eq!((renamed.status, renamed.body["name"].as_str()), (StatusCode::OK, Some("Renamed")), "{}", renamed.body);
    let file_app = put(APP, serde_json::json!({"redirect_uris": [APP_CALLBACK]})).await;
    assert_eq!((file_app.status, file_app.code()), (StatusCode::CONFLICT, "app_in_file"));
    for (method, path) in [
        (reqwest::Method::DELETE, format!("/admin/apps/{APP}")),
        (reqwest::Method::POST, format!("/admin/apps/{APP}/secret")),
    ] {
        let refused = api.request(method, &path, op, None).await;
        assert_eq!((refused.status, refused.code()), (StatusCode::CONFLICT, "app_in_file"), "{path}");
    }
    let unknown = api.get("/admin/apps/nope", op).await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "app_not_found"));

    // Deleting it ends its sign-ins on every instance; made again under its id, it inherits nothing.
    let deleted = api.request(reqwest::Method::DELETE, &format!("/admin/apps/{CONSOLE_APP}"), op, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let access = tokens.access_token().secret();
    assert_eq!(other.get("/oidc/userinfo", Some(access)).await.status, StatusCode::UNAUTHORIZED);
    assert!(within_five_seconds(other, CONSOLE_APP, CONSOLE_CALLBACK, false).await, "the other instance forgets it");
    assert!(refresh(&with(&newest).await, &last).await.is_err(), "its refresh token no longer works");
    let again = api.post("/admin/apps", op, app(serde_json::json!({}))).await;
    let again_secret = again.body["client_secret"].as_str().unwrap().to_owned();
    assert!(within_five_seconds(other, CONSOLE_APP, CONSOLE_CALLBACK, true).await);
    let again = with(&again_secret).await;
    let consent = browser.follow(again.start(&[], |r| r).url.as_str()).await;
    assert!(consent.expect_err("asked again").starts_with("/consent"), "the old consent went with the app");
    assert_eq!(refresh(&again, &last).await.unwrap_err(), "invalid_grant", "its old sign-ins stay ended");

    let audit = api.get("/admin/audit", op).await;
    let actions: Vec<&str> =
        audit.body["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["app_created", "app_secret_rotated", "app_updated", "app_deleted"] {
        assert!(actions.contains(&action), "{action} recorded: {actions:?}");
    }
}

/// An app in the clients file and in the database under one id is a start-up error with a sentence.
#[tokio::test]
async fn an_app_in_the_clients_file_and_the_database_is_a_start_up_error() {
    let env = Env::new().await.set("LATCHKEY_ADMIN_TOKEN", OPERATOR_TOKEN);
    let database = env.get("LATCHKEY_DATABASE_URL").unwrap();
    let server = TestServer::start_with(env).await;
    let made = server
        .post(
            "/admin/apps",
            Some(OPERATOR_TOKEN),
            serde_json::json!({"client_id": APP, "redirect_uris": [APP_CALLBACK]}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let clients = clients_file();
    let config = engine::Config::from_lookup(|key| match key {
        "LATCHKEY_DATABASE_URL" => Some(database.clone()),
        "LATCHKEY_OPERATOR_SECRET" => Some(crate::common::OPERATOR_SECRET.to_owned()),
        "LATCHKEY_OIDC_CLIENTS" => Some(clients.clone()),
        _ => None,
    })
    .unwrap();
    let refused = engine::Engine::build(config).await.err().expect("refused").to_string();
    assert!(
        refused.contains(&format!("client `{APP}` is in this file and also an app made in the admin console")),
        "{refused}"
    );
}
