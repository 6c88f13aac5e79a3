//! `task-completed`: reacts to `task.completed`. For a recurring task it creates
//! the next occurrence exactly once, under duplicate and concurrent deliveries
//! alike (a unique key on series and occurrence time), skipping occurrences already
//! in the past, in the list of the one completed (none once that list is
//! gone); the new task's `task.created` goes through the outbox. Every
//! next occurrence gets fresh copies of the subtasks beneath the one completed
//! (open, due as much later as their parent), each with its `task.created`. Every
//! completion also gets its activity entry in the task's list and is queued for
//! the webhooks of every member of that list.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::json;
use todo_lib::activity::Activity;
use todo_lib::clock::lease_end;
use todo_lib::event::{EventType, OutboxEvent, task_event};
use todo_lib::function::{Delivery, EventHandler, HandleError, Recorded, Verdicts, child_traceparent};
use todo_lib::outbox;
use todo_lib::publish::{self, Publisher};
use todo_lib::recurrence::SERIES_LOCK;
use todo_lib::serve::{BoxError, Context};
use todo_lib::store::{Store, StoreError, Tx};
use todo_lib::task::Task;
use uuid::Uuid;

/// The function's name: its Dapr app id, consumer id and event `source`.
pub const NAME: &str = "task-completed";

/// The event types it handles.
pub const ACCEPTS: &[EventType] = &[EventType::Completed];

#[derive(Debug)]
pub struct TaskCompleted {
    store: Store,
    publisher: Option<Arc<dyn Publisher>>,
}

/// What recording a completion came to.
#[derive(Debug, Clone)]
enum Completion {
    /// This consumer had already handled the event: nothing changed.
    Duplicate,
    /// Recorded; `created` holds the `task.created` events of the next
    /// occurrence and its subtasks' copies when they were created now (empty
    /// when there is none, or another delivery already created it).
    Recorded { created: Vec<OutboxEvent> },
}

/// One completion of a batch, ready to record.
struct Item<'a> {
    delivery: &'a Delivery,
    completed: Task,
    activity: Activity,
    /// Its next occurrence, for a recurring task (rolled forward unless its
    /// list is gone).
    next: Option<Task>,
}

impl TaskCompleted {
    /// Records each completion once per event, in one transaction for the
    /// batch: the activity entry and, for a recurring task, its next
    /// occurrence with fresh copies of the subtasks beneath the one completed,
    /// each with its `task.created` event (leased to this delivery, which
    /// publishes them). The occurrence is reserved by series and time, so it
    /// is created at most once whichever delivery or event asks. Series are
    /// locked in one order (by series id), so concurrent batches wait for each
    /// other rather than deadlock.
    async fn record(
        &self,
        items: &[Item<'_>],
        roll: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<Completion>, HandleError> {
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by_key(|&i| (items[i].completed.series_id, items[i].delivery.id.as_str()));
        let mut tx = self.store.begin().await?;
        let mut completions: Vec<Option<Completion>> = items.iter().map(|_| None).collect();
        for i in order {
            let item = &items[i];
            if !tx.claim_event(NAME, &item.delivery.id, now).await? {
                completions[i] = Some(Completion::Duplicate);
                continue;
            }
            let next = item.next.as_ref().filter(|_| roll);
            let created = roll_forward(&mut tx, item.delivery, &item.completed, next, now).await?;
            tx.insert_activity(&item.activity).await?;
            completions[i] = Some(Completion::Recorded { created });
        }
        tx.commit().await?;
        Ok(completions.into_iter().map(|c| c.unwrap_or(Completion::Duplicate)).collect())
    }
}

/// Creates `next`, the occurrence after `completed`, with copies of the
/// subtasks beneath it, unless the completion was taken back or another
/// delivery created it: the `task.created` events of what it created.
async fn roll_forward(
    tx: &mut Tx,
    delivery: &Delivery,
    completed: &Task,
    next: Option<&Task>,
    now: DateTime<Utc>,
) -> Result<Vec<OutboxEvent>, HandleError> {
    let mut created = Vec::new();
    let Some(next) = next else { return Ok(created) };
    let (Some(series), Some(due)) = (next.series_id, next.due_at) else { return Ok(created) };
    if !still_completed(tx, series, completed).await? || !tx.reserve_occurrence(series, due, next.id).await? {
        return Ok(created);
    }
    let shift = due - completed.due_at.unwrap_or(due);
    let mut copies: HashMap<Uuid, Task> = HashMap::from([(completed.id, next.clone())]);
    let mut fresh = vec![next.clone()];
    for subtask in tx.subtree(completed.id).await? {
        let Some(parent) = subtask.parent_id.and_then(|p| copies.get(&p)) else { continue };
        let copy = subtask.copy_under(parent, shift, now);
        fresh.push(copy.clone());
        copies.insert(subtask.id, copy);
    }
    for task in &fresh {
        let mut event = task_event(EventType::Created, task, NAME, now, None)?;
        // The trace of the completion continues through what it creates.
        event.set_traceparent(&child_traceparent(delivery.traceparent.as_deref()));
        tx.insert_task(task).await?;
        tx.write_event(&event, Some(lease_end(event.created_at, outbox::CLAIM_LEASE))).await?;
        created.push(event);
    }
    Ok(created)
}

/// Whether `completed` is still done (or deleted since), read under the
/// series lock that reopening holds too: a completion taken back before it
/// was handled rolls nothing forward.
async fn still_completed(tx: &mut Tx, series: Uuid, completed: &Task) -> Result<bool, StoreError> {
    tx.lock_user(SERIES_LOCK, &series.to_string()).await?;
    Ok(tx.task_by_id(completed.id).await?.is_none_or(|now| now.completed))
}

#[async_trait]
impl EventHandler for TaskCompleted {
    fn name(&self) -> &'static str {
        NAME
    }

    fn accepts(&self) -> &'static [EventType] {
        ACCEPTS
    }

