//! The WebAuthn ceremonies: [`start_registration`], [`finish_registration`], [`start_authentication`]
//! and [`finish_authentication`] (with [`start_sign_up`], the registration that creates its account,
//! and [`finish_browser_authentication`], the portal's form, which starts a sign-in for the browser
//! session instead of handing out tokens). Section numbers are from WebAuthn Level 3 (W3C); rule
//! numbers are the ceremony rules of docs/api.md.
//!
//! # Registration (§7.1)
//! 1. *begin* (signed-in user): webauthn-rs makes `PublicKeyCredentialCreationOptions` (§5.4) with a
//!    fresh 32-byte challenge, `userVerification: "required"` and the user's existing credentials in
//!    `excludeCredentials`. This file asks for `residentKey: "preferred"` (discoverable passkeys where
//!    the authenticator can) and adds EdDSA to the algorithms. The state is stored in the challenge
//!    store under `reg:<user id>:<challenge>`, which binds it to the user who began it (rule 2).
//! 2. The browser calls `navigator.credentials.create()` and sends back `toJSON()` of the result.
//! 3. *complete*: this file reads the challenge out of `clientDataJSON` and **takes** the state (atomic,
//!    single use, TTL: rule 1); a state begun by another user is simply not found under this user's key.
//!    webauthn-rs then checks (§7.1 steps 5–26): `type` is `webauthn.create`, the challenge matches,
//!    the origin is one of the configured origins exactly, `crossOrigin` is not true, rpIdHash is
//!    SHA-256(rp id), UP and UV are set, the algorithm was offered, and parses the public key. This
//!    file then stores the credential; the UNIQUE credential ID makes a second registration of the
//!    same credential (by anyone) a 409 that leaves the existing row untouched (§7.1 step 22, rule 4).
//!
//! # Authentication (§7.2)
//! 1. *begin*: with an email, `allowCredentials` lists that user's passkeys (a *targeted* ceremony);
//!    without one (or when the email has no passkeys), it is empty and the authenticator offers its
//!    discoverable credentials (a *discoverable* ceremony, also used for autofill). The state is stored
//!    under `auth:<challenge>`, so the REST flow needs no cookie.
//! 2. The browser calls `navigator.credentials.get()`.
//! 3. *complete*: the state is taken (rule 1); the credential is looked up by its ID (unknown → 401).
//!    This file enforces §7.2 step 6: in a targeted ceremony the credential must belong to the user
//!    begin named; a `userHandle`, when present, must be the owner's handle; a discoverable response
//!    must carry one (rule 5); `crossOrigin: true` is refused (webauthn-rs 0.5 checks it only when
//!    registering). webauthn-rs checks the credential is allowed, `type`, challenge, origin, rpIdHash, UP and UV, the signature over `authenticatorData || SHA-256(clientDataJSON)`,
//!    and that a non-zero signature counter increased (§7.2 steps 11–21). This file persists the new
//!    counter, backup state and last use in one conditional UPDATE, so two racing assertions cannot
//!    both pass the counter check (§7.2 step 22, rule 6); the new sign-in (and, for API
//!    clients, its first refresh token) and its record in the owner's activity are written in the
//!    same transaction and database round trip, only when the UPDATE matched
//!    (`db/passkey_sign_in.rs`).

use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication, PasskeyRegistration,
    Uuid, WebauthnError,
};
/// What the browser sends back: `credential.toJSON()` of a registration, and of a sign-in.
pub use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};
use webauthn_rs_proto::{PubKeyCredParams, ResidentKeyRequirement};

use proto::{PasskeyItem, TokenPair};

use crate::accounts::{self, find_user, new_user_row, user_info};
use crate::challenge::StoreError;
use crate::db::passkey_sign_in::{self, PasskeySignIn};
use crate::db::passkeys::{self, PasskeyRow};
use crate::db::users::{self, UserRow};
use crate::error::{Error, OrConflict};
use crate::measure;
use crate::notify::activity::{Event, Recorded};
use crate::notify::change::{Change, Hook};
use crate::notify::hooks::SignInMethod;
use crate::notify::mail::{Letter, Notice};
use crate::passkeys::passkey_item;
use crate::sign_in::Recent;
use crate::state::Engine;
use crate::tokens::{NewRefreshToken, SignInAt};
use crate::types::{Caller, ClientAddr, CredentialId, DisplayName, Email, SignInId, UserId};

