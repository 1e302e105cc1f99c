//! The browser side of WebAuthn (hydrate builds only): `navigator.credentials.create/get` through
//! web-sys, with options and results in the W3C JSON forms (`parseCreationOptionsFromJSON`,
//! `parseRequestOptionsFromJSON`, `toJSON()`), plus feature-detected Signal API calls.

use js_sys::{Function, JSON, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, CredentialCreationOptions, CredentialRequestOptions};

/// Why a browser ceremony did not produce a credential, in terms a person can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CeremonyFailure {
    /// The prompt was dismissed or timed out (`NotAllowedError`).
    Cancelled,
    /// The authenticator already holds a passkey for this account (`InvalidStateError`).
    AlreadyRegistered,
    /// The page's origin does not fit the relying party (`SecurityError`).
    WrongSite,
    /// A newer ceremony replaced this one (`AbortError`); nothing to show.
    Aborted,
    /// The browser has no WebAuthn.
    Unsupported,
    /// Anything else.
    Other,
}

impl CeremonyFailure {
    /// The sentence shown to the person.
    pub fn message(&self) -> &'static str {
        match self {
            Self::Cancelled => "The passkey prompt was closed or timed out. Try again when you're ready.",
            Self::AlreadyRegistered => {
                "This passkey is already registered on this device. Use it to sign in, or add a passkey from another device."
            }
            Self::WrongSite => {
                "This page's address does not match the site your passkeys belong to. Open Latchkey at its usual address and try again."
            }
            Self::Aborted => "",
            Self::Unsupported => "This browser does not support passkeys. Sign in with your password instead.",
            Self::Other => "The passkey could not be used. Try again, or sign in with your password.",
        }
    }

    fn from_js(error: &JsValue) -> Self {
        let name = Reflect::get(error, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
        match name.as_str() {
            "NotAllowedError" => Self::Cancelled,
            "InvalidStateError" => Self::AlreadyRegistered,
            "SecurityError" => Self::WrongSite,
            "AbortError" => Self::Aborted,
            "NotSupportedError" => Self::Unsupported,
            _ => {
                // Kept in the console for whoever debugs it; people see the sentence.
                web_sys::console::warn_2(&"WebAuthn request failed:".into(), error);
                Self::Other
            }
        }
    }
}

fn public_key_credential() -> Option<JsValue> {
    let class = Reflect::get(&js_sys::global(), &"PublicKeyCredential".into()).ok()?;
    (!class.is_undefined()).then_some(class)
}

/// Calls `PublicKeyCredential.<method>(args…)` if the browser has it.
fn call_static(method: &str, args: &[JsValue]) -> Option<JsValue> {
    let class = public_key_credential()?;
    let function: Function = Reflect::get(&class, &method.into()).ok()?.dyn_into().ok()?;
    let args: js_sys::Array = args.iter().collect();
    function.apply(&class, &args).ok()
}

/// Whether the browser exposes `PublicKeyCredential` and `navigator.credentials`.
pub fn passkeys_supported() -> bool {
    let (Some(window), Some(class)) = (web_sys::window(), public_key_credential()) else { return false };
    Reflect::has(&window.navigator(), &"credentials".into()).unwrap_or(false)
        && Reflect::has(&class, &"parseRequestOptionsFromJSON".into()).unwrap_or(false)
}

async fn resolve_bool(promise: Option<JsValue>) -> bool {
    match promise.and_then(|p| p.dyn_into::<Promise>().ok()) {
        Some(promise) => JsFuture::from(promise).await.map(|v| v.is_truthy()).unwrap_or(false),
        None => false,
    }
}

/// Whether passkey autofill (`mediation: "conditional"` on get) is available.
pub async fn conditional_mediation_available() -> bool {
    passkeys_supported() && resolve_bool(call_static("isConditionalMediationAvailable", &[])).await
}

/// Whether conditional create (a passkey made silently after a password sign-in) is available.
pub async fn conditional_create_available() -> bool {
    let Some(promise) = call_static("getClientCapabilities", &[]).and_then(|p| p.dyn_into::<Promise>().ok()) else {
        return false;
    };
    match JsFuture::from(promise).await {
        Ok(capabilities) => {
            Reflect::get(&capabilities, &"conditionalCreate".into()).map(|v| v.is_truthy()).unwrap_or(false)
        }
        Err(_) => false,
    }
}

fn credentials() -> Result<web_sys::CredentialsContainer, CeremonyFailure> {
    Ok(web_sys::window().ok_or(CeremonyFailure::Unsupported)?.navigator().credentials())
}

fn parse_options(method: &str, options_json: &str) -> Result<JsValue, CeremonyFailure> {
    let json = JSON::parse(options_json).map_err(|_| CeremonyFailure::Other)?;
    call_static(method, &[json]).ok_or(CeremonyFailure::Unsupported)
}

