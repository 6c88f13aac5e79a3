//! The edges of `/mcp`, before any tool runs: a foreign `Host` or `Origin`
//! is refused before authentication (it never shapes the challenge or the
//! metadata document); a body that is not one JSON-RPC message is refused
//! in JSON-RPC's terms (malformed: -32700; a batch: -32600); a body over
//! `BODY_LIMIT_BYTES` is refused.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{PROTOCOL, TestMcp, token};
use serde_json::json;

fn post(host: &str) -> axum::http::request::Builder {
    Request::post("/mcp")
        .header("host", host)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", PROTOCOL)
}

#[tokio::test]
async fn a_foreign_host_or_origin_is_refused_before_authentication() {
    let mcp = TestMcp::with_db(todo_testing::sqlite().await);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
    // No token: were authentication first, this would be a 401 naming the metadata at evil.example.
    let foreign = post("evil.example").body(Body::from(body.clone())).expect("request");
    let answer = mcp.raw(foreign).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "host_not_allowed");
    assert!(answer.headers.get("www-authenticate").is_none(), "no challenge shaped by a foreign Host");

    let metadata = Request::get("/.well-known/oauth-protected-resource")
        .header("host", "evil.example")
        .body(Body::empty())
        .expect("request");
    assert_eq!(mcp.raw(metadata).await.status, StatusCode::FORBIDDEN, "the metadata neither");

    let from_page = post("127.0.0.1")
        .header("origin", "https://evil.example")
        .body(Body::from(body.clone()))
        .expect("request");
    let answer = mcp.raw(from_page).await;
    assert_eq!(
        (answer.status, answer.body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("origin_not_allowed"))
    );

    // This machine's names and origins pass on to authentication.
    let local =
        post("127.0.0.1").header("origin", "http://localhost:5173").body(Body::from(body)).expect("request");
    assert_eq!(mcp.raw(local).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn malformed_json_is_a_parse_error_and_a_batch_an_invalid_request() {
    let mcp = TestMcp::with_db(todo_testing::sqlite().await);
    for (body, code) in [
        ("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ", -32700),
        ("not json at all", -32700),
        ("[{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"tools/list\"}]", -32600),
        ("42", -32600),
    ] {
        let request = post("127.0.0.1")
            .header("authorization", format!("Bearer {}", token("alice")))
            .body(Body::from(body))
            .expect("request");
        let answer = mcp.raw(request).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}: {}", answer.body);
        assert_eq!(answer.body["jsonrpc"], "2.0");
        assert_eq!(answer.body["id"], serde_json::Value::Null);
        assert_eq!(answer.body["error"]["code"], code, "{body}: {}", answer.body);
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let config = mcp::McpConfig { body_limit_bytes: 1024, ..Default::default() };
    let mcp = TestMcp::with_config(todo_testing::sqlite().await, config);
    let title = "x".repeat(2000);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "create_task", "arguments": {"title": title}}})
    .to_string();
    // Chunked, so no Content-Length announces it: the read itself stops at the limit.
    let stream = futures_util::stream::iter(
        body.into_bytes().chunks(256).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>(),
    );
    let request = post("127.0.0.1")
        .header("authorization", format!("Bearer {}", token("alice")))
        .body(Body::from_stream(stream))
        .expect("request");
    let answer = mcp.raw(request).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", answer.body);
    assert_eq!(mcp.outbox_len().await, 0, "nothing was created");
}
