//! Mail: the SMTP server, the sender, retries, and whether recovery links may be mailed.

use std::time::Duration;

use super::ConfigError;
use super::values::{Var, invalid, seconds};
use crate::base::types::Secret;

/// The mail settings.
#[derive(Clone, Debug)]
pub struct Mail {
    /// `LATCHKEY_SMTP_URL`: the SMTP server mail is handed to (`smtp://`, `smtps://`; lettre's URL
    /// form, credentials included); without it mail is logged (development) or off (production).
    pub smtp_url: Option<Secret>,
    /// `LATCHKEY_MAIL_FROM`: the sender (`Name <address>`); the product's name at `no-reply@` the
    /// first origin's host by default.
    pub from: Option<String>,
    /// `LATCHKEY_MAIL_RETRY_SECS`: the wait after a failed delivery, doubling with each failure up to
    /// an hour.
    pub retry: Duration,
    /// `LATCHKEY_EMAIL_RECOVERY`: whether someone who lost their passkeys may ask for a recovery
    /// link at their confirmed address ("Lost your passkey?"); off by default.
    pub email_recovery: bool,
    /// `LATCHKEY_RECOVERY_HOLD_SECS`: how long a passkey added with a mailed recovery link is held:
    /// its sign-ins cannot change how the account signs in.
    pub recovery_hold: Duration,
}

impl Mail {
    pub(super) fn read(var: &impl Var) -> Result<Self, ConfigError> {
        Ok(Self {
            smtp_url: var("LATCHKEY_SMTP_URL").map(Secret::new),
            from: var("LATCHKEY_MAIL_FROM"),
            retry: seconds(var, "LATCHKEY_MAIL_RETRY_SECS", 30)?,
            email_recovery: match var("LATCHKEY_EMAIL_RECOVERY").as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => {
                    return Err(invalid("LATCHKEY_EMAIL_RECOVERY", format!("`{other}` is neither `true` nor `false`")));
                }
            },
            recovery_hold: seconds(var, "LATCHKEY_RECOVERY_HOLD_SECS", 24 * 3600)?,
        })
    }
}
