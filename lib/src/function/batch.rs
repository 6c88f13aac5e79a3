//! The one path every delivery takes, whatever its front door: a batch of
//! parsed events (a single event is a batch of one) becomes one verdict per
//! event. Each event id is handled once however often the batch repeats it;
//! the events are checked against the outbox in one read (`verify`); the
//! handler applies the rest together, and when it fails as one for a reason
//! that is not transient, each event is handled again on its own, so that the
//! event at fault is dropped alone and the others take effect.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tracing::Instrument;

use super::{Delivery, EventHandler, HandleError, Handled, Verdicts, verify};
use crate::store::{Store, StoreError};
use crate::telemetry::Chain;

/// Handles `parsed` (each entry an event, or why it is not one) with `handler`:
/// one verdict per entry, in order. Logs and meters each event's outcome.
pub async fn handle_batch(
    handler: &dyn EventHandler,
    store: &Store,
    parsed: Vec<Result<Delivery, String>>,
) -> Verdicts {
    let span = tracing::info_span!("events", function = handler.name(), count = parsed.len());
    async {
        let started = Instant::now();
        let labels: Vec<Option<Label>> = parsed.iter().map(|p| p.as_ref().ok().map(Label::of)).collect();
        let (events, copies, mut verdicts) = distinct(parsed);
        let (indices, mut deliveries): (Vec<usize>, Vec<Delivery>) = events.into_iter().unzip();
        let checks = verify::take_stored(&mut deliveries, store).await;
        let mut ready = Vec::with_capacity(deliveries.len());
        for ((index, delivery), check) in indices.into_iter().zip(deliveries).zip(checks) {
            match check {
                Ok(()) => ready.push((index, delivery)),
                Err(refused) => verdicts[index] = Some(Err(refused)),
            }
        }
        let (indices, batch): (Vec<usize>, Vec<Delivery>) = ready.into_iter().unzip();
        for (index, verdict) in indices.iter().zip(apply(handler, &batch).await) {
            verdicts[*index] = Some(verdict);
        }
        for (copy, first) in copies {
            verdicts[copy] = Some(repeated(verdicts[first].as_ref()));
        }
        let verdicts: Verdicts = verdicts
            .into_iter()
            .map(|v| v.unwrap_or_else(|| Err(HandleError::Permanent("the event was not handled".into()))))
            .collect();
        let elapsed = started.elapsed() / u32::try_from(verdicts.len().max(1)).unwrap_or(u32::MAX);
        for (label, verdict) in labels.iter().zip(&verdicts) {
            crate::metrics::record_event(handler.name(), log(label.as_ref(), verdict), elapsed);
        }
        verdicts
    }
    .instrument(span)
    .await
}

type Distinct = (Vec<(usize, Delivery)>, Vec<(usize, usize)>, Vec<Option<Result<Handled, HandleError>>>);

/// The events to handle (each id once, with its place in the batch), the
/// places that repeat an earlier one (with the place of the first), and the
/// verdicts known already (entries that are not events).
fn distinct(parsed: Vec<Result<Delivery, String>>) -> Distinct {
    let mut verdicts: Vec<Option<Result<Handled, HandleError>>> = Vec::with_capacity(parsed.len());
    let mut first: HashMap<String, usize> = HashMap::new();
    let (mut events, mut copies) = (Vec::new(), Vec::new());
    for (index, entry) in parsed.into_iter().enumerate() {
        match entry {
            Err(reason) => verdicts.push(Some(Err(HandleError::Permanent(reason)))),
            Ok(delivery) => {
                verdicts.push(None);
                match first.get(&delivery.id) {
                    Some(&earlier) => copies.push((index, earlier)),
                    None => {
                        first.insert(delivery.id.clone(), index);
                        events.push((index, delivery));
                    }
                }
            }
        }
    }
    (events, copies, verdicts)
}

