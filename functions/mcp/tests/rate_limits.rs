//! The MCP server spends from the same budgets as the API: a tool that writes
//! from the user's writes, everything else from their reads, a request without
//! a valid token from its address's; past a budget, HTTP 429 with the IETF
//! headers, before the tool runs.

mod common;

use axum::http::StatusCode;
use common::TestMcp;
use serde_json::json;
use todo_lib::rate_limit::RateLimitConfig;

fn limited() -> api::limit::RateLimits {
    let config = RateLimitConfig {
        rate_limit_write_per_minute: 1,
        rate_limit_write_burst: 2,
        rate_limit_anonymous_per_minute: 1,
        rate_limit_anonymous_burst: 1,
        ..RateLimitConfig::default()
    };
    api::limit::RateLimits::from_config(&config).expect("limits")
}

#[tokio::test]
async fn tools_spend_from_the_users_budgets_and_are_refused_past_them() {
    let mcp = TestMcp::with_limits(todo_testing::sqlite().await, mcp::McpConfig::default(), limited());
    let create = |n: u32| json!({ "title": format!("task {n}") });
    for n in 0..2 {
        let made = mcp.tool("alice", "create_task", create(n)).await;
        assert!(!made.is_tool_error(), "{:?}", made.body);
        let state = made.headers.get("ratelimit").and_then(|h| h.to_str().ok()).unwrap_or_default();
        assert!(state.starts_with(&format!(r#""write";r={}"#, 1 - n)), "{state}");
    }
    let refused = mcp.tool("alice", "create_task", create(2)).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", refused.body);
    assert_eq!(refused.body["error"]["code"], "rate_limited");
    assert!(refused.headers.contains_key("retry-after"));
    assert_eq!(mcp.outbox_len().await, 2, "the refused call ran nothing");

    // Reading tools and listing spend from the reads; another user from their own.
    let listed = mcp.tool("alice", "list_tasks", json!({})).await;
    assert!(!listed.is_tool_error(), "{:?}", listed.body);
    let state = listed.headers.get("ratelimit").and_then(|h| h.to_str().ok()).unwrap_or_default();
    assert!(state.starts_with(r#""read";"#), "{state}");
    assert!(!mcp.tool("bob", "create_task", create(0)).await.is_tool_error());

    // Without a valid token: the address's budget, the challenge while it lasts.
    let first = mcp.rpc(None, "tools/list", json!({})).await;
    assert_eq!(first.status, StatusCode::UNAUTHORIZED);
    assert!(first.headers.contains_key("www-authenticate"));
    let second = mcp.rpc_with(Some("forged"), "tools/list", json!({})).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", second.body);
}
