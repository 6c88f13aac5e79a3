//! The `cron-tick` binary: serves the function (or `cron-tick migrate`).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    todo_lib::serve::main(cron_tick::NAME, cron_tick::build).await
}
