//! The portal's pages: their routes, the signed-in navigation, the sign-in guard, and the small
//! components they share. A new page is a file here, its `mod` line, its `<Route>` and (when only
//! signed-in visitors may see it) its line in [`SIGNED_IN_PAGES`].

mod account;
mod admin;
mod confirm;
mod consent;
mod flows;
mod home;
mod notes;
mod passkeys;
mod recover;
mod sign_in;
mod sign_up;
mod verify_email;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, Route, Routes};
use leptos_router::hooks::use_location;
use leptos_router::{ParamSegment, SsrMode, StaticSegment};
use proto::{ErrorCode, UserInfo};

use crate::error::PortalError;
use crate::return_path::sign_in_then;
use crate::server_fns::{SignOut, signed_in_user};

pub use account::AccountPage;
pub use admin::{AdminAppPage, AdminAppsPage, AdminInvitationsPage, AdminPage, AdminPeoplePage, AdminPersonPage};
pub use consent::{AccessPage, AppErrorPage, ConsentPage};
pub use home::RootPage;
pub use notes::{NotesOwner, NotesPage};
pub use passkeys::PasskeysPage;
pub use recover::{RecoverPage, RequestRecoveryPage, UndoRecoveryPage};
pub use sign_in::SignInPage;
pub use sign_up::SignUpPage;
pub use verify_email::VerifyEmailPage;

/// The pages that load the small `sign-in` browser bundle; every other page loads the `portal`
/// bundle. An island used only on signed-in pages stays out of the small bundle with
/// `#[cfg_attr(not(feature = "sign-in-bundle"), island)]` and
/// `#[cfg_attr(feature = "sign-in-bundle", component)]` (see `passkeys.rs`); a plain `#[island]` is in both.
pub const SIGN_IN_BUNDLE_PAGES: &[&str] =
    &["/", "/sign-up", "/verify-email", "/recover", "/recover/request", "/recover/undo"];

/// The signed-in navigation: (path, label) of each page behind [`RequireSignIn`].
const SIGNED_IN_PAGES: &[(&str, &str)] = &[("/passkeys", "Passkeys"), ("/account", "Account"), ("/notes", "Notes")];

/// Every page's route. Every page renders in `SsrMode::Async`: the whole page, with its data (the
/// header's signed-in account among them), is rendered before it is sent, so it works without
/// JavaScript (and the guard can redirect).
#[component]
pub fn PortalRoutes() -> impl IntoView {
    view! {
        <Routes fallback=NotFound>
            <Route path=StaticSegment("") view=RootPage ssr=SsrMode::Async/>
            <Route path=StaticSegment("sign-up") view=SignUpPage ssr=SsrMode::Async/>
            <Route path=StaticSegment("verify-email") view=VerifyEmailPage ssr=SsrMode::Async/>
            <Route path=StaticSegment("recover") view=RecoverPage ssr=SsrMode::Async/>
            <Route path=(StaticSegment("recover"), StaticSegment("request")) view=RequestRecoveryPage ssr=SsrMode::Async/>
            <Route path=(StaticSegment("recover"), StaticSegment("undo")) view=UndoRecoveryPage ssr=SsrMode::Async/>
            <Route path=StaticSegment("passkeys") view=PasskeysPage ssr=SsrMode::Async/>
            <Route path=StaticSegment("account") view=AccountPage ssr=SsrMode::Async/>
            <Route path=StaticSegment("notes") view=NotesPage ssr=SsrMode::Async/>
            <Route path=StaticSegment("consent") view=ConsentPage ssr=SsrMode::Async/>
            <Route path=StaticSegment("access") view=AccessPage ssr=SsrMode::Async/>
            <Route path=StaticSegment("admin") view=AdminPage ssr=SsrMode::Async/>
            <Route path=(StaticSegment("admin"), StaticSegment("console"), StaticSegment("people")) view=AdminPeoplePage ssr=SsrMode::Async/>
            <Route path=(StaticSegment("admin"), StaticSegment("console"), StaticSegment("people"), ParamSegment("id")) view=AdminPersonPage ssr=SsrMode::Async/>
            <Route path=(StaticSegment("admin"), StaticSegment("console"), StaticSegment("invitations")) view=AdminInvitationsPage ssr=SsrMode::Async/>
            <Route path=(StaticSegment("admin"), StaticSegment("console"), StaticSegment("apps")) view=AdminAppsPage ssr=SsrMode::Async/>
            <Route path=(StaticSegment("admin"), StaticSegment("console"), StaticSegment("apps"), ParamSegment("client_id")) view=AdminAppPage ssr=SsrMode::Async/>
            <Route path=(StaticSegment("oidc"), StaticSegment("error")) view=AppErrorPage ssr=SsrMode::Async/>
        </Routes>
    }
}

