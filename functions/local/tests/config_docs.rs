//! The configuration chapter of the book (`docs/src/configuration.md`) names
//! every environment variable the code reads, and nothing else: the config
//! structs' fields (asked of their `Deserialize`, renames applied) and the
//! few variables read by name, found in the sources.

use std::collections::BTreeSet;
use std::path::Path;

use todo_lib::config::variables;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The variables the configuration chapter's tables document.
fn documented() -> BTreeSet<String> {
    let chapter = std::fs::read_to_string(format!("{ROOT}/docs/src/configuration.md")).expect("the chapter");
    chapter
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`').map(|(name, _)| name.to_owned()))
        .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .collect()
}

/// The names in `std::env::var("…")`, `var_os("…")` and `k == "…"` in the
/// Rust sources under `dir`, but for its `tests` folders.
fn read_by_name(dir: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("a directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            // Test binaries' own plumbing (PATH for a shim) is no configuration.
            if !path.ends_with("target") && !path.ends_with("tests") {
                read_by_name(&path, found);
            }
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("a source file");
        for marker in ["env::var(\"", "env::var_os(\"", "k == \""] {
            for (at, _) in source.match_indices(marker) {
                let rest = &source[at + marker.len()..];
                let name: String = rest.chars().take_while(|c| *c != '"').collect();
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                    found.insert(name);
                }
            }
        }
    }
}

#[test]
fn the_configuration_chapter_names_every_variable_the_code_reads_and_no_other() {
    let mut code: BTreeSet<String> = [
        variables::<todo_lib::config::Config>(),
        variables::<api::config::ApiConfig>(),
        variables::<api::stream::Settings>(),
        variables::<mcp::McpConfig>(),
        variables::<local::config::LocalConfig>(),
        variables::<todo_lib::rate_limit::RateLimitConfig>(),
        variables::<todo_lib::quota::Quotas>(),
        variables::<todo_lib::mail::MailConfig>(),
        variables::<todo_lib::push::PushConfig>(),
    ]
    .concat()
    .into_iter()
    .collect();
    // tracing-subscriber's EnvFilter reads it (lib/src/telemetry.rs).
    code.insert("RUST_LOG".into());
    for dir in ["lib", "functions", "testing", "bench"] {
        read_by_name(&Path::new(ROOT).join(dir), &mut code);
    }
    assert!(code.contains("AWS_LAMBDA_RUNTIME_API") && code.contains("TEST_DATABASE_URL"), "{code:?}");

    let documented = documented();
    let undocumented: Vec<_> = code.difference(&documented).collect();
    let unread: Vec<_> = documented.difference(&code).collect();
    assert!(
        undocumented.is_empty() && unread.is_empty(),
        "read but not in docs/src/configuration.md: {undocumented:?}; documented but read nowhere: {unread:?}"
    );
}
