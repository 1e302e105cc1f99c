//! The sign-in page: one button for a passkey, autofill on the email field, password as fallback.

use leptos::prelude::*;

use crate::navigator;
use crate::pages::{Notice, PasskeyButton, action_error, flows, run_flow};
use crate::server_fns::PasswordSignIn;

/// Sign in: passkey first. The password form is a plain HTML form, so it works without JavaScript.
#[component]
pub fn SignInPage() -> impl IntoView {
    let password = ServerAction::<PasswordSignIn>::new();
    let message = RwSignal::new(String::new());
    let busy = RwSignal::new(false);

    Effect::new(move |_| {
        if navigator::passkeys_supported() {
            // Autofill runs quietly in the background; it only speaks up if it was used and failed.
            leptos::task::spawn_local(async move {
                if let Err(error) = flows::start_autofill().await {
                    message.set(error);
                }
            });
        }
    });

    let on_passkey = move || run_flow(busy, message, flows::sign_in_with_passkey());

    view! {
        <section class="card" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">"Sign in to " {navigator::product_name()}</h1>
            <PasskeyButton label="Sign in with a passkey" test_id="passkey-sign-in" busy message on_click=on_passkey/>
            <p class="divider"><span>"or use your email"</span></p>
            <ActionForm action=password>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" required autocomplete="username webauthn" inputmode="email"/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" required autocomplete="current-password"/>
                <Notice message=action_error(password)/>
                <button type="submit" class="button wide" disabled=move || password.pending().get()>
                    "Sign in with password"
                </button>
            </ActionForm>
            <p class="aside">"New here? " <a href="/sign-up">"Create an account"</a></p>
        </section>
    }
}
