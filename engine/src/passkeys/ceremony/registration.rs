//! Registration (§7.1): a passkey added to a signed-in account, or the passkey that creates one
//! (passkey-only sign-up). The steps are narrated in [`super`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::RegisterPublicKeyCredential;
use webauthn_rs::prelude::{CredentialID, PasskeyRegistration, Uuid, WebauthnError};
use webauthn_rs_proto::{PubKeyCredParams, ResidentKeyRequirement};

use proto::PasskeyItem;

use super::{challenge_of, client_owner, known_transports, store_ceremony, take_ceremony};
use crate::accounts::{self, find_user, new_user_row, user_info};
use crate::base::error::{Error, OrConflict};
use crate::base::measure;
use crate::base::types::{Caller, ClientAddr, CredentialId, DisplayName, Email, UserId};
use crate::db::passkeys::{self, PasskeyRow};
use crate::db::users::{self, UserRow};
use crate::notify::activity::Event;
use crate::notify::change::{Change, Hook};
use crate::notify::mail::{Letter, Notice};
use crate::passkeys::RelyingParty;
use crate::passkeys::manage::passkey_item;
use crate::sign_in::Recent;

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
    /// For a sign-up by invitation: the SHA-256 of its token, used up when the account is made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    invitation: Option<String>,
}

/// Who a registration is for: an existing user, or an account that the passkey will create.
struct Registrant {
    user: UserRow,
    existing: Vec<PasskeyRow>,
    is_new: bool,
    /// Whose ceremonies in flight it counts against: the account, or for a sign-up the client.
    owner: String,
    /// What admitted a new account ([`accounts::admit`]).
    admitted: Option<accounts::Admitted>,
}

/// Registration step 1: creation options for the signed-in user (the W3C JSON form, unwrapped),
/// whose sign-in is [`Recent`]. `gone` is the caller's answer when the account no longer exists.
pub async fn start_registration(
    rp: &RelyingParty,
    user_id: &UserId,
    gone: Error,
    _recent: &Recent,
) -> Result<serde_json::Value, Error> {
    let user = find_user(&rp.db, user_id, gone).await?;
    let existing = passkeys::of_user(&rp.db, user_id).await?;
    if existing.len() >= rp.max_passkeys {
        return Err(Error::TooManyPasskeys { max: rp.max_passkeys });
    }
    let owner = format!("user:{user_id}");
    begin_registration(rp, Registrant { user, existing, is_new: false, owner, admitted: None }).await
}

/// Registration step 1 of a passkey-only sign-up: the creation options. Nothing is stored in the
/// database (nor in any browser session) until [`finish_sign_up`]: the future account waits in
/// the ceremony, keyed by its challenge.
pub async fn start_sign_up(
    rp: &RelyingParty,
    email: &str,
    invitation: Option<&str>,
    client: ClientAddr,
    now: i64,
) -> Result<serde_json::Value, Error> {
    let email = Email::parse(email)?;
    let admitted = accounts::admit(&rp.db, &rp.sign_up, &email, invitation, now).await?;
    let user = new_user_row(email, None, None, now);
    if users::by_email(&rp.db, &user.email).await?.is_some() {
        return Err(Error::EmailTaken);
    }
    let owner = client_owner(client);
    begin_registration(rp, Registrant { user, existing: Vec::new(), is_new: true, owner, admitted: Some(admitted) })
        .await
}

async fn begin_registration(rp: &RelyingParty, registrant: Registrant) -> Result<serde_json::Value, Error> {
    let Registrant { user, existing, is_new, owner, admitted } = registrant;
    let exclude: Vec<CredentialID> = existing
        .iter()
        .filter_map(|p| URL_SAFE_NO_PAD.decode(p.credential_id.as_str()).ok())
        .map(CredentialID::from)
        .collect();
    let handle = Uuid::parse_str(&user.webauthn_handle).map_err(Error::internal)?;
    let display_name = user.name.as_deref().unwrap_or(&user.email);

    let (mut options, registration) = rp
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
    let ceremony = RegistrationCeremony {
        user_id: user.id.clone(),
        state: registration,
        new_account: is_new.then_some(user),
        invitation: admitted.as_ref().and_then(|a| a.invitation()).map(str::to_owned),
    };
    store_ceremony(rp, &key, &owner, &ceremony).await?;
    measure::ceremony_begun(measure::Ceremony::Registration);
    serde_json::to_value(&options.public_key).map_err(Error::internal)
}

/// Registration step 3: verifies the authenticator's response and stores the passkey; the sign-in
/// must still be [`Recent`].
pub async fn finish_registration(
    rp: &RelyingParty,
    user_id: &UserId,
    credential: &RegisterPublicKeyCredential,
    name: Option<&str>,
    caller: &Caller,
    recent: &Recent,
    now: i64,
) -> Result<PasskeyItem, Error> {
    let (item, change) = registration_change(rp, user_id, credential, name, caller, recent, now).await?;
    change.commit().await?;
    Ok(item)
}

