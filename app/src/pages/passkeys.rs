//! The passkeys page: list, add, rename, delete with confirmation. The server renders the list;
//! renaming and deleting are plain forms (they work without JavaScript: "Rename" and "Delete…" open
//! the row's form or confirmation through the address, `?rename=<id>` / `?delete=<id>`, and each
//! change comes back to the page with `?done=<what>`). Adding a passkey needs the browser's
//! `navigator.credentials`: that, and telling the browser's passkey provider which passkeys the
//! account still has (the Signal API), are the page's islands.

use leptos::html::Input;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use proto::{AccountView, PasskeyItem};

use crate::error::ErrorCode;
use crate::navigator::{self, Prompt};
use crate::pages::confirm::{ConfirmFirst, ConfirmPrompt};
use crate::pages::{Moment, Notice, RequireSignIn, SignInPrompt, Welcome, action_error, action_failure, flows};
use crate::return_path::confirm_then;
use crate::server_fns::{DeleteMyPasskey, RenameMyPasskey, my_account};

/// The signed-in account's passkeys.
#[component]
pub fn PasskeysPage() -> impl IntoView {
    view! { <Title text="Passkeys"/> <RequireSignIn><Passkeys/></RequireSignIn> }
}

/// What the address asks the page to show.
#[derive(Clone, Default)]
struct Shown {
    /// `?rename=<id>`: that passkey's name form.
    renaming: Option<String>,
    /// `?delete=<id>`: that passkey's confirmation.
    deleting: Option<String>,
    /// `?done=<what>`: what just happened.
    done: Option<&'static str>,
    /// `?offer=1`: the visitor just signed in with a password.
    offered: bool,
    /// `?welcome=1`: the account was just made.
    welcome: bool,
}

impl Shown {
    fn from_query() -> Self {
        use_query_map().with_untracked(|q| Self {
            renaming: q.get("rename"),
            deleting: q.get("delete"),
            done: q.get("done").as_deref().and_then(done_message),
            offered: q.get("offer").is_some(),
            welcome: q.get("welcome").is_some(),
        })
    }
}

/// The sentence for `?done=<what>` (only these: the address cannot make the page say anything else).
fn done_message(what: &str) -> Option<&'static str> {
    match what {
        "added" => Some("Passkey added."),
        "recovered" => Some(
            "Your account is recovered: the new passkey is added (it reads \"Last used\" today) and you are signed in with it. Delete the passkeys you lost.",
        ),
        "created" => Some("A passkey was created for this account. Next time, sign in with it."),
        "renamed" => Some("The passkey was renamed."),
        "deleted" => Some("The passkey was deleted."),
        _ => None,
    }
}

