//! Facts written as the system writes them: each change of a task stored with its
//! event in one transaction, a reminder claimed as `cron-tick` claims it. Event
//! functions act only on events the outbox holds, so a test delivers these.

use chrono::{DateTime, Utc};

use todo_lib::event::{EventType, OutboxEvent, member_event, task_event};
use todo_lib::lists::{NewList, TaskList};
use todo_lib::members::{Member, Role};
use todo_lib::quota::Quotas;
use todo_lib::store::Store;
use todo_lib::task::{NewTask, Task, TaskPatch};
use todo_lib::webhook::Webhook;

/// `user`'s Inbox, created on first need as the API creates it.
pub async fn inbox(store: &Store, user: &str) -> TaskList {
    store.inbox_or_insert(&TaskList::inbox(user, Utc::now())).await.expect("the Inbox is stored")
}

/// A list named `name` made by `owner` and shared with `members` in their
/// roles, stored as the API stores it.
pub async fn shared_list(store: &Store, owner: &str, name: &str, members: &[(&str, Role)]) -> TaskList {
    let now = Utc::now();
    let input = NewList { name: Some(name.into()), ..NewList::default() };
    let list = TaskList::create(owner, input, now).expect("a valid list");
    let mut tx = store.begin().await.expect("a transaction opens");
    assert!(tx.insert_list(&list, Quotas::DEFAULT.lists_per_user).await.expect("the list is stored"));
    for (user, role) in members {
        tx.insert_member(&Member::new(list.id, user, *role, now)).await.expect("the member is stored");
    }
    tx.commit().await.expect("the list commits");
    list
}

/// `user` taken out of `list`, as the API removes a member.
pub async fn removed(store: &Store, list: &TaskList, user: &str) {
    let mut tx = store.begin().await.expect("a transaction opens");
    assert!(tx.delete_member(list.id, user).await.expect("the member is deleted"), "{user} was a member");
    tx.commit().await.expect("the removal commits");
}

/// `user` added to `list` as `role` by `actor`, stored with its
/// `list.member_added` event as the API stores them.
pub async fn joined(store: &Store, list: &TaskList, user: &str, role: Role, actor: &str) -> OutboxEvent {
    let member = Member::new(list.id, user, role, Utc::now());
    let mut tx = store.begin().await.expect("a transaction opens");
    tx.insert_member(&member).await.expect("the member is stored");
    let event = membership(EventType::MemberAdded, &member, actor);
    tx.write_event(&event, None).await.expect("the event is stored");
    tx.commit().await.expect("the member commits");
    event
}

/// `user` taken out of `list` by `actor`, stored with its
/// `list.member_removed` event as the API stores them.
pub async fn left(store: &Store, list: &TaskList, user: &str, actor: &str) -> OutboxEvent {
    let mut tx = store.begin().await.expect("a transaction opens");
    let member = tx.member(list.id, user).await.expect("the member reads").expect("a member");
    assert!(tx.delete_member(list.id, user).await.expect("the member is deleted"));
    let event = membership(EventType::MemberRemoved, &member, actor);
    tx.write_event(&event, None).await.expect("the event is stored");
    tx.commit().await.expect("the removal commits");
    event
}

fn membership(ty: EventType, member: &Member, actor: &str) -> OutboxEvent {
    member_event(ty, member, actor, "api", Utc::now()).expect("the event builds")
}

/// A new task of `user` from `input` (in `input.list_id`, else their Inbox),
/// stored with its `task.created` event.
pub async fn created(store: &Store, user: &str, input: NewTask, at: DateTime<Utc>) -> (Task, OutboxEvent) {
    let list = match input.list_id {
        Some(list) => list,
        None => inbox(store, user).await.id,
    };
    let task = Task::create(user, list, input, at).expect("a valid new task");
    let event = inserted(store, &task, at).await;
    (task, event)
}

