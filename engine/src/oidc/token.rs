//! The token endpoint (RFC 6749 §3.2, OIDC Core §3.1.3) and token revocation (RFC 7009).
//!
//! An app's server authenticates (`client_secret_basic`, `client_secret_post`, or `none` for a
//! public client) and exchanges a code (`authorization_code`) or a refresh token (`refresh_token`).
//! Redeeming a code starts the app's own sign-in, continued by its refresh tokens (rotating, single
//! use; a reused one ends the sign-in, as for the REST API). Every response carries an ID token
//! signed with the app's algorithm (RS256 or ES256) and an access token that names the app in `aud`,
//! which the account API refuses.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Provider;
use super::codes::{self, Exchange, Grant};
use super::error::{OAuthCode, OAuthError};
use super::params::Params;
use super::userinfo::ProfileClaims;
use super::{has_scope, known_scopes};
use crate::accounts::claims;
use crate::base::error::Error;
use crate::base::measure;
use crate::base::types::{SignInId, UserId};
use crate::db::Exec;
use crate::db::sign_ins::{self, SignInRow};
use crate::db::users::{self, UserRow};
use crate::db::{groups, refresh_tokens};
use crate::notify::change::Change;
use crate::sign_in::{self, How, Which, refresh};
use crate::tokens::SignInAt;
use crate::tokens::clients::Client;
use crate::tokens::secret::stored_hash;

/// The `typ` header of ID tokens (access tokens carry `at+jwt`, so neither passes for the other).
pub const ID_TOKEN_TYPE: &str = "JWT";

/// A request to the token or revocation endpoint: its form parameters and `Authorization` header.
#[derive(Debug)]
pub struct ClientRequest<'a> {
    /// The `application/x-www-form-urlencoded` body.
    pub params: &'a [(String, String)],
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a str>,
}

/// The token endpoint's answer (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    /// For the userinfo endpoint (and the app's own APIs, `aud` = the app).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// The access token's lifetime in seconds.
    pub expires_in: i64,
    /// Who signed in, for the app.
    pub id_token: String,
    /// With `offline_access` only: single use, rotating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The granted scopes.
    pub scope: String,
}

/// The claims of an ID token (OIDC Core §2, §5.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// The issuer.
    pub iss: String,
    /// The user: stable and opaque (the account's random id).
    pub sub: UserId,
    /// The app (`client_id`).
    pub aud: String,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// When the user proved who they are.
    pub auth_time: i64,
    /// The authorization request's `nonce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// How (RFC 8176): `pwd`, or `pop` + `mfa` for a passkey.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// `phr` (phishing-resistant) for a passkey sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// The portal sign-in the app's sign-in came from (what RP-initiated logout ends).
    pub sid: SignInId,
    /// The left half of the access token's SHA-256, base64url (OIDC Core §3.1.3.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// What the `email` and `profile` scopes give.
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// The parameters the token and revocation endpoints read.
const PARAMETERS: [&str; 10] = [
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
    "token",
    "token_type_hint",
];

/// The request's parameters, refused when one was sent twice (RFC 6749 §3.2).
fn read(pairs: &[(String, String)]) -> Result<Params<'_>, OAuthError> {
    let params = Params::new(pairs);
    match params.repeated_refusal(&PARAMETERS) {
        Some(refusal) => Err(invalid_request(refusal)),
        None => Ok(params),
    }
}

/// The value of `name`, or `invalid_request` naming it.
fn require<'a>(params: &Params<'a>, name: &str) -> Result<&'a str, OAuthError> {
    params.get(name).ok_or_else(|| invalid_request(format!("`{name}` is missing")))
}

/// `POST /oidc/token`.
pub async fn token(provider: &Provider, request: &ClientRequest<'_>, now: i64) -> Result<TokenResponse, OAuthError> {
    let params = read(request.params)?;
    let client = authenticate(provider, &params, request.authorization, now).await?;
    match require(&params, "grant_type")? {
        "authorization_code" => {
            let issued = redeem_code(provider, &client, &params, now).await?;
            measure::tokens_issued(measure::Client::App);
            Ok(issued)
        }
        "refresh_token" => {
            let refreshed = refresh(provider, &client, &params, now).await?;
            measure::token_refreshed(measure::Client::App);
            Ok(refreshed)
        }
        // Never the value itself: the app may show the description (docs/security.md).
        _ => Err(OAuthError::new(
            OAuthCode::UnsupportedGrantType,
            "grant_type takes authorization_code or refresh_token",
        )),
    }
}

