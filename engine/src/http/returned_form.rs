//! A form that failed comes back as it was. The portal's forms post without JavaScript, and a
//! server function that fails answers such a post with a redirect back to the page. Leptos writes
//! the error into that redirect's address (`?__path=/api/…&__err=<base64>`): the visitor sees it in
//! the address bar, what they typed is gone, and anyone can write a link whose `__err` puts a
//! sentence of their choosing on the real sign-in page. Instead the server (`server/src/layers.rs`)
//! moves the error, with the fields worth keeping ([`KEPT_FIELDS`]: never a password), into a
//! short-lived cookie sealed with the operator secret, and redirects to the plain address; the page
//! shows the error by its field and fills the field in again, and the cookie is cleared with that
//! page. An error in an address is never shown.

use serde::{Deserialize, Serialize};

use crate::base::config::Config;
use crate::base::error::ApiError;
use crate::base::sealed::{Purpose, Sealer};

/// The cookie that carries a [`ReturnedForm`] from the failed post to the page it returns to:
/// `__Host-` when the site is https only, so a sibling subdomain cannot set it.
pub fn cookie_name(config: &Config) -> &'static str {
    if config.https_only() { "__Host-latchkey_form" } else { "latchkey_form" }
}

/// The fields a failed form gets back: what the visitor typed that is not a secret (the console's
/// app form keeps its addresses and groups as well).
pub const KEPT_FIELDS: &[&str] =
    &["email", "name", "client_id", "redirect_uris", "post_logout_redirect_uris", "client_uri", "allowed_groups"];

/// The longest kept field (an email address has at most 254 characters), so the cookie stays small.
pub const MAX_FIELD_CHARS: usize = 320;

/// The most characters kept across a form's fields, so the cookie stays well under the 4 KB a
/// browser keeps (a dropped cookie would lose the error too).
const MAX_KEPT_CHARS: usize = 1_500;

/// How long the cookie lives: the redirect is followed at once.
const LIFETIME_SECS: i64 = 60;

/// The sealed value's context (associated data).
const CONTEXT: &str = "returned form v1";

/// What a failed form post left for its page: which server function failed, its error, and the
/// kept fields as they were typed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReturnedForm {
    /// The server function's path (`/api/password_sign_in`): a page shows the error by the form
    /// that posts there.
    pub path: String,
    /// Its error.
    pub error: ApiError,
    /// The kept fields, `(name, value)`.
    pub fields: Vec<(String, String)>,
    /// Unix seconds after which it is not shown.
    expires_at: i64,
}

impl ReturnedForm {
    /// The form posted to `path` with `fields` failed with `error`. Only [`KEPT_FIELDS`] are kept,
    /// the first of each name, and only when at most [`MAX_FIELD_CHARS`] characters long: a value
    /// cut short would come back as something the visitor did not type (a list of redirect URIs
    /// missing its end, saved again as it shows), so a longer one comes back empty.
    pub fn new(path: &str, error: ApiError, fields: impl IntoIterator<Item = (String, String)>, now: i64) -> Self {
        let mut kept: Vec<(String, String)> = Vec::new();
        let mut total = 0;
        for (name, value) in fields {
            if KEPT_FIELDS.contains(&name.as_str()) && !kept.iter().any(|(n, _)| *n == name) {
                let chars = value.chars().count();
                let fits = chars <= MAX_FIELD_CHARS && total + chars <= MAX_KEPT_CHARS;
                total += if fits { chars } else { 0 };
                kept.push((name, if fits { value } else { String::new() }));
            }
        }
        Self { path: path.to_owned(), error, fields: kept, expires_at: now + LIFETIME_SECS }
    }

    /// The kept field `name`, as it was typed.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The `Set-Cookie` value that carries it (`None` only without randomness for the seal).
    pub fn cookie(&self, config: &Config) -> Option<String> {
        let json = serde_json::to_vec(self).ok()?;
        let sealed = sealer(config).seal(CONTEXT, &json)?;
        Some(format!("{}={sealed}; {}; Max-Age={LIFETIME_SECS}", cookie_name(config), attributes(config)))
    }

    /// The form the cookie's `sealed` value carries, unless it was tampered with, sealed under
    /// another secret or is out of date.
    pub fn open(config: &Config, sealed: &str, now: i64) -> Option<Self> {
        let json = sealer(config).open(CONTEXT, sealed).ok()?;
        serde_json::from_slice::<Self>(&json).ok().filter(|form| now <= form.expires_at)
    }

