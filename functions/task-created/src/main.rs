//! The `task-created` binary: serves the function (or `task-created migrate`).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    todo_lib::serve::main(task_created::NAME, task_created::build).await
}
