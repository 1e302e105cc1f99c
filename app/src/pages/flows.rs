//! The browser halves of the portal's passkey flows (hydrate builds only): server function →
//! `navigator.credentials` → server function, with every failure turned into a sentence.
//! An empty error string means "nothing to show" (the request was aborted by a newer one).

use std::cell::RefCell;

use crate::server_fns::{
    add_passkey_options, finish_add_passkey, finish_passkey_sign_in, finish_sign_up_with_passkey,
    passkey_sign_in_options, sign_up_with_passkey_options,
};
use crate::webauthn_js;

thread_local! {
    /// The pending background request (autofill, or a conditional create), cancelled before a modal
    /// prompt: browsers allow one WebAuthn request at a time.
    static BACKGROUND: RefCell<Option<web_sys::AbortController>> = const { RefCell::new(None) };
}

/// Full navigation, so the next page is rendered with the new session.
pub fn go(path: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(path);
    }
}

fn cancel_background_request() {
    BACKGROUND.with(|slot| {
        if let Some(controller) = slot.borrow_mut().take() {
            controller.abort();
        }
    });
}

async fn sign_in(conditional: Option<web_sys::AbortSignal>) -> Result<(), String> {
    let options = passkey_sign_in_options().await.map_err(|e| e.message)?;
    let credential = webauthn_js::get(&options, conditional.as_ref()).await.map_err(|f| f.message().to_owned())?;
    match finish_passkey_sign_in(credential.clone()).await {
        Ok(()) => {
            go("/passkeys");
            Ok(())
        }
        Err(error) => {
            if error.code == "unknown_credential"
                && let (Some(rp_id), Some(id)) =
                    (webauthn_js::rp_id_of(&options), webauthn_js::credential_id_of(&credential))
            {
                webauthn_js::signal_unknown_credential(&rp_id, &id);
            }
            Err(error.message)
        }
    }
}

/// A signal for a new background request, replacing (and aborting) any earlier one.
fn background_signal() -> Option<web_sys::AbortSignal> {
    cancel_background_request();
    let controller = webauthn_js::abort_controller()?;
    let signal = controller.signal();
    BACKGROUND.with(|slot| *slot.borrow_mut() = Some(controller));
    Some(signal)
}

/// The "Sign in with a passkey" button: a modal, discoverable request (no username).
pub async fn sign_in_with_passkey() -> Result<(), String> {
    cancel_background_request();
    sign_in(None).await
}

/// Passkey autofill on the email field, where the browser supports conditional mediation.
pub async fn start_autofill() -> Result<(), String> {
    if !webauthn_js::conditional_mediation_available().await {
        return Ok(());
    }
    let Some(signal) = background_signal() else { return Ok(()) };
    sign_in(Some(signal)).await
}

/// Passkey-only sign-up: the account is created with its first passkey.
pub async fn sign_up_with_passkey(email: String) -> Result<(), String> {
    cancel_background_request();
    let options = sign_up_with_passkey_options(email).await.map_err(|e| e.message)?;
    let credential = webauthn_js::create(&options, None).await.map_err(|f| f.message().to_owned())?;
    finish_sign_up_with_passkey(credential).await.map_err(|e| e.message)?;
    go("/passkeys");
    Ok(())
}

/// Adds a passkey to the signed-in account. With `conditional`, the browser may create it silently
/// (after a password sign-in); then failures are not shown, since nobody asked.
pub async fn add_passkey(name: String, conditional: bool) -> Result<(), String> {
    let signal = if conditional {
        if !webauthn_js::conditional_create_available().await {
            return Err(String::new());
        }
        Some(background_signal().ok_or_else(String::new)?)
    } else {
        cancel_background_request();
        None
    };
    let options = add_passkey_options().await.map_err(|e| e.message)?;
    let credential = match webauthn_js::create(&options, signal.as_ref()).await {
        Ok(credential) => credential,
        Err(_) if conditional => return Err(String::new()),
        Err(failure) => return Err(failure.message().to_owned()),
    };
    finish_add_passkey(credential, name).await.map(|_| ()).map_err(|e| e.message)
}
