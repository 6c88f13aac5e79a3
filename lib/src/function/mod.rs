//! What every event function shares: receiving CloudEvents in any of the forms
//! they arrive in, one or a batch at a time, checking the caller, acting only on
//! the events as this system stored them (`verify`), tracing, and answering in
//! the caller's protocol.
//!
//! A function implements [`EventHandler`] and gets its whole router from
//! [`router`]: `POST /` for events, `GET /healthz`, `GET /readyz`, and
//! `GET /dapr/subscribe` (empty: subscriptions are declarative).
//!
//! One path (`batch`): whatever the front door, the events become a batch (a
//! single event is a batch of one), each event id is handled once however often
//! it appears, and each event gets its own verdict. Front doors: a single
//! CloudEvent (structured, binary, or in Dapr's envelope) and Dapr's bulk
//! subscribe request (`bulk`); under AWS Lambda also the Kafka and SQS event
//! source payloads (`crate::serve`).
//!
//! Answering (DESIGN.md, "Delivery"): Dapr, recognised by the `pubsubname`
//! attribute of its envelope, always gets 200 with `SUCCESS`, `RETRY` (transient
//! failure) or `DROP` (an event that can never succeed; Dapr dead-letters it),
//! for a bulk request one per `entryId`. Anyone else gets 200 with a summary,
//! 400 for an invalid event, 503 for a transient failure.

mod answer;
mod app;
mod batch;
mod bulk;
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

pub use answer::{Recorded, queue_and_answer};
pub use app::{Fallbacks, assemble};
pub use batch::handle_batch;
pub use delivery::{Delivery, child_traceparent};
pub use fact::RecordFact;
pub use reply::{error, method_not_allowed, not_found};
pub use token::protect;

use crate::event::EventType;
use crate::store::{Store, StoreError};

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
    /// Shared by every event of a batch that failed as one.
    #[error("temporary failure")]
    Transient(#[source] Arc<StoreError>),
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
        if err.is_permanent() { Self::Unprocessable(err) } else { Self::Transient(Arc::new(err)) }
    }
}

/// One verdict per event of a batch, in the batch's order.
pub type Verdicts = Vec<Result<Handled, HandleError>>;

/// One event function.
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// The function's name: its consumer id for idempotency and its log label.
    fn name(&self) -> &'static str;

    /// The event types it handles; any other is dropped as misrouted.
    fn accepts(&self) -> &'static [EventType];

    /// Applies the effects of `batch` (events as this system stored them, each
    /// id once, of the types it accepts) once per event id, in as few
    /// statements and transactions as it can: one verdict per event, in order.
    ///
    /// `Err` is the batch failing as one (a statement its events share
    /// failed). Every effect is idempotent per event id, so an event partly
    /// applied before the failure is completed, not doubled, when it comes
    /// again. A transient failure retries the whole batch; any other is
    /// handled again event by event ([`handle_batch`]), so that only the event
    /// at fault is dropped.
    async fn handle(&self, batch: &[Delivery]) -> Result<Verdicts, HandleError>;
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

/// `POST /`: a Dapr bulk request, or one CloudEvent.
async fn receive(State(state): State<FunctionState>, headers: HeaderMap, body: Bytes) -> Response {
    let handler = state.handler.as_ref();
    if let Some(request) = bulk::BulkRequest::parse(&body) {
        let request = match request {
            Ok(request) => request,
            Err(reason) => return bulk::malformed(&reason),
        };
        let entries = request.entries(handler.accepts());
        let ids: Vec<String> = entries.iter().map(|e| e.entry_id.clone()).collect();
        let parsed = entries.into_iter().map(|e| e.delivery).collect();
        let verdicts = handle_batch(handler, &state.store, parsed).await;
        return bulk::answer(&ids, &verdicts);
    }
    let (via_dapr, parsed) = match Delivery::parse(&headers, body, handler.accepts()) {
        Ok(delivery) => (delivery.via_dapr, Ok(delivery)),
        Err(rejected) => (rejected.via_dapr, Err(rejected.reason)),
    };
    let event_id = parsed.as_ref().ok().map(|d| d.id.clone());
    let verdict = handle_batch(handler, &state.store, vec![parsed]).await.pop();
    let verdict = verdict.unwrap_or_else(|| Err(HandleError::Permanent("no verdict".into())));
    reply::reply(via_dapr, &verdict, event_id.as_deref())
}
