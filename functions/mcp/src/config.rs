//! The MCP server's own settings, read from the environment beside the API's.

use axum::http::HeaderMap;
use axum::http::header::HOST;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct McpConfig {
    /// `MCP_PUBLIC_URL`: the public origin clients reach this server at
    /// (`https://todo.example.com`). It names the resource in the metadata and the
    /// challenge, and its host is accepted in `Host`. When unset, both follow the
    /// request's `Host` over plain HTTP: right for the local host only.
    #[serde(rename = "mcp_public_url")]
    pub public_url: Option<url::Url>,
    /// `MCP_ALLOWED_HOSTS`: more `Host` values to accept, comma-separated. The
    /// loopback names are always accepted; any other `Host` is refused, which
    /// stops DNS-rebinding attacks on a server reachable from a browser.
    #[serde(rename = "mcp_allowed_hosts", default)]
    pub allowed_hosts: Vec<String>,
    /// `MCP_ALLOWED_ORIGINS`: browser origins allowed to call, comma-separated
    /// (`https://app.example.com:443`, `:*` for any port). The loopback origins
    /// and the public URL's are always allowed; a request from any other
    /// `Origin` is refused (403), as the MCP transport specification asks. A
    /// request without `Origin` (every non-browser client) is not affected.
    #[serde(rename = "mcp_allowed_origins", default)]
    pub allowed_origins: Vec<String>,
    /// `JWT_ISSUER`, the API's: the authorization server the metadata names.
    #[serde(rename = "jwt_issuer")]
    pub issuer: Option<String>,
    /// `BODY_LIMIT_BYTES`, the API's: the largest request `/mcp` reads.
    #[serde(rename = "body_limit_bytes", default = "default_body_limit_bytes")]
    pub body_limit_bytes: usize,
}

fn default_body_limit_bytes() -> usize {
    todo_lib::config::DEFAULT_BODY_LIMIT_BYTES
}

/// The names a `Host` may carry on any machine.
const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The browser origins of this machine, on any port.
const LOOPBACK_ORIGINS: [&str; 3] = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"];

impl Default for McpConfig {
    fn default() -> Self {
        Self {
            public_url: None,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            issuer: None,
            body_limit_bytes: default_body_limit_bytes(),
        }
    }
}

impl McpConfig {
    /// `scheme://host[:port]` of this server, as clients reach it.
    pub fn origin(&self, headers: &HeaderMap) -> String {
        if let Some(url) = &self.public_url {
            return url.origin().ascii_serialization();
        }
        let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
        format!("http://{host}")
    }

    /// What a JWT must be issued for to be accepted here (RFC 8707, as the
    /// MCP authorization specification asks): with an audience configured
    /// for the API (`JWT_AUDIENCE`), this server's own resource,
    /// `MCP_PUBLIC_URL`'s origin with `/mcp`, so that a token for the API is
    /// not accepted here, nor one for here at the API (unless issued for
    /// both); without `MCP_PUBLIC_URL`, the API's audience. Without an
    /// audience configured, none is checked, here or at the API.
    pub fn audience(&self, api_audience: Option<&str>) -> Option<String> {
        let api_audience = api_audience?;
        Some(match &self.public_url {
            Some(url) => format!("{}{}", url.origin().ascii_serialization(), crate::MCP_PATH),
            None => api_audience.to_owned(),
        })
    }

    /// Every `Origin` accepted on `/mcp` (in rmcp's notation, `:*` for any port).
    pub fn origins(&self) -> Vec<String> {
        let public = self.public_url.as_ref().map(|u| {
            let port = u.port_or_known_default().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{}{port}", u.scheme(), u.host_str().unwrap_or_default())
        });
        LOOPBACK_ORIGINS
            .iter()
            .map(|o| (*o).to_owned())
            .chain(public)
            .chain(self.allowed_origins.iter().cloned())
            .collect()
    }

    /// Every `Host` (name, or `name:port`) accepted on `/mcp`.
    pub fn hosts(&self) -> Vec<String> {
        let public = self.public_url.as_ref().and_then(|u| u.host_str()).map(str::to_owned);
        LOOPBACK
            .iter()
            .map(|h| (*h).to_owned())
            .chain(public)
            .chain(self.allowed_hosts.iter().cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_lib::config::from_iter;

    fn config(vars: &[(&str, &str)]) -> McpConfig {
        from_iter(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))).expect("valid")
    }

    #[test]
    fn the_public_url_names_the_origin_whatever_the_host_header_says() {
        let config = config(&[("MCP_PUBLIC_URL", "https://todo.example.com/mcp")]);
        let mut headers = HeaderMap::new();
        headers.insert(HOST, "evil.example".parse().expect("valid"));
        assert_eq!(config.origin(&headers), "https://todo.example.com");
        assert!(config.hosts().contains(&"todo.example.com".to_owned()));
        assert!(config.origins().contains(&"https://todo.example.com:443".to_owned()));
    }

    #[test]
    fn without_a_public_url_the_origin_follows_the_host_header() {
        let config = config(&[("MCP_ALLOWED_HOSTS", "a.internal,b.internal")]);
        let mut headers = HeaderMap::new();
        headers.insert(HOST, "127.0.0.1:8080".parse().expect("valid"));
        assert_eq!(config.origin(&headers), "http://127.0.0.1:8080");
        assert!(config.hosts().ends_with(&["a.internal".to_owned(), "b.internal".to_owned()]));
    }
}
