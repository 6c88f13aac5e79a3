//! `GET /v1/changes`: the changes feed through the API, on both backends.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, id_of};
use serde_json::{Value, json};

todo_testing::on_both_backends!(
    wrap = super::TestApp::with_db;
    the_feed_follows_a_users_changes_from_now,
    a_deletion_is_a_tombstone_and_others_see_nothing,
    a_reminder_arrives_as_a_notification,
    bad_cursors_and_parameters_are_refused_clearly,
    a_pruned_cursor_is_gone,
    a_task_moved_out_of_a_shared_list_leaves_without_its_new_state,
    a_new_member_sees_a_lists_changes_from_when_they_joined_not_its_history,
);

/// Alice's list with a past: a task created and deleted ("salary 123"), one
/// moved out to her Inbox ("medical"), one still there; then Dave joins as a
/// viewer. Returns the list's id.
pub(crate) async fn list_with_a_past_then_dave_joins(app: &TestApp) -> String {
    let res = app.send(Method::POST, "/v1/lists", Some("alice"), Some(json!({"name": "Team"}))).await;
    let list = id_of(&res.body);
    let salary =
        app.create("alice", json!({"title": "pay", "description": "salary 123", "list_id": list})).await;
    let gone = app.send(Method::DELETE, &format!("/v1/tasks/{}", id_of(&salary)), Some("alice"), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let medical =
        app.create("alice", json!({"title": "appointment", "description": "medical", "list_id": list})).await;
    let inbox = app.send(Method::GET, "/v1/lists", Some("alice"), None).await.body["items"]
        .as_array()
        .expect("lists")
        .iter()
        .find(|l| l["inbox"] == true)
        .map(id_of)
        .expect("an Inbox");
    let moved = app
        .send(
            Method::PATCH,
            &format!("/v1/tasks/{}", id_of(&medical)),
            Some("alice"),
            Some(json!({"list_id": inbox})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    app.create("alice", json!({"title": "still here", "list_id": list})).await;
    app.sign_in(&["dave"]).await;
    let added = app
        .send(
            Method::POST,
            &format!("/v1/lists/{list}/members"),
            Some("alice"),
            Some(json!({"user_id": "dave", "role": "viewer"})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    list
}

async fn a_new_member_sees_a_lists_changes_from_when_they_joined_not_its_history(app: TestApp) {
    let list = list_with_a_past_then_dave_joins(&app).await;
    app.create("alice", json!({"title": "after dave joined", "list_id": list})).await;

    let (seen, _) = changes(&app, "dave", "0-0", 2).await;
    let text = serde_json::to_string(&seen).expect("JSON");
    assert!(!text.contains("salary") && !text.contains("medical") && !text.contains("still here"), "{text}");
    assert_eq!(seen[0]["type"], "member", "his joining: {:?}", seen[0]);
    assert_eq!(summary(&seen[1..]), ["task.created after dave joined"]);
    // What is in the list now is what a first page shows him.
    let page = app.send(Method::GET, &format!("/v1/tasks?list={list}"), Some("dave"), None).await;
    let titles: Vec<&str> =
        page.body["items"].as_array().expect("items").iter().filter_map(|t| t["title"].as_str()).collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles.contains(&"still here") && titles.contains(&"after dave joined"), "{titles:?}");
}

/// Waits until the feed's horizon has passed every transaction committed so
/// far. On PostgreSQL, transactions of other tests on the same server hold it
/// back for a moment, and a change committed just before the head may come
/// again after it (the contract allows it); these tests want exact lists.
async fn settle(app: &TestApp) {
    let Some(pool) = app.db.store.pg_pool() else { return };
    let mark: i64 = sqlx::query_scalar("select pg_current_xact_id()::text::bigint")
        .fetch_one(pool)
        .await
        .expect("an xid");
    for _ in 0..500 {
        if app.db.store.changes_head().await.expect("head").xid >= mark {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the horizon did not pass transaction {mark} in 10 s");
}

/// The feed's `cursor` now, for `user`, after everything committed so far.
async fn head(app: &TestApp, user: &str) -> String {
    settle(app).await;
    let res = app.send(Method::GET, "/v1/changes", Some(user), None).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    assert_eq!(res.body["changes"], json!([]));
    assert_eq!(res.body["has_more"], false);
    res.body["cursor"].as_str().expect("a cursor").to_owned()
}

/// Every change after `cursor` (waiting, on PostgreSQL, for transactions of
/// other tests to stop holding the horizon back), and the cursor to resume.
async fn changes(app: &TestApp, user: &str, cursor: &str, expected: usize) -> (Vec<Value>, String) {
    let mut cursor = cursor.to_owned();
    let mut seen = Vec::new();
    for _ in 0..200 {
        let res =
            app.send(Method::GET, &format!("/v1/changes?cursor={cursor}&limit=2"), Some(user), None).await;
        assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
        seen.extend(res.body["changes"].as_array().expect("changes").iter().cloned());
        cursor = res.body["cursor"].as_str().expect("a cursor").to_owned();
        if seen.len() >= expected && res.body["has_more"] == false {
            // One more look: nothing else may follow.
            if seen.len() == expected {
                return (seen, cursor);
            }
            break;
        }
        if res.body["has_more"] == false {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    panic!("expected {expected} changes, saw {}: {seen:#?}", seen.len());
}

fn summary(changes: &[Value]) -> Vec<String> {
    changes
        .iter()
        .map(|c| match c["type"].as_str() {
            Some("task") => format!(
                "{} {}",
                c["event"].as_str().unwrap_or("?"),
                c["task"]["title"].as_str().unwrap_or("?")
            ),
            Some("notification") => {
                format!("notification {}", c["notification"]["title"].as_str().unwrap_or("?"))
            }
            other => format!("{other:?}"),
        })
        .collect()
}

async fn the_feed_follows_a_users_changes_from_now(app: TestApp) {
    app.create_titled("alice", "before").await;
    let start = head(&app, "alice").await;
    let task = app.create_titled("alice", "write report").await;
    let id = id_of(&task);
    let res = app
        .send(Method::PATCH, &format!("/v1/tasks/{id}"), Some("alice"), Some(json!({"priority": "high"})))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let res = app.send(Method::POST, &format!("/v1/tasks/{id}/complete"), Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::OK);

    let (seen, end) = changes(&app, "alice", &start, 3).await;
    assert!(
        ["task.created write report", "task.updated write report", "task.completed write report"]
            .iter()
            .all(|e| summary(&seen).contains(&(*e).to_owned())),
        "{:?}",
        summary(&seen)
    );
    let last = seen.last().expect("a change");
    assert_eq!(last["cursor"], end, "the page's cursor is its last change's");
    assert_eq!(last["task"]["completed"], true);
    assert_eq!(last["task"]["version"], 3, "a client keeps the highest version it saw");
    assert!(last["task"].get("user_id").is_none(), "the owner's id stays private");
    let versions: Vec<i64> = seen.iter().map(|c| c["task"]["version"].as_i64().expect("version")).collect();
    assert_eq!(versions, [1, 2, 3]);
}

async fn a_deletion_is_a_tombstone_and_others_see_nothing(app: TestApp) {
    let start = head(&app, "alice").await;
    let task = app.create_titled("alice", "short-lived").await;
    let res = app.send(Method::DELETE, &format!("/v1/tasks/{}", id_of(&task)), Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let (seen, _) = changes(&app, "alice", &start, 2).await;
    assert_eq!(summary(&seen), ["task.created short-lived", "task.deleted short-lived"]);
    assert_eq!(seen[1]["task"]["id"], task["id"]);

    let (seen, _) = changes(&app, "mallory", &start, 0).await;
    assert_eq!(seen, Vec::<Value>::new(), "another user's changes are not theirs to see");
}

async fn a_reminder_arrives_as_a_notification(app: TestApp) {
    let start = head(&app, "alice").await;
    let due = chrono::Utc::now() + chrono::Duration::minutes(10);
    let task =
        app.create("alice", json!({"title": "call mum", "due_at": due, "remind_before_minutes": 10})).await;
    let stored: todo_lib::task::Task = {
        let id: uuid::Uuid = id_of(&task).parse().expect("uuid");
        app.db.store.get_task("alice", id).await.expect("reads").expect("stored")
    };
    let fired = todo_testing::facts::reminder(&app.db.store, &stored, due).await;
    let data: todo_lib::event::TaskEventData =
        serde_json::from_value(fired.payload["data"].clone()).expect("data");
    let note = todo_lib::notification::Notification::reminder(&fired.id.to_string(), &data, "alice", due);
    assert!(app.db.store.record_notification_once("task-due", &note, due).await.expect("recorded"));

    let (seen, _) = changes(&app, "alice", &start, 2).await;
    assert_eq!(summary(&seen), ["task.created call mum", "notification call mum"]);
    assert_eq!(seen[1]["notification"]["task_id"], task["id"]);
}

async fn bad_cursors_and_parameters_are_refused_clearly(app: TestApp) {
    for (query, field) in [
        ("cursor=abc", "cursor"),
        ("cursor=1-2-3", "cursor"),
        ("cursor=-1-2", "cursor"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("since=1", "since"),
    ] {
        let res = app.send(Method::GET, &format!("/v1/changes?{query}"), Some("alice"), None).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{query}: {:?}", res.body);
        assert_eq!(res.code(), "invalid_query", "{query}");
        assert_eq!(res.detail_fields(), [field], "{query}");
    }
    let res = app.send(Method::GET, "/v1/changes", None, None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

async fn a_pruned_cursor_is_gone(app: TestApp) {
    let start = head(&app, "alice").await;
    let task = app.create_titled("alice", "old news").await;
    let id: uuid::Uuid = id_of(&task).parse().expect("uuid");
    let old = chrono::Utc::now() - chrono::Duration::days(8);
    for event in app.db.store.unpublished_events(100).await.expect("outbox") {
        if event.partition_key == id.to_string() {
            app.db.store.mark_published(event.id, old).await.expect("marked");
        }
    }
    let cutoff = chrono::Utc::now() - chrono::Duration::days(7);
    let retention = todo_lib::store::Retention {
        published_before: cutoff,
        processed_before: cutoff,
        deliveries_before: cutoff,
        links_expired_before: cutoff,
        limit: 100,
    };
    assert_eq!(app.db.store.prune(&retention).await.expect("pruned").outbox, 1);

    let res = app.send(Method::GET, &format!("/v1/changes?cursor={start}"), Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::GONE, "{:?}", res.body);
    assert_eq!(res.code(), "cursor_expired");
    let fresh = head(&app, "alice").await;
    let res = app.send(Method::GET, &format!("/v1/changes?cursor={fresh}"), Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::OK, "a fresh cursor works again");
}

async fn a_task_moved_out_of_a_shared_list_leaves_without_its_new_state(app: TestApp) {
    let res = app.send(Method::POST, "/v1/lists", Some("alice"), Some(json!({"name": "Trip"}))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    let trip = res.body["id"].as_str().expect("an id").to_owned();
    let path = format!("/v1/lists/{trip}/members");
    app.sign_in(&["bob"]).await;
    let res =
        app.send(Method::POST, &path, Some("alice"), Some(json!({"user_id": "bob", "role": "viewer"}))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    let task = app.create("alice", json!({"title": "passport", "list_id": trip})).await;
    let start = head(&app, "bob").await;

    let lists = app.send(Method::GET, "/v1/lists", Some("alice"), None).await;
    let inbox =
        lists.body["items"].as_array().expect("lists").iter().find(|l| l["inbox"] == true).expect("an Inbox");
    let moved = json!({"list_id": inbox["id"], "title": "private now"});
    let res =
        app.send(Method::PATCH, &format!("/v1/tasks/{}", id_of(&task)), Some("alice"), Some(moved)).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);

    let (seen, _) = changes(&app, "bob", &start, 1).await;
    assert_eq!(seen[0]["type"], "task_moved_out", "{seen:#?}");
    assert_eq!(
        (seen[0]["task_id"].clone(), seen[0]["from_list_id"].as_str()),
        (task["id"].clone(), Some(trip.as_str()))
    );
    assert!(!seen[0].to_string().contains("private now"), "the new state is not bob's to see");
    let (alice, _) = changes(&app, "alice", &start, 1).await;
    assert_eq!(summary(&alice), ["task.updated private now"], "the owner sees the task itself");
}
