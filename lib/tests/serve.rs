//! `serve` over a real socket: graceful shutdown lets in-flight requests finish
//! within the grace period, slow handlers are cut off with 503, a panicking
//! handler answers 500 and the server carries on, and every response carries a
//! request id.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use todo_lib::serve::{ConnectionLimits, Settings, serve_tcp, with_common_layers};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// A router whose `/slow` handler reports that it started, then takes `delay`.
fn slow_router(started: mpsc::Sender<()>, delay: Duration) -> Router {
    Router::new().route(
        "/slow",
        get(move || {
            let started = started.clone();
            async move {
                let _ = started.send(()).await;
                tokio::time::sleep(delay).await;
                "done"
            }
        }),
    )
}

fn settings(request_timeout: Duration) -> Settings {
    Settings {
        addr: "127.0.0.1:0".parse().expect("address"),
        body_limit_bytes: 1024,
        request_timeout,
        shutdown_grace: Duration::from_secs(5),
    }
}

/// Starts the server; returns its base URL, the shutdown trigger and its result.
async fn start(
    app: Router,
    grace: Duration,
) -> (String, oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve_tcp(
        listener,
        app,
        async move {
            let _ = stopped.await;
        },
        grace,
        ConnectionLimits::default(),
    ));
    (url, stop, server)
}

#[tokio::test]
async fn in_flight_requests_finish_after_shutdown_is_asked() {
    let (started_tx, mut started) = mpsc::channel(1);
    let app = with_common_layers(
        slow_router(started_tx, Duration::from_millis(300)),
        settings(Duration::from_secs(10)),
    );
    let (url, stop, server) = start(app, Duration::from_secs(5)).await;

    let request = tokio::spawn(reqwest::get(format!("{url}/slow")));
    started.recv().await.expect("the handler started");
    stop.send(()).expect("server is running");

    let response = request.await.expect("task").expect("the in-flight request completes");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.expect("body"), "done");
    let result =
        tokio::time::timeout(Duration::from_secs(10), server).await.expect("server stops").expect("task");
    assert!(result.is_ok());
    assert!(reqwest::get(format!("{url}/slow")).await.is_err(), "no new connections after shutdown");
}

#[tokio::test]
async fn the_grace_period_bounds_how_long_shutdown_waits() {
    let (started_tx, mut started) = mpsc::channel(1);
    let app = with_common_layers(
        slow_router(started_tx, Duration::from_secs(3600)),
        settings(Duration::from_secs(3600)),
    );
    let (url, stop, server) = start(app, Duration::from_millis(200)).await;

    let _hanging = tokio::spawn(reqwest::get(format!("{url}/slow")));
    started.recv().await.expect("the handler started");
    stop.send(()).expect("server is running");
    let result = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(result.is_ok(), "shutdown returned although a request still hangs");
}

#[tokio::test]
async fn a_handler_slower_than_the_request_timeout_gets_503() {
    let (started_tx, _started) = mpsc::channel(8);
    let app = with_common_layers(
        slow_router(started_tx, Duration::from_secs(3600)),
        settings(Duration::from_millis(100)),
    );
    let (url, _stop, _server) = start(app, Duration::from_secs(1)).await;
    let response = reqwest::get(format!("{url}/slow")).await.expect("answered");
    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_a_given_one() {
    let (started_tx, _started) = mpsc::channel(8);
    let app = with_common_layers(slow_router(started_tx, Duration::ZERO), settings(Duration::from_secs(10)));
    let (url, _stop, _server) = start(app, Duration::from_secs(1)).await;
    let client = reqwest::Client::new();

    let fresh = client.get(format!("{url}/slow")).send().await.expect("answered");
    let id = fresh.headers().get("x-request-id").and_then(|v| v.to_str().ok()).expect("a request id");
    assert_eq!(id.len(), 36, "a UUID: {id}");

    let given =
        client.get(format!("{url}/slow")).header("x-request-id", "abc-123").send().await.expect("answered");
    assert_eq!(given.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("abc-123"));
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_carries_on() {
    let (started_tx, _started) = mpsc::channel(8);
    let router = slow_router(started_tx, Duration::ZERO).route(
        "/bug",
        get(|| async {
            let empty: Vec<u8> = Vec::new();
            // An out-of-bounds index: a bug, as a panicking dependency would be.
            format!("{}", empty[usize::from(empty.is_empty())])
        }),
    );
    let app = with_common_layers(router, settings(Duration::from_secs(10)));
    let (url, _stop, _server) = start(app, Duration::from_secs(1)).await;
    for _ in 0..3 {
        let response = reqwest::get(format!("{url}/bug")).await.expect("answered, not dropped");
        assert_eq!(response.status(), 500);
        let body: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], "internal");
    }
    let fine = reqwest::get(format!("{url}/slow")).await.expect("answered");
    assert_eq!(fine.status(), 200, "the server carries on");
}
