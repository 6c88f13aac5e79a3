//! The last step of a handler that recorded its own effects: each event queued
//! for the webhooks of every member of the list it concerns, and the answer
//! each comes to.

use chrono::Utc;
use serde_json::json;

use super::{Delivery, HandleError, Handled, Verdicts};
use crate::store::{Fanout, Store};

/// An event whose own effect a handler has recorded (or found recorded).
#[derive(Debug)]
pub struct Recorded<'a> {
    pub delivery: &'a Delivery,
    /// False when this function had already recorded it (a redelivery).
    pub recorded: bool,
    /// What the answer shows non-Dapr callers.
    pub summary: serde_json::Value,
}

/// The last step of an event handler that has recorded its own effects: queues
/// each event for each webhook of each member of its list that does not have it
/// yet (once per webhook, however often and however concurrently the event is
/// delivered; one statement for the batch), and answers each with its summary
/// and how many were queued. Idempotent: a redelivered event queues nothing new
/// (except for a webhook registered meanwhile) and, if nothing else was
/// recorded, is a duplicate.
pub async fn queue_and_answer(store: &Store, events: Vec<Recorded<'_>>) -> Result<Verdicts, HandleError> {
    let now = Utc::now();
    let fanout: Vec<Fanout> = events
        .iter()
        .map(|e| {
            let delivery = e.delivery;
            let body = json!({ "type": delivery.ty.as_str(), "timestamp": now, "data": delivery.data });
            Fanout {
                event_id: delivery.id.clone(),
                list_id: delivery.data.list_id(),
                body: body.to_string(),
                reminder: delivery.ty == crate::event::EventType::Due,
            }
        })
        .collect();
    let queued = store.queue_fanout(&fanout, now).await?;
    Ok(events
        .into_iter()
        .zip(queued)
        .map(|(event, queued)| {
            if !event.recorded && queued == 0 {
                return Ok(Handled::Duplicate);
            }
            let mut summary = event.summary;
            if let Some(fields) = summary.as_object_mut() {
                fields.insert("webhooks_queued".into(), json!(queued));
            }
            Ok(Handled::Done(summary))
        })
        .collect())
}
