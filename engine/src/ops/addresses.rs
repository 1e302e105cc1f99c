//! Addresses stored before the address grammar was tightened (review item M1: `<victim@x.y>` and
//! `"quoted"@x.y` were accepted). Nothing rewrites them: an operator is told which accounts hold one
//! (by `migrate`, `check-config`, and once in the log at start-up) and decides. Until then such an
//! account still signs in with a passkey, but not with its email (it no longer parses), and mail is
//! still sent to the address it has.

use crate::base::error::Error;
use crate::base::types::{Email, UserId};
use crate::db::{Db, users};

/// Addresses read per query.
const PAGE: i64 = 1_000;

/// The accounts whose stored address the grammar no longer accepts as it is (it is refused, or
/// would be written differently: an internationalised domain stored in Unicode).
pub async fn no_longer_accepted(db: &Db) -> Result<Vec<UserId>, Error> {
    let mut found = Vec::new();
    let mut after = String::new();
    loop {
        let page = users::emails_after(db, &after, PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = last.to_string();
        let full = page.len() == usize::try_from(PAGE).unwrap_or(usize::MAX);
        found.extend(page.into_iter().filter(|(_, email)| !accepted(email)).map(|(id, _)| id));
        if !full {
            break;
        }
    }
    Ok(found)
}

/// The sentence the operator reads about `ids`, or `None` when there are none.
pub fn report(ids: &[UserId]) -> Option<String> {
    let (first, rest) = ids.split_first()?;
    let shown: Vec<String> = std::iter::once(first).chain(rest.iter().take(19)).map(ToString::to_string).collect();
    let more = if ids.len() > shown.len() { format!(" and {} more", ids.len() - shown.len()) } else { String::new() };
    Some(format!(
        "{} account(s) have an email address that is no longer accepted (angle brackets, quotes, comments or an \
         address literal; or a domain stored in Unicode): {}{more}. They can sign in with a passkey but not with \
         that address; give each a real address (docs/security.md, \"Addresses\")",
        ids.len(),
        shown.join(", ")
    ))
}

fn accepted(stored: &str) -> bool {
    Email::parse(stored).is_ok_and(|email| email.as_str() == stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_addresses_are_accepted_only_as_they_are() {
        assert!(accepted("ada@example.com"));
        assert!(!accepted("<victim@example.com>"));
        assert!(!accepted("ada@bücher.example"), "stored in Unicode: parsed, it is written in ASCII");
        assert!(accepted("ada@xn--bcher-kva.example"));
    }

    #[test]
    fn the_report_names_twenty_accounts_and_counts_the_rest() {
        assert_eq!(report(&[]), None);
        let ids: Vec<UserId> = (0..25).map(|_| UserId::generate()).collect();
        let sentence = report(&ids).unwrap();
        assert!(sentence.starts_with("25 account(s)") && sentence.contains("and 5 more"), "{sentence}");
    }
}
