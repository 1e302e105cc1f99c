//! Latchkey's portal: the Leptos app — its routes ([`App`]), pages, components and the server
//! functions that are its doors into the engine (`engine/`, server builds only).

// Leptos view types nest deeply; the default limit of 128 is too low for the passkey list.
#![recursion_limit = "256"]

pub mod codec;
#[cfg(feature = "ssr")]
pub mod door;
pub mod error;
pub mod navigator;
pub mod pages;
pub mod return_path;
pub mod server_fns;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::Router;

use crate::pages::{PortalRoutes, SignedIn, SiteHeader};

/// The product's name (`LATCHKEY_PRODUCT_NAME`), which the server provides as context to every page.
#[derive(Clone, Debug)]
pub struct ProductName(pub String);

/// Where the built site's files are (content-hashed names under `/pkg/`), provided by the server to
/// every page.
#[derive(Clone, Debug, Default)]
pub struct SiteAssets {
    /// The bundle with every island: JS glue and WASM, without the extension.
    pub portal: String,
    /// The bundle with only the sign-in pages' islands ([`pages::SIGN_IN_BUNDLE_PAGES`]).
    pub sign_in: String,
    /// The stylesheet.
    pub stylesheet: String,
    /// The operator's brand (`LATCHKEY_BRAND_*`), where set.
    pub brand: BrandLinks,
}

/// Where the operator's brand files are served (`/brand/…?v=<version>`), for the pages to link to.
#[derive(Clone, Debug, Default)]
pub struct BrandLinks {
    /// The logo, shown before the product's name in the header.
    pub logo: Option<String>,
    /// The logo for a dark colour scheme.
    pub logo_dark: Option<String>,
    /// The tab's icon.
    pub favicon: Option<String>,
    /// Stylesheets after the portal's own: the accent colour's, then the operator's.
    pub stylesheets: Vec<String>,
}

/// The HTML document around the app, rendered on the server. The product name travels to the
/// browser in `<meta name="application-name">`, where [`navigator::product_name`] reads it. (The
/// options are unused: the script names come from [`SiteAssets`], which knows the content hashes.)
pub fn shell(_options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    door::send_content_security_policy();
    let favicon = use_context::<SiteAssets>().unwrap_or_default().brand.favicon;
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <meta name="application-name" content=navigator::product_name()/>
                {match favicon {
                    Some(href) => view! { <link rel="icon" href=href/> }.into_any(),
                    None => view! { <link rel="icon" href="/favicon.svg" type="image/svg+xml"/> }.into_any(),
                }}
                <IslandScripts/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The JS glue and WASM of the page's islands: preloaded, then loaded by a module script that
/// carries the response's CSP nonce (`islands.js`). The sign-in pages get the small bundle.
#[component]
fn IslandScripts() -> impl IntoView {
    let assets = use_context::<SiteAssets>().unwrap_or_default();
    let code = if pages::SIGN_IN_BUNDLE_PAGES.contains(&navigator::request_path().as_str()) {
        assets.sign_in
    } else {
        assets.portal
    };
    let nonce = leptos::nonce::use_nonce();
    view! {
        <link rel="modulepreload" href=format!("{code}.js") nonce=nonce.clone()/>
        <link rel="preload" href=format!("{code}.wasm") r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
        <script type="module" nonce=nonce>{format!("{}({code:?});", include_str!("islands.js"))}</script>
    }
}

/// The portal's root component: metadata, the header and the pages' routes (`pages/mod.rs`).
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let name = navigator::product_name();
    let title = name.clone();
    SignedIn::provide();
    let assets = use_context::<SiteAssets>().unwrap_or_default();
    // The operator's stylesheets (the accent colour's, then their own) come after the portal's.
    let brand_styles = assets.brand.stylesheets.iter().enumerate().map(|(i, href)| {
        view! { <leptos_meta::Stylesheet id=format!("brand-{i}") href=href.clone()/> }
    });
    view! {
        <leptos_meta::Stylesheet id="leptos" href=assets.stylesheet.clone()/>
        {brand_styles.collect_view()}
        // Each page names itself (`<Title text="Passkeys"/>`): "Passkeys · <product>".
        <Title formatter=move |page: String| if page.is_empty() { title.clone() } else { format!("{page} · {title}") }/>
        <SiteHeader name/>
        <Router>
            <main class="page">
                <PortalRoutes/>
            </main>
        </Router>
    }
}