/// The handler's verdicts for `batch`; event by event when the batch failed
/// as one for a reason that is not transient.
async fn apply(handler: &dyn EventHandler, batch: &[Delivery]) -> Verdicts {
    if batch.is_empty() {
        return Vec::new();
    }
    match handler.handle(batch).await {
        Ok(verdicts) if verdicts.len() == batch.len() => verdicts,
        Ok(verdicts) => {
            tracing::error!(
                events = batch.len(),
                verdicts = verdicts.len(),
                "the handler miscounted its verdicts"
            );
            let bug = StoreError::Corrupt(format!("{} verdicts for {} events", verdicts.len(), batch.len()));
            every(batch.len(), &Arc::new(bug))
        }
        Err(HandleError::Transient(err)) => {
            tracing::warn!(error = %Chain(&*err), events = batch.len(), "the batch failed; it will be retried");
            every(batch.len(), &err)
        }
        Err(err) if batch.len() == 1 => vec![Err(err)],
        Err(err) => {
            tracing::info!(error = %Chain(&err), events = batch.len(), "the batch failed as one; handling its events one by one");
            let mut verdicts = Vec::with_capacity(batch.len());
            for delivery in batch {
                let alone = handler.handle(std::slice::from_ref(delivery)).await;
                verdicts.push(match alone {
                    Ok(mut one) if one.len() == 1 => one.remove(0),
                    Ok(_) => Err(HandleError::Permanent("the handler gave no verdict".into())),
                    Err(err) => Err(err),
                });
            }
            verdicts
        }
    }
}

/// A transient failure shared by `n` events.
fn every(n: usize, err: &Arc<StoreError>) -> Verdicts {
    (0..n).map(|_| Err(HandleError::Transient(Arc::clone(err)))).collect()
}

/// The verdict of an event id met again in the same batch: handled by the
/// first, so a duplicate; the same failure when the first failed.
fn repeated(first: Option<&Result<Handled, HandleError>>) -> Result<Handled, HandleError> {
    match first {
        Some(Ok(_)) => Ok(Handled::Duplicate),
        Some(Err(HandleError::Transient(err))) => Err(HandleError::Transient(Arc::clone(err))),
        Some(Err(err)) => Err(HandleError::Permanent(format!("repeats an event that failed: {err}"))),
        None => Err(HandleError::Permanent("repeats an event that was not handled".into())),
    }
}

/// What an event's log lines name it by.
struct Label {
    id: String,
    ty: &'static str,
    subject: String,
    trace_id: String,
}

impl Label {
    fn of(delivery: &Delivery) -> Self {
        Self {
            id: delivery.id.clone(),
            ty: delivery.ty.as_str(),
            subject: delivery.subject.clone().unwrap_or_default(),
            trace_id: delivery.trace_id().unwrap_or_default().to_owned(),
        }
    }
}

/// Logs one event's outcome; its metric label.
fn log(label: Option<&Label>, verdict: &Result<Handled, HandleError>) -> &'static str {
    let event_id = label.map(|l| l.id.as_str()).unwrap_or_default();
    let event_type = label.map(|l| l.ty).unwrap_or_default();
    let subject = label.map(|l| l.subject.as_str()).unwrap_or_default();
    let trace_id = label.map(|l| l.trace_id.as_str()).unwrap_or_default();
    match verdict {
        Ok(Handled::Done(_)) => {
            tracing::info!(event_id, event_type, subject, trace_id, "event handled");
            "success"
        }
        Ok(Handled::Duplicate) => {
            tracing::info!(event_id, event_type, subject, trace_id, "duplicate delivery; nothing to do");
            "duplicate"
        }
        Err(HandleError::Permanent(reason)) => {
            tracing::warn!(event_id, event_type, subject, trace_id, %reason, "event dropped");
            "dropped"
        }
        Err(err @ (HandleError::Bug(_) | HandleError::Unprocessable(_))) => {
            tracing::error!(event_id, event_type, subject, trace_id, error = %Chain(err), "event dropped");
            "dropped"
        }
        Err(HandleError::Transient(_)) => {
            tracing::warn!(event_id, event_type, subject, trace_id, "event failed; will be retried");
            "retry"
        }
    }
}
