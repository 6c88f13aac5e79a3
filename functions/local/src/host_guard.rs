//! The local host on loopback answers only to this machine's names. A web
//! page elsewhere can point a name of its own at 127.0.0.1 (DNS rebinding) and
//! read what the page's origin then reaches: the operator routes' event
//! payloads, or a token from the development sign-in. The browser still sends
//! the page's `Host`, so every route refuses a `Host` that is not loopback
//! (`localhost`, `127.0.0.1`, `[::1]`) or one the MCP server is told to
//! accept (`MCP_PUBLIC_URL`, `MCP_ALLOWED_HOSTS`), as `/mcp` does.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{StatusCode, header::HOST};
use axum::middleware::Next;
use axum::response::Response;
use todo_lib::error_body::ErrorBody;

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

/// Refuses, with 403 `host_not_allowed`, a request whose `Host` is not one of
/// `hosts`. A request without `Host` (HTTP/1.0, an in-process call) passes: a
/// browser always sends one.
pub async fn guard(hosts: Hosts, request: Request, next: Next) -> Response {
    let host = request.headers().get(HOST).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    match host {
        Some(host) if !hosts.allows(host) => {
            tracing::warn!(host = %host.escape_debug(), "refused a request for a foreign Host (DNS rebinding?)");
            ErrorBody::new(
                "host_not_allowed",
                "this development server answers only to this machine's names (localhost, 127.0.0.1, [::1]); \
                 set MCP_ALLOWED_HOSTS to add one",
                Vec::new(),
            )
            .into_response(StatusCode::FORBIDDEN)
        }
        _ => next.run(request).await,
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
