//! The built site's file names. `scripts/bundle.sh` names the JS, WASM and CSS by their content
//! (`pkg/<bundle>.<hash>.*`) and writes the names to `pkg/assets.json`; pages ask for exactly those,
//! and `/pkg/` answers may then be cached for good.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;

use crate::site::Site;

/// The bundle name, set once in `.cargo/config.toml`.
const BUNDLE: &str = env!("LEPTOS_OUTPUT_NAME");

/// What the pages load from `/pkg/`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Assets {
    /// The bundle with every island (`<bundle>.<hash>`: the JS glue and its WASM, no extension).
    pub portal: String,
    /// The bundle with the sign-in pages' islands only (`<bundle>-sign-in.<hash>`).
    #[serde(rename = "sign-in")]
    pub sign_in: String,
    /// The stylesheet's file name (`<bundle>.<hash>.css`).
    pub css: String,
}

impl Assets {
    /// Reads the site's `pkg/assets.json`. Without it (a site built by `cargo leptos`, a server built
    /// for its API alone, the integration tests) every page names the one unhashed bundle, and the
    /// log says so.
    pub fn read(site: &Site) -> Self {
        const MANIFEST: &str = "pkg/assets.json";
        let read =
            site.read(MANIFEST).and_then(|bytes| serde_json::from_slice::<Self>(&bytes).map_err(|e| e.to_string()));
        match read {
            Ok(assets) if assets.is_plain() => assets,
            Ok(_) => {
                tracing::warn!(manifest = MANIFEST, "asset names with a path in them; serving unhashed names");
                Self::unhashed()
            }
            Err(error) => {
                tracing::warn!(%error, "no pkg/assets.json (make site builds it); pages load the unhashed /pkg/{BUNDLE}.js");
                Self::unhashed()
            }
        }
    }

    /// One bundle for every page: what `cargo leptos` builds (`pkg/<bundle>.{js,wasm,css}`, every island).
    fn unhashed() -> Self {
        Self { portal: BUNDLE.to_owned(), sign_in: BUNDLE.to_owned(), css: format!("{BUNDLE}.css") }
    }

    /// Names only, no `/` or `..`: the manifest can point nowhere but into `pkg/`.
    fn is_plain(&self) -> bool {
        [&self.portal, &self.sign_in, &self.css]
            .iter()
            .all(|name| !name.is_empty() && !name.contains('/') && !name.contains(".."))
    }

    /// What the pages need to know: where the bundles and the stylesheet are.
    pub fn for_pages(&self) -> app::SiteAssets {
        app::SiteAssets {
            portal: format!("/pkg/{}", self.portal),
            sign_in: format!("/pkg/{}", self.sign_in),
            stylesheet: format!("/pkg/{}", self.css),
            brand: app::BrandLinks::default(),
        }
    }
}

/// `/pkg/` files are named by their content, so a browser may keep them for a year without asking.
pub async fn cache_forever(request: Request, next: Next) -> Response {
    let pkg = request.uri().path().starts_with("/pkg/");
    let mut response = next.run(request).await;
    if pkg && response.status() == StatusCode::OK {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_names_the_files() {
        let dir = std::env::temp_dir().join(format!("latchkey-assets-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        let manifest = r#"{"portal":"portal.0123","sign-in":"portal-sign-in.89ab","css":"portal.4567.css"}"#;
        std::fs::write(dir.join("pkg/assets.json"), manifest).unwrap();
        let site = Site::Dir(dir.clone());
        let pages = Assets::read(&site).for_pages();
        assert_eq!(pages.portal, "/pkg/portal.0123");
        assert_eq!(pages.sign_in, "/pkg/portal-sign-in.89ab");
        assert_eq!(pages.stylesheet, "/pkg/portal.4567.css");

        let escaping = r#"{"portal":"../../etc/passwd","sign-in":"a","css":"x.css"}"#;
        std::fs::write(dir.join("pkg/assets.json"), escaping).unwrap();
        assert_eq!(Assets::read(&site), Assets::unhashed());
        std::fs::remove_dir_all(&dir).unwrap();
        let unhashed = Assets::read(&site).for_pages();
        assert_eq!(
            (unhashed.portal.as_str(), unhashed.sign_in.as_str()),
            (concat!("/pkg/", env!("LEPTOS_OUTPUT_NAME")), concat!("/pkg/", env!("LEPTOS_OUTPUT_NAME")))
        );
    }
}
