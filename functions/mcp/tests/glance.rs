//! The tools that show the user's tasks at a glance, on both backends: the
//! Markdown `overview`, and the `search` and `fetch` pair that ChatGPT's
//! connectors call.

mod common;

use chrono::{Duration, Utc};
use common::TestMcp;
use serde_json::{Value, json};

both_backends!(
    overview_shows_what_is_overdue_today_and_coming_and_each_list_in_markdown,
    find_completed_tasks_gives_what_got_done_in_a_window_newest_first,
    search_and_fetch_find_tasks_and_give_them_whole_only_to_their_users,
);

async fn overview_shows_what_is_overdue_today_and_coming_and_each_list_in_markdown(mcp: TestMcp) {
    let now = Utc::now();
    mcp.create("alice", json!({"title": "Renew passport", "due_at": now - Duration::days(2)})).await;
    mcp.create(
        "alice",
        json!({"title": "Book flights", "due_at": now + Duration::days(3), "tags": ["trip"]}),
    )
    .await;
    mcp.create("alice", json!({"title": "Someday maybe"})).await;
    let list = mcp.tool("alice", "create_list", json!({"name": "Trip"})).await.structured()["id"].clone();
    mcp.create("alice", json!({"title": "Pack", "list_id": list})).await;
    mcp.create("bob", json!({"title": "Bob's secret", "due_at": now - Duration::days(1)})).await;

    let overview = mcp.tool("alice", "overview", json!({})).await;
    assert!(!overview.is_tool_error(), "{}", overview.body);
    let markdown = overview.structured()["markdown"].as_str().unwrap_or_default().to_owned();
    assert_eq!(overview.text(), markdown, "the text is the Markdown");
    let overdue = &markdown[markdown.find("## Overdue").expect("an overdue part")..];
    let today = markdown.find("## Today").expect("a today part");
    let coming = markdown.find("## Coming week").expect("a coming week part");
    let lists = markdown.find("## Lists").expect("a lists part");
    assert!(overdue.starts_with("## Overdue\n\n- Renew passport"), "{markdown}");
    assert!(
        markdown[coming..lists].contains("- Book flights (due ") && markdown[coming..lists].contains("#trip"),
        "{markdown}"
    );
    assert!(markdown[today..coming].contains("Nothing."), "{markdown}");
    assert!(markdown[lists..].contains("- **Trip** (owner): 1 open"), "{markdown}");
    assert!(markdown[lists..].contains("- **Inbox** (owner): 3 open"), "{markdown}");
    assert!(!markdown.contains("Bob's secret"), "{markdown}");
    assert_eq!(
        (overview.structured()["overdue"].clone(), overview.structured()["coming_week"].clone()),
        (json!(1), json!(1))
    );
    assert!(mcp.tool("alice", "overview", json!({"extra": 1})).await.is_tool_error());
}

/// Says `id` (of Alice's) was completed `ago`.
async fn completed_ago(mcp: &TestMcp, id: &Value, ago: Duration) {
    let id: uuid::Uuid = id.as_str().and_then(|s| s.parse().ok()).expect("a task id");
    let mut task = mcp.db.store.get_task("alice", id).await.expect("reads").expect("the task");
    task.completed_at = Some(Utc::now() - ago);
    let mut tx = mcp.db.store.begin().await.expect("tx");
    tx.update_task(&task, task.version).await.expect("backdated");
    tx.commit().await.expect("commit");
}

fn titles(answer: &Value) -> Vec<String> {
    let items = answer["items"].as_array().cloned().unwrap_or_default();
    items.iter().map(|t| t["title"].as_str().unwrap_or_default().to_owned()).collect()
}

