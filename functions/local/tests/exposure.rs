//! Where the real local host listens: on loopback when `HOST` is unset, and
//! never with its event and operator routes open to a network: on any other
//! address it refuses to start without `APP_API_TOKEN`, before it touches the
//! database; and its development sign-in is refused anywhere but loopback.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_local");

fn data_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("todo-exposure-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("data dir");
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// The host with only these variables (besides a database and a secret).
fn local(dir: &std::path::Path, port: u16, vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("DATABASE_URL", format!("sqlite://{}/todo.db", dir.display()))
        .env("PORT", port.to_string())
        .env("JWT_SECRET", "local-host-exposure-secret-0123456789ab")
        .env("RUST_LOG", "info")
        .envs(vars.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[test]
fn without_host_it_listens_on_loopback_only() {
    let dir = data_dir();
    let port = free_port();
    let mut child = local(&dir, port, &[]).spawn().expect("the local host starts");

    let deadline = Instant::now() + Duration::from_secs(20);
    let listening = loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break true;
        }
        if child.try_wait().expect("status").is_some() || Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().ok();
    let output = child.wait_with_output().expect("output");
    let log =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(listening, "it answers on loopback:\n{log}");
    assert!(log.contains(&format!("127.0.0.1:{port}")), "it says it listens on loopback:\n{log}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Runs the host to its exit (at most 20 s): whether it exited, and its log.
fn run_to_exit(mut child: std::process::Child) -> (Option<std::process::ExitStatus>, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("status") {
            break Some(status);
        }
        if Instant::now() > deadline {
            child.kill().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().expect("output");
    let log =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (status, log)
}

#[test]
fn on_every_interface_without_a_token_it_refuses_to_start_and_touches_nothing() {
    let dir = data_dir();
    let child = local(&dir, free_port(), &[("HOST", "0.0.0.0")]).spawn().expect("the local host starts");
    let (status, log) = run_to_exit(child);
    assert!(status.is_some_and(|s| !s.success()), "it exits with an error at once:\n{log}");
    assert!(
        log.contains("without APP_API_TOKEN") && log.contains("ALLOW_OPEN_EVENT_ROUTES"),
        "it says why and what to do:\n{log}"
    );
    assert!(!dir.join("todo.db").exists(), "no database was created or migrated");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_development_sign_in_is_refused_off_loopback() {
    let dir = data_dir();
    let vars = [("HOST", "0.0.0.0"), ("APP_API_TOKEN", "exposure-app-token-0123"), ("DEV_SIGN_IN", "true")];
    let child = local(&dir, free_port(), &vars).spawn().expect("the local host starts");
    let (status, log) = run_to_exit(child);
    assert!(status.is_some_and(|s| !s.success()), "it exits with an error at once:\n{log}");
    assert!(log.contains("DEV_SIGN_IN") && log.contains("loopback"), "it says why:\n{log}");
    assert!(!dir.join("todo.db").exists(), "no database was created or migrated");
    std::fs::remove_dir_all(&dir).ok();
}
