//! Per-client rate limits on the endpoints that cost CPU or store state before anyone is signed in
//! (docs/security.md): password sign-in and sign-up (Argon2), passkey ceremonies, refresh, and every
//! portal server function. Limits are GCRA token buckets from `governor`, one per client address
//! and kind of endpoint; a request over its limit is 429 `rate_limited` with `Retry-After`.
//!
//! The client address is the TCP peer's, unless the peer is a trusted proxy
//! (`LATCHKEY_TRUSTED_PROXIES`): then it is the last address in the one header the proxies write
//! (`LATCHKEY_FORWARDED_HEADER`: `X-Forwarded-For` or `Forwarded`) that is not itself a trusted
//! proxy ([`TrustedProxies::client`]). Headers from anyone else, and the other header, are ignored,
//! so a client cannot pick its own bucket. IPv6 clients are limited per /64, the block one subscriber usually holds.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use app::server_fns::{
    FinishPasskeySignIn, FinishSignUpWithPasskey, PasskeySignInOptions, PasswordSignIn, SignUpWithPasskeyOptions,
    SignUpWithPassword,
};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use engine::Error;
use engine::base::config::http::ForwardedHeader;
use engine::base::config::{Config, Rate};
use engine::base::types::ClientAddr;
use engine::oidc::paths;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use ipnet::IpNet;
use leptos::server_fn::ServerFn;

/// How often buckets of clients that went quiet are dropped, so the limiters' memory stays flat.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The kinds of endpoints that are limited, each with its own bucket per client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Password,
    Ceremony,
    Refresh,
    Portal,
    Token,
    /// Every request but static files and health checks.
    Any,
}

impl Kind {
    /// The `limit` label of `latchkey_rate_limited_total`.
    fn label(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Ceremony => "ceremony",
            Self::Refresh => "refresh",
            Self::Portal => "portal",
            Self::Token => "token",
            Self::Any => "any",
        }
    }
}

/// Which limits a request counts against (a server function counts as `Portal` too).
fn kinds_of(method: &Method, path: &str) -> Vec<Kind> {
    let mut kinds = Vec::with_capacity(3);
    // Everything that may read the database (attack L10 of the review: a page, the account API or
    // the OpenID Connect endpoints had no budget at all); the site's files and health checks do not.
    let static_or_health = path.starts_with("/pkg/") || path == "/healthz" || path == "/readyz";
    if !static_or_health {
        kinds.push(Kind::Any);
    }
    // The portal's server functions, and the OpenID Connect endpoints a browser is sent to.
    if path.starts_with("/api/") || path.starts_with(paths::AUTHORIZE) || path == paths::END_SESSION {
        kinds.push(Kind::Portal);
    }
    if method != Method::POST {
        return kinds;
    }
    let password = [SignUpWithPassword::PATH, PasswordSignIn::PATH];
    let ceremony = [
        PasskeySignInOptions::PATH,
        FinishPasskeySignIn::PATH,
        SignUpWithPasskeyOptions::PATH,
        FinishSignUpWithPasskey::PATH,
    ];
    match path {
        "/auth/login" | "/auth/register" => kinds.push(Kind::Password),
        "/auth/passkeys/authenticate/begin" | "/auth/passkeys/authenticate/complete" => kinds.push(Kind::Ceremony),
        "/auth/refresh" => kinds.push(Kind::Refresh),
        // Each checks a client secret with Argon2id; an app's server makes every user's exchanges
        // from a few addresses, so the budget is generous (LATCHKEY_RATE_LIMIT_TOKEN).
        paths::TOKEN | paths::REVOKE => kinds.push(Kind::Token),
        _ if password.contains(&path) => kinds.push(Kind::Password),
        _ if ceremony.contains(&path) => kinds.push(Kind::Ceremony),
        _ => {}
    }
    kinds
}

/// One kind's buckets: per client (an IPv4 address, or an IPv6 /64), and above those per IPv6 /56
/// and /48 with [`Budgets::PER_56`] and [`Budgets::PER_48`] times the budget. One routed /48 holds
/// 65,536 /64s; without the wider buckets each of them had a fresh budget (attack M6 of the review).
struct Budgets {
    client: DefaultKeyedRateLimiter<IpAddr>,
    per_56: DefaultKeyedRateLimiter<IpAddr>,
    per_48: DefaultKeyedRateLimiter<IpAddr>,
}

impl Budgets {
    /// A /56 (a home or small site) gets four clients' worth.
    const PER_56: u32 = 4;
    /// A /48 (a site or a small provider's customer) gets sixteen.
    const PER_48: u32 = 16;

