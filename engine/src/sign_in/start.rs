//! Starting a sign-in: its row, made [`How`], and for a REST client its first tokens.

use proto::TokenPair;
use sqlx::AnyConnection;

use super::refresh;
use crate::base::error::Error;
use crate::base::types::{Caller, CredentialId, SignInId, SignInMethod, UserId};
use crate::db::Exec;
use crate::db::sign_ins::{self, SignInRow};
use crate::tokens::{SignInAt, TokenKeys};

/// How the user proved who they are.
#[derive(Debug, Clone, Copy)]
pub enum How<'a> {
    /// With this passkey: a passkey sign-up's first, or the one an operator's recovery link let
    /// them add. (A passkey sign-in writes its sign-in in its own batch, `db/passkey_sign_in.rs`.)
    Passkey(&'a CredentialId),
    /// With the password.
    Password,
    /// With the passkey a recovery link mailed to them let them add: proof of the mailbox only,
    /// never enough for a dangerous change ([`Recent`](super::Recent)).
    EmailLink(&'a CredentialId),
    /// An app redeemed an authorization code: the app's own sign-in, from the portal sign-in that
    /// answered its request, made when that one was.
    App {
        /// Its id, written on the code when the code was taken (a replay of the code ends it).
        id: &'a SignInId,
        /// The app.
        client_id: &'a str,
        /// The portal sign-in.
        parent: &'a SignInRow,
        /// The granted scopes, space-separated.
        scope: &'a str,
        /// When the user proved who they are (the authorization code's `auth_time`).
        auth_time: i64,
    },
}

/// Starts a sign-in of `user_id`, made `how`, by `caller` (its `User-Agent` and network are
/// recorded for the list of sign-ins; `None` for an app's server redeeming a code); returns it as
/// written.
pub async fn start(
    db: impl Exec<'_>,
    user_id: &UserId,
    how: How<'_>,
    caller: Option<&Caller>,
    now: i64,
) -> Result<SignInRow, Error> {
    let own = |method, passkey_id: Option<&CredentialId>| SignInRow {
        id: SignInId::generate(),
        user_id: user_id.clone(),
        method: Some(method),
        passkey_id: passkey_id.cloned(),
        auth_time: now,
        client_id: None,
        parent_id: None,
        scope: None,
        active: true,
        started_at: now,
    };
    let row = match how {
        How::Passkey(passkey) => own(SignInMethod::Passkey, Some(passkey)),
        How::Password => own(SignInMethod::Password, None),
        How::EmailLink(passkey) => own(SignInMethod::EmailLink, Some(passkey)),
        How::App { id, client_id, parent, scope, auth_time } => SignInRow {
            id: id.clone(),
            user_id: user_id.clone(),
            method: parent.method,
            passkey_id: parent.passkey_id.clone(),
            auth_time,
            client_id: Some(client_id.to_owned()),
            parent_id: Some(parent.id.clone()),
            scope: Some(scope.to_owned()),
            active: true,
            started_at: now,
        },
    };
    // An app's server redeems the code: the list of sign-ins names the app instead.
    let caller = caller.filter(|_| row.client_id.is_none());
    let network = caller.map(|caller| caller.address.network());
    sign_ins::insert(db, &row, caller.and_then(|c| c.user_agent.get()), network.as_deref(), now).await?;
    Ok(row)
}

/// Starts a sign-in for a REST client, on the connection of the change that made it: the sign-in,
/// its first refresh token, and the pair the client receives.
pub async fn start_with_tokens(
    conn: &mut AnyConnection,
    keys: &TokenKeys,
    user_id: &UserId,
    how: How<'_>,
    caller: &Caller,
    now: i64,
) -> Result<TokenPair, Error> {
    let sign_in = start(&mut *conn, user_id, how, Some(caller), now).await?;
    let refresh = refresh::issue(&mut *conn, keys, &sign_in, now).await?;
    keys.token_pair(user_id, &SignInAt { id: sign_in.id, auth_time: sign_in.auth_time }, refresh, now)
}
