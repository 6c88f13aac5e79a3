//! The MCP server handler: lists the tools and runs them for the caller the
//! bearer guard authenticated ([`crate::guard`]), within their token's scopes. A tool that fails answers a
//! tool error (`isError`) carrying the REST API's error body, so an assistant
//! reads the same message a REST client would and can correct its call.

use std::sync::Arc;

use api::AppState;
use api::auth::Caller;
use rmcp::ErrorData as McpError;
use rmcp::RoleServer;
use rmcp::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, GetPromptRequestParams,
    GetPromptResponse, Implementation, ListPromptsResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use todo_lib::access_tokens::Scope;

use crate::tools::ToolDef;
use crate::{prompts, resources};

/// One request's server: rmcp builds one per request (stateless), so it is
/// cheap to clone.
#[derive(Debug, Clone)]
pub struct TodoServer {
    pub state: AppState,
    pub tools: Arc<Vec<ToolDef>>,
}

const INSTRUCTIONS: &str = "Manages the signed-in user's tasks in a Todo app: list and search them, \
create, change, complete, reopen and delete them, read their reminders (notifications) and history. \
Times are RFC 3339; recurrence is an RFC 5545 RRULE. Each change is the same as one made in the app: \
it fires the same reminders, recurrences and webhooks.";

impl ServerHandler for TodoServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder().enable_tools().enable_prompts().enable_resources().build(),
        )
        .with_server_info(Implementation::new("todo", env!("CARGO_PKG_VERSION")).with_title("Todo"))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools.iter().map(|d| d.tool.clone()).collect()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let Some(def) = self.tools.iter().find(|d| d.tool.name == request.name) else {
            return Err(McpError::invalid_params(format!("no tool named '{}'", request.name), None));
        };
        let Some(caller) = caller(&context) else {
            // The guard lets no request through without a caller: this is a bug.
            return Err(McpError::internal_error("the request reached a tool unauthenticated", None));
        };
        let args = request.arguments.unwrap_or_default();
        let ran = match caller.require(def.scope) {
            Ok(()) => (def.run)(&self.state, &caller.user, args).await,
            Err(refused) => Err(refused),
        };
        let result = match ran {
            Ok(outcome) => {
                let mut result = CallToolResult::structured(outcome.structured);
                result.content = vec![ContentBlock::text(outcome.text)];
                result
            }
            Err(err) => {
                let body = err.body();
                tracing::info!(tool = %request.name, code = body.error.code, "tool call refused");
                // Text only: structured content must match the tool's output
                // schema, which describes what it answers when it succeeds.
                CallToolResult::error(vec![ContentBlock::text(crate::calls::refusal_text(&err, &body))])
            }
        };
        Ok(result.into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(prompts::all()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        Ok(prompts::get(&request.name, &request.arguments.unwrap_or_default())?.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(resources::all()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let caller = caller(&context).ok_or_else(|| McpError::internal_error("unauthenticated", None))?;
        let read = match caller.require(Scope::TasksRead) {
            Ok(()) => resources::read(&self.state, &caller.user, &request.uri).await,
            Err(refused) => Err(refused),
        };
        match read {
            Ok(Some(contents)) => Ok(ReadResourceResult::new(vec![contents]).into()),
            Ok(None) => Err(McpError::resource_not_found(format!("no resource at {}", request.uri), None)),
            // A resource has no tool error: the API's message goes in a protocol error.
            Err(err) => Err(McpError::invalid_request(err.body().error.message, None)),
        }
    }
}

/// The caller the guard put into the request's extensions.
fn caller(context: &RequestContext<RoleServer>) -> Option<Caller> {
    let parts = context.extensions.get::<axum::http::request::Parts>()?;
    parts.extensions.get::<Caller>().cloned()
}
