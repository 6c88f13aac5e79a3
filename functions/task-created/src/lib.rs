//! `task-created`: reacts to `task.created` by recording the activity entry, once
//! per event however often it is delivered, and sending the fact to the user's
//! webhooks (each one once; a receiver that fails transiently gets it again when
//! the event is redelivered).

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use serde_json::json;
use todo_lib::activity::Activity;
use todo_lib::event::EventType;
use todo_lib::function::{Delivery, EventHandler, HandleError, Handled};
use todo_lib::serve::{BoxError, Context};
use todo_lib::store::Store;
use todo_lib::webhook::{self, Deliverer};

/// The function's name: its Dapr app id and its consumer id.
pub const NAME: &str = "task-created";

#[derive(Debug)]
pub struct TaskCreated {
    store: Arc<dyn Store>,
    webhooks: Deliverer,
}

#[async_trait]
impl EventHandler for TaskCreated {
    fn name(&self) -> &'static str {
        NAME
    }

    fn accepts(&self) -> &'static [EventType] {
        &[EventType::Created]
    }

    async fn handle(&self, delivery: &Delivery) -> Result<Handled, HandleError> {
        let at = delivery.time.unwrap_or_else(chrono::Utc::now);
        let activity = Activity::of_event(delivery.ty, &delivery.id, &delivery.data, at);
        let recorded = self.store.record_activity(NAME, &activity).await?;
        let report =
            self.webhooks.deliver(self.store.as_ref(), &delivery.id, delivery.ty, &delivery.data).await?;
        webhook::handled(recorded, report, json!({ "activity_id": activity.id }))
    }
}

/// The function's router over `store`.
pub fn app(store: Arc<dyn Store>, app_token: Option<secrecy::SecretString>) -> Result<Router, BoxError> {
    let handler = Arc::new(TaskCreated { store: Arc::clone(&store), webhooks: Deliverer::new()? });
    Ok(todo_lib::function::router(handler, store, app_token))
}

/// Builds the function from the process's configuration; what `main` passes to `serve`.
pub async fn build(ctx: Context) -> Result<Router, BoxError> {
    app(ctx.store, ctx.config.app_api_token)
}
