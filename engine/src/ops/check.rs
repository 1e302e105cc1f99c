//! `check-config`: every setting read as start-up reads it, the advice start-up does not give (an RP ID
//! narrower than the site, an origin behind a proxy that is not https), and each store the settings
//! name tried once. Every finding is one fix-it sentence; errors are what would stop or break serving.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::base::config::{Config, ConfigError, SessionStoreKind, SignUp};
use crate::db::Db;
use crate::notify::mail::Mailer;
use crate::tokens::clients::Clients;

/// How long one store may take to answer before the check says it did not.
const PATIENCE: Duration = Duration::from_secs(10);

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Checked, and as it should be.
    Ok,
    /// Works, but probably not as meant.
    Warning,
    /// Start-up would stop, or users would fail.
    Error,
}

/// One line of the report: what was checked, and a sentence saying what was found and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// How serious it is.
    pub level: Level,
    /// The setting or store (`LATCHKEY_RP_ID`, `database`).
    pub subject: String,
    /// What was found, and the fix.
    pub sentence: String,
}

impl Finding {
    fn new(level: Level, subject: impl Into<String>, sentence: impl Into<String>) -> Self {
        Self { level, subject: subject.into(), sentence: sentence.into() }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Error => "error",
        };
        write!(f, "{level:<8}{}: {}", self.subject, self.sentence)
    }
}

/// Every finding, in the order checked.
#[derive(Debug, Default)]
pub struct Report {
    /// The findings.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether anything would stop or break serving.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Error)
    }
}

/// Checks the configuration `get` reads (the process environment, for the command) and the stores it
/// names. Within a Tokio runtime.
pub async fn run(get: impl Fn(&str) -> Option<String>) -> Report {
    let refused = Config::refusals(&get);
    let mut findings: Vec<Finding> =
        refused.iter().map(|e| Finding::new(Level::Error, e.var(), refusal_sentence(e))).collect();
    let is_refused = |var: &str| refused.iter().any(|e| e.var() == var);
    // The rest of the checks read what start-up would read with the refused variables unset.
    let Ok(config) = Config::from_lookup(|key| if is_refused(key) { None } else { get(key) }) else {
        return Report { findings };
    };
    if refused.is_empty() {
        findings.push(Finding::new(Level::Ok, "settings", "every LATCHKEY_* variable is accepted"));
    }
    findings.extend(advise(&config));
    if !is_refused("LATCHKEY_DATABASE_URL") {
        let reached = database(&config.stores.database_url).await;
        let migrated = reached.sentence.contains("every migration is applied");
        findings.push(reached);
        if migrated {
            findings.extend(addresses(&config.stores.database_url).await);
        }
    }
    if let (Some(url), false) = (&config.stores.redis_url, is_refused("LATCHKEY_REDIS_URL")) {
        findings.push(redis(url, &config).await);
    }
    findings.push(mail(&config).await);
    if let Some(path) = &config.tokens.oidc_clients {
        findings.push(match Clients::load(path) {
            Ok(clients) => Finding::new(
                Level::Ok,
                "LATCHKEY_OIDC_CLIENTS",
                format!("{} app(s) in {}", clients.len(), path.display()),
            ),
            Err(e) => Finding::new(Level::Error, "LATCHKEY_OIDC_CLIENTS", e.to_string()),
        });
    }
    Report { findings }
}

fn refusal_sentence(e: &ConfigError) -> String {
    format!("{} (docs/configuration.md lists what it accepts)", e.reason())
}

