//! The `task-changed` binary: serves the function (or `task-changed migrate`).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    todo_lib::serve::main(task_changed::NAME, task_changed::build).await
}
