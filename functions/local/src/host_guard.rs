//! The local host on loopback answers only to this machine's names. A web
//! page elsewhere can point a name of its own at 127.0.0.1 (DNS rebinding) and
//! read what the page's origin then reaches: the operator routes' event
//! payloads, or a token from the development sign-in. The browser still sends
//! the page's `Host`, so every route refuses a `Host` that is not loopback
//! (`localhost`, `127.0.0.1`, `[::1]`) or one the MCP server is told to
//! accept (`MCP_PUBLIC_URL`, `MCP_ALLOWED_HOSTS`), as `/mcp` does.

use axum::extract::Request;
use axum::http::{StatusCode, header::HOST};
use axum::middleware::Next;
use axum::response::Response;
use todo_lib::error_body::ErrorBody;
pub use todo_lib::hosts::Hosts;

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
