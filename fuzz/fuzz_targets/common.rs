//! What the targets share: one runtime and one migrated in-memory SQLite store
//! per fuzzing process, and a request runner that checks the one promise every
//! route makes: no input, however hostile, is a server error.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use todo_lib::store::{ConnectOptions, Store};
use tower::ServiceExt;

pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
    })
}

pub fn store() -> Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE
        .get_or_init(|| {
            runtime().block_on(async {
                let store = todo_lib::store::connect("sqlite::memory:", ConnectOptions::default())
                    .expect("in-memory SQLite");
                store.migrate().await.expect("migrations");
                store
            })
        })
        .clone()
}

/// Sends `req` and returns the status and body; panics (a finding) on a 5xx.
pub fn send(router: &Router, req: Request<Body>) -> (u16, Vec<u8>) {
    runtime().block_on(async {
        let what = format!("{} {}", req.method(), req.uri());
        let res = router.clone().oneshot(req).await.expect("routers are infallible");
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.expect("body").to_bytes().to_vec();
        assert!(status < 500, "{what} -> {status}: {}", String::from_utf8_lossy(&body));
        (status, body)
    })
}
