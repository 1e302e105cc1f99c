//! The passkeys page: list, add, rename inline, delete with confirmation. The server renders the
//! page with the account's passkeys; the list and its buttons are one island, which fetches the
//! list again after each change.

use leptos::html::Input;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use proto::{AccountView, PasskeyItem};

use crate::navigator::{self, Prompt};
use crate::pages::{Notice, RequireSignIn, SignInPrompt, flows};
use crate::server_fns::{delete_my_passkey, my_account, rename_my_passkey};

/// The signed-in account's passkeys.
#[component]
pub fn PasskeysPage() -> impl IntoView {
    view! { <RequireSignIn><Passkeys/></RequireSignIn> }
}

#[component]
fn Passkeys() -> impl IntoView {
    let account = Resource::new(|| (), |_| my_account());
    let offered = use_query_map().with_untracked(|q| q.get("offer").is_some());
    view! {
        <section class="card" aria-labelledby="passkeys-title">
            <h1 id="passkeys-title">"Your passkeys"</h1>
            <Suspense fallback=|| view! { <p class="status">"Loading your passkeys…"</p> }>
                {move || Suspend::new(async move {
                    match account.await {
                        Ok(account) => view! { <PasskeyManager account offered/> }.into_any(),
                        Err(error) => view! { <SignInPrompt message=error.message().to_owned()/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The list with its buttons. Every change bumps `version`, which fetches the account again.
// An island of a signed-in page: not in the sign-in pages' bundle (pages/mod.rs).
#[cfg_attr(not(feature = "sign-in-bundle"), island)]
#[cfg_attr(feature = "sign-in-bundle", component)]
fn PasskeyManager(account: AccountView, offered: bool) -> impl IntoView {
    let account = RwSignal::new(account);
    let version = RwSignal::new(0u32);
    // What went well, and what went wrong, in separately styled live regions.
    let status = RwSignal::new(String::new());
    let message = RwSignal::new(String::new());
    let feedback = Feedback { status, error: message };
    Effect::watch(
        move || version.get(),
        move |_, _, _| {
            leptos::task::spawn_local(async move {
                match my_account().await {
                    Ok(fresh) => account.set(fresh),
                    Err(error) => feedback.fail(error.message().to_owned()),
                }
            });
        },
        false,
    );
    view! {
        <Notice message=status success=true/>
        <Notice message=message/>
        {move || view! { <PasskeyList account=account.get() version feedback offered/> }}
    }
}

/// The page's two live regions.
#[derive(Clone, Copy)]
struct Feedback {
    status: RwSignal<String>,
    error: RwSignal<String>,
}

impl Feedback {
    fn ok(&self, text: &str) {
        self.error.set(String::new());
        self.status.set(text.to_owned());
    }

    fn fail(&self, text: String) {
        self.status.set(String::new());
        self.error.set(text);
    }
}

#[component]
fn PasskeyList(account: AccountView, version: RwSignal<u32>, feedback: Feedback, offered: bool) -> impl IntoView {
    let count = account.passkeys.len();
    let only_device_bound = count == 1 && account.passkeys.iter().all(|p| !p.backup_eligible);
    let account = StoredValue::new(account);
    let offer = offered && count == 0;

    if offer {
        // After a password sign-in, browsers with conditional create make the passkey silently.
        Effect::new(move |_| {
            leptos::task::spawn_local(async move {
                if flows::add_passkey(String::new(), Prompt::Background).await.is_ok() {
                    feedback.ok("A passkey was created for this account. Next time, sign in with it.");
                    version.update(|v| *v += 1);
                }
            });
        });
    }

    view! {
        <Show when=move || offer>
            <div class="offer" data-testid="passkey-offer">
                <h2>"Sign in faster next time"</h2>
                <p>"You signed in with a password. Add a passkey and sign in with your fingerprint, face or screen lock instead."</p>
            </div>
        </Show>
        <Show when=move || count == 0 && !offer>
            <p class="status">"No passkeys yet. Add one to sign in without a password."</p>
        </Show>
        <ul class="passkeys" aria-label="Passkeys">
            {account.with_value(|a| a.passkeys.clone()).into_iter().map(|item| view! { <PasskeyRow item account version feedback/> }).collect_view()}
        </ul>
        <Show when=move || only_device_bound>
            <p class="hint-box" data-testid="second-passkey-hint">
                "Your only passkey lives on one device. Add a second passkey on another device, so that you can still sign in if you lose this one."
            </p>
        </Show>
        <AddPasskey version feedback/>
    }
}

#[component]
fn PasskeyRow(
    item: PasskeyItem,
    account: StoredValue<AccountView>,
    version: RwSignal<u32>,
    feedback: Feedback,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let name_input = NodeRef::<Input>::new();
    let id = StoredValue::new(item.id.clone());
    let synced = item.backed_up;
    let badge = if synced {
        "Synced"
    } else if item.backup_eligible {
        "Not yet synced"
    } else {
        "This device only"
    };
    let icon = item.authenticator.icon_light.clone();
    let name = item.name.clone();

    let rename = Action::new(move |name: &String| {
        let (id, name) = (id.get_value(), name.clone());
        async move { rename_my_passkey(id, name).await }
    });
    let delete = Action::new(move |_: &()| {
        let id = id.get_value();
        async move { delete_my_passkey(id).await }
    });
    Effect::new(move |_| match rename.value().get() {
        Some(Ok(_)) => {
            editing.set(false);
            feedback.ok("The passkey was renamed.");
            version.update(|v| *v += 1);
        }
        Some(Err(error)) => feedback.fail(error.message().to_owned()),
        None => {}
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => {
            account.with_value(|a| {
                let remaining: Vec<String> =
                    a.passkeys.iter().map(|p| p.id.clone()).filter(|p| *p != id.get_value()).collect();
                navigator::signal_all_accepted_credentials(&a.rp_id, &a.user_handle, &remaining);
            });
            feedback.ok("The passkey was deleted.");
            version.update(|v| *v += 1);
        }
        Some(Err(error)) => feedback.fail(error.message().to_owned()),
        None => {}
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(input) = name_input.get() {
            rename.dispatch(input.value());
        }
    };

    view! {
        <li class="passkey" data-testid="passkey">
            <div class="passkey-main">
                {icon.map(|src| view! { <img class="icon" src=src alt="" width="24" height="24"/> })}
                <div>
                    <Show
                        when=move || editing.get()
                        fallback={
                            let name = name.clone();
                            move || view! { <strong class="passkey-name">{name.clone()}</strong> }
                        }
                    >
                        <form class="inline" on:submit=save>
                            <label class="visually-hidden" for=format!("name-{}", id.get_value())>"Passkey name"</label>
                            <input id=format!("name-{}", id.get_value()) node_ref=name_input value=item.name.clone() maxlength="64" required/>
                            <button type="submit" class="button small">"Save"</button>
                            <button type="button" class="button small" on:click=move |_| editing.set(false)>"Cancel"</button>
                        </form>
                    </Show>
                    <p class="meta">
                        {item.authenticator.name.clone()} " · "
                        <span class=if synced { "badge synced" } else { "badge" }>{badge}</span>
                    </p>
                    <p class="meta">
                        "Added " <time datetime=item.created_at.clone()>{item.created_at.chars().take(10).collect::<String>()}</time>
                        " · "
                        {match item.last_used_at.clone() {
                            Some(at) => view! { "Last used " <time datetime=at.clone()>{at.chars().take(10).collect::<String>()}</time> }.into_any(),
                            None => view! { "Never used" }.into_any(),
                        }}
                    </p>
                </div>
            </div>
            <div class="passkey-actions">
                <Show when=move || !confirming.get() fallback=move || view! {
                    <span role="group" aria-label="Confirm deletion">
                        "Delete this passkey? "
                        <button type="button" class="button small danger" on:click=move |_| { delete.dispatch(()); }>"Delete"</button>
                        <button type="button" class="button small" on:click=move |_| confirming.set(false)>"Keep"</button>
                    </span>
                }>
                    <button type="button" class="button small" on:click=move |_| editing.set(true)>"Rename"</button>
                    <button type="button" class="button small" on:click=move |_| confirming.set(true)>"Delete…"</button>
                </Show>
            </div>
        </li>
    }
}

#[component]
fn AddPasskey(version: RwSignal<u32>, feedback: Feedback) -> impl IntoView {
    let busy = RwSignal::new(false);
    let hydrated = RwSignal::new(false);
    let name = NodeRef::<Input>::new();
    let error = RwSignal::new(String::new());
    Effect::new(move |_| hydrated.set(true));
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let label = name.get().map(|i| i.value()).unwrap_or_default();
        busy.set(true);
        error.set(String::new());
        leptos::task::spawn_local(async move {
            match flows::add_passkey(label, Prompt::Modal).await {
                Ok(()) => {
                    if let Some(input) = name.get_untracked() {
                        input.set_value("");
                    }
                    feedback.ok("Passkey added.");
                    version.update(|v| *v += 1);
                }
                Err(text) => error.set(text),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="add-passkey" on:submit=add>
            <label for="new-passkey-name">"Name for the new passkey " <span class="hint">"(optional)"</span></label>
            <input id="new-passkey-name" node_ref=name maxlength="64" placeholder="e.g. Work laptop"/>
            <button type="submit" class="button primary" disabled=move || !hydrated.get() || busy.get() data-testid="add-passkey">
                "Add a passkey"
            </button>
            <Notice message=error/>
        </form>
    }
}
