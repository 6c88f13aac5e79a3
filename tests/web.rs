//! The web app in a real browser: headless Chromium (Debian's `chromium`,
//! which `.ci/run` installs) driven by `playwright-core` from target/node-tools
//! (`make test` installs it), against the local host's binary with its
//! development sign-in. The scenario is tests/browser/app.mjs; its screenshots
//! land in target/screenshots.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Host;

#[tokio::test]
async fn the_web_app_works_in_a_real_browser() {
    // Each axe scan opens the app in a tab of its own and closes it; the server
    // learns that a stream was closed at its next heartbeat, and the scans of
    // every view would otherwise meet the user's cap of ten open streams.
    let host = Host::start_with_env(&[("DEV_SIGN_IN", "true"), ("STREAM_HEARTBEAT_SECS", "1")]).await;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let shots = format!("{root}/target/screenshots");
    // OTHER_TOKEN: another user, who shares a list with the development user.
    let alice = common::token("alice");
    let env = [("BASE_URL", host.base.as_str()), ("OTHER_TOKEN", alice.as_str()), ("SHOTS", shots.as_str())];
    // Each step says it passed.
    let stdout = common::node_scenario(
        &host,
        "tests/browser/app.mjs",
        &env,
        &[
            "first screen interactive",
            "manifest is read without an error",
            "signed in",
            "plain words for rules and dates",
            "literally",
            "keyboard alone",
            "search",
            "sort by title",
            "layout shift of a signed-in load",
            "completed",
            "quick add read the line",
            "picker shows the next occurrences",
            "next occurrence appeared",
            "stale edit",
            "live: the stream is open",
            "a new tab was signed in by the open one",
            "another tab appeared live",
            "reminder arrived live",
            "caught up through the changes feed",
            "delete with undo",
            "shortcuts",
            "shared list",
            "found under Assigned to me",
            "shared with a viewer and taken back",
            "list settings",
            "history in words",
            "moved it to another list",
            "keyset pages",
            "expired token",
            "prefers-color-scheme followed",
            "360 px",
            "signing out in one tab signed out the other",
        ],
    );
    for view in [
        "sign-in",
        "view-all",
        "view-today",
        "view-upcoming",
        "view-overdue",
        "view-completed",
        "view-assigned",
        "view-all-dark",
        "view-today-dark",
        "view-upcoming-dark",
        "view-overdue-dark",
        "view-assigned-dark",
        "view-completed-dark",
        "dialog-list-settings",
        "dialog-shortcuts",
    ] {
        assert!(stdout.contains(&format!("axe on {view}")), "no accessibility scan of {view}:\n{stdout}");
    }
}

/// The settings dialog (issue #33) and snoozing a reminder from the page, in
/// their own scenario: tests/browser/settings.mjs.
#[tokio::test]
async fn the_settings_dialog_confirms_an_address_and_a_reminder_is_snoozed() {
    let host = Host::start_with_env(&[("DEV_SIGN_IN", "true")]).await;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let shots = format!("{root}/target/screenshots");
    let env = [("BASE_URL", host.base.as_str()), ("SHOTS", shots.as_str())];
    let stdout = common::node_scenario(
        &host,
        "tests/browser/settings.mjs",
        &env,
        &[
            "bad address is marked beside its field",
            "saved by keyboard alone",
            "confirmed the address",
            "snoozed for an hour",
            "360 px",
            "axe on settings-light",
            "axe on settings-dark",
            "no Content-Security-Policy violation",
        ],
    );
    assert!(!stdout.contains("FAILED"), "{stdout}");
}

/// Web Push (issue #33): push turned on in the settings dialog, a reminder
/// through the loopback push service (which decrypts it and checks its VAPID
/// signature) to the service worker, its notification's Snooze and Complete:
/// tests/browser/push.mjs.
#[tokio::test]
async fn a_reminder_is_pushed_to_the_browser_and_acted_on_from_its_notification() {
    let service = todo_testing::PushService::start();
    let vapid = todo_lib::push::VapidKeys::generate();
    let vapid = secrecy::ExposeSecret::expose_secret(&vapid).to_owned();
    // WEBHOOK_ALLOW_LOOPBACK (set by `Host`) lets push reach the loopback service.
    let host = Host::start_with_env(&[("DEV_SIGN_IN", "true"), ("VAPID_PRIVATE_KEY", vapid.as_str())]).await;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let shots = format!("{root}/target/screenshots");
    let push = format!("http://127.0.0.1:{}", service.port);
    let env = [("BASE_URL", host.base.as_str()), ("PUSH_URL", push.as_str()), ("SHOTS", shots.as_str())];
    common::node_scenario(
        &host,
        "tests/browser/push.mjs",
        &env,
        &[
            "push turned on in this browser by keyboard",
            "reached the push service encrypted and signed",
            "shows the reminder with Complete and Snooze",
            "Snooze on the notification re-armed",
            "Complete on the notification marked the task done",
            "a subscription held for another user is not shown as on",
            "turning push off deletes the subscription",
            "no Content-Security-Policy violation",
        ],
    );
    assert!(service.received().iter().all(|m| m.get("error").is_none()), "{:?}", service.received());
}

