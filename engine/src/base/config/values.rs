//! The kinds of value the sections read: whole numbers, durations, origins; and the refusal.

use std::time::Duration;

use url::Url;

use super::ConfigError;

/// A variable's trimmed value, `None` when unset or empty.
pub(super) trait Var: Fn(&'static str) -> Option<String> {}

impl<F: Fn(&'static str) -> Option<String>> Var for F {}

pub(super) fn invalid(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { var, reason: reason.into() }
}

/// A positive whole number.
pub(super) fn count(var: &impl Var, key: &'static str, default: usize) -> Result<usize, ConfigError> {
    match var(key) {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(invalid(key, format!("`{v}` is not a positive whole number"))),
        },
    }
}

/// A duration in whole seconds, at least 1.
pub(super) fn seconds(var: &impl Var, key: &'static str, default: u64) -> Result<Duration, ConfigError> {
    let default = usize::try_from(default).unwrap_or(usize::MAX);
    count(var, key, default).map(|n| Duration::from_secs(u64::try_from(n).unwrap_or(u64::MAX)))
}

/// A duration in whole days, at least 1.
pub(super) fn days(var: &impl Var, key: &'static str, default: usize) -> Result<Duration, ConfigError> {
    count(var, key, default).map(|n| Duration::from_secs(u64::try_from(n).unwrap_or(u64::MAX).saturating_mul(86_400)))
}

/// A comma-separated list of origins on any site (`LATCHKEY_CORS_ORIGINS`, `LATCHKEY_RELATED_ORIGINS`).
pub(super) fn origin_list(var: &'static str, raw: Option<&str>) -> Result<Vec<Url>, ConfigError> {
    raw.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| match o {
            "*" | "null" => Err(invalid(var, format!("`{o}` is not allowed: list each origin exactly"))),
            _ => origin_only(var, o, "app.example"),
        })
        .collect()
}

/// An origin exactly: scheme, host and optional port; https, or http on localhost.
pub(super) fn origin_only(var: &'static str, raw: &str, example_host: &str) -> Result<Url, ConfigError> {
    if !raw.contains("://") {
        return Err(invalid(var, format!("`{raw}` has no scheme; write it in full, e.g. https://{example_host}")));
    }
    let url = Url::parse(raw).map_err(|e| invalid(var, format!("`{raw}` is not a URL: {e}")))?;
    let host = url.host_str().unwrap_or_default();
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(invalid(var, format!("`{raw}` must use https (or http for localhost)")));
    }
    if url.scheme() == "http" && host != "localhost" && !host.ends_with(".localhost") {
        return Err(invalid(var, format!("`{raw}`: browsers allow passkeys over http only on localhost; use https")));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(invalid(var, format!("`{raw}` must be an origin only: scheme, host and optional port")));
    }
    Ok(url)
}

/// Whether `origin` is on this machine (`localhost` or a name under it).
pub(super) fn is_localhost(origin: &Url) -> bool {
    origin.host_str().is_some_and(|host| host == "localhost" || host.ends_with(".localhost"))
}
