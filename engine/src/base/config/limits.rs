//! Rate limits: requests one client address may make, per kind of endpoint.

use std::num::NonZeroU32;
use std::time::Duration;

use super::ConfigError;
use super::values::{Var, invalid};

/// Requests one client address may make, per kind of endpoint; `None` is no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// `LATCHKEY_RATE_LIMIT_PASSWORD`: password sign-in and sign-up (each costs an Argon2 hash).
    pub password: Option<Rate>,
    /// `LATCHKEY_RATE_LIMIT_CEREMONY`: passkey sign-in and sign-up begin/complete (state, signatures).
    pub ceremony: Option<Rate>,
    /// `LATCHKEY_RATE_LIMIT_REFRESH`: `POST /auth/refresh`.
    pub refresh: Option<Rate>,
    /// `LATCHKEY_RATE_LIMIT_PORTAL`: every call of a portal server function.
    pub portal: Option<Rate>,
    /// `LATCHKEY_RATE_LIMIT_TOKEN`: the OpenID Connect token and revocation endpoints (each checks
    /// a client secret with Argon2id); generous, since an app's server speaks for all its users.
    pub token: Option<Rate>,
    /// `LATCHKEY_RATE_LIMIT_ANY`: every request but the static files and health checks (each of
    /// the others may read the database), above the kinds' own budgets.
    pub any: Option<Rate>,
}

/// `count` requests per `period`, in a burst or spread out (a token bucket refilled evenly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Requests per period.
    pub count: NonZeroU32,
    /// The period.
    pub period: Duration,
}

impl RateLimits {
    pub(super) fn read(var: &impl Var) -> Result<Self, ConfigError> {
        Ok(Self {
            password: rate(var, "LATCHKEY_RATE_LIMIT_PASSWORD", "30/min")?,
            // An office behind one address: every page load begins an autofill ceremony and a
            // button press another, so a few a second must pass; a flood is held by the ceremonies
            // in flight per address (LATCHKEY_MAX_CEREMONIES_PER_CLIENT) as much as by this.
            ceremony: rate(var, "LATCHKEY_RATE_LIMIT_CEREMONY", "600/min")?,
            refresh: rate(var, "LATCHKEY_RATE_LIMIT_REFRESH", "60/min")?,
            portal: rate(var, "LATCHKEY_RATE_LIMIT_PORTAL", "300/min")?,
            token: rate(var, "LATCHKEY_RATE_LIMIT_TOKEN", "600/min")?,
            any: rate(var, "LATCHKEY_RATE_LIMIT_ANY", "1200/min")?,
        })
    }
}

/// `N/s`, `N/min` or `N/h`; `off` for no limit.
fn rate(var: &impl Var, key: &'static str, default: &str) -> Result<Option<Rate>, ConfigError> {
    let raw = var(key).unwrap_or_else(|| default.to_owned());
    if raw.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let refused = || invalid(key, format!("`{raw}` is not a rate like 30/min (or N/s, N/h, or off)"));
    let (count, unit) = raw.split_once('/').ok_or_else(refused)?;
    let count = count.trim().parse::<NonZeroU32>().map_err(|_| refused())?;
    let period = match unit.trim() {
        "s" => Duration::from_secs(1),
        "min" => Duration::from_secs(60),
        "h" => Duration::from_secs(3600),
        _ => return Err(refused()),
    };
    Ok(Some(Rate { count, period }))
}
