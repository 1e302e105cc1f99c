//! The console's apps: every app (the clients file's, shown read-only, and the console's), a form
//! that makes one, and each app's page — its settings to change, a new secret (shown once, the old
//! one kept working for the hours chosen) and deletion (type its id). Plain forms inside "confirm
//! it's you"; a refusal comes back with its sentence next to the field it is about and the
//! fields as typed.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use proto::{ConsoleApp, ErrorCode};

use super::{ConsoleNav, refused};
use crate::error::PortalError;
use crate::pages::confirm::ConfirmFirst;
use crate::pages::{Notice, SignedInNav, action_failure, returned_field};
use crate::server_fns::console::{
    ConsoleCreateApp, ConsoleDeleteApp, ConsoleRotateSecret, ConsoleUpdateApp, app_page, console_app, console_apps,
};

/// The sentence for `?done=<what>` (only these).
fn done_message(what: &str) -> Option<&'static str> {
    match what {
        "created" => Some("The app is made. It is in force on every instance within seconds."),
        "saved" => Some("The app's settings are saved."),
        "rotated" => Some("The app has a new secret."),
        "deleted" => Some("The app is deleted, and everyone signed in to it is signed out of it."),
        _ => None,
    }
}

fn done() -> String {
    use_query_map().with_untracked(|q| q.get("done").as_deref().and_then(done_message).unwrap_or_default().to_owned())
}

