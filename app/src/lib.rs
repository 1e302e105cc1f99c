//! Latchkey's portal: the Leptos app (pages, components, server functions) and, behind the `ssr`
//! feature, the auth engine those pages and the REST API share.

pub mod api;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;
#[cfg(feature = "hydrate")]
pub mod webauthn_js;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::StaticSegment;
use leptos_router::components::{Route, Router, Routes};

use crate::pages::SignInPage;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The portal's root component: metadata and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/portal.css"/>
        <Title text="Latchkey"/>
        <Router>
            <main class="page">
                <Routes fallback=|| view! { <p>"This page does not exist."</p> }>
                    <Route path=StaticSegment("") view=SignInPage/>
                </Routes>
            </main>
        </Router>
    }
}
