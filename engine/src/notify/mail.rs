//! Email: composed from the templates in `engine/templates/mail/` (plain text and HTML, with the
//! portal's name), put in the `outbox` table in the same transaction as the change that causes it,
//! and handed to the SMTP server (`LATCHKEY_SMTP_URL`, through `lettre`) by a background worker on
//! every instance.
//!
//! Nothing is lost: a mail waits in the database until the SMTP server has accepted it, through
//! crashes and SMTP outages, and a failed delivery is tried again later, each wait twice the last
//! (`LATCHKEY_MAIL_RETRY_SECS`, up to an hour); only a permanent refusal (an SMTP 5xx answer) ends
//! it. Nothing is sent twice by two instances: a worker claims a mail for a minute before it sends
//! it (`db::outbox::claim`). (SMTP has no way to make "accepted" and "marked as sent" one step: a
//! worker that dies between the two leaves the mail to be sent again once its claim lapses.)
//!
//! Without `LATCHKEY_SMTP_URL`, development prints each mail to the log instead (with its link),
//! and production turns off what needs email, saying so at start-up.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;

use crate::base::clock;
use crate::base::config::Config;
use crate::base::error::Error;
use crate::db::Db;
use crate::db::outbox::{self, NewMail, OutboxRow};

/// How long a worker's claim on a mail holds (seconds): longer than any SMTP exchange.
const CLAIM_SECS: i64 = 60;
/// The longest wait between two attempts (seconds).
const MAX_RETRY_SECS: i64 = 3600;
/// How often a worker looks for due mail when nothing woke it.
const POLL: Duration = Duration::from_secs(5);

/// Where mail goes.
enum Transport {
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// The log (development without `LATCHKEY_SMTP_URL`).
    Log,
    /// Nowhere: production without `LATCHKEY_SMTP_URL`; what needs email is off.
    Off,
}

/// The engine's mail: how it is sent, from whom, and the worker's wake-up call.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    retry: Duration,
    worker: String,
    wake: Notify,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let transport = match self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::Log => "log",
            Transport::Off => "off",
        };
        f.debug_struct("Mailer").field("transport", &transport).field("from", &self.from.to_string()).finish()
    }
}

/// A mail setting that stops start-up.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MailConfigError(String);

impl Mailer {
    /// The mailer `config` asks for (within a Tokio runtime: the SMTP pool starts a task).
    pub fn from_config(config: &Config) -> Result<Self, MailConfigError> {
        let from = match &config.mail.from {
            Some(from) => from.parse().map_err(|e| MailConfigError(format!("LATCHKEY_MAIL_FROM: `{from}`: {e}")))?,
            None => {
                let host = config.webauthn.origins.first().and_then(|o| o.host_str()).unwrap_or("localhost");
                let address = format!("no-reply@{host}").parse().map_err(|e| MailConfigError(format!("{e}")))?;
                Mailbox::new(Some(config.product_name.clone()), address)
            }
        };
        let transport = match &config.mail.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| MailConfigError(format!("LATCHKEY_SMTP_URL: {e}")))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build(),
            ),
            // Mail carries links that sign people in: printed only where nobody but the developer
            // reads the log, a machine every origin of which is localhost.
            None if config.production || !config.only_localhost() => Transport::Off,
            None => Transport::Log,
        };
        Ok(Self {
            transport,
            from,
            retry: config.mail.retry,
            worker: uuid::Uuid::new_v4().to_string(),
            wake: Notify::new(),
        })
    }

    /// Whether the SMTP server answers a connection and a NOOP (for `check-config`); `None` when mail
    /// goes to no SMTP server.
    pub async fn probe(&self) -> Option<Result<(), String>> {
        match &self.transport {
            Transport::Smtp(smtp) => Some(match smtp.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err("it did not answer NOOP".into()),
                Err(e) => Err(e.to_string()),
            }),
            Transport::Log | Transport::Off => None,
        }
    }

    /// Whether mail can go anywhere: features that need email (verification, recovery) are on.
    pub fn enabled(&self) -> bool {
        !matches!(self.transport, Transport::Off)
    }

    /// What start-up says about mail.
    pub fn describe(&self) -> &'static str {
        match self.transport {
            Transport::Smtp(_) => "mail is sent through LATCHKEY_SMTP_URL",
            Transport::Log => {
                "LATCHKEY_SMTP_URL is not set: mail is printed to this log (with its links) instead of sent"
            }
            Transport::Off => {
                "LATCHKEY_SMTP_URL is not set: email verification and recovery are OFF until it is (docs/configuration.md)"
            }
        }
    }

    /// Tells this instance's worker that a mail is waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    async fn deliver(&self, mail: &OutboxRow) -> Result<(), Failure> {
        match &self.transport {
            Transport::Smtp(smtp) => {
                let to: Mailbox = mail.recipient.parse().map_err(|e| Failure::Permanent(format!("recipient: {e}")))?;
                let message = Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(&mail.subject)
                    .multipart(MultiPart::alternative_plain_html(mail.text_body.clone(), mail.html_body.clone()))
                    .map_err(|e| Failure::Permanent(e.to_string()))?;
                smtp.send(message).await.map(|_| ()).map_err(|e| {
                    if e.is_permanent() { Failure::Permanent(e.to_string()) } else { Failure::Later(e.to_string()) }
                })
            }
            Transport::Log => {
                tracing::info!(to = %mail.recipient, subject = %mail.subject, "mail (not sent: no LATCHKEY_SMTP_URL)\n{}", mail.text_body);
                Ok(())
            }
            Transport::Off => Err(Failure::Later("mail is off".into())),
        }
    }
}

