//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): an app sends the browser to
//! `end_session_endpoint` with the ID token it holds (`id_token_hint`). Latchkey ends the sign-ins
//! that portal sign-in gave the app, ends the browser's portal sign-in when it is the very sign-in
//! the hint names (`sid`), and returns to the app's registered `post_logout_redirect_uri` (with `state`), or to the sign-in
//! page.
//!
//! The hint is required: it proves which app and sign-in are meant, so a link on another site cannot
//! sign anyone out, and an old logout address replayed later cannot end a newer sign-in. An expired
//! ID token is accepted as a hint (the spec allows it; the app's last ID token is usually old), as
//! long as its key is still published.

use jsonwebtoken::Validation;
use proto::AuthorizeProblem;

use super::Provider;
use super::authorize::Answer;
use super::request::with_query;
use super::token::{ID_TOKEN_TYPE, IdTokenClaims};
use crate::base::error::Error;
use crate::sign_in::{self, SessionUser, Which};

/// What a logout request comes to: where the browser goes, and whether the browser's own portal
/// sign-in ends too (the portal's cookie session does that, `http::portal::end_session`).
#[derive(Debug)]
pub struct Logout {
    /// Where the browser goes.
    pub answer: Answer,
    /// The browser's portal sign-in is the one the hint names: it ends.
    pub signs_out_browser: bool,
}

/// `GET`/`POST /oidc/end_session`, for a browser whose portal sign-in is `browser`.
pub async fn end_session(
    provider: &Provider,
    params: &[(String, String)],
    browser: Option<&SessionUser>,
    now: i64,
) -> Result<Logout, Error> {
    let problem = |problem| Ok(Logout { answer: Answer::Problem(problem), signs_out_browser: false });
    let param = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let Some(hint) = param("id_token_hint") else {
        return problem(AuthorizeProblem::LogoutHint);
    };
    let Some(claims) = verify_hint(provider, hint, now).await? else {
        return problem(AuthorizeProblem::LogoutHint);
    };
    if param("client_id").is_some_and(|id| id != claims.aud) {
        return problem(AuthorizeProblem::LogoutHint);
    }
    let Some(client) = provider.clients.get(&claims.aud) else {
        return problem(AuthorizeProblem::UnknownClient);
    };
    let back = match param("post_logout_redirect_uri") {
        Some(uri) if client.post_logout_redirect_uris.iter().any(|registered| registered.as_str() == uri) => Some(uri),
        Some(_) => return problem(AuthorizeProblem::LogoutRedirectUri),
        None => None,
    };

    let apps = Which::AppsOf { user: &claims.sub, client_id: &client.id, parent: &claims.sid };
    let ended = sign_in::end(&provider.db, apps, now).await?.count();
    let signs_out_browser = browser.is_some_and(|user| user.user_id == claims.sub && user.sign_in_id == claims.sid);
    tracing::info!(client_id = %client.id, ended, "signed out at the app's request");
    let answer = match back {
        Some(uri) => Answer::App(match param("state") {
            Some(state) => with_query(uri, &[("state", state)]),
            None => uri.to_owned(),
        }),
        None => Answer::Portal("/".into()),
    };
    Ok(Logout { answer, signs_out_browser })
}

/// The claims of an ID token this server signed for a registered app, expired or not; `None` for
/// anything else.
async fn verify_hint(provider: &Provider, token: &str, now: i64) -> Result<Option<IdTokenClaims>, Error> {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return Ok(None);
    };
    let Some(kid) = header.kid.filter(|_| header.typ.as_deref() == Some(ID_TOKEN_TYPE)) else {
        return Ok(None);
    };
    let Some(key) = provider.keys.find(&kid, now).await? else {
        return Ok(None);
    };
    let mut validation = Validation::new(key.alg);
    validation.set_issuer(&[provider.tokens.issuer()]);
    validation.set_required_spec_claims(&["iss", "aud", "sub"]);
    validation.validate_exp = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<IdTokenClaims>(token, &key.key, &validation).ok().map(|data| data.claims);
    Ok(claims.filter(|claims| provider.clients.get(&claims.aud).is_some()))
}
