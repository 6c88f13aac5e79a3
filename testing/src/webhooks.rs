//! A webhook receiver on loopback for tests: records every request and answers
//! with the statuses (or redirects) it is told to, in order (then 200).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: String,
}

#[derive(Debug, Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<u16>>,
    redirects: Mutex<VecDeque<(u16, String)>>,
}

#[derive(Debug, Clone)]
pub struct WebhookReceiver {
    /// `http://127.0.0.1:<port>/hook`
    pub url: String,
    inner: Arc<Inner>,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let router = Router::new().route("/hook", post(receive)).with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the webhook receiver");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, inner }
    }

    /// The next requests are answered with these statuses, in order.
    pub fn answer_with(&self, statuses: &[u16]) {
        if let Ok(mut script) = self.inner.script.lock() {
            script.extend(statuses);
        }
    }

    /// The next requests are answered with these redirects (status, location),
    /// in order, before the statuses of [`Self::answer_with`].
    pub fn redirect_with(&self, status: u16, location: &str) {
        if let Ok(mut redirects) = self.inner.redirects.lock() {
            redirects.push_back((status, location.to_owned()));
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Waits until at least `n` requests arrived, or `within` passed.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        crate::at_least(n, within, || self.received()).await
    }
}

async fn receive(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let headers = headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_owned(), v.to_owned())))
        .collect();
    if let Ok(mut received) = inner.received.lock() {
        received.push(Received { headers, body: String::from_utf8_lossy(&body).into_owned() });
    }
    if let Some((status, location)) = inner.redirects.lock().ok().and_then(|mut r| r.pop_front()) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::TEMPORARY_REDIRECT);
        return (status, [(LOCATION, location)]).into_response();
    }
    let status = inner.script.lock().ok().and_then(|mut s| s.pop_front()).unwrap_or(200);
    if status == 0 {
        std::future::pending::<()>().await;
    }
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK).into_response()
}

/// The deliverer tests use: receivers live on loopback, so loopback is allowed.
pub fn loopback_deliverer() -> todo_lib::webhook::Deliverer {
    todo_lib::webhook::Deliverer::new(true).expect("webhook client")
}
