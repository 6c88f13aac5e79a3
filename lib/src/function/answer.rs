//! The last step of a handler that recorded its own effect: the event queued for
//! the webhooks of every member of the list it concerns, and the answer it comes to.

use chrono::Utc;
use serde_json::json;

use super::{Delivery, HandleError, Handled};
use crate::store::Store;

/// The last step of an event handler that has recorded its own effect
/// (`recorded` is false for a duplicate): queues the event for each webhook of
/// each member of the task's list that does not have it yet (once per
/// webhook, however often and however concurrently the event is delivered), and answers with `summary` and how
/// many were queued. Idempotent: a redelivered event queues nothing new (except
/// for a webhook registered meanwhile) and, if nothing else was recorded, is a
/// duplicate.
pub async fn queue_and_answer(
    store: &Store,
    delivery: &Delivery,
    recorded: bool,
    mut summary: serde_json::Value,
) -> Result<Handled, HandleError> {
    let now = Utc::now();
    let data = &delivery.data;
    let body = json!({ "type": delivery.ty.as_str(), "timestamp": now, "data": data }).to_string();
    let queued = store.queue_webhook_deliveries(&delivery.id, data.list_id(), &body, now).await?;
    if !recorded && queued == 0 {
        return Ok(Handled::Duplicate);
    }
    if let Some(fields) = summary.as_object_mut() {
        fields.insert("webhooks_queued".into(), json!(queued));
    }
    Ok(Handled::Done(summary))
}
