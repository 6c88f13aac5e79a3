//! The `task-completed` binary: serves the function (or `task-completed migrate`).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    todo_lib::serve::main(task_completed::NAME, task_completed::build).await
}
