//! The portal's server functions: thin doors into the same engine the REST API uses. Each one gets
//! what it needs from [`door`](crate::door) and calls one engine function; a failure is a
//! [`PortalError`] a person can act on.

pub mod console;

use leptos::prelude::*;
use proto::{
    AccessView, AccountView, ActivityItem, AdminOverview, AppItem, ConsentView, RecoveryFor, SignInItem, UserInfo,
};

use crate::codec::BrowserJson;
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use {
    crate::door,
    crate::return_path::{AFTER_PASSWORD_SIGN_UP, safe_return_path},
    engine::accounts::{self, verification},
    engine::base::types::{CredentialId, SignInId},
    engine::http::portal,
    engine::notify::activity,
    engine::passkeys::{ceremony, manage as passkeys},
    engine::{oidc, sign_in},
};

/// Request options for a passkey sign-in (button or autofill), as JSON: discoverable when `email`
/// is empty, else for the passkeys of that account (one the visitor typed, or an app's `login_hint`;
/// stand-in ids when it has none).
#[server(output = BrowserJson)]
pub async fn passkey_sign_in_options(#[server(default)] email: String) -> Result<String, PortalError> {
    let (engine, client) = (door::engine()?, door::client().await?);
    Ok(ceremony::start_authentication(&engine.relying_party, Some(email.as_str()), client).await?.to_string())
}

/// Verifies a passkey assertion (`credential.toJSON()` as JSON) and signs its owner in.
#[server(output = BrowserJson)]
pub async fn finish_passkey_sign_in(credential: String) -> Result<(), PortalError> {
    let credential = door::credential(&credential)?;
    let (session, engine, caller) = (door::session().await?, door::engine()?, door::caller().await?);
    Ok(portal::finish_passkey_sign_in(&session, &engine, &credential, &caller, door::now()).await?)
}

/// Email + password sign-in; works as a plain HTML form without JavaScript. Lands on `next` (a
/// path on this site; the page that sent the visitor to sign in), else on the passkey offer.
#[server(output = BrowserJson)]
pub async fn password_sign_in(email: String, password: String, next: Option<String>) -> Result<(), PortalError> {
    let (session, engine, caller) = (door::session().await?, door::engine()?, door::caller().await?);
    portal::sign_in_with_password(&session, &engine, &email, &password, &caller, door::now()).await?;
    leptos_axum::redirect(next.as_deref().and_then(safe_return_path).unwrap_or("/passkeys?offer=1"));
    Ok(())
}

/// Sign-up with email + password; works without JavaScript. Lands on `next` (a path on this site:
/// the page or app authorization that sent the visitor), else on the passkey offer.
#[server(output = BrowserJson)]
pub async fn sign_up_with_password(
    email: String,
    password: String,
    next: Option<String>,
    invitation: Option<String>,
) -> Result<(), PortalError> {
    let (session, engine, caller) = (door::session().await?, door::engine()?, door::caller().await?);
    let invitation = invitation.as_deref();
    portal::sign_up_with_password(&session, &engine, &email, &password, invitation, &caller, door::now()).await?;
    leptos_axum::redirect(next.as_deref().and_then(safe_return_path).unwrap_or(AFTER_PASSWORD_SIGN_UP));
    Ok(())
}

/// Creation options for a passkey-only sign-up; the account is created when the passkey is.
#[server(output = BrowserJson)]
pub async fn sign_up_with_passkey_options(email: String, invitation: Option<String>) -> Result<String, PortalError> {
    let (engine, client) = (door::engine()?, door::client().await?);
    Ok(portal::start_passkey_sign_up(&engine, &email, invitation.as_deref(), client, door::now()).await?.to_string())
}

/// Verifies the new passkey, creates the account and signs it in.
#[server(output = BrowserJson)]
pub async fn finish_sign_up_with_passkey(credential: String) -> Result<(), PortalError> {
    let credential = door::credential(&credential)?;
    let (session, engine, caller) = (door::session().await?, door::engine()?, door::caller().await?);
    Ok(portal::finish_passkey_sign_up(&session, &engine, &credential, &caller, door::now()).await?)
}

/// The signed-in user, for pages that only signed-in visitors may see ([`RequireSignIn`](crate::pages::RequireSignIn)).
#[server]
pub async fn signed_in_user() -> Result<UserInfo, PortalError> {
    door::account().await
}

