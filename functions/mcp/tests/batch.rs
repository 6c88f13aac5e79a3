//! Many tasks changed in one call (`complete_tasks`, `update_tasks`; for
//! `reschedule_tasks` see workflows.rs), on both backends: all checked first,
//! so one bad item changes nothing, named by its place; then each changed with
//! its own event.

mod common;

use common::TestMcp;
use serde_json::{Value, json};

both_backends!(
    complete_tasks_completes_them_all_or_none,
    update_tasks_changes_them_all_or_none_naming_each_problem,
);

fn ids(tasks: &[&Value]) -> Value {
    Value::Array(tasks.iter().map(|t| t["id"].clone()).collect())
}

async fn complete_tasks_completes_them_all_or_none(mcp: TestMcp) {
    let (a, b) = (
        mcp.create("alice", json!({"title": "Dishes"})).await,
        mcp.create("alice", json!({"title": "Bins"})).await,
    );
    let bobs = mcp.create("bob", json!({"title": "Bob's"})).await;
    let before = mcp.outbox_len().await;
    let refused = mcp.tool("alice", "complete_tasks", json!({"ids": ids(&[&a, &bobs])})).await;
    assert_eq!(refused.error_code(), "validation_failed", "{}", refused.body);
    assert!(
        refused.text().contains("ids[1]") && refused.text().contains("no such task"),
        "{}",
        refused.text()
    );
    assert_eq!(mcp.outbox_len().await, before, "none completed");
    for bad in [json!({"ids": []}), json!({"ids": ["nope"]}), json!({"ids": [a["id"], a["id"]]}), json!({})] {
        let answer = mcp.tool("alice", "complete_tasks", bad.clone()).await;
        assert_eq!(answer.error_code(), "invalid_arguments", "{bad}: {}", answer.body);
    }

    let done = mcp.tool("alice", "complete_tasks", json!({"ids": ids(&[&a, &b])})).await;
    assert!(!done.is_tool_error(), "{}", done.body);
    let completed = done.structured()["completed"].as_array().cloned().unwrap_or_default();
    assert!(completed.len() == 2 && completed.iter().all(|t| t["completed"] == true), "{completed:?}");
    assert_eq!(mcp.outbox_len().await, before + 2, "one task.completed each");
    let again = mcp.tool("alice", "complete_tasks", json!({"ids": ids(&[&a])})).await;
    assert!(!again.is_tool_error(), "{}", again.body);
    assert_eq!(mcp.outbox_len().await, before + 2, "a done task stays as it is");
}

async fn update_tasks_changes_them_all_or_none_naming_each_problem(mcp: TestMcp) {
    let a = mcp.create("alice", json!({"title": "Draft"})).await;
    let b = mcp.create("alice", json!({"title": "Review"})).await;
    let before = mcp.outbox_len().await;
    let refused = mcp
        .tool(
            "alice",
            "update_tasks",
            json!({"tasks": [
                {"id": a["id"], "priority": "high", "due_at": "tomorrow 9am"},
                {"id": b["id"], "title": ""},
                {"id": b["id"], "expected_version": 7, "tags": ["x"]},
                {"id": "0190a000-0000-7000-8000-000000000000", "title": "Ghost"},
                {"id": a["id"], "colour": "red"},
            ]}),
        )
        .await;
    assert_eq!(refused.error_code(), "validation_failed", "{}", refused.body);
    let text = refused.text();
    for place in ["tasks[1].id", "tasks[2].id", "tasks[3].id", "tasks[4].colour"] {
        assert!(text.contains(place), "{place} in {text}");
    }
    assert!(!text.contains("tasks[0]"), "the valid one is not named: {text}");
    assert_eq!(mcp.outbox_len().await, before, "none changed");

    let changed = mcp
        .tool(
            "alice",
            "update_tasks",
            json!({"tasks": [
                {"id": a["id"], "priority": "high", "due_at": "tomorrow 9am", "expected_version": 1},
                {"id": b["id"], "title": "Review the draft", "tags": ["work"]},
            ]}),
        )
        .await;
    assert!(!changed.is_tool_error(), "{}", changed.body);
    let updated = changed.structured()["updated"].as_array().cloned().unwrap_or_default();
    assert_eq!(updated.len(), 2);
    assert_eq!((updated[0]["priority"].clone(), updated[0]["version"].clone()), (json!("high"), json!(2)));
    assert!(updated[0]["due_at"].is_string(), "the spoken date was read: {}", updated[0]);
    assert_eq!(
        (updated[1]["title"].clone(), updated[1]["tags"].clone()),
        (json!("Review the draft"), json!(["work"]))
    );
    assert_eq!(mcp.outbox_len().await, before + 2, "one task.updated each");
}
