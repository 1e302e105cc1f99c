//! Authentication (§7.2): a passkey sign-in, targeted at an account's passkeys or discoverable
//! (the button and autofill), for an API client or for the portal. The steps are narrated in
//! [`super`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::PublicKeyCredential;
use webauthn_rs::prelude::{DiscoverableAuthentication, DiscoverableKey, Uuid, WebauthnError};
use webauthn_rs_proto::{AllowCredentials, AuthenticatorTransport};

use proto::TokenPair;

use super::{challenge_of, client_owner, known_transports, store_ceremony, stored_passkey, take_ceremony};
use crate::accounts::user_info;
use crate::base::error::Error;
use crate::base::measure;
use crate::base::types::{Caller, ClientAddr, CredentialId, Email, SignInId, UserId};
use crate::db::passkey_sign_in::{self, PasskeySignIn};
use crate::db::passkeys::{self, PasskeyRow};
use crate::db::users::UserRow;
use crate::notify::activity::{Event, Recorded};
use crate::notify::change::Hook;
use crate::notify::hooks::SignInMethod;
use crate::passkeys::RelyingParty;
use crate::tokens::{NewRefreshToken, SignInAt};

/// What *begin* of a sign-in leaves for *complete*. Its size does not depend on the account: a
/// targeted ceremony keeps the account's id, not its passkeys (they are read again at *complete*,
/// where only the one that answered is needed), so an account built with many heavy passkeys cannot
/// make each anonymous *begin* store its weight.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum AuthenticationCeremony {
    Targeted {
        user_id: UserId,
        state: DiscoverableAuthentication,
    },
    Discoverable {
        state: DiscoverableAuthentication,
    },
    /// Begun with an email that has no passkeys: its options listed [stand-in ids](crate::passkeys::stand_in),
    /// which no authenticator holds, and no passkey completes it.
    StandIn {
        state: DiscoverableAuthentication,
    },
}

/// Authentication step 1: request options for a client at `client` — targeted at `email`'s
/// passkeys when it has any, naming stand-in ids when it has none (so the answer does not tell
/// whether the address has an account with passkeys), discoverable without an email.
pub async fn start_authentication(
    rp: &RelyingParty,
    email: Option<&str>,
    client: ClientAddr,
) -> Result<serde_json::Value, Error> {
    let email = email.filter(|e| !e.trim().is_empty()).map(Email::parse).transpose()?;
    let mut rows = match &email {
        Some(email) => passkeys::of_email(&rp.db, email.as_str()).await?,
        None => Vec::new(),
    };
    // An account has at most this many (registration's cap); an operator who lowered the cap since
    // does not get longer lists than it says.
    rows.truncate(rp.max_passkeys);

    let (mut options, state) = rp.webauthn.start_discoverable_authentication().map_err(Error::internal)?;
    let ceremony = match rows.first() {
        Some(first) => {
            // The allow list names the passkeys (and how the browser may reach them); the state
            // kept is the discoverable one, which checks the same things once *complete* names the
            // one passkey that answered.
            options.public_key.allow_credentials = rows.iter().filter_map(allowed).collect();
            AuthenticationCeremony::Targeted { user_id: first.user_id.clone(), state }
        }
        None => match &email {
            Some(email) => {
                options.public_key.allow_credentials = rp.stand_ins.for_email(email);
                AuthenticationCeremony::StandIn { state }
            }
            None => AuthenticationCeremony::Discoverable { state },
        },
    };
    let challenge = URL_SAFE_NO_PAD.encode(options.public_key.challenge.as_ref());
    store_ceremony(rp, &authentication_key(&challenge), &client_owner(client), &ceremony).await?;
    measure::ceremony_begun(measure::Ceremony::Authentication);
    serde_json::to_value(&options.public_key).map_err(Error::internal)
}

