//! OAuth scope strings: space-separated scope names (RFC 6749 §3.3).

/// Whether the space-separated `scopes` include `scope`.
pub fn has_scope(scopes: &str, scope: &str) -> bool {
    scopes.split(' ').any(|s| s == scope)
}
