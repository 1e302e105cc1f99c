//! `/recover?token=…`, where an operator's recovery link lands: one button that creates a new
//! passkey for the account (and nothing else), then signs in with it. The link is used when the
//! button is pressed, not when the page opens (mail scanners open links).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::navigator;
use crate::pages::{PasskeyButton, flows};

/// Recover an account whose passkeys are lost.
#[component]
pub fn RecoverPage() -> impl IntoView {
    let token = use_query_map().with_untracked(|q| q.get("token")).unwrap_or_default();
    view! {
        <section class="card" aria-labelledby="recover-title">
            <h1 id="recover-title">"Recover your account"</h1>
            <p>"This link lets you add a new passkey to your account, once. Create it on the device you want to sign in with from now on."</p>
            <p class="meta">"Then delete the passkeys you lost, on your passkeys page."</p>
            <div id="recovery" data-token=token></div>
            <RecoverWithPasskey/>
        </section>
    }
}

/// The button: uses the link, creates the passkey, signs in. No props: the token is read from the
/// page (see `pages/mod.rs` on bundle weight).
#[island]
fn RecoverWithPasskey() -> impl IntoView {
    let busy = RwSignal::new(false);
    let message = RwSignal::new(String::new());
    let recover = move || {
        let token = navigator::attribute("recovery", "data-token").unwrap_or_default();
        busy.set(true);
        message.set(String::new());
        leptos::task::spawn_local(async move {
            if let Err(text) = flows::recover(token).await {
                message.set(text);
                busy.set(false);
            }
        });
    };
    view! { <PasskeyButton label="Create a new passkey" test_id="recover" busy message on_click=recover/> }
}
