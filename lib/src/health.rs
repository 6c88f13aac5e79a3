//! `/healthz` (the process is alive) and `/readyz` (its database answers), shared by
//! every function so that Kubernetes and Dapr probe them all alike.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::store::Store;

/// What a 503 asks the client to wait, in seconds (`Retry-After`).
pub const RETRY_AFTER_SECONDS: &str = "5";

/// Routes for the two probes. Merge them into a function's router.
pub fn routes(store: Store) -> Router {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).with_state(store)
}

/// Liveness: answering at all is the proof.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: 503 while the database cannot be reached, so traffic goes elsewhere,
/// with `Retry-After` as every 503 of the system carries.
pub async fn readyz(State(store): State<Store>) -> Response {
    match store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))).into_response(),
        Err(err) => {
            tracing::warn!(error = %crate::telemetry::Chain(&err), "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, RETRY_AFTER_SECONDS)],
                Json(json!({ "status": "unavailable", "reason": "database unreachable" })),
            )
                .into_response()
        }
    }
}
