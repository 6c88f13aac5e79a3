//! Where a webhook may point: https to public addresses only (plain http to
//! loopback too when the development flag allows it). Checked three times: on
//! the URL at registration, on every address a host name resolves to at
//! delivery (so a name that points at, or is rebound to, a private address is
//! refused), and on every redirect.

use std::error::Error;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Redirects followed before a delivery gives up.
const MAX_REDIRECTS: usize = 3;

/// Checks a webhook URL: https only, with a host name or a public address. With
/// `allow_loopback` (development), plain http to loopback is accepted too. Host
/// names are checked again, after resolution, by [`PublicOnly`].
pub fn check_url(raw: &str, allow_loopback: bool) -> Result<url::Url, String> {
    if raw.len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    let url = url::Url::parse(raw).map_err(|e| format!("is not a valid URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".into());
    }
    let host = url.host().ok_or("must have a host")?;
    let ip: Option<IpAddr> = match host {
        url::Host::Ipv4(ip) => Some(ip.into()),
        url::Host::Ipv6(ip) => Some(ip.into()),
        url::Host::Domain(name) if name.eq_ignore_ascii_case("localhost") => {
            Some(IpAddr::from([127, 0, 0, 1]))
        }
        url::Host::Domain(_) => None,
    };
    let loopback = ip.is_some_and(|ip| ip.is_loopback());
    if loopback && allow_loopback {
        return match url.scheme() {
            "http" | "https" => Ok(url),
            _ => Err("must be an http(s) URL".into()),
        };
    }
    if url.scheme() != "https" {
        return Err("must be an https URL".into());
    }
    if ip.is_some_and(|ip| !is_public(ip)) {
        return Err("must point at a globally reachable address, not a loopback, private, link-local, \
                    metadata, documentation or other special-purpose one"
            .into());
    }
    Ok(url)
}

/// Whether a delivery may connect to `ip`.
pub fn may_connect(ip: IpAddr, allow_loopback: bool) -> bool {
    is_public(ip) || (allow_loopback && ip.is_loopback())
}

/// Whether `ip` is globally reachable (see [`super::global`]).
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => super::global::is_global_v4(v4),
        IpAddr::V6(v6) => super::global::is_global_v6(v6),
    }
}

/// A host name whose every address is one a webhook may not reach.
#[derive(Debug)]
pub struct Blocked {
    host: String,
    addresses: Vec<IpAddr>,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addresses: Vec<String> = self.addresses.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{} resolves only to loopback, private, link-local, metadata or other special-purpose \
             addresses ({})",
            self.host,
            addresses.join(", ")
        )
    }
}

impl Error for Blocked {}

/// The system resolver, keeping only the addresses a webhook may reach. The
/// client connects to exactly what this returns, so a name cannot be rebound to
/// a private address between the check and the connection.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly {
    pub allow_loopback: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> =
                found.iter().copied().filter(|a| may_connect(a.ip(), allow_loopback)).collect();
            if allowed.is_empty() {
                let addresses = found.iter().map(SocketAddr::ip).collect();
                return Err(Box::new(Blocked { host, addresses }) as Box<dyn Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Follows at most [`MAX_REDIRECTS`] redirects, each to a URL [`check_url`]
/// accepts (its host name is then resolved through [`PublicOnly`]).
pub fn redirect_policy(allow_loopback: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        match check_url(attempt.url().as_str(), allow_loopback) {
            Ok(_) => attempt.follow(),
            Err(why) => {
                let to = attempt.url().to_string();
                attempt.error(format!("redirect to {to}: the URL {why}"))
            }
        }
    })
}

/// Why a request failed, if it was refused by these rules rather than by the
/// network or the receiver.
pub fn refusal(error: &reqwest::Error) -> Option<String> {
    if error.is_redirect() {
        return Some(chain(error));
    }
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(blocked) = cause.downcast_ref::<Blocked>() {
            return Some(blocked.to_string());
        }
        source = cause.source();
    }
    None
}

/// The error and its causes on one line.
pub fn chain(error: &dyn Error) -> String {
    crate::telemetry::Chain(error).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_to_public_hosts_is_accepted() {
        assert!(check_url("https://hooks.example.com/todo", false).is_ok());
        assert!(check_url("https://93.184.216.34/x", false).is_ok());
        for bad in [
            "http://hooks.example.com/todo",
            "ftp://hooks.example.com",
            "https://127.0.0.1/x",
            "https://localhost/x",
            "https://10.0.0.5/x",
            "https://192.168.1.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            // What the outside probe registered: IPv4 embedded in IPv6, special IPv4 ranges.
            "https://[::127.0.0.1]/x",
            "https://[64:ff9b::a9fe:a9fe]/x",
            "https://[64:ff9b::10.0.0.1]/x",
            "https://[64:ff9b:1::a00:1]/x",
            "https://[2002:7f00:1::]/x",
            "https://[::ffff:0:7f00:1]/x",
            "https://[fec0::1]/x",
            "https://[2001:db8::1]/x",
            "https://[100::1]/x",
            "https://192.0.0.192/x",
            "https://198.18.0.1/x",
            "https://240.0.0.1/x",
            "https://0.0.0.0/x",
            "https://user:pw@hooks.example.com/",
            "not a url",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn loopback_over_http_needs_the_development_flag() {
        assert!(check_url("http://127.0.0.1:9000/hook", false).is_err());
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(check_url("http://localhost:9000/hook", true).is_ok());
        assert!(check_url("http://10.0.0.1/hook", true).is_err(), "only loopback");
    }

    #[test]
    fn resolved_addresses_are_kept_only_when_public() {
        for (ip, public) in [
            ("93.184.216.34", true),
            ("2606:2800:220:1::", true),
            ("127.0.0.1", false),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("192.168.0.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("0.0.0.0", false),
            ("224.0.0.1", false),
            ("::1", false),
            ("fe80::1", false),
            ("fd00:ec2::254", false),
            ("::ffff:127.0.0.1", false),
        ] {
            let ip: IpAddr = ip.parse().expect("address");
            assert_eq!(may_connect(ip, false), public, "{ip}");
        }
        assert!(may_connect("127.0.0.1".parse().expect("address"), true));
        assert!(!may_connect("10.0.0.1".parse().expect("address"), true), "the flag is for loopback only");
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_unless_allowed() {
        use reqwest::dns::Resolve;
        // `localhost` comes from the system's hosts file, through the same
        // resolver a delivery uses.
        let name = || "localhost".parse::<reqwest::dns::Name>().expect("name");
        let refused = PublicOnly { allow_loopback: false }.resolve(name()).await;
        let error = refused.err().expect("loopback refused");
        assert!(error.to_string().contains("resolves only to loopback"), "{error}");
        let allowed = PublicOnly { allow_loopback: true }.resolve(name()).await.expect("allowed");
        assert!(allowed.into_iter().all(|a| a.ip().is_loopback()));
    }
}
