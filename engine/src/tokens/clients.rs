//! The apps that may sign their users in with Latchkey through OpenID Connect. They come from two
//! places: a TOML file named by `LATCHKEY_OIDC_CLIENTS`, read and checked once at start-up
//! (docs/configuration.md, "OpenID Connect clients"), and the database, where administrators make
//! them in the console or the admin API ([`stored`]; docs/admin.md, "Apps"). Both are checked by the
//! same rules ([`Settings`]); every refusal names the field, so a typo never starts a provider that
//! would redirect somewhere unexpected. An id in both places is a start-up error.
//!
//! ```toml
//! [[clients]]
//! client_id = "grafana"
//! name = "Grafana"
//! client_secret = "$argon2id$v=19$m=19456,t=2,p=1$…"   # or a plain secret of 32+ characters
//! redirect_uris = ["https://grafana.example.com/login/generic_oauth"]
//! logo_uri = "logos/grafana.svg"   # optional: a file, beside this one or an absolute path
//! client_uri = "https://grafana.example.com/"   # optional: where "Your apps" opens it
//! ```

pub mod stored;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use crate::base::config::brand::{image_type, read_image_file};
use crate::base::error::Error;
use crate::base::types::{Secret, constant_time_eq};
use crate::tokens::secret::{HashingQueue, verify_secret};

/// A plain client secret shorter than this is refused: it must resist guessing like a key.
const MIN_PLAIN_SECRET_CHARS: usize = 32;

/// How a confidential client proves who it is.
pub enum ClientSecret {
    /// An Argon2id PHC string; the secret itself is not stored anywhere.
    Hashed {
        /// The PHC string from the file.
        phc: String,
        /// The SHA-256 of the last secret that passed Argon2id, in memory only: the same secret
        /// again costs a hash instead of an Argon2id (17.5 ms of CPU, BENCHMARKS.md); any other
        /// secret is checked with Argon2id as before.
        passed: Mutex<Option<[u8; 32]>>,
    },
    /// The secret as written in the file (start-up warns about each).
    Plain(Secret),
    /// A secret Latchkey made (the console's apps): 256 random bits, of which only the SHA-256 is
    /// kept. A slow hash protects secrets people choose; nobody guesses 256 random bits, so a fast
    /// one loses nothing and a token request costs no Argon2id.
    Generated {
        /// The SHA-256 of the current secret.
        current: [u8; 32],
        /// The one it replaced and until when (Unix seconds) it still works: a rotation's overlap,
        /// while the app is redeployed with the new one.
        previous: Option<([u8; 32], i64)>,
    },
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Hashed { .. } => "Hashed(<redacted>)",
            Self::Plain(_) => "Plain(<redacted>)",
            Self::Generated { .. } => "Generated(<redacted>)",
        })
    }
}

/// Where an app is registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The clients file (`LATCHKEY_OIDC_CLIENTS`): changed there, with a restart; the console only shows it.
    File,
    /// The database: made and changed by administrators, in force on every instance within seconds.
    Console,
}

/// One registered app.
#[derive(Debug)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// What the consent page calls it (`name`, or the id).
    pub name: String,
    /// `None` for a public client (a browser or native app, which cannot keep a secret).
    pub secret: Option<ClientSecret>,
    /// Exact redirect URIs; nothing else is ever redirected to.
    pub redirect_uris: Vec<Url>,
    /// Exact URIs the app may ask to return to after signing out.
    pub post_logout_redirect_uris: Vec<Url>,
    /// Whether the consent page is skipped (first-party apps).
    pub skip_consent: bool,
    /// Whether an authorization request must carry a PKCE S256 challenge (always, for public clients).
    pub require_pkce: bool,
    /// How this app's ID tokens are signed: RS256 (the default) or ES256.
    pub id_token_alg: Algorithm,
    /// The app's logo (`logo_uri`), read at start-up and served by Latchkey itself.
    pub logo: Option<AppLogo>,
    /// `allowed_groups`: when not empty, only accounts in one of these groups may sign in to it.
    pub allowed_groups: Vec<String>,
    /// `client_uri`: the app's own address, which the account page's "Your apps" links to.
    pub client_uri: Option<Url>,
    /// Where it is registered.
    pub source: Source,
}