/// [`finish_registration`], in a change the caller goes on with and commits (a recovery records its
/// use and starts the sign-in in it).
pub(crate) async fn registration_change<'e>(
    rp: &'e RelyingParty,
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
        let ceremony: RegistrationCeremony = take_ceremony(rp, &registration_key(user_id, &challenge)).await?;
        if ceremony.user_id != *user_id || ceremony.new_account.is_some() {
            return Err(Error::CeremonyExpired);
        }
        complete_registration(rp, ceremony, credential, name, caller, now).await
    }
    .await;
    measure::ceremony_ended(measure::Ceremony::Registration, finished.as_ref().err().map(Error::code));
    finished
}

/// Registration step 3 of a passkey-only sign-up: verifies the new passkey and creates the account
/// with it, in a change the caller goes on with (the new account's sign-in) and commits. Returns
/// the new account and its passkey.
pub async fn finish_sign_up<'e>(
    rp: &'e RelyingParty,
    credential: &RegisterPublicKeyCredential,
    caller: &Caller,
    now: i64,
) -> Result<(UserRow, CredentialId, Change<'e>), Error> {
    let finished = async {
        let challenge = registration_challenge(credential)?;
        let ceremony: RegistrationCeremony = take_ceremony(rp, &sign_up_key(&challenge)).await?;
        let account = ceremony.new_account.clone().ok_or(Error::CeremonyExpired)?;
        let (passkey, change) = complete_registration(rp, ceremony, credential, None, caller, now).await?;
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
    rp: &'e RelyingParty,
    ceremony: RegistrationCeremony,
    credential: &RegisterPublicKeyCredential,
    name: Option<DisplayName>,
    caller: &Caller,
    now: i64,
) -> Result<(PasskeyItem, Change<'e>), Error> {
    let user_id = &ceremony.user_id;
    let credential = &with_known_transports(credential);
    let passkey = rp.webauthn.finish_passkey_registration(credential, &ceremony.state).map_err(registration_error)?;

    let facts = AuthenticatorData::from_attestation_object(credential.response.attestation_object.as_ref())
        .ok_or(Error::RegistrationFailed("the attestation object is malformed"))?;
    let aaguid = facts.aaguid.to_string();
    let name = match name {
        Some(name) => name.into_string(),
        None => rp.authenticators.lookup(&aaguid).name,
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
    let mut change = rp.notify.change(now).await?;
    let owner = match ceremony.new_account {
        Some(account) => {
            let admitted = match ceremony.invitation {
                // Used up in this change, or the account is refused.
                Some(hash) => accounts::Admitted::invited(hash),
                // Asked again where it finishes: instances may be configured apart during a rollout.
                None => accounts::admit(&rp.db, &rp.sign_up, &Email::parse(&account.email)?, None, now).await?,
            };
            accounts::create(&mut change, &account, caller, &admitted).await?;
            account
        }
        None => {
            // Checked again here: several ceremonies begun under the cap may finish together.
            let max = i64::try_from(rp.max_passkeys).unwrap_or(i64::MAX);
            if passkeys::count_of_user(change.db(), user_id).await? >= max {
                return Err(Error::TooManyPasskeys { max: rp.max_passkeys });
            }
            let owner = users::by_id(change.db(), user_id).await?.ok_or(Error::CeremonyExpired)?;
            // A new account's first passkey needs no notice; a passkey added to an account does.
            change.tell(Letter::Notice { email: &owner.email, what: Notice::PasskeyAdded(&row.name) }).await?;
            owner
        }
    };
    passkeys::insert(change.db(), &row).await.or_conflict(Error::CredentialExists)?;
    change.record(user_id, Event::PasskeyAdded(&row.name), Some(caller)).await?;
    let item = passkey_item(&row, &rp.authenticators);
    change.after(Hook::PasskeyRegistered(user_info(&owner), item.clone()));
    Ok((item, change))
}

/// The response with its `transports` (a list the browser writes, outside the signed data) cut to
/// the values WebAuthn defines, each once: what is stored with the passkey, and later listed in
/// every targeted sign-in's options, stays a few bytes however long a list a client sent.
fn with_known_transports(credential: &RegisterPublicKeyCredential) -> RegisterPublicKeyCredential {
    let mut credential = credential.clone();
    credential.response.transports = credential.response.transports.as_deref().map(known_transports);
    credential
}

fn sign_up_key(challenge: &str) -> String {
    format!("signup:{challenge}")
}

fn registration_key(user_id: &UserId, challenge: &str) -> String {
    format!("reg:{user_id}:{challenge}")
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
