//! An email address, as the account is found by it: one grammar at every door (sign-up, sign-in,
//! passkey *begin*, a change of address, recovery, the admin API).

use crate::base::error::Error;

/// An email address: RFC 5321's `Dot-string@Domain` without what a mailbox never needs and an
/// attacker does — quoted local parts, comments, display names, angle brackets, address literals
/// (`[127.0.0.1]`). The local part is atoms of RFC 5322's `atext` (and, per RFC 6531, non-ASCII
/// letters and digits) joined by single dots; the domain is an internationalised name in its
/// ASCII form (UTS 46, `idna`), two or more labels of letters, digits and inner hyphens. The whole
/// is lower-cased, so comparisons are case-insensitive, and lettre must accept it, so every
/// address an account has can be mailed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Longest address RFC 5321 allows through SMTP.
    const MAX_LEN: usize = 254;
    /// Longest local part (RFC 5321 §4.5.3.1.1).
    const MAX_LOCAL_LEN: usize = 64;
    /// Longest label of a domain (RFC 1035).
    const MAX_LABEL_LEN: usize = 63;

    /// Trims, lower-cases and checks the grammar; deliverability is not checked.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let raw = raw.trim();
        let (local, domain) = raw.split_once('@').ok_or(Error::InvalidEmail)?;
        let local = local.to_lowercase();
        if !Self::local_part_is_valid(&local) {
            return Err(Error::InvalidEmail);
        }
        let domain = idna::domain_to_ascii(domain).map_err(|_| Error::InvalidEmail)?;
        if !Self::domain_is_valid(&domain) {
            return Err(Error::InvalidEmail);
        }
        let email = format!("{local}@{domain}");
        let deliverable = email.len() <= Self::MAX_LEN && lettre::Address::new(&local, &domain).is_ok();
        if deliverable { Ok(Self(email)) } else { Err(Error::InvalidEmail) }
    }

    fn local_part_is_valid(local: &str) -> bool {
        let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
        let international = |c: char| !c.is_ascii() && c.is_alphanumeric();
        local.len() <= Self::MAX_LOCAL_LEN
            && local.split('.').all(|atom| !atom.is_empty() && atom.chars().all(|c| atext(c) || international(c)))
    }

    fn domain_is_valid(domain: &str) -> bool {
        let labels: Vec<&str> = domain.split('.').collect();
        let label_is_valid = |label: &&str| {
            (1..=Self::MAX_LABEL_LEN).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        labels.len() >= 2
            && labels.iter().all(label_is_valid)
            && labels.last().is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its domain, in ASCII form (`example.com`).
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(Email::parse("  Alice@Example.COM ").unwrap().as_str(), "alice@example.com");
    }

    #[test]
    fn what_people_have_is_accepted() {
        for good in [
            "alice@example.com",
            "o'brien+tag@example.com",
            "first.last@sub.example.co.uk",
            "a_b-c=d{e}~f@x-y.example",
            "user@xn--bcher-kva.example",
            "josé@example.com",
        ] {
            assert!(Email::parse(good).is_ok(), "{good:?} was refused");
        }
        assert_eq!(Email::parse("Ada@Bücher.Example").unwrap().as_str(), "ada@xn--bcher-kva.example");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "a b@example.com",
            "a@b@c.com",
            "alice@.com",
            "alice@com.",
            "alice@example.123",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err(), "local part over 64");
        assert!(Email::parse(&format!("a@{}.example.com", "b".repeat(64))).is_err(), "label over 63");
        assert!(Email::parse(&format!("a@{}.com", vec!["b".repeat(60); 5].join("."))).is_err(), "over 254");
    }

    #[test]
    fn addresses_that_name_another_mailbox_are_refused() {
        for trick in [
            "<victim@example.com>",
            "a<victim@example.com>",
            "Victim <victim@example.com>",
            "\"victim\"@example.com",
            "\"a@b\"@example.com",
            "victim@example.com (comment)",
            "(comment)victim@example.com",
            "victim@[127.0.0.1]",
            "victim@example.com,other@example.com",
            "victim@example.com;x",
            "vic..tim@example.com",
            ".victim@example.com",
            "victim.@example.com",
            "victim@-example.com",
            "victim@example-.com",
            "victim@exa_mple.com",
            "victim\\@example.com",
            "victim@example.com\r\nBcc: other@example.com",
        ] {
            assert!(Email::parse(trick).is_err(), "{trick:?} was accepted");
        }
    }
}
