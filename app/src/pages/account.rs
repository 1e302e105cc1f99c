//! The account page: who is signed in, their display name, their password (added, changed,
//! removed), their apps (each one's access can be removed), where they are signed in (each sign-in
//! can be ended, or all but this one), recent activity, sign-out and deletion — plain forms, which work without JavaScript. Its islands tell
//! the browser's passkey provider the account's current name, and that a deleted account's
//! passkeys are gone (the Signal API).

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use proto::{AccountView, ActivityItem, AppItem, HeldPasskey, PendingEmail, SignInItem};

use crate::error::ErrorCode;
use crate::navigator;
use crate::pages::confirm::{ConfirmFirst, ConfirmPrompt};
use crate::pages::{Moment, Notice, RequireSignIn, SignInPrompt, action_error, action_failure};
use crate::return_path::confirm_then;
use crate::server_fns::{
    ChangeMyEmail, DeleteMyAccount, EndMyOtherSignIns, EndMySignIn, RemoveAppAccess, RemoveMyPassword, RenameMe,
    SendVerification, SetMyPassword, UndoHeldRecovery, VerifyEmailCode, delete_my_account, my_account, my_activity,
    my_apps, my_sign_ins,
};

/// The signed-in account.
#[component]
pub fn AccountPage() -> impl IntoView {
    view! { <Title text="Your account"/> <RequireSignIn><Account/></RequireSignIn> }
}

