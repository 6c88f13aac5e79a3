//! Facts written as the system writes them: each change of a task stored with its
//! event in one transaction, a reminder claimed as `cron-tick` claims it. Event
//! functions act only on events the outbox holds, so a test delivers these.

use chrono::{DateTime, Utc};

use todo_lib::event::{EventType, OutboxEvent, task_event};
use todo_lib::store::Store;
use todo_lib::task::{NewTask, Task, TaskPatch};

/// A new task of `user` from `input`, stored with its `task.created` event.
pub async fn created(
    store: &dyn Store,
    user: &str,
    input: NewTask,
    at: DateTime<Utc>,
) -> (Task, OutboxEvent) {
    let task = Task::create(user, input, at).expect("a valid new task");
    let event = task_event(EventType::Created, &task, "api", at, None).expect("the event builds");
    store.insert_task(&task, &event).await.expect("the task is stored");
    (task, event)
}

/// A new task of `user` titled `title`, stored with its `task.created` event.
pub async fn created_titled(store: &dyn Store, user: &str, title: &str) -> (Task, OutboxEvent) {
    let input = NewTask { title: Some(title.into()), ..NewTask::default() };
    created(store, user, input, Utc::now()).await
}

/// `task` changed by `patch` at `at`, stored with its `task.updated` event.
pub async fn updated(
    store: &dyn Store,
    task: &Task,
    patch: TaskPatch,
    at: DateTime<Utc>,
) -> (Task, OutboxEvent) {
    let next = task.patched(patch, at).expect("a valid patch").expect("the patch changes the task");
    changed(store, task, next, EventType::Updated, at).await
}

/// `task` marked done at `at`, stored with its `task.completed` event.
pub async fn completed(store: &dyn Store, task: &Task, at: DateTime<Utc>) -> (Task, OutboxEvent) {
    let next = task.completed(at).expect("the task was open");
    changed(store, task, next, EventType::Completed, at).await
}

/// `task` open again at `at`, stored with its `task.updated` event.
pub async fn reopened(store: &dyn Store, task: &Task, at: DateTime<Utc>) -> (Task, OutboxEvent) {
    let next = task.reopened(at).expect("the task was done");
    changed(store, task, next, EventType::Updated, at).await
}

/// `task` deleted at `at`, with its `task.deleted` event.
pub async fn deleted(store: &dyn Store, task: &Task, at: DateTime<Utc>) -> OutboxEvent {
    let event = task_event(EventType::Deleted, task, "api", at, None).expect("the event builds");
    store.delete_task(task, &event).await.expect("the task is deleted");
    event
}

/// The `task.due` event of `task`'s reminder, claimed as `cron-tick` claims it
/// at `at` (the reminder must be due by then and not claimed yet).
pub async fn reminder(store: &dyn Store, task: &Task, at: DateTime<Utc>) -> OutboxEvent {
    let claimed = store
        .claim_due_reminders(at, 1_000, "cron-tick", todo_lib::outbox::CLAIM_LEASE)
        .await
        .expect("reminders are claimed");
    let subject = task.id.to_string();
    claimed
        .into_iter()
        .find(|event| event.payload["subject"] == subject.as_str())
        .expect("the task's reminder was due and unclaimed")
}

async fn changed(
    store: &dyn Store,
    task: &Task,
    next: Task,
    ty: EventType,
    at: DateTime<Utc>,
) -> (Task, OutboxEvent) {
    let event = task_event(ty, &next, "api", at, None).expect("the event builds");
    store.update_task(&next, task.version, &event).await.expect("the change is stored");
    (next, event)
}