/// An app's logo: a file the operator named, read once, served at [`AppLogo::PREFIX`]`/{client_id}`
/// (never fetched from the app's site, so the pages' Content-Security-Policy stays `'self'` and
/// no request of Latchkey's goes where a clients file points).
pub struct AppLogo {
    /// Its bytes.
    pub bytes: axum::body::Bytes,
    /// Its media type, from its extension.
    pub content_type: &'static str,
    /// A digest of its bytes, in its address so it may be cached for a year.
    pub version: String,
}

impl fmt::Debug for AppLogo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppLogo({}, {} bytes, v={})", self.content_type, self.bytes.len(), self.version)
    }
}

impl AppLogo {
    /// Where apps' logos are served.
    pub const PREFIX: &'static str = "/brand/apps";

    /// The address a page shows `client_id`'s logo from.
    pub fn address(&self, client_id: &str) -> String {
        format!("{}/{client_id}?v={}", Self::PREFIX, self.version)
    }
}

impl Client {
    /// Whether this is a public client (no secret).
    pub fn is_public(&self) -> bool {
        self.secret.is_none()
    }

    /// The address its logo is shown from, when it has one.
    pub fn logo_address(&self) -> Option<String> {
        self.logo.as_ref().map(|logo| logo.address(&self.id))
    }

    /// Whether an account in `groups` may sign in to this app (any account, without
    /// `allowed_groups`).
    pub fn admits(&self, groups: &[String]) -> bool {
        self.allowed_groups.is_empty() || groups.iter().any(|g| self.allowed_groups.contains(g))
    }

    /// Its settings, as the console's form and the admin API show them.
    pub fn settings(&self) -> Settings {
        let strings = |uris: &[Url]| uris.iter().map(Url::to_string).collect();
        Settings {
            name: Some(self.name.clone()),
            public: self.is_public(),
            redirect_uris: strings(&self.redirect_uris),
            post_logout_redirect_uris: strings(&self.post_logout_redirect_uris),
            skip_consent: self.skip_consent,
            require_pkce: Some(self.require_pkce),
            id_token_signed_response_alg: Some(alg_name(self.id_token_alg).to_owned()),
            allowed_groups: self.allowed_groups.clone(),
            client_uri: self.client_uri.as_ref().map(Url::to_string),
        }
    }
}

fn alg_name(alg: Algorithm) -> &'static str {
    if alg == Algorithm::ES256 { "ES256" } else { "RS256" }
}

/// Every registered app, by `client_id`: the file's, fixed at start-up, and the database's, read
/// again whenever another instance (or this one) changed them ([`stored`]).
#[derive(Debug, Default)]
pub struct Clients {
    file: HashMap<String, Arc<Client>>,
    stored: RwLock<Arc<stored::Snapshot>>,
}

/// Why the clients were refused: one line.
#[derive(Debug, thiserror::Error)]
#[error("LATCHKEY_OIDC_CLIENTS: {0}")]
pub struct ClientsError(String);

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    clients: Vec<toml::Table>,
}

/// One `[[clients]]` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    client_id: String,
    name: Option<String>,
    client_secret: Option<String>,
    #[serde(default)]
    public: bool,
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    skip_consent: bool,
    require_pkce: Option<bool>,
    id_token_signed_response_alg: Option<String>,
    logo_uri: Option<String>,
    #[serde(default)]
    allowed_groups: Vec<String>,
    client_uri: Option<String>,
}

