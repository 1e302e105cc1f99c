//! What answers an authorization request: the portal's sign-in page when nobody (or nobody recently
//! enough) is signed in, the consent page when the user has not yet allowed the app what it asks,
//! and otherwise a code, back at the app's redirect URI. `prompt=none` never shows a page: it
//! answers `login_required` or `consent_required` instead.
//!
//! The browser carries the sealed request (`request.rs`) through sign-in and consent and comes back
//! to [`resume`], which decides again, so every path through the pages meets the same checks.

use std::sync::Arc;

use proto::{AccessView, AuthorizeProblem, Barrier, ConsentView, SignInFor};

use super::Provider;
use super::codes::{self, Grant};
use super::error::OAuthCode;
use super::request::{self, AuthorizationRequest, Refusal, resume_path, with_query};
use super::{has_scope, known_scopes, paths};
use crate::base::error::Error;
use crate::db::sign_ins::{self, SignInRow};
use crate::db::{consents, groups, users};
use crate::sign_in::SessionUser;
use crate::tokens::clients::Client;

/// Where the browser goes next.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// A page of the portal (sign-in or consent): a path on this site.
    Portal(String),
    /// Back to the app: its registered redirect URI with a code or an error.
    App(String),
    /// Nowhere safe to send it: the error page says why.
    Problem(AuthorizeProblem),
}

impl Answer {
    /// The `Location` to send the browser to.
    pub fn location(&self) -> String {
        match self {
            Self::Portal(path) | Self::App(path) => path.clone(),
            Self::Problem(problem) => problem_path(*problem),
        }
    }
}

/// The error page's address for `problem`.
pub fn problem_path(problem: AuthorizeProblem) -> String {
    format!("{}?reason={}", paths::ERROR, problem.slug())
}

/// `GET /oidc/authorize`: reads the request and answers it for the browser's signed-in user, if any.
pub async fn authorize(
    provider: &Provider,
    params: &[(String, String)],
    signed_in: Option<&SessionUser>,
    now: i64,
) -> Result<Answer, Error> {
    match request::read(&provider.clients, params, now) {
        Ok(request) => decide(provider, &request, signed_in, now).await,
        Err(Refusal::Page(problem)) => Ok(Answer::Problem(problem)),
        Err(Refusal::ToApp(error)) => Ok(Answer::App(error.location(&provider.config.issuer()))),
    }
}

/// `GET /oidc/authorize/resume?request=…`: the same request again, after a sign-in.
pub async fn resume(
    provider: &Provider,
    sealed: &str,
    signed_in: Option<&SessionUser>,
    now: i64,
) -> Result<Answer, Error> {
    match open(provider, sealed, now) {
        Ok(request) => decide(provider, &request, signed_in, now).await,
        Err(problem) => Ok(Answer::Problem(problem)),
    }
}

/// The consent page's answer: allowed (remembered, then a code) or declined (`access_denied`).
pub async fn answer_consent(
    provider: &Provider,
    sealed: &str,
    signed_in: Option<&SessionUser>,
    allow: bool,
    now: i64,
) -> Result<Answer, Error> {
    let request = match open(provider, sealed, now) {
        Ok(request) => request,
        Err(problem) => return Ok(Answer::Problem(problem)),
    };
    // The same freshness as `decide`: a sealed request brought to this page by hand must not skip
    // the new sign-in that `prompt=login` or `max_age` asks for.
    let sign_in = portal_sign_in(provider, signed_in).await?.filter(|s| fresh_enough(&request, s.auth_time, now));
    let Some(sign_in) = sign_in else {
        return sign_in_first(provider, &request);
    };
    if !allow {
        let declined = request.error(OAuthCode::AccessDenied, "the user did not allow the app to sign them in");
        return Ok(Answer::App(declined.location(&provider.config.issuer())));
    }
    // A consent form posted by hand must not pass what `decide` stops at.
    let app = client(provider, &request)?;
    if barrier(provider, &app, &sign_in).await?.is_some() {
        return Ok(Answer::Portal(format!("{}?request={sealed}", paths::ACCESS)));
    }
    let before = consents::granted(&provider.db, &sign_in.user_id, &request.client_id).await?;
    let allowed = merge_scopes(before.as_deref().unwrap_or_default(), &request.scope);
    consents::grant(&provider.db, &sign_in.user_id, &request.client_id, &allowed, now).await?;
    issue_code(provider, &request, &sign_in, now).await
}