    fn new(rate: Rate) -> Self {
        let times = |factor: u32| Rate {
            count: rate.count.saturating_mul(NonZeroU32::new(factor).unwrap_or(NonZeroU32::MIN)),
            ..rate
        };
        Self {
            client: DefaultKeyedRateLimiter::keyed(quota(rate)),
            per_56: DefaultKeyedRateLimiter::keyed(quota(times(Self::PER_56))),
            per_48: DefaultKeyedRateLimiter::keyed(quota(times(Self::PER_48))),
        }
    }

    /// Takes one request from `client`'s buckets (its own, then its networks'), or says how long
    /// until the first that refused has room.
    fn check(&self, client: IpAddr) -> Result<(), Duration> {
        let now = DefaultClock::default().now();
        let wait = |not_until: governor::NotUntil<_>| not_until.wait_time_from(now);
        self.client.check_key(&client).map_err(wait)?;
        if let IpAddr::V6(v6) = client {
            self.per_56.check_key(&network(v6, 56)).map_err(wait)?;
            self.per_48.check_key(&network(v6, 48)).map_err(wait)?;
        }
        Ok(())
    }

    fn forget_quiet_clients(&self) {
        for limiter in [&self.client, &self.per_56, &self.per_48] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// The first `bits` bits of `address`, the rest zero.
fn network(address: Ipv6Addr, bits: u32) -> IpAddr {
    IpAddr::V6(engine::base::types::prefix(address, bits))
}

/// The limiters and who may speak for a client.
#[derive(Clone)]
pub struct Limits {
    password: Option<Arc<Budgets>>,
    ceremony: Option<Arc<Budgets>>,
    refresh: Option<Arc<Budgets>>,
    portal: Option<Arc<Budgets>>,
    token: Option<Arc<Budgets>>,
    any: Option<Arc<Budgets>>,
    trusted_proxies: TrustedProxies,
}

/// The proxies whose forwarding header names the client (`LATCHKEY_TRUSTED_PROXIES`, the header
/// `LATCHKEY_FORWARDED_HEADER`); only they may also name a request (`telemetry::trusted_request_id`).
/// Cheap to clone.
#[derive(Clone)]
pub struct TrustedProxies {
    networks: Arc<[IpNet]>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// The configured ones.
    pub fn new(config: &Config) -> Self {
        Self { networks: config.http.trusted_proxies.clone().into(), header: config.http.forwarded_header }
    }

    /// Whether `ip` is one of them.
    pub fn trust(&self, ip: &IpAddr) -> bool {
        self.networks.iter().any(|net| net.contains(ip))
    }

    /// The client behind a request that came from `peer`: `peer` itself unless it is a trusted
    /// proxy; else, walking the header from the end (each proxy appends the address it received
    /// from), the first address no trusted proxy added. An entry that is not an address is where
    /// a proxy hid its peer (`unknown`, an obfuscated name): the chain can be followed no further,
    /// and the proxy that wrote it counts as the client, never an address the client wrote before it.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trust(&peer) {
            return peer;
        }
        let mut last_trusted = peer;
        for entry in forwarded_chain(headers, self.header).into_iter().rev() {
            match entry {
                Some(ip) if self.trust(&ip) => last_trusted = ip,
                Some(ip) => return ip,
                None => return last_trusted,
            }
        }
        last_trusted
    }
}

impl Limits {
    /// The configured limits, with a background sweep of quiet clients' buckets.
    pub fn new(config: &Config) -> Self {
        let limiter = |rate: Option<Rate>| rate.map(|rate| Arc::new(Budgets::new(rate)));
        let limits = Self {
            password: limiter(config.limits.password),
            ceremony: limiter(config.limits.ceremony),
            refresh: limiter(config.limits.refresh),
            portal: limiter(config.limits.portal),
            token: limiter(config.limits.token),
            any: limiter(config.limits.any),
            trusted_proxies: TrustedProxies::new(config),
        };
        let sweep = limits.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                for budgets in sweep.all() {
                    budgets.forget_quiet_clients();
                }
            }
        });
        limits
    }

    /// The trusted proxies these limits read forwarding headers from.
    pub fn trusted_proxies(&self) -> TrustedProxies {
        self.trusted_proxies.clone()
    }

    fn all(&self) -> impl Iterator<Item = &Arc<Budgets>> {
        [&self.password, &self.ceremony, &self.refresh, &self.portal, &self.token, &self.any].into_iter().flatten()
    }

    fn limiter(&self, kind: Kind) -> Option<&Budgets> {
        match kind {
            Kind::Password => self.password.as_deref(),
            Kind::Ceremony => self.ceremony.as_deref(),
            Kind::Refresh => self.refresh.as_deref(),
            Kind::Portal => self.portal.as_deref(),
            Kind::Token => self.token.as_deref(),
            Kind::Any => self.any.as_deref(),
        }
    }

    /// The client behind a request that came from `peer` ([`TrustedProxies::client`]).
    fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        self.trusted_proxies.client(peer, headers)
    }
}

