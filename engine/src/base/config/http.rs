//! Serving HTTP: where to listen, who may call from other sites, which proxies to believe, how long
//! a connection may take, logs and metrics, and the operator's admin token.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use url::Url;

use super::ConfigError;
use super::values::{Var, count, invalid, origin_list, seconds};
use crate::base::types::Secret;

/// How Latchkey serves HTTP.
#[derive(Clone, Debug)]
pub struct Http {
    /// `LATCHKEY_ADDR`: where to listen.
    pub addr: SocketAddr,
    /// `LATCHKEY_CORS_ORIGINS`: exact origins of apps on other sites whose pages may call the REST
    /// API from the browser (bearer tokens only; credentials are never allowed cross-origin).
    pub cors_origins: Vec<Url>,
    /// `LATCHKEY_TRUSTED_PROXIES`: peers whose forwarding header names the client.
    pub trusted_proxies: Vec<IpNet>,
    /// `LATCHKEY_FORWARDED_HEADER`: which header the trusted proxies write; the other is ignored.
    pub forwarded_header: ForwardedHeader,
    /// `LATCHKEY_HEADER_TIMEOUT_SECS`: time to send a request's headers, from the connection or the
    /// previous response (so also how long a keep-alive connection may sit idle).
    pub header_timeout: Duration,
    /// `LATCHKEY_REQUEST_TIMEOUT_SECS`: time to receive a request's body and answer it.
    pub request_timeout: Duration,
    /// `LATCHKEY_MAX_CONNECTIONS`: open connections at most; more wait to be accepted.
    pub max_connections: usize,
    /// `LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS`: open connections one client address (an IPv6 /64)
    /// may hold; one more is closed at once. Trusted proxies are not held to it.
    pub max_connections_per_address: usize,
    /// `LATCHKEY_SITE_ROOT`: the directory the built portal (`pkg/portal.<hash>.{js,wasm,css}`) is
    /// served from; unset, the site the binary carries (a release build), else `target/site`.
    pub site_root: Option<PathBuf>,
    /// `LATCHKEY_METRICS_ADDR`: where Prometheus reads `/metrics` (a listener of its own); `None`: no metrics.
    pub metrics_addr: Option<SocketAddr>,
    /// `LATCHKEY_LOG_FORMAT`: how log lines are written to stderr.
    pub log_format: LogFormat,
    /// `LATCHKEY_ADMIN_TOKEN`: the operator's bearer token for the admin API (`/admin/…`), beside
    /// administrators' own access tokens; at least 32 characters. Unset, no token is the operator's.
    pub admin_token: Option<Secret>,
}

/// The one header a trusted proxy names the client in. Reading one only matters: a proxy that
/// appends to one passes the other on from the client unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, …` (nginx, Caddy, HAProxy, most load balancers).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1` (Envoy, some CDNs).
    Forwarded,
}

impl ForwardedHeader {
    /// The header's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// For people: one line of text per event.
    Text,
    /// For log collectors: one JSON object per line, with the request's fields.
    Json,
}

impl Http {
    pub(super) fn read(var: &impl Var) -> Result<Self, ConfigError> {
        Ok(Self {
            addr: var("LATCHKEY_ADDR")
                .unwrap_or_else(|| "127.0.0.1:3000".into())
                .parse()
                .map_err(|_| invalid("LATCHKEY_ADDR", "expected an address like 127.0.0.1:3000"))?,
            cors_origins: origin_list("LATCHKEY_CORS_ORIGINS", var("LATCHKEY_CORS_ORIGINS").as_deref())?,
            trusted_proxies: parse_proxies(var("LATCHKEY_TRUSTED_PROXIES").as_deref().unwrap_or(""))?,
            forwarded_header: match var("LATCHKEY_FORWARDED_HEADER").map(|raw| raw.to_ascii_lowercase()).as_deref() {
                None | Some("x-forwarded-for") => ForwardedHeader::XForwardedFor,
                Some("forwarded") => ForwardedHeader::Forwarded,
                Some(other) => {
                    return Err(invalid(
                        "LATCHKEY_FORWARDED_HEADER",
                        format!("`{other}` is neither `x-forwarded-for` nor `forwarded`"),
                    ));
                }
            },
            header_timeout: seconds(var, "LATCHKEY_HEADER_TIMEOUT_SECS", 10)?,
            request_timeout: seconds(var, "LATCHKEY_REQUEST_TIMEOUT_SECS", 30)?,
            max_connections: count(var, "LATCHKEY_MAX_CONNECTIONS", 1024)?,
            max_connections_per_address: count(var, "LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS", 256)?,
            site_root: var("LATCHKEY_SITE_ROOT").map(PathBuf::from),
            metrics_addr: var("LATCHKEY_METRICS_ADDR")
                .map(|raw| {
                    raw.parse::<SocketAddr>().map_err(|_| {
                        invalid("LATCHKEY_METRICS_ADDR", format!("`{raw}` is not an address like 127.0.0.1:9464"))
                    })
                })
                .transpose()?,
            log_format: match var("LATCHKEY_LOG_FORMAT").as_deref() {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    return Err(invalid("LATCHKEY_LOG_FORMAT", format!("`{other}` is neither `text` nor `json`")));
                }
            },
            admin_token: match var("LATCHKEY_ADMIN_TOKEN") {
                Some(token) if token.chars().count() < 32 => {
                    return Err(invalid(
                        "LATCHKEY_ADMIN_TOKEN",
                        "use at least 32 characters, e.g. `openssl rand -hex 32`",
                    ));
                }
                token => token.map(Secret::new),
            },
        })
    }
}

/// Comma-separated addresses or networks (`10.0.0.1`, `10.0.0.0/8`, `::1`).
fn parse_proxies(raw: &str) -> Result<Vec<IpNet>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry.parse::<IpNet>().or_else(|_| entry.parse::<IpAddr>().map(IpNet::from)).map_err(|_| {
                invalid(
                    "LATCHKEY_TRUSTED_PROXIES",
                    format!("`{entry}` is not an IP address or network like 10.0.0.0/8"),
                )
            })
        })
        .collect()
}
