//! The `task-due` binary: serves the function (or `task-due migrate`).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    todo_lib::serve::main(task_due::NAME, task_due::build).await
}