/// Why a delivery did not happen.
enum Failure {
    /// Try again later (the SMTP server is down, busy, or answered 4xx).
    Later(String),
    /// Never (the SMTP server answered 5xx, or the mail cannot be written).
    Permanent(String),
}

/// The mails Latchkey writes.
#[derive(Debug, Clone, Copy)]
pub enum Letter<'a> {
    /// "Confirm your email address": the link and the short code.
    VerifyEmail {
        /// The address to confirm (and the recipient).
        email: &'a str,
        /// The link that confirms it.
        link: &'a str,
        /// The code that confirms it, typed on the account page.
        code: &'a str,
        /// Whether it is a new address the account moves to once confirmed.
        change: bool,
    },
    /// "A recovery link was used for your account", and what to do if it was not them.
    RecoveryUsed {
        /// The account's address (and the recipient).
        email: &'a str,
        /// "This wasn't me": removes the passkey the link added.
        undo_link: &'a str,
    },
    /// "Lost your passkey?": the recovery link the user asked for.
    RecoveryLink {
        /// The account's confirmed address (and the recipient).
        email: &'a str,
        /// The link.
        link: &'a str,
    },
    /// "You are invited": the operator's invitation to make an account.
    Invitation {
        /// The invited address (and the recipient).
        email: &'a str,
        /// The link that opens sign-up with the invitation.
        link: &'a str,
        /// Until when it works (as people read it, UTC).
        expires: &'a str,
    },
    /// A change to how the account signs in, and what to do if it was not them.
    Notice {
        /// The account's address (and the recipient).
        email: &'a str,
        /// What changed.
        what: Notice<'a>,
    },
}

