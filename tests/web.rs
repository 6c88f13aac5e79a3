//! The web app in a real browser: headless Chromium (Debian's `chromium`,
//! which `.ci/run` installs) driven by `playwright-core` from target/node-tools
//! (`make test` installs it), against the local host's binary with its
//! development sign-in. The scenario is tests/browser/app.mjs; its screenshots
//! land in target/screenshots.

mod common;

use std::process::Command;

use common::Host;

#[tokio::test]
async fn the_web_app_works_in_a_real_browser() {
    let host = Host::start_with_env(&[("DEV_SIGN_IN", "true")]).await;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    assert!(
        std::path::Path::new(root).join("target/node-tools/node_modules/playwright-core").exists(),
        "target/node-tools is missing playwright-core: run `make node-tools` (make test does)"
    );
    let output = Command::new("node")
        .current_dir(root)
        .arg("tests/browser/app.mjs")
        .env("BASE_URL", &host.base)
        // Another user, who shares a list with the development user.
        .env("OTHER_TOKEN", common::token("alice"))
        .env("SHOTS", format!("{root}/target/screenshots"))
        .output()
        .expect("node runs tests/browser/app.mjs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}\n--- host ---\n{}",
        host.logs()
    );
    // Each step says it passed; a step that was skipped would be missing here.
    for step in [
        "first screen interactive",
        "signed in",
        "literally",
        "keyboard alone",
        "search",
        "completed",
        "quick add read the line",
        "picker shows the next occurrences",
        "next occurrence appeared",
        "stale edit",
        "live: the stream is open",
        "another tab appeared live",
        "reminder arrived live",
        "caught up through the changes feed",
        "delete with undo",
        "shared list",
        "keyset pages",
        "expired token",
        "360 px",
    ] {
        assert!(stdout.contains(step), "no '{step}' in:\n{stdout}");
    }
    for view in ["sign-in", "view-all", "view-today", "view-upcoming", "view-overdue"] {
        assert!(stdout.contains(&format!("axe on {view}")), "no accessibility scan of {view}:\n{stdout}");
    }
    println!("{stdout}");
}

#[tokio::test]
async fn the_api_binary_has_no_development_sign_in_and_every_page_a_strict_csp() {
    let host = Host::start().await;
    let client = reqwest::Client::new();
    let dev = client.post(host.url("/auth/dev")).send().await.expect("answered");
    assert_eq!(dev.status(), reqwest::StatusCode::NOT_FOUND, "no one-click sign-in without DEV_SIGN_IN");
    for path in [
        "/",
        "/app.js",
        "/api.js",
        "/form.js",
        "/list.js",
        "/live.js",
        "/quick.js",
        "/reminders.js",
        "/app.css",
    ] {
        let res = client.get(host.url(path)).send().await.expect("answered");
        assert_eq!(res.status(), reqwest::StatusCode::OK, "{path}");
        let csp =
            res.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(
            res.headers().get("x-frame-options").and_then(|v| v.to_str().ok()),
            Some("DENY"),
            "{path}"
        );
    }
}
