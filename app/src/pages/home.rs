//! `/`: a signed-in visitor's home — who is signed in, their passkeys at a glance, the ways to the
//! account's pages — and, for everyone else, the sign-in page. An address that asks for a sign-in
//! (an app's authorization request or a page in `next`, `again` to confirm it's you) always gets
//! the sign-in page, signed in or not.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use proto::{AccountView, PasskeyItem};

use crate::pages::{Moment, SignInPage, SignInPrompt, SignedIn};
use crate::server_fns::my_account;

/// The home of a signed-in visitor, or the sign-in page.
#[component]
pub fn RootPage() -> impl IntoView {
    let asks_for_sign_in = use_query_map().with_untracked(|q| q.get("next").is_some() || q.get("again").is_some());
    let signed_in = SignedIn::expect();
    view! {
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match signed_in.0.await {
                    Ok(_) if !asks_for_sign_in => view! { <Home/> }.into_any(),
                    _ => view! { <SignInPage/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Home() -> impl IntoView {
    let account = Resource::new(|| (), |_| my_account());
    view! {
        <Title text="Home"/>
        <section class="card" aria-labelledby="home-title">
            <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match account.await {
                        Ok(account) => view! { <Glance account/> }.into_any(),
                        Err(error) => view! { <SignInPrompt message=error.message().to_owned()/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Who is signed in and their passkeys, at a glance.
#[component]
fn Glance(account: AccountView) -> impl IntoView {
    let user = account.user;
    let greeting = user.name.clone().map_or_else(|| "Welcome back".to_owned(), |name| format!("Welcome back, {name}"));
    let passkeys = account.passkeys;
    let none = passkeys.is_empty();
    view! {
        <h1 id="home-title">{greeting}</h1>
        <p data-testid="signed-in-as">"You are signed in as " <strong>{user.email}</strong> "."</p>
        <h2 class="section-title">"Your passkeys"</h2>
        {if none {
            view! {
                <p class="status">"No passkeys yet. Add one to sign in with your fingerprint, face or screen lock."</p>
            }
            .into_any()
        } else {
            view! {
                <ul class="glance" aria-label="Your passkeys">
                    {passkeys.into_iter().map(|passkey| view! { <GlanceRow passkey/> }).collect_view()}
                </ul>
            }
            .into_any()
        }}
        <p class="actions">
            <a class="button" href="/passkeys">{if none { "Add a passkey" } else { "Manage passkeys" }}</a>
            <a class="button" href="/account">"Account and security"</a>
        </p>
    }
}

#[component]
fn GlanceRow(passkey: PasskeyItem) -> impl IntoView {
    view! {
        <li data-testid="glance-passkey">
            <strong>{passkey.name}</strong>
            <span class="meta">
                {passkey.authenticator.name} " · "
                {match passkey.last_used_at {
                    Some(at) => view! { "last used " <Moment at/> }.into_any(),
                    None => view! { "never used" }.into_any(),
                }}
            </span>
        </li>
    }
}