/// A change to how an account signs in, that its owner is told of.
#[derive(Debug, Clone, Copy)]
pub enum Notice<'a> {
    /// A passkey of this name was added.
    PasskeyAdded(&'a str),
    /// The passkey of this name was removed.
    PasskeyRemoved(&'a str),
    /// A password was added.
    PasswordSet,
    /// The password was changed.
    PasswordChanged,
    /// The password was removed.
    PasswordRemoved,
    /// The account's email address moved to this one (told to the old address).
    EmailChanged(&'a str),
    /// A move to this address was asked for (told to the current address at once).
    EmailChangeRequested(&'a str),
    /// The operator disabled the account.
    AccountDisabled,
    /// The operator enabled the account again.
    AccountEnabled,
    /// The account was made an administrator.
    AdminGranted,
    /// The account is no longer an administrator.
    AdminRevoked,
}

impl Notice<'_> {
    /// The mail's headline (and subject).
    fn headline(self) -> &'static str {
        match self {
            Self::PasskeyAdded(_) => "A passkey was added to your account",
            Self::PasskeyRemoved(_) => "A passkey was removed from your account",
            Self::PasswordSet => "A password was added to your account",
            Self::PasswordChanged => "Your password was changed",
            Self::PasswordRemoved => "Your password was removed",
            Self::EmailChanged(_) => "Your account's email address was changed",
            Self::EmailChangeRequested(_) => "A new email address was asked for your account",
            Self::AccountDisabled => "Your account was disabled",
            Self::AccountEnabled => "Your account was enabled again",
            Self::AdminGranted => "You are now an administrator",
            Self::AdminRevoked => "You are no longer an administrator",
        }
    }

    /// Whether the operator did it, rather than someone signed in to the account (the mail then
    /// says who to ask, not how to take the account back).
    fn by_operator(self) -> bool {
        matches!(self, Self::AccountDisabled | Self::AccountEnabled | Self::AdminGranted | Self::AdminRevoked)
    }

    /// The sentence under it.
    fn detail(self, product: &str) -> String {
        match self {
            Self::PasskeyAdded(name) => format!("The passkey “{name}” can now sign in to your {product} account."),
            Self::PasskeyRemoved(name) => {
                format!("The passkey “{name}” can no longer sign in to your {product} account.")
            }
            Self::PasswordSet => format!("Your {product} account can now be signed in to with a password."),
            Self::PasswordChanged => {
                format!("Your {product} account has a new password; every other sign-in of it was ended.")
            }
            Self::PasswordRemoved => {
                format!("Your {product} account is signed in to with passkeys only now; every other sign-in was ended.")
            }
            Self::EmailChanged(to) => {
                format!("Your {product} account's email address is now {to}, no longer this one.")
            }
            Self::EmailChangeRequested(to) => format!(
                "Someone signed in to your {product} account asked to move it to {to}. It moves once that address \
                 is confirmed, within a day. Ending your other sign-ins or changing your password cancels it."
            ),
            Self::AccountDisabled => format!(
                "An administrator of {product} disabled your account: every sign-in of it was ended, and it cannot \
                 sign in to {product} or the apps behind it until it is enabled again."
            ),
            Self::AccountEnabled => {
                format!("An administrator of {product} enabled your account: it can sign in again.")
            }
            Self::AdminGranted => format!(
                "Your {product} account was made an administrator: it can now manage the accounts, groups and \
                 invitations of {product}."
            ),
            Self::AdminRevoked => format!("Your {product} account is no longer an administrator of {product}."),
        }
    }
}

impl Letter<'_> {
    /// A mail that tells of something done to the account, rather than one its reader asked for
    /// (a confirmation, a recovery link).
    pub(crate) fn is_notice(&self) -> bool {
        matches!(self, Self::Notice { .. } | Self::RecoveryUsed { .. })
    }

    pub(crate) fn template(&self) -> &'static str {
        match self {
            Self::VerifyEmail { .. } => "verify-email",
            Self::RecoveryUsed { .. } => "recovery-used",
            Self::Notice { .. } => "notice",
            Self::RecoveryLink { .. } => "recovery-link",
            Self::Invitation { .. } => "invitation",
        }
    }

    pub(crate) fn recipient(&self) -> &str {
        match self {
            Self::VerifyEmail { email, .. }
            | Self::RecoveryUsed { email, .. }
            | Self::Notice { email, .. }
            | Self::RecoveryLink { email, .. }
            | Self::Invitation { email, .. } => email,
        }
    }

    fn subject(&self, product: &str) -> String {
        match self {
            Self::VerifyEmail { .. } => format!("Confirm your email address for {product}"),
            Self::RecoveryUsed { .. } => format!("A recovery link was used for your {product} account"),
            Self::Notice { what, .. } => format!("{} ({product})", what.headline()),
            Self::RecoveryLink { .. } => format!("A way back into your {product} account"),
            Self::Invitation { .. } => format!("You are invited to {product}"),
        }
    }

    fn values(&self, product: &str) -> minijinja::Value {
        match self {
            Self::VerifyEmail { email, link, code, change } => minijinja::context! { email, link, code, change },
            Self::RecoveryUsed { email, undo_link } => minijinja::context! { email, undo_link },
            Self::RecoveryLink { email, link } => minijinja::context! { email, link },
            Self::Invitation { email, link, expires } => minijinja::context! { email, link, expires },
            Self::Notice { email, what } => {
                let (headline, detail, by_operator) = (what.headline(), what.detail(product), what.by_operator());
                minijinja::context! { email, headline, detail, by_operator }
            }
        }
    }
}