/// The signed-in account and its passkeys.
#[server]
pub async fn my_account() -> Result<AccountView, PortalError> {
    let engine = door::engine()?;
    let user = door::user().await?;
    Ok(portal::account_view(&engine, user.id(), user.held_until, door::now()).await?)
}

/// Creation options for adding a passkey to the signed-in account.
#[server(output = BrowserJson)]
pub async fn add_passkey_options() -> Result<String, PortalError> {
    let user = door::user().await?;
    let (engine, now) = (door::engine()?, door::now());
    let recent = user.recent(&engine, now)?;
    Ok(ceremony::start_registration(&engine.relying_party, user.id(), engine::Error::SignInRequired, &recent)
        .await?
        .to_string())
}

/// Verifies and stores a new passkey for the signed-in account.
#[server(output = BrowserJson)]
pub async fn finish_add_passkey(credential: String, name: String) -> Result<(), PortalError> {
    let (user, credential) = (door::user().await?, door::credential(&credential)?);
    let name = Some(name.as_str()).filter(|n| !n.trim().is_empty());
    let (engine, now) = (door::engine()?, door::now());
    let recent = user.recent(&engine, now)?;
    ceremony::finish_registration(
        &engine.relying_party,
        user.id(),
        &credential,
        name,
        &door::caller().await?,
        &recent,
        now,
    )
    .await?;
    Ok(())
}

/// Renames one of the signed-in account's passkeys; a plain form, back on the passkeys page.
#[server(output = BrowserJson)]
pub async fn rename_my_passkey(id: String, name: String) -> Result<(), PortalError> {
    let user = door::user().await?;
    let (engine, caller) = (door::engine()?, door::caller().await?);
    passkeys::rename_passkey(&engine.relying_party, user.id(), &CredentialId::new(id), &name, &caller, door::now())
        .await?;
    leptos_axum::redirect("/passkeys?done=renamed");
    Ok(())
}

/// Deletes one of the signed-in account's passkeys, and with `end_sign_ins` (the form's checkbox,
/// ticked by default) the other sign-ins made with it; a plain form, back on the passkeys page
/// (which tells the browser's passkey provider).
#[server(output = BrowserJson)]
pub async fn delete_my_passkey(id: String, end_sign_ins: Option<String>) -> Result<(), PortalError> {
    let user = door::user().await?;
    let (id, end) = (CredentialId::new(id), end_sign_ins.is_some());
    let (engine, caller, now) = (door::engine()?, door::caller().await?, door::now());
    let recent = user.recent(&engine, now)?;
    passkeys::delete_passkey(&engine.relying_party, user.id(), &id, end, &caller, &recent, now).await?;
    leptos_axum::redirect("/passkeys?done=deleted");
    Ok(())
}

/// Sets the signed-in account's display name (empty clears it); a plain form, back on the account
/// page (which tells the browser's passkey provider).
#[server(output = BrowserJson)]
pub async fn rename_me(name: String) -> Result<(), PortalError> {
    let user = door::user().await?;
    accounts::rename_user(&door::engine()?.accounts, user.id(), &name).await?;
    leptos_axum::redirect("/account?done=name");
    Ok(())
}

/// The signed-in account's sign-ins that are still going, this browser's marked.
#[server]
pub async fn my_sign_ins() -> Result<Vec<SignInItem>, PortalError> {
    let engine = door::engine()?;
    let user = door::user().await?;
    Ok(sign_in::list::of_user(&engine.sign_ins, user.id(), Some(&user.user.sign_in_id), door::now()).await?)
}

/// The admin console's overview, for an administrator; anyone else signed in is `admin_required`.
#[server]
pub async fn console_overview() -> Result<AdminOverview, PortalError> {
    let (engine, user) = (door::engine()?, door::user().await?);
    engine::http::admin::require_admin(&engine, user.id()).await?;
    Ok(engine::http::admin::overview(&engine, door::now()).await?)
}

/// The apps the signed-in account may use or allowed ("Your apps").
#[server]
pub async fn my_apps() -> Result<Vec<AppItem>, PortalError> {
    let (engine, user) = (door::engine()?, door::user().await?);
    Ok(engine::oidc::apps::of_user(&engine.provider, user.id(), door::now()).await?)
}

