//! The bus needs the functions' routers, and the functions (the API, `cron-tick`,
//! `task-completed`) need the bus to publish through: they get this handle first,
//! and the bus is put in it once wired.

use std::sync::OnceLock;

use crate::bus::InProcessBus;
use async_trait::async_trait;
use todo_lib::event::OutboxEvent;
use todo_lib::publish::{PublishError, Publisher, Unsent};

#[derive(Debug, Default)]
pub(crate) struct LateBus(OnceLock<InProcessBus>);

impl LateBus {
    /// Puts the wired bus in place; later calls change nothing.
    pub(crate) fn wire(&self, bus: InProcessBus) {
        if self.0.set(bus).is_err() {
            tracing::warn!("the in-process bus was wired twice; keeping the first");
        }
    }
}

#[async_trait]
impl Publisher for LateBus {
    async fn publish(&self, event: &OutboxEvent) -> Result<(), PublishError> {
        // Before wiring, the event stays in the outbox and the cron sends it later.
        match self.0.get() {
            Some(bus) => bus.publish(event).await,
            None => Err(PublishError::NotReady),
        }
    }

    async fn publish_batch(&self, events: &[OutboxEvent]) -> Vec<Unsent> {
        match self.0.get() {
            Some(bus) => bus.publish_batch(events).await,
            None => {
                let reason = PublishError::NotReady.to_string();
                events.iter().map(|e| Unsent { id: e.id, reason: reason.clone() }).collect()
            }
        }
    }
}
