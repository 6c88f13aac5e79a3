//! The MCP server over a fresh database, driven in-process with `oneshot`:
//! JSON-RPC requests as a Streamable HTTP client sends them, tokens minted
//! with the test secret.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::sync::Arc;
use std::time::Duration;

use api::AppState;
use api::auth::Authenticator;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use jsonwebtoken::{EncodingKey, Header, encode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use todo_lib::access_tokens::{AccessToken, NewAccessToken, Scope};
use todo_lib::serve::{Settings, with_common_layers};
use todo_testing::TestDb;
use tower::ServiceExt;

/// Test-only signing secret (at least 32 bytes, as the API demands).
pub const SECRET: &str = "mcp-tests-only-secret-0123456789abcdef";
/// The protocol revision the tests speak.
pub const PROTOCOL: &str = "2026-07-28";

/// Runs each named test on PostgreSQL and on SQLite, with a [`TestMcp`] over it.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        todo_testing::on_both_backends!(wrap = $crate::common::TestMcp::with_db; $($name),*);
    };
}

pub struct TestMcp {
    pub router: Router,
    pub db: TestDb,
}

#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The `result` of a JSON-RPC answer.
    pub fn result(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "{:?}", self.body);
        assert!(self.body["error"].is_null(), "a protocol error: {}", self.body);
        &self.body["result"]
    }

    /// The tool result's `isError`.
    pub fn is_tool_error(&self) -> bool {
        self.result()["isError"] == Value::Bool(true)
    }

    pub fn structured(&self) -> &Value {
        &self.result()["structuredContent"]
    }

    /// The code of a refused call: a tool error whose text ends its first
    /// line with `[code]`, and with no structured content (which would have
    /// to match the tool's output schema, and does not).
    pub fn error_code(&self) -> String {
        assert!(self.is_tool_error(), "not a tool error: {}", self.body);
        assert!(
            self.result().get("structuredContent").is_none(),
            "a refusal carries no structured content: {}",
            self.body
        );
        let text = self.text();
        let first = text.lines().next().unwrap_or_default();
        let code = first.rsplit_once('[').and_then(|(_, rest)| rest.strip_suffix(']'));
        code.unwrap_or_else(|| panic!("no [code] in {first:?}")).to_owned()
    }

    /// The arguments a refusal names, one per `- field: message` line.
    pub fn error_fields(&self) -> Vec<String> {
        self.error_code();
        self.text()
            .lines()
            .skip(1)
            .filter_map(|line| {
                line.strip_prefix("- ").and_then(|l| l.split_once(": ")).map(|(f, _)| f.to_owned())
            })
            .collect()
    }

    pub fn text(&self) -> String {
        self.result()["content"][0]["text"].as_str().unwrap_or_default().to_owned()
    }
}

impl TestMcp {
    pub fn with_db(db: TestDb) -> Self {
        Self::with_config(db, mcp::McpConfig::default())
    }

    /// The server with `config` (its body limit, hosts and origins).
    pub fn with_config(db: TestDb, config: mcp::McpConfig) -> Self {
        Self::with_limits(db, config, api::limit::RateLimits::unlimited())
    }

    /// The server with `config`, spending from `limits`.
    pub fn with_limits(db: TestDb, config: mcp::McpConfig, limits: api::limit::RateLimits) -> Self {
        let auth = Authenticator::with_secret(&SecretString::from(SECRET)).expect("valid secret");
        let state = AppState {
            allow_loopback_webhooks: true,
            limits,
            ..AppState::new(db.store.clone(), Arc::new(auth))
        };
        let settings = Settings {
            addr: "127.0.0.1:0".parse().expect("valid address"),
            body_limit_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(1),
        };
        let router = with_common_layers(mcp::app(state, config), settings);
        Self { router, db }
    }

    /// Sends `request` as-is and reads the answer.
    pub async fn raw(&self, request: Request<Body>) -> Answer {
        let res = self.router.clone().oneshot(request).await.expect("the router is infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body reads").to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Answer { status, headers, body }
    }

    /// A JSON-RPC request `method` with `params`, as `user` (no token when `None`).
    pub async fn rpc(&self, user: Option<&str>, method: &str, params: Value) -> Answer {
        self.rpc_with(user.map(token).as_deref(), method, params).await
    }

    /// A JSON-RPC request `method` with `params` and `bearer` as the token.
    pub async fn rpc_with(&self, bearer: Option<&str>, method: &str, mut params: Value) -> Answer {
        // 2026-07-28 names what a request is about in headers too (`Mcp-Name`).
        let name = params["name"].as_str().or(params["uri"].as_str()).map(str::to_owned);
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": PROTOCOL,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "1"},
        });
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut req = Request::post("/mcp")
            .header("host", "127.0.0.1")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", PROTOCOL)
            .header("mcp-method", method);
        if let Some(bearer) = bearer {
            req = req.header("authorization", format!("Bearer {bearer}"));
        }
        if let Some(name) = name {
            req = req.header("mcp-name", name);
        }
        self.raw(req.body(Body::from(body.to_string())).expect("valid request")).await
    }

    /// Calls tool `name` with `arguments` as `user`.
    pub async fn tool(&self, user: &str, name: &str, arguments: Value) -> Answer {
        self.rpc(Some(user), "tools/call", json!({"name": name, "arguments": arguments})).await
    }

    /// A personal access token of `user` with `scopes`, stored as the API stores one.
    pub async fn access_token(&self, user: &str, scopes: &[Scope]) -> String {
        let input = NewAccessToken {
            name: Some("assistant".into()),
            scopes: Some(scopes.to_vec()),
            expires_in_days: None,
        };
        let (token, secret) = AccessToken::create(user, input, chrono::Utc::now()).expect("valid");
        let mut tx = self.db.store.begin().await.expect("begin");
        assert!(tx.insert_access_token(&token, 10).await.expect("insert"));
        tx.commit().await.expect("commit");
        secret.expose_secret().to_owned()
    }

    /// Creates a task through the tool and returns it.
    pub async fn create(&self, user: &str, arguments: Value) -> Value {
        let answer = self.tool(user, "create_task", arguments).await;
        assert!(!answer.is_tool_error(), "{}", answer.body);
        answer.structured().clone()
    }

    /// Number of events in the outbox.
    pub async fn outbox_len(&self) -> usize {
        self.db.store.unpublished_events(10_000).await.expect("outbox reads").len()
    }

    /// Saves `user`'s time zone.
    pub async fn lives_in(&self, user: &str, zone: &str) {
        let mut settings = todo_lib::settings::Settings::defaults(user);
        settings.time_zone = zone.parse().expect("a zone");
        settings.updated_at = Some(chrono::Utc::now());
        let mut tx = self.db.store.begin().await.expect("tx");
        tx.put_settings(&settings).await.expect("saved");
        tx.commit().await.expect("commit");
    }
}

/// An HS256 token for `user`, valid for an hour.
pub fn token(user: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "sub": user, "iat": now, "exp": now + 3600 });
    encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).expect("token encodes")
}
