//! The layering the crate doc states, held: the models and their rules (below
//! the store) import nothing of the store or of the behaviour above it, and the
//! store imports nothing above it (issue #14, item 3). Checked on the sources,
//! so a new `use` that breaks it fails here, naming the file and the line.

use std::path::{Path, PathBuf};

/// The modules below the store, as files or directories under `lib/src`.
const BELOW: &[&str] = &[
    "task.rs",
    "task",
    "recurrence.rs",
    "event.rs",
    "changes.rs",
    "activity.rs",
    "notification.rs",
    "webhook",
    "clock.rs",
    "lists.rs",
    "members.rs",
    "invitations.rs",
];
/// What those may not use.
const ABOVE_MODELS: &[&str] =
    &["store", "function", "outbox", "sender", "serve", "health", "publish", "metrics", "testing"];
/// What the store may not use.
const ABOVE_STORE: &[&str] = &["function", "outbox", "sender", "serve", "health", "publish"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .flat_map(|entry| rust_files(&entry.expect("a directory entry").path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files
}

/// Every `crate::<module>` a file names outside comments, with its line.
fn violations(files: &[PathBuf], forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for module in forbidden {
                if code.contains(&format!("crate::{module}::")) || code.contains(&format!("crate::{module};"))
                {
                    found.push(format!("{}:{}: uses crate::{module}", file.display(), n + 1));
                }
            }
        }
    }
    found
}

#[test]
fn the_models_know_nothing_of_the_store_or_what_uses_it() {
    let files: Vec<PathBuf> = BELOW.iter().flat_map(|m| rust_files(&src().join(m))).collect();
    assert!(files.len() >= 10, "the model files were found: {files:?}");
    assert_eq!(violations(&files, ABOVE_MODELS), Vec::<String>::new());
}

#[test]
fn the_store_knows_nothing_of_what_uses_it() {
    let files = rust_files(&src().join("store"));
    assert!(!files.is_empty());
    assert_eq!(violations(&files, ABOVE_STORE), Vec::<String>::new());
}
