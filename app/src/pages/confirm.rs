//! "Confirm it's you", in place: a dangerous change (a passkey added or deleted, the password added,
//! changed or removed, the account deleted) needs a sign-in from the last few minutes. When the
//! sign-in is older, the page asks right where the change was made — a passkey prompt, or the
//! password when the account has one — and then makes the change, without leaving the page.
//!
//! Without JavaScript the forms post as they are; the server refuses an old sign-in and the page
//! offers the sign-in page, which comes back (`return_path::confirm_then`).

use leptos::prelude::*;

use crate::navigator;
use crate::pages::{Notice, flows};
use crate::server_fns::{confirm_with_password, confirmation_needed};

/// The prompt, hidden until `open`; once the user has confirmed, it closes and runs `then`. Open,
/// it has the focus; Escape or Cancel closes it and gives the focus back.
/// Whether to offer the password is read from the page (`data-has-password` on the account's
/// facts or passkey list), after hydration, so the server's and the browser's first render agree.
#[component]
pub fn ConfirmPrompt(open: RwSignal<bool>, #[prop(into)] then: Callback<()>) -> impl IntoView {
    let has_password = RwSignal::new(false);
    Effect::new(move |_| {
        let flag = navigator::attributes("[data-has-password]", "data-has-password");
        has_password.set(flag.first().is_some_and(|value| value == "true"));
    });
    let message = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let password = NodeRef::<leptos::html::Input>::new();
    // Opened, it takes the focus (on its passkey button); closed without confirming, it gives the
    // focus back to where the change was asked for.
    let first = NodeRef::<leptos::html::Button>::new();
    let came_from = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if open.get() {
            came_from.set(navigator::focused_id());
            if let Some(button) = first.get() {
                let _ = button.focus();
            }
        }
    });
    let cancel = move || {
        open.set(false);
        if let Some(id) = came_from.get_untracked() {
            navigator::focus(&id);
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            cancel();
        }
    };
    let confirmed = move || {
        busy.set(false);
        open.set(false);
        then.run(());
    };
    let with_passkey = move |_| {
        busy.set(true);
        message.set(String::new());
        leptos::task::spawn_local(async move {
            match flows::confirm_with_passkey().await {
                Ok(()) => confirmed(),
                Err(sentence) => {
                    message.set(sentence);
                    busy.set(false);
                }
            }
        });
    };
    let with_password = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The prompt's own form is not one of the changes it guards.
        ev.stop_propagation();
        let Some(typed) = password.get().map(|input| input.value()) else { return };
        busy.set(true);
        message.set(String::new());
        leptos::task::spawn_local(async move {
            match confirm_with_password(typed).await {
                Ok(()) => confirmed(),
                Err(error) => {
                    message.set(error.message().to_owned());
                    busy.set(false);
                }
            }
        });
    };
    view! {
        <div class="confirm-prompt" role="group" aria-label="Confirm it's you" hidden=move || !open.get() data-testid="confirm-prompt"
            on:keydown=on_key>
            <p><strong>"Confirm it's you"</strong></p>
            <p class="meta">"This change needs a recent sign-in. Use your passkey or your password, and it goes on."</p>
            <button type="button" class="button small" on:click=with_passkey disabled=move || busy.get() data-testid="confirm-with-passkey"
                node_ref=first>
                "Use your passkey"
            </button>
            <form class="inline" on:submit=with_password hidden=move || !has_password.get()>
                <label>"Or your password " <input type="password" node_ref=password required autocomplete="current-password" data-testid="confirm-password"/></label>
                <button type="submit" class="button small" disabled=move || busy.get() data-testid="confirm-with-password">"Confirm"</button>
            </form>
            <button type="button" class="button small" on:click=move |_| cancel() data-testid="confirm-cancel">"Cancel"</button>
            <Notice message=message/>
        </div>
    }
}

/// Wraps plain forms that make a dangerous change: on submit it asks the server whether the sign-in
/// is still recent; if not, it asks "confirm it's you" and then sends the form. Each form needs an
/// `id`. No props (see `pages/mod.rs` on bundle weight).
// Islands of signed-in pages are not in the sign-in pages' bundle (pages/mod.rs).
#[cfg_attr(not(feature = "sign-in-bundle"), island)]
#[cfg_attr(feature = "sign-in-bundle", component)]
pub fn ConfirmFirst(children: Children) -> impl IntoView {
    let open = RwSignal::new(false);
    let pending = RwSignal::new(None::<String>);
    // Until the WASM arrives the forms post as they are; it says when the island has taken over.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let guard = move |ev: leptos::ev::SubmitEvent| {
        let Some(form) = navigator::submitted_form(&ev) else { return };
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            if matches!(confirmation_needed().await, Ok(true)) {
                pending.set(Some(form));
                open.set(true);
            } else {
                // Recent enough, or the question failed: the server decides either way.
                navigator::submit(&form);
            }
        });
    };
    let go_on = move |()| {
        if let Some(form) = pending.get_untracked() {
            navigator::submit(&form);
        }
    };
    view! {
        <div class="confirm-first" on:submit=guard data-hydrated=move || hydrated.get().to_string()>
            {children()}
            <ConfirmPrompt open then=go_on/>
        </div>
    }
}