/// `task`, built by the caller, stored with its `task.created` event of `at`.
pub async fn inserted(store: &Store, task: &Task, at: DateTime<Utc>) -> OutboxEvent {
    let event = task_event(EventType::Created, task, "api", at, None).expect("the event builds");
    let mut tx = store.begin().await.expect("a transaction opens");
    tx.insert_task(task).await.expect("the task is stored");
    tx.write_event(&event, None).await.expect("the event is stored");
    tx.commit().await.expect("the task commits");
    event
}

/// A new task of `user` titled `title`, stored with its `task.created` event.
pub async fn created_titled(store: &Store, user: &str, title: &str) -> (Task, OutboxEvent) {
    let input = NewTask { title: Some(title.into()), ..NewTask::default() };
    created(store, user, input, Utc::now()).await
}

/// `task` changed by `patch` at `at`, stored with its `task.updated` event.
pub async fn updated(store: &Store, task: &Task, patch: TaskPatch, at: DateTime<Utc>) -> (Task, OutboxEvent) {
    let next = task.patched(patch, at).expect("a valid patch").expect("the patch changes the task");
    changed(store, task, next, EventType::Updated, at).await
}

/// `task` marked done at `at`, stored with its `task.completed` event.
pub async fn completed(store: &Store, task: &Task, at: DateTime<Utc>) -> (Task, OutboxEvent) {
    let next = task.completed(at).expect("the task was open");
    changed(store, task, next, EventType::Completed, at).await
}

/// `task` open again at `at`, stored with its `task.updated` event.
pub async fn reopened(store: &Store, task: &Task, at: DateTime<Utc>) -> (Task, OutboxEvent) {
    let next = task.reopened(at).expect("the task was done");
    changed(store, task, next, EventType::Updated, at).await
}

/// `task` deleted at `at`, with its `task.deleted` event.
pub async fn deleted(store: &Store, task: &Task, at: DateTime<Utc>) -> OutboxEvent {
    let event = task_event(EventType::Deleted, task, "api", at, None).expect("the event builds");
    let mut tx = store.begin().await.expect("a transaction opens");
    tx.delete_task(task).await.expect("the task is deleted");
    tx.write_event(&event, None).await.expect("the event is stored");
    tx.commit().await.expect("the deletion commits");
    event
}

/// The `task.due` event of `task`'s reminder, claimed as `cron-tick` claims it
/// at `at` (the reminder must be due by then and not claimed yet).
pub async fn reminder(store: &Store, task: &Task, at: DateTime<Utc>) -> OutboxEvent {
    let mut tx = store.begin().await.expect("a transaction opens");
    let claimed = tx.claim_due_reminders(at, 1_000).await.expect("reminders are claimed");
    let due = claimed.iter().find(|t| t.id == task.id).expect("the task's reminder was due and unclaimed");
    let event = task_event(EventType::Due, due, "cron-tick", at, due.remind_at).expect("the event builds");
    let lease_until = todo_lib::clock::lease_end(at, todo_lib::outbox::CLAIM_LEASE);
    tx.write_event(&event, Some(lease_until)).await.expect("the event is stored");
    tx.commit().await.expect("the claim commits");
    event
}

async fn changed(
    store: &Store,
    task: &Task,
    next: Task,
    ty: EventType,
    at: DateTime<Utc>,
) -> (Task, OutboxEvent) {
    let event = task_event(ty, &next, "api", at, None).expect("the event builds");
    let mut tx = store.begin().await.expect("a transaction opens");
    tx.update_task(&next, task.version).await.expect("the change is stored");
    tx.write_event(&event, None).await.expect("the event is stored");
    tx.commit().await.expect("the change commits");
    (next, event)
}

/// A webhook of `user` at `url`, registered straight in the store as if it had
/// passed the API's checks.
pub async fn webhook(store: &Store, user: &str, url: &str) -> Webhook {
    let url = url::Url::parse(url).expect("a webhook URL");
    let hook = Webhook::new(user, &url, Utc::now()).expect("a random secret");
    let mut tx = store.begin().await.expect("a transaction opens");
    assert!(
        tx.insert_webhook(&hook, Quotas::DEFAULT.webhooks_per_user).await.expect("the webhook is stored"),
        "under the limit"
    );
    tx.commit().await.expect("the webhook commits");
    hook
}
