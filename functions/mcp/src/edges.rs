//! What `/mcp` checks before anything else, in this order: the `Host` and a
//! browser's `Origin` (before authentication, so that a foreign `Host` never
//! shapes the challenge or the metadata document); then the body of a POST,
//! read up to `BODY_LIMIT_BYTES` like the API's, and refused in JSON-RPC's
//! own terms when it is not one JSON-RPC message: malformed JSON is HTTP 400
//! with `-32700` (parse error), a batch is HTTP 400 with `-32600` (invalid
//! request: protocol 2026-07-28 takes one message per request).

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use todo_lib::error_body::ErrorBody;

use crate::McpState;

/// JSON-RPC 2.0: the body is not JSON.
const PARSE_ERROR: i64 = -32700;
/// JSON-RPC 2.0: the JSON is not one acceptable request.
const INVALID_REQUEST: i64 = -32600;

/// Refuses a foreign `Host` or `Origin` (403), on every route of the MCP server.
pub async fn host_and_origin(State(state): State<McpState>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    if let Some(host) = headers.get(HOST).map(|v| v.to_str().unwrap_or("\u{fffd}"))
        && !state.hosts.allows(host)
    {
        tracing::warn!(host = %host.escape_debug(), "MCP: refused a foreign Host");
        let message =
            "this server does not answer to that Host: set MCP_PUBLIC_URL or MCP_ALLOWED_HOSTS to add it";
        return ErrorBody::new("host_not_allowed", message, Vec::new()).into_response(StatusCode::FORBIDDEN);
    }
    if let Some(origin) = headers.get(ORIGIN).map(|v| v.to_str().unwrap_or("\u{fffd}"))
        && !origin_allowed(&state.config.origins(), origin)
    {
        tracing::warn!(origin = %origin.escape_debug(), "MCP: refused a foreign Origin");
        let message = "this server does not take calls from that Origin: set MCP_ALLOWED_ORIGINS to add it";
        return ErrorBody::new("origin_not_allowed", message, Vec::new())
            .into_response(StatusCode::FORBIDDEN);
    }
    next.run(request).await
}

/// Whether `origin` (`scheme://host[:port]`) is one of `allowed`, where a
/// `:*` port stands for any port.
fn origin_allowed(allowed: &[String], origin: &str) -> bool {
    let origin = origin.trim().to_ascii_lowercase();
    allowed.iter().any(|pattern| {
        let pattern = pattern.to_ascii_lowercase();
        match pattern.strip_suffix(":*") {
            Some(base) => {
                origin == base
                    || origin
                        .strip_prefix(base)
                        .and_then(|rest| rest.strip_prefix(':'))
                        .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
            }
            None => origin == pattern || default_port_of(&origin).is_some_and(|full| full == pattern),
        }
    })
}

/// `origin` with its scheme's default port written out (`https://a` is `https://a:443`).
fn default_port_of(origin: &str) -> Option<String> {
    let (scheme, rest) = origin.split_once("://")?;
    if rest.rsplit_once(':').is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        && !rest.ends_with(']')
    {
        return None;
    }
    let port = match scheme {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    Some(format!("{origin}:{port}"))
}

/// Reads a POST's body within the limit and lets it on only when it is one
/// JSON-RPC message.
pub async fn one_message(State(state): State<McpState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, state.config.body_limit_bytes).await {
        Ok(bytes) => bytes,
        Err(err) if todo_lib::serve::BodyTimedOut::caused(&err) => {
            return rpc_error(
                StatusCode::REQUEST_TIMEOUT,
                INVALID_REQUEST,
                "the request did not arrive in time",
            );
        }
        Err(_) => {
            let message = format!("the request is larger than {} bytes", state.config.body_limit_bytes);
            return rpc_error(StatusCode::PAYLOAD_TOO_LARGE, INVALID_REQUEST, &message);
        }
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Err(err) => rpc_error(
            StatusCode::BAD_REQUEST,
            PARSE_ERROR,
            &format!("Parse error: the body is not JSON ({err})"),
        ),
        Ok(Value::Array(_)) => rpc_error(
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST,
            "Invalid Request: batches are not supported; send one JSON-RPC message per request",
        ),
        Ok(Value::Object(_)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(_) => rpc_error(
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST,
            "Invalid Request: a JSON-RPC message is an object",
        ),
    }
}

/// A JSON-RPC error answer with no id (the request's could not be read).
fn rpc_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = json!({ "jsonrpc": "2.0", "id": null, "error": { "code": code, "message": message } });
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_exactly_or_on_any_port_for_a_wildcard() {
        let allowed: Vec<String> =
            ["http://localhost:*", "https://app.example.com:443"].iter().map(|s| (*s).to_owned()).collect();
        for ok in [
            "http://localhost",
            "http://localhost:3000",
            "https://app.example.com",
            "https://app.example.com:443",
        ] {
            assert!(origin_allowed(&allowed, ok), "{ok}");
        }
        for bad in [
            "http://localhost.evil",
            "http://localhost:3000x",
            "https://evil.example",
            "http://app.example.com",
        ] {
            assert!(!origin_allowed(&allowed, bad), "{bad}");
        }
    }
}
