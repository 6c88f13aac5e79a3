//! The MCP server on the local host, driven by the official MCP client SDK (the
//! Python `mcp` package in target/python-tools) as an assistant would drive it:
//! tools listed, a reminder arriving, a recurring task rolled forward, bad input
//! refused, one user isolated from another, no token refused with the
//! protected-resource pointer. The second user comes with a personal access
//! token made through the API, the first with a JWT. The scenario is
//! tests/mcp_client.py.

mod common;

use std::process::Command;

use common::{Host, SECRET};
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

/// The issuer the host trusts, as `JWT_ISSUER` names it in production.
const ISSUER: &str = "https://issuer.example.test";

fn issued_token(user: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "sub": user, "iss": ISSUER, "iat": now, "exp": now + 3600 });
    encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).expect("token encodes")
}

#[tokio::test]
async fn the_official_mcp_client_manages_tasks_through_the_local_host() {
    let host = Host::start_with_env(&[("JWT_ISSUER", ISSUER), ("CRON_INTERVAL_MS", "200")]).await;
    let made = reqwest::Client::new()
        .post(host.url("/v1/tokens"))
        .bearer_auth(issued_token("bob"))
        .json(&json!({"name": "bob's assistant", "scopes": ["tasks:read", "tasks:write"]}))
        .send()
        .await
        .expect("the API answers");
    assert_eq!(made.status(), reqwest::StatusCode::CREATED);
    let made: serde_json::Value = made.json().await.expect("json");
    let bobs_token = made["token"].as_str().expect("the secret, shown once").to_owned();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let output = Command::new(todo_testing::python())
        .current_dir(root)
        .arg("tests/mcp_client.py")
        .env("MCP_URL", host.url("/mcp"))
        .env("ALICE_TOKEN", issued_token("alice"))
        .env("BOB_TOKEN", &bobs_token)
        .env("ISSUER", ISSUER)
        .output()
        .expect("python runs tests/mcp_client.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the MCP client failed:\n{stdout}\n{stderr}\n--- host ---\n{}",
        host.logs()
    );
    // Each step says it passed; a step that was skipped would be missing here.
    for step in
        ["tools listed", "reminder arrived", "next occurrence", "invalid input refused", "second user", "401"]
    {
        assert!(stdout.contains(step), "no '{step}' in:\n{stdout}");
    }
    println!("{stdout}");
}

/// The official TypeScript SDK, which validates each tool's structured content
/// against its output schema (the Python one does not): every tool, and
/// refusals reaching the client as text. The scenario is tests/mcp_client.mjs.
#[tokio::test]
async fn the_official_typescript_client_calls_every_tool_and_reads_refusals() {
    let host = Host::start_with_env(&[("JWT_ISSUER", ISSUER)]).await;
    let (url, alice) = (host.url("/mcp"), issued_token("alice"));
    let env = [("MCP_URL", url.as_str()), ("ALICE_TOKEN", alice.as_str())];
    let steps = ["tools listed", "every tool answered", "refusals reach the client as text"];
    common::node_scenario(&host, "tests/mcp_client.mjs", &env, &steps);
}