#[component]
fn Account() -> impl IntoView {
    let account = Resource::new(|| (), |_| my_account());
    let sign_ins = Resource::new(|| (), |_| my_sign_ins());
    let apps = Resource::new(|| (), |_| my_apps());
    // `?done=<what>`: a form came back here; `?activity=<page>`: older events.
    let (done, page) = use_query_map().with_untracked(|q| {
        let done = q.get("done").as_deref().and_then(done_message).unwrap_or_default();
        (done, q.get("activity").and_then(|p| p.parse::<u32>().ok()).unwrap_or(0))
    });
    let activity = Resource::new(move || page, my_activity);
    view! {
        <section class="card" aria-labelledby="account-title">
            <h1 id="account-title">"Your account"</h1>
            <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match (account.await, sign_ins.await, activity.await, apps.await) {
                        (Ok(view), Ok(sign_ins), Ok(activity), Ok(apps)) => view! {
                            <Notice message=done.to_owned() success=true/>
                            <AccountDetails account=view.clone()/>
                            <PasswordSection email=view.user.email.clone() has_password=view.has_password has_passkey=!view.passkeys.is_empty()/>
                            <YourApps apps/>
                            <SignIns sign_ins/>
                            <RecentActivity activity page/>
                            <DeleteAccount/>
                        }
                        .into_any(),
                        (Err(error), _, _, _) | (_, Err(error), _, _) | (_, _, Err(error), _) | (_, _, _, Err(error)) => {
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
        "password" => Some("Your password was saved. You were signed out everywhere else."),
        "verified" => Some("Your email address is confirmed."),
        "verification_sent" => Some("A new link and code are on their way to your inbox."),
        "email_change" => {
            Some("A link and code are on their way to the new address. Your email changes once you confirm it there.")
        }
        "recovery_undone" => Some("The passkey the recovery added is removed, and everyone who used it is signed out."),
        "app_removed" => Some("The app's access is removed: it is signed out, and asks you again next time."),
        "password_removed" => {
            Some("Your password was removed. You sign in with your passkeys now; you were signed out everywhere else.")
        }
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
            data-name=user.email.clone() data-display-name=display data-has-password=account.has_password.to_string()>
            <dt>"Email"</dt>
            <dd>
                <span data-testid="account-email">{user.email.clone()}</span> " "
                {if user.email_verified {
                    view! { <span class="badge synced" data-testid="email-state">"Confirmed"</span> }.into_any()
                } else {
                    view! { <span class="badge" data-testid="email-state">"Not confirmed"</span> }.into_any()
                }}
            </dd>
            <dt>"Member since"</dt>
            <dd><time datetime=user.created_at.clone()>{user.created_at.chars().take(10).collect::<String>()}</time></dd>
        </dl>
        <SyncAccountName/>
        {(!user.email_verified).then(|| view! { <ConfirmEmail/> })}
        {account.pending_email.map(|pending| view! { <PendingChange pending/> })}
        {(!account.held.is_empty()).then(|| view! { <HeldPasskeys held=account.held.clone() here=account.held_here/> })}
        <ChangeEmail/>
        <ActionForm action=rename attr:class="inline">
            <label for="display-name">"Display name"</label>
            <input id="display-name" name="name" value=user.name.unwrap_or_default() maxlength="64" autocomplete="name"/>
            <button type="submit" class="button small">"Save"</button>
        </ActionForm>
        <Notice message=action_error(rename)/>
    }
}

/// A new email address: mailed a link and code; the account moves to it once confirmed. Needs a
/// recent sign-in (confirmed in place).
#[component]
fn ChangeEmail() -> impl IntoView {
    let change = ServerAction::<ChangeMyEmail>::new();
    // Closed until asked for; open again when it came back with an error.
    let failed = action_failure(change).get_untracked().is_some();
    view! {
        <details class="change-email" open=failed>
            <summary data-testid="open-change-email">"Change email address"</summary>
            <ConfirmFirst>
                <ActionForm action=change attr:class="inline" attr:id="change-email-form">
                    <label for="new-email">"New email address"</label>
                    <input id="new-email" name="email" type="email" required autocomplete="email"/>
                    <button type="submit" class="button small" data-testid="change-email">"Change email"</button>
                </ActionForm>
            </ConfirmFirst>
            <Notice message=action_error(change)/>
        </details>
    }
}

/// A change of address waiting for the new address's confirmation, so that one asked from a
/// sign-in the owner does not know about is seen (signing out everywhere else cancels it).
#[component]
fn PendingChange(pending: PendingEmail) -> impl IntoView {
    let until = pending.until.chars().take(16).collect::<String>().replace('T', " ");
    view! {
        <div class="hint-box" data-testid="pending-email">
            <p>
                "Waiting for confirmation: your email changes to " <strong>{pending.email}</strong>
                " once that address is confirmed (until " <time datetime=pending.until.clone()>{until}" UTC"</time>
                "). If you did not ask for this, sign out everywhere else or change your password: that cancels it."
            </p>
        </div>
    }
}

/// Passkeys a mailed recovery link added, still held. From a sign-in made with one: what it cannot
/// do yet. From any other: "this wasn't me", which removes them and ends their sign-ins.
#[component]
fn HeldPasskeys(held: Vec<HeldPasskey>, here: bool) -> impl IntoView {
    let undo = ServerAction::<UndoHeldRecovery>::new();
    let names = held.iter().map(|p| format!("“{}”", p.name)).collect::<Vec<_>>().join(", ");
    let until = held.iter().map(|p| p.until.clone()).max().unwrap_or_default();
    let shown = until.chars().take(16).collect::<String>().replace('T', " ");
    view! {
        <div class="hint-box" data-testid="held-passkeys">
            {if here {
                view! {
                    <p>
                        "You signed in with a passkey added by a recovery link sent by email. Until "
                        <time datetime=until.clone()>{shown}" UTC"</time>
                        ", it cannot add or delete passkeys, change the password or the email address, or delete the account."
                    </p>
                }.into_any()
            } else {
                view! {
                    <p>"A recovery link sent by email added the passkey " {names} " to this account. If that wasn't you:"</p>
                    <ActionForm action=undo attr:class="inline">
                        <button type="submit" class="button danger small" data-testid="undo-held-recovery">"This wasn't me: remove it"</button>
                    </ActionForm>
                    <Notice message=action_error(undo)/>
                }.into_any()
            }}
        </div>
    }
}

/// An address not yet confirmed: the mailed code, or a new mail.
#[component]
fn ConfirmEmail() -> impl IntoView {
    let code = ServerAction::<VerifyEmailCode>::new();
    let resend = ServerAction::<SendVerification>::new();
    view! {
        <div class="hint-box" data-testid="confirm-email">
            <p>"Confirm your email address with the link or the code we mailed to it."</p>
            <ActionForm action=code attr:class="inline">
                <label for="email-code">"Code from the email"</label>
                <input id="email-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="12" required/>
                <button type="submit" class="button small">"Confirm"</button>
            </ActionForm>
            <Notice message=action_error(code)/>
            <ActionForm action=resend attr:class="inline">
                <button type="submit" class="button small" data-testid="send-verification">"Send a new link"</button>
            </ActionForm>
            <Notice message=action_error(resend)/>
        </div>
    }
}

/// The password: added to a passkey-only account, changed, or removed while a passkey remains.
/// Each needs a recent sign-in; without one the page offers to sign in again and come back.
#[component]
fn PasswordSection(email: String, has_password: bool, has_passkey: bool) -> impl IntoView {
    let set = ServerAction::<SetMyPassword>::new();
    let remove = ServerAction::<RemoveMyPassword>::new();
    let (set_failed, remove_failed) = (action_failure(set), action_failure(remove));
    let stale = move || {
        [set_failed.get(), remove_failed.get()]
            .into_iter()
            .any(|failure| matches!(failure, Some(e) if e.code() == ErrorCode::ReauthenticationRequired))
    };
    let (title, label, button) = if has_password {
        ("Password", "New password", "Change password")
    } else {
        ("Password", "Add a password", "Add password")
    };
    view! {
        <h2 class="section-title">{title}</h2>
        <p class="meta" data-testid="password-state">
            {if has_password {
                "You can sign in with your password as well as your passkeys."
            } else {
                "You sign in with passkeys only. A password is a way in if your passkeys are lost."
            }}
        </p>
        <ConfirmFirst>
        <ActionForm action=set attr:class="inline" attr:id="password-form">
            // For the browser's password manager: which account this password belongs to (not sent).
            <input type="email" hidden autocomplete="username" value=email/>
            <label for="new-password">{label} " " <span class="hint">"(8 to 128 characters)"</span></label>
            <input id="new-password" name="password" type="password" required minlength="8" maxlength="128" autocomplete="new-password"/>
            <button type="submit" class="button small" data-testid="set-password">{button}</button>
        </ActionForm>
        {(has_password && has_passkey).then(|| view! {
            <ActionForm action=remove attr:class="inline" attr:id="remove-password-form">
                <button type="submit" class="button small danger" data-testid="remove-password">"Remove password"</button>
            </ActionForm>
        })}
        </ConfirmFirst>
        <Notice message=action_error(set)/>
        {(has_password && !has_passkey).then(|| view! {
            <p class="meta">"Add a passkey to be able to remove your password: it is your only way in."</p>
        })}
        <Notice message=action_error(remove)/>
        {move || stale().then(|| view! {
            <p><a class="button small" href=confirm_then("/account") data-testid="confirm-its-you">"Sign in again"</a></p>
        })}
    }
}

/// The account's recent security events, newest first.
#[component]
fn RecentActivity(activity: (Vec<ActivityItem>, bool), page: u32) -> impl IntoView {
    let (activity, more) = activity;
    let rows = activity
        .into_iter()
        .map(|item| {
            let whence =
                [item.device.clone(), item.address.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
            view! {
                <li class="activity" data-testid="activity" data-kind=item.kind.clone()>
                    <strong>{item.summary.clone()}</strong>
                    <p class="meta">
                        <Moment at=item.at.clone()/>
                        {(!whence.is_empty()).then(|| format!(" · {whence}"))}
                    </p>
                </li>
            }
        })
        .collect_view();
    let link = |page: u32| {
        if page == 0 { "/account#activity".to_owned() } else { format!("/account?activity={page}#activity") }
    };
    view! {
        <h2 class="section-title" id="activity">"Recent activity"</h2>
        <ul class="activity-list" aria-label="Recent activity">{rows}</ul>
        {(page > 0 || more).then(|| view! {
            <nav class="pages" aria-label="Activity pages">
                {(page > 0).then(|| view! { <a href=link(page - 1) data-testid="activity-newer">"Newer"</a> })}
                {more.then(|| view! { <a href=link(page + 1) data-testid="activity-older">"Older"</a> })}
            </nav>
        })}
    }
}

/// The apps the account may use (opened from here when they say where they live) and those it
/// allowed; "Remove access" withdraws the consent and signs the app out.
#[component]
fn YourApps(apps: Vec<AppItem>) -> impl IntoView {
    let remove = ServerAction::<RemoveAppAccess>::new();
    let empty = apps.is_empty();
    let rows = apps
        .into_iter()
        .map(|app| {
            let status = match (app.allowed, app.consented, app.sign_ins) {
                (false, _, _) => "No longer open to your account".to_owned(),
                (true, _, 0) if !app.consented => "Open to your account".to_owned(),
                (true, _, 0) => "Allowed".to_owned(),
                (true, _, 1) => "Allowed · signed in".to_owned(),
                (true, _, n) => format!("Allowed · signed in {n} times"),
            };
            let removable = app.consented || app.sign_ins > 0;
            let (client_id, name) = (app.client_id.clone(), app.name.clone());
            let remove_label = format!("Remove access of {name}");
            view! {
                <li class="app" data-testid="your-app" data-client-id=app.client_id.clone()>
                    {app.logo.clone().map(|logo| view! { <img class="app-logo small" src=logo alt="" width="32" height="32"/> })}
                    <div>
                        <strong>{match app.launch.clone() {
                            Some(launch) => view! { <a href=launch data-testid="launch-app" rel="noopener">{name.clone()}</a> }.into_any(),
                            None => view! { <span>{name.clone()}</span> }.into_any(),
                        }}</strong>
                        <p class="meta">{status}</p>
                    </div>
                    {removable.then(|| view! {
                        <ActionForm action=remove attr:class="inline">
                            <input type="hidden" name="client_id" value=client_id/>
                            <button type="submit" class="button small danger" data-testid="remove-app-access"
                                aria-label=remove_label>"Remove access"</button>
                        </ActionForm>
                    })}
                </li>
            }
        })
        .collect_view();
    view! {
        <h2 class="section-title" id="apps">"Your apps"</h2>
        <Notice message=action_error(remove)/>
        {if empty {
            view! { <p class="meta" data-testid="no-apps">"No app signs in with this account yet."</p> }.into_any()
        } else {
            view! { <ul class="apps" aria-label="Your apps">{rows}</ul> }.into_any()
        }}
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
                        <p class="meta">
                            {how}
                            {item.network.clone().map(|network| view! { " · from " <span data-testid="sign-in-network">{network}</span> })}
                            " · since " <Moment at=item.created_at.clone()/>
                        </p>
                        <p class="meta">"Last used " <Moment at=item.last_used_at.clone()/></p>
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
    let confirm = RwSignal::new(false);
    let delete = move || {
        let Some(typed) = email.get_untracked().map(|input| input.value()) else { return };
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
                // An old sign-in: confirm it's you here, and the deletion goes on.
                Err(error) if error.code() == ErrorCode::ReauthenticationRequired => {
                    confirm.set(true);
                    busy.set(false);
                }
                Err(error) => {
                    message.set(error.message().to_owned());
                    busy.set(false);
                }
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        delete();
    };
    view! {
        <h2 class="section-title">"Delete your account"</h2>
        <p class="meta">"Your account, its passkeys and every sign-in are deleted at once. This cannot be undone."</p>
        <form class="inline" method="post" action=DeleteMyAccount::PATH on:submit=submit data-hydrated=move || hydrated.get().to_string()>
            <label for="delete-email">"Type your email to confirm"</label>
            <input id="delete-email" node_ref=email name="email" type="email" required autocomplete="off"/>
            <button type="submit" class="button small danger" disabled=move || busy.get() data-testid="delete-account">
                "Delete account"
            </button>
        </form>
        <Notice message=message/>
        <ConfirmPrompt open=confirm then=move |()| delete()/>
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
