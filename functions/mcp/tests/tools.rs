//! The tools over the API's use cases, on both backends: what each stores, what
//! it refuses (as a tool error, storing nothing) and whom it lets see what.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestMcp;
use serde_json::{Value, json};
use todo_lib::access_tokens::Scope;

both_backends!(
    tools_are_listed_with_schemas_and_annotations,
    creating_a_task_stores_it_with_its_event,
    a_tool_call_with_invalid_input_is_a_tool_error_and_stores_nothing,
    no_user_reaches_another_users_tasks,
    list_tasks_takes_the_rest_apis_filters_and_refuses_unknown_ones,
    a_stale_expected_version_is_refused_and_changes_nothing,
    completing_reopening_and_deleting_go_through_the_use_cases,
    tags_notifications_and_activity_are_read_for_the_caller,
    a_call_without_a_token_is_refused_with_the_metadata_pointer,
    a_personal_access_token_calls_the_tools_its_scopes_allow,
    a_browser_on_a_foreign_origin_or_host_is_refused,
);

async fn tools_are_listed_with_schemas_and_annotations(mcp: TestMcp) {
    let answer = mcp.rpc(Some("alice"), "tools/list", json!({})).await;
    let tools = answer.result()["tools"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    for name in [
        "list_tasks",
        "get_task",
        "create_task",
        "update_task",
        "complete_task",
        "reopen_task",
        "delete_task",
        "list_tags",
        "list_notifications",
        "mark_notification_read",
        "task_activity",
        "list_lists",
        "create_list",
        "list_members",
        "add_member",
        "remove_member",
        "today",
        "add_tasks",
        "quick_add",
        "snooze_task",
        "user_info",
        "reschedule_tasks",
        "update_list",
        "delete_list",
        "change_member_role",
        "list_activity",
        "user_activity",
        "overview",
        "search",
        "fetch",
        "complete_tasks",
        "update_tasks",
        "create_invitation",
        "revoke_invitation",
        "find_completed_tasks",
        "move_task",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    // A fixed order: the same every time, tasks first.
    let again = mcp.rpc(Some("bob"), "tools/list", json!({})).await;
    let again: Vec<Value> = again.result()["tools"].as_array().cloned().unwrap_or_default();
    let again: Vec<&str> = again.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(again, names);
    assert_eq!(names.first(), Some(&"list_tasks"));
    let create = tools.iter().find(|t| t["name"] == "create_task").expect("listed");
    assert_eq!(create["inputSchema"]["type"], "object");
    assert!(create["inputSchema"]["properties"]["title"].is_object());
    assert_eq!(create["annotations"]["readOnlyHint"], false);
    let list = tools.iter().find(|t| t["name"] == "list_tasks").expect("listed");
    assert_eq!(list["annotations"]["readOnlyHint"], true);
}

async fn creating_a_task_stores_it_with_its_event(mcp: TestMcp) {
    let task = mcp
        .create(
            "alice",
            json!({
                "title": "Pay rent",
                "priority": "high",
                "tags": ["home"],
                "due_at": "2030-01-01T09:00:00Z",
                "recurrence": "FREQ=MONTHLY"
            }),
        )
        .await;
    assert_eq!(task["title"], "Pay rent");
    assert_eq!(task["priority"], "high");
    assert!(task["list_id"].is_string(), "it went to the Inbox: {task}");
    assert_eq!(mcp.outbox_len().await, 1, "task.created is in the outbox");

    let got = mcp.tool("alice", "get_task", json!({"id": task["id"]})).await;
    assert_eq!(got.structured()["id"], task["id"]);
    assert!(got.text().contains("Pay rent"), "{}", got.text());
}

async fn a_tool_call_with_invalid_input_is_a_tool_error_and_stores_nothing(mcp: TestMcp) {
    let empty = mcp.tool("alice", "create_task", json!({"title": "  "})).await;
    assert!(empty.is_tool_error());
    assert_eq!(empty.error_code(), "validation_failed");
    assert!(empty.text().contains("title"), "the text names the field: {}", empty.text());

    let unknown = mcp.tool("alice", "create_task", json!({"title": "x", "titel": "y"})).await;
    assert!(unknown.is_tool_error());
    assert_eq!(unknown.error_code(), "invalid_arguments");

    let bad_rule =
        mcp.tool("alice", "create_task", json!({"title": "x", "recurrence": "FREQ=SOMETIMES"})).await;
    assert!(bad_rule.is_tool_error());
    assert_eq!(bad_rule.error_fields()[0], "recurrence");

    assert_eq!(mcp.outbox_len().await, 0);
    let page = mcp.tool("alice", "list_tasks", json!({})).await;
    assert_eq!(page.structured()["items"], json!([]));
}

async fn no_user_reaches_another_users_tasks(mcp: TestMcp) {
    let task = mcp.create("alice", json!({"title": "Secret plan"})).await;
    let id = task["id"].clone();

    let seen = mcp.tool("mallory", "list_tasks", json!({"q": "Secret"})).await;
    assert_eq!(seen.structured()["items"], json!([]));
    for name in ["get_task", "complete_task", "reopen_task", "delete_task"] {
        let answer = mcp.tool("mallory", name, json!({"id": id})).await;
        assert!(answer.is_tool_error(), "{name}: {}", answer.body);
        assert_eq!(answer.error_code(), "not_found", "{name}");
    }
    // The activity of a task one cannot see is empty, as in the REST API.
    let activity = mcp.tool("mallory", "task_activity", json!({"id": id})).await;
    assert_eq!(activity.structured()["items"], json!([]));
    let changed = mcp.tool("mallory", "update_task", json!({"id": id, "title": "Mine"})).await;
    assert_eq!(changed.error_code(), "not_found");

    let still = mcp.tool("alice", "get_task", json!({"id": id})).await;
    assert_eq!(still.structured()["title"], "Secret plan");
    assert_eq!(still.structured()["completed"], false);
}

async fn list_tasks_takes_the_rest_apis_filters_and_refuses_unknown_ones(mcp: TestMcp) {
    mcp.create("alice", json!({"title": "Buy milk", "priority": "low", "tags": ["shop"]})).await;
    mcp.create("alice", json!({"title": "File taxes", "priority": "urgent", "tags": ["admin"]})).await;
    mcp.create("alice", json!({"title": "Buy stamps", "priority": "high", "tags": ["shop"]})).await;

    let titles = |answer: &common::Answer| -> Vec<String> {
        answer.structured()["items"]
            .as_array()
            .map(|items| items.iter().filter_map(|t| t["title"].as_str().map(String::from)).collect())
            .unwrap_or_default()
    };
    let searched = mcp.tool("alice", "list_tasks", json!({"q": "buy", "sort": "title"})).await;
    assert_eq!(titles(&searched), ["Buy milk", "Buy stamps"]);
    let urgent =
        mcp.tool("alice", "list_tasks", json!({"priority": "urgent,high", "sort": "priority"})).await;
    assert_eq!(titles(&urgent), ["File taxes", "Buy stamps"]);
    let tagged = mcp.tool("alice", "list_tasks", json!({"tag": ["shop"], "priority": ["low"]})).await;
    assert_eq!(titles(&tagged), ["Buy milk"]);

    let first = mcp.tool("alice", "list_tasks", json!({"limit": 2, "sort": "title"})).await;
    assert_eq!(titles(&first), ["Buy milk", "Buy stamps"]);
    let cursor = first.structured()["next_cursor"].clone();
    assert!(cursor.is_string(), "{}", first.body);
    let second =
        mcp.tool("alice", "list_tasks", json!({"limit": 2, "sort": "title", "cursor": cursor})).await;
    assert_eq!(titles(&second), ["File taxes"]);

    let typo = mcp.tool("alice", "list_tasks", json!({"prority": "high"})).await;
    assert!(typo.is_tool_error());
    assert_eq!(typo.error_code(), "invalid_arguments");
    assert_eq!(typo.error_fields()[0], "prority");
    let bad = mcp.tool("alice", "list_tasks", json!({"status": "finished"})).await;
    assert_eq!(bad.error_fields()[0], "status");
}

async fn a_stale_expected_version_is_refused_and_changes_nothing(mcp: TestMcp) {
    let task = mcp.create("alice", json!({"title": "Draft"})).await;
    let changed = mcp
        .tool("alice", "update_task", json!({"id": task["id"], "title": "Final", "expected_version": 1}))
        .await;
    assert!(!changed.is_tool_error(), "{}", changed.body);
    assert_eq!(changed.structured()["version"], 2);

    let stale = mcp
        .tool(
            "alice",
            "update_task",
            json!({"id": task["id"], "title": "Overwritten", "expected_version": 1}),
        )
        .await;
    assert!(stale.is_tool_error());
    assert_eq!(stale.error_code(), "precondition_failed");
    // In the tool's terms: its argument and the version to read again, not REST's If-Match.
    let said = stale.text();
    assert!(said.contains("expected_version") && said.contains("now at version 2"), "{said}");
    assert!(!said.contains("If-Match"), "{said}");

    let now = mcp.tool("alice", "get_task", json!({"id": task["id"]})).await;
    assert_eq!(now.structured()["title"], "Final");
    assert_eq!(mcp.outbox_len().await, 2, "created and one update, not the refused one");
}

async fn completing_reopening_and_deleting_go_through_the_use_cases(mcp: TestMcp) {
    let task = mcp
        .create(
            "alice",
            json!({"title": "Water plants", "recurrence": "FREQ=WEEKLY", "due_at": "2030-01-07T09:00:00Z"}),
        )
        .await;
    let id = task["id"].clone();

    let done = mcp.tool("alice", "complete_task", json!({"id": id})).await;
    assert_eq!(done.structured()["completed"], true);
    let again = mcp.tool("alice", "complete_task", json!({"id": id})).await;
    assert_eq!(
        again.structured()["version"],
        done.structured()["version"],
        "completing twice changes nothing"
    );
    let events: Vec<String> = mcp
        .db
        .store
        .unpublished_events(100)
        .await
        .expect("outbox reads")
        .iter()
        .map(|e| e.payload["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(events, ["task.created", "task.completed"]);

    let open = mcp.tool("alice", "reopen_task", json!({"id": id})).await;
    assert_eq!(open.structured()["completed"], false);

    let deleted = mcp.tool("alice", "delete_task", json!({"id": id})).await;
    assert_eq!(deleted.structured()["deleted"], id);
    let gone = mcp.tool("alice", "get_task", json!({"id": id})).await;
    assert_eq!(gone.error_code(), "not_found");
    assert_eq!(mcp.outbox_len().await, 4, "created, completed, reopened, deleted");
}

async fn tags_notifications_and_activity_are_read_for_the_caller(mcp: TestMcp) {
    mcp.create("alice", json!({"title": "a", "tags": ["home", "work"]})).await;
    mcp.create("alice", json!({"title": "b", "tags": ["home"]})).await;
    mcp.create("bob", json!({"title": "c", "tags": ["bobs"]})).await;

    let tags = mcp.tool("alice", "list_tags", json!({})).await;
    assert_eq!(tags.structured()["tags"], json!([{"tag": "home", "count": 2}, {"tag": "work", "count": 1}]));
    assert!(tags.text().contains("#home (2)"), "{}", tags.text());

    let notifications = mcp.tool("alice", "list_notifications", json!({"unread": true, "limit": 10})).await;
    assert_eq!(notifications.structured()["items"], json!([]));
    let bad = mcp.tool("alice", "list_notifications", json!({"limit": 0})).await;
    assert_eq!(bad.error_fields()[0], "limit");
    let missing = mcp.tool("alice", "mark_notification_read", json!({"id": uuid::Uuid::now_v7()})).await;
    assert_eq!(missing.error_code(), "not_found");
}

async fn a_call_without_a_token_is_refused_with_the_metadata_pointer(mcp: TestMcp) {
    let anonymous = mcp.rpc(None, "tools/list", json!({})).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let challenge =
        anonymous.headers.get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer ")
            && challenge
                .contains(r#"resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource""#),
        "{challenge}"
    );
    assert!(!challenge.contains("invalid_token"), "no token is not an invalid token: {challenge}");

    let forged = Request::post("/mcp")
        .header("host", "127.0.0.1")
        .header("authorization", "Bearer not-a-jwt")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#))
        .expect("valid request");
    let forged = mcp.raw(forged).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    let challenge = forged.headers.get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(challenge.contains(r#"error="invalid_token""#), "{challenge}");

    let metadata = Request::get("/.well-known/oauth-protected-resource")
        .header("host", "127.0.0.1:8080")
        .body(Body::empty())
        .expect("valid request");
    let metadata = mcp.raw(metadata).await;
    assert_eq!(metadata.status, StatusCode::OK);
    assert_eq!(metadata.body["resource"], "http://127.0.0.1:8080/mcp");
    assert_eq!(metadata.body["bearer_methods_supported"], json!(["header"]));
    assert_eq!(metadata.body["scopes_supported"], json!(["tasks:read", "tasks:write"]));
    assert_eq!(mcp.outbox_len().await, 0);
    let _: Value = metadata.body;
}

/// HTTP 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`
/// and the resource metadata, as the MCP authorization specification describes.
fn insufficient(answer: &common::Answer, scope: &str) {
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    let challenge = answer.headers["www-authenticate"].to_str().expect("ASCII");
    assert!(challenge.contains(r#"error="insufficient_scope""#), "{challenge}");
    assert!(challenge.contains(&format!(r#"scope="{scope}""#)), "{challenge}");
    assert!(challenge.contains("resource_metadata="), "{challenge}");
    assert_eq!(answer.body["error"]["code"], "insufficient_scope");
}

async fn a_personal_access_token_calls_the_tools_its_scopes_allow(mcp: TestMcp) {
    mcp.create("alice", json!({"title": "Existing"})).await;
    let reader = mcp.access_token("alice", &[Scope::TasksRead]).await;
    let call = |bearer: String, name: &'static str, arguments: Value| {
        let mcp = &mcp;
        async move {
            mcp.rpc_with(Some(&bearer), "tools/call", json!({"name": name, "arguments": arguments})).await
        }
    };

    let listed = call(reader.clone(), "list_tasks", json!({})).await;
    assert_eq!(listed.structured()["items"][0]["title"], "Existing", "it reads as alice");
    // Refused in HTTP's terms before the tool runs: 403 with the scope it needs.
    let refused = call(reader.clone(), "create_task", json!({"title": "Sneaky"})).await;
    insufficient(&refused, "tasks:write");
    assert_eq!(mcp.outbox_len().await, 1, "only the first task's event");

    let writer = mcp.access_token("alice", &[Scope::TasksWrite]).await;
    let made = call(writer.clone(), "create_task", json!({"title": "By token"})).await;
    assert!(!made.is_tool_error(), "{}", made.body);
    let blind = call(writer, "get_task", json!({"id": made.structured()["id"]})).await;
    insufficient(&blind, "tasks:read");

    let unknown = mcp.rpc_with(Some("todo_pat_unknown"), "tools/list", json!({})).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
}

async fn a_browser_on_a_foreign_origin_or_host_is_refused(mcp: TestMcp) {
    let call = |host: &'static str, origin: Option<&'static str>| {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "create_task", "arguments": {"title": "planted"},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": common::PROTOCOL,
                "io.modelcontextprotocol/clientCapabilities": {},
            }
        }});
        let mut req = Request::post("/mcp")
            .header("host", host)
            .header("authorization", format!("Bearer {}", common::token("alice")))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", common::PROTOCOL)
            .header("mcp-method", "tools/call")
            .header("mcp-name", "create_task");
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        let mcp = &mcp;
        async move { mcp.raw(req.body(Body::from(body.to_string())).expect("valid request")).await }
    };
    let foreign = call("127.0.0.1:8080", Some("https://evil.example")).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{}", foreign.body);
    let rebound = call("evil.example", None).await;
    assert_eq!(
        rebound.status,
        StatusCode::FORBIDDEN,
        "a Host that is not ours (DNS rebinding): {}",
        rebound.body
    );
    assert_eq!(mcp.outbox_len().await, 0, "neither planted a task");

    let local_page = call("127.0.0.1:8080", Some("http://127.0.0.1:8080")).await;
    assert_eq!(local_page.status, StatusCode::OK, "{}", local_page.body);
    assert_eq!(mcp.outbox_len().await, 1);
}