/// `/admin/console/apps`.
#[component]
pub fn AdminAppsPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| console_apps());
    let done = done();
    view! {
        <Title text="Apps · Administration"/>
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || {
                let done = done.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! {
                            <SignedInNav here="/admin".to_owned()/>
                            <ConsoleNav here="apps"/>
                            <section class="card wide" aria-labelledby="apps-title">
                                <h1 id="apps-title">"Apps"</h1>
                                <Notice message=done success=true/>
                                <AppList apps=page.apps/>
                                <h2 class="section-title" id="new-app-title">"New app"</h2>
                                <AppForm app=None groups=page.groups/>
                            </section>
                        }
                        .into_any(),
                        Err(error) => refused(error),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn AppList(apps: Vec<ConsoleApp>) -> impl IntoView {
    if apps.is_empty() {
        return view! { <p class="meta" data-testid="no-apps">"No app signs in with Latchkey yet. Make one below."</p> }.into_any();
    }
    view! {
        <table class="list" data-testid="apps">
            <thead><tr><th scope="col">"Name"</th><th scope="col">"Client id"</th><th scope="col">"Kind"</th><th scope="col">"From"</th></tr></thead>
            <tbody>
                {apps.into_iter().map(|app| view! {
                    <tr data-testid="app-row" data-client-id=app.client_id.clone()>
                        <td><a href=app_page(&app.client_id)>{app.name.clone()}</a></td>
                        <td><code>{app.client_id.clone()}</code></td>
                        <td>{if app.public { "public" } else { "confidential" }}</td>
                        <td>{source(&app)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

fn source(app: &ConsoleApp) -> impl IntoView + use<> {
    if app.source == "file" {
        view! { <span class="badge" title="LATCHKEY_OIDC_CLIENTS: change it there and restart">"clients file"</span> }
            .into_any()
    } else {
        view! { <span class="badge synced">"console"</span> }.into_any()
    }
}

/// The field a refusal is about: `invalid_app`'s sentences start with it; `app_exists` is the id's.
fn field_of(error: &PortalError) -> Option<(String, String)> {
    if error.message().starts_with("An app with this client id") {
        return Some(("client_id".to_owned(), error.message().to_owned()));
    }
    let (field, why) = error.message().split_once(": ")?;
    let field = match field {
        "id_token_signed_response_alg" => "id_token_alg",
        field if field.chars().all(|c| c.is_ascii_lowercase() || c == '_') => field,
        _ => return None,
    };
    let mut why = why.to_owned();
    if let Some(first) = why.get(..1) {
        why.replace_range(..1, &first.to_uppercase());
    }
    Some((field.to_owned(), why))
}

/// A form's refusal, split into the field it is about (with its sentence) or the whole form's.
#[derive(Clone, Default)]
struct Refusal {
    field: Option<(String, String)>,
    general: String,
    stale: bool,
}

impl Refusal {
    fn of(failure: Option<PortalError>) -> Self {
        let Some(error) = failure else { return Self::default() };
        let stale = error.code() == ErrorCode::ReauthenticationRequired;
        match field_of(&error) {
            Some(field) => Self { field: Some(field), general: String::new(), stale },
            None => Self { field: None, general: error.message().to_owned(), stale },
        }
    }

    /// The sentence for `field` ("" when the refusal is not about it).
    fn about(&self, field: &str) -> String {
        self.field.as_ref().filter(|(f, _)| f == field).map(|(_, why)| why.clone()).unwrap_or_default()
    }

    fn invalid(&self, field: &str) -> Option<&'static str> {
        self.field.as_ref().is_some_and(|(f, _)| f == field).then_some("true")
    }
}

/// One field of the app form: its label, its input, and the sentence when a refusal is about it.
#[component]
fn Field(
    form: &'static str,
    name: &'static str,
    label: &'static str,
    #[prop(optional, into)] hint: String,
    value: String,
    refusal: Refusal,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let id = format!("{form}-{name}");
    let error_id = format!("{id}-error");
    let why = refusal.about(name);
    let described = (!why.is_empty()).then(|| error_id.clone());
    let input = if multiline {
        view! {
            <textarea id=id.clone() name=name rows="3" required=required aria-invalid=refusal.invalid(name) aria-describedby=described.clone()
                data-testid=id.clone()>{value}</textarea>
        }
        .into_any()
    } else {
        view! {
            <input id=id.clone() name=name value=value required=required aria-invalid=refusal.invalid(name) aria-describedby=described.clone()
                data-testid=id.clone()/>
        }
        .into_any()
    };
    view! {
        <label for=id.clone()>{label} {(!hint.is_empty()).then(|| view! { " " <span class="hint">{hint}</span> })}</label>
        {input}
        <p id=error_id class="notice notice-error field-error" hidden=why.is_empty() data-testid="field-error">{why.clone()}</p>
    }
}

/// The form that makes an app (`app` is `None`) or changes a console app.
#[component]
fn AppForm(app: Option<ConsoleApp>, groups: Vec<String>) -> impl IntoView {
    let create = ServerAction::<ConsoleCreateApp>::new();
    let update = ServerAction::<ConsoleUpdateApp>::new();
    let (form, failure) = match app {
        None => ("new-app", action_failure(create)),
        Some(_) => ("edit-app", action_failure(update)),
    };
    let refusal = Refusal::of(failure.get_untracked());
    let kept = |name: &str, fallback: String| {
        if refusal.field.is_some() || !refusal.general.is_empty() {
            returned_field(name).unwrap_or(fallback)
        } else {
            fallback
        }
    };
    let app = app.unwrap_or_else(|| ConsoleApp {
        client_id: String::new(),
        source: "console".into(),
        name: String::new(),
        public: false,
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        skip_consent: false,
        require_pkce: true,
        id_token_signed_response_alg: "RS256".into(),
        allowed_groups: Vec::new(),
        client_uri: None,
        logo: None,
        created_at: None,
        updated_at: None,
        previous_secret_until: None,
    });
    let new = form == "new-app";
    let client_id = kept("client_id", app.client_id.clone());
    let name = kept("name", app.name.clone());
    let redirect_uris = kept("redirect_uris", app.redirect_uris.join("\n"));
    let post_logout = kept("post_logout_redirect_uris", app.post_logout_redirect_uris.join("\n"));
    let client_uri = kept("client_uri", app.client_uri.clone().unwrap_or_default());
    let allowed = kept("allowed_groups", app.allowed_groups.join(" "));
    let groups_hint = if groups.is_empty() {
        "(names, by space; no group exists yet — anyone may sign in when empty)".to_owned()
    } else {
        format!("(names, by space; empty: anyone. Groups: {})", groups.join(", "))
    };
    let stale = refusal.stale;
    let fields = view! {
        {if new {
            view! { <Field form name="client_id" label="Client id" hint="(letters, digits, - . _ ~; the app is configured with it)" value=client_id refusal=refusal.clone() required=true/> }.into_any()
        } else {
            // The page's own app, never a kept field: a form refused on another app's page stays there.
            view! { <input type="hidden" name="client_id" value=app.client_id.clone()/> }.into_any()
        }}
        <Field form name="name" label="Name" hint="(what the consent page calls it)" value=name refusal=refusal.clone() required=true/>
        <Field form name="redirect_uris" label="Redirect URIs" hint="(one per line: https, or http on localhost)" value=redirect_uris refusal=refusal.clone() multiline=true required=true/>
        <Field form name="post_logout_redirect_uris" label="After sign-out URIs" hint="(optional, one per line)" value=post_logout refusal=refusal.clone() multiline=true/>
        <Field form name="client_uri" label="Launch URL" hint="(optional: where \"Your apps\" opens it)" value=client_uri refusal=refusal.clone()/>
        <Field form name="allowed_groups" label="Allowed groups" hint=groups_hint.clone() value=allowed refusal=refusal.clone()/>
        <label for=format!("{form}-alg")>"ID token signature"</label>
        <select id=format!("{form}-alg") name="id_token_alg">
            <option value="RS256" selected=app.id_token_signed_response_alg == "RS256">"RS256 (every library)"</option>
            <option value="ES256" selected=app.id_token_signed_response_alg == "ES256">"ES256 (smaller, faster)"</option>
        </select>
        <p class="notice notice-error field-error" hidden=refusal.about("id_token_alg").is_empty()>{refusal.about("id_token_alg")}</p>
        {new.then(|| view! {
            <label class="check"><input type="checkbox" name="public" value="on" checked=app.public data-testid="new-app-public"/>
                " Public app " <span class="hint">"(a browser or mobile app that cannot keep a secret; chosen once)"</span></label>
        })}
        {(!new && app.public).then(|| view! { <input type="hidden" name="public" value="on"/> })}
        <p class="notice notice-error field-error" hidden=refusal.about("public").is_empty()>{refusal.about("public")}</p>
        <label class="check"><input type="checkbox" name="require_pkce" value="on" checked=app.require_pkce/>
            " Require PKCE " <span class="hint">"(always for public apps)"</span></label>
        <p class="notice notice-error field-error" hidden=refusal.about("require_pkce").is_empty()>{refusal.about("require_pkce")}</p>
        <label class="check"><input type="checkbox" name="skip_consent" value="on" checked=app.skip_consent/>
            " Skip the consent page " <span class="hint">"(your own apps only)"</span></label>
    };
    let general = refusal.general.clone();
    let form_view = if new {
        view! {
            <ActionForm action=create attr:id=form attr:class="stacked" attr:aria-labelledby="new-app-title">
                {fields}
                <button type="submit" class="button" data-testid="create-app">"Make the app"</button>
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <ActionForm action=update attr:id=form attr:class="stacked">
                {fields}
                <button type="submit" class="button" data-testid="save-app">"Save"</button>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <ConfirmFirst>{form_view}</ConfirmFirst>
        <Notice message=general/>
        {stale.then(|| view! { <p class="meta">"Confirm it's you to make this change: " <a href="/?next=/admin/console/apps">"sign in again"</a>"."</p> })}
    }
    .into_any()
}

/// `/admin/console/apps/{client_id}`.
#[component]
pub fn AdminAppPage() -> impl IntoView {
    let client_id = use_params_map().with_untracked(|p| p.get("client_id").unwrap_or_default());
    let page = Resource::new(move || client_id.clone(), console_app);
    let done = done();
    view! {
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || {
                let done = done.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let app = page.app;
                            let file = app.source == "file";
                            view! {
                                <Title text=format!("{} · Apps · Administration", app.name)/>
                                <SignedInNav here="/admin".to_owned()/>
                                <ConsoleNav here="apps"/>
                                <section class="card wide" aria-labelledby="app-title">
                                    <p class="meta"><a href="/admin/console/apps">"Apps"</a></p>
                                    <h1 id="app-title">{app.name.clone()}</h1>
                                    <p class="meta"><code data-testid="app-client-id">{app.client_id.clone()}</code> " · "
                                        {if app.public { "public" } else { "confidential" }} " · " {source(&app)}</p>
                                    <Notice message=done success=true/>
                                    {page.new_secret.map(|secret| view! { <NewSecret secret/> })}
                                    {if file {
                                        view! { <FileApp app=app.clone()/> }.into_any()
                                    } else {
                                        view! {
                                            <h2 class="section-title">"Settings"</h2>
                                            <AppForm app=Some(app.clone()) groups=page.groups/>
                                            {(!app.public).then(|| view! { <Rotate app=app.clone()/> })}
                                            <Delete client_id=app.client_id.clone()/>
                                        }.into_any()
                                    }}
                                </section>
                            }
                            .into_any()
                        }
                        Err(error) => refused(error),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn NewSecret(secret: String) -> impl IntoView {
    view! {
        <div class="offer" role="status" data-testid="new-secret-box">
            <p><strong>"The app's secret"</strong></p>
            <p class="meta">"Copy it into the app's settings now: it is not shown again (only a digest of it is kept)."</p>
            <label for="new-secret">"Client secret"</label>
            <input id="new-secret" readonly value=secret data-testid="new-secret"/>
        </div>
    }
    .into_any()
}

/// A clients-file app: its settings, to read.
#[component]
fn FileApp(app: ConsoleApp) -> impl IntoView {
    let list = |items: &[String]| if items.is_empty() { "—".to_owned() } else { items.join(", ") };
    view! {
        <p class="hint-box" data-testid="file-app">"This app comes from the clients file (LATCHKEY_OIDC_CLIENTS). Change it there and restart Latchkey."</p>
        <dl class="facts">
            <dt>"Redirect URIs"</dt><dd>{list(&app.redirect_uris)}</dd>
            <dt>"After sign-out URIs"</dt><dd>{list(&app.post_logout_redirect_uris)}</dd>
            <dt>"Launch URL"</dt><dd>{app.client_uri.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Allowed groups"</dt><dd>{if app.allowed_groups.is_empty() { "anyone".to_owned() } else { app.allowed_groups.join(", ") }}</dd>
            <dt>"PKCE"</dt><dd>{if app.require_pkce { "required" } else { "optional" }}</dd>
            <dt>"ID token signature"</dt><dd>{app.id_token_signed_response_alg.clone()}</dd>
            <dt>"Consent page"</dt><dd>{if app.skip_consent { "skipped" } else { "asked" }}</dd>
        </dl>
    }
    .into_any()
}

#[component]
fn Rotate(app: ConsoleApp) -> impl IntoView {
    let rotate = ServerAction::<ConsoleRotateSecret>::new();
    let refusal = Refusal::of(action_failure(rotate).get_untracked());
    let why = refusal.about("overlap_hours");
    let described = (!why.is_empty()).then_some("overlap-error");
    let (invalid, general) = (refusal.invalid("overlap_hours"), refusal.general);
    view! {
        <h2 class="section-title" id="rotate-title">"Secret"</h2>
        {app.previous_secret_until.clone().map(|until| view! {
            <p class="meta" data-testid="previous-secret">"The secret it replaced works until " {until} "."</p>
        })}
        <ConfirmFirst>
            <ActionForm action=rotate attr:id="rotate-form" attr:class="inline" attr:aria-labelledby="rotate-title">
                <input type="hidden" name="client_id" value=app.client_id.clone()/>
                <label for="overlap">"Keep the old secret working for " <span class="hint">"(hours, 0 to 720, while the app is redeployed)"</span></label>
                <input id="overlap" name="overlap_hours" value="24" inputmode="numeric" aria-invalid=invalid aria-describedby=described
                    data-testid="overlap-hours"/>
                <button type="submit" class="button small" data-testid="rotate-secret">"Make a new secret"</button>
            </ActionForm>
        </ConfirmFirst>
        <p id="overlap-error" class="notice notice-error field-error" hidden=why.is_empty()>{why.clone()}</p>
        <Notice message=general/>
    }
    .into_any()
}

#[component]
fn Delete(client_id: String) -> impl IntoView {
    let delete = ServerAction::<ConsoleDeleteApp>::new();
    let refusal = Refusal::of(action_failure(delete).get_untracked());
    let why = refusal.about("confirm");
    let described = (!why.is_empty()).then_some("confirm-delete-error");
    let (invalid, general) = (refusal.invalid("confirm"), refusal.general);
    view! {
        <h2 class="section-title" id="delete-title">"Delete"</h2>
        <p class="meta">"Everyone signed in to it is signed out of it at once, and what they allowed it is withdrawn."</p>
        <ConfirmFirst>
            <ActionForm action=delete attr:id="delete-app-form" attr:class="inline" attr:aria-labelledby="delete-title">
                <input type="hidden" name="client_id" value=client_id.clone()/>
                <label for="confirm-delete">"Type " <code>{client_id.clone()}</code> " to delete it"</label>
                <input id="confirm-delete" name="confirm" autocomplete="off" required aria-invalid=invalid aria-describedby=described
                    data-testid="confirm-delete"/>
                <button type="submit" class="button small danger" data-testid="delete-app">"Delete the app"</button>
            </ActionForm>
        </ConfirmFirst>
        <p id="confirm-delete-error" class="notice notice-error field-error" hidden=why.is_empty()>{why.clone()}</p>
        <Notice message=general/>
    }
    .into_any()
}