/// `POST /oidc/revoke` (RFC 7009): ends the sign-in of a refresh token or access token issued to
/// the calling app. An unknown token, or one issued to another app, changes nothing and gets the
/// same empty 200 (§2.2), so a client learns nothing about tokens that are not its own.
pub async fn revoke(provider: &Provider, request: &ClientRequest<'_>, now: i64) -> Result<(), OAuthError> {
    let params = read(request.params)?;
    let client = authenticate(provider, &params, request.authorization, now).await?;
    let token = require(&params, "token")?;
    let sign_in_id = match refresh_tokens::sign_in_of(&provider.db, &stored_hash(token)).await? {
        Some(id) => Some(id),
        None => provider.tokens.verify_app_access(token, now).await.ok().map(|claims| claims.sid),
    };
    if let Some(id) = sign_in_id {
        let sign_in = sign_ins::by_id(&provider.db, &id).await?;
        if sign_in.is_some_and(|s| s.client_id.as_deref() == Some(&client.id)) {
            sign_in::end(&provider.db, Which::One(&id), now).await?;
        }
    }
    Ok(())
}

/// RFC 6749 §2.3.1: HTTP Basic (id and secret form-urlencoded, then base64) or the body's
/// `client_id` + `client_secret`, never both; a public client sends its `client_id` alone.
async fn authenticate(
    provider: &Provider,
    params: &Params<'_>,
    authorization: Option<&str>,
    now: i64,
) -> Result<Arc<Client>, OAuthError> {
    let basic = authorization.map(basic_credentials).transpose()?;
    let (client_id, secret) = match (basic, params.get("client_id"), params.get("client_secret")) {
        (Some(_), _, Some(_)) => return Err(invalid_request("use one client authentication method, not two")),
        (Some((id, _)), Some(body_id), None) if id != body_id => {
            return Err(invalid_request("client_id differs from the Authorization header's"));
        }
        (Some((id, secret)), _, None) => (id, Some(secret)),
        (None, Some(id), secret) => (id.to_owned(), secret.map(str::to_owned)),
        (None, None, _) => return Err(invalid_client("the client did not say who it is")),
    };
    provider
        .clients
        .authenticate(&provider.client_hashing, &client_id, secret.as_deref(), now)
        .await?
        .ok_or_else(|| invalid_client("unknown client, or wrong or missing client secret"))
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn basic_credentials(header: &str) -> Result<(String, String), OAuthError> {
    let malformed = || invalid_client("the Authorization header is not Basic client credentials");
    let (scheme, encoded) = header.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded =
        String::from_utf8(STANDARD.decode(encoded.trim()).map_err(|_| malformed())?).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    Ok((form_decode(id).ok_or_else(malformed)?, form_decode(secret).ok_or_else(malformed)?))
}

/// One `application/x-www-form-urlencoded` component (`+` is a space, `%XX` a byte); a raw `&`
/// cannot be part of one.
fn form_decode(component: &str) -> Option<String> {
    if component.contains('&') {
        return None;
    }
    let pair = format!("v={component}");
    url::form_urlencoded::parse(pair.as_bytes()).next().map(|(_, value)| value.into_owned())
}

async fn redeem_code(
    provider: &Provider,
    client: &Client,
    params: &Params<'_>,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let exchange = Exchange {
        code: require(params, "code")?,
        client_id: &client.id,
        redirect_uri: require(params, "redirect_uri")?,
        code_verifier: params.get("code_verifier"),
    };
    let mut change = provider.notify.change(now).await?;
    // A refused code is used up (and a replay's sign-in ended) all the same: the change commits
    // either way. A store that fails rolls it back.
    let started = start_app_sign_in(&mut change, provider, client, &exchange, now).await?;
    change.commit().await?;
    let Started { user, sign_in, grant, refresh_token, groups } = started?;
    let custom = claims::for_tokens(&provider.db, &user.id, &grant.scope).await?;
    let profile = ProfileClaims::of(&user, &grant.scope, &groups, custom);
    respond(provider, client, &user, &sign_in, &grant.scope, grant.nonce, refresh_token, profile, now)
}

/// What a redeemed code started: the app's sign-in and its first refresh token.
struct Started {
    user: UserRow,
    sign_in: SignInRow,
    grant: Grant,
    refresh_token: Option<String>,
    groups: Vec<String>,
}