/// `count` at once, then one more every `period / count`.
fn quota(rate: Rate) -> Quota {
    let every = (rate.period / rate.count.get()).max(Duration::from_nanos(1));
    Quota::with_period(every).unwrap_or_else(|| Quota::per_second(rate.count)).allow_burst(rate.count)
}

/// The entries of `header` in order: `X-Forwarded-For`'s addresses, or `Forwarded`'s `for=`
/// nodes; `None` for one that is not an address.
fn forwarded_chain(headers: &HeaderMap, header: ForwardedHeader) -> Vec<Option<IpAddr>> {
    let values = headers.get_all(header.name()).iter().map(|v| v.to_str().unwrap_or(""));
    let elements = values.flat_map(|value| value.split(',')).map(str::trim).filter(|e| !e.is_empty());
    match header {
        ForwardedHeader::XForwardedFor => elements.map(parse_node).collect(),
        ForwardedHeader::Forwarded => elements
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    key.eq_ignore_ascii_case("for").then(|| parse_node(value))
                })?
            })
            .collect(),
    }
}

/// `192.0.2.1`, `192.0.2.1:443`, `"[2001:db8::1]:443"`, `2001:db8::1`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let node = raw.trim().trim_matches('"');
    node.parse::<IpAddr>()
        .ok()
        .or_else(|| node.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .or_else(|| node.strip_prefix('[')?.split(']').next()?.parse().ok())
}

/// The bucket key: an IPv4 address, or the /64 of an IPv6 one.
pub(crate) fn bucket(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or_else(|| network(v6, 64), IpAddr::V4),
        v4 => v4,
    }
}

/// The address the request's connection came from (`serve` records it on every request).
pub fn peer(request: &Request) -> Option<IpAddr> {
    request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip())
}

