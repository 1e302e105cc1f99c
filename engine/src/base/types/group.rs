//! A group's name, as the operator's commands, the clients file's `allowed_groups` and the tokens'
//! `groups` claim all write it.

use crate::base::error::Error;

/// The longest group name.
const MAX_LEN: usize = 64;

/// `name`, trimmed, when it is a group name: 1 to 64 lower-case letters, digits, `-` and `_`,
/// starting with a letter or digit (it travels in tokens and in the clients file, where anything
/// else would need quoting), and not shaped like a UUID (a group's id, which paths take in its
/// place); else [`Error::InvalidGroupName`].
pub fn group_name(name: &str) -> Result<&str, Error> {
    let name = name.trim();
    let starts = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let rest = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    let like_an_id = uuid::Uuid::try_parse(name).is_ok();
    if starts && rest && name.len() <= MAX_LEN && !like_an_id { Ok(name) } else { Err(Error::InvalidGroupName) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_are_slugs() {
        for good in ["staff", "ops-team", "team_2", "2fa"] {
            assert_eq!(group_name(good).unwrap(), good);
        }
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        for bad in ["", "Staff", "-ops", "ops team", "ops/admin", "ö", &"a".repeat(65), id] {
            assert!(matches!(group_name(bad), Err(Error::InvalidGroupName)), "{bad}");
        }
    }
}