/// COSE algorithm id of EdDSA (RFC 8152), which webauthn-rs 0.5 verifies but does not offer by default.
const COSE_EDDSA: i64 = -8;
/// The longest credential ID a relying party accepts (WebAuthn L3 §7.1 step 25).
const MAX_CREDENTIAL_ID_BYTES: usize = 1023;

/// What *begin* of a registration leaves for *complete*.
#[derive(Serialize, Deserialize)]
struct RegistrationCeremony {
    user_id: UserId,
    state: PasskeyRegistration,
    /// Set when the passkey creates the account (passkey-only sign-up): the user row is written
    /// only once the passkey is verified, so a cancelled prompt leaves no half-made account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    new_account: Option<UserRow>,
}

/// Who a registration is for: an existing user, or an account that the passkey will create.
struct Registrant {
    user: UserRow,
    existing: Vec<PasskeyRow>,
    is_new: bool,
    /// Whose ceremonies in flight it counts against: the account, or for a sign-up the client.
    owner: String,
}

/// The challenge store's owner of an anonymous ceremony: the client's address.
fn client_owner(client: ClientAddr) -> String {
    format!("ip:{client}")
}

/// What *begin* of a sign-in leaves for *complete*.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum AuthenticationCeremony {
    Targeted { user_id: UserId, state: PasskeyAuthentication },
    Discoverable { state: DiscoverableAuthentication },
}

/// Registration step 1: creation options for the signed-in user (the W3C JSON form, unwrapped),
/// whose sign-in is [`Recent`]. `gone` is the caller's answer when the account no longer exists.
pub async fn start_registration(
    engine: &Engine,
    user_id: &UserId,
    gone: Error,
    _recent: &Recent,
) -> Result<serde_json::Value, Error> {
    let user = find_user(engine, user_id, gone).await?;
    let existing = passkeys::of_user(&engine.db, user_id).await?;
    if existing.len() >= engine.config.max_passkeys {
        return Err(Error::TooManyPasskeys { max: engine.config.max_passkeys });
    }
    let owner = format!("user:{user_id}");
    begin_registration(engine, Registrant { user, existing, is_new: false, owner }).await
}

/// Registration step 1 of a passkey-only sign-up: the creation options. Nothing is stored in the
/// database (nor in any browser session) until [`finish_sign_up`]: the future account waits in
/// the ceremony, keyed by its challenge.
pub async fn start_sign_up(
    engine: &Engine,
    email: &str,
    client: ClientAddr,
    now: i64,
) -> Result<serde_json::Value, Error> {
    let user = new_user_row(Email::parse(email)?, None, None, now);
    if users::by_email(&engine.db, &user.email).await?.is_some() {
        return Err(Error::EmailTaken);
    }
    let owner = client_owner(client);
    begin_registration(engine, Registrant { user, existing: Vec::new(), is_new: true, owner }).await
}

async fn begin_registration(engine: &Engine, registrant: Registrant) -> Result<serde_json::Value, Error> {
    let Registrant { user, existing, is_new, owner } = registrant;
    let exclude: Vec<CredentialID> = existing
        .iter()
        .filter_map(|p| URL_SAFE_NO_PAD.decode(p.credential_id.as_str()).ok())
        .map(CredentialID::from)
        .collect();
    let handle = Uuid::parse_str(&user.webauthn_handle).map_err(Error::internal)?;
    let display_name = user.name.as_deref().unwrap_or(&user.email);

    let (mut options, registration) = engine
        .webauthn
        .start_passkey_registration(handle, &user.email, display_name, Some(exclude))
        .map_err(Error::internal)?;

    let creation = &mut options.public_key;
    if let Some(selection) = creation.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Preferred);
        selection.require_resident_key = false;
    }
    creation.pub_key_cred_params.push(PubKeyCredParams { type_: "public-key".into(), alg: COSE_EDDSA });
    let registration = allow_eddsa(registration)?;

    let challenge = URL_SAFE_NO_PAD.encode(creation.challenge.as_ref());
    let key = if is_new { sign_up_key(&challenge) } else { registration_key(&user.id, &challenge) };
    let ceremony =
        RegistrationCeremony { user_id: user.id.clone(), state: registration, new_account: is_new.then_some(user) };
    store_ceremony(engine, &key, &owner, &ceremony).await?;
    measure::ceremony_begun(measure::Ceremony::Registration);
    serde_json::to_value(&options.public_key).map_err(Error::internal)
}

