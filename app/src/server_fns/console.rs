//! The admin console's server functions: each refuses anyone but an administrator
//! (`admin_required`; a signed-out visitor is `sign_in_required`), and each change needs the
//! administrator's recent sign-in (`reauthentication_required`, which the page's "confirm it's
//! you" answers in place) and lands in the administrators' record. The forms are plain: they post
//! without JavaScript, and a refusal comes back to its page with its sentence by the field it is
//! about and the fields kept (`engine::http::returned_form`). A plain form's fields are its server
//! function's arguments, so the app form's functions take ten.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use proto::{ConsoleAppDetail, ConsoleAppList, ConsolePersonDetail, InvitationList, PeoplePage};

use crate::codec::BrowserJson;
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use {
    crate::door,
    engine::Error,
    engine::accounts::groups,
    engine::base::types::UserId,
    engine::http::admin::{console_actor, require_admin},
    engine::http::shown_once::ShownOnce,
    engine::notify::audit::Actor,
    engine::oidc::registry,
    engine::tokens::clients::Settings,
};

/// The signed-in administrator (or `admin_required` / `sign_in_required`).
#[cfg(feature = "ssr")]
async fn administrator() -> Result<(engine::Engine, engine::http::extract::CurrentUser), PortalError> {
    let (engine, user) = (door::engine()?, door::user().await?);
    require_admin(&engine, user.id()).await?;
    Ok((engine, user))
}

/// The signed-in administrator making a change: their sign-in must be recent.
#[cfg(feature = "ssr")]
async fn actor() -> Result<(engine::Engine, Actor), PortalError> {
    let (engine, user, caller, now) = (door::engine()?, door::user().await?, door::caller().await?, door::now());
    require_admin(&engine, user.id()).await?;
    let recent = user.recent(&engine, now)?;
    let actor = console_actor(&engine, user.id(), &recent, caller).await?;
    Ok((engine, actor))
}

#[cfg(feature = "ssr")]
async fn group_names(engine: &engine::Engine) -> Result<Vec<String>, PortalError> {
    Ok(groups::list(&engine.accounts).await?.into_iter().map(|group| group.name).collect())
}

/// Every app (the clients file's and the console's) and the groups one may allow.
#[server]
pub async fn console_apps() -> Result<ConsoleAppList, PortalError> {
    let (engine, _) = administrator().await?;
    let apps = registry::list(&engine.provider, door::now()).await?.into_iter().map(Into::into).collect();
    Ok(ConsoleAppList { apps, groups: group_names(&engine).await? })
}

/// One app, with the secret just made for it when this is the page the form went on to.
#[server]
pub async fn console_app(client_id: String) -> Result<ConsoleAppDetail, PortalError> {
    let (engine, _) = administrator().await?;
    let app = registry::get(&engine.provider, &client_id, door::now()).await?.into();
    let page = app_page(&client_id);
    let cookie = engine::http::shown_once::cookie_name(&engine.config);
    let new_secret =
        door::cookie(cookie).and_then(|sealed| ShownOnce::open(&engine.config, &sealed, &page, door::now()));
    if new_secret.is_some() {
        door::set_cookie(&ShownOnce::clear_cookie(&engine.config));
    }
    Ok(ConsoleAppDetail { app, groups: group_names(&engine).await?, new_secret: new_secret.map(|shown| shown.secret) })
}

/// The console's page of the app `client_id` (its id is URL-safe by its rules). The console's pages
/// are under `/admin/console/`: `/admin/apps` and its siblings are the admin API's.
pub fn app_page(client_id: &str) -> String {
    format!("/admin/console/apps/{client_id}")
}