/// "Remove access": withdraws the account's consent to an app and ends the app's sign-ins; a plain
/// form, back on the account page.
#[server(output = BrowserJson)]
pub async fn remove_app_access(client_id: String) -> Result<(), PortalError> {
    let user = door::user().await?;
    let (engine, caller) = (door::engine()?, door::caller().await?);
    engine::oidc::apps::remove_access(&engine.provider, user.id(), &client_id, &caller, door::now()).await?;
    leptos_axum::redirect("/account?done=app_removed");
    Ok(())
}

/// Ends one of the account's other sign-ins; a plain form, back on the account page.
#[server(output = BrowserJson)]
pub async fn end_my_sign_in(id: String) -> Result<(), PortalError> {
    let user = door::user().await?;
    let (engine, caller) = (door::engine()?, door::caller().await?);
    sign_in::list::end_one(&engine.sign_ins, user.id(), &SignInId::new(id), &caller, door::now()).await?;
    leptos_axum::redirect("/account?done=ended");
    Ok(())
}

/// Ends every sign-in of the account but this browser's; a plain form, back on the account page.
#[server(output = BrowserJson)]
pub async fn end_my_other_sign_ins() -> Result<(), PortalError> {
    let user = door::user().await?;
    let (engine, caller) = (door::engine()?, door::caller().await?);
    sign_in::list::end_others(&engine.sign_ins, user.id(), &user.user.sign_in_id, &caller, door::now()).await?;
    leptos_axum::redirect("/account?done=others");
    Ok(())
}

/// Whether a dangerous change would be refused for an old sign-in right now: the page then asks
/// "confirm it's you" before it sends the change.
#[server(output = BrowserJson)]
pub async fn confirmation_needed() -> Result<bool, PortalError> {
    let (user, engine) = (door::user().await?, door::engine()?);
    Ok(user.recent(&engine, door::now()).is_err())
}

/// Request options for confirming it's you with one of the signed-in account's passkeys.
#[server(output = BrowserJson)]
pub async fn confirm_options() -> Result<String, PortalError> {
    let (user, engine, client) = (door::user().await?, door::engine()?, door::client().await?);
    Ok(portal::confirm_options(&engine, &user.user, client).await?.to_string())
}

/// Confirms it's you with a passkey (`credential.toJSON()` as JSON): the sign-in is renewed.
#[server(output = BrowserJson)]
pub async fn confirm_with_passkey(credential: String) -> Result<(), PortalError> {
    let credential = door::credential(&credential)?;
    let (user, engine, caller) = (door::user().await?, door::engine()?, door::caller().await?);
    Ok(portal::confirm_with_passkey(&user.session, &engine, &user.user, &credential, &caller, door::now()).await?)
}

/// Confirms it's you with the account's password: the sign-in is renewed.
#[server(output = BrowserJson)]
pub async fn confirm_with_password(password: String) -> Result<(), PortalError> {
    let (user, engine, caller) = (door::user().await?, door::engine()?, door::caller().await?);
    Ok(portal::confirm_with_password(&user.session, &engine, &user.user, &password, &caller, door::now()).await?)
}

/// Adds a password to the signed-in (passkey-only) account, or changes it; every other sign-in
/// ends. Needs a recent sign-in. A plain form, back on the account page.
#[server(output = BrowserJson)]
pub async fn set_my_password(password: String) -> Result<(), PortalError> {
    let (user, engine, caller, now) = (door::user().await?, door::engine()?, door::caller().await?, door::now());
    let recent = user.recent(&engine, now)?;
    accounts::set_password(&engine.accounts, user.id(), &password, &caller, &recent, now).await?;
    leptos_axum::redirect("/account?done=password");
    Ok(())
}

/// Removes the signed-in account's password (it keeps a passkey); every other sign-in ends. Needs
/// a recent sign-in. A plain form, back on the account page.
#[server(output = BrowserJson)]
pub async fn remove_my_password() -> Result<(), PortalError> {
    let (user, engine, caller, now) = (door::user().await?, door::engine()?, door::caller().await?, door::now());
    let recent = user.recent(&engine, now)?;
    accounts::remove_password(&engine.accounts, user.id(), &caller, &recent, now).await?;
    leptos_axum::redirect("/account?done=password_removed");
    Ok(())
}

/// Page `page` (0 = the newest) of the signed-in account's security events, newest first, and
/// whether older ones follow.
#[server]
pub async fn my_activity(page: u32) -> Result<(Vec<ActivityItem>, bool), PortalError> {
    let engine = door::engine()?;
    let user = door::user().await?;
    Ok(activity::page(&engine.db, user.id(), page).await?)
}