/// What the consent page shows for a sealed request and the signed-in user.
pub async fn consent_view(
    provider: &Provider,
    sealed: &str,
    signed_in: Option<&SessionUser>,
    now: i64,
) -> Result<ConsentView, Error> {
    let request = open(provider, sealed, now).map_err(|problem| Error::InvalidRequest(problem.message().into()))?;
    let sign_in = portal_sign_in(provider, signed_in).await?.ok_or(Error::SignInRequired)?;
    let user = users::by_id(&provider.db, &sign_in.user_id).await?.ok_or(Error::SignInRequired)?;
    let receives = request.scope.split(' ').filter_map(what_it_gives).map(str::to_owned).collect();
    let app = client(provider, &request)?;
    Ok(ConsentView {
        app_name: app.name.clone(),
        email: user.email,
        receives,
        app_origin: origin_of(&request),
        resume: format!("{}?request={sealed}", paths::RESUME),
        app_logo: app.logo_address(),
    })
}

/// What the access page shows for a sealed request and the signed-in user.
pub async fn access_view(
    provider: &Provider,
    sealed: &str,
    signed_in: Option<&SessionUser>,
    now: i64,
) -> Result<AccessView, Error> {
    let request = open(provider, sealed, now).map_err(|problem| Error::InvalidRequest(problem.message().into()))?;
    let sign_in = portal_sign_in(provider, signed_in).await?.ok_or(Error::SignInRequired)?;
    let user = users::by_id(&provider.db, &sign_in.user_id).await?.ok_or(Error::SignInRequired)?;
    let app = client(provider, &request)?;
    Ok(AccessView {
        app_name: app.name.clone(),
        app_logo: app.logo_address(),
        email: user.email,
        barrier: barrier(provider, &app, &sign_in).await?,
        resume: format!("{}?request={sealed}", paths::RESUME),
    })
}

/// What keeps the signed-in account from signing in to the app, if anything: the app's
/// `allowed_groups`, none of which it is in; with `LATCHKEY_SIGN_UP=domains`, an address not yet
/// confirmed (anyone may type an address at an allowed domain; only its owner can confirm it).
async fn barrier(provider: &Provider, app: &Client, sign_in: &SignInRow) -> Result<Option<Barrier>, Error> {
    if !app.allowed_groups.is_empty() && !app.admits(&groups::names_of_user(&provider.db, &sign_in.user_id).await?) {
        return Ok(Some(Barrier::NotAllowed));
    }
    if provider.config.sign_up.needs_confirmed_address() {
        let user = users::by_id(&provider.db, &sign_in.user_id).await?.ok_or(Error::SignInRequired)?;
        if user.email_verified_at.is_none() {
            return Ok(Some(Barrier::UnconfirmedAddress));
        }
    }
    Ok(None)
}

/// The origin of the address `request`'s app gets its answer at (what the pages show of where the
/// app is).
fn origin_of(request: &AuthorizationRequest) -> String {
    url::Url::parse(&request.redirect_uri).map(|url| url.origin().ascii_serialization()).unwrap_or_default()
}

/// For the sign-in page sent `next` = a resume address: which app is waiting, and its `login_hint`.
pub fn sign_in_for(provider: &Provider, next: &str, now: i64) -> Option<SignInFor> {
    let request = open(provider, request::sealed_in(next)?, now).ok()?;
    let app = client(provider, &request).ok()?;
    let app_logo = app.logo_address();
    let app_origin = origin_of(&request);
    Some(SignInFor { app_name: app.name.clone(), login_hint: request.login_hint, app_origin, app_logo })
}