/// An app's settings, as a clients-file entry or an administrator gives them (without its id,
/// secret and logo), checked by [`Settings::check`]; the console's apps are stored as this JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// What the consent page calls it (the id when `None`).
    pub name: Option<String>,
    /// A browser or native app, which keeps no secret (and must use PKCE).
    #[serde(default)]
    pub public: bool,
    /// Exact redirect URIs: https, or http on a loopback host.
    pub redirect_uris: Vec<String>,
    /// Exact URIs it may return to after signing out.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Skip the consent page (first-party apps).
    #[serde(default)]
    pub skip_consent: bool,
    /// Require a PKCE S256 challenge (the default; always for a public app).
    pub require_pkce: Option<bool>,
    /// `RS256` (the default) or `ES256`.
    pub id_token_signed_response_alg: Option<String>,
    /// When not empty, only accounts in one of these groups may sign in to it.
    #[serde(default)]
    pub allowed_groups: Vec<String>,
    /// The app's own address ("Your apps" opens it).
    pub client_uri: Option<String>,
}

/// The checked settings: a [`Client`] but for its secret, logo and source.
struct Checked {
    name: String,
    redirect_uris: Vec<Url>,
    post_logout_redirect_uris: Vec<Url>,
    skip_consent: bool,
    require_pkce: bool,
    id_token_alg: Algorithm,
    allowed_groups: Vec<String>,
    client_uri: Option<Url>,
}

impl Checked {
    fn into_client(self, id: String, secret: Option<ClientSecret>, logo: Option<AppLogo>, source: Source) -> Client {
        Client {
            id,
            name: self.name,
            secret,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            skip_consent: self.skip_consent,
            require_pkce: self.require_pkce,
            id_token_alg: self.id_token_alg,
            logo,
            allowed_groups: self.allowed_groups,
            client_uri: self.client_uri,
            source,
        }
    }
}

/// A `client_id`: 1 to 128 URL-safe characters, not dots alone (a logo address `/brand/apps/..`
/// would read as another path).
pub fn check_client_id(id: &str) -> Result<(), String> {
    let dots = id.chars().all(|c| c == '.');
    if id.is_empty() || dots || id.len() > 128 || !id.chars().all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)) {
        return Err("client_id: use 1 to 128 letters, digits, `-`, `.`, `_` or `~` (not dots alone)".into());
    }
    Ok(())
}

impl Settings {
    /// Checks the settings of the app `id`; the error names the field (`redirect_uris: …`).
    fn check(&self, id: &str) -> Result<Checked, String> {
        let name = self.name.as_deref().map_or(id, str::trim).to_owned();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err("name: use 1 to 64 characters, without control characters".into());
        }
        let require_pkce = match (self.public, self.require_pkce) {
            (true, Some(false)) => return Err("require_pkce: public clients must use PKCE".into()),
            (_, explicit) => explicit.unwrap_or(true),
        };
        if self.redirect_uris.is_empty() {
            return Err("redirect_uris: list at least one".into());
        }
        let redirect_uris = uris("redirect_uris", &self.redirect_uris)?;
        let post_logout_redirect_uris = uris("post_logout_redirect_uris", &self.post_logout_redirect_uris)?;
        let id_token_alg = match self.id_token_signed_response_alg.as_deref() {
            None | Some("RS256") => Algorithm::RS256,
            Some("ES256") => Algorithm::ES256,
            Some(other) => return Err(format!("id_token_signed_response_alg: `{other}` is neither RS256 nor ES256")),
        };
        let allowed_groups = self
            .allowed_groups
            .iter()
            .map(|group| crate::base::types::group_name(group).map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("allowed_groups: {e}"))?;
        let client_uri = match &self.client_uri {
            Some(uri) => uris("client_uri", std::slice::from_ref(uri))?.pop(),
            None => None,
        };
        Ok(Checked {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            skip_consent: self.skip_consent,
            require_pkce,
            id_token_alg,
            allowed_groups,
            client_uri,
        })
    }

    /// Checks these settings for a console app: `Ok` with them as kept (trimmed, defaults filled
    /// in), or [`Error::InvalidApp`] naming the field.
    pub fn checked(&self, id: &str) -> Result<Self, Error> {
        check_client_id(id).map_err(Error::InvalidApp)?;
        let checked = self.check(id).map_err(Error::InvalidApp)?;
        Ok(checked.into_client(id.to_owned(), None, None, Source::Console).settings_as(self.public))
    }
}

