//! What every event function shares: receiving a CloudEvent in any of the forms it
//! arrives in, checking the caller, acting only on the event as this system
//! stored it (`verify`), tracing, and answering in the caller's protocol.
//!
//! A function implements [`EventHandler`] and gets its whole router from
//! [`router`]: `POST /` for events, `GET /healthz`, `GET /readyz`, and
//! `GET /dapr/subscribe` (empty: subscriptions are declarative).
//!
//! Answering (DESIGN.md, "Delivery"): Dapr, recognised by the `pubsubname`
//! attribute of its envelope, always gets 200 with `SUCCESS`, `RETRY` (transient
//! failure) or `DROP` (an event that can never succeed; Dapr dead-letters it).
//! Anyone else gets 200 with a summary, 400 for an invalid event, 503 for a
//! transient failure.

mod answer;
mod app;
mod delivery;
mod fact;
mod reply;
mod token;
mod verify;

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use secrecy::SecretString;
use serde_json::Value;
use tracing::Instrument;

pub use answer::queue_and_answer;
pub use app::{Fallbacks, assemble};
pub use delivery::{Delivery, child_traceparent};
pub use fact::RecordFact;
pub use reply::{error, method_not_allowed, not_found};
pub use token::protect;

use crate::event::EventType;
use crate::store::{Store, StoreError};
use crate::telemetry::Chain;

/// What handling an event came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    /// Effects applied; the summary is shown to non-Dapr callers.
    Done(Value),
    /// This function had already handled this event id; nothing changed.
    Duplicate,
}

/// Why handling failed.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The event can never succeed (malformed, wrong type, invalid data): drop it.
    #[error("invalid event: {0}")]
    Permanent(String),
    /// Something it depends on is down; delivering again later may succeed.
    /// An unclassified database error is retried too: dropping would lose the
    /// event, and Dapr's resiliency policy bounds the retries, then dead-letters.
    #[error("temporary failure")]
    Transient(#[source] StoreError),
    /// What the event names cannot be stored, now or ever (its list is gone,
    /// a row it reads is corrupt): retrying would fail the same way, holding
    /// up its partition, so it is dropped (to the dead-letter topic).
    #[error("the event cannot be stored")]
    Unprocessable(#[source] StoreError),
    /// The function could not build what it writes (a bug): dropped, and logged
    /// with its cause.
    #[error("the function failed")]
    Bug(#[from] crate::event::EventError),
}

impl From<StoreError> for HandleError {
    /// Transient unless the store says that trying again cannot help.
    fn from(err: StoreError) -> Self {
        if err.is_permanent() { Self::Unprocessable(err) } else { Self::Transient(err) }
    }
}

/// One event function.
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// The function's name: its consumer id for idempotency and its log label.
    fn name(&self) -> &'static str;

    /// The event types it handles; any other is dropped as misrouted.
    fn accepts(&self) -> &'static [EventType];

    /// Applies the event's effects, once per event id.
    async fn handle(&self, delivery: &Delivery) -> Result<Handled, HandleError>;
}

#[derive(Clone)]
struct FunctionState {
    handler: Arc<dyn EventHandler>,
    store: Store,
}

/// The router of an event function. `app_token` is `APP_API_TOKEN`: when set,
/// every route but the health probes demands it in `dapr-api-token`.
pub fn router(handler: Arc<dyn EventHandler>, store: Store, app_token: Option<SecretString>) -> Router {
    let events = Router::new()
        .route("/", post(receive))
        .route("/dapr/subscribe", get(|| async { axum::Json(Vec::<Value>::new()) }))
        .with_state(FunctionState { handler, store: store.clone() });
    assemble(events, app_token, store, Fallbacks::EVENTS)
}

async fn receive(State(state): State<FunctionState>, headers: HeaderMap, body: Bytes) -> Response {
    let handler = &state.handler;
    let mut delivery = match Delivery::parse(&headers, body, handler.accepts()) {
        Ok(delivery) => delivery,
        Err(rejected) => {
            tracing::warn!(function = handler.name(), reason = %rejected.reason, "rejected an invalid event");
            crate::metrics::record_event(handler.name(), "dropped", std::time::Duration::ZERO);
            return reply::reply(rejected.via_dapr, &Err(HandleError::Permanent(rejected.reason)), None);
        }
    };
    let span = tracing::info_span!(
        "event",
        function = handler.name(),
        event_id = %delivery.id,
        event_type = delivery.ty.as_str(),
        subject = delivery.subject.as_deref().unwrap_or_default(),
        trace_id = delivery.trace_id().unwrap_or_default(),
    );
    async {
        let started = std::time::Instant::now();
        let result = match verify::take_stored(&mut delivery, &state.store).await {
            Ok(()) => handler.handle(&delivery).await,
            Err(refused) => Err(refused),
        };
        let outcome = match &result {
            Ok(Handled::Done(_)) => {
                tracing::info!("event handled");
                "success"
            }
            Ok(Handled::Duplicate) => {
                tracing::info!("duplicate delivery; nothing to do");
                "duplicate"
            }
            Err(HandleError::Permanent(reason)) => {
                tracing::warn!(%reason, "event dropped");
                "dropped"
            }
            Err(err @ (HandleError::Bug(_) | HandleError::Unprocessable(_))) => {
                tracing::error!(error = %Chain(err), "event dropped");
                "dropped"
            }
            Err(err @ HandleError::Transient(_)) => {
                tracing::warn!(error = %Chain(err), "event failed; will be retried");
                "retry"
            }
        };
        crate::metrics::record_event(handler.name(), outcome, started.elapsed());
        reply::reply(delivery.via_dapr, &result, Some(&delivery.id))
    }
    .instrument(span)
    .await
}
