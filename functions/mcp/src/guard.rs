//! Authorization as the MCP specification asks of an HTTP server: every call to
//! `/mcp` carries `Authorization: Bearer <token>`, verified exactly as the REST
//! API verifies it; without one (or with a bad one) the answer is 401 with a
//! `WWW-Authenticate` challenge pointing at the OAuth 2.0 Protected Resource
//! Metadata (RFC 9728), which names the issuer the API trusts.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use todo_lib::access_tokens::Scope;

use crate::McpState;
use api::error::ApiError;
use api::limit;
use todo_lib::rate_limit::Class;

/// Where the metadata is served (RFC 9728 §3: the well-known URI at the root).
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// RFC 9728 §2: what a client needs to know about this protected resource.
#[derive(Debug, Serialize)]
pub struct ResourceMetadata {
    /// The MCP endpoint's URL, which tokens are for.
    pub resource: String,
    /// The issuer the API trusts (`JWT_ISSUER`); empty when tokens are signed
    /// with a shared secret (the local host), which no client can discover.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorization_servers: Vec<String>,
    pub bearer_methods_supported: [&'static str; 1],
    /// What a personal access token may be granted.
    pub scopes_supported: [&'static str; 2],
    pub resource_name: &'static str,
}

/// Lets a request through with its caller ([`api::auth::Caller`]: a JWT's
/// user, or a personal access token's, with its scopes) in its extensions, or
/// answers 401 with the challenge.
///
/// Every request spends from a budget first, as the API's do: the user's
/// reads, or writes for a tool that writes; without a valid credential, the
/// client address's.
pub async fn require_caller(State(state): State<McpState>, request: Request, next: Next) -> Response {
    let limits = &state.app.limits;
    match api::auth::caller_for(&state.app, request.headers(), state.audience.as_deref()).await {
        Ok(caller) => {
            let (request, tool) = tool_called(request).await;
            let needed = tool.and_then(|name| state.scopes.get(&name).copied());
            let class = limit::by_scope(needed.unwrap_or(Scope::TasksRead));
            let decision = match limit::spend(limits, class, &limit::user_key(&caller.user)).await {
                Ok(decision) => decision,
                Err(refusal) => return refusal,
            };
            // A tool call the credential's scopes cannot make is refused here,
            // in HTTP's terms, before the tool runs (as the MCP authorization
            // specification describes), so a client can ask for more.
            let mut response = match needed.map(|needed| (needed, caller.require(needed))) {
                Some((needed, Err(refused))) => {
                    insufficient_scope(&state, request.headers(), refused, needed)
                }
                _ => {
                    let mut request = request;
                    request.extensions_mut().insert(caller);
                    next.run(request).await
                }
            };
            limit::stamp(response.headers_mut(), &decision);
            response
        }
        Err(err) => {
            let key = state.app.limits.address_key(&request);
            let decision = match limit::spend(limits, Class::Anonymous, &key).await {
                Ok(decision) => decision,
                Err(refusal) => return refusal,
            };
            let mut response = challenge(&state, request.headers(), err);
            limit::stamp(response.headers_mut(), &decision);
            response
        }
    }
}

/// The request as it came, and the tool it calls when it is a `tools/call`
/// (its body is whole already: `edges::one_message` read it).
async fn tool_called(request: Request) -> (Request, Option<String>) {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (Request::from_parts(parts, axum::body::Body::empty()), None);
    };
    let message: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
    let tool = message
        .filter(|m| m["method"] == "tools/call")
        .and_then(|m| m["params"]["name"].as_str().map(str::to_owned));
    (Request::from_parts(parts, axum::body::Body::from(bytes)), tool)
}

/// 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope=…`
/// (RFC 6750 §3.1) naming what the call needs, and the resource metadata.
fn insufficient_scope(state: &McpState, headers: &HeaderMap, err: ApiError, needed: Scope) -> Response {
    let metadata = format!("{}{METADATA_PATH}", state.config.origin(headers));
    let value = format!(
        r#"Bearer realm="todo", error="insufficient_scope", scope="{}", resource_metadata="{metadata}""#,
        needed.as_str()
    );
    let mut response = (StatusCode::FORBIDDEN, Json(err.body())).into_response();
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// 401 with the API's error body and `WWW-Authenticate: Bearer` naming the
/// metadata (RFC 9728 §5.1); an invalid token adds `error="invalid_token"`
/// (RFC 6750 §3.1). Any other failure (the identity provider down) answers as
/// the API does.
fn challenge(state: &McpState, headers: &HeaderMap, err: ApiError) -> Response {
    let error = match &err {
        ApiError::MissingToken => "",
        ApiError::InvalidToken(_) => r#", error="invalid_token""#,
        _ => return err.into_response(),
    };
    let metadata = format!("{}{METADATA_PATH}", state.config.origin(headers));
    let value = format!(r#"Bearer realm="todo", resource_metadata="{metadata}"{error}"#);
    let mut response = (StatusCode::UNAUTHORIZED, Json(err.body())).into_response();
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// `GET /.well-known/oauth-protected-resource` (and the same with `/mcp`
/// appended, where RFC 9728 §3.1 puts it for a resource with a path).
pub async fn metadata(State(state): State<McpState>, headers: HeaderMap) -> Json<ResourceMetadata> {
    Json(ResourceMetadata {
        resource: format!("{}{}", state.config.origin(&headers), crate::MCP_PATH),
        authorization_servers: state.config.issuer.iter().cloned().collect(),
        bearer_methods_supported: ["header"],
        scopes_supported: Scope::ALL.map(Scope::as_str),
        resource_name: "Todo",
    })
}
