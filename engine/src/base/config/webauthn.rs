//! The WebAuthn relying party: its id and name, the origins ceremonies may come from (and related
//! origins on other sites), how long a ceremony may take, and how many passkeys and ceremonies one
//! account or client may have.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::ConfigError;
use super::values::{Var, count, invalid, origin_list, origin_only, seconds};

/// The relying party's settings.
#[derive(Clone, Debug)]
pub struct WebAuthn {
    /// `LATCHKEY_RP_ID`: the WebAuthn relying-party id (a domain, never an IP address).
    pub rp_id: String,
    /// `LATCHKEY_RP_NAME`: the name authenticators show (the product name by default).
    pub rp_name: String,
    /// `LATCHKEY_ORIGINS`: exact origins (scheme, host, port) ceremonies may come from; the first is
    /// the issuer of every token.
    pub origins: Vec<Url>,
    /// `LATCHKEY_RELATED_ORIGINS`: origins on other sites that may run passkey ceremonies with this
    /// RP ID (WebAuthn related origin requests); published at `/.well-known/webauthn`.
    pub related_origins: Vec<Url>,
    /// `LATCHKEY_CHALLENGE_TTL_SECS`: how long a ceremony may take.
    pub challenge_ttl: Duration,
    /// `LATCHKEY_MAX_PASSKEYS`: how many passkeys one account may hold.
    pub max_passkeys: usize,
    /// `LATCHKEY_MAX_CEREMONIES_PER_CLIENT`: ceremonies one client address (or, for registrations,
    /// one account) may have in flight.
    pub max_ceremonies_per_client: usize,
    /// `LATCHKEY_AAGUID_FILE`: JSON map of AAGUID → authenticator name/icons; optional.
    pub aaguid_file: Option<PathBuf>,
}

impl WebAuthn {
    pub(super) fn read(var: &impl Var, product_name: &str) -> Result<Self, ConfigError> {
        let rp_id = parse_rp_id(&var("LATCHKEY_RP_ID").unwrap_or_else(|| "localhost".into()))?;
        let origins = var("LATCHKEY_ORIGINS")
            .unwrap_or_else(|| "http://localhost:3000".into())
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| parse_origin(o, &rp_id))
            .collect::<Result<Vec<_>, _>>()?;
        if origins.is_empty() {
            return Err(invalid("LATCHKEY_ORIGINS", "at least one origin is required"));
        }
        Ok(Self {
            rp_name: var("LATCHKEY_RP_NAME").unwrap_or_else(|| product_name.to_owned()),
            related_origins: origin_list("LATCHKEY_RELATED_ORIGINS", var("LATCHKEY_RELATED_ORIGINS").as_deref())?,
            challenge_ttl: seconds(var, "LATCHKEY_CHALLENGE_TTL_SECS", 300)?,
            max_passkeys: count(var, "LATCHKEY_MAX_PASSKEYS", 100)?,
            max_ceremonies_per_client: count(var, "LATCHKEY_MAX_CEREMONIES_PER_CLIENT", 512)?,
            aaguid_file: var("LATCHKEY_AAGUID_FILE").map(PathBuf::from),
            rp_id,
            origins,
        })
    }
}

fn parse_rp_id(raw: &str) -> Result<String, ConfigError> {
    const VAR: &str = "LATCHKEY_RP_ID";
    let rp_id = raw.to_ascii_lowercase();
    if rp_id.trim_matches(['[', ']']).parse::<IpAddr>().is_ok() {
        return Err(invalid(
            VAR,
            format!(
                "`{raw}` is an IP address; WebAuthn needs a domain (use `localhost` locally and open http://localhost:<port>)"
            ),
        ));
    }
    if rp_id.contains("://") || rp_id.contains(['/', ':']) {
        return Err(invalid(
            VAR,
            format!("`{raw}` must be a bare domain such as example.com, without scheme, port or path"),
        ));
    }
    let valid_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
    };
    if rp_id.len() > 253 || !rp_id.split('.').all(valid_label) {
        return Err(invalid(VAR, format!("`{raw}` is not a valid domain name")));
    }
    Ok(rp_id)
}

fn parse_origin(raw: &str, rp_id: &str) -> Result<Url, ConfigError> {
    const VAR: &str = "LATCHKEY_ORIGINS";
    let url = origin_only(VAR, raw, rp_id)?;
    let host = url.host_str().unwrap_or_default();
    if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
        return Err(invalid(VAR, format!("the host of `{raw}` is not {rp_id} or a subdomain of it (LATCHKEY_RP_ID)")));
    }
    Ok(url)
}
