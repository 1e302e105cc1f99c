//! The sign-up page: an account with a passkey (no password at all), or with a password. The page
//! is server-rendered; the passkey button is its island, and the password form is a plain HTML form.
//! Sent from the sign-in page with a `next` (a page, or an app's authorization request), the new
//! account goes on there.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::navigator;
use crate::pages::{
    AppAt, AppLogo, FailedField, Notice, PasskeyButton, action_error, flows, returned_field, run_flow, sign_in_for,
    sign_up_rule,
};
use crate::return_path::{page_then, safe_return_path};
use crate::server_fns::{SignUpWithPassword, invitation_for};

/// Create an account: passkey first, password as the alternative (which works without JavaScript).
/// With `?invitation=<token>` (the operator's link), the invitation admits it whatever the sign-up
/// rule, for the address it names, if it names one.
#[component]
pub fn SignUpPage() -> impl IntoView {
    let with_password = ServerAction::<SignUpWithPassword>::new();
    let (next, token) = use_query_map().with_untracked(|q| (q.get("next"), q.get("invitation")));
    let next = next.and_then(|n| safe_return_path(&n).map(str::to_owned));
    let sign_in = next.as_deref().map_or_else(|| "/".to_owned(), |next| page_then("/", next));
    // Sent by an app: the page names it. The address the app suggested (`login_hint`) is not filled
    // in here, as it is on the sign-in page: anyone can write that link, and an account made under
    // someone else's address could be taken over through that mailbox.
    let app = next.as_deref().and_then(sign_in_for);
    let invitation = Resource::new(
        move || token.clone(),
        |token| async move {
            match token {
                Some(token) => Some(invitation_for(token.clone()).await.map(|email| (token, email))),
                None => None,
            }
        },
    );
    view! {
        <Title text="Create your account"/>
        <section class="card" aria-labelledby="sign-up-title">
            <AppLogo src=app.as_ref().and_then(|app| app.app_logo.clone())/>
            <h1 id="sign-up-title">"Create your account"</h1>
            {app.map(|app| view! {
                <p class="status" data-testid="sign-in-reason">{format!("{} wants you to sign in.", app.app_name)}</p>
                <AppAt app/>
            })}
            <Suspense fallback=|| ()>
                {move || {
                    let next = next.clone();
                    Suspend::new(async move {
                        match (invitation.await, sign_up_rule()) {
                            // An invitation that cannot be used: why, instead of a form.
                            (Some(Err(why)), _) => {
                                view! { <p class="status" data-testid="invitation-refused">{why.message().to_owned()}</p> }.into_any()
                            }
                            (Some(Ok((token, fixed))), _) => view! {
                                <p class="status" data-testid="invited">"You are invited: make your account."</p>
                                <SignUpForm action=with_password next invitation=Some(token) fixed/>
                            }
                            .into_any(),
                            // Nobody may without an invitation: the form would only fail.
                            (None, Err(why)) => view! { <p class="status" data-testid="sign-up-refused">{why}</p> }.into_any(),
                            (None, Ok(domains)) => view! {
                                {(!domains.is_empty()).then(|| view! {
                                    <p class="meta" data-testid="sign-up-domains">{format!("Accounts here are for addresses at {domains}.")}</p>
                                })}
                                <SignUpForm action=with_password next invitation=None fixed=None/>
                            }
                            .into_any(),
                        }
                    })
                }}
            </Suspense>
            <p class="aside">"Already have an account? " <a href=sign_in>"Sign in"</a></p>
        </section>
    }
}

/// The sign-up form: the email (fixed when an invitation names it), the passkey button, and the
/// password as the alternative; an invitation rides along in a hidden field.
#[component]
fn SignUpForm(
    action: ServerAction<SignUpWithPassword>,
    next: Option<String>,
    invitation: Option<String>,
    fixed: Option<String>,
) -> impl IntoView {
    // After a failed post: the address as it was typed, and the focus and the error on their field.
    let failed = FailedField::of(action);
    let readonly = fixed.is_some();
    let email = fixed.or_else(|| returned_field("email"));
    view! {
        <ActionForm action>
            // Read by the password form and by the passkey button (flows.rs) alike.
            {next.map(|next| view! { <input type="hidden" id="next" name="next" value=next/> })}
            {invitation.map(|token| view! { <input type="hidden" id="invitation" name="invitation" value=token/> })}
            <label for="email">"Email"</label>
            <input id="email" name="email" type="email" required autocomplete="username" readonly=readonly
                value=email autofocus=failed.is("email") aria-invalid=failed.invalid("email") aria-describedby=failed.described("email")/>
            <PasskeySignUp/>
            <p class="divider"><span>"or choose a password"</span></p>
            <label for="password">"Password " <span class="hint">"(8 to 128 characters)"</span></label>
            <input id="password" name="password" type="password" minlength="8" maxlength="128" autocomplete="new-password"
                autofocus=failed.is("password") aria-invalid=failed.invalid("password") aria-describedby=failed.described("password")/>
            <Notice id=FailedField::ERROR_ID message=action_error(action)/>
            <button type="submit" class="button wide">"Create account with password"</button>
        </ActionForm>
    }
}

/// The passkey sign-up button, for the address in the form's `email` field (checked by the browser
/// first, as the form would); the new account goes on to the form's `next`, if it has one. (No
/// props, as on the sign-in page: reading them would bring a JSON parser into the bundle.)
#[island]
fn PasskeySignUp() -> impl IntoView {
    let message = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let on_passkey = move || {
        if let Some(email) = navigator::valid_input("email") {
            run_flow(busy, message, flows::sign_up_with_passkey(email));
        }
    };
    // Enter in the email field, with no password typed, is the passkey button: the form's own
    // submit button is the password's, which would only say a password is missing.
    let enter = window_event_listener(leptos::ev::keydown, move |event| {
        let no_password = navigator::filled_input("password").is_none();
        if navigator::enter_in(&event, "email")
            && no_password
            && navigator::passkeys_supported()
            && !busy.get_untracked()
        {
            event.prevent_default();
            on_passkey();
        }
    });
    on_cleanup(move || enter.remove());
    view! { <PasskeyButton label="Create account with a passkey" test_id="passkey-sign-up" busy message on_click=on_passkey/> }
}
