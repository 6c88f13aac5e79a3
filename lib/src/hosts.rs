//! Which `Host` headers a server answers to: a server reachable from a
//! browser refuses the others, so that a page elsewhere that points a name of
//! its own at it (DNS rebinding) cannot read what it serves.

use std::sync::Arc;

/// The names accepted in `Host`, without ports.
#[derive(Debug, Clone)]
pub struct Hosts(Arc<Vec<String>>);

impl Hosts {
    pub fn new(names: Vec<String>) -> Self {
        Self(Arc::new(names.into_iter().map(|n| n.to_ascii_lowercase()).collect()))
    }

    /// Whether `host` (a `Host` header: a name or `[v6]`, with or without a port) is one of ours.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let name = match host.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or_default(),
            None => host.rsplit_once(':').map_or(host.as_str(), |(name, _port)| name),
        };
        let name = name.trim_end_matches('.');
        self.0.iter().any(|allowed| allowed == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_pass_with_or_without_a_port_and_others_do_not() {
        let hosts = Hosts::new(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]);
        for ok in ["localhost", "LOCALHOST:8080", "127.0.0.1:8080", "[::1]:8080", "[::1]", "localhost."] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for bad in ["attacker.example", "attacker.example:8080", "127.0.0.1.nip.io", "localhost.evil", ""] {
            assert!(!hosts.allows(bad), "{bad}");
        }
    }
}
