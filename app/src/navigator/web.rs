//! The browser's face of [`navigator`](super) (hydrate builds): `navigator.credentials.create/get`
//! through web-sys, with options and results in the W3C JSON forms (`parseCreationOptionsFromJSON`,
//! `parseRequestOptionsFromJSON`, `toJSON()`), plus feature-detected Signal API calls.

use std::cell::RefCell;

use js_sys::{Function, JSON, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, CredentialCreationOptions, CredentialRequestOptions};

use super::{CeremonyFailure, Prompt};

thread_local! {
    /// The pending background request, cancelled before any newer request.
    static BACKGROUND: RefCell<Option<AbortController>> = const { RefCell::new(None) };
}

/// Aborts the pending background request, if any; for a new background request, returns the
/// signal that will abort it in turn.
fn take_turn(prompt: Prompt) -> Result<Option<AbortSignal>, CeremonyFailure> {
    BACKGROUND.with(|slot| {
        if let Some(controller) = slot.borrow_mut().take() {
            controller.abort();
        }
        match prompt {
            Prompt::Modal => Ok(None),
            Prompt::Background => {
                let controller = AbortController::new().map_err(|_| CeremonyFailure::Unsupported)?;
                let signal = controller.signal();
                *slot.borrow_mut() = Some(controller);
                Ok(Some(signal))
            }
        }
    })
}

/// The product's name, as the server wrote it into `<meta name="application-name">`.
pub fn product_name() -> String {
    web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.query_selector(r#"meta[name="application-name"]"#).ok().flatten())
        .and_then(|meta| meta.get_attribute("content"))
        .unwrap_or_default()
}

/// The path of the page shown (without its query).
pub fn request_path() -> String {
    web_sys::window().and_then(|window| window.location().pathname().ok()).unwrap_or_default()
}

/// The value of the page's input `id` once the browser finds it valid (it shows why when not).
pub fn valid_input(id: &str) -> Option<String> {
    let element = web_sys::window()?.document()?.get_element_by_id(id)?;
    let input = element.dyn_into::<web_sys::HtmlInputElement>().ok()?;
    input.report_validity().then(|| input.value())
}

/// The value of the page's input `id` when it is filled in and valid; quietly `None` otherwise.
pub fn filled_input(id: &str) -> Option<String> {
    let element = web_sys::window()?.document()?.get_element_by_id(id)?;
    let input = element.dyn_into::<web_sys::HtmlInputElement>().ok()?;
    (!input.value().trim().is_empty() && input.check_validity()).then(|| input.value())
}

/// The attribute `name` of the page's element `id`.
pub fn attribute(id: &str, name: &str) -> Option<String> {
    web_sys::window()?.document()?.get_element_by_id(id)?.get_attribute(name)
}

/// The attribute `name` of every element `selector` matches, in page order.
pub fn attributes(selector: &str, name: &str) -> Vec<String> {
    let Some(found) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.query_selector_all(selector).ok())
    else {
        return Vec::new();
    };
    (0..found.length())
        .filter_map(|i| found.item(i)?.dyn_into::<web_sys::Element>().ok()?.get_attribute(name))
        .collect()
}

/// The `id` of the form a `submit` event is for. Read as the attribute: a form's `id` property is
/// shadowed by a field named `id` (the passkey row's hidden one), which is not a string.
pub fn submitted_form(event: &leptos::ev::SubmitEvent) -> Option<String> {
    let form = event.target()?.dyn_into::<web_sys::HtmlFormElement>().ok()?;
    form.get_attribute("id").filter(|id| !id.is_empty())
}

/// Whether `event` is Enter pressed in the page's field `id` (not while an input method composes).
pub fn enter_in(event: &leptos::ev::KeyboardEvent, id: &str) -> bool {
    event.key() == "Enter"
        && !event.is_composing()
        && event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|e| e.id() == id)
}

/// The id of the element that has the focus, or of its nearest ancestor with one (a form's
/// button gives its form's), to give the focus back there later ([`focus`]).
pub fn focused_id() -> Option<String> {
    let active = web_sys::window()?.document()?.active_element()?;
    active.closest("[id]").ok()??.get_attribute("id")
}