    async fn handle(&self, batch: &[Delivery]) -> Result<Verdicts, HandleError> {
        let now = chrono::Utc::now();
        let items = batch.iter().map(|delivery| item(delivery, now)).collect::<Result<Vec<_>, _>>()?;
        let completions = match self.record(&items, true, now).await {
            // The task and then its list were deleted before this completion
            // was handled: the series ends with the list. (In a batch, each
            // completion is then handled alone, and lands here.)
            Err(HandleError::Unprocessable(StoreError::NoSuchList)) if items.len() == 1 => {
                tracing::info!(task_id = %items[0].completed.id, "the list of the series is gone: no next occurrence");
                self.record(&items, false, now).await?
            }
            other => other?,
        };
        let created: Vec<OutboxEvent> = completions
            .iter()
            .flat_map(|c| match c {
                Completion::Duplicate => &[][..],
                Completion::Recorded { created } => created.as_slice(),
            })
            .cloned()
            .collect();
        if let (false, Some(publisher)) = (created.is_empty(), &self.publisher) {
            outbox::publish_and_mark(&self.store, publisher.as_ref(), &created).await;
        }
        let recorded = items
            .iter()
            .zip(&completions)
            .map(|(item, completion)| {
                let created = match completion {
                    Completion::Duplicate => &[][..],
                    Completion::Recorded { created } => created.as_slice(),
                };
                let next_task = item.next.as_ref().filter(|_| !created.is_empty());
                let summary = json!({
                    "activity_id": item.activity.id,
                    "next_task_id": next_task.map(|t| t.id),
                    "next_due_at": next_task.and_then(|t| t.due_at),
                    "subtasks_copied": created.len().saturating_sub(1),
                });
                Recorded {
                    delivery: item.delivery,
                    recorded: matches!(completion, Completion::Recorded { .. }),
                    summary,
                }
            })
            .collect();
        todo_lib::function::queue_and_answer(&self.store, recorded).await
    }
}

/// The completion an event reports, with its activity entry and the next
/// occurrence its rule gives after `now`.
fn item(delivery: &Delivery, now: DateTime<Utc>) -> Result<Item<'_>, HandleError> {
    let data = delivery.task()?;
    let mut completed = data.task.clone();
    // The owner travels beside the task in the event data.
    completed.user_id = data.user_id.clone();
    let activity = Activity::of_event(delivery.ty, &delivery.id, data, delivery.time.unwrap_or(now));
    let next = completed.next_occurrence(now);
    Ok(Item { delivery, completed, activity, next })
}

/// The function's router over `store`, publishing next occurrences through `publisher`.
pub fn app(
    store: Store,
    publisher: Option<Arc<dyn Publisher>>,
    app_token: Option<secrecy::SecretString>,
) -> Router {
    let handler = Arc::new(TaskCompleted { store: store.clone(), publisher });
    todo_lib::function::router(handler, store, app_token)
}

/// Builds the function from the process's configuration; what `main` passes to `serve`.
pub async fn build(ctx: Context) -> Result<Router, BoxError> {
    let publisher = publish::from_config(&ctx.config)?;
    let token = ctx.event_route_token()?;
    Ok(app(ctx.store, publisher, token))
}