/// Registration step 3: verifies the authenticator's response and stores the passkey; the sign-in
/// must still be [`Recent`].
pub async fn finish_registration(
    engine: &Engine,
    user_id: &UserId,
    credential: &RegisterPublicKeyCredential,
    name: Option<&str>,
    caller: &Caller,
    recent: &Recent,
    now: i64,
) -> Result<PasskeyItem, Error> {
    let (item, change) = registration_change(engine, user_id, credential, name, caller, recent, now).await?;
    change.commit().await?;
    Ok(item)
}

/// [`finish_registration`], in a change the caller goes on with and commits (a recovery records its
/// use and starts the sign-in in it).
pub(crate) async fn registration_change<'e>(
    engine: &'e Engine,
    user_id: &UserId,
    credential: &RegisterPublicKeyCredential,
    name: Option<&str>,
    caller: &Caller,
    _recent: &Recent,
    now: i64,
) -> Result<(PasskeyItem, Change<'e>), Error> {
    let finished = async {
        let name = name.map(DisplayName::parse).transpose()?;
        let challenge = registration_challenge(credential)?;
        let ceremony: RegistrationCeremony = take_ceremony(engine, &registration_key(user_id, &challenge)).await?;
        if ceremony.user_id != *user_id || ceremony.new_account.is_some() {
            return Err(Error::CeremonyExpired);
        }
        complete_registration(engine, ceremony, credential, name, caller, now).await
    }
    .await;
    measure::ceremony_ended(measure::Ceremony::Registration, finished.as_ref().err().map(Error::code));
    finished
}

/// Registration step 3 of a passkey-only sign-up: verifies the new passkey and creates the account
/// with it, in a change the caller goes on with (the new account's sign-in) and commits. Returns
/// the new account and its passkey.
pub async fn finish_sign_up<'e>(
    engine: &'e Engine,
    credential: &RegisterPublicKeyCredential,
    caller: &Caller,
    now: i64,
) -> Result<(UserRow, CredentialId, Change<'e>), Error> {
    let finished = async {
        let challenge = registration_challenge(credential)?;
        let ceremony: RegistrationCeremony = take_ceremony(engine, &sign_up_key(&challenge)).await?;
        let account = ceremony.new_account.clone().ok_or(Error::CeremonyExpired)?;
        let (passkey, change) = complete_registration(engine, ceremony, credential, None, caller, now).await?;
        Ok((account, CredentialId::new(passkey.id), change))
    }
    .await;
    measure::ceremony_ended(measure::Ceremony::Registration, finished.as_ref().err().map(Error::code));
    finished
}

/// The challenge a registration response answers, once its credential ID is of an allowed length.
fn registration_challenge(credential: &RegisterPublicKeyCredential) -> Result<String, Error> {
    if credential.raw_id.len() > MAX_CREDENTIAL_ID_BYTES {
        return Err(Error::RegistrationFailed("the credential ID is longer than 1023 bytes"));
    }
    challenge_of(credential.response.client_data_json.as_ref()).map_err(|e| match e {
        Error::AuthenticationFailed(reason) => Error::RegistrationFailed(reason),
        other => other,
    })
}

