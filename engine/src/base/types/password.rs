//! A password as typed, never logged.

use std::fmt;

use crate::base::error::Error;

/// A password as typed: 8 to 128 characters. Its `Debug` never prints it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    const MIN_CHARS: usize = 8;
    const MAX_CHARS: usize = 128;

    /// Checks the length in characters (not bytes), as people count them.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let chars = raw.chars().count();
        if (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Error::InvalidPassword)
        }
    }

    /// The password's bytes, for hashing.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_length_is_counted_in_characters() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("ünïcödé").is_err(), "7 characters, 11 bytes");
        assert!(Password::parse("ünïcödé!").is_ok());
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn password_debug_is_redacted() {
        let password = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
    }
}