/// Mails a new confirmation link and code to the signed-in account's address; a plain form, back
/// on the account page (or on `next`, a path of the portal: the access page's).
#[server(output = BrowserJson)]
pub async fn send_verification(next: Option<String>) -> Result<(), PortalError> {
    let (user, engine) = (door::user().await?, door::engine()?);
    let account = accounts::find_user(&engine.db, user.id(), engine::Error::SignInRequired).await?;
    verification::resend(&engine.accounts, &account, door::now()).await?;
    leptos_axum::redirect(next.as_deref().and_then(safe_return_path).unwrap_or("/account?done=verification_sent"));
    Ok(())
}

/// Moves the signed-in account to a new email address once that address is confirmed (a link and
/// code are mailed to it). Needs a recent sign-in. A plain form, back on the account page.
#[server(output = BrowserJson)]
pub async fn change_my_email(email: String) -> Result<(), PortalError> {
    let (user, engine, now) = (door::user().await?, door::engine()?, door::now());
    let recent = user.recent(&engine, now)?;
    let account = accounts::find_user(&engine.db, user.id(), engine::Error::SignInRequired).await?;
    let caller = door::caller().await?;
    verification::start_change(&engine.accounts, &account, &email, &caller, &recent, now).await?;
    leptos_axum::redirect("/account?done=email_change");
    Ok(())
}

/// The mailed link's page: its button confirms the address (a click, so that a mail scanner that
/// follows the link confirms nothing). Lands on the account page, or the sign-in page.
#[server(output = BrowserJson)]
pub async fn verify_email(token: String) -> Result<(), PortalError> {
    let (engine, session) = (door::engine()?, door::session().await?);
    let signed_in = portal::current_user(&session, &engine, door::now()).await.ok();
    let by = signed_in.as_ref().map(|user| &user.user_id);
    let user_id = verification::confirm_link(&engine.accounts, &token, by, door::now()).await?;
    let here = by == Some(&user_id);
    leptos_axum::redirect(if here { "/account?done=verified" } else { "/?verified=1" });
    Ok(())
}

/// The mailed code, typed on the account page; a plain form, back on the account page.
#[server(output = BrowserJson)]
pub async fn verify_email_code(code: String) -> Result<(), PortalError> {
    let user = door::user().await?;
    verification::confirm_code(&door::engine()?.accounts, user.id(), &code, door::now()).await?;
    leptos_axum::redirect("/account?done=verified");
    Ok(())
}

/// Creation options for the passkey a recovery link lets its holder add (`token`: the link's);
/// the first call uses the link and starts a restricted session that can do only this.
#[server(output = BrowserJson)]
pub async fn recovery_passkey_options(token: String) -> Result<String, PortalError> {
    let (session, engine) = (door::session().await?, door::engine()?);
    let browser = door::cookie(door::RECOVERY_COOKIE);
    let options = portal::recovery_passkey_options(&session, &engine, &token, browser.as_deref(), door::now()).await?;
    Ok(options.to_string())
}

/// What the recovery page says of its link: whose account, and whether another is signed in here.
#[server]
pub async fn recovery_link_account(token: String) -> Result<RecoveryFor, PortalError> {
    let (engine, browser) = (door::engine()?, door::cookie(door::RECOVERY_COOKIE));
    let session = door::session().await?;
    Ok(portal::recovery_for(&session, &engine, &token, browser.as_deref(), door::now()).await?)
}

/// "This wasn't me", from the mail about a used recovery link (`token`: the mail's): removes the
/// passkey the recovery added and ends every sign-in made with it. A plain form.
#[server(output = BrowserJson)]
pub async fn undo_recovery(token: String) -> Result<(), PortalError> {
    let (engine, caller) = (door::engine()?, door::caller().await?);
    engine::accounts::recovery::undo(&engine.accounts, &token, &caller, door::now()).await?;
    leptos_axum::redirect("/recover/undo?done=1");
    Ok(())
}