async fn find_completed_tasks_gives_what_got_done_in_a_window_newest_first(mcp: TestMcp) {
    mcp.lives_in("alice", "Europe/Berlin").await;
    let mut done = Vec::new();
    for title in ["Old report", "Tax return", "Call mum"] {
        let id = mcp.create("alice", json!({"title": title})).await["id"].clone();
        let completed = mcp.tool("alice", "complete_task", json!({"id": id})).await;
        assert!(!completed.is_tool_error(), "{}", completed.body);
        done.push(id);
    }
    completed_ago(&mcp, &done[0], Duration::days(10)).await;
    completed_ago(&mcp, &done[1], Duration::days(3)).await;
    mcp.create("alice", json!({"title": "Still open"})).await;
    let bobs = mcp.create("bob", json!({"title": "Bob's secret"})).await["id"].clone();
    mcp.tool("bob", "complete_task", json!({"id": bobs})).await;

    let all = mcp.tool("alice", "find_completed_tasks", json!({})).await;
    assert!(!all.is_tool_error(), "{}", all.body);
    assert_eq!(titles(all.structured()), ["Call mum", "Tax return", "Old report"], "newest first, hers only");
    assert!(all.text().starts_with("3 tasks completed:"), "{}", all.text());
    assert!(all.text().contains("(completed "), "{}", all.text());

    let recent = mcp.tool("alice", "find_completed_tasks", json!({"completed_after": "yesterday"})).await;
    assert_eq!(titles(recent.structured()), ["Call mum"], "{}", recent.body);
    let window = mcp
        .tool(
            "alice",
            "find_completed_tasks",
            json!({"completed_after": "7 days ago", "completed_before": "yesterday"}),
        )
        .await;
    assert_eq!(titles(window.structured()), ["Tax return"], "{}", window.body);

    let since = (Utc::now() - Duration::days(11)).to_rfc3339();
    let first =
        mcp.tool("alice", "find_completed_tasks", json!({"completed_after": since, "limit": 2})).await;
    assert_eq!(titles(first.structured()), ["Call mum", "Tax return"]);
    let cursor = first.structured()["next_cursor"].clone();
    assert!(cursor.is_string(), "{}", first.body);
    let rest = mcp
        .tool(
            "alice",
            "find_completed_tasks",
            json!({"completed_after": since, "limit": 2, "cursor": cursor}),
        )
        .await;
    assert_eq!(titles(rest.structured()), ["Old report"], "{}", rest.body);
    assert!(rest.structured()["next_cursor"].is_null());

    let nothing = mcp.tool("alice", "find_completed_tasks", json!({"completed_after": "in 2 hours"})).await;
    assert_eq!(nothing.text(), "No task was completed in that time.");
    for (args, field) in [
        (json!({"completed_after": "when pigs fly"}), "completed_after"),
        (json!({"status": "open"}), "status"),
        (json!({"limit": 0}), "limit"),
        (json!({"list": "nope"}), "list"),
    ] {
        let refused = mcp.tool("alice", "find_completed_tasks", args.clone()).await;
        assert!(refused.is_tool_error(), "{args} was not refused: {}", refused.body);
        assert!(refused.error_fields().contains(&field.to_owned()), "{args}: {}", refused.body);
    }
}

async fn search_and_fetch_find_tasks_and_give_them_whole_only_to_their_users(mcp: TestMcp) {
    let made = mcp
        .create(
            "alice",
            json!({"title": "Call the plumber", "description": "About the leaking tap", "tags": ["home"]}),
        )
        .await;
    mcp.create("alice", json!({"title": "Water the plants"})).await;
    mcp.create("bob", json!({"title": "Bob's plumber"})).await;

    let found = mcp.tool("alice", "search", json!({"query": "leaking"})).await;
    assert!(!found.is_tool_error(), "{}", found.body);
    let results = found.structured()["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 1, "found by its description: {results:?}");
    assert_eq!(results[0]["id"], made["id"]);
    assert_eq!(
        results[0]["url"],
        format!("http://127.0.0.1:8080/?task={}", made["id"].as_str().unwrap_or_default())
    );
    let plumbers = mcp.tool("alice", "search", json!({"query": "plumber"})).await;
    let titles: Vec<Value> = plumbers.structured()["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| r["title"].clone())
        .collect();
    assert_eq!(titles, [json!("Call the plumber")], "only the user's own");
    assert!(mcp.tool("alice", "search", json!({})).await.is_tool_error());

    let document = mcp.tool("alice", "fetch", json!({"id": made["id"]})).await;
    assert!(!document.is_tool_error(), "{}", document.body);
    let text = document.structured()["text"].as_str().unwrap_or_default();
    assert!(text.starts_with("Call the plumber\n\nAbout the leaking tap"), "{text}");
    assert_eq!(document.structured()["metadata"]["tags"], json!(["home"]));
    assert_eq!(document.structured()["metadata"]["status"], "open");
    let stolen = mcp.tool("bob", "fetch", json!({"id": made["id"]})).await;
    assert_eq!(stolen.error_code(), "not_found");
}
