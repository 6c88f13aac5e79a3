//! A recurring task's subtasks, on PostgreSQL and SQLite: its next occurrence
//! gets fresh, open copies of every subtask beneath the one completed, in the
//! same shape and due as much later as their parent, each announced with
//! `task.created`, exactly once under duplicate and concurrent deliveries.

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use todo_lib::store::{ListQuery, StatusFilter};
use todo_lib::task::{NewTask, Task};
use todo_testing::{TestDb, deliver_via_dapr as deliver, facts};
use uuid::Uuid;

todo_testing::on_both_backends!(
    the_next_occurrence_gets_fresh_copies_of_the_subtasks_once,
    a_task_that_does_not_recur_copies_nothing,
);

fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("valid time")
}

/// Stores Alice's task `input` (in her Inbox).
async fn stored(db: &TestDb, input: NewTask) -> Task {
    let inbox = facts::inbox(&db.store, "alice").await;
    let task = Task::create("alice", inbox.id, input, Utc::now()).expect("valid");
    facts::inserted(&db.store, &task, Utc::now()).await;
    task
}

async fn under(db: &TestDb, parent: &Task, title: &str, due_at: Option<DateTime<Utc>>) -> Task {
    let input = NewTask {
        title: Some(title.into()),
        parent_id: Some(parent.id),
        due_at,
        remind_before_minutes: due_at.map(|_| 30),
        tags: Some(vec!["prep".into()]),
        ..NewTask::default()
    };
    stored(db, input).await
}

async fn open_tasks(db: &TestDb) -> Vec<Task> {
    let mut q = ListQuery::new(Utc::now());
    q.status = StatusFilter::Open;
    q.limit = 200;
    db.store.list_tasks("alice", &q).await.expect("list").items
}

async fn the_next_occurrence_gets_fresh_copies_of_the_subtasks_once(db: TestDb) {
    let due = utc(2031, 5, 1, 18);
    let weekly = NewTask {
        title: Some("Dinner party".into()),
        due_at: Some(due),
        recurrence: Some("FREQ=WEEKLY".into()),
        ..NewTask::default()
    };
    let top = stored(&db, weekly).await;
    let shop = under(&db, &top, "Shop", Some(due - Duration::hours(4))).await;
    let list = under(&db, &shop, "Write the list", None).await;
    let cook = under(&db, &top, "Cook", None).await;
    // Done as the API completes them: beneath the parent, with it.
    for task in [&list, &shop, &cook] {
        facts::completed(&db.store, task, Utc::now()).await;
    }
    let (_, completion) = facts::completed(&db.store, &top, Utc::now()).await;
    let before = db.store.unpublished_events(1000).await.expect("outbox").len();

    let app = task_completed::app(db.store.clone(), None, None);
    let (a, b) = tokio::join!(deliver(&app, &completion), deliver(&app, &completion));
    let again = deliver(&app, &completion).await;
    for answer in [a, b, again] {
        assert_eq!(answer, (StatusCode::OK, json!({ "status": "SUCCESS" })));
    }

    let open = open_tasks(&db).await;
    assert_eq!(open.len(), 4, "the next occurrence and three copies, once: {open:?}");
    let by_title: HashMap<&str, &Task> = open.iter().map(|t| (t.title.as_str(), t)).collect();
    let next = by_title["Dinner party"];
    assert_eq!(
        (next.due_at, next.parent_id, next.series_id),
        (Some(due + Duration::weeks(1)), None, Some(top.id))
    );
    let (shop2, list2, cook2) = (by_title["Shop"], by_title["Write the list"], by_title["Cook"]);
    assert_eq!(
        (shop2.parent_id, cook2.parent_id, list2.parent_id),
        (Some(next.id), Some(next.id), Some(shop2.id))
    );
    let shop_due = due - Duration::hours(4) + Duration::weeks(1);
    assert_eq!((shop2.due_at, shop2.remind_at), (Some(shop_due), Some(shop_due - Duration::minutes(30))));
    assert_eq!((list2.due_at, cook2.due_at), (None, None));
    for copy in [shop2, list2, cook2] {
        assert!(![shop.id, list.id, cook.id].contains(&copy.id), "a fresh task, not the old one");
        assert_eq!((copy.list_id, copy.version, copy.completed), (top.list_id, 1, false));
        assert_eq!(
            (copy.tags.clone(), copy.recurrence.clone(), copy.series_id),
            (vec!["prep".to_owned()], None, None)
        );
    }
    let old = db.store.get_task("alice", shop.id).await.expect("get").expect("the old one stays");
    assert_eq!((old.completed, old.parent_id), (true, Some(top.id)));

    let events = db.store.unpublished_events(1000).await.expect("outbox");
    let created: Vec<Uuid> = events[before..]
        .iter()
        .filter(|e| e.payload["type"] == "task.created")
        .map(|e| e.payload["subject"].as_str().expect("subject").parse().expect("uuid"))
        .collect();
    let mut expected = vec![next.id, shop2.id, list2.id, cook2.id];
    let mut got = created.clone();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected, "one task.created each");
    let parent_first =
        created.iter().position(|id| *id == shop2.id) < created.iter().position(|id| *id == list2.id);
    assert!(parent_first, "a copy's parent is announced before it");
}

async fn a_task_that_does_not_recur_copies_nothing(db: TestDb) {
    let top = stored(&db, NewTask { title: Some("Once".into()), ..NewTask::default() }).await;
    let child = under(&db, &top, "Part", None).await;
    facts::completed(&db.store, &child, Utc::now()).await;
    let (_, completion) = facts::completed(&db.store, &top, Utc::now()).await;
    let app = task_completed::app(db.store.clone(), None, None);
    assert_eq!(deliver(&app, &completion).await, (StatusCode::OK, json!({ "status": "SUCCESS" })));
    assert!(open_tasks(&db).await.is_empty(), "nothing new is open");
}
