//! Refresh tokens: opaque, single use, rotating, each belonging to one sign-in; only their SHA-256
//! is stored. Each use consumes its token and issues the next one of the same sign-in; a token
//! presented after it was used means it was copied, so its whole sign-in ends (RFC 9700 §4.14.2).

use proto::TokenPair;

use std::time::Duration;

use super::{Which, end, past_max_age};
use crate::base::error::Error;
use crate::base::measure;
use crate::db::refresh_tokens;
use crate::db::sign_ins::SignInRow;
use crate::db::{Db, Exec};
use crate::tokens::secret::stored_hash;
use crate::tokens::{NewRefreshToken, SignInAt, TokenKeys};

/// Makes and stores the next refresh token of `sign_in`; the secret is for the client only.
pub async fn issue(
    db: impl Exec<'_>,
    keys: &TokenKeys,
    sign_in: &SignInRow,
    now: i64,
) -> Result<NewRefreshToken, Error> {
    let refresh = keys.new_refresh_token(now);
    refresh_tokens::insert(db, &refresh.hash, &sign_in.id, &sign_in.user_id, refresh.expires_at, now).await?;
    Ok(refresh)
}

/// Uses up a refresh token and returns its sign-in, if the token was unused and unexpired and its
/// sign-in is still going and younger than `max_age` (`LATCHKEY_SESSION_MAX_AGE_SECS`: a refreshed
/// sign-in does not live for ever). A token used twice means it was copied: its whole sign-in ends.
pub async fn take(db: &Db, token: &str, max_age: Duration, now: i64) -> Result<Option<SignInRow>, Error> {
    let hash = stored_hash(token);
    let Some(used) = refresh_tokens::take(db, &hash, now).await? else {
        if let Some(sign_in_id) = refresh_tokens::sign_in_of(db, &hash).await? {
            tracing::warn!(%sign_in_id, "refresh token reused; ending its sign-in");
            measure::refresh_token_reused();
            end(db, Which::One(&sign_in_id), now).await?;
        }
        return Ok(None);
    };
    let usable = used.expires_at > now && used.sign_in.active && !past_max_age(max_age, used.sign_in.started_at, now);
    Ok(usable.then_some(used.sign_in))
}

/// `POST /auth/refresh`: uses up a refresh token of the REST API and returns the next pair of its
/// sign-in. A token issued to an OpenID Connect app is refused (and used up): it must never become
/// a token for the account API.
pub async fn rotate(db: &Db, keys: &TokenKeys, token: &str, max_age: Duration, now: i64) -> Result<TokenPair, Error> {
    let sign_in = take(db, token, max_age, now).await?.ok_or(Error::InvalidRefreshToken)?;
    if sign_in.client_id.is_some() {
        tracing::warn!(sign_in_id = %sign_in.id, "an app's refresh token was sent to /auth/refresh; refused");
        return Err(Error::InvalidRefreshToken);
    }
    let next = issue(db, keys, &sign_in, now).await?;
    let pair =
        keys.token_pair(&sign_in.user_id, &SignInAt { id: sign_in.id, auth_time: sign_in.auth_time }, next, now)?;
    measure::token_refreshed(measure::Client::Api);
    Ok(pair)
}
