//! The storage conformance suite: every test runs on PostgreSQL (a fresh database
//! per test) and on SQLite (in memory), and both must behave identically.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Duration, TimeZone, Utc};
use todo_lib::event::{EventType, OutboxEvent, task_event};
use todo_lib::lists::TaskList;
use todo_lib::store::{Cursor, ListQuery, Order, SortKey, StatusFilter, Store, StoreError, TagCount};
use todo_lib::task::{NewTask, Priority, Task, TaskPatch};
use todo_testing::TestDb;
use uuid::Uuid;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).single().expect("valid time")
}

/// The list the suite's tasks of `user` are in, its id derived from the name
/// so that building a task needs no database; [`ensure_inbox`] stores it.
fn inbox_id(user: &str) -> Uuid {
    let mut hasher = std::hash::DefaultHasher::new();
    user.hash(&mut hasher);
    Uuid::from_u64_pair(hasher.finish(), 0x15)
}

/// Stores `user`'s Inbox under [`inbox_id`] unless it is there already.
async fn ensure_inbox(db: &TestDb, user: &str) {
    let inbox = TaskList { id: inbox_id(user), ..TaskList::inbox(user, t0()) };
    let stored = db.store.inbox_or_insert(&inbox).await.expect("the Inbox is stored");
    assert_eq!(stored.id, inbox.id, "the suite makes every Inbox of its users");
}

fn task(user: &str, title: &str, now: DateTime<Utc>) -> Task {
    Task::create(user, inbox_id(user), NewTask { title: Some(title.into()), ..NewTask::default() }, now)
        .expect("valid task")
}

fn event(ty: EventType, task: &Task) -> OutboxEvent {
    task_event(ty, task, "test", task.updated_at, None).expect("event builds")
}

async fn insert(db: &TestDb, task: &Task) {
    ensure_inbox(db, &task.user_id).await;
    let mut tx = db.store.begin().await.expect("begin");
    tx.insert_task(task).await.expect("insert");
    tx.write_event(&event(EventType::Created, task), None).await.expect("event");
    tx.commit().await.expect("commit");
}

/// Writes `next` over the stored version `expected` with its event of type
/// `ty`, in one transaction, as the API does.
async fn update(db: &TestDb, next: &Task, expected: i64, ty: EventType) -> Result<(), StoreError> {
    let mut tx = db.store.begin().await?;
    tx.update_task(next, expected).await?;
    tx.write_event(&event(ty, next), None).await?;
    tx.commit().await
}

/// Deletes `task` as last read, with its event, in one transaction.
async fn delete(db: &TestDb, task: &Task) -> Result<(), StoreError> {
    let mut tx = db.store.begin().await?;
    tx.delete_task(task).await?;
    tx.write_event(&event(EventType::Deleted, task), None).await?;
    tx.commit().await
}

async fn list_all(db: &TestDb, user: &str, mut query: ListQuery) -> Vec<Task> {
    let mut out = Vec::new();
    for _ in 0..1000 {
        let page = db.store.list_tasks(user, &query).await.expect("list");
        out.extend(page.items);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return out,
        }
    }
    panic!("pagination did not end");
}

fn titles(tasks: &[Task]) -> Vec<&str> {
    tasks.iter().map(|t| t.title.as_str()).collect()
}

mod access_tokens;
mod bulk_publish;
mod changes;
mod list;
mod lists;
mod members;
mod outbox;
mod plans;
mod relay;
mod reminders;
mod retention;
mod task_counts;
mod tasks;
mod transactions;
mod webhooks;