/// The origin of the app a portal page may send its form's answer on to (the page's CSP
/// `form-action` must allow it, since a form's redirects are checked too): for the sign-in and
/// sign-up pages with a resume address in `next`, and for the consent page.
pub fn form_target_origin(provider: &Provider, path: &str, query: Option<&str>, now: i64) -> Option<String> {
    let param = match path {
        "/" | "/sign-up" => "next",
        paths::CONSENT => "request",
        _ => return None,
    };
    let value = url::form_urlencoded::parse(query?.as_bytes()).find(|(name, _)| name == param)?.1;
    let sealed = if param == "next" { request::sealed_in(&value)?.to_owned() } else { value.into_owned() };
    let request = open(provider, &sealed, now).ok()?;
    Some(origin_of(&request)).filter(|origin| !origin.is_empty())
}

fn open(provider: &Provider, sealed: &str, now: i64) -> Result<AuthorizationRequest, AuthorizeProblem> {
    AuthorizationRequest::open(sealed, &provider.request_sealer, &provider.clients, now)
}

fn client(provider: &Provider, request: &AuthorizationRequest) -> Result<Arc<Client>, Error> {
    provider
        .clients
        .get(&request.client_id)
        .ok_or_else(|| Error::InvalidRequest(AuthorizeProblem::UnknownClient.message().into()))
}

async fn decide(
    provider: &Provider,
    request: &AuthorizationRequest,
    signed_in: Option<&SessionUser>,
    now: i64,
) -> Result<Answer, Error> {
    let issuer = provider.config.issuer();
    let sign_in = portal_sign_in(provider, signed_in).await?.filter(|s| fresh_enough(request, s.auth_time, now));
    let Some(sign_in) = sign_in else {
        if request.prompt.none {
            let error = request.error(OAuthCode::LoginRequired, "nobody is signed in, or not recently enough");
            return Ok(Answer::App(error.location(&issuer)));
        }
        return sign_in_first(provider, request);
    };
    let client = client(provider, request)?;
    if let Some(barrier) = barrier(provider, &client, &sign_in).await? {
        if request.prompt.none {
            let error = match barrier {
                Barrier::UnconfirmedAddress => {
                    request.error(OAuthCode::InteractionRequired, "the account must confirm its address first")
                }
                Barrier::NotAllowed => {
                    request.error(OAuthCode::AccessDenied, "the account is in none of the groups this app allows")
                }
            };
            return Ok(Answer::App(error.location(&issuer)));
        }
        let sealed = seal(provider, request)?;
        return Ok(Answer::Portal(format!("{}?request={sealed}", paths::ACCESS)));
    }
    let allowed = consents::granted(&provider.db, &sign_in.user_id, &client.id).await?;
    let consented = allowed.is_some_and(|allowed| covers(&allowed, &request.scope));
    if request.prompt.consent || (!client.skip_consent && !consented) {
        if request.prompt.none {
            let error = request.error(OAuthCode::ConsentRequired, "the user has not allowed this app yet");
            return Ok(Answer::App(error.location(&issuer)));
        }
        let sealed = seal(provider, request)?;
        return Ok(Answer::Portal(format!("{}?request={sealed}", paths::CONSENT)));
    }
    issue_code(provider, request, &sign_in, now).await
}

/// The sign-in page, coming back to this request afterwards.
fn sign_in_first(provider: &Provider, request: &AuthorizationRequest) -> Result<Answer, Error> {
    let resume = resume_path(&seal(provider, request)?);
    if resume.len() > request::MAX_RESUME_PATH {
        let error = request.error(OAuthCode::InvalidRequest, "the request is too large to carry through sign-in");
        return Ok(Answer::App(error.location(&provider.config.issuer())));
    }
    let next: String = url::form_urlencoded::byte_serialize(resume.as_bytes()).collect();
    Ok(Answer::Portal(format!("/?next={next}")))
}

fn seal(provider: &Provider, request: &AuthorizationRequest) -> Result<String, Error> {
    request
        .seal(&provider.request_sealer)
        .ok_or_else(|| Error::internal("an authorization request could not be sealed"))
}

/// The browser's portal sign-in, if it is still active.
async fn portal_sign_in(provider: &Provider, signed_in: Option<&SessionUser>) -> Result<Option<SignInRow>, Error> {
    let Some(user) = signed_in else {
        return Ok(None);
    };
    let row = sign_ins::by_id(&provider.db, &user.sign_in_id).await?;
    Ok(row.filter(|s| s.active && s.user_id == user.user_id && s.client_id.is_none()))
}

