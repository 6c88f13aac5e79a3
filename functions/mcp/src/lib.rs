//! `mcp`: the Model Context Protocol server, an HTTP function like `api`.
//!
//! AI assistants (Claude, ChatGPT, IDE agents) manage the signed-in user's tasks
//! through tools that run the REST API's own use cases, so a task an assistant
//! creates fires the same events, reminders and webhooks as one made by hand.
//! MCP over Streamable HTTP at protocol revision 2026-07-28, stateless (no
//! session id), with the official SDK `rmcp`: any replica serves any request,
//! so it scales to zero and runs under AWS Lambda like every other function.
//!
//! # Layout
//!
//! - [`guard`]: bearer authentication and the RFC 9728 protected-resource metadata.
//! - [`server`]: the MCP handler: lists the tools, runs them, answers tool errors.
//! - [`tools`]: each tool's name, description, annotations, schemas and use case.
//! - [`calls`]: the tools' arguments read as the REST routes read theirs.
//! - [`prompts`]: "plan my day" and "weekly review", for assistants to offer.
//! - [`resources`]: the user's open tasks as a resource.
//! - [`schema`]: the tools' JSON Schemas, from the API's OpenAPI document.
//! - [`config`]: the server's own environment variables.

pub mod calls;
pub mod config;
pub mod edges;
pub mod guard;
pub mod prompts;
pub mod resources;
pub mod schema;
pub mod server;
pub mod tools;

use std::sync::Arc;

use api::AppState;
use api::error::ApiError;
use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use todo_lib::function::Fallbacks;
use todo_lib::publish;
use todo_lib::serve::{BoxError, Context};

pub use crate::config::McpConfig;
use crate::server::TodoServer;

/// The function's name (its Dapr app id) and the CloudEvents `source` of what it writes.
pub const NAME: &str = "mcp";

/// Where the MCP endpoint is served, alone and on the local host alike.
pub const MCP_PATH: &str = "/mcp";

/// What the routes share.
#[derive(Debug, Clone)]
pub struct McpState {
    pub app: AppState,
    /// The `Host` names `/mcp` answers to.
    pub hosts: todo_lib::hosts::Hosts,
    /// What a JWT must be issued for here (see [`McpConfig::audience`]).
    pub audience: Option<String>,
    /// The scope each tool needs, by name, to refuse a call before it runs.
    pub scopes: Arc<std::collections::HashMap<String, todo_lib::access_tokens::Scope>>,
    pub config: Arc<McpConfig>,
}

/// `/mcp` and the protected-resource metadata, without probes: what the local
/// host mounts beside the API.
pub fn routes(app: AppState, config: McpConfig) -> Router {
    // What a tool writes says it came through here.
    let app = AppState { source: NAME, ..app };
    let hosts = todo_lib::hosts::Hosts::new(config.hosts());
    let tools = Arc::new(tools::all(&schema::Schemas::new()));
    let scopes = Arc::new(tools.iter().map(|d| (d.tool.name.to_string(), d.scope)).collect());
    let audience = config.audience(app.auth.audience());
    let state = McpState { app: app.clone(), hosts, audience, scopes, config: Arc::new(config) };
    let server = TodoServer { state: app, tools };
    let transport = StreamableHttpServerConfig::default()
        // Protocol 2026-07-28 has no sessions; older clients are served
        // statelessly too, so that no request depends on the replica it reaches.
        .with_legacy_session_mode(false)
        // A tool call is one request and one answer: plain JSON, no stream to hold.
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(state.config.hosts())
        .with_allowed_origins(state.config.origins())
        .enforce_origin_validation();
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        transport,
    );
    // Outermost first: Host and Origin, then the body, then the caller.
    let guarded = Router::new()
        .route_service(MCP_PATH, service)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::require_caller))
        .layer(axum::middleware::from_fn_with_state(state.clone(), edges::one_message));
    Router::new()
        .route(guard::METADATA_PATH, get(guard::metadata))
        .route(&format!("{}{MCP_PATH}", guard::METADATA_PATH), get(guard::metadata))
        .with_state(state.clone())
        .merge(guarded)
        .layer(axum::middleware::from_fn_with_state(state, edges::host_and_origin))
}

/// The whole function: [`routes`] with the probes, the metrics and the API's
/// answers for unknown paths.
pub fn app(app: AppState, config: McpConfig) -> Router {
    let store = app.store.clone();
    let fallbacks = Fallbacks {
        not_found: || ApiError::RouteNotFound.into_response(),
        method_not_allowed: || ApiError::MethodNotAllowed.into_response(),
    };
    todo_lib::function::assemble(routes(app, config), None, store, fallbacks)
}

/// Builds the server from the process's configuration; what `main` passes to `serve`.
pub async fn build(ctx: Context) -> Result<Router, BoxError> {
    let config: McpConfig = todo_lib::config::from_iter(ctx.vars.clone())?;
    let publisher = publish::from_config(&ctx.config)?;
    Ok(app(api::state(ctx, publisher)?, config))
}