/// What the settings mean together, checked without touching a store.
pub fn advise(config: &Config) -> Vec<Finding> {
    let mut findings = Vec::new();
    const RP_ID: &str = "LATCHKEY_RP_ID";
    let rp_id = config.webauthn.rp_id.as_str();
    let local = |host: &str| host == "localhost" || host.ends_with(".localhost");
    if !local(rp_id) {
        if psl::suffix_str(rp_id) == Some(rp_id) {
            findings.push(Finding::new(
                Level::Error,
                RP_ID,
                format!(
                    "`{rp_id}` is a public suffix (anyone can register names under it), and browsers refuse it as an RP ID; use your own domain"
                ),
            ));
        } else {
            let sites: Vec<&str> =
                config.webauthn.origins.iter().filter_map(|o| o.host_str()).filter_map(psl::domain_str).collect();
            match sites.iter().find(|site| **site != rp_id) {
                Some(site) => findings.push(Finding::new(
                    Level::Warning,
                    RP_ID,
                    format!(
                        "`{rp_id}` is narrower than the site `{site}`: passkeys made here work only on {rp_id} and its subdomains, and the RP ID cannot change later without orphaning every passkey. If another part of {site} may ever sign users in, set LATCHKEY_RP_ID={site} now"
                    ),
                )),
                None => findings.push(Finding::new(
                    Level::Ok,
                    RP_ID,
                    format!("`{rp_id}` is the registrable domain of every origin"),
                )),
            }
        }
    }
    let plain: Vec<String> = config
        .webauthn
        .origins
        .iter()
        .filter(|o| o.scheme() != "https")
        .map(|o| o.origin().ascii_serialization())
        .collect();
    if !plain.is_empty() && !config.http.trusted_proxies.is_empty() {
        findings.push(Finding::new(
            Level::Error,
            "LATCHKEY_ORIGINS",
            format!(
                "{} is not https, yet LATCHKEY_TRUSTED_PROXIES says Latchkey runs behind a proxy: list the https origin people open (https://login.example.com), which is also what browsers check passkeys against",
                plain.join(", ")
            ),
        ));
    } else if !plain.is_empty() && config.production {
        findings.push(Finding::new(
            Level::Error,
            "LATCHKEY_ORIGINS",
            format!(
                "{} is not https in production: browsers would send the session cookie without `Secure`; serve it over https (behind Caddy or nginx, docs/deploy.md)",
                plain.join(", ")
            ),
        ));
    }
    if !config.http.trusted_proxies.is_empty() && config.http.addr.ip().is_unspecified() {
        findings.push(Finding::new(
            Level::Warning,
            "LATCHKEY_ADDR",
            format!(
                "{} listens on every interface: anyone who can reach it directly bypasses the proxy (its TLS and its view of client addresses); listen on 127.0.0.1 or the private address only the proxy reaches",
                config.http.addr
            ),
        ));
    }
    if let Some(metrics) = config.http.metrics_addr {
        if metrics.port() == config.http.addr.port() {
            findings.push(Finding::new(
                Level::Error,
                "LATCHKEY_METRICS_ADDR",
                format!(
                    "{metrics} uses LATCHKEY_ADDR's port {}; give the metrics a port of their own, e.g. 9464",
                    metrics.port()
                ),
            ));
        } else if metrics.ip().is_unspecified() {
            findings.push(Finding::new(
                Level::Warning,
                "LATCHKEY_METRICS_ADDR",
                format!(
                    "{metrics} listens on every interface: the metrics show your traffic to whoever can reach them; use 127.0.0.1 or the address only Prometheus reaches"
                ),
            ));
        }
    }
    if config.tokens.operator_secret_is_dev_default {
        findings.push(Finding::new(
            Level::Warning,
            "LATCHKEY_OPERATOR_SECRET",
            "not set: the signing keys are sealed with the public development secret; set 32+ random bytes (`openssl rand -base64 48`) before anyone else uses this server",
        ));
    }
    let postgres = !config.stores.database_url.starts_with("sqlite:");
    if postgres && config.stores.redis_url.is_none() {
        findings.push(Finding::new(
            Level::Warning,
            "LATCHKEY_REDIS_URL",
            "not set, so ceremonies wait in this process's memory: fine for one instance, but several instances on this PostgreSQL need a shared Redis, or a passkey sign-in begun on one fails on another",
        ));
    }
    if config.production && config.stores.session_store == SessionStoreKind::Memory {
        findings.push(Finding::new(
            Level::Warning,
            "LATCHKEY_SESSION_STORE",
            "`memory`: every portal sign-in ends when this process restarts; use `database` or `redis` to keep them",
        ));
    }
    findings.extend(brand(&config.brand));
    findings.push(sign_up(config));
    findings
}

