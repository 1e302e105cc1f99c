//! Where to go after signing in: the `next` of `/?next=/notes`, which the sign-in page carries and
//! the server redirects to. Only a path on this site is accepted, so the parameter can never send
//! someone who just signed in to another site (an open redirect).

/// The longest return path: an app's sealed authorization request (`/oidc/authorize/resume?request=…`)
/// carries its `state`, `nonce` and `login_hint`; the provider keeps it under this
/// (`MAX_RESUME_PATH` in `engine/src/oidc/request.rs`).
const MAX_RETURN_PATH: usize = 4096;

/// Where a sign-in lands when it was not sent from a protected page.
pub const AFTER_SIGN_IN: &str = "/passkeys";

/// Where a new account lands when it was not sent from a page or an app: its passkeys, welcomed.
pub const AFTER_SIGN_UP: &str = "/passkeys?welcome=1";

/// Where a new account made with a password lands: welcomed, and offered a passkey.
pub const AFTER_PASSWORD_SIGN_UP: &str = "/passkeys?offer=1&welcome=1";

/// `raw` when it is a path on this site (`/…`, not `//host` or `/\host`), written in visible ASCII
/// (as a `Location` header must be; a path with other characters arrives percent-encoded);
/// `None` otherwise.
pub fn safe_return_path(raw: &str) -> Option<&str> {
    let path = raw.trim();
    let local = path.starts_with('/') && !path.starts_with("//");
    let plain = path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    (local && plain && path.len() <= MAX_RETURN_PATH).then_some(path)
}

/// The sign-in page's address that comes back to `path` afterwards.
pub fn sign_in_then(path: &str) -> String {
    page_then("/", path)
}

/// The sign-in page's address that asks a signed-in visitor to sign in again (to confirm it's them
/// before a dangerous change) and comes back to `path`.
pub fn confirm_then(path: &str) -> String {
    format!("{}&again=1", sign_in_then(path))
}

/// `page`'s address carrying `next` = `path` (the sign-in and sign-up pages go there afterwards).
pub fn page_then(page: &str, path: &str) -> String {
    let mut encoded = format!("{page}?next=");
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_on_this_site_are_kept() {
        assert_eq!(safe_return_path("/notes"), Some("/notes"));
        assert_eq!(safe_return_path("/passkeys?offer=1"), Some("/passkeys?offer=1"));
    }

    #[test]
    fn anything_that_could_leave_the_site_is_refused() {
        for raw in [
            "",
            "notes",
            "//evil.example",
            "/\\evil.example",
            "/a\\b",
            "https://evil.example",
            "javascript:alert(1)",
            "/\nLocation: x",
            "/a b",
            "/é",
        ] {
            assert_eq!(safe_return_path(raw), None, "{raw:?}");
        }
        assert_eq!(safe_return_path(&format!("/{}", "a".repeat(MAX_RETURN_PATH))), None);
    }

    #[test]
    fn the_sign_in_address_encodes_the_path() {
        assert_eq!(sign_in_then("/notes"), "/?next=/notes");
        assert_eq!(sign_in_then("/a b&c"), "/?next=/a%20b%26c");
        assert_eq!(
            page_then("/sign-up", "/oidc/authorize/resume?request=x"),
            "/sign-up?next=/oidc/authorize/resume%3Frequest%3Dx"
        );
    }
}