/// The app form's fields as settings: addresses one per line (or space), groups by space or comma,
/// a checkbox present when ticked.
#[cfg(feature = "ssr")]
fn settings(
    name: String,
    public: bool,
    redirect_uris: &str,
    post_logout_redirect_uris: &str,
    client_uri: &str,
    require_pkce: bool,
    id_token_alg: String,
    skip_consent: bool,
    allowed_groups: &str,
) -> Settings {
    let words =
        |text: &str| text.split([' ', '\n', '\r', '\t', ',']).filter(|w| !w.is_empty()).map(str::to_owned).collect();
    Settings {
        name: Some(name),
        public,
        redirect_uris: words(redirect_uris),
        post_logout_redirect_uris: words(post_logout_redirect_uris),
        skip_consent,
        require_pkce: Some(require_pkce),
        id_token_signed_response_alg: Some(id_token_alg),
        allowed_groups: words(allowed_groups),
        client_uri: Some(client_uri.trim().to_owned()).filter(|uri| !uri.is_empty()),
    }
}

/// Makes an app; its secret (a confidential app's) is shown once on the app's page.
#[server(output = BrowserJson)]
pub async fn console_create_app(
    client_id: String,
    name: String,
    redirect_uris: String,
    #[server(default)] post_logout_redirect_uris: String,
    #[server(default)] client_uri: String,
    #[server(default)] allowed_groups: String,
    id_token_alg: String,
    public: Option<String>,
    require_pkce: Option<String>,
    skip_consent: Option<String>,
) -> Result<(), PortalError> {
    let (engine, actor) = actor().await?;
    let settings = settings(
        name,
        public.is_some(),
        &redirect_uris,
        &post_logout_redirect_uris,
        &client_uri,
        require_pkce.is_some(),
        id_token_alg,
        skip_consent.is_some(),
        &allowed_groups,
    );
    let now = door::now();
    let (app, secret) = registry::create(&engine.provider, &actor, &client_id, &settings, now).await?;
    let page = app_page(&app.client_id);
    if let Some(cookie) = secret.and_then(|s| ShownOnce::new(&page, s.expose(), now).cookie(&engine.config)) {
        door::set_cookie(&cookie);
    }
    leptos_axum::redirect(&format!("{page}?done=created"));
    Ok(())
}

/// Changes a console app's settings.
#[server(output = BrowserJson)]
pub async fn console_update_app(
    client_id: String,
    name: String,
    redirect_uris: String,
    #[server(default)] post_logout_redirect_uris: String,
    #[server(default)] client_uri: String,
    #[server(default)] allowed_groups: String,
    id_token_alg: String,
    public: Option<String>,
    require_pkce: Option<String>,
    skip_consent: Option<String>,
) -> Result<(), PortalError> {
    let (engine, actor) = actor().await?;
    let settings = settings(
        name,
        public.is_some(),
        &redirect_uris,
        &post_logout_redirect_uris,
        &client_uri,
        require_pkce.is_some(),
        id_token_alg,
        skip_consent.is_some(),
        &allowed_groups,
    );
    registry::update(&engine.provider, &actor, &client_id, &settings, door::now()).await?;
    leptos_axum::redirect(&format!("{}?done=saved", app_page(&client_id)));
    Ok(())
}

/// Gives a console app a new secret (shown once); the old one works for `overlap_hours` more.
#[server(output = BrowserJson)]
pub async fn console_rotate_secret(client_id: String, overlap_hours: String) -> Result<(), PortalError> {
    let (engine, actor) = actor().await?;
    let refused =
        || Error::InvalidApp("overlap_hours: keep the old secret working for 0 to 720 hours (30 days)".into());
    let hours: i64 = overlap_hours.trim().parse().map_err(|_| refused())?;
    let overlap =
        hours.checked_mul(3600).filter(|s| (0..=registry::MAX_OVERLAP_SECS).contains(s)).ok_or_else(refused)?;
    let now = door::now();
    let (_, secret) = registry::rotate_secret(&engine.provider, &actor, &client_id, overlap, now).await?;
    let page = app_page(&client_id);
    if let Some(cookie) = ShownOnce::new(&page, secret.expose(), now).cookie(&engine.config) {
        door::set_cookie(&cookie);
    }
    leptos_axum::redirect(&format!("{page}?done=rotated"));
    Ok(())
}

