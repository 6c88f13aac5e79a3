//! `list-members`: reacts to `list.member_added` and `list.member_removed` by
//! recording the activity entry in the list (who joined or left, as what, by
//! whose doing), once per event however often it is delivered, and queueing
//! the fact for the webhooks of every member of the list as membership stands
//! when it is handled: a member who joined gets their own arrival, one who
//! left does not get their departure.

use std::sync::Arc;

use axum::Router;
use todo_lib::event::EventType;
use todo_lib::function::RecordFact;
use todo_lib::serve::{BoxError, Context};
use todo_lib::store::Store;

/// The function's name: its Dapr app id and its consumer id.
pub const NAME: &str = "list-members";

/// The event types it handles, each on its own topic.
pub const ACCEPTS: &[EventType] = &[EventType::MemberAdded, EventType::MemberRemoved];

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