/// Verifies a registration response against its ceremony, then stores the passkey in one change:
/// for a sign-up the account first (with the mail that asks to confirm its address), the passkey,
/// the notice to its owner, and their records. A credential that exists already refuses the whole
/// change, so a sign-up whose passkey is refused leaves no account behind.
async fn complete_registration<'e>(
    engine: &'e Engine,
    ceremony: RegistrationCeremony,
    credential: &RegisterPublicKeyCredential,
    name: Option<DisplayName>,
    caller: &Caller,
    now: i64,
) -> Result<(PasskeyItem, Change<'e>), Error> {
    let user_id = &ceremony.user_id;
    let passkey =
        engine.webauthn.finish_passkey_registration(credential, &ceremony.state).map_err(registration_error)?;

    let facts = AuthenticatorData::from_attestation_object(credential.response.attestation_object.as_ref())
        .ok_or(Error::RegistrationFailed("the attestation object is malformed"))?;
    let aaguid = facts.aaguid.to_string();
    let name = match name {
        Some(name) => name.into_string(),
        None => engine.authenticators.lookup(&aaguid).name,
    };
    let transports: Vec<serde_json::Value> =
        credential.response.transports.iter().flatten().filter_map(|t| serde_json::to_value(t).ok()).collect();
    let row = PasskeyRow {
        credential_id: CredentialId::new(URL_SAFE_NO_PAD.encode(passkey.cred_id().as_ref())),
        user_id: user_id.clone(),
        name,
        aaguid,
        passkey: serde_json::to_string(&passkey).map_err(Error::internal)?,
        sign_count: i64::from(facts.sign_count),
        backup_eligible: facts.backup_eligible,
        backed_up: facts.backed_up,
        transports: serde_json::Value::Array(transports).to_string(),
        created_at: now,
        last_used_at: None,
    };
    let mut change = engine.change(now).await?;
    let owner = match ceremony.new_account {
        Some(account) => {
            accounts::create(&mut change, &account, caller).await?;
            account
        }
        None => {
            // Checked again here: several ceremonies begun under the cap may finish together.
            let max = i64::try_from(engine.config.max_passkeys).unwrap_or(i64::MAX);
            if passkeys::count_of_user(change.db(), user_id).await? >= max {
                return Err(Error::TooManyPasskeys { max: engine.config.max_passkeys });
            }
            let owner = users::by_id(change.db(), user_id).await?.ok_or(Error::CeremonyExpired)?;
            // A new account's first passkey needs no notice; a passkey added to an account does.
            change.tell(Letter::Notice { email: &owner.email, what: Notice::PasskeyAdded(&row.name) }).await?;
            owner
        }
    };
    passkeys::insert(change.db(), &row).await.or_conflict(Error::CredentialExists)?;
    change.record(user_id, Event::PasskeyAdded(&row.name), Some(caller)).await?;
    let item = passkey_item(&row, &engine.authenticators);
    change.after(Hook::PasskeyRegistered(user_info(&owner), item.clone()));
    Ok((item, change))
}

/// Authentication step 1: request options, targeted at `email`'s passkeys when it has any, for a
/// client at `client`.
pub async fn start_authentication(
    engine: &Engine,
    email: Option<&str>,
    client: ClientAddr,
) -> Result<serde_json::Value, Error> {
    let email = email.filter(|e| !e.trim().is_empty()).map(Email::parse).transpose()?;
    let rows = match &email {
        Some(email) => passkeys::of_email(&engine.db, email.as_str()).await?,
        None => Vec::new(),
    };

    let (options, ceremony) = match rows.first() {
        Some(first) => {
            let known: Vec<Passkey> = rows.iter().map(stored_passkey).collect::<Result<_, _>>()?;
            let (options, auth) = engine.webauthn.start_passkey_authentication(&known).map_err(Error::internal)?;
            (options, AuthenticationCeremony::Targeted { user_id: first.user_id.clone(), state: auth })
        }
        None => {
            let (options, auth) = engine.webauthn.start_discoverable_authentication().map_err(Error::internal)?;
            (options, AuthenticationCeremony::Discoverable { state: auth })
        }
    };
    let challenge = URL_SAFE_NO_PAD.encode(options.public_key.challenge.as_ref());
    store_ceremony(engine, &authentication_key(&challenge), &client_owner(client), &ceremony).await?;
    measure::ceremony_begun(measure::Ceremony::Authentication);
    serde_json::to_value(&options.public_key).map_err(Error::internal)
}

