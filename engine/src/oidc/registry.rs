//! Apps administrators make and change (the console, the admin API): stored in the database
//! ([`crate::tokens::clients::stored`]) and in force on every instance within seconds. Apps of the
//! clients file are listed beside them, read-only. Each change is one
//! [`Change`](crate::notify::change::Change) with its row in the administrators' record and the
//! version counter's move; the instance that made it reads the apps again at once.
//!
//! A confidential app's secret is made here — 256 random bits, shown once, of which only the
//! SHA-256 is kept. Rotating it keeps the old one working for an overlap the administrator chooses,
//! so the app can be redeployed without a gap. Deleting an app ends its sign-ins, withdraws the
//! consents given to it and drops its unredeemed codes, so an app made later under the same id
//! inherits nothing.

use super::Provider;
use crate::base::clock::rfc3339;
use crate::base::error::{Error, OrConflict};
use crate::base::types::Secret;
use crate::db::apps::{self, AppRow};
use crate::db::groups;
use crate::db::sign_ins::{self, Which};
use crate::notify::audit::{About, Action, Actor};
use crate::tokens::clients::stored::new_secret;
use crate::tokens::clients::{Client, Settings, Source, check_client_id};

/// The longest overlap a rotated secret may keep working: 30 days.
pub const MAX_OVERLAP_SECS: i64 = 30 * 24 * 3600;

/// An app as the console shows it.
#[derive(Debug, Clone)]
pub struct App {
    /// Its `client_id`.
    pub client_id: String,
    /// Its settings (with its name filled in).
    pub settings: Settings,
    /// Where it is registered: the clients file (read-only here) or the console.
    pub source: Source,
    /// Its logo's address (clients-file apps only).
    pub logo: Option<String>,
    /// When it was made and last changed (console apps only; Unix seconds).
    pub created_at: Option<i64>,
    /// When it was last changed.
    pub updated_at: Option<i64>,
    /// Until when the secret a rotation replaced still works, if it does.
    pub previous_secret_until: Option<i64>,
}

impl App {
    fn of_file(client: &Client) -> Self {
        Self {
            client_id: client.id.clone(),
            settings: client.settings(),
            source: Source::File,
            logo: client.logo_address(),
            created_at: None,
            updated_at: None,
            previous_secret_until: None,
        }
    }

    fn of_row(row: &AppRow, now: i64) -> Result<Self, Error> {
        let mut settings = row.settings().map_err(|why| Error::internal(format!("app {}: {why}", row.client_id)))?;
        settings.name.get_or_insert_with(|| row.client_id.clone());
        Ok(Self {
            client_id: row.client_id.clone(),
            settings,
            source: Source::Console,
            logo: None,
            created_at: Some(row.created_at),
            updated_at: Some(row.updated_at),
            previous_secret_until: row.previous_secret_until.filter(|until| *until > now),
        })
    }
}

impl From<App> for proto::ConsoleApp {
    fn from(app: App) -> Self {
        let s = app.settings;
        Self {
            name: s.name.unwrap_or_else(|| app.client_id.clone()),
            client_id: app.client_id,
            source: match app.source {
                Source::File => "file",
                Source::Console => "console",
            }
            .to_owned(),
            public: s.public,
            redirect_uris: s.redirect_uris,
            post_logout_redirect_uris: s.post_logout_redirect_uris,
            skip_consent: s.skip_consent,
            require_pkce: s.require_pkce.unwrap_or(true),
            id_token_signed_response_alg: s.id_token_signed_response_alg.unwrap_or_else(|| "RS256".to_owned()),
            allowed_groups: s.allowed_groups,
            client_uri: s.client_uri,
            logo: app.logo,
            created_at: app.created_at.map(rfc3339),
            updated_at: app.updated_at.map(rfc3339),
            previous_secret_until: app.previous_secret_until.map(rfc3339),
        }
    }
}