/// "This wasn't me", on the account page of a sign-in made with another passkey: removes the
/// account's held passkeys (a mailed recovery link added them) and ends their sign-ins.
#[server(output = BrowserJson)]
pub async fn undo_held_recovery() -> Result<(), PortalError> {
    let (user, engine, caller) = (door::user().await?, door::engine()?, door::caller().await?);
    let sign_in = &user.user.sign_in_id;
    engine::accounts::recovery::undo_held(&engine.accounts, user.id(), sign_in, &caller, door::now()).await?;
    leptos_axum::redirect("/account?done=recovery_undone");
    Ok(())
}

/// "Lost your passkey?" (`LATCHKEY_EMAIL_RECOVERY`): mails a recovery link to a confirmed address,
/// bound to this browser by a cookie; the same answer whether or not the account exists. A plain
/// form.
#[server(output = BrowserJson)]
pub async fn request_recovery(email: String) -> Result<(), PortalError> {
    let (engine, client) = (door::engine()?, door::client().await?);
    let secret = engine::accounts::recovery::random_secret();
    engine::accounts::recovery::email_link(&engine.accounts, &email, &secret, &client.to_string(), door::now()).await?;
    door::set_recovery_cookie(&engine, &secret);
    leptos_axum::redirect("/recover/request?sent=1");
    Ok(())
}

/// Verifies and stores the recovery's passkey; the browser is then signed in with it.
#[server(output = BrowserJson)]
pub async fn finish_recovery(credential: String) -> Result<(), PortalError> {
    let credential = door::credential(&credential)?;
    let (session, engine, caller) = (door::session().await?, door::engine()?, door::caller().await?);
    Ok(portal::finish_recovery(&session, &engine, &credential, &caller, door::now()).await?)
}

/// What the consent page shows for an app's sealed authorization request.
#[server]
pub async fn consent_for(request: String) -> Result<ConsentView, PortalError> {
    let (engine, session) = (door::engine()?, door::session().await?);
    let user = portal::current_user(&session, &engine, door::now()).await?;
    Ok(oidc::authorize::consent_view(&engine.provider, &request, Some(&user), door::now()).await?)
}

/// What the sign-up page shows for an invitation link: the address it is for, if one; else why it
/// cannot be used.
#[server]
pub async fn invitation_for(token: String) -> Result<Option<String>, PortalError> {
    let engine = door::engine()?;
    Ok(engine::accounts::invitations::usable(&engine.db, &token, door::now()).await?.email)
}

/// What the access page shows for a sealed authorization request: why the signed-in account cannot
/// sign in to the app yet.
#[server]
pub async fn access_for(request: String) -> Result<AccessView, PortalError> {
    let (engine, session) = (door::engine()?, door::session().await?);
    let user = portal::current_user(&session, &engine, door::now()).await?;
    Ok(oidc::authorize::access_view(&engine.provider, &request, Some(&user), door::now()).await?)
}

/// The consent page's answer (`decision` = `allow` or `deny`); goes on to the app. Works without
/// JavaScript (it is a plain form).
#[server(output = BrowserJson)]
pub async fn answer_consent(request: String, decision: String) -> Result<(), PortalError> {
    let (engine, session) = (door::engine()?, door::session().await?);
    let user = portal::current_user(&session, &engine, door::now()).await.ok();
    let allow = match decision.as_str() {
        "allow" => true,
        "deny" => false,
        _ => return Err(engine::Error::InvalidRequest("Choose Allow or Deny.".into()).into()),
    };
    let answer = oidc::authorize::answer_consent(&engine.provider, &request, user.as_ref(), allow, door::now()).await?;
    leptos_axum::redirect(&answer.location());
    Ok(())
}

/// Deletes the signed-in account, confirmed by its email typed again; the browser is signed out.
/// Needs a recent sign-in. A plain form without JavaScript; with it, the account page's island
/// calls it and then tells the browser's passkey provider.
#[server(output = BrowserJson)]
pub async fn delete_my_account(email: String) -> Result<(), PortalError> {
    let (user, engine, now) = (door::user().await?, door::engine()?, door::now());
    let recent = user.recent(&engine, now)?;
    portal::delete_account(&user.session, &engine, &user.user, &email, &recent, door::now()).await?;
    leptos_axum::redirect("/?deleted=1");
    Ok(())
}

/// Signs out: ends the session's sign-in. Works without JavaScript.
#[server(output = BrowserJson)]
pub async fn sign_out() -> Result<(), PortalError> {
    let engine = door::engine()?;
    portal::sign_out(&door::session().await?, &engine, door::now()).await?;
    leptos_axum::redirect("/?signed_out=1");
    Ok(())
}
