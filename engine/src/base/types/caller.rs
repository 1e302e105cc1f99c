//! Who made a request: the client's address and its `User-Agent`, and the device people know it as.

use std::fmt;

/// The client a request is from, as the server's rate-limit layer resolved it: the TCP peer, or
/// behind a trusted proxy the forwarded client; an IPv6 client as its /64. Without that layer
/// (never in the server) every request is from the unspecified address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

impl fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl ClientAddr {
    /// The network the address is in, as the list of sign-ins shows it: its /24 for IPv4, its /48
    /// for IPv6 ("203.0.113.0/24"); enough to tell two sign-ins apart, not to find the client.
    pub fn network(&self) -> String {
        network_of(self.0)
    }
}

/// [`ClientAddr::network`] of `address`.
fn network_of(address: std::net::IpAddr) -> String {
    match address {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        std::net::IpAddr::V6(v6) => format!("{}/48", prefix(v6, 48)),
    }
}

/// The first `bits` bits of `address`, the rest zero (an IPv6 network: its /48, /56, /64).
pub fn prefix(address: std::net::Ipv6Addr, bits: u32) -> std::net::Ipv6Addr {
    let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
    std::net::Ipv6Addr::from(u128::from(address) & mask)
}

/// The `User-Agent` a sign-in was made with, to tell a user's sign-ins apart: at most 256 characters,
/// without control characters; empty when the client sent none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserAgent(String);

impl UserAgent {
    const MAX_CHARS: usize = 256;

    /// From a header's value, cut to 256 characters.
    pub fn new(raw: &str) -> Self {
        Self(raw.trim().chars().filter(|c| !c.is_control()).take(Self::MAX_CHARS).collect())
    }

    /// The value, `None` when there was none.
    pub fn get(&self) -> Option<&str> {
        (!self.0.is_empty()).then_some(self.0.as_str())
    }
}

/// "Browser on system" from a `User-Agent`, for people to recognise their devices by; the whole
/// value is in the answer too. The few browsers and systems people use, tested in the order that
/// tells them apart (Edge and Chrome also say "Safari"; Android also says "Linux").
pub fn device_of(user_agent: Option<&str>) -> String {
    let Some(agent) = user_agent.filter(|a| !a.is_empty()) else {
        return "Unknown device".to_owned();
    };
    const BROWSERS: [(&str, &str); 8] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("python", "Python"),
        ("node", "Node.js"),
    ];
    const SYSTEMS: [(&str, &str); 7] = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ];
    let browser = BROWSERS.iter().find(|(mark, _)| agent.contains(mark)).map(|(_, name)| *name);
    let system = SYSTEMS.iter().find(|(mark, _)| agent.contains(mark)).map(|(_, name)| *name);
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(name), None) | (None, Some(name)) => name.to_owned(),
        (None, None) => agent.split(['/', ' ']).next().unwrap_or(agent).to_owned(),
    }
}

/// Who made a request, as a user's record of sign-ins and activity shows it: the client's address
/// (behind a trusted proxy, the forwarded client) and its `User-Agent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The client's address.
    pub address: ClientAddr,
    /// Its `User-Agent`.
    pub user_agent: UserAgent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_is_the_addresss_24_or_48() {
        let of = |a: &str| network_of(a.parse().unwrap());
        assert_eq!(of("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(of("2001:db8:1234:5678::1"), "2001:db8:1234::/48");
    }

    #[test]
    fn devices_are_named_as_people_know_them() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
        let android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
        assert_eq!(device_of(Some(firefox)), "Firefox on Linux");
        assert_eq!(device_of(Some(chrome)), "Chrome on Windows");
        assert_eq!(device_of(Some(edge)), "Edge on Windows");
        assert_eq!(device_of(Some(safari)), "Safari on iPhone");
        assert_eq!(device_of(Some(android)), "Chrome on Android");
        assert_eq!(device_of(Some("curl/8.5.0")), "curl");
        assert_eq!(device_of(Some("my-sync-tool/2.1")), "my-sync-tool");
        assert_eq!(device_of(None), "Unknown device");
    }
}
