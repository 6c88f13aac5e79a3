//! Tokens bound to their resource (RFC 8707, as the MCP authorization
//! specification asks): with an audience configured, a JWT issued for the
//! MCP server's resource (`MCP_PUBLIC_URL` + `/mcp`) is accepted at `/mcp`
//! and not at the REST API, one issued for the API (`JWT_AUDIENCE`) the
//! reverse, and one issued for both at both. Without an audience configured
//! none is checked (the docs say so).

mod common;

use std::sync::Arc;

use api::AppState;
use api::auth::Authenticator;
use api::config::ApiConfig;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{PROTOCOL, SECRET};
use jsonwebtoken::{EncodingKey, Header, encode};
use secrecy::SecretString;
use serde_json::{Value, json};

const API_AUDIENCE: &str = "urn:todo:api";
const PUBLIC: &str = "https://todo.example.com";

fn token_for(audience: Value) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "sub": "alice", "iat": now, "exp": now + 3600, "aud": audience });
    encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).expect("token")
}

/// The REST API and the MCP server over one database (returned, to live as
/// long as they do), with or without an audience configured.
async fn front_doors(with_audience: bool) -> (todo_testing::TestDb, Router, Router) {
    let db = todo_testing::sqlite().await;
    let config = ApiConfig {
        jwt_secret: Some(SecretString::from(SECRET)),
        jwt_audience: with_audience.then(|| API_AUDIENCE.to_owned()),
        ..ApiConfig::default()
    };
    let state = AppState::new(db.store.clone(), Arc::new(Authenticator::new(&config).expect("auth")));
    let mcp_config = mcp::McpConfig { public_url: Some(PUBLIC.parse().expect("url")), ..Default::default() };
    (db, api::app(state.clone()), mcp::app(state, mcp_config))
}

async fn status(router: &Router, request: Request<Body>) -> StatusCode {
    todo_testing::call(router, request).await.0
}

fn rest(token: &str) -> Request<Body> {
    Request::get("/v1/lists")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("req")
}

fn tools_list(token: &str) -> Request<Body> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": PROTOCOL,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "1"},
    }}});
    Request::post("/mcp")
        .header("host", "todo.example.com")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", PROTOCOL)
        .header("mcp-method", "tools/list")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body.to_string()))
        .expect("req")
}

#[tokio::test]
async fn a_token_is_accepted_only_by_the_resource_it_was_issued_for() {
    let (_db, api, mcp) = front_doors(true).await;
    let resource = format!("{PUBLIC}/mcp");
    let for_mcp = token_for(json!(resource));
    let for_api = token_for(json!(API_AUDIENCE));
    let for_both = token_for(json!([API_AUDIENCE, resource]));
    assert_eq!(status(&mcp, tools_list(&for_mcp)).await, StatusCode::OK);
    assert_eq!(status(&api, rest(&for_mcp)).await, StatusCode::UNAUTHORIZED, "an MCP token at the API");
    assert_eq!(status(&api, rest(&for_api)).await, StatusCode::OK);
    assert_eq!(status(&mcp, tools_list(&for_api)).await, StatusCode::UNAUTHORIZED, "an API token at /mcp");
    assert_eq!(status(&api, rest(&for_both)).await, StatusCode::OK);
    assert_eq!(status(&mcp, tools_list(&for_both)).await, StatusCode::OK);
}

#[tokio::test]
async fn without_an_audience_configured_none_is_checked() {
    let (_db, api, mcp) = front_doors(false).await;
    let any = token_for(json!("urn:something:else"));
    assert_eq!(status(&api, rest(&any)).await, StatusCode::OK);
    assert_eq!(status(&mcp, tools_list(&any)).await, StatusCode::OK);
}