/// Every app, the file's and the console's, by name.
pub async fn list(provider: &Provider, now: i64) -> Result<Vec<App>, Error> {
    let rows = apps::all(&provider.db).await?;
    let mut all: Vec<App> = provider
        .clients
        .all()
        .iter()
        .filter(|client| client.source == Source::File)
        .map(|client| App::of_file(client))
        .collect();
    for row in &rows {
        all.push(App::of_row(row, now)?);
    }
    let name = |app: &App| app.settings.name.clone().unwrap_or_default().to_lowercase();
    all.sort_by(|a, b| name(a).cmp(&name(b)).then_with(|| a.client_id.cmp(&b.client_id)));
    Ok(all)
}

/// The app `client_id`.
pub async fn get(provider: &Provider, client_id: &str, now: i64) -> Result<App, Error> {
    if provider.clients.in_file(client_id) {
        let client = provider.clients.get(client_id).ok_or(Error::AppNotFound)?;
        return Ok(App::of_file(&client));
    }
    let row = apps::find(&provider.db, client_id).await?.ok_or(Error::AppNotFound)?;
    App::of_row(&row, now)
}

/// Checks `settings` for the app `client_id`, and that the groups it allows exist.
async fn checked(provider: &Provider, client_id: &str, settings: &Settings) -> Result<Settings, Error> {
    let kept = settings.checked(client_id)?;
    for group in &kept.allowed_groups {
        if groups::find(&provider.db, group).await?.is_none_or(|found| &found.name != group) {
            return Err(Error::InvalidApp(format!("allowed_groups: no group is named `{group}`; make it first")));
        }
    }
    Ok(kept)
}

fn json(settings: &Settings) -> Result<String, Error> {
    serde_json::to_string(settings).map_err(Error::internal)
}

/// Makes the app `client_id`; returns it and, for a confidential app, its secret (shown once).
pub async fn create(
    provider: &Provider,
    actor: &Actor,
    client_id: &str,
    settings: &Settings,
    now: i64,
) -> Result<(App, Option<Secret>), Error> {
    let client_id = client_id.trim();
    check_client_id(client_id).map_err(Error::InvalidApp)?;
    if provider.clients.in_file(client_id) {
        return Err(Error::AppExists);
    }
    let settings = checked(provider, client_id, settings).await?;
    let (secret, digest) = if settings.public {
        (None, None)
    } else {
        let (secret, digest) = new_secret();
        (Some(secret), Some(digest))
    };
    let row = AppRow {
        client_id: client_id.to_owned(),
        settings: json(&settings)?,
        secret_digest: digest,
        previous_secret_digest: None,
        previous_secret_until: None,
        created_at: now,
        updated_at: now,
    };
    let mut change = provider.notify.change(now).await?;
    apps::insert(change.db(), &row).await.or_conflict(Error::AppExists)?;
    // What instances that still knew an earlier app of this id gave it after its deletion.
    apps::forget(change.db(), client_id).await?;
    sign_ins::end(change.db(), Which::App(client_id), now).await?;
    apps::bump(change.db()).await?;
    let about = About { subject: Some(client_id), detail: settings.name.as_deref(), ..About::default() };
    change.audit(actor, Action::AppCreated, about).await?;
    change.commit().await?;
    tracing::info!(client_id, "app made in the console");
    read_again(provider).await;
    Ok((App::of_row(&row, now)?, secret))
}

/// Replaces the console app `client_id`'s settings (whether it is public is chosen when it is made).
pub async fn update(
    provider: &Provider,
    actor: &Actor,
    client_id: &str,
    settings: &Settings,
    now: i64,
) -> Result<App, Error> {
    if provider.clients.in_file(client_id) {
        return Err(Error::AppInFile);
    }
    let settings = checked(provider, client_id, settings).await?;
    let mut change = provider.notify.change(now).await?;
    let mut row = apps::find(change.db(), client_id).await?.ok_or(Error::AppNotFound)?;
    let was = row.settings().map_err(Error::internal)?;
    if was.public != settings.public {
        return Err(Error::InvalidApp(
            "public: whether an app keeps a secret is chosen when it is made; make a new app for the other kind".into(),
        ));
    }
    row.settings = json(&settings)?;
    row.updated_at = now;
    if !apps::update_settings(change.db(), client_id, &row.settings, now).await? {
        return Err(Error::AppNotFound);
    }
    apps::bump(change.db()).await?;
    change.audit(actor, Action::AppUpdated, About { subject: Some(client_id), ..About::default() }).await?;
    change.commit().await?;
    read_again(provider).await;
    App::of_row(&row, now)
}

