//! The portal's pages and the small components they share.

mod account;
mod flows;
mod passkeys;
mod sign_in;
mod sign_up;

use leptos::prelude::*;
use proto::AccountView;

use crate::error::PortalError;

pub use account::AccountPage;
pub use passkeys::PasskeysPage;
pub use sign_in::SignInPage;
pub use sign_up::SignUpPage;

/// A message region that screen readers announce when its text changes.
#[component]
pub fn Notice(#[prop(into)] message: Signal<String>, #[prop(optional)] success: bool) -> impl IntoView {
    let class = if success { "notice notice-ok" } else { "notice notice-error" };
    view! {
        <p class=class role="status" aria-live="polite" data-testid="notice" hidden=move || message.read().is_empty()>
            {move || message.get()}
        </p>
    }
}

/// A page's primary passkey button: disabled until the page has hydrated (it needs the WASM) and while
/// its flow runs, followed by the live region where that flow reports.
#[component]
pub fn PasskeyButton(
    label: &'static str,
    test_id: &'static str,
    busy: RwSignal<bool>,
    message: RwSignal<String>,
    on_click: impl Fn() + 'static,
) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <button
            type="button"
            class="button primary wide"
            on:click=move |_| on_click()
            disabled=move || !hydrated.get() || busy.get()
            data-testid=test_id
        >
            {label}
        </button>
        <Notice message=message/>
    }
}

/// The error of a form's server action, as the sentence to show ("" while there is none).
pub fn action_error<S>(action: ServerAction<S>) -> Signal<String>
where
    S: leptos::server_fn::ServerFn<Output = (), Error = PortalError> + Clone + Send + Sync + 'static,
{
    Signal::derive(move || match action.value().get() {
        Some(Err(error)) => error.message().to_owned(),
        _ => String::new(),
    })
}

/// What a signed-in page shows when nobody is signed in (or the account could not be loaded).
#[component]
pub fn SignInPrompt(message: String) -> impl IntoView {
    view! {
        <p class="status">{message}</p>
        <p><a class="button" href="/">"Sign in"</a></p>
    }
}

/// The navigation of signed-in pages, shown only once `account` has loaded, so a signed-out
/// visitor never sees links they cannot follow.
#[component]
pub fn SignedInNav(account: Resource<Result<AccountView, PortalError>>) -> impl IntoView {
    view! {
        <Transition>
            {move || Suspend::new(async move {
                account.await.is_ok().then(|| view! {
                    <nav class="nav" aria-label="Account">
                        <a href="/passkeys">"Passkeys"</a>
                        <a href="/account">"Account"</a>
                    </nav>
                })
            })}
        </Transition>
    }
}

/// Runs a browser flow (from an event handler) and reports its failure (an empty message means
/// "nothing to say").
pub(crate) fn run_flow<F>(busy: RwSignal<bool>, message: RwSignal<String>, flow: F)
where
    F: std::future::Future<Output = Result<(), String>> + 'static,
{
    busy.set(true);
    message.set(String::new());
    leptos::task::spawn_local(async move {
        if let Err(error) = flow.await {
            message.set(error);
        }
        busy.set(false);
    });
}
