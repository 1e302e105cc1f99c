//! The account page: who is signed in, their display name and sign-out — plain forms, which work
//! without JavaScript. Its one island tells the browser's passkey provider the account's current
//! name (the Signal API).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use proto::AccountView;

use crate::navigator;
use crate::pages::{Notice, RequireSignIn, SignInPrompt, action_error};
use crate::server_fns::{RenameMe, SignOut, my_account};

/// The signed-in account.
#[component]
pub fn AccountPage() -> impl IntoView {
    view! { <RequireSignIn><Account/></RequireSignIn> }
}

#[component]
fn Account() -> impl IntoView {
    let account = Resource::new(|| (), |_| my_account());
    // `?done=name`: the display name form came back here.
    let saved = use_query_map().with_untracked(|q| q.get("done").as_deref() == Some("name"));
    view! {
        <section class="card" aria-labelledby="account-title">
            <h1 id="account-title">"Your account"</h1>
            <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match account.await {
                        Ok(view) => view! { <AccountDetails account=view saved/> }.into_any(),
                        Err(error) => view! { <SignInPrompt message=error.message().to_owned()/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AccountDetails(account: AccountView, saved: bool) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let rename = ServerAction::<RenameMe>::new();
    let user = account.user;
    let display = user.name.clone().unwrap_or_else(|| user.email.clone());
    let saved = if saved { "Your name was saved." } else { "" };
    view! {
        // The account as the browser's passkey provider should name it (SyncAccountName).
        <dl class="facts" id="account-facts" data-rp-id=account.rp_id data-user-id=account.user_handle
            data-name=user.email.clone() data-display-name=display>
            <dt>"Email"</dt>
            <dd data-testid="account-email">{user.email.clone()}</dd>
            <dt>"Member since"</dt>
            <dd><time datetime=user.created_at.clone()>{user.created_at.chars().take(10).collect::<String>()}</time></dd>
        </dl>
        <SyncAccountName/>
        <ActionForm action=rename attr:class="inline">
            <label for="display-name">"Display name"</label>
            <input id="display-name" name="name" value=user.name.unwrap_or_default() maxlength="64" autocomplete="name"/>
            <button type="submit" class="button small">"Save"</button>
        </ActionForm>
        <Notice message=saved.to_owned() success=true/>
        <Notice message=action_error(rename)/>
        <ActionForm action=sign_out attr:class="sign-out">
            <button type="submit" class="button danger" data-testid="sign-out">"Sign out"</button>
        </ActionForm>
    }
}

/// Tells the browser's passkey provider the account's current name and display name
/// (`PublicKeyCredential.signalCurrentUserDetails`) each time the page is shown, so a name changed
/// here or elsewhere reaches it. No props: it reads what the server rendered (props would bring a
/// JSON parser into the bundle).
// Islands of signed-in pages are not in the sign-in pages' bundle (pages/mod.rs).
#[cfg_attr(not(feature = "sign-in-bundle"), island)]
#[cfg_attr(feature = "sign-in-bundle", component)]
fn SyncAccountName() -> impl IntoView {
    Effect::new(move |_| {
        let read = |name| navigator::attribute("account-facts", name);
        if let (Some(rp_id), Some(user_id), Some(name), Some(display)) =
            (read("data-rp-id"), read("data-user-id"), read("data-name"), read("data-display-name"))
        {
            navigator::signal_current_user_details(&rp_id, &user_id, &name, &display);
        }
    });
}