impl Client {
    /// [`Client::settings`] with `public` as given (a console app's secret is not part of them).
    fn settings_as(&self, public: bool) -> Settings {
        Settings { public, ..self.settings() }
    }
}

impl Clients {
    /// Reads and checks the file at `path`; a `logo_uri` that is a relative path is read from the
    /// file's own directory.
    pub fn load(path: &Path) -> Result<Self, ClientsError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ClientsError(format!("cannot read {}: {e}", path.display())))?;
        let beside = path.parent().unwrap_or(Path::new("."));
        Self::parse_in(&text, beside)
            .map_err(|ClientsError(reason)| ClientsError(format!("{}: {reason}", path.display())))
    }

    /// Checks the text of a clients file (a relative `logo_uri` is read from the working directory).
    pub fn parse(text: &str) -> Result<Self, ClientsError> {
        Self::parse_in(text, Path::new("."))
    }

    fn parse_in(text: &str, beside: &Path) -> Result<Self, ClientsError> {
        let file: File = toml::from_str(text).map_err(|e| ClientsError(one_line(&e.to_string())))?;
        let mut by_id = HashMap::new();
        for (index, table) in file.clients.into_iter().enumerate() {
            let label = match table.get("client_id").and_then(toml::Value::as_str) {
                Some(id) => format!("client `{id}`"),
                None => format!("client #{}", index + 1),
            };
            let refused = |reason: String| ClientsError(format!("{label}: {reason}"));
            let entry = Entry::deserialize(toml::Value::Table(table)).map_err(|e| refused(one_line(&e.to_string())))?;
            let client = check(entry, beside).map_err(refused)?;
            if by_id.contains_key(&client.id) {
                return Err(refused("client_id: listed twice".into()));
            }
            by_id.insert(client.id.clone(), Arc::new(client));
        }
        Ok(Self { file: by_id, stored: RwLock::default() })
    }

    /// The app with this `client_id`.
    pub fn get(&self, client_id: &str) -> Option<Arc<Client>> {
        match self.file.get(client_id) {
            Some(client) => Some(Arc::clone(client)),
            None => self.snapshot().by_id.get(client_id).cloned(),
        }
    }

    /// Whether `client_id` is an app of the clients file.
    pub fn in_file(&self, client_id: &str) -> bool {
        self.file.contains_key(client_id)
    }

    /// Every app, in no particular order.
    pub fn all(&self) -> Vec<Arc<Client>> {
        self.file.values().chain(self.snapshot().by_id.values()).cloned().collect()
    }

    /// How many apps are registered.
    pub fn len(&self) -> usize {
        self.file.len() + self.snapshot().by_id.len()
    }

    /// Whether no app is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn snapshot(&self) -> Arc<stored::Snapshot> {
        Arc::clone(&self.stored.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Authenticates a client at the token endpoint (RFC 6749 §2.3.1): a confidential client by its
    /// secret (an Argon2id hash is checked on the engine's hashing queue, a plain or generated
    /// secret compared in constant time), a public client by its id alone. `None` for an unknown
    /// client, a wrong or missing secret, and a secret sent by a public client: all of them
    /// `invalid_client`.
    pub async fn authenticate(
        &self,
        queue: &HashingQueue,
        client_id: &str,
        secret: Option<&str>,
        now: i64,
    ) -> Result<Option<Arc<Client>>, Error> {
        let Some(client) = self.get(client_id) else {
            return Ok(None);
        };
        let authenticated = match (&client.secret, secret) {
            (None, None) => true,
            (None, Some(_)) | (Some(_), None) => false,
            (Some(ClientSecret::Plain(expected)), Some(given)) => {
                constant_time_eq(expected.expose().as_bytes(), given.as_bytes())
            }
            (Some(ClientSecret::Generated { current, previous }), Some(given)) => {
                let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
                // Both compared, whichever matches, so the time taken does not tell which.
                let is_current = constant_time_eq(current, &digest);
                let is_previous = previous.is_some_and(|(old, until)| constant_time_eq(&old, &digest) && now < until);
                is_current | is_previous
            }
            (Some(ClientSecret::Hashed { phc, passed }), Some(given)) => {
                let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
                let remembered = *passed.lock().unwrap_or_else(PoisonError::into_inner);
                if remembered.is_some_and(|known| constant_time_eq(&known, &digest)) {
                    true
                } else if verify_secret(queue, given.to_owned(), phc.clone()).await? {
                    *passed.lock().unwrap_or_else(PoisonError::into_inner) = Some(digest);
                    true
                } else {
                    false
                }
            }
        };
        Ok(authenticated.then_some(client))
    }

    /// The ids of clients whose secret is written in plain text, for start-up's warning.
    pub fn with_plain_secrets(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self
            .file
            .values()
            .filter(|client| matches!(client.secret, Some(ClientSecret::Plain(_))))
            .map(|client| client.id.as_str())
            .collect();
        ids.sort_unstable();
        ids
    }
}