/// Deletes a console app once its id is typed again: its sign-ins end.
#[server(output = BrowserJson)]
pub async fn console_delete_app(client_id: String, confirm: String) -> Result<(), PortalError> {
    let (engine, actor) = actor().await?;
    if confirm.trim() != client_id {
        return Err(Error::InvalidApp("confirm: type the app's client id to delete it".into()).into());
    }
    registry::delete(&engine.provider, &actor, &client_id, door::now()).await?;
    leptos_axum::redirect("/admin/console/apps?done=deleted");
    Ok(())
}

/// A page of people, by address, optionally only those whose address or name holds `q`.
#[server]
pub async fn console_people(
    #[server(default)] q: String,
    #[server(default)] cursor: String,
) -> Result<PeoplePage, PortalError> {
    use engine::http::admin::{cursor as seal, page_size, position};
    let (engine, _) = administrator().await?;
    let limit = page_size(None)?;
    let cursor = Some(cursor.trim()).filter(|c| !c.is_empty());
    let after = position(&engine, "users", cursor)?.unwrap_or_default();
    let search = Some(q.trim().to_lowercase()).filter(|q| !q.is_empty());
    let mut rows =
        engine::db::users::search(&engine.db, search.as_deref(), &after, limit + 1).await.map_err(Error::from)?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more { rows.last().and_then(|last| seal(&engine, "users", &last.email)) } else { None };
    Ok(PeoplePage { people: rows.into_iter().map(Into::into).collect(), next_cursor, query: q.trim().to_owned() })
}

/// One person, with the recovery link just made for them when this is the page the form went on to.
#[server]
pub async fn console_person(id: String) -> Result<ConsolePersonDetail, PortalError> {
    let (engine, user) = administrator().await?;
    let id = UserId::new(id.trim());
    let facts = engine::http::admin::person(&engine, &id, door::now()).await?;
    let page = person_page(&id.to_string());
    let cookie = engine::http::shown_once::cookie_name(&engine.config);
    let link = door::cookie(cookie).and_then(|sealed| ShownOnce::open(&engine.config, &sealed, &page, door::now()));
    if link.is_some() {
        door::set_cookie(&ShownOnce::clear_cookie(&engine.config));
    }
    Ok(ConsolePersonDetail { facts, recovery_link: link.map(|shown| shown.secret), is_self: user.id() == &id })
}

/// The console's page of the account `id`.
pub fn person_page(id: &str) -> String {
    format!("/admin/console/people/{id}")
}

/// Disables (every sign-in ends at once) or enables an account.
#[server(output = BrowserJson)]
pub async fn console_set_disabled(id: String, disabled: String) -> Result<(), PortalError> {
    let (engine, actor) = actor().await?;
    let disabled = disabled == "true";
    let id = UserId::new(id.trim());
    engine::accounts::standing::set_disabled(&engine.accounts, &actor, &id, disabled, door::now()).await?;
    let done = if disabled { "disabled" } else { "enabled" };
    leptos_axum::redirect(&format!("{}?done={done}", person_page(&id.to_string())));
    Ok(())
}

/// Makes an account an administrator, or no longer one (never the last).
#[server(output = BrowserJson)]
pub async fn console_set_admin(id: String, admin: String) -> Result<(), PortalError> {
    let (engine, actor) = actor().await?;
    let admin = admin == "true";
    let id = UserId::new(id.trim());
    engine::accounts::admins::set_admin(&engine.accounts, &actor, &id, admin, door::now()).await?;
    let done = if admin { "admin_granted" } else { "admin_revoked" };
    leptos_axum::redirect(&format!("{}?done={done}", person_page(&id.to_string())));
    Ok(())
}

/// Makes a one-time recovery link for the account (an hour), shown once on its page.
#[server(output = BrowserJson)]
pub async fn console_recovery_link(id: String) -> Result<(), PortalError> {
    let (engine, actor) = actor().await?;
    let (id, now) = (UserId::new(id.trim()), door::now());
    let ttl = engine::accounts::recovery::DEFAULT_TTL;
    let link = engine::accounts::recovery::operator_link(&engine.accounts, &actor, &id, ttl, now).await?;
    let page = person_page(&id.to_string());
    if let Some(cookie) = ShownOnce::new(&page, &link.url, now).cookie(&engine.config) {
        door::set_cookie(&cookie);
    }
    leptos_axum::redirect(&format!("{page}?done=recovery_link"));
    Ok(())
}

