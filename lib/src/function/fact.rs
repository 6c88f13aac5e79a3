//! The handler of a function whose effect is the fact itself: an activity entry
//! in the list of the task (or of the membership change), once per event however
//! often it is delivered, and the event queued for the webhooks of every member
//! of that list (once per webhook; `cron-tick` sends them). `task-created` and
//! `task-changed` and `list-members` are this handler for their event types. A
//! batch takes two statements on PostgreSQL (the entries, the webhook queue).

use async_trait::async_trait;
use serde_json::json;

use super::{Delivery, EventHandler, HandleError, Recorded, Verdicts, queue_and_answer};
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

    async fn handle(&self, batch: &[Delivery]) -> Result<Verdicts, HandleError> {
        let now = chrono::Utc::now();
        let activities: Vec<Activity> =
            batch.iter().map(|d| Activity::of_data(d.ty, &d.id, &d.data, d.time.unwrap_or(now))).collect();
        let written = self.store.record_activities_once(self.name, &activities, now).await?;
        let recorded = batch
            .iter()
            .zip(activities.iter().zip(written))
            .map(|(delivery, (activity, recorded))| Recorded {
                delivery,
                recorded,
                summary: json!({ "activity_id": activity.id }),
            })
            .collect();
        queue_and_answer(&self.store, recorded).await
    }
}