/// Turns an entry into a [`Client`], or says which field is wrong and why.
fn check(entry: Entry, beside: &Path) -> Result<Client, String> {
    check_client_id(&entry.client_id)?;
    let secret = match (entry.public, entry.client_secret) {
        (true, Some(_)) => {
            return Err("client_secret: a public client has none (remove it, or `public = false`)".into());
        }
        (true, None) => None,
        (false, None) => {
            return Err("client_secret: required for a confidential client (or set `public = true`)".into());
        }
        (false, Some(secret)) => Some(client_secret(secret)?),
    };
    let settings = Settings {
        name: entry.name,
        public: entry.public,
        redirect_uris: entry.redirect_uris,
        post_logout_redirect_uris: entry.post_logout_redirect_uris,
        skip_consent: entry.skip_consent,
        require_pkce: entry.require_pkce,
        id_token_signed_response_alg: entry.id_token_signed_response_alg,
        allowed_groups: entry.allowed_groups,
        client_uri: entry.client_uri,
    };
    let checked = settings.check(&entry.client_id)?;
    let logo = entry.logo_uri.map(|uri| logo(&uri, beside)).transpose()?;
    Ok(checked.into_client(entry.client_id, secret, logo, Source::File))
}

/// `logo_uri`: a file path (or a `file:` URL). A web address is refused rather than fetched: the
/// portal would otherwise either load images from anywhere (a looser CSP, and every visitor's
/// address sent to the app's host) or make requests wherever a clients file points.
fn logo(uri: &str, beside: &Path) -> Result<AppLogo, String> {
    let path = match Url::parse(uri) {
        Ok(url) if url.scheme() == "file" => {
            url.to_file_path().map_err(|()| format!("logo_uri: `{uri}` is not a file path"))?
        }
        Ok(url) if url.scheme().len() > 1 => {
            return Err(format!(
                "logo_uri: `{uri}` is a web address; Latchkey serves an app's logo itself, from a file \
                 (save the image and give its path)"
            ));
        }
        // A path (a Windows drive letter parses as a one-letter scheme).
        _ => beside.join(PathBuf::from(uri)),
    };
    let content_type =
        image_type(&path).ok_or_else(|| format!("logo_uri: `{uri}` is not a .svg, .png, .webp or .jpg file"))?;
    let bytes = read_image_file(&path).map_err(|why| format!("logo_uri: {why}"))?;
    let digest = Sha256::digest(&bytes);
    let version = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Ok(AppLogo { bytes: bytes.into(), content_type, version })
}

