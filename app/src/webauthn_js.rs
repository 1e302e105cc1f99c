//! The browser side of WebAuthn: `navigator.credentials` through web-sys (hydrate builds only).

use wasm_bindgen::JsValue;

/// Whether the browser exposes `PublicKeyCredential` and `navigator.credentials`.
pub fn passkeys_supported() -> bool {
    let Some(window) = web_sys::window() else { return false };
    let has_public_key_credential =
        js_sys::Reflect::has(&window, &JsValue::from_str("PublicKeyCredential")).unwrap_or(false);
    let has_credentials = js_sys::Reflect::has(&window.navigator(), &JsValue::from_str("credentials")).unwrap_or(false);
    has_public_key_credential && has_credentials
}
