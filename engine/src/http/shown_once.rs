//! A secret the console made (an app's client secret) is shown once, on the page the form goes on
//! to. The console's forms post without JavaScript, so the secret cannot ride in the answer the
//! page reads: the server function seals it with the operator secret into a cookie that lives a
//! minute, is never readable by scripts and is sent only by this site's own navigation, and the
//! page that shows it clears it. It is never in an address, a log line or the database.

use serde::{Deserialize, Serialize};

use crate::base::config::Config;
use crate::base::sealed::{Purpose, Sealer};

/// How long the cookie lives: the redirect is followed at once.
const LIFETIME_SECS: i64 = 60;

/// The sealed value's context.
const CONTEXT: &str = "shown once v1";

/// The cookie's name: `__Host-` when the site is https only, so a sibling subdomain cannot set it.
pub fn cookie_name(config: &Config) -> &'static str {
    if config.https_only() { "__Host-latchkey_shown_once" } else { "latchkey_shown_once" }
}

/// A secret for the page at `page`.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ShownOnce {
    /// The page's path that shows it (another page ignores it).
    pub page: String,
    /// The secret.
    pub secret: String,
    /// Unix seconds after which it is not shown.
    expires_at: i64,
}

impl std::fmt::Debug for ShownOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ShownOnce({}, <redacted>)", self.page)
    }
}

impl ShownOnce {
    /// `secret`, for the page at `page`.
    pub fn new(page: &str, secret: &str, now: i64) -> Self {
        Self { page: page.to_owned(), secret: secret.to_owned(), expires_at: now + LIFETIME_SECS }
    }

    /// The `Set-Cookie` value that carries it (`None` only without randomness for the seal).
    pub fn cookie(&self, config: &Config) -> Option<String> {
        let sealed = sealer(config).seal(CONTEXT, &serde_json::to_vec(self).ok()?)?;
        Some(format!("{}={sealed}; {}; Max-Age={LIFETIME_SECS}", cookie_name(config), attributes(config)))
    }

    /// What the cookie's `sealed` value carries for `page`, unless it was tampered with, is out of
    /// date or is for another page.
    pub fn open(config: &Config, sealed: &str, page: &str, now: i64) -> Option<Self> {
        let json = sealer(config).open(CONTEXT, sealed).ok()?;
        serde_json::from_slice::<Self>(&json).ok().filter(|shown| now <= shown.expires_at && shown.page == page)
    }

    /// The `Set-Cookie` value that clears the cookie.
    pub fn clear_cookie(config: &Config) -> String {
        format!("{}=; {}; Max-Age=0", cookie_name(config), attributes(config))
    }
}

fn sealer(config: &Config) -> Sealer {
    Sealer::new(&config.tokens.operator_secret, Purpose::ShownOnce)
}

/// Never read by scripts, sent on this site's own navigation only, `Secure` over https.
fn attributes(config: &Config) -> &'static str {
    if config.https_only() { "HttpOnly; SameSite=Strict; Path=/; Secure" } else { "HttpOnly; SameSite=Strict; Path=/" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_sealed_for_one_page_and_a_minute() {
        let config = Config::from_lookup(|_| None).unwrap();
        let set_cookie = ShownOnce::new("/admin/apps/wiki", "s3cret-value", 1000).cookie(&config).unwrap();
        assert!(
            !set_cookie.contains("s3cret") && set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict")
        );
        let sealed = set_cookie.split(';').next().unwrap().strip_prefix("latchkey_shown_once=").unwrap();
        let opened = ShownOnce::open(&config, sealed, "/admin/apps/wiki", 1060).unwrap();
        assert_eq!(opened.secret, "s3cret-value");
        assert_eq!(ShownOnce::open(&config, sealed, "/admin/apps/other", 1000), None, "another page");
        assert_eq!(ShownOnce::open(&config, sealed, "/admin/apps/wiki", 1061), None, "out of date");
        assert!(ShownOnce::clear_cookie(&config).contains("Max-Age=0"));
    }
}