#[component]
fn Passkeys() -> impl IntoView {
    let account = Resource::new(|| (), |_| my_account());
    let shown = Shown::from_query();
    view! {
        <section class="card" aria-labelledby="passkeys-title">
            <h1 id="passkeys-title">"Your passkeys"</h1>
            <Suspense fallback=|| view! { <p class="status">"Loading your passkeys…"</p> }>
                {move || {
                    let shown = shown.clone();
                    Suspend::new(async move {
                        match account.await {
                            Ok(account) => view! { <PasskeyList account shown/> }.into_any(),
                            Err(error) => view! { <SignInPrompt message=error.message().to_owned()/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn PasskeyList(account: AccountView, shown: Shown) -> impl IntoView {
    let rename = ServerAction::<RenameMyPasskey>::new();
    let delete = ServerAction::<DeleteMyPasskey>::new();
    let delete_failed = action_failure(delete);
    let count = account.passkeys.len();
    let only_device_bound = count == 1 && account.passkeys.iter().all(|p| !p.backup_eligible);
    let offer = shown.offered && count == 0;
    let done = shown.done.unwrap_or_default().to_owned();
    let rows = account
        .passkeys
        .into_iter()
        .map(|item| {
            let action = match (&shown.renaming, &shown.deleting) {
                (Some(id), _) if *id == item.id => RowAction::Renaming,
                (_, Some(id)) if *id == item.id => RowAction::Deleting,
                _ => RowAction::None,
            };
            view! { <PasskeyRow item action rename delete/> }
        })
        .collect_view();

    let user = account.user.clone();
    view! {
        {shown.welcome.then(|| view! { <Welcome email=user.email.clone() confirmed=user.email_verified/> })}
        <Notice message=done success=true/>
        <Notice message=action_error(rename)/>
        <Notice message=action_error(delete)/>
        // Deleting needs a recent sign-in: the way to make one, and back here.
        {move || {
            let old = matches!(delete_failed.get(), Some(e) if e.code() == ErrorCode::ReauthenticationRequired);
            old.then(|| view! { <p><a class="button small" href=confirm_then("/passkeys") data-testid="confirm-its-you">"Sign in again"</a></p> })
        }}
        // The offer holds the way to act on it, and the way to decline it.
        {offer.then(|| view! {
            <div class="offer" data-testid="passkey-offer">
                <h2>"Sign in faster next time"</h2>
                <p>"You signed in with a password. Add a passkey and sign in with your fingerprint, face or screen lock instead."</p>
                <AddPasskey/>
                <p><a class="button" href="/" data-testid="offer-not-now">"Not now"</a></p>
            </div>
            <QuietPasskeyOffer/>
        })}
        {(count == 0 && !offer).then(|| view! {
            <p class="status">"No passkeys yet. Add one to sign in without a password."</p>
        })}
        // The account's passkeys as the browser's passkey provider should know them (SyncPasskeyProvider).
        <ul class="passkeys" id="passkey-list" aria-label="Passkeys" data-rp-id=account.rp_id data-user-id=account.user_handle
            data-has-password=account.has_password.to_string()>
            {rows}
        </ul>
        <SyncPasskeyProvider/>
        {only_device_bound.then(|| view! {
            <p class="hint-box" data-testid="second-passkey-hint">
                "Your only passkey lives on one device. Add a second passkey on another device, so that you can still sign in if you lose this one."
            </p>
        })}
        {(!offer).then(|| view! { <AddPasskey/> })}
    }
}

/// What a row shows besides the passkey.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RowAction {
    /// The "Rename" and "Delete…" buttons.
    None,
    /// The name form.
    Renaming,
    /// "Delete this passkey?"
    Deleting,
}

#[component]
fn PasskeyRow(
    item: PasskeyItem,
    action: RowAction,
    rename: ServerAction<RenameMyPasskey>,
    delete: ServerAction<DeleteMyPasskey>,
) -> impl IntoView {
    let synced = item.backed_up;
    let badge = if synced {
        "Synced"
    } else if item.backup_eligible {
        "Not yet synced"
    } else {
        "This device only"
    };
    let id = item.id.clone();
    let name_field = format!("name-{id}");

    let name = match action {
        RowAction::Renaming => {
            let id = id.clone();
            view! {
            <ActionForm action=rename attr:class="inline">
                <input type="hidden" name="id" value=id.clone()/>
                <label class="visually-hidden" for=name_field.clone()>"Passkey name"</label>
                <input id=name_field name="name" value=item.name.clone() maxlength="64" required autofocus/>
                <button type="submit" class="button small">"Save"</button>
                <a class="button small" href="/passkeys">"Cancel"</a>
            </ActionForm>
            }
            .into_any()
        }
        _ => view! { <strong class="passkey-name">{item.name.clone()}</strong> }.into_any(),
    };
    let actions = match action {
        RowAction::Deleting => {
            let id = id.clone();
            view! {
            <div class="confirm" role="group" aria-label="Confirm deletion">
                "Delete this passkey? "
                <ConfirmFirst>
                    <ActionForm action=delete attr:class="inline" attr:id="delete-passkey">
                        <input type="hidden" name="id" value=id.clone()/>
                        <label class="check">
                            <input type="checkbox" name="end_sign_ins" value="yes" checked/>
                            " Also sign out where it was used to sign in"
                        </label>
                        <button type="submit" class="button small danger">"Delete"</button>
                    </ActionForm>
                </ConfirmFirst>
                <a class="button small" href="/passkeys" autofocus>"Keep"</a>
            </div>
            }
            .into_any()
        }
        // Each opens the row's form: a link's job, but a button is what a person looks for.
        _ => view! {
            <form method="get" action="/passkeys" class="inline">
                <button type="submit" class="button small" name="rename" value=id.clone()>"Rename"</button>
            </form>
            <form method="get" action="/passkeys" class="inline">
                <button type="submit" class="button small" name="delete" value=id.clone()>"Delete…"</button>
            </form>
        }
        .into_any(),
    };

    view! {
        <li class="passkey" data-testid="passkey" data-credential-id=id>
            <div class="passkey-main">
                {item.authenticator.icon_light.clone().map(|src| view! { <img class="icon" src=src alt="" width="24" height="24"/> })}
                <div>
                    {name}
                    <p class="meta">
                        {item.authenticator.name.clone()} " · "
                        <span class=if synced { "badge synced" } else { "badge" }>{badge}</span>
                    </p>
                    <p class="meta">
                        "Added " <Moment at=item.created_at.clone()/>
                        " · "
                        {match item.last_used_at.clone() {
                            Some(at) => view! { "Last used " <Moment at/> }.into_any(),
                            None => view! { "Never used" }.into_any(),
                        }}
                    </p>
                </div>
            </div>
            <div class="passkey-actions">{actions}</div>
        </li>
    }
}

/// Tells the browser's passkey provider which passkeys the account has, as listed on the page
/// (`PublicKeyCredential.signalAllAcceptedCredentials`), each time the page is shown: after a
/// deletion here, and after one made elsewhere (another browser, the REST API). No props: it reads
/// the list the server rendered, as an island's props would bring a JSON parser into the bundle.
// Islands of signed-in pages are not in the sign-in pages' bundle (pages/mod.rs).
#[cfg_attr(not(feature = "sign-in-bundle"), island)]
#[cfg_attr(feature = "sign-in-bundle", component)]
fn SyncPasskeyProvider() -> impl IntoView {
    Effect::new(move |_| {
        let list =
            (navigator::attribute("passkey-list", "data-rp-id"), navigator::attribute("passkey-list", "data-user-id"));
        if let (Some(rp_id), Some(user_id)) = list {
            let ids = navigator::attributes("#passkey-list [data-credential-id]", "data-credential-id");
            navigator::signal_all_accepted_credentials(&rp_id, &user_id, &ids);
        }
    });
}

/// After a password sign-in, browsers with conditional create make a passkey silently; the page
/// then shows it.
#[cfg_attr(not(feature = "sign-in-bundle"), island)]
#[cfg_attr(feature = "sign-in-bundle", component)]
fn QuietPasskeyOffer() -> impl IntoView {
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            if flows::add_passkey(String::new(), Prompt::Background).await == Ok(flows::Added::Done) {
                navigator::go("/passkeys?done=created");
            }
        });
    });
}

/// "Add a passkey", with an optional name; the page is shown again with the new passkey. An old
/// sign-in is asked to confirm it's you in place, and then the passkey is made.
#[cfg_attr(not(feature = "sign-in-bundle"), island)]
#[cfg_attr(feature = "sign-in-bundle", component)]
fn AddPasskey() -> impl IntoView {
    let busy = RwSignal::new(false);
    let hydrated = RwSignal::new(false);
    let confirm = RwSignal::new(false);
    let name = NodeRef::<Input>::new();
    let error = RwSignal::new(String::new());
    Effect::new(move |_| hydrated.set(true));
    let add = move || {
        let label = name.get_untracked().map(|i| i.value()).unwrap_or_default();
        busy.set(true);
        error.set(String::new());
        leptos::task::spawn_local(async move {
            match flows::add_passkey(label, Prompt::Modal).await {
                Ok(flows::Added::Done) => navigator::go("/passkeys?done=added"),
                Ok(flows::Added::ConfirmFirst) => {
                    confirm.set(true);
                    busy.set(false);
                }
                Err(text) => {
                    error.set(text);
                    busy.set(false);
                }
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add();
    };
    view! {
        <ConfirmPrompt open=confirm then=move |()| add()/>
        <form class="add-passkey" on:submit=submit>
            <label for="new-passkey-name">"Name for the new passkey " <span class="hint">"(optional)"</span></label>
            <input id="new-passkey-name" node_ref=name maxlength="64" placeholder="e.g. Work laptop"/>
            <button type="submit" class="button primary" disabled=move || !hydrated.get() || busy.get() data-testid="add-passkey">
                "Add a passkey"
            </button>
            <Notice message=error/>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_can_only_pick_one_of_the_pages_own_sentences() {
        assert_eq!(done_message("renamed"), Some("The passkey was renamed."));
        assert_eq!(done_message("<script>"), None);
        assert_eq!(done_message(""), None);
    }
}