/// Takes the code and, when it is good, records the app's sign-in (and its first refresh token) in
/// `change`. The outer error is the store's; the inner one refuses the code.
async fn start_app_sign_in(
    change: &mut Change<'_>,
    provider: &Provider,
    client: &Client,
    exchange: &Exchange<'_>,
    now: i64,
) -> Result<Result<Started, OAuthError>, Error> {
    let app_sign_in = SignInId::generate();
    let grant = match codes::redeem(change.db(), exchange, &app_sign_in, now).await? {
        Ok(grant) => grant,
        Err(refusal) => {
            tracing::info!(client_id = %client.id, %refusal, "authorization code refused");
            return Ok(Err(invalid_grant(refusal.to_string())));
        }
    };
    let Some(portal) = sign_ins::by_id(change.db(), &grant.sign_in_id).await?.filter(|s| s.active) else {
        return Ok(Err(invalid_grant("the sign-in this code came from has ended")));
    };
    let Some(user) = users::by_id(change.db(), &grant.user_id).await? else {
        return Ok(Err(invalid_grant("the account no longer exists")));
    };
    let groups = groups_for(change.db(), client, &grant.scope, &user.id).await?;
    if !client.admits(&groups) {
        return Ok(Err(invalid_grant("the account is in none of the groups this app allows")));
    }
    let app = How::App {
        id: &app_sign_in,
        client_id: &client.id,
        parent: &portal,
        scope: &grant.scope,
        auth_time: grant.auth_time,
    };
    let sign_in = sign_in::start(change.db(), &user.id, app, None, now).await?;
    let refresh_token = issue_refresh_token(change.db(), provider, &sign_in, now).await?;
    Ok(Ok(Started { user, sign_in, grant, refresh_token, groups }))
}

/// The user's groups, read only when the tokens name them (scope `groups`) or the app allows only
/// some groups: most exchanges and refreshes cost no extra statement.
async fn groups_for(db: impl Exec<'_>, client: &Client, scope: &str, user: &UserId) -> Result<Vec<String>, Error> {
    if ProfileClaims::needs_groups(scope) || !client.allowed_groups.is_empty() {
        Ok(groups::names_of_user(db, user).await?)
    } else {
        Ok(Vec::new())
    }
}

/// A sign-in granted `offline_access` is continued by refresh tokens: the next one, stored.
async fn issue_refresh_token(
    db: impl Exec<'_>,
    provider: &Provider,
    sign_in: &SignInRow,
    now: i64,
) -> Result<Option<String>, Error> {
    if !sign_in.scope.as_deref().is_some_and(|granted| has_scope(granted, "offline_access")) {
        return Ok(None);
    }
    Ok(Some(refresh::issue(db, &provider.tokens, sign_in, now).await?.token))
}

/// The refresh grant. The token's sign-in is read first, so a request the app got wrong (another
/// client's token, more scope than was granted) is refused without using the token up; then the
/// token is used up in one statement (a concurrent use, or a reuse, ends the sign-in).
async fn refresh(
    provider: &Provider,
    client: &Client,
    params: &Params<'_>,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let token = require(params, "refresh_token")?;
    let unusable = || invalid_grant("the refresh token is invalid, expired or already used");
    let issued_for = match refresh_tokens::sign_in_of(&provider.db, &stored_hash(token)).await? {
        Some(id) => sign_ins::by_id(&provider.db, &id).await?,
        None => None,
    };
    let Some(issued_for) = issued_for else {
        return Err(unusable());
    };
    if issued_for.client_id.as_deref() != Some(&client.id) {
        // Whoever holds another's refresh token has a leaked one: end what it continues.
        tracing::warn!(client_id = %client.id, sign_in_id = %issued_for.id, "refresh token of another client; ending its sign-in");
        sign_in::end(&provider.db, Which::One(&issued_for.id), now).await?;
        return Err(invalid_grant("the refresh token was not issued to this client"));
    }
    let granted = issued_for.scope.unwrap_or_default();
    let scope = match params.get("scope") {
        None => granted,
        Some(asked) => {
            let asked: Vec<&str> = asked.split_ascii_whitespace().collect();
            if asked.iter().any(|scope| !has_scope(&granted, scope)) {
                return Err(OAuthError::new(
                    OAuthCode::InvalidScope,
                    "a refresh cannot add scopes to what was granted",
                ));
            }
            known_scopes(|known| asked.contains(&known))
        }
    };
    let max_age = provider.config.tokens.session_max_age;
    let sign_in = refresh::take(&provider.db, token, max_age, now).await?.ok_or_else(unusable)?;
    let user = account(provider, &sign_in.user_id).await?;
    let groups = groups_for(&provider.db, client, &scope, &user.id).await?;
    if !client.admits(&groups) {
        // Out of every group the app allows since it signed in: its sign-in ends here.
        sign_in::end(&provider.db, Which::One(&sign_in.id), now).await?;
        return Err(invalid_grant("the account is in none of the groups this app allows"));
    }
    let refresh_token = issue_refresh_token(&provider.db, provider, &sign_in, now).await?;
    let custom = claims::for_tokens(&provider.db, &user.id, &scope).await?;
    let profile = ProfileClaims::of(&user, &scope, &groups, custom);
    respond(provider, client, &user, &sign_in, &scope, None, refresh_token, profile, now)
}

