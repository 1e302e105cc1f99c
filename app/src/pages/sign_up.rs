//! The sign-up page: an account with a passkey (no password at all), or with a password.

use leptos::html::Input;
use leptos::prelude::*;

use crate::pages::Notice;
use crate::server_fns::SignUpWithPassword;

/// Create an account: passkey first, password as the alternative (which works without JavaScript).
#[component]
pub fn SignUpPage() -> impl IntoView {
    let with_password = ServerAction::<SignUpWithPassword>::new();
    let message = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let hydrated = RwSignal::new(false);
    let email = NodeRef::<Input>::new();
    Effect::new(move |_| hydrated.set(true));

    let on_passkey = move |_| {
        let Some(input) = email.get() else { return };
        #[cfg(feature = "hydrate")]
        if input.report_validity() {
            super::run_flow(busy, message, super::flows::sign_up_with_passkey(input.value()));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (input, busy, message);
    };
    let password_error = move || match with_password.value().get() {
        Some(Err(error)) => error.message,
        _ => String::new(),
    };

    view! {
        <section class="card" aria-labelledby="sign-up-title">
            <h1 id="sign-up-title">"Create your account"</h1>
            <ActionForm action=with_password>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" required autocomplete="username" node_ref=email/>
                <button
                    type="button"
                    class="button primary wide"
                    on:click=on_passkey
                    disabled=move || !hydrated.get() || busy.get()
                    data-testid="passkey-sign-up"
                >
                    "Create account with a passkey"
                </button>
                <Notice message=message/>
                <p class="divider"><span>"or choose a password"</span></p>
                <label for="password">"Password " <span class="hint">"(8 to 128 characters)"</span></label>
                <input id="password" name="password" type="password" minlength="8" maxlength="128" autocomplete="new-password"/>
                <Notice message=Signal::derive(password_error)/>
                <button type="submit" class="button wide" disabled=move || with_password.pending().get()>
                    "Create account with password"
                </button>
            </ActionForm>
            <p class="aside">"Already have an account? " <a href="/">"Sign in"</a></p>
        </section>
    }
}