/// Puts the focus on the page's element `id`, or, when it takes none (a form), on the first
/// control inside it.
pub fn focus(id: &str) {
    let Some(element) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id)) else {
        return;
    };
    let control = "button, input:not([type=hidden]), a[href], select, textarea";
    let target = if element.matches(control).unwrap_or(false) {
        Some(element)
    } else {
        element.query_selector(control).ok().flatten()
    };
    if let Some(target) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = target.focus();
    }
}

/// Sends the page's form `id` as the browser would (without another `submit` event).
pub fn submit(id: &str) {
    let form = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlFormElement>().ok());
    if let Some(form) = form {
        let _ = form.submit();
    }
}

/// Full navigation, so the next page is rendered with the new session.
pub fn go(path: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(path);
    }
}

fn failure_of(error: &JsValue) -> CeremonyFailure {
    let name = Reflect::get(error, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" => CeremonyFailure::Cancelled,
        "InvalidStateError" => CeremonyFailure::AlreadyRegistered,
        "SecurityError" => CeremonyFailure::WrongSite,
        "AbortError" => CeremonyFailure::Aborted,
        "NotSupportedError" => CeremonyFailure::Unsupported,
        _ => {
            // Kept in the console for whoever debugs it; people see the sentence.
            web_sys::console::warn_2(&"WebAuthn request failed:".into(), error);
            CeremonyFailure::Other
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
    let promise = promise.map_err(|e| failure_of(&e))?;
    let credential = JsFuture::from(promise).await.map_err(|e| failure_of(&e))?;
    if credential.is_null() {
        return Err(CeremonyFailure::Cancelled);
    }
    let to_json: Function = Reflect::get(&credential, &"toJSON".into())
        .map_err(|_| CeremonyFailure::Unsupported)?
        .dyn_into()
        .map_err(|_| CeremonyFailure::Unsupported)?;
    let json = to_json.call0(&credential).map_err(|e| failure_of(&e))?;
    JSON::stringify(&json).ok().and_then(|s| s.as_string()).ok_or(CeremonyFailure::Other)
}

/// Fills `CredentialCreationOptions` / `CredentialRequestOptions`: the parsed `publicKey`, and for a
/// background request `mediation: "conditional"` with the signal that cancels it.
fn fill_options(options: &JsValue, parser: &str, options_json: &str, prompt: Prompt) -> Result<(), CeremonyFailure> {
    let set = |key: &str, value: &JsValue| {
        Reflect::set(options, &key.into(), value).map(|_| ()).map_err(|_| CeremonyFailure::Other)
    };
    set("publicKey", &parse_options(parser, options_json)?)?;
    if let Some(signal) = take_turn(prompt)? {
        set("mediation", &"conditional".into())?;
        set("signal", &signal)?;
    }
    Ok(())
}

/// `navigator.credentials.create()` with server options (JSON); returns `credential.toJSON()` as JSON.
/// In the background it is a silent upgrade after a password sign-in (no prompt where supported).
pub async fn create(options_json: &str, prompt: Prompt) -> Result<String, CeremonyFailure> {
    let options = CredentialCreationOptions::new();
    fill_options(&options, "parseCreationOptionsFromJSON", options_json, prompt)?;
    credential_json(credentials()?.create_with_options(&options)).await
}

/// `navigator.credentials.get()` with server options (JSON); in the background it is the autofill
/// request of the email field.
pub async fn get(options_json: &str, prompt: Prompt) -> Result<String, CeremonyFailure> {
    let options = CredentialRequestOptions::new();
    fill_options(&options, "parseRequestOptionsFromJSON", options_json, prompt)?;
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

/// The string `field` of a JSON object (read by the browser's `JSON.parse`: no JSON parser in the
/// WASM).
fn json_field(json: &str, field: &str) -> Option<String> {
    let value = JSON::parse(json).ok()?;
    Reflect::get(&value, &field.into()).ok()?.as_string()
}

/// The `id` of a `credential.toJSON()` string, for the Signal API.
pub fn credential_id_of(credential_json: &str) -> Option<String> {
    json_field(credential_json, "id")
}

/// The `rpId` of request options JSON, for the Signal API.
pub fn rp_id_of(options_json: &str) -> Option<String> {
    json_field(options_json, "rpId")
}
