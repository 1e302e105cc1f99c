//! A group's name, as the operator's commands, the clients file's `allowed_groups` and the tokens'
//! `groups` claim all write it.

use crate::base::error::Error;

/// The longest group name.
const MAX_LEN: usize = 64;

/// `name`, trimmed, when it is a group name: 1 to 64 lower-case letters, digits, `-` and `_`,
/// starting with a letter or digit (it travels in tokens and in the clients file, where anything
/// else would need quoting); else [`Error::InvalidGroupName`].
pub fn group_name(name: &str) -> Result<&str, Error> {
    let name = name.trim();
    let starts = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let rest = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if starts && rest && name.len() <= MAX_LEN { Ok(name) } else { Err(Error::InvalidGroupName) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_are_slugs() {
        for good in ["staff", "ops-team", "team_2", "2fa"] {
            assert_eq!(group_name(good).unwrap(), good);
        }
        for bad in ["", "Staff", "-ops", "ops team", "ops/admin", "ö", &"a".repeat(65)] {
            assert!(matches!(group_name(bad), Err(Error::InvalidGroupName)), "{bad}");
        }
    }
}