/// The app without its server (issue #31): opened from the service worker's
/// cache with the last tasks seen, changes queued across a reload and sent
/// once when the server is back, a conflict shown and settled. The page
/// reaches the host through a relay that the scenario cuts:
/// tests/browser/offline.mjs.
#[tokio::test]
async fn the_web_app_works_offline_and_sends_what_was_queued_once() {
    let host = Host::start_with_env(&[("DEV_SIGN_IN", "true")]).await;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let shots = format!("{root}/target/screenshots");
    let env = [("BASE_URL", host.base.as_str()), ("SHOTS", shots.as_str())];
    common::node_scenario(
        &host,
        "tests/browser/offline.mjs",
        &env,
        &[
            "service worker controls the page",
            "opened from its cache with the last tasks it saw",
            "were queued while offline",
            "the queue survived a reload",
            "axe on offline-light",
            "axe on offline-dark",
            "made once though its first answer was lost",
            "axe on offline-conflict-light",
            "axe on offline-conflict-dark",
            "settled by keyboard",
            "signing out forgot",
            "no Content-Security-Policy violation",
        ],
    );
}

/// What an outside walk of the web app found wrong (issue #27), in its own
/// scenario: tests/browser/answers.mjs.
#[tokio::test]
async fn the_web_app_answers_what_the_outside_walk_found() {
    let host = Host::start_with_env(&[("DEV_SIGN_IN", "true")]).await;
    // Alice has signed in: lists may be shared with her, and she shares with dev-user.
    assert_eq!(host.get("/v1/lists", "alice").await.status, reqwest::StatusCode::OK);
    let alice = common::token("alice");
    let env = [("BASE_URL", host.base.as_str()), ("OTHER_TOKEN", alice.as_str())];
    common::node_scenario(
        &host,
        "tests/browser/answers.mjs",
        &env,
        &[
            "no console error on load",
            "Today holds what was due earlier today",
            "form errors beside their fields",
            "removed member loses the list at once",
            "unreachable message goes",
        ],
    );
}

/// The API explorer at `/docs`: tests/browser/docs.mjs.
#[tokio::test]
async fn the_api_explorer_lists_every_operation_and_tries_one() {
    let host = Host::start().await;
    let alice = common::token("alice");
    let env = [("BASE_URL", host.base.as_str()), ("TOKEN", alice.as_str())];
    let steps = ["lists all", "try it out with a bearer token answered 200", "no console error on /docs"];
    common::node_scenario(&host, "tests/browser/docs.mjs", &env, &steps);
}

/// Kills the identity provider when the test ends, passed or not.
struct Provider(Child);

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sign-in with OpenID Connect (authorization code with PKCE) against a real
/// provider, node-oidc-provider (tests/browser/idp.mjs), on loopback.
#[tokio::test]
async fn the_web_app_signs_in_with_openid_connect() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let (idp_port, host_port) = (common::free_port(), common::free_port());
    let issuer = format!("http://127.0.0.1:{idp_port}");
    let base = format!("http://127.0.0.1:{host_port}");
    let _provider = Provider(
        Command::new("node")
            .current_dir(root)
            .arg("tests/browser/idp.mjs")
            .env("IDP_PORT", idp_port.to_string())
            .env("REDIRECT_URI", format!("{base}/"))
            .env("RESOURCE", "urn:todo:api")
            .stdout(Stdio::null())
            .spawn()
            .expect("node runs tests/browser/idp.mjs"),
    );
    let discovery = format!("{issuer}/.well-known/openid-configuration");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !reqwest::get(&discovery).await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "the identity provider did not answer at {issuer} within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let jwks = format!("{issuer}/jwks");
    let host = Host::start_at(
        None,
        Some(host_port),
        &[
            ("JWT_ISSUER", issuer.as_str()),
            ("JWT_JWKS_URL", jwks.as_str()),
            ("JWT_AUDIENCE", "urn:todo:api"),
            ("OIDC_CLIENT_ID", "todo-web"),
        ],
    )
    .await;
    let output = Command::new("node")
        .current_dir(root)
        .arg("tests/browser/oidc.mjs")
        .env("BASE_URL", &host.base)
        .env("ISSUER", &issuer)
        .output()
        .expect("node runs tests/browser/oidc.mjs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the sign-in test failed:\n{stdout}\n{stderr}\n--- host ---\n{}",
        host.logs()
    );
    for step in ["signed in with OpenID Connect", "accepts the access token", "said plainly"] {
        assert!(stdout.contains(step), "no '{step}' in:\n{stdout}");
    }
    let logs = host.logs();
    assert!(!logs.contains("eyJ"), "no token in the host's logs");
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
        "/words.js",
        "/keys.js",
        "/subtasks.js",
        "/invitations.js",
        "/order.js",
        "/bulk.js",
        "/tags.js",
        "/tabs.js",
        "/offline.js",
        "/problems.js",
        "/app.css",
        "/favicon.svg",
        "/manifest.webmanifest",
        "/docs",
        "/docs/docs.js",
        "/docs/docs.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
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
