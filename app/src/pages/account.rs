//! The account page: who is signed in, their display name (an island), and sign-out (a plain form).

use leptos::html::Input;
use leptos::prelude::*;

use proto::AccountView;

use crate::navigator;
use crate::pages::{Notice, RequireSignIn, SignInPrompt};
use crate::server_fns::{SignOut, my_account, rename_me};

/// The signed-in account.
#[component]
pub fn AccountPage() -> impl IntoView {
    view! { <RequireSignIn><Account/></RequireSignIn> }
}

#[component]
fn Account() -> impl IntoView {
    let account = Resource::new(|| (), |_| my_account());
    view! {
        <section class="card" aria-labelledby="account-title">
            <h1 id="account-title">"Your account"</h1>
            <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match account.await {
                        Ok(view) => view! { <AccountDetails account=view/> }.into_any(),
                        Err(error) => view! { <SignInPrompt message=error.message().to_owned()/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AccountDetails(account: AccountView) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let user = account.user.clone();
    view! {
        <dl class="facts">
            <dt>"Email"</dt>
            <dd data-testid="account-email">{user.email.clone()}</dd>
            <dt>"Member since"</dt>
            <dd><time datetime=user.created_at.clone()>{user.created_at.chars().take(10).collect::<String>()}</time></dd>
        </dl>
        <DisplayNameForm account/>
        // A plain form: signing out needs no JavaScript.
        <ActionForm action=sign_out>
            <button type="submit" class="button danger" data-testid="sign-out">"Sign out"</button>
        </ActionForm>
    }
}

/// The display name, saved in place; the browser's passkey manager is told the new name.
// An island of a signed-in page: not in the sign-in pages' bundle (pages/mod.rs).
#[cfg_attr(not(feature = "sign-in-bundle"), island)]
#[cfg_attr(feature = "sign-in-bundle", component)]
fn DisplayNameForm(account: AccountView) -> impl IntoView {
    let name = NodeRef::<Input>::new();
    let message = RwSignal::new(String::new());
    let current = account.user.name.clone().unwrap_or_default();
    let account = StoredValue::new(account);
    let rename = Action::new(move |name: &String| {
        let name = name.clone();
        async move { rename_me(name).await }
    });
    Effect::new(move |_| match rename.value().get() {
        Some(Ok(user)) => {
            account.with_value(|a| {
                let display = user.name.clone().unwrap_or_else(|| user.email.clone());
                navigator::signal_current_user_details(&a.rp_id, &a.user_handle, &user.email, &display);
            });
            message.set("Your name was saved.".into());
        }
        Some(Err(error)) => message.set(error.message().to_owned()),
        None => {}
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(input) = name.get() {
            rename.dispatch(input.value());
        }
    };
    view! {
        <form class="inline" on:submit=save>
            <label for="display-name">"Display name"</label>
            <input id="display-name" node_ref=name value=current maxlength="64" autocomplete="name"/>
            <button type="submit" class="button small">"Save"</button>
        </form>
        <Notice message=message success=true/>
    }
}