/// An address that is no page: says so, and the way home (the server answers it with 404).
#[component]
pub(crate) fn NotFound() -> impl IntoView {
    view! {
        <Title text="Page not found"/>
        <section class="card" aria-labelledby="not-found-title">
            <h1 id="not-found-title">"Page not found"</h1>
            <p>"There is no page at this address. It may have moved, or the link may be mistyped."</p>
            <p><a class="button" href="/">"Go to the home page"</a></p>
        </section>
    }
}

/// Which app is waiting for this sign-in or sign-up, when `next` continues its authorization
/// request (server only: the request is sealed with a server key).
pub(crate) fn sign_in_for(next: &str) -> Option<proto::SignInFor> {
    #[cfg(feature = "ssr")]
    return crate::door::sign_in_for(next);
    #[cfg(not(feature = "ssr"))]
    return {
        let _ = next;
        None
    };
}

/// The waiting app's logo above a page's heading, when its entry in the clients file names one
/// (served by Latchkey itself: the page's policy loads images from nowhere else). Its name is in
/// the heading beside it, so the image adds nothing for a screen reader.
#[component]
pub fn AppLogo(src: Option<String>) -> impl IntoView {
    src.map(|src| view! { <img class="app-logo" src=src alt="" width="48" height="48" data-testid="app-logo"/> })
}

/// Where the waiting app is, and whose account signs in to it.
#[component]
pub fn AppAt(app: proto::SignInFor) -> impl IntoView {
    view! {
        <p class="meta" data-testid="app-origin">
            {app.app_name} " is at " <strong>{app.app_origin}</strong> ". You sign in with your "
            {crate::navigator::product_name()} " account."
        </p>
    }
}

/// A new account's welcome: it is ready, and (when mail is on and the address is not yet
/// confirmed) a link is on its way to confirm the address.
#[component]
pub fn Welcome(email: String, confirmed: bool) -> impl IntoView {
    let mailed = !confirmed && mail_is_on();
    view! {
        <div class="notice notice-ok welcome" role="status" data-testid="welcome">
            <p><strong>"Welcome to " {crate::navigator::product_name()} "."</strong> " Your account is ready."</p>
            {mailed.then(|| view! {
                <p data-testid="welcome-mail">
                    "We sent a link to " <strong>{email}</strong> " to confirm your address. It works for 24 hours; "
                    "your account page can send another."
                </p>
            })}
        </div>
    }
}

/// Whether the portal sends mail (asked on the server, where pages are rendered).
fn mail_is_on() -> bool {
    #[cfg(feature = "ssr")]
    return crate::door::engine().is_ok_and(|engine| engine.notify.mail_enabled());
    #[cfg(not(feature = "ssr"))]
    return false;
}

/// Who may make an account here (`LATCHKEY_SIGN_UP`), as the sign-in and sign-up pages say it:
/// `Err` with why nobody may without an invitation, `Ok` with the domains accounts are for (empty
/// when anyone may). The server refuses a sign-up all the same; this only spares a form that
/// cannot succeed.
pub(crate) fn sign_up_rule() -> Result<String, String> {
    #[cfg(feature = "ssr")]
    return match crate::door::engine().map(|engine| engine.config.sign_up.clone()) {
        Ok(engine::base::config::SignUp::Closed) => Err(engine::Error::SignUpClosed.to_string()),
        Ok(engine::base::config::SignUp::Invite) => Err(engine::Error::InvitationRequired.to_string()),
        Ok(rule) => Ok(rule.domains_said()),
        Err(_) => Ok(String::new()),
    };
    #[cfg(not(feature = "ssr"))]
    return Ok(String::new());
}