/// Who may make an account, said in full; `open` beyond a developer's machine lets any stranger
/// into every app behind the portal.
fn sign_up(config: &Config) -> Finding {
    const VAR: &str = "LATCHKEY_SIGN_UP";
    let local = config.only_localhost();
    match &config.sign_up {
        SignUp::Open if !local => Finding::new(
            Level::Warning,
            VAR,
            "`open`: anyone who finds the sign-up page gets an account, and with it every app that does not limit its users (`allowed_groups`); use `invite`, `domains` or `closed` unless that is what you want",
        ),
        SignUp::Domains(_) if config.mail.smtp_url.is_none() && !local => Finding::new(
            Level::Error,
            VAR,
            "`domains` signs an account in to apps only once its address is confirmed, and without LATCHKEY_SMTP_URL no confirmation can be mailed; set LATCHKEY_SMTP_URL",
        ),
        SignUp::Domains(domains) => {
            Finding::new(Level::Ok, VAR, format!("`domains`: addresses at {} may make an account", domains.join(", ")))
        }
        rule => Finding::new(
            Level::Ok,
            VAR,
            match rule {
                SignUp::Open => "`open` (every origin is on localhost): anyone may make an account",
                SignUp::Invite => "`invite`: an account needs an invitation",
                _ => "`closed`: accounts come from the operator only",
            },
        ),
    }
}

/// The brand's files can be read and are not too large, and the accent colour carries the white
/// text the portal puts on it (WCAG AA: 4.5:1).
fn brand(brand: &crate::base::config::Brand) -> Vec<Finding> {
    use crate::base::config::brand::Rgb;
    let mut findings = Vec::new();
    for file in brand.files() {
        if let Err(why) = file.read() {
            findings.push(Finding::new(Level::Error, file.var, why));
        }
    }
    if let Some(accent) = brand.accent {
        let ratio = accent.contrast(Rgb([255, 255, 255]));
        if ratio < 4.5 {
            findings.push(Finding::new(
                Level::Warning,
                "LATCHKEY_BRAND_ACCENT",
                format!(
                    "white text on {} has a contrast of {ratio:.2}:1, under the 4.5:1 WCAG AA asks of text: buttons and links would be hard to read; choose a darker colour",
                    accent.hex()
                ),
            ));
        }
    }
    findings
}

async fn database(url: &str) -> Finding {
    const SUBJECT: &str = "LATCHKEY_DATABASE_URL";
    if let Some(missing) = missing_sqlite_file(url) {
        let dir = missing.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        return if dir.is_dir() {
            Finding::new(Level::Ok, SUBJECT, format!("{} does not exist yet; serve creates it", missing.display()))
        } else {
            Finding::new(
                Level::Error,
                SUBJECT,
                format!("{} cannot be created: the directory {} does not exist", missing.display(), dir.display()),
            )
        };
    }
    let checked = within(async {
        let db = Db::connect(url).await.map_err(|e| e.to_string())?;
        db.pending_migrations().await.map_err(|e| e.to_string())
    })
    .await;
    match checked {
        Ok(pending) if pending.is_empty() => {
            Finding::new(Level::Ok, SUBJECT, "answers, and every migration is applied")
        }
        Ok(pending) => Finding::new(
            Level::Ok,
            SUBJECT,
            format!("answers; {} migration(s) to apply (`serve` and `migrate` apply them)", pending.len()),
        ),
        Err(e) => Finding::new(
            Level::Error,
            SUBJECT,
            format!("cannot be reached: {e}. Check the host, port, user and password, and that the server is running"),
        ),
    }
}

/// A warning naming the accounts whose stored address is no longer accepted ([`super::addresses`]).
async fn addresses(url: &str) -> Option<Finding> {
    let found = within(async {
        let db = Db::connect(url).await.map_err(|e| e.to_string())?;
        super::addresses::no_longer_accepted(&db).await.map_err(|e| e.to_string())
    })
    .await;
    match found {
        Ok(ids) => super::addresses::report(&ids).map(|sentence| Finding::new(Level::Warning, "accounts", sentence)),
        Err(e) => Some(Finding::new(Level::Warning, "accounts", format!("their addresses could not be read: {e}"))),
    }
}

