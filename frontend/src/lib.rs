//! The WASM entry point. The portal runs in Leptos islands mode: pages are server-rendered HTML, and
//! only the `#[island]` components of `app` (the passkey buttons, the passkey list, the account form)
//! come alive in the browser. Everything else lives in `app`.

// Leptos view types nest deeply; the default limit of 128 is too low for the passkey list.
#![recursion_limit = "256"]

// The islands are exported to JS by `app`; naming the crate links them into this bundle.
use app as _;

/// Called by Leptos' islands script once the WASM module is loaded; the script then hydrates each
/// `<leptos-island>` on the page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panics in the console while developing; the release bundle leaves out the formatting.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
