//! The same `mcp` binary under AWS Lambda, behind a Function URL: stateless
//! MCP needs no session to survive between invocations, so one invocation is
//! one whole tool call. The Lambda Runtime API is the stand-in in `testing`.

mod common;

use std::process::Command;

use serde_json::{Value, json};
use todo_testing::lambda::{LambdaRuntime, REQUEST_ID, function_url_event};

const BIN: &str = env!("CARGO_BIN_EXE_mcp");

#[tokio::test]
async fn one_invocation_is_one_tool_call() {
    let dir = std::env::temp_dir().join(format!("todo-mcp-lambda-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/todo.db", dir.display());
    let migrated =
        Command::new(BIN).env_clear().env("DATABASE_URL", &url).arg("migrate").output().expect("migrate");
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));

    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
        "name": "create_task", "arguments": {"title": "from an assistant on Lambda"},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": common::PROTOCOL,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "1"}
        }
    }});
    let auth = format!("Bearer {}", common::token("alice"));
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", common::PROTOCOL),
        ("mcp-method", "tools/call"),
        ("mcp-name", "create_task"),
    ];
    let mut runtime = LambdaRuntime::start(function_url_event("POST", "/mcp", &headers, &call)).await;
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("JWT_SECRET", common::SECRET),
        // The Function URL's host is the one clients reach it at.
        ("MCP_PUBLIC_URL", "https://abc.lambda-url.eu-west-1.on.aws"),
    ];
    let answer = runtime.invoke(BIN, "mcp", &env).await;
    let _ = std::fs::remove_dir_all(&dir);

    let (what, body) = answer.expect("the function answered in time");
    assert_eq!(what, format!("response {REQUEST_ID}"), "{body}");
    assert_eq!(body["statusCode"], 200, "{body}");
    let rpc: Value = serde_json::from_str(body["body"].as_str().expect("a text body")).expect("JSON-RPC");
    assert_eq!(rpc["id"], 7);
    assert_eq!(rpc["result"]["isError"], false, "{rpc}");
    assert_eq!(rpc["result"]["structuredContent"]["title"], "from an assistant on Lambda");
}