/// The file of an SQLite URL when it does not exist (connecting would create it).
fn missing_sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    crate::db::sqlite_file(url).ok().flatten().filter(|path| !path.exists())
}

async fn redis(url: &str, config: &Config) -> Finding {
    const SUBJECT: &str = "LATCHKEY_REDIS_URL";
    let checked = within(async {
        let pool = crate::passkeys::challenge::connect_redis(url, config.stores.redis_ca_file.as_deref())
            .await
            .map_err(|e| e.to_string())?;
        let pong = fred::prelude::ClientLike::ping::<String>(&pool, None).await;
        pong.map(|_| ()).map_err(|e| e.to_string())
    })
    .await;
    match checked {
        Ok(()) => Finding::new(Level::Ok, SUBJECT, "answers"),
        Err(e) => Finding::new(
            Level::Error,
            SUBJECT,
            format!("cannot be reached: {e}. Check the host and port, the password in the URL, and rediss:// for TLS"),
        ),
    }
}

async fn mail(config: &Config) -> Finding {
    const SUBJECT: &str = "LATCHKEY_SMTP_URL";
    let mailer = match Mailer::from_config(config) {
        Ok(mailer) => mailer,
        Err(e) => return Finding::new(Level::Error, "mail", e.to_string()),
    };
    match within(async { mailer.probe().await.transpose() }).await {
        Ok(Some(())) => Finding::new(Level::Ok, SUBJECT, "the SMTP server answers"),
        Ok(None) if config.production => Finding::new(
            Level::Warning,
            SUBJECT,
            "not set: email verification and recovery by email are off; set it to the SMTP server mail goes through",
        ),
        Ok(None) => Finding::new(Level::Ok, SUBJECT, "not set: mails are written to the log (development)"),
        // Not an error: `serve` starts, and mail waits in the outbox until the server answers.
        Err(e) => Finding::new(
            Level::Warning,
            SUBJECT,
            format!(
                "the SMTP server cannot be reached: {e}. Mail waits in the outbox until it answers; check the host, port, credentials and TLS mode"
            ),
        ),
    }
}

