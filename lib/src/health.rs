//! `/healthz` (the process is alive) and `/readyz` (its database answers), shared by
//! every function so that Kubernetes and Dapr probe them all alike. `/readyz`
//! also reports what the process runs on without being unready for it (the
//! rate limiter's store, say), as [`Detail`]s.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::store::Store;

/// What a 503 asks the client to wait, in seconds (`Retry-After`).
pub const RETRY_AFTER_SECONDS: &str = "5";

/// Something `/readyz` reports beside the database, which never makes the
/// process unready (a fallback in use is reported, not failed).
pub trait Detail: Send + Sync + std::fmt::Debug {
    /// Its key in the report.
    fn name(&self) -> &'static str;
    fn report(&self) -> Value;
}

/// What the probes look at: the database, and the details to report.
#[derive(Debug, Clone)]
pub struct Probe {
    store: Store,
    details: Vec<Arc<dyn Detail>>,
}

impl Probe {
    /// The same probe, reporting `detail` too.
    #[must_use]
    pub fn with(mut self, detail: Arc<dyn Detail>) -> Self {
        self.details.push(detail);
        self
    }

    fn details(&self) -> Map<String, Value> {
        self.details.iter().map(|d| (d.name().to_owned(), d.report())).collect()
    }
}

impl From<Store> for Probe {
    fn from(store: Store) -> Self {
        Self { store, details: Vec::new() }
    }
}

/// Routes for the two probes. Merge them into a function's router.
pub fn routes(probe: impl Into<Probe>) -> Router {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).with_state(probe.into())
}

/// Liveness: answering at all is the proof.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: 503 while the database cannot be reached, so traffic goes elsewhere,
/// with `Retry-After` as every 503 of the system carries.
pub async fn readyz(State(probe): State<Probe>) -> Response {
    let mut body = probe.details();
    match probe.store.ping().await {
        Ok(()) => {
            body.insert("status".into(), "ready".into());
            (StatusCode::OK, Json(body)).into_response()
        }
        Err(err) => {
            tracing::warn!(error = %crate::telemetry::Chain(&err), "readiness check failed");
            body.insert("status".into(), "unavailable".into());
            body.insert("reason".into(), "database unreachable".into());
            (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, RETRY_AFTER_SECONDS)], Json(body))
                .into_response()
        }
    }
}