/// The templates, compiled into the binary; `.html` ones escape what they are given.
fn templates() -> &'static minijinja::Environment<'static> {
    static TEMPLATES: std::sync::OnceLock<minijinja::Environment<'static>> = std::sync::OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        let files = [
            ("layout.html", include_str!("../../templates/mail/layout.html")),
            ("verify-email.html", include_str!("../../templates/mail/verify-email.html")),
            ("verify-email.txt", include_str!("../../templates/mail/verify-email.txt")),
            ("recovery-used.html", include_str!("../../templates/mail/recovery-used.html")),
            ("recovery-used.txt", include_str!("../../templates/mail/recovery-used.txt")),
            ("invitation.html", include_str!("../../templates/mail/invitation.html")),
            ("invitation.txt", include_str!("../../templates/mail/invitation.txt")),
            ("notice.html", include_str!("../../templates/mail/notice.html")),
            ("recovery-link.html", include_str!("../../templates/mail/recovery-link.html")),
            ("recovery-link.txt", include_str!("../../templates/mail/recovery-link.txt")),
            ("notice.txt", include_str!("../../templates/mail/notice.txt")),
        ];
        for (name, source) in files {
            if let Err(error) = env.add_template(name, source) {
                tracing::error!(%error, name, "mail template refused");
            }
        }
        env
    })
}

/// The buttons' colour in mails without a brand accent (the portal's own).
const DEFAULT_ACCENT: &str = "#2456d6";

/// Writes `letter` from the templates, for the product and site `config` names, in the operator's
/// brand when there is one: the mail to put in the outbox.
pub fn compose(config: &Config, letter: Letter<'_>) -> Result<NewMail, Error> {
    let product = config.product_name.as_str();
    let subject = letter.subject(product);
    let origin = config.issuer();
    // The operator's brand (LATCHKEY_BRAND_*): their logo, served by the portal, and their accent.
    let logo = config.brand.logo.as_ref().map(|_| format!("{origin}/brand/logo"));
    let accent = config.brand.accent.map_or_else(|| DEFAULT_ACCENT.to_owned(), |accent| accent.hex());
    let values = minijinja::context! { product, origin, subject, logo, accent, ..letter.values(product) };
    let render = |extension: &str| {
        templates()
            .get_template(&format!("{}.{extension}", letter.template()))
            .and_then(|template| template.render(&values))
            .map_err(Error::internal)
    };
    Ok(NewMail { to: letter.recipient().to_owned(), subject, text: render("txt")?, html: render("html")? })
}

/// Hands every due mail to the SMTP server, one at a time; returns how many it handed over.
pub async fn deliver_due(db: &Db, mailer: &Mailer, now: i64) -> Result<u64, Error> {
    let mut sent = 0;
    while let Some(mail) = outbox::claim(db, &mailer.worker, now, CLAIM_SECS).await? {
        match mailer.deliver(&mail).await {
            Ok(()) => {
                outbox::mark_sent(db, &mail.id, clock::now()).await?;
                sent += 1;
            }
            Err(Failure::Permanent(error)) => {
                tracing::warn!(id = %mail.id, %error, "the SMTP server refused a mail for good");
                outbox::mark_failed(db, &mail.id, clock::now(), &error).await?;
            }
            Err(Failure::Later(error)) => {
                let attempts = mail.attempts + 1;
                let wait = retry_after(mailer.retry, attempts);
                tracing::warn!(id = %mail.id, attempts, wait, %error, "mail not delivered; trying again later");
                outbox::mark_retry(db, &mail.id, attempts, clock::now() + wait, &error).await?;
                // The server is likely down for the rest too: wait for the next round.
                break;
            }
        }
    }
    Ok(sent)
}