fn client_secret(secret: String) -> Result<ClientSecret, String> {
    if secret.starts_with('$') {
        let hash =
            argon2::PasswordHash::new(&secret).map_err(|e| format!("client_secret: not a valid PHC string ({e})"))?;
        if hash.algorithm.as_str() != "argon2id" {
            return Err(format!("client_secret: hashed with {}, not argon2id", hash.algorithm));
        }
        return Ok(ClientSecret::Hashed { phc: secret, passed: Mutex::new(None) });
    }
    if secret.chars().count() < MIN_PLAIN_SECRET_CHARS {
        return Err(format!(
            "client_secret: use at least {MIN_PLAIN_SECRET_CHARS} characters (or an Argon2id PHC hash of the secret)"
        ));
    }
    Ok(ClientSecret::Plain(Secret::new(secret)))
}

/// Exact redirect URIs: absolute, no fragment, https, or http on a loopback host (RFC 8252 §7.3).
fn uris(field: &str, raw: &[String]) -> Result<Vec<Url>, String> {
    raw.iter()
        .map(|given| {
            // A refusal names the address, shortened: it goes back into a form's cookie.
            let uri = shortened(given);
            let url = Url::parse(given).map_err(|e| format!("{field}: `{uri}` is not an absolute URL ({e})"))?;
            if url.fragment().is_some() {
                return Err(format!("{field}: `{uri}` has a fragment, which OAuth forbids"));
            }
            let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
            match url.scheme() {
                "https" => Ok(url),
                "http" if loopback => Ok(url),
                _ => Err(format!("{field}: `{uri}` must be https (http only on localhost)")),
            }
        })
        .collect()
}

