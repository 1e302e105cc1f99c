//! The operator's brand (`LATCHKEY_BRAND_*`, `engine::base::config::brand`): its files, read once at
//! start-up, served under `/brand/` with a version in their address (so they may be cached for a
//! year and a new file is fetched at once), and the addresses the pages link to.
//!
//! A brand file is the operator's, and an SVG can hold script: each answer has a policy of its own
//! that runs none (`default-src 'none'; style-src 'unsafe-inline'; sandbox`), in case it is opened
//! as a page rather than shown as an image.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use engine::base::config::Config;
use engine::base::config::brand::BrandFile;
use engine::tokens::clients::{AppLogo, Clients};
use sha2::{Digest, Sha256};

/// Where brand files are served.
pub const PREFIX: &str = "/brand";

const POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// The brand's files, by name (`logo`, `logo-dark`, `favicon`, `style.css`, `accent.css`).
#[derive(Clone, Debug, Default)]
pub struct Brand {
    files: HashMap<&'static str, Served>,
}

#[derive(Clone, Debug)]
struct Served {
    bytes: Bytes,
    content_type: &'static str,
    version: String,
}

impl Brand {
    /// Reads the configured files; a missing, unreadable or oversize one stops start-up with its
    /// variable's name.
    pub fn load(config: &Config) -> Result<Self, String> {
        let brand = &config.brand;
        let mut files = HashMap::new();
        let named = [
            ("logo", &brand.logo),
            ("logo-dark", &brand.logo_dark),
            ("favicon", &brand.favicon),
            ("style.css", &brand.stylesheet),
        ];
        for (name, file) in named {
            if let Some(file) = file {
                files.insert(name, read(file)?);
            }
        }
        if let Some(accent) = brand.accent {
            // The light colour scheme's accent; the dark one keeps the portal's own (it is chosen
            // for a dark background, which an operator's colour rarely is).
            let css = format!(
                "@media (prefers-color-scheme: light) {{ :root {{ --accent: {}; --accent-fg: #ffffff; }} }}\n",
                accent.hex()
            );
            files.insert("accent.css", served(Bytes::from(css), "text/css"));
        }
        Ok(Self { files })
    }

    /// The addresses the pages link to.
    pub fn for_pages(&self) -> app::BrandLinks {
        let at = |name: &str| self.files.get(name).map(|file| format!("{PREFIX}/{name}?v={}", file.version));
        app::BrandLinks {
            logo: at("logo"),
            logo_dark: at("logo-dark"),
            favicon: at("favicon"),
            stylesheets: ["accent.css", "style.css"].into_iter().filter_map(at).collect(),
        }
    }

    /// `GET /brand/{name}`, and `GET /brand/apps/{client_id}`: the logos of the apps in `clients`.
    pub fn routes<S: Clone + Send + Sync + 'static>(self, clients: Arc<Clients>) -> Router<S> {
        let brand = Arc::new(self);
        Router::new()
            .route(
                &format!("{PREFIX}/{{name}}"),
                get(move |Path(name): Path<String>| {
                    let brand = Arc::clone(&brand);
                    async move {
                        match brand.files.get(name.as_str()) {
                            Some(file) => image(file.bytes.clone(), file.content_type),
                            None => (StatusCode::NOT_FOUND, "No such brand file.").into_response(),
                        }
                    }
                }),
            )
            .route(
                &format!("{}/{{client_id}}", AppLogo::PREFIX),
                get(move |Path(client_id): Path<String>| async move {
                    let logo = clients
                        .get(&client_id)
                        .and_then(|app| app.logo.as_ref().map(|logo| (logo.bytes.clone(), logo.content_type)));
                    match logo {
                        Some((bytes, content_type)) => image(bytes, content_type),
                        None => (StatusCode::NOT_FOUND, "No such app, or it has no logo.").into_response(),
                    }
                }),
            )
    }
}

/// A brand file's answer: cached for a year (its address changes with it), and never run as a page.
fn image(bytes: Bytes, content_type: &'static str) -> Response {
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    response
}

fn read(file: &BrandFile) -> Result<Served, String> {
    let bytes = file.read().map_err(|why| format!("{}: {why}", file.var))?;
    Ok(served(Bytes::from(bytes), file.content_type))
}

fn served(bytes: Bytes, content_type: &'static str) -> Served {
    let digest = Sha256::digest(&bytes);
    let version = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Served { bytes, content_type, version }
}
