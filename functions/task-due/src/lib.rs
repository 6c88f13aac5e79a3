//! `task-due`: reacts to `task.due` by delivering the reminder as an in-app
//! notification, once per event, to the task's assignee (unassigned, to its
//! creator), and queueing it for the webhooks of every member of the task's
//! list (once per webhook; `cron-tick` sends them, signed). The one reminded
//! must still be a member of the list: an assignee who left hands the reminder
//! to the creator, and when neither is a member nobody is reminded. A reminder
//! whose task was completed, deleted or moved since it was claimed (its stored
//! reminder time is no longer the event's) is skipped: it would only be noise
//! (a moved one is claimed again for its new time). The event is the one
//! `cron-tick` stored (see `todo_lib::function`), so its reminder time is
//! always present.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use serde_json::json;
use todo_lib::event::{EventType, TaskEventData};
use todo_lib::function::{Delivery, EventHandler, HandleError, Handled, Recorded, Verdicts};
use todo_lib::notification::Notification;
use todo_lib::serve::{BoxError, Context};
use todo_lib::store::{Store, StoreError};
use todo_lib::task::Task;
use uuid::Uuid;

/// The function's name: its Dapr app id and consumer id.
pub const NAME: &str = "task-due";

/// The event types it handles.
pub const ACCEPTS: &[EventType] = &[EventType::Due];

#[derive(Debug)]
pub struct TaskDue {
    store: Store,
}

/// Whom each reminder of `batch` is for: the assignee named in the event, else
/// the creator, whichever first still sees the task (it is in a list they are
/// a member of); with the task as it is now (`None` when neither does). One
/// read for the batch.
async fn recipients<'a>(
    store: &Store,
    batch: &'a [&'a TaskEventData],
) -> Result<Vec<(&'a str, Option<Task>)>, StoreError> {
    let candidates = |data: &'a TaskEventData| {
        data.task.assignee_id.iter().map(String::as_str).chain(std::iter::once(data.user_id.as_str()))
    };
    let asks: Vec<(&str, Uuid)> =
        batch.iter().flat_map(|data| candidates(data).map(|user| (user, data.task.id))).collect();
    let mut seen = store.tasks_seen(&asks).await?.into_iter();
    Ok(batch
        .iter()
        .map(|data| {
            let mut chosen = None;
            for (candidate, task) in candidates(data).zip(seen.by_ref()) {
                if chosen.is_none()
                    && let Some(task) = task
                {
                    chosen = Some((candidate, Some(task)));
                }
            }
            chosen.unwrap_or((data.user_id.as_str(), None))
        })
        .collect())
}

/// Why a reminder is not sent, if it is not.
fn skipped(data: &TaskEventData, current: Option<&Task>) -> Option<&'static str> {
    match current {
        None => Some("the task was deleted, or neither its assignee nor its creator is in its list"),
        Some(task) if task.completed => Some("the task was completed"),
        Some(task) if task.remind_at != data.reminder_at => Some("the reminder was moved"),
        Some(_) => None,
    }
}

#[async_trait]
impl EventHandler for TaskDue {
    fn name(&self) -> &'static str {
        NAME
    }

    fn accepts(&self) -> &'static [EventType] {
        ACCEPTS
    }

    async fn handle(&self, batch: &[Delivery]) -> Result<Verdicts, HandleError> {
        let data: Vec<&TaskEventData> = batch.iter().map(Delivery::task).collect::<Result<_, _>>()?;
        let recipients = recipients(&self.store, &data).await?;
        let now = chrono::Utc::now();
        let mut verdicts: Vec<Option<Result<Handled, HandleError>>> = Vec::with_capacity(batch.len());
        let (mut due, mut notifications) = (Vec::new(), Vec::new());
        for ((delivery, data), (recipient, current)) in batch.iter().zip(&data).zip(&recipients) {
            if let Some(reason) = skipped(data, current.as_ref()) {
                verdicts.push(Some(Ok(Handled::Done(json!({ "skipped": reason })))));
                continue;
            }
            verdicts.push(None);
            due.push(delivery);
            notifications.push(Notification::reminder(&delivery.id, data, recipient, now));
        }
        let written = self.store.record_notifications_once(NAME, &notifications, now).await?;
        let mut recorded = Vec::with_capacity(due.len());
        for ((delivery, notification), written) in due.into_iter().zip(&notifications).zip(written) {
            if let (true, Some(reminder_at)) = (written, notification.reminder_at) {
                todo_lib::metrics::record_reminder_lateness((now - reminder_at).as_seconds_f64());
            }
            let summary = json!({ "notification_id": notification.id });
            recorded.push(Recorded { delivery, recorded: written, summary });
        }
        let mut answered = todo_lib::function::queue_and_answer(&self.store, recorded).await?.into_iter();
        Ok(verdicts
            .into_iter()
            .map(|v| v.unwrap_or_else(|| answered.next().unwrap_or(Ok(Handled::Duplicate))))
            .collect())
    }
}

/// The function's router over `store`.
pub fn app(store: Store, app_token: Option<secrecy::SecretString>) -> Router {
    let handler = Arc::new(TaskDue { store: store.clone() });
    todo_lib::function::router(handler, store, app_token)
}

/// Builds the function from the process's configuration; what `main` passes to `serve`.
pub async fn build(ctx: Context) -> Result<Router, BoxError> {
    let token = ctx.event_route_token()?;
    Ok(app(ctx.store, token))
}
