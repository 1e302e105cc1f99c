//! The sign-in page.

use leptos::prelude::*;

/// Sign in: passkey first.
#[component]
pub fn SignInPage() -> impl IntoView {
    // Whether this browser can use passkeys; `None` until the page has hydrated.
    let (supported, set_supported) = signal(None::<bool>);
    Effect::new(move |_| {
        // Effects run only in the browser, after hydration.
        #[cfg(feature = "hydrate")]
        set_supported.set(Some(crate::webauthn_js::passkeys_supported()));
        #[cfg(not(feature = "hydrate"))]
        let _ = set_supported;
    });
    let status = move || match supported.get() {
        None => "Checking whether this browser supports passkeys…",
        Some(true) => "This browser supports passkeys.",
        Some(false) => "This browser does not support passkeys; sign in with your password.",
    };
    let state = move || match supported.get() {
        None => "unknown",
        Some(true) => "available",
        Some(false) => "unavailable",
    };
    view! {
        <section class="card">
            <h1>"Sign in to Latchkey"</h1>
            <p class="status" data-passkeys=state role="status">{status}</p>
        </section>
    }
}
