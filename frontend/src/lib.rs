//! The WASM entry point: hydrates the page the server rendered. Everything else lives in `app`.

// Leptos view types nest deeply; the default limit of 128 is too low for the passkey list.
#![recursion_limit = "256"]

/// Called by the generated JS glue once the WASM module is loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
