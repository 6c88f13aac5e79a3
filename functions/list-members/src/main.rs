//! The `list-members` binary: serves the function (or `list-members migrate`).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    todo_lib::serve::main(list_members::NAME, list_members::build).await
}
