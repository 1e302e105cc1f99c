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
    /// Begun with `email`, which has no passkeys: its options listed that address's
    /// [stand-in ids](crate::passkeys::stand_in), which no authenticator holds; nothing completes it.
    StandIn {
        email: String,
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
                options.public_key.allow_credentials = rp.stand_ins.for_email(email.as_str())?;
                AuthenticationCeremony::StandIn { email: email.as_str().to_owned(), state }
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
    let (row, owner) = match passkeys::with_owner(&rp.db, &credential_id).await? {
        Some(found) => found,
        // A stand-in id is refused as a real passkey is, not as an id nobody has: that difference
        // would tell which addresses have passkeys.
        None if rp.stand_ins.made(credential.raw_id.as_ref()) => return Err(refuse_stand_in(rp, credential, ceremony)),
        None => return Err(Error::UnknownCredential),
    };
    let sign_in_id = SignInId::generate();
    let signed_in = Event::SignedIn { method: SignInMethod::Passkey, passkey: Some(&row.name) };
    let recorded = Recorded::new(&owner.id, signed_in, Some(caller), now);
    let network = caller.address.network();
    let write = SignInWrite { sign_in_id: &sign_in_id, refresh, recorded: &recorded, network: &network };
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
    network: &'a str,
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
    let answerer = Answerer::Owner { user_id: &row.user_id, handle: owner_handle.as_bytes() };
    whose(&ceremony, answerer, user_handle(credential))?;
    let mut passkey = stored_passkey(&row)?;
    let state = ceremony.into_state();
    // The one passkey allowed is the one that answered, checked above to be the right account's.
    let result = rp
        .webauthn
        .finish_discoverable_authentication(credential, state, &[DiscoverableKey::from(&passkey)])
        .map_err(authentication_error)?;
    // Told only to the passkey's holder, once the assertion proved it.
    if owner.disabled_at.is_some() {
        return Err(Error::AccountDisabled);
    }

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
        network: Some(write.network),
    };
    if !passkey_sign_in::record(&rp.db, &sign_in, now).await? {
        return Err(Error::PossibleClonedAuthenticator);
    }
    Ok(())
}

const NOT_ASKED_FOR: Error =
    Error::AuthenticationFailed("this passkey does not belong to the account that was asked for");

impl AuthenticationCeremony {
    fn into_state(self) -> DiscoverableAuthentication {
        match self {
            Self::Targeted { state, .. } | Self::Discoverable { state } | Self::StandIn { state, .. } => state,
        }
    }
}

/// Whose passkey answered a sign-in.
#[derive(Clone, Copy)]
enum Answerer<'a> {
    /// A real passkey: its owner's id and WebAuthn handle.
    Owner { user_id: &'a UserId, handle: &'a [u8] },
    /// A stand-in id, nobody's; `listed` when it is one the ceremony's own options named.
    StandIn { listed: bool },
}

/// The `userHandle` the authenticator answered with, if any.
fn user_handle(credential: &PublicKeyCredential) -> Option<&[u8]> {
    credential.response.user_handle.as_ref().map(|h| h.as_ref())
}

/// §7.2 step 6, before the signature is worth verifying: the passkey that answered must be one the
/// ceremony asked for, and a `userHandle` must be its owner's. A stand-in id counts as a passkey
/// of a pseudo-account that only the ceremony begun for its address asks for, so it gets every
/// answer a real passkey would in its place.
fn whose(ceremony: &AuthenticationCeremony, answerer: Answerer<'_>, user_handle: Option<&[u8]>) -> Result<(), Error> {
    let owners = |h: &[u8]| matches!(answerer, Answerer::Owner { handle, .. } if handle == h);
    if user_handle.is_some_and(|h| !owners(h)) {
        return Err(Error::AuthenticationFailed("the passkey answered for a different account"));
    }
    let asked_for = match ceremony {
        AuthenticationCeremony::Targeted { user_id, .. } => {
            matches!(answerer, Answerer::Owner { user_id: owner, .. } if owner == user_id)
        }
        AuthenticationCeremony::StandIn { .. } => matches!(answerer, Answerer::StandIn { listed: true }),
        AuthenticationCeremony::Discoverable { .. } if user_handle.is_none() => {
            return Err(Error::AuthenticationFailed("the authenticator did not say which account it signed in"));
        }
        AuthenticationCeremony::Discoverable { .. } => true,
    };
    if asked_for { Ok(()) } else { Err(NOT_ASKED_FOR) }
}

/// The refusal of a stand-in id: what [`whose`] says; for the ceremony begun for its address,
/// webauthn-rs's verdict against a passkey nobody can sign for, so the answer depends on the
/// response's checks (challenge, origin, flags, signature) exactly as a real passkey's does.
fn refuse_stand_in(rp: &RelyingParty, credential: &PublicKeyCredential, ceremony: AuthenticationCeremony) -> Error {
    let id = credential.raw_id.as_ref();
    let listed = match &ceremony {
        AuthenticationCeremony::StandIn { email, .. } => match rp.stand_ins.listed(email, id) {
            Ok(listed) => listed,
            Err(error) => return error,
        },
        _ => false,
    };
    if let Err(refused) = whose(&ceremony, Answerer::StandIn { listed }, user_handle(credential)) {
        return refused;
    }
    let passkey = match rp.stand_ins.passkey(id) {
        Ok(passkey) => passkey,
        Err(error) => return error,
    };
    let keys = [DiscoverableKey::from(&passkey)];
    let verdict = rp.webauthn.finish_discoverable_authentication(credential, ceremony.into_state(), &keys);
    verdict.err().map_or(NOT_ASKED_FOR, authentication_error)
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
