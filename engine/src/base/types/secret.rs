//! A secret string whose `Debug` says nothing, and comparing secrets in constant time.

use std::fmt;

/// A secret string (JWT key, refresh token) whose `Debug` prints `<redacted>`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call sites are easy to grep for.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Compares two byte strings without stopping at the first difference (only the length shows).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        assert_eq!(format!("{:?}", Secret::new("s3cret")), "<redacted>");
    }
}
