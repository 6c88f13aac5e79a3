//! The `api` binary: serves the REST API (or `api migrate` applies migrations).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    todo_lib::serve::main("api", api::build).await
}