/// Who is signed in in this browser, looked up once per page: the header, the sign-in guard and
/// the home page share it ([`SignedIn::provide`] in the app's root).
#[derive(Clone, Copy)]
pub struct SignedIn(pub Resource<Result<UserInfo, PortalError>>);

impl SignedIn {
    /// Starts the lookup and shares it with every page.
    pub fn provide() {
        provide_context(Self(Resource::new(|| (), |_| signed_in_user())));
    }

    /// The page's lookup.
    pub fn expect() -> Self {
        use_context::<Self>().unwrap_or_else(|| Self(Resource::new(|| (), |_| signed_in_user())))
    }
}

/// The site's header: the product's name (the way home) and, for a signed-in visitor, who is
/// signed in (the way to the account) and "Sign out".
#[component]
pub fn SiteHeader(name: String) -> impl IntoView {
    let signed_in = SignedIn::expect();
    let brand = use_context::<crate::SiteAssets>().unwrap_or_default().brand;
    // The operator's logo before the name (its dark variant in a dark colour scheme); the name
    // says what it is, so the image has no text of its own.
    let logo = brand.logo.map(|light| {
        let dark = brand.logo_dark.clone();
        view! {
            <picture>
                {dark.map(|dark| view! { <source srcset=dark media="(prefers-color-scheme: dark)"/> })}
                <img class="logo" src=light alt="" height="28"/>
            </picture>
        }
    });
    view! {
        <header class="site-header">
            <a class="brand" href="/">{logo}{name}</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move { signed_in.0.await.ok().map(|user| view! { <AccountMenu user/> }) })}
            </Suspense>
        </header>
    }
}

/// The signed-in visitor's name (or address), to their account, and "Sign out" (a plain form).
#[component]
fn AccountMenu(user: UserInfo) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let who = user.name.unwrap_or_else(|| user.email.clone());
    view! {
        <nav class="account-menu" aria-label="Signed in">
            <a href="/account" data-testid="signed-in-user" title=user.email>
                <span class="visually-hidden">"Signed in as "</span>{who}
            </a>
            <ActionForm action=sign_out>
                <button type="submit" class="button small" data-testid="sign-out">"Sign out"</button>
            </ActionForm>
        </nav>
    }
}

