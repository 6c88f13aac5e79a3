//! The address a request without a valid credential is counted against: its
//! connection's peer, or, when that peer is a trusted proxy
//! (`TRUSTED_PROXIES`), the right-most address of `X-Forwarded-For` that is
//! not one of the trusted proxies (what a client cannot forge: each proxy
//! appends the address it saw). IPv6 clients are counted by their /64, which
//! one host usually holds whole.

use std::net::{IpAddr, Ipv6Addr};

use axum::http::HeaderMap;
use ipnet::IpNet;

use super::RateLimitConfigError;

/// The proxies whose `X-Forwarded-For` is believed; none by default.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Reads `TRUSTED_PROXIES`: addresses and networks, comma-separated.
    pub fn parse(setting: Option<&str>) -> Result<Self, RateLimitConfigError> {
        let mut nets = Vec::new();
        for item in setting.unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| RateLimitConfigError::Proxy(item.to_owned()))?;
            nets.push(net);
        }
        Ok(Self(nets))
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client of a request that came from `peer` with `headers`; `None`
    /// when the peer is unknown (a request that did not come over a socket).
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let mut client = peer;
        let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).map(str::trim).collect();
        for hop in hops.iter().rev() {
            let Ok(address) = hop.parse::<IpAddr>() else { break };
            client = address;
            if !self.trusts(address) {
                break;
            }
        }
        Some(client)
    }
}

/// The key an address's budget is kept under.
pub fn key(address: Option<IpAddr>) -> String {
    match address.map(|a| a.to_canonical()) {
        Some(IpAddr::V4(v4)) => format!("ip:{v4}"),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("ip:{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        None => "ip:unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).expect("ascii"));
        headers
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::parse(None).expect("empty");
        assert_eq!(none.client(Some(ip("203.0.113.9")), &forwarded("198.51.100.1")), Some(ip("203.0.113.9")));
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client() {
        let proxies = TrustedProxies::parse(Some("10.0.0.0/8, 192.0.2.7")).expect("valid");
        let peer = Some(ip("10.1.2.3"));
        // The client forged the first entry; the proxies appended the rest.
        let headers = forwarded("1.1.1.1, 198.51.100.1, 192.0.2.7");
        assert_eq!(proxies.client(peer, &headers), Some(ip("198.51.100.1")));
        // An untrusted peer's header counts for nothing.
        assert_eq!(proxies.client(Some(ip("203.0.113.9")), &headers), Some(ip("203.0.113.9")));
        // A garbled hop stops the walk at what was known.
        assert_eq!(proxies.client(peer, &forwarded("nonsense, 192.0.2.7")), Some(ip("192.0.2.7")));
        assert_eq!(proxies.client(peer, &HeaderMap::new()), peer);
    }

    #[test]
    fn a_bad_setting_is_refused_by_name() {
        let err = TrustedProxies::parse(Some("10.0.0.0/8,proxy.local")).expect_err("not an address");
        assert!(err.to_string().contains("proxy.local"), "{err}");
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(key(Some(ip("2001:db8:1:2:aaaa::1"))), key(Some(ip("2001:db8:1:2:bbbb::9"))));
        assert_ne!(key(Some(ip("2001:db8:1:2::1"))), key(Some(ip("2001:db8:1:3::1"))));
        assert_eq!(key(Some(ip("::ffff:192.0.2.1"))), "ip:192.0.2.1");
        assert_eq!(key(None), "ip:unknown");
    }
}
