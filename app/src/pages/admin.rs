//! The admin console (`/admin`): for administrators only. Anyone signed out gets the portal's "page
//! not found" (404: the console does not say it is there), a signed-in account that is not an
//! administrator a sentence (403). Server-rendered, no island: the chart is an SVG drawn here.

mod apps;
mod invitations;
mod people;

use leptos::prelude::*;
use leptos_meta::Title;
use proto::{AdminOverview, ErrorCode, SignInDay};

pub use self::apps::{AdminAppPage, AdminAppsPage};
pub use self::invitations::AdminInvitationsPage;
pub use self::people::{AdminPeoplePage, AdminPersonPage};
use crate::error::PortalError;
use crate::pages::{NotFound, SignedInNav};
use crate::server_fns::console_overview;

/// The console's own pages, under the portal's navigation.
const CONSOLE_PAGES: &[(&str, &str, &str)] = &[
    ("overview", "/admin", "Overview"),
    ("people", "/admin/console/people", "People"),
    ("invitations", "/admin/console/invitations", "Invitations"),
    ("apps", "/admin/console/apps", "Apps"),
];

/// The console's navigation; `here` is the page's key.
#[component]
fn ConsoleNav(here: &'static str) -> impl IntoView {
    view! {
        <nav class="nav console-nav" aria-label="Administration">
            {CONSOLE_PAGES
                .iter()
                .map(|(key, path, label)| {
                    let current = (*key == here).then_some("page");
                    view! { <a href=*path aria-current=current>{*label}</a> }
                })
                .collect_view()}
        </nav>
    }
}

/// What a console page shows instead of itself: "page not found" (404) for a signed-out visitor,
/// "You are not an administrator" (403) for an account that is not one, else the sentence.
fn refused(error: PortalError) -> AnyView {
    match error.code() {
        ErrorCode::AdminRequired => {
            status(403);
            view! {
                <SignedInNav here="/admin".to_owned()/>
                <section class="card" aria-labelledby="admin-title">
                    <h1 id="admin-title">"You are not an administrator"</h1>
                    <p data-testid="not-admin">"This page is for the administrators of this site. Ask one if you need something changed."</p>
                </section>
            }
            .into_any()
        }
        ErrorCode::SignInRequired => {
            status(404);
            view! { <NotFound/> }.into_any()
        }
        code => {
            status(code.status());
            view! { <p class="status" data-testid="console-error">{error.message().to_owned()}</p> }.into_any()
        }
    }
}

/// `/admin`: the overview.
#[component]
pub fn AdminPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| console_overview());
    view! {
        <Title text="Administration"/>
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! {
                        <SignedInNav here="/admin".to_owned()/>
                        <ConsoleNav here="overview"/>
                        <Overview overview/>
                    }.into_any(),
                    Err(error) => refused(error),
                }
            })}
        </Suspense>
    }
}

/// Sets the page's HTTP status (on the server; a no-op in the browser).
fn status(code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(code)) =
        (use_context::<leptos_axum::ResponseOptions>(), axum::http::StatusCode::from_u16(code))
    {
        response.set_status(code);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

#[component]
fn Overview(overview: AdminOverview) -> impl IntoView {
    let count = |label: &'static str, value: u64, id: &'static str| {
        view! { <div class="stat" data-testid=id><strong>{value}</strong><span>{label}</span></div> }
    };
    view! {
        <section class="card wide" aria-labelledby="admin-title">
            <h1 id="admin-title">"Administration"</h1>
            <div class="stats">
                {count("accounts", overview.accounts, "stat-accounts")}
                {count("sign-ins going", overview.sign_ins, "stat-sign-ins")}
                {count("apps", overview.apps, "stat-apps")}
                {count("pending invitations", overview.pending_invitations, "stat-invitations")}
            </div>
            <h2 class="section-title">"Sign-ins, last 30 days"</h2>
            <SignInChart days=overview.days/>
        </section>
    }
}

/// Sign-ins per day as stacked bars (passkey below, password above), drawn here as SVG; the same
/// numbers are in each bar's title and in the summary a screen reader gets.
#[component]
fn SignInChart(days: Vec<SignInDay>) -> impl IntoView {
    const WIDTH: u32 = 600;
    const HEIGHT: u32 = 160;
    let most = days.iter().map(|d| d.passkey + d.password).max().unwrap_or(0).max(1);
    let slot = WIDTH / u32::try_from(days.len().max(1)).unwrap_or(1);
    let scale = |n: u32| n * (HEIGHT - 10) / most;
    let (passkeys, passwords): (u32, u32) = days.iter().fold((0, 0), |(a, b), d| (a + d.passkey, b + d.password));
    let summary = format!("{passkeys} sign-ins with a passkey and {passwords} with a password in the last 30 days.");
    let bars = days
        .into_iter()
        .enumerate()
        .map(|(i, day)| {
            let x = u32::try_from(i).unwrap_or(0) * slot + 1;
            let (passkey, password) = (scale(day.passkey), scale(day.password));
            let title = format!("{}: {} with a passkey, {} with a password", day.date, day.passkey, day.password);
            view! {
                <g data-testid="chart-day" data-date=day.date.clone()>
                    <title>{title}</title>
                    <rect class="bar-passkey" x=x y=HEIGHT - passkey width=slot - 2 height=passkey/>
                    <rect class="bar-password" x=x y=HEIGHT - passkey - password width=slot - 2 height=password/>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=summary.clone() data-testid="sign-in-chart">
                {bars}
            </svg>
            <figcaption>
                <span class="key key-passkey">"Passkey"</span>" "<span class="key key-password">"Password"</span>
                " · " <span data-testid="chart-summary">{summary}</span>
            </figcaption>
        </figure>
    }
}