async fn account(provider: &Provider, user_id: &UserId) -> Result<UserRow, OAuthError> {
    users::by_id(&provider.db, user_id).await?.ok_or_else(|| invalid_grant("the account no longer exists"))
}

/// The tokens of an app's sign-in: an access token and an ID token with `scope`, with the
/// refresh token already stored for it (when it was granted `offline_access`). No SQL: minting only.
#[allow(clippy::too_many_arguments)] // the parts of one answer
fn respond(
    provider: &Provider,
    client: &Client,
    user: &UserRow,
    sign_in: &SignInRow,
    scope: &str,
    nonce: Option<String>,
    refresh_token: Option<String>,
    profile: ProfileClaims,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let at = SignInAt { id: sign_in.id.clone(), auth_time: sign_in.auth_time };
    let access_token =
        provider.tokens.sign_app_access(&user.id, &at, &client.id, scope, profile.groups.as_deref(), now)?;
    let claims = IdTokenClaims {
        iss: provider.tokens.issuer().to_owned(),
        sub: user.id.clone(),
        aud: client.id.clone(),
        exp: now.saturating_add(provider.tokens.access_ttl()),
        iat: now,
        auth_time: sign_in.auth_time,
        nonce,
        amr: sign_in.method.map(|m| m.amr().iter().map(|&v| v.to_owned()).collect()).unwrap_or_default(),
        acr: sign_in.method.and_then(|m| m.acr()).map(str::to_owned),
        sid: sign_in.parent_id.clone().unwrap_or_else(|| sign_in.id.clone()),
        at_hash: Some(token_hash(&access_token)),
        profile,
    };
    let id_token = provider.keys.sign(client.id_token_alg, ID_TOKEN_TYPE, &claims)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: provider.tokens.access_ttl(),
        id_token,
        refresh_token,
        scope: scope.to_owned(),
    })
}

/// `at_hash`: base64url of the left half of the SHA-256 of the token (RS256 and ES256 both hash
/// with SHA-256).
fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

fn invalid_request(description: impl Into<String>) -> OAuthError {
    OAuthError::new(OAuthCode::InvalidRequest, description)
}

fn invalid_client(description: impl Into<String>) -> OAuthError {
    OAuthError::new(OAuthCode::InvalidClient, description)
}

fn invalid_grant(description: impl Into<String>) -> OAuthError {
    OAuthError::new(OAuthCode::InvalidGrant, description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20app:s%3Acret+x"));
        assert_eq!(basic_credentials(&header).unwrap(), ("my app".to_owned(), "s:cret x".to_owned()));
        for bad in ["Bearer abc", "Basic !!!", &format!("Basic {}", STANDARD.encode("no-colon"))] {
            assert_eq!(basic_credentials(bad).unwrap_err().code, OAuthCode::InvalidClient, "{bad}");
        }
    }

    #[test]
    fn at_hash_matches_the_oidc_example() {
        // OpenID Connect Core 1.0, Appendix A.3: the access token of the example and its at_hash.
        assert_eq!(token_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
    }

    #[test]
    fn a_parameter_may_come_once() {
        let pairs = vec![("code".to_owned(), "a".to_owned()), ("code".to_owned(), "b".to_owned())];
        assert_eq!(read(&pairs).err().map(|e| e.code), Some(OAuthCode::InvalidRequest));
    }
}