/// Gives the console app `client_id` a new secret (shown once); the old one keeps working for
/// `overlap_secs` (0: not at all; at most [`MAX_OVERLAP_SECS`]). A secret replaced by an earlier
/// rotation whose overlap is still running stops at once: one old secret at a time.
pub async fn rotate_secret(
    provider: &Provider,
    actor: &Actor,
    client_id: &str,
    overlap_secs: i64,
    now: i64,
) -> Result<(App, Secret), Error> {
    if !(0..=MAX_OVERLAP_SECS).contains(&overlap_secs) {
        return Err(Error::InvalidApp(format!(
            "overlap_secs: keep the old secret working for 0 to {MAX_OVERLAP_SECS} seconds (30 days)"
        )));
    }
    if provider.clients.in_file(client_id) {
        return Err(Error::AppInFile);
    }
    let mut change = provider.notify.change(now).await?;
    let mut row = apps::find(change.db(), client_id).await?.ok_or(Error::AppNotFound)?;
    let Some(current) = row.secret_digest.take() else {
        return Err(Error::InvalidApp("public: a public app has no secret to rotate".into()));
    };
    let (secret, digest) = new_secret();
    let until = (overlap_secs > 0).then_some(now + overlap_secs);
    if !apps::rotate_secret(change.db(), client_id, &current, &digest, until, now).await? {
        return Err(Error::InvalidApp(
            "client_secret: the app's secret changed while this was asked; look at it again and retry".into(),
        ));
    }
    row.secret_digest = Some(digest);
    row.previous_secret_digest = until.map(|_| current);
    row.previous_secret_until = until;
    row.updated_at = now;
    apps::bump(change.db()).await?;
    let detail = match row.previous_secret_until {
        Some(until) => format!("the old secret works until {}", rfc3339(until)),
        None => "the old secret stopped at once".to_owned(),
    };
    let about = About { subject: Some(client_id), detail: Some(&detail), ..About::default() };
    change.audit(actor, Action::AppSecretRotated, about).await?;
    change.commit().await?;
    tracing::info!(client_id, overlap_secs, "app secret rotated");
    read_again(provider).await;
    Ok((App::of_row(&row, now)?, secret))
}

/// Deletes the console app `client_id`: its sign-ins end (refresh `invalid_grant`, userinfo 401),
/// the consents given to it and its unredeemed codes go.
pub async fn delete(provider: &Provider, actor: &Actor, client_id: &str, now: i64) -> Result<u64, Error> {
    if provider.clients.in_file(client_id) {
        return Err(Error::AppInFile);
    }
    let mut change = provider.notify.change(now).await?;
    if !apps::delete(change.db(), client_id).await? {
        return Err(Error::AppNotFound);
    }
    let ended = sign_ins::end(change.db(), Which::App(client_id), now).await?.count();
    apps::bump(change.db()).await?;
    let detail = format!("{ended} sign-in(s) ended");
    let about = About { subject: Some(client_id), detail: Some(&detail), ..About::default() };
    change.audit(actor, Action::AppDeleted, about).await?;
    change.commit().await?;
    tracing::info!(client_id, ended, "app deleted in the console");
    read_again(provider).await;
    Ok(ended)
}

/// After a change: this instance reads the apps at once (the others within
/// [`WATCH_EVERY`](crate::tokens::clients::stored::WATCH_EVERY)).
async fn read_again(provider: &Provider) {
    if let Err(error) = provider.clients.refresh(&provider.db).await {
        tracing::warn!(%error, "apps not read again after a change; the watcher will");
    }
}
