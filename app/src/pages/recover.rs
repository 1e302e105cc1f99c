//! `/recover?token=…`, where an operator's recovery link lands: one button that creates a new
//! passkey for the account (and nothing else), then signs in with it. The link is used when the
//! button is pressed, not when the page opens (mail scanners open links).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::navigator;
use crate::pages::{Notice, PasskeyButton, action_error, flows};
use proto::RecoveryFor;

use crate::server_fns::{RequestRecovery, UndoRecovery, recovery_link_account};

/// Recover an account whose passkeys are lost. The page names the account the link is for, and
/// says so when another account is signed in here (the link is refused until it signs out).
#[component]
pub fn RecoverPage() -> impl IntoView {
    let token = use_query_map().with_untracked(|q| q.get("token")).unwrap_or_default();
    let asked = token.clone();
    let link = Resource::new(|| (), move |_| recovery_link_account(asked.clone()));
    view! {
        <Title text="Recover your account"/>
        <section class="card" aria-labelledby="recover-title">
            <h1 id="recover-title">"Recover your account"</h1>
            <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match link.await {
                        Ok(RecoveryFor { email: Some(email), signed_in_as_another: None }) => view! {
                            <p>
                                "This link lets you add a new passkey to the account " <strong data-testid="recovery-account">{email}</strong>
                                ", once. Create it on the device you want to sign in with from now on."
                            </p>
                            <p class="meta">"Then delete the passkeys you lost, on your passkeys page."</p>
                        }.into_any(),
                        Ok(RecoveryFor { email: Some(email), signed_in_as_another: Some(here) }) => view! {
                            <p>
                                "This link is for the account " <strong data-testid="recovery-account">{email}</strong>
                                ", but you are signed in as " <strong>{here}</strong> " in this browser. "
                                "Sign out first, then open the link again."
                            </p>
                        }.into_any(),
                        Ok(RecoveryFor { email: None, .. }) => view! {
                            <p class="error" role="alert">
                                "This link was already used, has expired, or belongs to another browser. Ask for a new one."
                            </p>
                        }.into_any(),
                        Err(error) => view! { <p class="error" role="alert">{error.message().to_owned()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <div id="recovery" data-token=token></div>
            <RecoverWithPasskey/>
        </section>
    }
}

/// The button: uses the link, creates the passkey, signs in. No props: the token is read from the
/// page (see `pages/mod.rs` on bundle weight).
#[island]
fn RecoverWithPasskey() -> impl IntoView {
    let busy = RwSignal::new(false);
    let message = RwSignal::new(String::new());
    let recover = move || {
        let token = navigator::attribute("recovery", "data-token").unwrap_or_default();
        busy.set(true);
        message.set(String::new());
        leptos::task::spawn_local(async move {
            if let Err(text) = flows::recover(token).await {
                message.set(text);
                busy.set(false);
            }
        });
    };
    view! { <PasskeyButton label="Create a new passkey" test_id="recover" busy message on_click=recover/> }
}

/// `/recover/request`: "Lost your passkey?" — the email, and a link is mailed if the account has
/// that confirmed address (`LATCHKEY_EMAIL_RECOVERY`). A plain form; the answer is the same for
/// every address.
#[component]
pub fn RequestRecoveryPage() -> impl IntoView {
    let request = ServerAction::<RequestRecovery>::new();
    let sent = use_query_map().with_untracked(|q| q.get("sent").is_some());
    view! {
        <Title text="Lost your passkey?"/>
        <section class="card" aria-labelledby="lost-title">
            <h1 id="lost-title">"Lost your passkey?"</h1>
            {if sent {
                view! {
                    <p class="status" data-testid="recovery-sent">
                        "If an account has this confirmed email address, a link is on its way. It works once, in this browser, for 15 minutes."
                    </p>
                }.into_any()
            } else {
                view! {
                    <p>"Enter your account's email address. If it is confirmed, we mail it a link that lets you add a new passkey in this browser."</p>
                    <ActionForm action=request>
                        <label for="email">"Email"</label>
                        <input id="email" name="email" type="email" required autocomplete="username"/>
                        <button type="submit" class="button primary wide" data-testid="request-recovery">"Mail me a link"</button>
                    </ActionForm>
                    <Notice message=action_error(request)/>
                }.into_any()
            }}
        </section>
    }
}

/// `/recover/undo?token=…`, from the mail about a used recovery link: "this wasn't me", one button
/// (a click, so a mail scanner that opens links undoes nothing). A plain form.
#[component]
pub fn UndoRecoveryPage() -> impl IntoView {
    let undo = ServerAction::<UndoRecovery>::new();
    let (token, done) =
        use_query_map().with_untracked(|q| (q.get("token").unwrap_or_default(), q.get("done").is_some()));
    view! {
        <Title text="This wasn’t me"/>
        <section class="card" aria-labelledby="undo-title">
            <h1 id="undo-title">"This wasn't me"</h1>
            {if done {
                view! {
                    <p class="status" data-testid="recovery-undone">
                        "Done: the passkey the recovery added is removed, and everyone who signed in with it is signed out. "
                        "Sign in with a passkey of your own, end the sign-ins you do not know on your account page, and tell this site's operator."
                    </p>
                }.into_any()
            } else {
                view! {
                    <p>"A recovery link was used to add a passkey to your account. If that wasn't you, this removes that passkey and signs out everyone who used it."</p>
                    <ActionForm action=undo>
                        <input type="hidden" name="token" value=token/>
                        <button type="submit" class="button danger wide" data-testid="undo-recovery">"Remove the passkey: this wasn't me"</button>
                    </ActionForm>
                    <Notice message=action_error(undo)/>
                }.into_any()
            }}
        </section>
    }
}