/// Resolves the client of every request (for the handlers as [`ClientAddr`]) and answers 429 when
/// it is over any limit the request counts against. (`serve` gives every request its peer address;
/// without one, all requests share the unspecified address.)
pub async fn limit(State(limits): State<Limits>, mut request: Request, next: Next) -> Response {
    let peer = peer(&request).unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let key = bucket(limits.client(peer, request.headers()));
    request.extensions_mut().insert(ClientAddr(key));
    for (kind, limiter) in kinds_of(request.method(), request.uri().path())
        .into_iter()
        .filter_map(|kind| Some((kind, limits.limiter(kind)?)))
    {
        if let Err(retry_after) = limiter.check(key) {
            engine::base::measure::rate_limited(kind.label());
            return crate::layers::refuse(request, Error::RateLimited { retry_after }).await;
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn limits(trusted: &str) -> Limits {
        limits_reading(trusted, ForwardedHeader::XForwardedFor)
    }

    fn limits_reading(trusted: &str, header: ForwardedHeader) -> Limits {
        let trusted_proxies: Vec<IpNet> =
            trusted.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
        Limits {
            password: None,
            ceremony: None,
            refresh: None,
            portal: None,
            token: None,
            any: None,
            trusted_proxies: TrustedProxies { networks: trusted_proxies.into(), header },
        }
    }

    #[test]
    fn forwarding_headers_count_only_from_a_trusted_proxy() {
        let peer: IpAddr = "10.0.0.5".parse().unwrap();
        let spoofed = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(limits("").client(peer, &spoofed), peer, "no trusted proxies: the peer is the client");
        assert_eq!(limits("10.0.0.0/8").client(peer, &spoofed), "198.51.100.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_client_is_the_last_address_no_trusted_proxy_added() {
        let peer: IpAddr = "10.0.0.5".parse().unwrap();
        // The client put a fake address first; the edge proxy appended the real one, then an inner proxy.
        let chain = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.7")]);
        assert_eq!(limits("10.0.0.0/8").client(peer, &chain), "203.0.113.9".parse::<IpAddr>().unwrap());
        let forwarded = headers(&[("forwarded", r#"for=1.2.3.4, for="[2001:db8::7]:443";proto=https"#)]);
        let reading_forwarded = limits_reading("10.0.0.0/8", ForwardedHeader::Forwarded);
        assert_eq!(reading_forwarded.client(peer, &forwarded), "2001:db8::7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn only_the_configured_header_is_read_and_an_unreadable_entry_is_the_proxys() {
        let peer: IpAddr = "10.0.0.5".parse().unwrap();
        let both = headers(&[("x-forwarded-for", "203.0.113.9"), ("forwarded", "for=1.2.3.4")]);
        assert_eq!(limits("10.0.0.0/8").client(peer, &both), "203.0.113.9".parse::<IpAddr>().unwrap());
        let reading_forwarded = limits_reading("10.0.0.0/8", ForwardedHeader::Forwarded);
        assert_eq!(reading_forwarded.client(peer, &both), "1.2.3.4".parse::<IpAddr>().unwrap());
        let hidden = headers(&[("x-forwarded-for", "1.2.3.4, unknown, 10.0.0.7")]);
        assert_eq!(limits("10.0.0.0/8").client(peer, &hidden), "10.0.0.7".parse::<IpAddr>().unwrap());
        let obfuscated = headers(&[("forwarded", "for=1.2.3.4, for=_hidden")]);
        assert_eq!(reading_forwarded.client(peer, &obfuscated), peer);
    }

    /// M6: the /64s of one network share its wider budgets.
    #[test]
    fn the_64s_of_one_network_share_a_budget_per_56_and_per_48() {
        let rate = Rate { count: NonZeroU32::new(2).unwrap(), period: Duration::from_secs(60) };
        let allowed = |budgets: &Budgets, clients: &mut dyn Iterator<Item = String>| {
            clients.filter(|client| budgets.check(bucket(client.parse().unwrap())).is_ok()).count()
        };
        // Forty /56s of one /48, one request each: the /48's 32 (2 × 16) pass.
        let one_48 = Budgets::new(rate);
        assert_eq!(allowed(&one_48, &mut (0..40).map(|i| format!("2001:db8:1:{:x}00::1", i + 1))), 32);
        // Twenty /64s of one /56: its 8 (2 × 4).
        let one_56 = Budgets::new(rate);
        assert_eq!(allowed(&one_56, &mut (0..20).map(|i| format!("2001:db8:2:{:x}::1", i + 1))), 8);
        // IPv4 addresses have no wider bucket.
        let v4 = Budgets::new(rate);
        assert_eq!(allowed(&v4, &mut (0..20).map(|i| format!("192.0.2.{i}"))), 20);
        assert_eq!(network("2001:db8:1:2:3::1".parse().unwrap(), 48), "2001:db8:1::".parse::<IpAddr>().unwrap());
        assert_eq!(network("2001:db8:1:23ff::1".parse().unwrap(), 56), "2001:db8:1:2300::".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64() {
        let a = bucket("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = bucket("2001:db8:1:2:bbbb::2".parse().unwrap());
        let other = bucket("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert_eq!(bucket("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn every_costly_anonymous_endpoint_is_limited() {
        use Kind::Any;
        assert_eq!(kinds_of(&Method::POST, "/auth/login"), [Any, Kind::Password]);
        assert_eq!(kinds_of(&Method::POST, "/auth/register"), [Any, Kind::Password]);
        assert_eq!(kinds_of(&Method::POST, "/auth/refresh"), [Any, Kind::Refresh]);
        assert_eq!(kinds_of(&Method::POST, "/auth/passkeys/authenticate/begin"), [Any, Kind::Ceremony]);
        assert_eq!(kinds_of(&Method::POST, PasswordSignIn::PATH), [Any, Kind::Portal, Kind::Password]);
        assert_eq!(kinds_of(&Method::POST, SignUpWithPasskeyOptions::PATH), [Any, Kind::Portal, Kind::Ceremony]);
        assert_eq!(kinds_of(&Method::POST, paths::TOKEN), [Any, Kind::Token]);
        assert_eq!(kinds_of(&Method::POST, paths::REVOKE), [Any, Kind::Token]);
        // L10: whatever else may read the database has a budget too.
        assert_eq!(kinds_of(&Method::GET, "/auth/me"), [Any]);
        assert_eq!(kinds_of(&Method::GET, "/account"), [Any]);
        assert_eq!(kinds_of(&Method::GET, paths::USERINFO), [Any]);
        assert!(kinds_of(&Method::GET, "/healthz").is_empty());
        assert!(kinds_of(&Method::GET, "/pkg/portal.0123abcd.wasm").is_empty());
    }
}
