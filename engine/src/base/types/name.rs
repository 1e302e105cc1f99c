//! A name a person gives a passkey or themselves.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::base::error::Error;

/// A name a person gives a passkey (or themselves): 1 to 64 characters after trimming, no control
/// characters and no invisible formatting ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    const MAX_CHARS: usize = 64;

    /// Trims and validates; the result is stored and shown verbatim, as text.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS || name.chars().any(|c| c.is_control() || hides_text(c)) {
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

/// Whether `c` is an invisible formatting character (Unicode category Cf) that can reorder or hide
/// the text around it where the name is shown or mailed: bidirectional overrides and isolates,
/// zero-width spaces, tag characters. The two joiners are kept: emoji sequences (👩‍💻) and scripts
/// such as Persian need them.
fn hides_text(c: char) -> bool {
    c.general_category() == GeneralCategory::Format && !matches!(c, '\u{200C}' | '\u{200D}')
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
    fn formatting_characters_that_hide_or_reorder_text_are_refused() {
        for hiding in ['\u{202E}', '\u{2066}', '\u{200B}', '\u{FEFF}', '\u{00AD}', '\u{E0041}'] {
            assert!(DisplayName::parse(&format!("a{hiding}b")).is_err(), "{hiding:?}");
        }
        assert!(DisplayName::parse("👩\u{200D}💻").is_ok());
        assert!(DisplayName::parse("می\u{200C}خواهم").is_ok());
    }

    #[test]
    fn markup_in_names_is_kept_as_text() {
        assert_eq!(DisplayName::parse("<b>key</b>").unwrap().as_str(), "<b>key</b>");
    }
}
