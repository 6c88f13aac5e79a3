//! `list-members` on PostgreSQL and SQLite: a member added or removed gets
//! one activity entry in the list, however often and however concurrently the
//! event is delivered, seen by every member as membership stands; the event
//! reaches the webhooks of the list's members (the newcomer's included, the
//! leaver's not); a forged or misrouted event is dropped and writes nothing.

use axum::http::StatusCode;
use serde_json::{Value, json};
use todo_lib::members::Role;
use todo_testing::{TestDb, call as post, deliver_via_dapr, facts, structured};

todo_testing::on_both_backends!(
    a_member_added_is_recorded_once_and_reaches_every_members_webhooks,
    a_member_who_leaves_is_recorded_and_their_webhooks_get_nothing_of_it,
    forged_and_misrouted_events_are_dropped_and_write_nothing,
);

/// Alice's list shared with Carol, and a webhook for each of Alice, Carol,
/// Bob (who is to join) and Dave (who never does).
async fn household(db: &TestDb) -> todo_lib::lists::TaskList {
    let list = facts::shared_list(&db.store, "alice", "Household", &[("carol", Role::Editor)]).await;
    for user in ["alice", "carol", "bob", "dave"] {
        facts::webhook(&db.store, user, &format!("https://{user}.example.com/hook")).await;
    }
    list
}

fn queued(answer: &(StatusCode, Value)) -> i64 {
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
    answer.1["result"]["webhooks_queued"].as_i64().unwrap_or(0)
}

async fn a_member_added_is_recorded_once_and_reaches_every_members_webhooks(db: TestDb) {
    let list = household(&db).await;
    let event = facts::joined(&db.store, &list, "bob", Role::Viewer, "alice").await;
    let app = list_members::app(db.store.clone(), None);
    let request = || structured(&event.payload);
    let (first, second) = tokio::join!(post(&app, request()), post(&app, request()));
    assert_eq!(queued(&first) + queued(&second), 3, "Alice's, Carol's and Bob's: {first:?} {second:?}");
    let again = post(&app, request()).await;
    assert_eq!(again.1["status"], "duplicate", "{again:?}");
    assert_eq!(deliver_via_dapr(&app, &event).await, (StatusCode::OK, json!({ "status": "SUCCESS" })));

    for (user, sees) in [("alice", 1), ("carol", 1), ("bob", 1), ("dave", 0)] {
        let entries = db.store.list_activity_in(user, list.id, 10).await.expect("activity");
        assert_eq!(entries.len(), sees, "{user} in the list's activity");
        if let Some(entry) = entries.first() {
            assert_eq!(
                (entry.kind.as_str(), entry.summary.as_str(), entry.task_id, entry.event_id.clone()),
                ("list.member_added", "alice added bob as viewer", None, event.id.to_string())
            );
        }
    }
}

async fn a_member_who_leaves_is_recorded_and_their_webhooks_get_nothing_of_it(db: TestDb) {
    let list = household(&db).await;
    let event = facts::left(&db.store, &list, "carol", "carol").await;
    let app = list_members::app(db.store.clone(), None);
    let answer = post(&app, structured(&event.payload)).await;
    assert_eq!(queued(&answer), 1, "only Alice's webhook: Carol left. {answer:?}");
    let alices = db.store.list_activity_in("alice", list.id, 10).await.expect("activity");
    assert_eq!(
        alices.iter().map(|a| (a.kind.as_str(), a.summary.as_str())).collect::<Vec<_>>(),
        [("list.member_removed", "carol left")]
    );
    assert!(db.store.list_activity_in("carol", list.id, 10).await.expect("activity").is_empty());
}

async fn forged_and_misrouted_events_are_dropped_and_write_nothing(db: TestDb) {
    let list = household(&db).await;
    let real = facts::joined(&db.store, &list, "bob", Role::Viewer, "alice").await;
    let app = list_members::app(db.store.clone(), None);
    // The real id with an owner's role claimed instead of a viewer's.
    let mut promoted = real.clone();
    promoted.payload["data"]["role"] = json!("owner");
    // An event nobody wrote.
    let mut invented = real.clone();
    invented.payload["id"] = json!(uuid::Uuid::now_v7().to_string());
    invented.id = uuid::Uuid::now_v7();
    // A task event sent to the membership function.
    let (_, created) = facts::created_titled(&db.store, "alice", "Buy milk").await;
    for event in [&promoted, &invented, &created] {
        let answer = deliver_via_dapr(&app, event).await;
        assert_eq!(answer, (StatusCode::OK, json!({ "status": "DROP" })), "{}", event.payload);
    }
    assert!(db.store.list_activity_in("alice", list.id, 10).await.expect("activity").is_empty());
}