/// Shows `children`, under the signed-in navigation, only to a signed-in visitor. Anyone else is
/// sent to the sign-in page, which brings them back here afterwards (`/?next=<this page>`).
#[component]
pub fn RequireSignIn(children: ChildrenFn) -> impl IntoView {
    let user = SignedIn::expect().0;
    let here = use_location().pathname.get_untracked();
    view! {
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || {
                let (children, here) = (children.clone(), here.clone());
                Suspend::new(async move {
                    match user.await {
                        Ok(_) => view! { <SignedInNav here=here.clone()/> {children()} }.into_any(),
                        Err(error) if error.code() == ErrorCode::SignInRequired => {
                            view! { <Redirect path=sign_in_then(&here)/> }.into_any()
                        }
                        Err(error) => view! { <p class="status">{error.message().to_owned()}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// A message region that screen readers announce when its text changes.
#[component]
pub fn Notice(
    #[prop(into)] message: Signal<String>,
    #[prop(optional)] success: bool,
    /// Its id, for the field it is about to name it in `aria-describedby`.
    #[prop(optional)]
    id: Option<&'static str>,
) -> impl IntoView {
    let class = if success { "notice notice-ok" } else { "notice notice-error" };
    view! {
        <p id=id class=class role="status" aria-live="polite" data-testid="notice" hidden=move || message.read().is_empty()>
            {move || message.get()}
        </p>
    }
}

/// A page's primary passkey button: disabled until the page has hydrated (it needs the WASM) and while
/// its flow runs, followed by the live region where that flow reports.
#[component]
pub fn PasskeyButton(
    label: &'static str,
    test_id: &'static str,
    busy: RwSignal<bool>,
    message: RwSignal<String>,
    on_click: impl Fn() + 'static,
) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <button
            type="button"
            class="button primary wide"
            on:click=move |_| on_click()
            disabled=move || !hydrated.get() || busy.get()
            data-testid=test_id
        >
            {label}
        </button>
        <Notice message=message/>
    }
}

/// How the last post of `action`'s form failed, if it did. A page is rendered on the server, where
/// a failed plain form post left its error in a sealed cookie (`engine::http::returned_form`); an
/// error written in the page's address (Leptos's `__err`) is never believed. In an island, where
/// the action runs in the browser, its own answer.
pub fn action_failure<S>(action: ServerAction<S>) -> Signal<Option<PortalError>>
where
    S: leptos::server_fn::ServerFn<Output = (), Error = PortalError> + Clone + Send + Sync + 'static,
{
    #[cfg(feature = "ssr")]
    {
        let _ = action;
        let returned =
            crate::door::returned_form().filter(|form| form.path == S::PATH).map(|form| PortalError(form.error));
        Signal::derive(move || returned.clone())
    }
    #[cfg(not(feature = "ssr"))]
    Signal::derive(move || match action.value().get() {
        Some(Err(error)) => Some(error),
        _ => None,
    })
}

/// The error of a form's server action, as the sentence to show ("" while there is none).
pub fn action_error<S>(action: ServerAction<S>) -> Signal<String>
where
    S: leptos::server_fn::ServerFn<Output = (), Error = PortalError> + Clone + Send + Sync + 'static,
{
    let failure = action_failure(action);
    Signal::derive(move || failure.with(|failure| failure.as_ref().map(|e| e.message().to_owned()).unwrap_or_default()))
}

/// The field of an email + password form that its failed post was about (`"email"` or
/// `"password"`): the page puts the focus there and ties the error ([`FailedField::ERROR_ID`]) to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailedField(Option<&'static str>);

impl FailedField {
    /// The id of the form's error notice.
    pub const ERROR_ID: &'static str = "password-form-error";

    /// The field `action`'s failure is about, if it failed.
    pub fn of<S>(action: ServerAction<S>) -> Self
    where
        S: leptos::server_fn::ServerFn<Output = (), Error = PortalError> + Clone + Send + Sync + 'static,
    {
        Self(action_failure(action).get_untracked().map(|failure| match failure.code() {
            ErrorCode::InvalidEmail | ErrorCode::EmailTaken | ErrorCode::EmailDomainNotAllowed => "email",
            _ => "password",
        }))
    }

    /// Whether the form failed.
    pub fn any(self) -> bool {
        self.0.is_some()
    }

    /// Whether `field` takes the focus.
    pub fn is(self, field: &str) -> bool {
        self.0 == Some(field)
    }

    /// `field`'s `aria-invalid`.
    pub fn invalid(self, field: &str) -> Option<&'static str> {
        self.is(field).then_some("true")
    }

    /// `field`'s `aria-describedby`: the error, when it is about `field`.
    pub fn described(self, field: &str) -> Option<&'static str> {
        self.is(field).then_some(Self::ERROR_ID)
    }
}

/// What the visitor typed in the field `name` of a form whose post failed (only fields that are
/// not secrets are kept), to fill it in again.
pub fn returned_field(name: &str) -> Option<String> {
    #[cfg(feature = "ssr")]
    return crate::door::returned_form().and_then(|form| form.field(name).map(str::to_owned));
    #[cfg(not(feature = "ssr"))]
    return {
        let _ = name;
        None
    };
}

/// What a signed-in page shows when nobody is signed in (or the account could not be loaded).
#[component]
pub fn SignInPrompt(message: String) -> impl IntoView {
    view! {
        <p class="status">{message}</p>
        <p><a class="button" href="/">"Sign in"</a></p>
    }
}

/// The navigation of signed-in pages ([`RequireSignIn`] shows it to signed-in visitors only); the
/// page shown is marked `aria-current="page"`.
#[component]
pub(crate) fn SignedInNav(here: String) -> impl IntoView {
    view! {
        <nav class="nav" aria-label="Account">
            {SIGNED_IN_PAGES
                .iter()
                .map(|(path, label)| {
                    let current = (*path == here).then_some("page");
                    view! { <a href=*path aria-current=current>{*label}</a> }
                })
                .collect_view()}
        </nav>
    }
}

/// A moment, as people say it ("5 minutes ago", "yesterday"; the date after a week), with the
/// exact time on hover and for machines (`<time datetime>`). Relative times read the same in every
/// time zone, which a page rendered on the server does not know: the page's script (`islands.js`)
/// shows the exact time and any date in the visitor's zone; without JavaScript they stay in UTC.
#[component]
pub fn Moment(#[prop(into)] at: String) -> impl IntoView {
    let exact = format!("{} UTC", at.chars().take(16).collect::<String>().replace('T', " "));
    let said = ago(&at, render_time());
    view! { <time datetime=at title=exact>{said}</time> }
}

/// When the page is rendered (Unix seconds).
fn render_time() -> i64 {
    #[cfg(feature = "ssr")]
    return crate::door::now();
    #[cfg(not(feature = "ssr"))]
    return 0;
}

/// `at` (RFC 3339, UTC) seen from `now`: "just now", "5 minutes ago", "3 hours ago", "yesterday",
/// "4 days ago", else its date.
fn ago(at: &str, now: i64) -> String {
    let date = at.chars().take(10).collect::<String>();
    let Some(then) = unix_seconds(at) else { return date };
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit} ago") } else { format!("{n} {unit}s ago") };
    match now - then {
        ..60 => "just now".to_owned(),
        s @ 60..3_600 => plural(s / 60, "minute"),
        s @ 3_600..86_400 => plural(s / 3_600, "hour"),
        86_400..172_800 => "yesterday".to_owned(),
        s @ 172_800..604_800 => plural(s / 86_400, "day"),
        _ => date,
    }
}

/// Unix seconds of `YYYY-MM-DDTHH:MM:SS…` in UTC (the days from the civil date, as in Howard
/// Hinnant's `days_from_civil`).
fn unix_seconds(at: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| at.get(range)?.parse::<i64>().ok();
    let (y, m, d) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hh, mm, ss) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hh * 3_600 + mm * 60 + ss)
}