/// Authentication step 3 for API clients: verifies the assertion and returns the first token pair of
/// a new sign-in. The passkey's use, the sign-in and its first refresh token are written together.
pub async fn finish_authentication(
    engine: &Engine,
    credential: &PublicKeyCredential,
    caller: &Caller,
    now: i64,
) -> Result<TokenPair, Error> {
    let refresh = engine.tokens.new_refresh_token(now);
    let signed_in = verify_and_record(engine, credential, Some(&refresh), caller, now).await?;
    let sign_in = SignInAt { id: signed_in.sign_in_id, auth_time: now };
    engine.tokens.token_pair(&signed_in.user.id, &sign_in, refresh, now)
}

/// Authentication step 3 for the portal: verifies the assertion and returns the owner with the new
/// sign-in for the browser session to hold.
pub async fn finish_browser_authentication(
    engine: &Engine,
    credential: &PublicKeyCredential,
    caller: &Caller,
    now: i64,
) -> Result<SignedIn, Error> {
    verify_and_record(engine, credential, None, caller, now).await
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
    engine: &Engine,
    credential: &PublicKeyCredential,
    refresh: Option<&NewRefreshToken>,
    caller: &Caller,
    now: i64,
) -> Result<SignedIn, Error> {
    let verified = verify_and_record_once(engine, credential, refresh, caller, now).await;
    measure::ceremony_ended(measure::Ceremony::Authentication, verified.as_ref().err().map(Error::code));
    verified
}

async fn verify_and_record_once(
    engine: &Engine,
    credential: &PublicKeyCredential,
    refresh: Option<&NewRefreshToken>,
    caller: &Caller,
    now: i64,
) -> Result<SignedIn, Error> {
    let challenge = challenge_of(credential.response.client_data_json.as_ref())?;
    let ceremony: AuthenticationCeremony = take_ceremony(engine, &authentication_key(&challenge)).await?;

    let credential_id = CredentialId::new(URL_SAFE_NO_PAD.encode(credential.raw_id.as_ref()));
    let (row, owner) = passkeys::with_owner(&engine.db, &credential_id).await?.ok_or(Error::UnknownCredential)?;
    let sign_in_id = SignInId::generate();
    let signed_in = Event::SignedIn { method: SignInMethod::Passkey, passkey: Some(&row.name) };
    let recorded = Recorded::new(&owner.id, signed_in, Some(caller), now);
    let write = SignInWrite { sign_in_id: &sign_in_id, refresh, recorded: &recorded };
    match verify_and_write(engine, credential, ceremony, row, &owner, write, now).await {
        Ok(()) => {}
        Err(error @ (Error::AuthenticationFailed(_) | Error::PossibleClonedAuthenticator)) => {
            let mut change = engine.change(now).await?;
            change.record(&owner.id, Event::SignInFailed { method: SignInMethod::Passkey }, Some(caller)).await?;
            change.commit().await?;
            return Err(error);
        }
        Err(error) => return Err(error),
    }
    // The sign-in and its record were written together; now the hooks hear of them.
    let mut then = engine.consequences();
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
    engine: &Engine,
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
    let result = match ceremony {
        AuthenticationCeremony::Targeted { user_id, state: auth } => {
            if user_id != row.user_id {
                return Err(Error::AuthenticationFailed(
                    "this passkey does not belong to the account that was asked for",
                ));
            }
            engine.webauthn.finish_passkey_authentication(credential, &auth)
        }
        AuthenticationCeremony::Discoverable { state: auth } => {
            if user_handle.is_none() {
                return Err(Error::AuthenticationFailed("the authenticator did not say which account it signed in"));
            }
            engine.webauthn.finish_discoverable_authentication(credential, auth, &[DiscoverableKey::from(&passkey)])
        }
    }
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
    if !passkey_sign_in::record(&engine.db, &sign_in, now).await? {
        return Err(Error::PossibleClonedAuthenticator);
    }
    Ok(())
}