/// `check` with a time limit, so an address that drops packets does not hang the command.
async fn within<T>(check: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::time::timeout(PATIENCE, check)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", PATIENCE.as_secs())))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| vars.get(k).cloned()).unwrap()
    }

    const SECRET: (&str, &str) = ("LATCHKEY_OPERATOR_SECRET", "0123456789abcdef0123456789abcdef");

    fn levels(findings: &[Finding], subject: &str) -> Vec<Level> {
        findings.iter().filter(|f| f.subject == subject).map(|f| f.level).collect()
    }

    #[test]
    fn an_rp_id_narrower_than_the_site_is_a_warning_and_a_public_suffix_an_error() {
        let narrow = config(&[
            ("LATCHKEY_RP_ID", "login.example.com"),
            ("LATCHKEY_ORIGINS", "https://login.example.com"),
            SECRET,
        ]);
        let findings = advise(&narrow);
        assert_eq!(levels(&findings, "LATCHKEY_RP_ID"), [Level::Warning]);
        assert!(findings[0].sentence.contains("LATCHKEY_RP_ID=example.com"), "{}", findings[0]);

        let site =
            config(&[("LATCHKEY_RP_ID", "example.co.uk"), ("LATCHKEY_ORIGINS", "https://id.example.co.uk"), SECRET]);
        assert_eq!(levels(&advise(&site), "LATCHKEY_RP_ID"), [Level::Ok]);

        let suffix = config(&[("LATCHKEY_RP_ID", "github.io"), ("LATCHKEY_ORIGINS", "https://me.github.io"), SECRET]);
        assert_eq!(levels(&advise(&suffix), "LATCHKEY_RP_ID"), [Level::Error]);

        assert!(levels(&advise(&config(&[])), "LATCHKEY_RP_ID").is_empty(), "localhost needs no advice");
    }

    #[test]
    fn a_plain_http_origin_behind_a_proxy_or_in_production_is_an_error() {
        let proxied = config(&[("LATCHKEY_TRUSTED_PROXIES", "127.0.0.1")]);
        assert_eq!(levels(&advise(&proxied), "LATCHKEY_ORIGINS"), [Level::Error]);
        let production = config(&[("LATCHKEY_ENV", "production"), SECRET]);
        assert_eq!(levels(&advise(&production), "LATCHKEY_ORIGINS"), [Level::Error]);
        let https = config(&[
            ("LATCHKEY_RP_ID", "example.com"),
            ("LATCHKEY_ORIGINS", "https://example.com"),
            ("LATCHKEY_TRUSTED_PROXIES", "127.0.0.1"),
            SECRET,
        ]);
        assert!(levels(&advise(&https), "LATCHKEY_ORIGINS").is_empty());
        assert!(levels(&advise(&config(&[])), "LATCHKEY_ORIGINS").is_empty(), "development on localhost is fine");
    }

    #[test]
    fn a_proxied_server_listening_everywhere_and_postgres_without_redis_are_warnings() {
        let open = config(&[("LATCHKEY_ADDR", "0.0.0.0:3000"), ("LATCHKEY_TRUSTED_PROXIES", "10.0.0.0/8")]);
        assert_eq!(levels(&advise(&open), "LATCHKEY_ADDR"), [Level::Warning]);
        let local = config(&[("LATCHKEY_TRUSTED_PROXIES", "127.0.0.1")]);
        assert!(levels(&advise(&local), "LATCHKEY_ADDR").is_empty());
        let pg = config(&[("LATCHKEY_DATABASE_URL", "postgres://db/latchkey")]);
        assert_eq!(levels(&advise(&pg), "LATCHKEY_REDIS_URL"), [Level::Warning]);
    }

    #[test]
    fn a_pale_accent_is_a_warning_and_a_missing_brand_file_an_error() {
        let pale = config(&[("LATCHKEY_BRAND_ACCENT", "#ffcc00")]);
        assert_eq!(levels(&advise(&pale), "LATCHKEY_BRAND_ACCENT"), [Level::Warning]);
        let dark = config(&[("LATCHKEY_BRAND_ACCENT", "#1d4ed8")]);
        assert!(levels(&advise(&dark), "LATCHKEY_BRAND_ACCENT").is_empty());
        let missing = config(&[("LATCHKEY_BRAND_LOGO", "/nonexistent/logo.svg")]);
        assert_eq!(levels(&advise(&missing), "LATCHKEY_BRAND_LOGO"), [Level::Error]);
    }

    #[test]
    fn open_sign_up_beyond_localhost_is_a_warning_and_domains_without_mail_an_error() {
        const SITE: [(&str, &str); 3] =
            [("LATCHKEY_RP_ID", "example.com"), ("LATCHKEY_ORIGINS", "https://login.example.com"), SECRET];
        let with = |more: &[(&'static str, &'static str)]| config(&[&SITE[..], more].concat());
        assert_eq!(levels(&advise(&with(&[("LATCHKEY_SIGN_UP", "open")])), "LATCHKEY_SIGN_UP"), [Level::Warning]);
        assert_eq!(levels(&advise(&with(&[])), "LATCHKEY_SIGN_UP"), [Level::Ok], "`invite` by default");
        assert_eq!(levels(&advise(&config(&[])), "LATCHKEY_SIGN_UP"), [Level::Ok], "open on localhost");
        let domains = [("LATCHKEY_SIGN_UP", "domains"), ("LATCHKEY_SIGN_UP_DOMAINS", "example.com")];
        assert_eq!(levels(&advise(&with(&domains)), "LATCHKEY_SIGN_UP"), [Level::Error]);
        let mailed = [&domains[..], &[("LATCHKEY_SMTP_URL", "smtp://mail.example.com")]].concat();
        assert_eq!(levels(&advise(&with(&mailed)), "LATCHKEY_SIGN_UP"), [Level::Ok]);
    }
}