/// Runs a browser flow (from an event handler) and reports its failure (an empty message means
/// "nothing to say").
pub(crate) fn run_flow<F>(busy: RwSignal<bool>, message: RwSignal<String>, flow: F)
where
    F: std::future::Future<Output = Result<(), String>> + 'static,
{
    busy.set(true);
    message.set(String::new());
    leptos::task::spawn_local(async move {
        if let Err(error) = flow.await {
            message.set(error);
        }
        busy.set(false);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_read_as_people_say_them() {
        let now = unix_seconds("2026-12-07T12:00:00Z").unwrap();
        assert_eq!(now, 1_796_644_800, "the Unix time of 2026-12-07 12:00 UTC");
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2024-02-29T23:59:59Z"), Some(1_709_251_199));
        for (at, said) in [
            ("2026-12-07T11:59:30Z", "just now"),
            ("2026-12-07T11:59:00Z", "1 minute ago"),
            ("2026-12-07T11:55:00Z", "5 minutes ago"),
            ("2026-12-07T09:00:00Z", "3 hours ago"),
            ("2026-12-06T10:00:00Z", "yesterday"),
            ("2026-12-03T12:00:00Z", "4 days ago"),
            ("2026-11-30T12:00:00Z", "2026-11-30"),
            ("not a time", "not a time"),
        ] {
            assert_eq!(ago(at, now), said, "{at}");
        }
    }
}
