//! `/healthz` (the process is alive) and `/readyz` (its database answers), shared by
//! every function so that Kubernetes and Dapr probe them all alike.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::store::Store;

/// Routes for the two probes. Merge them into a function's router.
pub fn routes(store: Arc<dyn Store>) -> Router {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).with_state(store)
}

/// Liveness: answering at all is the proof.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: 503 while the database cannot be reached, so traffic goes elsewhere.
pub async fn readyz(State(store): State<Arc<dyn Store>>) -> (StatusCode, Json<Value>) {
    match store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": "database unreachable" })),
            )
        }
    }
}
