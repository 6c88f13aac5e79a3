//! The `local` binary: the whole system in one process (or `local migrate`).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    todo_lib::serve::main(local::NAME, local::build).await
}
