//! The userinfo endpoint (OIDC Core §5.3): the signed-in user's claims for an app's access token,
//! limited to the scopes it was granted. Unlike an app verifying the token itself, this endpoint
//! also refuses a token whose sign-in has ended (signed out, revoked, or a replayed code).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Provider;
use super::error::{OAuthCode, OAuthError};
use super::has_scope;
use crate::accounts::claims;
use crate::base::types::UserId;
use crate::db::users::{self, UserRow};
use crate::db::{groups, sign_ins};

/// The claims userinfo answers with.
#[derive(Debug, Serialize, Deserialize)]
pub struct UserInfoClaims {
    /// The same `sub` as the ID token's.
    pub sub: UserId,
    /// What the granted scopes give.
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// What the `email` and `profile` scopes give an app about its user: the same in the ID token and
/// from userinfo.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProfileClaims {
    /// With `email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// With `email`: whether the user proved the address is theirs (the link or code mailed to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// With `profile`, when the user gave a name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// With `groups`: the names of the user's groups (an empty list when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// The custom claims of the user and their groups that the granted scopes release
    /// (`accounts/claims.rs`); their names never collide with the claims above.
    #[serde(flatten)]
    pub custom: Map<String, Value>,
}

impl ProfileClaims {
    /// `user`'s claims for the space-separated `scope`; `groups` are the user's (read only when
    /// [`ProfileClaims::needs_groups`]), `custom` the custom claims `scope` releases.
    pub fn of(user: &UserRow, scope: &str, groups: &[String], custom: Map<String, Value>) -> Self {
        let email = has_scope(scope, "email");
        Self {
            email: email.then(|| user.email.clone()),
            email_verified: email.then_some(user.email_verified_at.is_some()),
            name: if has_scope(scope, "profile") { user.name.clone() } else { None },
            groups: has_scope(scope, "groups").then(|| groups.to_vec()),
            custom,
        }
    }

    /// Whether the claims for `scope` name the user's groups.
    pub fn needs_groups(scope: &str) -> bool {
        has_scope(scope, "groups")
    }
}

/// `GET`/`POST /oidc/userinfo` with an app's access token.
pub async fn userinfo(provider: &Provider, token: Option<&str>, now: i64) -> Result<UserInfoClaims, OAuthError> {
    let refused = |why: &str| OAuthError::new(OAuthCode::InvalidToken, why);
    let token = token.ok_or_else(|| refused("send the access token as `Authorization: Bearer`"))?;
    let claims = provider
        .tokens
        .verify_app_access(token, now)
        .await
        .map_err(|_| refused("the access token is invalid or expired"))?;
    let sign_in = sign_ins::by_id(&provider.db, &claims.sid).await?;
    let live = sign_in.is_some_and(|s| s.active && s.client_id == claims.client_id && s.user_id == claims.sub);
    if !live || claims.client_id.as_deref().and_then(|id| provider.clients.get(id)).is_none() {
        return Err(refused("the sign-in this token belongs to has ended"));
    }
    let user = users::by_id(&provider.db, &claims.sub).await?.ok_or_else(|| refused("the account no longer exists"))?;
    let scope = claims.scope.as_deref().unwrap_or_default();
    let groups = if ProfileClaims::needs_groups(scope) {
        groups::names_of_user(&provider.db, &user.id).await?
    } else {
        Vec::new()
    };
    let custom = claims::for_tokens(&provider.db, &user.id, scope).await?;
    let profile = ProfileClaims::of(&user, scope, &groups, custom);
    Ok(UserInfoClaims { sub: user.id, profile })
}
