//! No secret reaches the logs, even at the most verbose level: the JWT secret,
//! the database password, the Dapr app token, users' bearer tokens, webhook
//! signing secrets, invitation tokens, personal access tokens (made, used on the
//! API and the MCP server, revoked), and credentials presented wrongly. The real `local` binary
//! runs every path that touches them (requests, events, webhook delivery,
//! refusals) with RUST_LOG at debug and trace, and its log is read afterwards.

mod common;

use std::time::Duration;

use common::{Host, SECRET, items, token};
use reqwest::StatusCode;
use serde_json::json;
use todo_testing::WebhookReceiver;

const APP_TOKEN: &str = "app-token-3f9a1c7e5b2d4068";
const DB_PASSWORD: &str = "db-password-8e4b1f2a9c";

#[tokio::test]
async fn no_secret_reaches_the_logs_even_at_debug_level() {
    let db = todo_testing::postgres().await;
    let url = db.postgres_url().expect("url").replacen("postgres@", &format!("postgres:{DB_PASSWORD}@"), 1);
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("APP_API_TOKEN", APP_TOKEN),
        ("RUST_LOG", "debug,tower_http=trace,sqlx=debug,hyper=debug,reqwest=debug"),
    ];
    let mut host = Host::start_on_with(Some(db), &env).await;
    let receiver = WebhookReceiver::start().await;
    let hook = host.post("/v1/webhooks", "alice", json!({ "url": receiver.url })).await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.body);
    let webhook_secret = hook.body["secret"].as_str().expect("secret").to_owned();

    // A reminder due now: task.created and task.due events, both webhooks signed.
    let due = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let task = host
        .post("/v1/tasks", "alice", json!({ "title": "t", "due_at": due, "remind_before_minutes": 0 }))
        .await;
    assert_eq!(task.status, StatusCode::CREATED, "{}", task.body);
    let received = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 2, "both webhooks were delivered");
    let notes =
        host.poll("/v1/notifications", "alice", Duration::from_secs(5), |b| !items(b).is_empty()).await;
    assert_eq!(items(&notes).len(), 1);

    // An invitation's token travels in its accept route's path.
    let list = host.post("/v1/lists", "alice", json!({ "name": "Team" })).await;
    let list_id = list.body["id"].as_str().expect("id").to_owned();
    let invitation =
        host.post(&format!("/v1/lists/{list_id}/invitations"), "alice", json!({ "role": "editor" })).await;
    assert_eq!(invitation.status, StatusCode::CREATED, "{}", invitation.body);
    let invitation_token = invitation.body["token"].as_str().expect("token").to_owned();
    let joined = host.post(&format!("/v1/invitations/{invitation_token}/accept"), "bob", json!({})).await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
    // The router decodes the path: the same token percent-encoded is accepted,
    // and must be redacted as well; a mistyped prefix is refused, and redacted.
    let encoded =
        host.post(&format!("/v1/lists/{list_id}/invitations"), "alice", json!({ "role": "viewer" })).await;
    let encoded_token = encoded.body["token"].as_str().expect("token").to_owned();
    let rest = encoded_token.trim_start_matches("inv_");
    let joined = host.post(&format!("/v1/invitations/%69nv_{rest}/accept"), "carol", json!({})).await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
    let typo = host.post(&format!("/v1/invitations/INV%5F{rest}/accept"), "dave", json!({})).await;
    assert_ne!(typo.status, StatusCode::OK, "{}", typo.body);

    let client = reqwest::Client::new();
    let alice_token = token("alice");
    let listed = client.get(host.url("/v1/tasks")).bearer_auth(&alice_token).send().await.expect("answered");
    assert_eq!(listed.status(), StatusCode::OK);

    // A personal access token: made, used on the API and on the MCP server, revoked.
    let made = host.post("/v1/tokens", "alice", json!({ "name": "cli", "scopes": ["tasks:read"] })).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let pat = made.body["token"].as_str().expect("token").to_owned();
    let pat_id = made.body["id"].as_str().expect("id").to_owned();
    let used = client.get(host.url("/v1/tasks")).bearer_auth(&pat).send().await.expect("answered");
    assert_eq!(used.status(), StatusCode::OK);
    let mcp = client
        .post(host.url("/mcp"))
        .bearer_auth(&pat)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(mcp.status(), StatusCode::OK);
    let revoked = client
        .delete(host.url(&format!("/v1/tokens/{pat_id}")))
        .bearer_auth(&alice_token)
        .send()
        .await
        .expect("answered");
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let refused = client.get(host.url("/v1/tasks")).bearer_auth(&pat).send().await.expect("answered");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    // Refusals, with the wrong credentials in hand.
    let bogus_bearer = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.bogus-signature-7d1e";
    let refused = client.get(host.url("/v1/tasks")).bearer_auth(bogus_bearer).send().await.expect("answered");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let wrong_app_token = "wrong-app-token-5c8d2e";
    let refused = client
        .post(host.url("/functions/task-created/"))
        .header(todo_lib::config::DAPR_API_TOKEN_HEADER, wrong_app_token)
        .body("{}")
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let accepted = client
        .post(host.url("/functions/cron-tick/"))
        .header(todo_lib::config::DAPR_API_TOKEN_HEADER, APP_TOKEN)
        .send()
        .await
        .expect("answered");
    assert_eq!(accepted.status(), StatusCode::OK);

    host.kill();
    let logs = host.logs();
    assert!(logs.contains("listening") && logs.contains("event handled"), "the log is verbose: {logs}");
    assert!(logs.lines().count() > 50, "debug output was written");
    // What is not secret is there: the check below looks where the values would be.
    let task_id = task.body["id"].as_str().expect("id");
    assert!(logs.contains(task_id), "events are logged with their subject");
    let alice_signature = alice_token.rsplit('.').next().expect("signature").to_owned();
    for (what, secret) in [
        ("JWT secret", SECRET),
        ("database password", DB_PASSWORD),
        ("app token", APP_TOKEN),
        ("webhook secret", webhook_secret.as_str()),
        ("webhook secret key", webhook_secret.trim_start_matches("whsec_")),
        ("user's token signature", alice_signature.as_str()),
        ("bogus bearer token", bogus_bearer),
        ("wrong app token", wrong_app_token),
        ("invitation token", invitation_token.trim_start_matches("inv_")),
        ("percent-encoded invitation token", rest),
        ("personal access token", pat.trim_start_matches("todo_pat_")),
    ] {
        assert!(!logs.contains(secret), "the {what} appears in the log");
    }
}