/// Deletes an account once its address is typed again (never the last administrator).
#[server(output = BrowserJson)]
pub async fn console_delete_person(id: String, confirm: String) -> Result<(), PortalError> {
    let (engine, actor) = actor().await?;
    let id = UserId::new(id.trim());
    let person =
        engine::db::users::listed(&engine.db, &id).await.map_err(Error::from)?.ok_or(Error::AccountNotFound)?;
    if !confirm.trim().eq_ignore_ascii_case(&person.email) {
        return Err(Error::InvalidRequest("confirm: type the account's email address to delete it".into()).into());
    }
    engine::accounts::admins::delete(&engine.accounts, &actor, &id, door::now()).await?;
    leptos_axum::redirect("/admin/console/people?done=deleted");
    Ok(())
}

/// The newest invitations (50), with whether each is pending, used, revoked or expired, and the
/// groups one may join.
#[server]
pub async fn console_invitations() -> Result<InvitationList, PortalError> {
    let (engine, _) = administrator().await?;
    let rows = engine::accounts::invitations::page(&engine.accounts, None, 50, door::now()).await?;
    let invitations = rows.into_iter().map(|(invitation, _)| invitation).collect();
    let cookie = engine::http::shown_once::cookie_name(&engine.config);
    let made =
        door::cookie(cookie).and_then(|sealed| ShownOnce::open(&engine.config, &sealed, INVITATIONS_PAGE, door::now()));
    if made.is_some() {
        door::set_cookie(&ShownOnce::clear_cookie(&engine.config));
    }
    Ok(InvitationList { invitations, groups: group_names(&engine).await?, new_link: made.map(|shown| shown.secret) })
}

/// The console's invitations page.
pub const INVITATIONS_PAGE: &str = "/admin/console/invitations";

/// Makes an invitation (mailed when an address is given and mail is on); its link is shown once.
#[server(output = BrowserJson)]
pub async fn console_invite(
    #[server(default)] email: String,
    #[server(default)] groups: String,
    #[server(default)] days: String,
    admin: Option<String>,
) -> Result<(), PortalError> {
    use engine::accounts::invitations::{DEFAULT_TTL, Invite, invite};
    let (engine, actor) = actor().await?;
    let email = Some(email.trim()).filter(|e| !e.is_empty());
    let groups: Vec<String> =
        groups.split([' ', ',', '\n', '\t']).filter(|g| !g.is_empty()).map(str::to_owned).collect();
    let ttl = match days.trim() {
        "" => DEFAULT_TTL,
        days => match days.parse::<u64>() {
            Ok(days @ 1..=30) => std::time::Duration::from_secs(days * 86_400),
            _ => return Err(Error::InvalidRequest("days: an invitation works for 1 to 30 days".into()).into()),
        },
    };
    let now = door::now();
    let what = Invite { email, groups: &groups, admin: admin.is_some(), ttl };
    let made = invite(&engine.accounts, &actor, &what, now).await?;
    if let Some(cookie) = ShownOnce::new(INVITATIONS_PAGE, &made.url, now).cookie(&engine.config) {
        door::set_cookie(&cookie);
    }
    leptos_axum::redirect(&format!("{INVITATIONS_PAGE}?done=invited"));
    Ok(())
}

/// Withdraws an unused invitation: its link stops working.
#[server(output = BrowserJson)]
pub async fn console_revoke_invitation(id: String) -> Result<(), PortalError> {
    let (engine, actor) = actor().await?;
    engine::accounts::invitations::revoke(&engine.accounts, &actor, &id, door::now()).await?;
    leptos_axum::redirect(&format!("{INVITATIONS_PAGE}?done=revoked"));
    Ok(())
}
