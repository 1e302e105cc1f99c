//! The sign-up page: an account with a passkey (no password at all), or with a password. The page
//! is server-rendered; the passkey button is its island, and the password form is a plain HTML form.

use leptos::prelude::*;

use crate::navigator;
use crate::pages::{Notice, PasskeyButton, action_error, flows, run_flow};
use crate::server_fns::SignUpWithPassword;

/// Create an account: passkey first, password as the alternative (which works without JavaScript).
#[component]
pub fn SignUpPage() -> impl IntoView {
    let with_password = ServerAction::<SignUpWithPassword>::new();
    view! {
        <section class="card" aria-labelledby="sign-up-title">
            <h1 id="sign-up-title">"Create your account"</h1>
            <ActionForm action=with_password>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" required autocomplete="username"/>
                <PasskeySignUp email_field="email".to_owned()/>
                <p class="divider"><span>"or choose a password"</span></p>
                <label for="password">"Password " <span class="hint">"(8 to 128 characters)"</span></label>
                <input id="password" name="password" type="password" minlength="8" maxlength="128" autocomplete="new-password"/>
                <Notice message=action_error(with_password)/>
                <button type="submit" class="button wide">"Create account with password"</button>
            </ActionForm>
            <p class="aside">"Already have an account? " <a href="/">"Sign in"</a></p>
        </section>
    }
}

/// The passkey sign-up button, for the address in the page's `email_field` (checked by the browser
/// first, as the form would).
#[island]
fn PasskeySignUp(email_field: String) -> impl IntoView {
    let message = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let on_passkey = move || {
        if let Some(email) = navigator::valid_input(&email_field) {
            run_flow(busy, message, flows::sign_up_with_passkey(email));
        }
    };
    view! { <PasskeyButton label="Create account with a passkey" test_id="passkey-sign-up" busy message on_click=on_passkey/> }
}
