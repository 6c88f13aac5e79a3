//! `task-due`: reacts to `task.due` by delivering the reminder as an in-app
//! notification, once per event, and queueing it for the user's webhooks (once
//! per webhook; `cron-tick` sends them, signed). A reminder whose task was
//! completed, deleted or moved since it was claimed (its stored reminder time is
//! no longer the event's) is skipped: it would only be noise (a moved one is
//! claimed again for its new time). The event is the one `cron-tick` stored
//! (see `todo_lib::function`), so its reminder time is always present.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use serde_json::json;
use todo_lib::event::EventType;
use todo_lib::function::{Delivery, EventHandler, HandleError, Handled};
use todo_lib::notification::Notification;
use todo_lib::serve::{BoxError, Context};
use todo_lib::store::Store;

/// The function's name: its Dapr app id and consumer id.
pub const NAME: &str = "task-due";

/// The event types it handles.
pub const ACCEPTS: &[EventType] = &[EventType::Due];

#[derive(Debug)]
pub struct TaskDue {
    store: Store,
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
        let data = &delivery.data;
        let current = self.store.get_task(&data.user_id, data.task.id).await?;
        let skip = match &current {
            None => Some("the task was deleted"),
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
        let notification = Notification::reminder(&delivery.id, data, now);
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