/// Authentication step 3 for API clients: verifies the assertion and returns the first token pair of
/// a new sign-in. The passkey's use, the sign-in and its first refresh token are written together.
pub async fn finish_authentication(
    rp: &RelyingParty,
    credential: &PublicKeyCredential,
    caller: &Caller,
    now: i64,
) -> Result<TokenPair, Error> {
    let refresh = rp.tokens.new_refresh_token(now);
    let signed_in = verify_and_record(rp, credential, Some(&refresh), caller, now).await?;
    let sign_in = SignInAt { id: signed_in.sign_in_id, auth_time: now };
    rp.tokens.token_pair(&signed_in.user.id, &sign_in, refresh, now)
}

/// Authentication step 3 for the portal: verifies the assertion and returns the owner with the new
/// sign-in for the browser session to hold.
pub async fn finish_browser_authentication(
    rp: &RelyingParty,
    credential: &PublicKeyCredential,
    caller: &Caller,
    now: i64,
) -> Result<SignedIn, Error> {
    verify_and_record(rp, credential, None, caller, now).await
}

/// A verified passkey sign-in.
pub struct SignedIn {
    /// The passkey's owner.
    pub user: UserRow,
    /// The sign-in it started (sign-out ends it).
    pub sign_in_id: SignInId,
    /// The passkey it was made with.
    pub passkey_id: CredentialId,
}

/// Verifies an assertion against its ceremony and records the sign-in; a known passkey whose
/// answer does not verify is a failed sign-in in its owner's activity.
async fn verify_and_record(
    rp: &RelyingParty,
    credential: &PublicKeyCredential,
    refresh: Option<&NewRefreshToken>,
    caller: &Caller,
    now: i64,
) -> Result<SignedIn, Error> {
    let verified = verify_and_record_once(rp, credential, refresh, caller, now).await;
    measure::ceremony_ended(measure::Ceremony::Authentication, verified.as_ref().err().map(Error::code));
    verified
}

async fn verify_and_record_once(
    rp: &RelyingParty,
    credential: &PublicKeyCredential,
    refresh: Option<&NewRefreshToken>,
    caller: &Caller,
    now: i64,
) -> Result<SignedIn, Error> {
    let challenge = challenge_of(credential.response.client_data_json.as_ref())?;
    let ceremony: AuthenticationCeremony = take_ceremony(rp, &authentication_key(&challenge)).await?;

    let credential_id = CredentialId::new(URL_SAFE_NO_PAD.encode(credential.raw_id.as_ref()));
    let (row, owner) = passkeys::with_owner(&rp.db, &credential_id).await?.ok_or(Error::UnknownCredential)?;
    let sign_in_id = SignInId::generate();
    let signed_in = Event::SignedIn { method: SignInMethod::Passkey, passkey: Some(&row.name) };
    let recorded = Recorded::new(&owner.id, signed_in, Some(caller), now);
    let write = SignInWrite { sign_in_id: &sign_in_id, refresh, recorded: &recorded };
    match verify_and_write(rp, credential, ceremony, row, &owner, write, now).await {
        Ok(()) => {}
        Err(error @ (Error::AuthenticationFailed(_) | Error::PossibleClonedAuthenticator)) => {
            let mut change = rp.notify.change(now).await?;
            change.record(&owner.id, Event::SignInFailed { method: SignInMethod::Passkey }, Some(caller)).await?;
            change.commit().await?;
            return Err(error);
        }
        Err(error) => return Err(error),
    }
    // The sign-in and its record were written together; now the hooks hear of them.
    let mut then = rp.notify.consequences();
    then.recorded(recorded);
    then.after(Hook::SignedIn(user_info(&owner), SignInMethod::Passkey));
    then.follow().await;
    Ok(SignedIn { user: owner, sign_in_id, passkey_id: credential_id })
}

/// What a verified assertion writes besides the passkey's use.
struct SignInWrite<'a> {
    sign_in_id: &'a SignInId,
    refresh: Option<&'a NewRefreshToken>,
    recorded: &'a Recorded,
}

