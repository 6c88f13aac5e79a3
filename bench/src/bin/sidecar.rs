//! A stand-in of the Dapr sidecar's publish API for `make bench`: it accepts
//! single and bulk publishes on loopback as fast as it can read them (each
//! body parsed as JSON, as a sidecar must), counts the events, and reports the
//! count at `GET /count`. No broker behind it: it measures what the publisher
//! and the database can do, not Kafka.
//!
//! usage: sidecar --port P

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use bench::Args;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(std::env::args().skip(1))?;
    let port: u16 = args.required("port")?.parse()?;
    let count = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/v1.0/publish/bulk/{pubsub}/{topic}", post(bulk))
        .route("/v1.0/publish/{pubsub}/{topic}", post(single))
        .route(
            "/count",
            get(|State(c): State<Arc<AtomicUsize>>| async move { c.load(Ordering::Relaxed).to_string() }),
        )
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024 * 1024))
        .with_state(count);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn bulk(State(count): State<Arc<AtomicUsize>>, body: Bytes) -> StatusCode {
    match serde_json::from_slice::<Vec<serde_json::Value>>(&body) {
        Ok(entries) => {
            count.fetch_add(entries.len(), Ordering::Relaxed);
            StatusCode::NO_CONTENT
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

async fn single(State(count): State<Arc<AtomicUsize>>, body: Bytes) -> StatusCode {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(_) => {
            count.fetch_add(1, Ordering::Relaxed);
            StatusCode::NO_CONTENT
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}
