//! The `mcp` binary: serves the MCP server (or `mcp migrate` applies migrations).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    todo_lib::serve::main("mcp", mcp::build).await
}
