//! The handler of a function whose effect is the fact itself: an activity entry
//! in the list of the task (or of the membership change), once per event however often it is delivered, and the
//! event queued for the webhooks of every member of that list (once per
//! webhook; `cron-tick` sends them). `task-created` and
//! `task-changed` and `list-members` are this handler for their event types.

use async_trait::async_trait;
use serde_json::json;

use super::{Delivery, EventHandler, HandleError, Handled, queue_and_answer};
use crate::activity::Activity;
use crate::event::EventType;
use crate::store::Store;

#[derive(Debug)]
pub struct RecordFact {
    name: &'static str,
    accepts: &'static [EventType],
    store: Store,
}

impl RecordFact {
    /// Function `name` (its consumer id) recording the events of types `accepts`.
    pub fn new(name: &'static str, accepts: &'static [EventType], store: Store) -> Self {
        Self { name, accepts, store }
    }
}

#[async_trait]
impl EventHandler for RecordFact {
    fn name(&self) -> &'static str {
        self.name
    }

    fn accepts(&self) -> &'static [EventType] {
        self.accepts
    }

    async fn handle(&self, delivery: &Delivery) -> Result<Handled, HandleError> {
        let at = delivery.time.unwrap_or_else(chrono::Utc::now);
        let activity = Activity::of_data(delivery.ty, &delivery.id, &delivery.data, at);
        let recorded = self.store.record_activity_once(self.name, &activity, chrono::Utc::now()).await?;
        let summary = json!({ "activity_id": activity.id });
        queue_and_answer(&self.store, delivery, recorded, summary).await
    }
}