/// `prompt=login` wants the user to have proved who they are after the request came; `max_age`,
/// at most that many seconds before the code is issued — counted from the sign-in, whenever the
/// request came, since the app checks the ID token's `auth_time` against it (OIDC Core §3.1.2.1).
/// `max_age=0` is the same as `prompt=login` (a sign-in is never zero seconds old when it returns).
fn fresh_enough(request: &AuthorizationRequest, auth_time: i64, now: i64) -> bool {
    let since_request = auth_time >= request.received_at;
    let login = !request.prompt.login || since_request;
    let max_age = match request.max_age {
        None => true,
        Some(0) => since_request,
        Some(max) => now.saturating_sub(auth_time) <= max,
    };
    login && max_age
}

/// A code for the signed-in user, back at the app.
async fn issue_code(
    provider: &Provider,
    request: &AuthorizationRequest,
    sign_in: &SignInRow,
    now: i64,
) -> Result<Answer, Error> {
    let grant = Grant {
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        user_id: sign_in.user_id.clone(),
        sign_in_id: sign_in.id.clone(),
        scope: request.scope.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth_time: sign_in.auth_time,
    };
    let code = codes::issue(&provider.db, &grant, now).await?;
    let issuer = provider.config.issuer();
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = &request.state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", &issuer));
    Ok(Answer::App(with_query(&request.redirect_uri, &pairs)))
}

/// Whether the allowed scopes include every asked one.
fn covers(allowed: &str, asked: &str) -> bool {
    asked.split(' ').all(|scope| has_scope(allowed, scope))
}

/// The union of two scope strings, in [`super::SCOPES`] order.
fn merge_scopes(a: &str, b: &str) -> String {
    known_scopes(|scope| has_scope(a, scope) || has_scope(b, scope))
}

/// What a scope gives the app, as the consent page lists it.
fn what_it_gives(scope: &str) -> Option<&'static str> {
    match scope {
        "openid" => Some("An identifier for your account, and when you signed in"),
        "email" => Some("Your email address"),
        "profile" => Some("Your name"),
        "groups" => Some("The groups you are in"),
        "offline_access" => Some("Access while you are away, until you sign out of the app"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::request::Prompt;

    fn request(prompt: Prompt, max_age: Option<i64>) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: "app".into(),
            redirect_uri: "https://app.example/cb".into(),
            scope: "openid".into(),
            state: None,
            nonce: None,
            code_challenge: None,
            prompt,
            max_age,
            login_hint: None,
            received_at: 1_000,
        }
    }

    #[test]
    fn prompt_login_and_max_age_want_a_recent_enough_sign_in() {
        let any = request(Prompt::default(), None);
        assert!(fresh_enough(&any, 1, 2_000));
        let login = request(Prompt { login: true, ..Prompt::default() }, None);
        assert!(!fresh_enough(&login, 999, 1_001), "signed in before the request");
        assert!(fresh_enough(&login, 1_000, 1_001), "signed in for it");
        let max_age = request(Prompt::default(), Some(60));
        assert!(fresh_enough(&max_age, 950, 1_010));
        assert!(!fresh_enough(&max_age, 940, 1_010 + 60));
        // L2: a sign-in made for the request but older than max_age when the code would be issued
        // (a sealed request resumed later) was accepted, and its ID token's auth_time then broke
        // the app's own max_age check.
        assert!(!fresh_enough(&max_age, 1_005, 1_500), "counted from the sign-in, not the request");
        assert!(fresh_enough(&max_age, 1_005, 1_065));
        let zero = request(Prompt::default(), Some(0));
        assert!(!fresh_enough(&zero, 999, 1_000));
        assert!(fresh_enough(&zero, 1_003, 1_004));
    }

    #[test]
    fn consent_covers_what_was_allowed_and_grows_with_what_is_asked() {
        assert!(covers("openid email", "openid"));
        assert!(!covers("openid", "openid email"));
        assert_eq!(merge_scopes("openid email", "openid offline_access"), "openid email offline_access");
    }
}
