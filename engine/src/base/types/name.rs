//! A name a person gives a passkey or themselves.

use crate::base::error::Error;

/// A name a person gives a passkey (or themselves): 1 to 64 characters after trimming, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    const MAX_CHARS: usize = 64;

    /// Trims and validates; the result is stored and shown verbatim, as text.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS || name.chars().any(char::is_control) {
            return Err(Error::InvalidName);
        }
        Ok(Self(name.to_owned()))
    }

    /// The validated name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the name.
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  MacBook Touch ID ").unwrap().as_str(), "MacBook Touch ID");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"é".repeat(64)).is_ok());
        assert!(DisplayName::parse(&"é".repeat(65)).is_err());
        assert!(DisplayName::parse("bad\u{0007}name").is_err());
        assert!(DisplayName::parse("line\nbreak").is_err());
    }

    #[test]
    fn markup_in_names_is_kept_as_text() {
        assert_eq!(DisplayName::parse("<b>key</b>").unwrap().as_str(), "<b>key</b>");
    }
}
