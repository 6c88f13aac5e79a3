//! `scripts/lib/dev-secret.sh`, which `make dev` sources: it keeps a `JWT_SECRET`
//! the caller set, mints the checkout's own only when none is set, and says
//! which it uses without printing either.

use std::path::{Path, PathBuf};
use std::process::Command;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/lib/dev-secret.sh");

/// An empty directory of this test's own, as a checkout's root.
fn checkout() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("todo-dev-secret-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// Sources the script in `dir` with `JWT_SECRET` as given; the exported secret and stderr.
fn source(dir: &Path, secret: Option<&str>) -> (String, String) {
    let mut command = Command::new("bash");
    command
        .current_dir(dir)
        .args(["-c", "set -euo pipefail; source \"$1\"; printf %s \"$JWT_SECRET\"", "dev-secret", SCRIPT])
        .env_remove("JWT_SECRET");
    if let Some(secret) = secret {
        command.env("JWT_SECRET", secret);
    }
    let output = command.output().expect("bash runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    (String::from_utf8(output.stdout).expect("utf-8"), String::from_utf8(output.stderr).expect("utf-8"))
}

#[test]
fn a_jwt_secret_the_caller_set_is_kept_and_nothing_is_written() {
    let dir = checkout();
    let mine = "the-callers-own-secret-of-at-least-32-bytes";

    let (secret, said) = source(dir.as_path(), Some(mine));

    assert_eq!(secret, mine);
    assert!(said.contains("yours, from the environment"), "{said}");
    assert!(!said.contains(mine), "the secret itself is never printed: {said}");
    assert!(!dir.join("data/dev-jwt-secret").exists(), "no development secret is minted");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn without_a_jwt_secret_the_checkouts_own_is_minted_once_and_reused() {
    let dir = checkout();

    let (first, said) = source(dir.as_path(), None);
    let (second, _) = source(dir.as_path(), Some(""));

    assert!(first.len() >= 32, "a strong secret: {} bytes", first.len());
    assert_eq!(first, second, "the same secret on the next start (an empty JWT_SECRET counts as unset)");
    assert!(said.contains("this checkout's development secret (data/dev-jwt-secret)"), "{said}");
    assert!(!said.contains(&first), "the secret itself is never printed: {said}");
    let stored = std::fs::read_to_string(dir.join("data/dev-jwt-secret")).expect("kept in data/");
    assert_eq!(stored, first);
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(dir.join("data/dev-jwt-secret")).expect("metadata").permissions().mode();
    assert_eq!(mode & 0o077, 0, "readable by its owner only: {mode:o}");
    std::fs::remove_dir_all(&dir).ok();
}
