//! Who may make an account: `LATCHKEY_SIGN_UP` (`open`, `invite`, `domains` or `closed`) and
//! `LATCHKEY_SIGN_UP_DOMAINS`. A portal in front of other apps is open to strangers only when the
//! operator says so: the default is `open` on a developer's machine (every origin on localhost)
//! and `invite` anywhere else.

use super::ConfigError;
use super::values::{Var, invalid};

/// Who may make an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignUp {
    /// Anyone.
    Open,
    /// Only someone holding an invitation.
    Invite,
    /// Anyone with an address at one of these domains (lowercase, exact: `example.com` admits
    /// `ada@example.com`, not `ada@mail.example.com`). Until the address is confirmed, the account
    /// can use the portal but signs in to no app.
    Domains(Vec<String>),
    /// Nobody: accounts come from the operator (the CLI, the admin API).
    Closed,
}

impl SignUp {
    /// The setting's name, as written.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Invite => "invite",
            Self::Domains(_) => "domains",
            Self::Closed => "closed",
        }
    }

    /// Whether an address at `domain` may make an account (without an invitation).
    pub fn admits_domain(&self, domain: &str) -> bool {
        match self {
            Self::Open => true,
            Self::Domains(allowed) => allowed.iter().any(|d| d.eq_ignore_ascii_case(domain)),
            Self::Invite | Self::Closed => false,
        }
    }

    /// The domains accounts are for, as a sentence says them ("example.com or example.org"); empty
    /// unless the rule is [`SignUp::Domains`].
    pub fn domains_said(&self) -> String {
        match self {
            Self::Domains(domains) => match domains.as_slice() {
                [] => String::new(),
                [one] => one.clone(),
                [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
            },
            _ => String::new(),
        }
    }

    /// Whether an account must have confirmed its address before it signs in to an app.
    pub fn needs_confirmed_address(&self) -> bool {
        matches!(self, Self::Domains(_))
    }

    pub(super) fn read(var: &impl Var, only_localhost: bool) -> Result<Self, ConfigError> {
        const MODE: &str = "LATCHKEY_SIGN_UP";
        const DOMAINS: &str = "LATCHKEY_SIGN_UP_DOMAINS";
        let domains = var(DOMAINS);
        let mode = match var(MODE).as_deref() {
            None if only_localhost => Self::Open,
            None => Self::Invite,
            Some("open") => Self::Open,
            Some("invite") => Self::Invite,
            Some("closed") => Self::Closed,
            Some("domains") => {
                let raw = domains.as_deref().ok_or_else(|| {
                    invalid(DOMAINS, "LATCHKEY_SIGN_UP=domains needs the domains, e.g. `example.com,example.org`")
                })?;
                Self::Domains(domain_list(DOMAINS, raw)?)
            }
            Some(other) => {
                return Err(invalid(MODE, format!("`{other}` is none of `open`, `invite`, `domains`, `closed`")));
            }
        };
        if domains.is_some() && !matches!(mode, Self::Domains(_)) {
            return Err(invalid(
                DOMAINS,
                format!("is set, but LATCHKEY_SIGN_UP is `{}`: set LATCHKEY_SIGN_UP=domains to use it", mode.name()),
            ));
        }
        Ok(mode)
    }
}

fn domain_list(var: &'static str, raw: &str) -> Result<Vec<String>, ConfigError> {
    let written: Vec<&str> = raw.split(',').map(str::trim).filter(|d| !d.is_empty()).collect();
    if written.is_empty() {
        return Err(invalid(var, "lists no domain"));
    }
    let mut domains = Vec::new();
    for raw in written {
        let not_a_domain = || invalid(var, format!("`{raw}` is not a domain name (write `example.com`, without `@`)"));
        // An internationalised name is compared in its ASCII form, as addresses are.
        let domain = idna::domain_to_ascii(raw).map_err(|_| not_a_domain())?;
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if domain.len() > 253 || !domain.contains('.') || !domain.split('.').all(label_ok) {
            return Err(not_a_domain());
        }
        domains.push(domain);
    }
    Ok(domains)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(mode: Option<&'static str>, domains: Option<&'static str>, local: bool) -> Result<SignUp, String> {
        let var = move |key: &'static str| match key {
            "LATCHKEY_SIGN_UP" => mode.map(str::to_owned),
            "LATCHKEY_SIGN_UP_DOMAINS" => domains.map(str::to_owned),
            _ => None,
        };
        SignUp::read(&var, local).map_err(|e| e.to_string())
    }

    #[test]
    fn sign_up_is_open_only_on_localhost_unless_the_operator_says_so() {
        assert_eq!(read(None, None, true), Ok(SignUp::Open));
        assert_eq!(read(None, None, false), Ok(SignUp::Invite));
        assert_eq!(read(Some("open"), None, false), Ok(SignUp::Open));
        assert_eq!(read(Some("closed"), None, true), Ok(SignUp::Closed));
        let domains = read(Some("domains"), Some(" Example.com, bücher.example ,"), false).unwrap();
        assert_eq!(domains, SignUp::Domains(vec!["example.com".into(), "xn--bcher-kva.example".into()]));
        assert!(domains.admits_domain("EXAMPLE.COM") && !domains.admits_domain("mail.example.com"));
        assert!(!SignUp::Invite.admits_domain("example.com") && SignUp::Open.admits_domain("any.where"));
    }

    #[test]
    fn a_sign_up_setting_that_cannot_mean_what_was_meant_stops_start_up() {
        for (mode, domains, why) in [
            (Some("maybe"), None, "none of `open`"),
            (Some("domains"), None, "needs the domains"),
            (Some("domains"), Some(","), "lists no domain"),
            (Some("domains"), Some("@example.com"), "not a domain name"),
            (Some("domains"), Some("localhost"), "not a domain name"),
            (Some("open"), Some("example.com"), "set LATCHKEY_SIGN_UP=domains"),
            (None, Some("example.com"), "LATCHKEY_SIGN_UP is `invite`"),
        ] {
            let refused = read(mode, domains, false).unwrap_err();
            assert!(refused.contains(why), "{mode:?} {domains:?}: {refused}");
        }
    }
}
