//! The account page: who is signed in, their display name, where they are signed in (each sign-in
//! can be ended, or all but this one) and sign-out — plain forms, which work without JavaScript.
//! Its one island tells the browser's passkey provider the account's current name (the Signal API).

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::use_query_map;

use proto::{AccountView, SignInItem};

use crate::error::ErrorCode;
use crate::navigator;
use crate::pages::{Notice, RequireSignIn, SignInPrompt, action_error};
use crate::return_path::confirm_then;
use crate::server_fns::{
    DeleteMyAccount, EndMyOtherSignIns, EndMySignIn, RenameMe, SignOut, delete_my_account, my_account, my_sign_ins,
};

/// The signed-in account.
#[component]
pub fn AccountPage() -> impl IntoView {
    view! { <RequireSignIn><Account/></RequireSignIn> }
}

#[component]
fn Account() -> impl IntoView {
    let account = Resource::new(|| (), |_| my_account());
    let sign_ins = Resource::new(|| (), |_| my_sign_ins());
    // `?done=<what>`: a form came back here.
    let done = use_query_map().with_untracked(|q| q.get("done")).as_deref().and_then(done_message).unwrap_or_default();
    view! {
        <section class="card" aria-labelledby="account-title">
            <h1 id="account-title">"Your account"</h1>
            <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match (account.await, sign_ins.await) {
                        (Ok(view), Ok(sign_ins)) => view! {
                            <Notice message=done.to_owned() success=true/>
                            <AccountDetails account=view/>
                            <SignIns sign_ins/>
                            <SignOutForm/>
                            <DeleteAccount/>
                        }
                        .into_any(),
                        (Err(error), _) | (_, Err(error)) => {
                            view! { <SignInPrompt message=error.message().to_owned()/> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The sentence for `?done=<what>` (only these: the address cannot make the page say anything else).
fn done_message(what: &str) -> Option<&'static str> {
    match what {
        "name" => Some("Your name was saved."),
        "ended" => Some("That sign-in was ended. The device it was on is signed out."),
        "others" => Some("You were signed out everywhere else."),
        _ => None,
    }
}

#[component]
fn AccountDetails(account: AccountView) -> impl IntoView {
    let rename = ServerAction::<RenameMe>::new();
    let user = account.user;
    let display = user.name.clone().unwrap_or_else(|| user.email.clone());
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
        <Notice message=action_error(rename)/>
    }
}

/// Where the account is signed in: each browser, program or app, this one marked; the others can be
/// ended one by one or all at once.
#[component]
fn SignIns(sign_ins: Vec<SignInItem>) -> impl IntoView {
    let end = ServerAction::<EndMySignIn>::new();
    let end_others = ServerAction::<EndMyOtherSignIns>::new();
    let others = sign_ins.iter().filter(|s| !s.current).count();
    let rows = sign_ins
        .into_iter()
        .map(|item| {
            let how = match (item.method.as_str(), &item.passkey_name) {
                ("passkey", Some(name)) => format!("Passkey “{name}”"),
                ("passkey", None) => "A passkey since deleted".to_owned(),
                ("password", _) => "Password".to_owned(),
                _ => "Signed in".to_owned(),
            };
            let (id, current) = (item.id.clone(), item.current);
            view! {
                <li class="sign-in" data-testid="sign-in">
                    <div>
                        <strong title=item.user_agent.clone().unwrap_or_default()>{item.device.clone()}</strong>
                        {current.then(|| view! { " " <span class="badge synced" data-testid="this-device">"This device"</span> })}
                        <p class="meta">{how} " · since " <time datetime=item.created_at.clone()>{minute(&item.created_at)}</time></p>
                        <p class="meta">"Last used " <time datetime=item.last_used_at.clone()>{minute(&item.last_used_at)}</time></p>
                    </div>
                    {(!current).then(|| view! {
                        <ActionForm action=end attr:class="inline">
                            <input type="hidden" name="id" value=id.clone()/>
                            <button type="submit" class="button small danger">"End"</button>
                        </ActionForm>
                    })}
                </li>
            }
        })
        .collect_view();
    view! {
        <h2 class="section-title">"Where you're signed in"</h2>
        <Notice message=action_error(end)/>
        <ul class="sign-ins" aria-label="Sign-ins">{rows}</ul>
        {(others > 0).then(|| view! {
            <ActionForm action=end_others>
                <button type="submit" class="button small" data-testid="end-other-sign-ins">"Sign out everywhere else"</button>
            </ActionForm>
        })}
    }
}

/// `2026-11-30 23:58 UTC` of an RFC 3339 time in UTC.
fn minute(at: &str) -> String {
    format!("{} UTC", at.chars().take(16).collect::<String>().replace('T', " "))
}

/// Signing out needs no JavaScript.
#[component]
fn SignOutForm() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <ActionForm action=sign_out attr:class="sign-out">
            <button type="submit" class="button danger" data-testid="sign-out">"Sign out"</button>
        </ActionForm>
    }
}

/// "Delete your account": the email typed again, and a recent sign-in. With JavaScript the island
/// calls the server function itself, so that once the account is gone it can tell the browser's
/// passkey provider to drop its passkeys (`signalAllAcceptedCredentials` with none); without, the
/// form posts as it is.
// Islands of signed-in pages are not in the sign-in pages' bundle (pages/mod.rs).
#[cfg_attr(not(feature = "sign-in-bundle"), island)]
#[cfg_attr(feature = "sign-in-bundle", component)]
fn DeleteAccount() -> impl IntoView {
    let email = NodeRef::<leptos::html::Input>::new();
    let message = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    // Before the WASM arrives the form still posts (and deletes); it says when the island has taken over.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let delete = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(typed) = email.get().map(|input| input.value()) else { return };
        // Read before the account is gone: which passkeys the provider should forget.
        let read = |name| navigator::attribute("account-facts", name);
        let (rp_id, user_id) = (read("data-rp-id"), read("data-user-id"));
        busy.set(true);
        leptos::task::spawn_local(async move {
            match delete_my_account(typed).await {
                Ok(()) => {
                    if let (Some(rp_id), Some(user_id)) = (rp_id, user_id) {
                        navigator::signal_all_accepted_credentials(&rp_id, &user_id, &[]);
                    }
                    navigator::go("/?deleted=1");
                }
                Err(error) if error.code() == ErrorCode::ReauthenticationRequired => {
                    navigator::go(&confirm_then("/account"));
                }
                Err(error) => {
                    message.set(error.message().to_owned());
                    busy.set(false);
                }
            }
        });
    };
    view! {
        <h2 class="section-title">"Delete your account"</h2>
        <p class="meta">"Your account, its passkeys and every sign-in are deleted at once. This cannot be undone."</p>
        <form class="inline" method="post" action=DeleteMyAccount::PATH on:submit=delete data-hydrated=move || hydrated.get().to_string()>
            <label for="delete-email">"Type your email to confirm"</label>
            <input id="delete-email" node_ref=email name="email" type="email" required autocomplete="off"/>
            <button type="submit" class="button small danger" disabled=move || busy.get() data-testid="delete-account">
                "Delete account"
            </button>
        </form>
        <Notice message=message/>
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