/// At most 100 characters of `text`, with `…` when it was longer.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(100) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// toml's messages span lines (with a pointer under the error); start-up prints one.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Uq2kNhFf5hf3DpsG+tSCNEjA5PxhsSbd8KDVf4TKWq0";

    fn one(client: &str) -> Result<Clients, String> {
        Clients::parse(&format!("[[clients]]\n{client}")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_file_is_read() {
        let clients = Clients::parse(&format!(
            r#"
            [[clients]]
            client_id = "grafana"
            name = "Grafana"
            client_secret = "{HASH}"
            redirect_uris = ["https://grafana.example.com/login/generic_oauth"]
            post_logout_redirect_uris = ["https://grafana.example.com/login"]
            skip_consent = true

            [[clients]]
            client_id = "spa"
            public = true
            redirect_uris = ["http://localhost:5173/callback"]
            id_token_signed_response_alg = "ES256"

            [[clients]]
            client_id = "legacy"
            client_secret = "a-plain-secret-of-at-least-32-characters"
            require_pkce = false
            redirect_uris = ["https://legacy.example.com/cb"]
            "#
        ))
        .unwrap();
        assert_eq!(clients.len(), 3);
        let grafana = clients.get("grafana").unwrap();
        assert!(matches!(grafana.secret, Some(ClientSecret::Hashed { .. })));
        assert!(grafana.skip_consent && grafana.require_pkce && grafana.id_token_alg == Algorithm::RS256);
        let spa = clients.get("spa").unwrap();
        assert!(spa.is_public() && spa.require_pkce && spa.id_token_alg == Algorithm::ES256 && spa.name == "spa");
        assert!(!clients.get("legacy").unwrap().require_pkce);
        assert_eq!(clients.with_plain_secrets(), ["legacy"]);
        assert!(!format!("{clients:?}").contains("plain-secret"), "secrets never print");
    }

    #[test]
    fn an_apps_logo_is_a_file_read_at_start_never_a_web_address() {
        let dir = std::env::temp_dir().join(format!("latchkey-logo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("acme.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>").unwrap();
        std::fs::write(dir.join("acme.gif"), "GIF89a").unwrap();
        let file = dir.join("clients.toml");
        let with = |logo: &str| {
            let entry = format!(
                "[[clients]]\nclient_id = \"acme\"\npublic = true\nredirect_uris = [\"https://acme.example/cb\"]\nlogo_uri = \"{logo}\"\n"
            );
            std::fs::write(&file, entry).unwrap();
            Clients::load(&file).map_err(|e| e.to_string())
        };

        // Beside the clients file, by an absolute path, or as a file: URL.
        let absolute = dir.join("acme.svg").display().to_string();
        for logo in ["acme.svg", absolute.as_str(), &format!("file://{absolute}")] {
            let clients = with(logo).unwrap();
            let acme = clients.get("acme").unwrap();
            let read = acme.logo.as_ref().unwrap();
            assert_eq!((read.content_type, read.bytes.len()), ("image/svg+xml", 41), "{logo}");
            assert_eq!(read.address("acme"), format!("/brand/apps/acme?v={}", read.version));
        }
        let refused = with("https://acme.example/logo.svg").unwrap_err();
        assert!(refused.contains("client `acme`: logo_uri:") && refused.contains("web address"), "{refused}");
        assert!(with("acme.gif").unwrap_err().contains("not a .svg, .png, .webp or .jpg file"));
        assert!(with("missing.png").unwrap_err().contains("cannot be read"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn clients_authenticate_by_secret_or_not_at_all_when_public() {
        let queue = HashingQueue::default();
        let hash = crate::tokens::secret::hash_secret("the-hashed-secret-of-at-least-32-chars").unwrap();
        let clients = Clients::parse(&format!(
            r#"
            [[clients]]
            client_id = "hashed"
            client_secret = "{hash}"
            redirect_uris = ["https://a.example/cb"]
            [[clients]]
            client_id = "plain"
            client_secret = "the-plain-secret-of-at-least-32-chars"
            redirect_uris = ["https://b.example/cb"]
            [[clients]]
            client_id = "spa"
            public = true
            redirect_uris = ["https://c.example/cb"]
            "#
        ))
        .unwrap();
        let id = |id: &str, secret: Option<&str>| {
            let (clients, queue) = (&clients, &queue);
            let id = id.to_owned();
            let secret = secret.map(str::to_owned);
            async move {
                let client = clients.authenticate(queue, &id, secret.as_deref(), 0).await.unwrap();
                client.map(|c| c.id.clone())
            }
        };
        assert_eq!(id("hashed", Some("the-hashed-secret-of-at-least-32-chars")).await.as_deref(), Some("hashed"));
        assert_eq!(id("plain", Some("the-plain-secret-of-at-least-32-chars")).await.as_deref(), Some("plain"));
        assert_eq!(id("spa", None).await.as_deref(), Some("spa"));
        for (client, secret) in [
            ("hashed", Some("the-hashed-secret-of-at-least-32-chaRS")),
            ("hashed", None),
            ("plain", Some("the-plain-secret-of-at-least-32-char")),
            ("plain", Some("the-hashed-secret-of-at-least-32-chars")),
            ("plain", None),
            ("spa", Some("anything")),
            ("nobody", None),
            ("nobody", Some("the-plain-secret-of-at-least-32-chars")),
        ] {
            assert_eq!(id(client, secret).await, None, "{client} with {secret:?}");
        }
        // The hashed client's secret passed once (above) and is remembered; a wrong one still fails
        // after it (checked above too), and the right one still passes after a wrong one.
        assert_eq!(id("hashed", Some("the-hashed-secret-of-at-least-32-chars")).await.as_deref(), Some("hashed"));
        let printed = format!("{:?}", clients.get("hashed").unwrap());
        assert!(printed.contains("Hashed(<redacted>)") && !printed.contains("argon2"), "{printed}");
    }

    #[test]
    fn every_refusal_names_the_client_and_the_field() {
        let cases = [
            (
                r#"client_id = "a b"
                public = true
                redirect_uris = ["https://a.example/cb"]"#,
                "client `a b`: client_id",
            ),
            (
                r#"client_id = "app"
                public = true
                redirect_uris = ["https://a.example/cb"]
                client_uri = "http://a.example/""#,
                "client `app`: client_uri: `http://a.example/` must be https",
            ),
            (
                // A logo address, /brand/apps/.., that a browser would read as /brand.
                r#"client_id = ".."
                public = true
                redirect_uris = ["https://a.example/cb"]"#,
                "client `..`: client_id",
            ),
            (
                r#"client_id = "app"
                redirect_uris = ["https://a.example/cb"]"#,
                "client `app`: client_secret: required",
            ),
            (
                r#"client_id = "app"
                public = true
                client_secret = "a-plain-secret-of-at-least-32-characters"
                redirect_uris = ["https://a.example/cb"]"#,
                "client `app`: client_secret: a public client",
            ),
            (
                r#"client_id = "app"
                client_secret = "short"
                redirect_uris = ["https://a.example/cb"]"#,
                "client `app`: client_secret: use at least 32",
            ),
            (
                r#"client_id = "app"
                client_secret = "$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$YWJjZGVmZ2hpamtsbW5vcA"
                redirect_uris = ["https://a.example/cb"]"#,
                "client `app`: client_secret: hashed with argon2i",
            ),
            (
                r#"client_id = "app"
                public = true
                require_pkce = false
                redirect_uris = ["https://a.example/cb"]"#,
                "client `app`: require_pkce",
            ),
            (
                r#"client_id = "app"
                public = true
                redirect_uris = []"#,
                "client `app`: redirect_uris: list at least one",
            ),
            (
                r#"client_id = "app"
                public = true
                redirect_uris = ["http://a.example/cb"]"#,
                "client `app`: redirect_uris: `http://a.example/cb` must be https",
            ),
            (
                r#"client_id = "app"
                public = true
                redirect_uris = ["https://a.example/cb#x"]"#,
                "client `app`: redirect_uris: `https://a.example/cb#x` has a fragment",
            ),
            (
                r#"client_id = "app"
                public = true
                redirect_uris = ["/cb"]"#,
                "client `app`: redirect_uris: `/cb` is not an absolute URL",
            ),
            (
                r#"client_id = "app"
                public = true
                redirect_uris = ["https://a.example/cb"]
                post_logout_redirect_uris = ["javascript:alert(1)"]"#,
                "client `app`: post_logout_redirect_uris",
            ),
            (
                r#"client_id = "app"
                public = true
                redirect_uris = ["https://a.example/cb"]
                id_token_signed_response_alg = "HS256""#,
                "client `app`: id_token_signed_response_alg",
            ),
            (
                r#"client_id = "app"
                public = true
                redirect_uri = ["https://a.example/cb"]"#,
                "client `app`: unknown field `redirect_uri`",
            ),
            (
                r#"public = true
                redirect_uris = ["https://a.example/cb"]"#,
                "client #1: missing field `client_id`",
            ),
        ];
        for (entry, expected) in cases {
            let err = one(entry).unwrap_err();
            assert!(err.starts_with(&format!("LATCHKEY_OIDC_CLIENTS: {expected}")), "{err}\n  expected: {expected}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
        let twice = "client_id = \"app\"\npublic = true\nredirect_uris = [\"https://a.example/cb\"]\n";
        let err = Clients::parse(&format!("[[clients]]\n{twice}[[clients]]\n{twice}")).unwrap_err().to_string();
        assert!(err.contains("client `app`: client_id: listed twice"), "{err}");
        let err = Clients::parse("[[client]]\nclient_id = \"x\"").unwrap_err().to_string();
        assert!(err.contains("unknown field `client`") && !err.contains('\n'), "{err}");
    }
}
