//! An event is acted on only as this system wrote it. Every task event is written
//! to the outbox in the transaction of its cause, with the id it is delivered
//! under; the delivered copy only names the fact (its id, type, user, task id,
//! task version and reminder time), and everything a function writes or sends
//! comes from the stored copy. A membership event is checked the same way by
//! its list, member and role. So a forged event (one nobody wrote, or a real id
//! with altered data) is dropped whoever can reach the event routes, and a
//! webhook body or a notification never carries text from the request.
//!
//! Events written before lists (data version 1) name no list: their task was
//! in its owner's Inbox, where the migration to lists put it, so that is the
//! list a handler sees.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::DateTime;
use uuid::Uuid;

use super::{Delivery, HandleError};
use crate::event::{EventData, LISTS_SINCE_VERSION, MemberEventData, OutboxEvent, TaskEventData};
use crate::lists::TaskList;
use crate::store::Store;

/// Replaces each delivery's data, time, source and subject with those of the
/// event stored under its id, read for the whole batch at once; a permanent
/// error for one with no stored event or whose delivered copy names another
/// fact. One verdict per delivery, in order.
pub(super) async fn take_stored(deliveries: &mut [Delivery], store: &Store) -> Vec<Result<(), HandleError>> {
    if deliveries.is_empty() {
        return Vec::new();
    }
    let ids: Vec<Uuid> = deliveries.iter().filter_map(|d| Uuid::parse_str(&d.id).ok()).collect();
    let mut stored: HashMap<Uuid, OutboxEvent> = match store.get_events(&ids).await {
        Ok(events) => events.into_iter().map(|e| (e.id, e)).collect(),
        Err(err) => {
            let err = Arc::new(err);
            return deliveries
                .iter()
                .map(|_| match err.is_permanent() {
                    true => Err(HandleError::Permanent(format!("the stored events cannot be read: {err}"))),
                    false => Err(HandleError::Transient(Arc::clone(&err))),
                })
                .collect();
        }
    };
    let mut verdicts = Vec::with_capacity(deliveries.len());
    for delivery in deliveries.iter_mut() {
        let event = Uuid::parse_str(&delivery.id).ok().and_then(|id| stored.remove(&id));
        verdicts.push(take(delivery, event, store).await);
    }
    verdicts
}

/// [`take_stored`] for one delivery and the event stored under its id.
async fn take(
    delivery: &mut Delivery,
    stored: Option<OutboxEvent>,
    store: &Store,
) -> Result<(), HandleError> {
    let stored = stored.ok_or_else(|| {
        HandleError::Permanent(format!(
            "no event with id '{}' was written by this system (forged, or pruned from the outbox \
             after 7 days): only the events it wrote are acted on",
            delivery.id
        ))
    })?;
    let id = stored.id;
    let payload = &stored.payload;
    let corrupt = |what: &str| HandleError::Permanent(format!("the stored event '{id}' has no valid {what}"));
    let forged = |field: &str| {
        HandleError::Permanent(format!(
            "the event's {field} differs from the event '{id}' this system wrote: refused as forged"
        ))
    };
    let time = match payload.get("time").and_then(serde_json::Value::as_str) {
        Some(time) => Some(DateTime::parse_from_rfc3339(time).map_err(|_| corrupt("time"))?.to_utc()),
        None => None,
    };
    if payload["type"].as_str() != Some(delivery.ty.as_str()) {
        return Err(forged("type"));
    }
    delivery.data = match &delivery.data {
        EventData::Task(given) => {
            let mut data: TaskEventData =
                serde_json::from_value(payload["data"].clone()).map_err(|_| corrupt("task event data"))?;
            if let Some(field) = task_mismatch(given, &data) {
                return Err(forged(field));
            }
            if data.version < LISTS_SINCE_VERSION {
                let inbox = TaskList::inbox(&data.user_id, chrono::Utc::now());
                data.task.list_id = store.inbox_or_insert(&inbox).await?.id;
            }
            EventData::Task(Box::new(data))
        }
        EventData::Member(given) => {
            let data: MemberEventData = serde_json::from_value(payload["data"].clone())
                .map_err(|_| corrupt("membership event data"))?;
            if let Some(field) = member_mismatch(given, &data) {
                return Err(forged(field));
            }
            EventData::Member(data)
        }
    };
    delivery.time = time;
    delivery.source = payload["source"].as_str().unwrap_or_default().to_owned();
    delivery.subject = payload["subject"].as_str().map(str::to_owned);
    Ok(())
}

/// The first identifying field in which the delivered task event differs
/// from the stored one.
fn task_mismatch(given: &TaskEventData, stored: &TaskEventData) -> Option<&'static str> {
    if given.user_id != stored.user_id {
        Some("user_id")
    } else if given.task.id != stored.task.id {
        Some("task id")
    } else if given.task.version != stored.task.version {
        Some("task version")
    } else if given.reminder_at != stored.reminder_at {
        Some("reminder_at")
    } else {
        None
    }
}

/// The same for a membership event.
fn member_mismatch(given: &MemberEventData, stored: &MemberEventData) -> Option<&'static str> {
    if given.list_id != stored.list_id {
        Some("list_id")
    } else if given.user_id != stored.user_id {
        Some("user_id")
    } else if given.role != stored.role {
        Some("role")
    } else {
        None
    }
}