/// The checks of [`verify_and_record`] once the passkey and its owner are known, and the write of
/// the passkey's use with the new sign-in and its record, in one batch.
async fn verify_and_write(
    rp: &RelyingParty,
    credential: &PublicKeyCredential,
    ceremony: AuthenticationCeremony,
    row: PasskeyRow,
    owner: &UserRow,
    write: SignInWrite<'_>,
    now: i64,
) -> Result<(), Error> {
    let owner_handle = Uuid::parse_str(&owner.webauthn_handle).map_err(Error::internal)?;
    let user_handle = credential.response.user_handle.as_ref().map(|h| h.as_ref());
    if user_handle.is_some_and(|h| h != owner_handle.as_bytes()) {
        return Err(Error::AuthenticationFailed("the passkey answered for a different account"));
    }

    let mut passkey = stored_passkey(&row)?;
    let not_asked_for = Error::AuthenticationFailed("this passkey does not belong to the account that was asked for");
    let state = match ceremony {
        AuthenticationCeremony::Targeted { user_id, state } => {
            if user_id != row.user_id {
                return Err(not_asked_for);
            }
            state
        }
        // The answer a targeted ceremony gives another account's passkey: a stranger learns no more
        // by completing than by beginning.
        AuthenticationCeremony::StandIn { .. } => return Err(not_asked_for),
        AuthenticationCeremony::Discoverable { state } => {
            if user_handle.is_none() {
                return Err(Error::AuthenticationFailed("the authenticator did not say which account it signed in"));
            }
            state
        }
    };
    // The one passkey allowed is the one that answered, checked above to be the right account's.
    let result = rp
        .webauthn
        .finish_discoverable_authentication(credential, state, &[DiscoverableKey::from(&passkey)])
        .map_err(authentication_error)?;

    passkey.update_credential(&result);
    let updated = PasskeyRow {
        passkey: serde_json::to_string(&passkey).map_err(Error::internal)?,
        sign_count: i64::from(result.counter()),
        backed_up: result.backup_state(),
        ..row
    };
    let sign_in = PasskeySignIn {
        updated: &updated,
        sign_in_id: write.sign_in_id,
        refresh_token: write.refresh.map(|r| (r.hash.as_str(), r.expires_at)),
        activity: write.recorded.row(),
    };
    if !passkey_sign_in::record(&rp.db, &sign_in, now).await? {
        return Err(Error::PossibleClonedAuthenticator);
    }
    Ok(())
}

/// A passkey as a targeted ceremony's options list it: its id, and the transports its browser
/// reported at registration (known values, each once).
fn allowed(row: &PasskeyRow) -> Option<AllowCredentials> {
    let id = URL_SAFE_NO_PAD.decode(row.credential_id.as_str()).ok()?;
    let reported: Vec<AuthenticatorTransport> = serde_json::from_str(&row.transports).unwrap_or_default();
    Some(AllowCredentials {
        type_: "public-key".into(),
        id: id.into(),
        transports: Some(known_transports(&reported)).filter(|known| !known.is_empty()),
    })
}

fn authentication_key(challenge: &str) -> String {
    format!("auth:{challenge}")
}

fn authentication_error(err: WebauthnError) -> Error {
    tracing::info!(error = %err, "passkey sign-in refused");
    match err {
        WebauthnError::CredentialPossibleCompromise => Error::PossibleClonedAuthenticator,
        WebauthnError::UserNotVerified => {
            Error::AuthenticationFailed("user verification (PIN or biometrics) is required")
        }
        WebauthnError::UserNotPresent => Error::AuthenticationFailed("user presence is required"),
        WebauthnError::InvalidRPOrigin => {
            Error::AuthenticationFailed("the request came from an origin this site does not accept")
        }
        WebauthnError::CredentialCrossOrigin => {
            Error::AuthenticationFailed("cross-origin (embedded) requests are not accepted")
        }
        WebauthnError::InvalidRPIDHash => Error::AuthenticationFailed("the passkey is for a different site"),
        WebauthnError::InvalidClientDataType => Error::AuthenticationFailed("the response is not a sign-in"),
        WebauthnError::MismatchedChallenge => Error::AuthenticationFailed("the response answers a different request"),
        WebauthnError::CredentialNotFound => {
            Error::AuthenticationFailed("this passkey does not belong to the account that was asked for")
        }
        _ => Error::AuthenticationFailed("the passkey's signature could not be verified"),
    }
}