    /// The `Set-Cookie` value that clears the cookie (the page it returned to was sent).
    pub fn clear_cookie(config: &Config) -> String {
        format!("{}=; {}; Max-Age=0", cookie_name(config), attributes(config))
    }
}

/// The error Leptos wrote into a redirect's `__err` (base64url of the error's JSON, padded).
pub fn leptos_error(encoded: &str) -> Option<ApiError> {
    use base64::Engine as _;
    let json = base64::engine::general_purpose::URL_SAFE.decode(encoded).ok()?;
    serde_json::from_slice(&json).ok()
}

fn sealer(config: &Config) -> Sealer {
    Sealer::new(&config.tokens.operator_secret, Purpose::ReturnedForms)
}

/// The attributes of the portal's own short-lived cookies (this one, the recovery link's): never
/// read by scripts, sent on top-level navigation only, `Secure` when the site is https only.
pub fn attributes(config: &Config) -> &'static str {
    if config.https_only() { "HttpOnly; SameSite=Lax; Path=/; Secure" } else { "HttpOnly; SameSite=Lax; Path=/" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::error::ErrorCode;

    fn config() -> Config {
        Config::from_lookup(|_| None).unwrap()
    }

    fn cookie_value(set_cookie: &str) -> &str {
        set_cookie.split(';').next().unwrap().strip_prefix("latchkey_form=").unwrap()
    }

    #[test]
    fn a_returned_form_keeps_the_email_never_the_password_and_opens_only_unaltered_and_in_time() {
        let config = config();
        let error = ApiError { error: ErrorCode::InvalidCredentials, message: "Wrong.".into(), retry_after: None };
        let typed = [("email", "ada@example.com"), ("password", "hunter22"), ("next", "/notes")];
        let form = ReturnedForm::new(
            "/api/password_sign_in",
            error,
            typed.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
            1000,
        );
        let set_cookie = form.cookie(&config).unwrap();
        let sealed = cookie_value(&set_cookie);

        assert_eq!(form.field("email"), Some("ada@example.com"));
        assert_eq!(form.field("password"), None);
        assert!(!set_cookie.contains("hunter22") && !set_cookie.contains("ada@"), "sealed, not readable");
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("Max-Age=60"));
        assert_eq!(ReturnedForm::open(&config, sealed, 1060), Some(form));
        assert_eq!(ReturnedForm::open(&config, sealed, 1061), None, "out of date");
        let mut altered = sealed.to_owned();
        altered.replace_range(10..11, if &sealed[10..11] == "A" { "B" } else { "A" });
        assert_eq!(ReturnedForm::open(&config, &altered, 1000), None, "tampered with");
        assert!(ReturnedForm::clear_cookie(&config).contains("Max-Age=0"));
    }

    #[test]
    fn a_returned_form_keeps_one_short_value_per_field() {
        let error = ApiError { error: ErrorCode::InvalidEmail, message: "No.".into(), retry_after: None };
        let typed = [("email", "x".repeat(70_000)), ("email", "second@example.com".to_owned())];
        let form = ReturnedForm::new("/api/sign_up_with_password", error, typed.map(|(n, v)| (n.to_owned(), v)), 0);
        assert_eq!(form.fields.len(), 1);
        assert_eq!(form.field("email"), Some(""), "too long to keep whole: not kept cut short");
        assert!(form.cookie(&config()).unwrap().len() < 2_000, "a cookie browsers keep");

        // Every kept field of the console's app form as long as a field may be: still a cookie
        // browsers keep, with the error in it.
        let error =
            ApiError { error: ErrorCode::InvalidApp, message: "redirect_uris: x".repeat(20), retry_after: None };
        let typed = KEPT_FIELDS.iter().map(|name| ((*name).to_owned(), "y".repeat(MAX_FIELD_CHARS)));
        let form = ReturnedForm::new("/api/console_create_app", error, typed, 0);
        assert_eq!(form.fields.iter().map(|(_, v)| v.len()).sum::<usize>(), 4 * MAX_FIELD_CHARS);
        assert!(form.cookie(&config()).unwrap().len() < 4_000, "a cookie browsers keep");
    }
}