fn sign_up_key(challenge: &str) -> String {
    format!("signup:{challenge}")
}

fn registration_key(user_id: &UserId, challenge: &str) -> String {
    format!("reg:{user_id}:{challenge}")
}

fn authentication_key(challenge: &str) -> String {
    format!("auth:{challenge}")
}

async fn store_ceremony(engine: &Engine, key: &str, owner: &str, ceremony: &impl Serialize) -> Result<(), Error> {
    let json = serde_json::to_string(ceremony).map_err(Error::internal)?;
    let started = Instant::now();
    let stored = engine.challenges.put(key, owner, json, engine.config.challenge_ttl).await;
    measure::store_time("challenge", "put", started.elapsed());
    stored.map_err(store_unavailable)
}

async fn take_ceremony<T: for<'de> Deserialize<'de>>(engine: &Engine, key: &str) -> Result<T, Error> {
    let started = Instant::now();
    let taken = engine.challenges.take(key).await;
    measure::store_time("challenge", "take", started.elapsed());
    let json = taken.map_err(store_unavailable)?;
    serde_json::from_str(&json.ok_or(Error::CeremonyExpired)?).map_err(Error::internal)
}

fn store_unavailable(error: StoreError) -> Error {
    match error {
        // One client's share is used up; nobody else is affected.
        StoreError::OwnerFull { retry_after } => {
            measure::rate_limited("ceremonies_in_flight");
            Error::RateLimited { retry_after }
        }
        other => {
            tracing::warn!(error = %other, "challenge store unavailable");
            measure::store_error("challenge");
            Error::Unavailable
        }
    }
}

/// The challenge a response answers, read from `clientDataJSON` to find its ceremony (webauthn-rs
/// compares it with the stored state's challenge again during verification). `crossOrigin: true` is
/// refused here (§7.1 step 10 / §7.2 step 14 leave it to the RP; webauthn-rs 0.5 checks it only
/// during registration).
fn challenge_of(client_data_json: &[u8]) -> Result<String, Error> {
    #[derive(Deserialize)]
    struct ClientData {
        challenge: String,
        #[serde(rename = "crossOrigin", default)]
        cross_origin: Option<bool>,
    }
    let data: ClientData = serde_json::from_slice(client_data_json)
        .map_err(|_| Error::InvalidRequest("clientDataJSON is not the JSON a browser produces.".into()))?;
    if data.cross_origin == Some(true) {
        return Err(Error::AuthenticationFailed("cross-origin (embedded) requests are not accepted"));
    }
    let well_formed = !data.challenge.is_empty()
        && data.challenge.len() <= 128
        && data.challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if well_formed { Ok(data.challenge) } else { Err(Error::CeremonyExpired) }
}

fn stored_passkey(row: &PasskeyRow) -> Result<Passkey, Error> {
    serde_json::from_str(&row.passkey).map_err(Error::internal)
}

/// webauthn-rs 0.5 verifies EdDSA signatures but offers only ES256 and RS256 for passkeys, with no
/// setting to change that; the serialised state (feature `danger-allow-state-serialisation`) is the
/// one place the accepted list can be extended to match the options this file sends.
fn allow_eddsa(registration: PasskeyRegistration) -> Result<PasskeyRegistration, Error> {
    let mut json = serde_json::to_value(&registration).map_err(Error::internal)?;
    let algorithms = json
        .pointer_mut("/rs/credential_algorithms")
        .and_then(serde_json::Value::as_array_mut)
        .ok_or_else(|| Error::internal("webauthn-rs registration state has no credential_algorithms"))?;
    algorithms.push(serde_json::Value::from("EDDSA"));
    serde_json::from_value(json).map_err(Error::internal)
}