async fn credential_json(promise: Result<Promise, JsValue>) -> Result<String, CeremonyFailure> {
    let promise = promise.map_err(|e| CeremonyFailure::from_js(&e))?;
    let credential = JsFuture::from(promise).await.map_err(|e| CeremonyFailure::from_js(&e))?;
    if credential.is_null() {
        return Err(CeremonyFailure::Cancelled);
    }
    let to_json: Function = Reflect::get(&credential, &"toJSON".into())
        .map_err(|_| CeremonyFailure::Unsupported)?
        .dyn_into()
        .map_err(|_| CeremonyFailure::Unsupported)?;
    let json = to_json.call0(&credential).map_err(|e| CeremonyFailure::from_js(&e))?;
    JSON::stringify(&json).ok().and_then(|s| s.as_string()).ok_or(CeremonyFailure::Other)
}

/// Fills `CredentialCreationOptions` / `CredentialRequestOptions`: the parsed `publicKey`, and for a
/// background request `mediation: "conditional"` with its abort signal.
fn fill_options(
    options: &JsValue,
    parser: &str,
    options_json: &str,
    conditional: Option<&AbortSignal>,
) -> Result<(), CeremonyFailure> {
    let set = |key: &str, value: &JsValue| {
        Reflect::set(options, &key.into(), value).map(|_| ()).map_err(|_| CeremonyFailure::Other)
    };
    set("publicKey", &parse_options(parser, options_json)?)?;
    if let Some(signal) = conditional {
        set("mediation", &"conditional".into())?;
        set("signal", signal)?;
    }
    Ok(())
}

/// `navigator.credentials.create()` with server options (JSON); returns `credential.toJSON()` as JSON.
/// `conditional` asks for a silent upgrade after a password sign-in (no prompt where supported),
/// cancellable through its signal.
pub async fn create(options_json: &str, conditional: Option<&AbortSignal>) -> Result<String, CeremonyFailure> {
    let options = CredentialCreationOptions::new();
    fill_options(&options, "parseCreationOptionsFromJSON", options_json, conditional)?;
    credential_json(credentials()?.create_with_options(&options)).await
}

/// `navigator.credentials.get()` with server options (JSON); `conditional` makes it the autofill
/// request of the email field, cancellable through its signal.
pub async fn get(options_json: &str, conditional: Option<&AbortSignal>) -> Result<String, CeremonyFailure> {
    let options = CredentialRequestOptions::new();
    fill_options(&options, "parseRequestOptionsFromJSON", options_json, conditional)?;
    credential_json(credentials()?.get_with_options(&options)).await
}

fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in entries {
        let _ = Reflect::set(&object, &(*key).into(), value);
    }
    object.into()
}

/// Calls a Signal API method if the browser has it; its promise's outcome is informational only,
/// so a rejection is consumed rather than reported as an unhandled error.
fn signal(method: &str, details: JsValue) {
    if let Some(promise) = call_static(method, &[details]).and_then(|p| p.dyn_into::<Promise>().ok()) {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(promise).await;
        });
    }
}

/// Signal API: tells the passkey provider this credential no longer exists (after "unknown passkey").
pub fn signal_unknown_credential(rp_id: &str, credential_id: &str) {
    signal("signalUnknownCredential", object(&[("rpId", rp_id.into()), ("credentialId", credential_id.into())]));
}

/// Signal API: the complete list of this user's credentials (after a delete).
pub fn signal_all_accepted_credentials(rp_id: &str, user_id: &str, credential_ids: &[String]) {
    let ids: js_sys::Array = credential_ids.iter().map(|id| JsValue::from_str(id)).collect();
    let details =
        object(&[("rpId", rp_id.into()), ("userId", user_id.into()), ("allAcceptedCredentialIds", ids.into())]);
    signal("signalAllAcceptedCredentials", details);
}

/// Signal API: the account's current name (after it changes).
pub fn signal_current_user_details(rp_id: &str, user_id: &str, name: &str, display_name: &str) {
    let details = object(&[
        ("rpId", rp_id.into()),
        ("userId", user_id.into()),
        ("name", name.into()),
        ("displayName", display_name.into()),
    ]);
    signal("signalCurrentUserDetails", details);
}

/// The `id` of a `credential.toJSON()` string, for the Signal API.
pub fn credential_id_of(credential_json: &str) -> Option<String> {
    JSON::parse(credential_json).ok().and_then(|v| Reflect::get(&v, &"id".into()).ok()).and_then(|id| id.as_string())
}

/// The `rpId` of request options JSON, for the Signal API.
pub fn rp_id_of(options_json: &str) -> Option<String> {
    JSON::parse(options_json).ok().and_then(|v| Reflect::get(&v, &"rpId".into()).ok()).and_then(|id| id.as_string())
}

/// A fresh `AbortController` for a conditional request.
pub fn abort_controller() -> Option<web_sys::AbortController> {
    web_sys::AbortController::new().ok()
}
