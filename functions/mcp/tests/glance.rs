//! The tools that show the user's tasks at a glance, on both backends: the
//! Markdown `overview`, and the `search` and `fetch` pair that ChatGPT's
//! connectors call.

mod common;

use chrono::{Duration, Utc};
use common::TestMcp;
use serde_json::{Value, json};

both_backends!(
    overview_shows_what_is_overdue_today_and_coming_and_each_list_in_markdown,
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