fn registration_error(err: WebauthnError) -> Error {
    tracing::info!(error = %err, "passkey registration refused");
    match err {
        WebauthnError::CredentialExcludedFromRequest | WebauthnError::CredentialAlreadyExists => {
            Error::CredentialExists
        }
        WebauthnError::UserNotVerified => {
            Error::RegistrationFailed("user verification (PIN or biometrics) is required")
        }
        WebauthnError::UserNotPresent => Error::RegistrationFailed("user presence is required"),
        WebauthnError::InvalidRPOrigin => {
            Error::RegistrationFailed("the request came from an origin this site does not accept")
        }
        WebauthnError::CredentialCrossOrigin => {
            Error::RegistrationFailed("cross-origin (embedded) requests are not accepted")
        }
        WebauthnError::InvalidRPIDHash => Error::RegistrationFailed("the passkey was made for a different site"),
        WebauthnError::InvalidClientDataType => Error::RegistrationFailed("the response is not a registration"),
        WebauthnError::MismatchedChallenge => Error::RegistrationFailed("the response answers a different request"),
        WebauthnError::CredentialAlteredAlgFromRequest | WebauthnError::COSEKeyInvalidAlgorithm => {
            Error::RegistrationFailed("the authenticator used an algorithm this site does not accept")
        }
        _ => Error::RegistrationFailed("the authenticator's response could not be verified"),
    }
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

/// The parts of `authenticatorData` (§6.1) the API shows, read after webauthn-rs verified it.
struct AuthenticatorData {
    backup_eligible: bool,
    backed_up: bool,
    sign_count: u32,
    aaguid: Uuid,
}

impl AuthenticatorData {
    const FLAG_BE: u8 = 0x08;
    const FLAG_BS: u8 = 0x10;

    fn from_attestation_object(bytes: &[u8]) -> Option<Self> {
        let value: ciborium::Value = ciborium::from_reader(bytes).ok()?;
        let auth_data = value.as_map()?.iter().find(|(k, _)| k.as_text() == Some("authData"))?.1.as_bytes()?;
        // rpIdHash (32) | flags (1) | signCount (4) | aaguid (16) | …
        let flags = *auth_data.get(32)?;
        let sign_count = u32::from_be_bytes(auth_data.get(33..37)?.try_into().ok()?);
        let aaguid = Uuid::from_slice(auth_data.get(37..53)?).ok()?;
        Some(Self {
            backup_eligible: flags & Self::FLAG_BE != 0,
            backed_up: flags & Self::FLAG_BS != 0,
            sign_count,
            aaguid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_read_from_client_data() {
        let data = br#"{"type":"webauthn.get","challenge":"abc-_123","origin":"http://localhost:3000"}"#;
        assert_eq!(challenge_of(data).unwrap(), "abc-_123");
    }

    #[test]
    fn odd_challenges_never_reach_the_store() {
        assert!(matches!(challenge_of(br#"{"challenge":"a:b"}"#), Err(Error::CeremonyExpired)));
        assert!(matches!(challenge_of(br#"{"challenge":""}"#), Err(Error::CeremonyExpired)));
        assert!(matches!(challenge_of(b"not json"), Err(Error::InvalidRequest(_))));
    }

    #[test]
    fn cross_origin_responses_are_refused() {
        let data = br#"{"type":"webauthn.get","challenge":"abc","origin":"http://localhost:3000","crossOrigin":true}"#;
        assert!(matches!(challenge_of(data), Err(Error::AuthenticationFailed(_))));
    }

    #[test]
    fn authenticator_data_flags_and_aaguid_are_read() {
        let mut auth_data = vec![0u8; 32];
        auth_data.push(0x01 | 0x04 | 0x08 | 0x40);
        auth_data.extend_from_slice(&7u32.to_be_bytes());
        auth_data.extend_from_slice(&[0xAB; 16]);
        let object = ciborium::Value::Map(vec![
            (ciborium::Value::Text("fmt".into()), ciborium::Value::Text("none".into())),
            (ciborium::Value::Text("authData".into()), ciborium::Value::Bytes(auth_data)),
        ]);
        let mut bytes = Vec::new();
        ciborium::into_writer(&object, &mut bytes).unwrap();
        let facts = AuthenticatorData::from_attestation_object(&bytes).unwrap();
        assert!(facts.backup_eligible && !facts.backed_up);
        assert_eq!(facts.sign_count, 7);
        assert_eq!(facts.aaguid.to_string(), "abababab-abab-abab-abab-abababababab");
    }
}
