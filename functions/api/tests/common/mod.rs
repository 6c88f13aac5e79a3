//! Shared set-up for the API tests: the real router over a fresh database, driven
//! in-process with `oneshot`, and tokens minted with the test secret.

#![allow(dead_code)] // each test binary uses a different part of this module

pub mod process;

use std::sync::Arc;
use std::time::Duration;

use api::AppState;
use api::auth::Authenticator;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use jsonwebtoken::{EncodingKey, Header, encode};
use secrecy::SecretString;
use serde_json::{Value, json};
use todo_lib::serve::{Settings, with_common_layers};
use todo_testing::TestDb;
use tower::ServiceExt;

/// Test-only signing secret (at least 32 bytes, as the API demands).
pub const SECRET: &str = "api-tests-only-secret-0123456789abcdef";
pub const BODY_LIMIT: usize = 64 * 1024;

/// Runs each named test on PostgreSQL and on SQLite, with a [`TestApp`] over it.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        todo_testing::on_both_backends!(wrap = $crate::common::TestApp::with_db; $($name),*);
    };
}

pub struct TestApp {
    pub router: Router,
    pub db: TestDb,
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `error.code` of an error response.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// The fields named in `error.details`.
    pub fn detail_fields(&self) -> Vec<String> {
        self.body["error"]["details"]
            .as_array()
            .map(|d| d.iter().filter_map(|e| e["field"].as_str().map(String::from)).collect())
            .unwrap_or_default()
    }
}

pub fn settings() -> Settings {
    Settings {
        addr: "127.0.0.1:0".parse().expect("valid address"),
        body_limit_bytes: BODY_LIMIT,
        request_timeout: Duration::from_secs(10),
        shutdown_grace: Duration::from_secs(1),
    }
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::with_db(todo_testing::sqlite().await)
    }

    pub async fn postgres() -> Self {
        Self::with_db(todo_testing::postgres().await)
    }

    pub fn with_db(db: TestDb) -> Self {
        let auth = Authenticator::with_secret(&SecretString::from(SECRET)).expect("valid secret");
        Self::with_auth(db, auth)
    }

    pub fn with_auth(db: TestDb, auth: Authenticator) -> Self {
        let stream = api::stream::Settings { stream_heartbeat_secs: 1, ..Default::default() };
        Self::with_streams(db, auth, stream)
    }

    /// The app with `stream` settings for its live streams.
    pub fn with_streams(db: TestDb, auth: Authenticator, stream: api::stream::Settings) -> Self {
        let router = with_common_layers(api::app(Self::state(&db, auth, stream)), settings());
        Self { router, db }
    }

    /// The app over `state` (built by [`TestApp::state`], say, and kept to look into).
    pub fn from_state(db: TestDb, state: AppState) -> Self {
        Self { router: with_common_layers(api::app(state), settings()), db }
    }

    /// The state the test app runs on.
    pub fn state(db: &TestDb, auth: Authenticator, stream: api::stream::Settings) -> AppState {
        AppState { allow_loopback_webhooks: true, ..AppState::new(db.store.clone(), Arc::new(auth)) }
            .with_streams(stream, 1024)
    }

    /// The test secret's authenticator.
    pub fn authenticator() -> Authenticator {
        Authenticator::with_secret(&SecretString::from(SECRET)).expect("valid secret")
    }

    pub async fn call(&self, req: Request<Body>) -> TestResponse {
        let res = self.router.clone().oneshot(req).await.expect("the router is infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body reads").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        TestResponse { status, headers, body }
    }

    /// A request as `user` (no Authorization header when `None`), with a JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        user: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        self.send_with(method, path, user, body, &[]).await
    }

    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        user: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(user) = user {
            req = req.header("authorization", format!("Bearer {}", token(user)));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some(body) => req.header("content-type", "application/json").body(Body::from(body.to_string())),
            None => req.body(Body::empty()),
        };
        self.call(req.expect("valid request")).await
    }

    /// `users` sign in and use the app once (their Inbox is made), so that
    /// lists may be shared with them.
    pub async fn sign_in(&self, users: &[&str]) {
        for user in users {
            let res = self.send(Method::GET, "/v1/lists", Some(user), None).await;
            assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
        }
    }

    /// Creates a task for `user` and returns its JSON.
    pub async fn create(&self, user: &str, body: Value) -> Value {
        let res = self.send(Method::POST, "/v1/tasks", Some(user), Some(body)).await;
        assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
        res.body
    }

    pub async fn create_titled(&self, user: &str, title: &str) -> Value {
        self.create(user, json!({ "title": title })).await
    }

    /// Serves the app on a loopback port, for tests over real HTTP; its base URL.
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let address = listener.local_addr().expect("its address");
        let router = self.router.clone();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{address}")
    }

    /// Number of events in the outbox.
    pub async fn outbox_len(&self) -> usize {
        self.db.store.unpublished_events(10_000).await.expect("outbox reads").len()
    }
}

/// An HS256 token for `user`, valid for an hour.
pub fn token(user: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    sign_hs256(&json!({ "sub": user, "iat": now, "exp": now + 3600 }), SECRET)
}

pub fn sign_hs256(claims: &Value, secret: &str) -> String {
    encode(&Header::default(), claims, &EncodingKey::from_secret(secret.as_bytes())).expect("token encodes")
}

/// Alice's list "Team" with Bob as an editor and Vic as a viewer: its id.
pub async fn team(app: &TestApp) -> String {
    let res =
        app.send(Method::POST, "/v1/lists", Some("alice"), Some(serde_json::json!({ "name": "Team" }))).await;
    let list = id_of(&res.body);
    app.sign_in(&["bob", "vic"]).await;
    for (user, role) in [("bob", "editor"), ("vic", "viewer")] {
        let body = serde_json::json!({ "user_id": user, "role": role });
        let added =
            app.send(Method::POST, &format!("/v1/lists/{list}/members"), Some("alice"), Some(body)).await;
        assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    }
    list
}

pub fn id_of(task: &Value) -> String {
    task["id"].as_str().expect("task has an id").to_owned()
}