/// Seconds to wait after the `attempts`-th failure: `first`, doubling, at most an hour.
fn retry_after(first: Duration, attempts: i64) -> i64 {
    let first = i64::try_from(first.as_secs()).unwrap_or(MAX_RETRY_SECS).max(1);
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    first.saturating_mul(1 << doublings).min(MAX_RETRY_SECS)
}

/// Runs this instance's worker in the background: it delivers what is due, then waits until a
/// mail is written here or a few seconds pass (mail written by other instances, retries).
pub fn start(db: Db, mailer: std::sync::Arc<Mailer>) {
    if !mailer.enabled() {
        return;
    }
    let poll = POLL.min(mailer.retry);
    tokio::spawn(async move {
        loop {
            if let Err(error) = deliver_due(&db, &mailer, clock::now()).await {
                tracing::warn!(%error, "mail worker: the outbox could not be read; trying again shortly");
            }
            tokio::select! {
                () = mailer.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_lookup(|key| vars.iter().find(|(k, _)| *k == key).map(|(_, v)| (*v).to_owned())).unwrap()
    }

    // A runtime: lettre's connection pool starts its task when the transport is built.
    #[tokio::test]
    async fn without_an_smtp_server_development_logs_mail_and_production_turns_it_off() {
        let production = config(&[("LATCHKEY_ENV", "production"), ("LATCHKEY_OPERATOR_SECRET", &"s".repeat(40))]);
        let off = Mailer::from_config(&production).unwrap();
        assert!(!off.enabled());
        assert!(off.describe().contains("OFF"), "start-up says so: {}", off.describe());
        let development = Mailer::from_config(&config(&[])).unwrap();
        assert!(development.enabled() && development.describe().contains("printed to this log"));
        let smtp = config(&[
            ("LATCHKEY_SMTP_URL", "smtps://user:pass@smtp.example.com"),
            ("LATCHKEY_MAIL_FROM", "Acme <id@acme.example>"),
        ]);
        let mailer = Mailer::from_config(&smtp).unwrap();
        assert!(mailer.enabled());
        assert_eq!(mailer.from.to_string(), "Acme <id@acme.example>");
        let bad = config(&[("LATCHKEY_MAIL_FROM", "not an address")]);
        assert!(Mailer::from_config(&bad).unwrap_err().to_string().contains("LATCHKEY_MAIL_FROM"));
    }

    /// L7: a development server on a public origin printed every mail — recovery links among them —
    /// to a log that others may read; only a server every origin of which is localhost does now.
    #[tokio::test]
    async fn mail_goes_to_the_log_only_when_every_origin_is_localhost() {
        let public = config(&[
            ("LATCHKEY_ORIGINS", "https://login.example.com"),
            ("LATCHKEY_RP_ID", "login.example.com"),
            ("LATCHKEY_OPERATOR_SECRET", &"s".repeat(40)),
        ]);
        let mailer = Mailer::from_config(&public).unwrap();
        assert!(!mailer.enabled(), "{}", mailer.describe());
        assert!(mailer.describe().contains("OFF"), "{}", mailer.describe());
        let related = config(&[
            ("LATCHKEY_CORS_ORIGINS", "https://app.example.com"),
            ("LATCHKEY_OPERATOR_SECRET", &"s".repeat(40)),
        ]);
        assert!(!Mailer::from_config(&related).unwrap().enabled(), "any origin that is not localhost");
        assert!(Mailer::from_config(&config(&[])).unwrap().enabled(), "localhost only: the log");
    }

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_an_hour() {
        let first = Duration::from_secs(30);
        let waits: Vec<i64> = (1..=9).map(|n| retry_after(first, n)).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(retry_after(first, 10_000), 3600);
    }
}
