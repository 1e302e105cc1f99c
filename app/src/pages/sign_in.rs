//! The sign-in page: one button for a passkey, autofill on the email field, password as fallback.
//! Sent here from a page only signed-in visitors may see (`/?next=/notes`), it says why and goes
//! back there after the sign-in. It is also the OpenID Connect provider's sign-in page: an app's
//! authorization request waits in `next`, and the page names the app and fills in its `login_hint`.
//! The page is server-rendered; the passkey button (with autofill) is its one island, and the
//! password form is a plain HTML form.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::navigator;
use crate::pages::{
    AppAt, AppLogo, FailedField, Notice, PasskeyButton, action_error, flows, returned_field, run_flow, sign_in_for,
    sign_up_rule,
};
use crate::return_path::{page_then, safe_return_path};
use crate::server_fns::PasswordSignIn;

/// Sign in: passkey first. The password form posts without JavaScript.
#[component]
pub fn SignInPage() -> impl IntoView {
    let password = ServerAction::<PasswordSignIn>::new();
    let (next, again, deleted, verified, signed_out) = use_query_map().with_untracked(|q| {
        let flag = |name: &str| q.get(name).is_some();
        (q.get("next"), flag("again"), flag("deleted"), flag("verified"), flag("signed_out"))
    });
    let next = next.and_then(|n| safe_return_path(&n).map(str::to_owned));
    let app = next.as_deref().and_then(sign_in_for);
    // A form that failed came back to this address: what its flags said is no longer news.
    let failed = FailedField::of(password);
    let (deleted, verified, signed_out) =
        (deleted && !failed.any(), verified && !failed.any(), signed_out && !failed.any());
    let why = match (&app, &next) {
        (Some(app), _) => format!("{} wants you to sign in.", app.app_name),
        (None, Some(_)) if again => "To make this change, confirm it's you: sign in again.".to_owned(),
        (None, Some(_)) => "Please sign in to see this page.".to_owned(),
        (None, None) if deleted => "Your account was deleted, with its passkeys and sign-ins.".to_owned(),
        (None, None) if verified => "Your email address is confirmed. Sign in to continue.".to_owned(),
        (None, None) if signed_out => "You are signed out.".to_owned(),
        (None, None) => String::new(),
    };
    // An app's name heads the page; the product's stays in the account line below.
    let heading = app.as_ref().map_or_else(navigator::product_name, |app| app.app_name.clone());
    let hint = app.as_ref().and_then(|app| app.login_hint.clone());
    // After a failed post: the address as it was typed, and the focus and the error on their field.
    let email = returned_field("email").or(hint);
    // A visitor sent by a page or an app signs up and goes back there too.
    let sign_up = next.as_deref().map_or_else(|| "/sign-up".to_owned(), |next| page_then("/sign-up", next));

    view! {
        <Title text="Sign in"/>
        <section class="card" aria-labelledby="sign-in-title">
            <AppLogo src=app.as_ref().and_then(|app| app.app_logo.clone())/>
            <h1 id="sign-in-title">"Sign in to " {heading}</h1>
            {(!why.is_empty()).then(|| view! { <p class="status" data-testid="sign-in-reason">{why}</p> })}
            {app.map(|app| view! { <AppAt app/> })}
            <PasskeySignIn/>
            <p class="divider"><span>"or use your email"</span></p>
            <ActionForm action=password>
                // Read by the password form and by the passkey button (flows.rs) alike.
                {next.map(|next| view! { <input type="hidden" id="next" name="next" value=next/> })}
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" required autocomplete="username webauthn" inputmode="email"
                    value=email autofocus=failed.is("email") aria-invalid=failed.invalid("email") aria-describedby=failed.described("email")/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" required autocomplete="current-password"
                    autofocus=failed.is("password") aria-invalid=failed.invalid("password") aria-describedby=failed.described("password")/>
                <Notice id=FailedField::ERROR_ID message=action_error(password)/>
                <button type="submit" class="button wide">"Sign in with password"</button>
            </ActionForm>
            {sign_up_rule().is_ok().then(|| view! { <p class="aside">"New here? " <a href=sign_up>"Create an account"</a></p> })}
            {email_recovery().then(|| view! {
                <p class="aside"><a href="/recover/request" data-testid="lost-passkey">"Lost your passkey?"</a></p>
            })}
        </section>
    }
}

/// The passkey button, and passkey autofill on the page's email field where the browser offers it;
/// both go on to the form's `next` once signed in. With the email field filled in (by the visitor,
/// or from an app's `login_hint`), the button asks for that account's passkeys. (No props: an
/// island's props travel as JSON, and reading them would bring a JSON parser into the bundle.)
#[island]
fn PasskeySignIn() -> impl IntoView {
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
    view! { <PasskeyButton label="Sign in with a passkey" test_id="passkey-sign-in" busy message on_click=on_passkey/> }
}

/// Whether "Lost your passkey?" is offered (`LATCHKEY_EMAIL_RECOVERY`, with mail on). The page is
/// rendered on the server only, so this is asked there.
fn email_recovery() -> bool {
    #[cfg(feature = "ssr")]
    return crate::door::engine().is_ok_and(|engine| engine.config.mail.email_recovery && engine.notify.mail_enabled());
    #[cfg(not(feature = "ssr"))]
    return false;
}
