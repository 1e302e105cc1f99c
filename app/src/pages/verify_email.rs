//! `/verify-email?token=…`, where the mailed link lands: one button that confirms the address. A
//! link alone changes nothing (mail scanners open links); the click posts the token, and works
//! without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::pages::{Notice, action_error};
use crate::server_fns::VerifyEmail;

/// Confirm the email address the link was mailed to.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let verify = ServerAction::<VerifyEmail>::new();
    let token = use_query_map().with_untracked(|q| q.get("token")).unwrap_or_default();
    view! {
        <Title text="Confirm your email address"/>
        <section class="card" aria-labelledby="verify-title">
            <h1 id="verify-title">"Confirm your email address"</h1>
            <p>"Confirm that this email address is yours."</p>
            <ActionForm action=verify>
                <input type="hidden" name="token" value=token/>
                <button type="submit" class="button primary wide" data-testid="confirm-email">"Confirm email address"</button>
            </ActionForm>
            <Notice message=action_error(verify)/>
        </section>
    }
}
