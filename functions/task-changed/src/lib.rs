//! `task-changed`: reacts to `task.updated` and `task.deleted` by recording the
//! activity entry in the task's list, once per event however often it is
//! delivered, and queueing the fact for the webhooks of every member of that
//! list. Without it those topics would have no consumer: edits and deletions
//! would be missing from the history users see.

use std::sync::Arc;

use axum::Router;
use todo_lib::event::EventType;
use todo_lib::function::RecordFact;
use todo_lib::serve::{BoxError, Context};
use todo_lib::store::Store;

/// The function's name: its Dapr app id and its consumer id.
pub const NAME: &str = "task-changed";

/// The event types it handles, each on its own topic.
pub const ACCEPTS: &[EventType] = &[EventType::Updated, EventType::Deleted];

/// The function's router over `store`.
pub fn app(store: Store, app_token: Option<secrecy::SecretString>) -> Router {
    let handler = Arc::new(RecordFact::new(NAME, ACCEPTS, store.clone()));
    todo_lib::function::router(handler, store, app_token)
}

/// Builds the function from the process's configuration; what `main` passes to `serve`.
pub async fn build(ctx: Context) -> Result<Router, BoxError> {
    let token = ctx.event_route_token()?;
    Ok(app(ctx.store, token))
}
