//! Completions in batches through Dapr's bulk subscribe, on PostgreSQL and
//! SQLite: every recurring task of the batch rolls forward exactly once
//! (duplicates inside the batch, and the batch redelivered whole, create
//! nothing more), and a completion whose list is gone (the batch's shared
//! transaction fails on it) is handled alone, ending its series, while the
//! rest of the batch rolls forward.

use chrono::{DateTime, TimeZone, Utc};
use todo_lib::event::OutboxEvent;
use todo_lib::lists::{NewList, TaskList};
use todo_lib::store::{ListQuery, StatusFilter};
use todo_lib::task::{NewTask, Task};
use todo_testing::bulk::BulkRequest;
use todo_testing::{TestDb, facts};

todo_testing::on_both_backends!(
    each_completion_of_a_batch_rolls_forward_exactly_once,
    a_completion_whose_list_is_gone_ends_its_series_alone,
);

fn utc(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2031, 5, d, 9, 0, 0).single().expect("valid time")
}

/// A daily task of alice titled `title` due on May `day` in `list` (her
/// Inbox when `None`), completed, with its `task.completed` event.
async fn completed(db: &TestDb, title: &str, day: u32, list: Option<uuid::Uuid>) -> (Task, OutboxEvent) {
    let list = match list {
        Some(list) => list,
        None => facts::inbox(&db.store, "alice").await.id,
    };
    let input = NewTask {
        title: Some(title.into()),
        due_at: Some(utc(day)),
        recurrence: Some("FREQ=DAILY".into()),
        list_id: Some(list),
        ..NewTask::default()
    };
    let task = Task::create("alice", list, input, Utc::now()).expect("valid");
    facts::inserted(&db.store, &task, Utc::now()).await;
    facts::completed(&db.store, &task, Utc::now()).await
}

/// Alice's open tasks: (title, due).
async fn open(db: &TestDb) -> Vec<(String, Option<DateTime<Utc>>)> {
    let mut q = ListQuery::new(Utc::now());
    q.status = StatusFilter::Open;
    let mut open: Vec<_> = db
        .store
        .list_tasks("alice", &q)
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|t| (t.title, t.due_at))
        .collect();
    open.sort();
    open
}

async fn each_completion_of_a_batch_rolls_forward_exactly_once(db: TestDb) {
    let app = task_completed::app(db.store.clone(), None, None);
    let (_, water) = completed(&db, "Water plants", 1, None).await;
    let (_, feed) = completed(&db, "Feed the cat", 3, None).await;
    let mut request = BulkRequest::on("task-completed");
    for event in [&water, &feed, &water] {
        request.cloud_event(event);
    }
    request.raw(&feed);
    assert_eq!(request.send(&app).await, vec!["SUCCESS"; 4]);
    let expected = vec![("Feed the cat".to_owned(), Some(utc(4))), ("Water plants".to_owned(), Some(utc(2)))];
    assert_eq!(open(&db).await, expected);
    assert_eq!(request.send(&app).await, vec!["SUCCESS"; 4], "redelivered whole");
    assert_eq!(open(&db).await, expected, "nothing rolled forward twice");
    assert_eq!(db.store.list_activity("alice", None, 10).await.expect("activity").len(), 2);
}

async fn a_completion_whose_list_is_gone_ends_its_series_alone(db: TestDb) {
    let app = task_completed::app(db.store.clone(), None, None);
    let input = NewList { name: Some("Chores".into()), ..NewList::default() };
    let chores = TaskList::create("alice", input, Utc::now()).expect("valid");
    let mut tx = db.store.begin().await.expect("begin");
    assert!(tx.insert_list(&chores, 200).await.expect("insert"), "under the limit");
    tx.commit().await.expect("commit");

    let (_, water) = completed(&db, "Water plants", 1, None).await;
    let (sweep, gone) = completed(&db, "Sweep", 2, Some(chores.id)).await;
    let (_, feed) = completed(&db, "Feed the cat", 3, None).await;
    facts::deleted(&db.store, &sweep, Utc::now()).await;
    db.store.delete_list(&chores).await.expect("the emptied list is deleted");

    let mut request = BulkRequest::on("task-completed");
    for event in [&water, &gone, &feed] {
        request.cloud_event(event);
    }
    assert_eq!(request.send(&app).await, ["SUCCESS", "SUCCESS", "SUCCESS"]);
    let expected = vec![("Feed the cat".to_owned(), Some(utc(4))), ("Water plants".to_owned(), Some(utc(2)))];
    assert_eq!(open(&db).await, expected, "no occurrence without its list; the others roll forward");
}
