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
use todo_lib::function::{Delivery, EventHandler, HandleError, Handled};
use todo_lib::notification::Notification;
use todo_lib::serve::{BoxError, Context};
use todo_lib::store::{Store, StoreError};
use todo_lib::task::Task;

/// The function's name: its Dapr app id and consumer id.
pub const NAME: &str = "task-due";

/// The event types it handles.
pub const ACCEPTS: &[EventType] = &[EventType::Due];

#[derive(Debug)]
pub struct TaskDue {
    store: Store,
}

impl TaskDue {
    /// Whom the reminder is for: the assignee named in the event, else the
    /// creator, whichever first still sees the task (it is in a list they are a
    /// member of); with the task as it is now (`None` when neither does).
    async fn recipient<'a>(&self, data: &'a TaskEventData) -> Result<(&'a str, Option<Task>), StoreError> {
        let candidates = data.task.assignee_id.iter().chain(std::iter::once(&data.user_id));
        for candidate in candidates {
            if let Some(task) = self.store.get_task(candidate, data.task.id).await? {
                return Ok((candidate, Some(task)));
            }
        }
        Ok((&data.user_id, None))
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

    async fn handle(&self, delivery: &Delivery) -> Result<Handled, HandleError> {
        let data = delivery.task()?;
        let (recipient, current) = self.recipient(data).await?;
        let skip = match &current {
            None => Some("the task was deleted, or neither its assignee nor its creator is in its list"),
            Some(task) if task.completed => Some("the task was completed"),
            Some(task) if task.remind_at != data.reminder_at => Some("the reminder was moved"),
            Some(_) => None,
        };
        if let Some(reason) = skip {
            return Ok(Handled::Done(json!({ "skipped": reason })));
        }
        let now = chrono::Utc::now();
        if let Some(reminder_at) = data.reminder_at {
            todo_lib::metrics::record_reminder_lateness((now - reminder_at).as_seconds_f64());
        }
        let notification = Notification::reminder(&delivery.id, data, recipient, now);
        let recorded = self.store.record_notification_once(NAME, &notification, now).await?;
        let summary = json!({ "notification_id": notification.id });
        todo_lib::function::queue_and_answer(&self.store, delivery, recorded, summary).await
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
