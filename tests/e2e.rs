//! The whole system in one process, over real sockets: reminders fire in the app
//! and as signed webhooks (a receiver that hangs delays no one else), recurring
//! tasks roll forward exactly once, malformed
//! events sent with curl are refused clearly, and `scripts/invoke` redelivers
//! the events the system wrote (duplicates, acted on once) and has its made-up
//! examples refused.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use common::{Host, items};
use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_testing::WebhookReceiver;

fn rfc3339(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[tokio::test]
async fn a_reminder_due_in_two_seconds_arrives_in_app_and_as_a_signed_webhook_within_five() {
    let host = Host::start().await;
    let receiver = WebhookReceiver::start().await;
    let hook = host.post("/v1/webhooks", "alice", json!({ "url": receiver.url })).await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.body);
    let secret = hook.body["secret"].as_str().expect("the secret is shown once").to_owned();

    let due = Utc::now() + chrono::Duration::seconds(2);
    let started = Instant::now();
    let body = json!({ "title": "Call the dentist", "due_at": rfc3339(due), "remind_before_minutes": 0 });
    let task = host.post("/v1/tasks", "alice", body).await;
    assert_eq!(task.status, StatusCode::CREATED, "{}", task.body);

    let within = Duration::from_secs(5);
    let notes = host.poll("/v1/notifications", "alice", within, |b| !items(b).is_empty()).await;
    let notes = items(&notes);
    assert_eq!(notes.len(), 1, "one in-app notification within 5 s: {notes:?}");
    assert_eq!(notes[0]["task_id"], task.body["id"]);
    assert_eq!(notes[0]["title"], "Call the dentist");
    let fired: chrono::DateTime<Utc> =
        notes[0]["created_at"].as_str().and_then(|t| t.parse().ok()).expect("created_at");
    assert!(fired >= due - chrono::Duration::milliseconds(1), "not before it is due: {fired} < {due}");

    // The task's webhooks: task.created at once, then task.due.
    let remaining = within.saturating_sub(started.elapsed());
    let received = receiver.wait_for(2, remaining).await;
    assert!(started.elapsed() <= within, "both arrived within 5 s (took {:?})", started.elapsed());
    let due_hook = received
        .iter()
        .find(|r| serde_json::from_str::<Value>(&r.body).is_ok_and(|b| b["type"] == "task.due"))
        .unwrap_or_else(|| panic!("a task.due webhook: {received:?}"));
    let mut headers = axum::http::HeaderMap::new();
    for (name, value) in &due_hook.headers {
        if let (Ok(name), Ok(value)) = (name.parse::<axum::http::HeaderName>(), value.parse()) {
            headers.insert(name, value);
        }
    }
    let verifier = standardwebhooks::Webhook::new(&secret).expect("a Standard Webhooks secret");
    verifier.verify(due_hook.body.as_bytes(), &headers).expect("the signature verifies");
    let mut tampered = due_hook.body.clone();
    tampered.push(' ');
    assert!(verifier.verify(tampered.as_bytes(), &headers).is_err(), "a changed body does not verify");
    let payload: Value = serde_json::from_str(&due_hook.body).expect("json");
    assert_eq!(payload["data"]["task"]["id"], task.body["id"]);

    // Later ticks do not fire it again.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(items(&host.get("/v1/notifications", "alice").await.body).len(), 1);
    let due_hooks = receiver.received().iter().filter(|r| r.body.contains("\"task.due\"")).count();
    assert_eq!(due_hooks, 1);
}

#[tokio::test]
async fn a_webhook_receiver_that_hangs_does_not_delay_another_users_reminder() {
    let host = Host::start().await;
    // Alice's receiver never answers (the host gives a receiver 10 s); Bob's does.
    let hanging = WebhookReceiver::start().await;
    hanging.answer_with(&[0; 8]);
    let bobs = WebhookReceiver::start().await;
    for (user, receiver) in [("alice", &hanging), ("bob", &bobs)] {
        let hook = host.post("/v1/webhooks", user, json!({ "url": receiver.url })).await;
        assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.body);
    }
    let started = Instant::now();
    let due = rfc3339(Utc::now() + chrono::Duration::seconds(1));
    for user in ["alice", "bob"] {
        let body = json!({ "title": format!("{user}'s call"), "due_at": due, "remind_before_minutes": 0 });
        let task = host.post("/v1/tasks", user, body).await;
        assert_eq!(task.status, StatusCode::CREATED, "{}", task.body);
    }

    let within = Duration::from_secs(5);
    let is_due = |r: &todo_testing::Received| r.body.contains("\"task.due\"");
    let mut bob_due = false;
    while !bob_due && started.elapsed() < within {
        tokio::time::sleep(Duration::from_millis(50)).await;
        bob_due = bobs.received().iter().any(is_due);
    }
    assert!(bob_due, "Bob's task.due webhook within 5 s: {:?}", bobs.received());
    assert!(!hanging.received().is_empty(), "Alice's receiver was called, and hangs");
    let notes = host.poll("/v1/notifications", "alice", within, |b| !items(b).is_empty()).await;
    assert_eq!(items(&notes).len(), 1, "Alice's in-app reminder is not held up either");
}

#[tokio::test]
async fn completing_a_daily_recurring_task_creates_the_next_occurrence_exactly_once() {
    let host = Host::start().await;
    let due = Utc::now() + chrono::Duration::days(1);
    let body = json!({ "title": "Stand-up", "due_at": rfc3339(due), "recurrence": "FREQ=DAILY" });
    let task = host.post("/v1/tasks", "alice", body).await;
    assert_eq!(task.status, StatusCode::CREATED, "{}", task.body);
    let id = task.body["id"].as_str().expect("id").to_owned();

    let done = host.post(&format!("/v1/tasks/{id}/complete"), "alice", json!({})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let within = Duration::from_secs(10);
    let page = host.poll("/v1/tasks?status=all", "alice", within, |b| items(b).len() >= 2).await;
    let tasks = items(&page);
    assert_eq!(tasks.len(), 2, "the next occurrence was created: {tasks:?}");
    let next = tasks.iter().find(|t| t["id"] != id.as_str()).expect("the next occurrence");
    assert_eq!(next["series_id"], task.body["series_id"]);
    assert_eq!(next["completed"], false);
    let next_due: chrono::DateTime<Utc> = next["due_at"].as_str().and_then(|t| t.parse().ok()).expect("due");
    assert_eq!(next_due.timestamp(), due.timestamp() + 86_400, "one day later");

    // Reopened, the completion is taken back with the successor it made (untouched);
    // completed again, the series rolls forward anew: one successor in the end.
    let reopened = host.post(&format!("/v1/tasks/{id}/reopen"), "alice", json!({})).await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.body);
    let again = host.post(&format!("/v1/tasks/{id}/complete"), "alice", json!({})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let completions = |b: &Value| items(b).iter().filter(|a| a["kind"] == "task.completed").count();
    let reopenings = |b: &Value| items(b).iter().filter(|a| a["kind"] == "task.updated").count();
    // Each topic is delivered on its own: wait for both kinds, not only the completions.
    let activity = host
        .poll(&format!("/v1/tasks/{id}/activity"), "alice", within, |b| {
            completions(b) >= 2 && reopenings(b) >= 1
        })
        .await;
    assert_eq!(completions(&activity), 2, "both completions were handled: {activity}");
    assert_eq!(reopenings(&activity), 1, "task-changed recorded the reopening: {activity}");
    // Two more cron ticks: nothing left in the outbox creates another one.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let tasks = items(&host.get("/v1/tasks?status=all", "alice").await.body);
    assert_eq!(tasks.len(), 2, "exactly one next occurrence: {tasks:?}");
    let activity = items(&host.get("/v1/activity?limit=200", "alice").await.body);
    let kinds = |kind: &str| activity.iter().filter(|a| a["kind"] == kind).count();
    assert_eq!(
        (kinds("task.created"), kinds("task.deleted")),
        (3, 1),
        "the original, its successor taken back on reopening, and the one made anew: {activity:?}"
    );
}

#[tokio::test]
async fn sharing_a_list_reaches_every_member_through_the_local_host() {
    let host = Host::start().await;
    let list = host.post("/v1/lists", "alice", json!({ "name": "Household" })).await;
    assert_eq!(list.status, StatusCode::CREATED, "{}", list.body);
    let list = list.body["id"].as_str().expect("id").to_owned();
    // Bob has signed in (his Inbox is made): the list may be shared with him.
    assert_eq!(host.get("/v1/lists", "bob").await.status, StatusCode::OK);
    let bob = json!({ "user_id": "bob", "role": "editor" });
    let added = host.post(&format!("/v1/lists/{list}/members"), "alice", bob).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let task = host.post("/v1/tasks", "bob", json!({ "title": "Buy bread", "list_id": list })).await;
    assert_eq!(task.status, StatusCode::CREATED, "{}", task.body);

    // Through the in-process bus: list-members and task-created record both in
    // the list, and Alice sees what Bob did.
    let kinds = |b: &Value| {
        items(b).iter().map(|a| a["kind"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>()
    };
    let path = format!("/v1/lists/{list}/activity");
    let activity = host.poll(&path, "alice", Duration::from_secs(10), |b| kinds(b).len() >= 2).await;
    let mut seen = kinds(&activity);
    seen.sort_unstable();
    assert_eq!(seen, ["list.member_added", "task.created"], "{activity}");
    let joined = items(&activity).into_iter().find(|a| a["kind"] == "list.member_added").expect("joined");
    assert_eq!(
        (joined["summary"].as_str(), &joined["task_id"]),
        (Some("alice added bob as editor"), &json!(null))
    );
}

#[tokio::test]
async fn on_postgresql_a_recurring_reminder_fires_and_its_series_rolls_forward_once() {
    let host = Host::start_on_postgres().await;
    let due = Utc::now() + chrono::Duration::seconds(2);
    let body = json!({
        "title": "Take the pill", "due_at": rfc3339(due), "remind_before_minutes": 0, "recurrence": "FREQ=DAILY"
    });
    let task = host.post("/v1/tasks", "alice", body).await;
    assert_eq!(task.status, StatusCode::CREATED, "{}", task.body);
    let id = task.body["id"].as_str().expect("id").to_owned();

    let notes =
        host.poll("/v1/notifications", "alice", Duration::from_secs(5), |b| !items(b).is_empty()).await;
    assert_eq!(items(&notes).len(), 1, "the reminder fired: {notes}");
    let done = host.post(&format!("/v1/tasks/{id}/complete"), "alice", json!({})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let page =
        host.poll("/v1/tasks?status=all", "alice", Duration::from_secs(10), |b| items(b).len() >= 2).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let tasks = items(&host.get("/v1/tasks?status=all", "alice").await.body);
    assert_eq!(tasks.len(), 2, "exactly one next occurrence: {page}");
    let next = tasks.iter().find(|t| t["id"] != id.as_str()).expect("the next occurrence");
    let next_due: chrono::DateTime<Utc> = next["due_at"].as_str().and_then(|t| t.parse().ok()).expect("due");
    assert_eq!(next_due.timestamp(), due.timestamp() + 86_400, "one day later");
    assert_eq!(items(&host.get("/v1/notifications", "alice").await.body).len(), 1, "fired once");
}

/// `curl -X POST url` with headers and body; the status and the JSON answer.
fn curl(url: &str, headers: &[&str], body: &str) -> (u16, Value) {
    let mut command = Command::new("curl");
    command.args(["-sS", "--max-time", "10", "-w", "\n%{http_code}", "-X", "POST", url]);
    for header in headers {
        command.args(["-H", header]);
    }
    let output = command.args(["--data-binary", body]).output().expect("curl runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (answer, code) = text.rsplit_once('\n').expect("a status line");
    (code.trim().parse().expect("a status"), serde_json::from_str(answer).unwrap_or(Value::Null))
}

#[tokio::test]
async fn malformed_events_sent_with_curl_get_400_with_a_clear_message_and_change_nothing() {
    let host = Host::start().await;
    let structured = "Content-Type: application/cloudevents+json";
    let event = |ty: &str, data: Value| {
        json!({ "specversion": "1.0", "id": "e-1", "source": "curl", "type": ty, "data": data }).to_string()
    };
    // TYPE stands for the type the function handles, where a case is about the rest.
    let cases: Vec<(Vec<&str>, String, &str)> = vec![
        (vec![structured], "{not json".into(), "not a CloudEvent"),
        (vec!["Content-Type: application/json"], "{}".into(), "application/cloudevents+json"),
        (vec![structured], r#"{"specversion":"1.0","id":"1","type":"TYPE"}"#.into(), "source"),
        (vec![structured], event("task.exploded", json!({})), "unknown event type 'task.exploded'"),
        (vec![structured], event("task.deleted", json!({})), "this function handles"),
        (vec![structured], event("TYPE", json!({ "version": 1 })), "invalid data for"),
        (vec![structured], event("TYPE", Value::Null), "invalid data for"),
        (
            vec!["ce-specversion: 1.0", "ce-id: 1", "ce-source: curl", "ce-type: TYPE"],
            "not json".into(),
            "invalid data for",
        ),
        (vec![structured], String::new(), "empty body"),
    ];
    for function in ["task-created", "task-completed", "task-due"] {
        let url = host.url(&format!("/functions/{function}/"));
        let ty = function.replacen('-', ".", 1);
        for (headers, body, expected) in &cases {
            let body = body.replace("TYPE", &ty);
            let headers: Vec<String> = headers.iter().map(|h| h.replace("TYPE", &ty)).collect();
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            let (status, answer) = curl(&url, &headers, &body);
            assert_eq!(status, 400, "{function} {body:?}: {answer}");
            assert_eq!(answer["error"]["code"], "invalid_event", "{function} {body:?}: {answer}");
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(expected), "{function} {body:?}: {message:?} lacks {expected:?}");
        }
    }
    // Nothing was stored or dead-lettered.
    assert!(items(&host.get("/v1/activity", "alice").await.body).is_empty());
    assert!(items(&host.get("/v1/tasks?status=all", "alice").await.body).is_empty());
    let letters = reqwest::get(host.url("/functions/dead-letters")).await.expect("answered");
    let letters: Value = letters.json().await.expect("json");
    assert_eq!(letters["dead_letters"], json!([]));
    // A GET on a function path says what it expects.
    let get = reqwest::get(host.url("/functions/cron-tick/")).await.expect("answered");
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    let answer: Value = get.json().await.expect("json");
    assert!(answer["error"]["message"].as_str().is_some_and(|m| m.contains("POST /")), "{answer}");
}

fn invoke(host: &Host, args: &[&str]) -> (bool, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let output = Command::new(todo_testing::python())
        .current_dir(root)
        .arg("scripts/invoke")
        .args(args)
        .env("TODO_URL", &host.base)
        .env_remove("APP_API_TOKEN")
        .output()
        .expect("python runs scripts/invoke");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[tokio::test]
async fn scripts_invoke_redelivers_written_events_and_refuses_made_up_ones_in_both_modes() {
    let host = Host::start().await;
    // The script offers, and documents, every function the host serves.
    let served = reqwest::get(host.url("/functions")).await.expect("answered");
    let served: Value = served.json().await.expect("json");
    let (ok, help) = invoke(&host, &["--help"]);
    assert!(ok, "{help}");
    let names: Vec<&str> = served["functions"]
        .as_array()
        .expect("a list of functions")
        .iter()
        .map(|f| f["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names.len(), 6, "{served}");
    for name in names {
        assert!(help.contains(name), "the help describes {name}: {help}");
        let (_, out) = invoke(&host, &[name, "examples/missing.json"]);
        assert!(!out.contains("invalid choice"), "{name} is one of the choices: {out}");
    }

    // The examples are events nobody wrote: refused in both modes, changing nothing.
    let examples = [
        ("task-created", "examples/task.created.json"),
        ("task-changed", "examples/task.updated.json"),
        ("task-completed", "examples/task.completed.json"),
        ("task-due", "examples/task.due.json"),
        ("list-members", "examples/list.member_added.json"),
    ];
    for (function, file) in examples {
        for args in [&[function, file][..], &["--binary", function, file]] {
            let (ok, out) = invoke(&host, args);
            assert!(!ok && out.contains("HTTP 400"), "{function} {args:?}: {out}");
            assert!(out.contains("was written by this system"), "{function} {args:?}: {out}");
        }
    }
    assert!(items(&host.get("/v1/activity", "dev-user").await.body).is_empty(), "nothing acted on them");
    assert!(items(&host.get("/v1/tasks?status=all", "dev-user").await.body).is_empty());
    let (ok, out) = invoke(&host, &["--last", "task-due"]);
    assert!(!ok && out.contains("no event for task-due was written yet"), "{out}");

    // Events the system wrote, redelivered with --last: each a duplicate, in both
    // modes, so the daily task still has exactly one next occurrence.
    let body = json!({ "title": "Stand-up", "due_at": rfc3339(Utc::now() + chrono::Duration::days(1)),
        "recurrence": "FREQ=DAILY" });
    let task = host.post("/v1/tasks", "dev-user", body).await;
    assert_eq!(task.status, StatusCode::CREATED, "{}", task.body);
    let id = task.body["id"].as_str().expect("id").to_owned();
    let done = host.post(&format!("/v1/tasks/{id}/complete"), "dev-user", json!({})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let deleted = host.send(reqwest::Method::DELETE, &format!("/v1/tasks/{id}"), "dev-user", None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let kinds = |b: &Value, kind: &str| items(b).iter().filter(|a| a["kind"] == kind).count();
    // The original and its next occurrence were created; one completion, one deletion.
    let handled = |b: &Value| {
        (kinds(b, "task.created"), kinds(b, "task.completed"), kinds(b, "task.deleted")) == (2, 1, 1)
    };
    let activity = host.poll("/v1/activity?limit=200", "dev-user", Duration::from_secs(10), handled).await;
    assert!(handled(&activity), "{activity}");
    for function in ["task-created", "task-changed", "task-completed"] {
        for args in [&["--last", function][..], &["--binary", "--last", function]] {
            let (ok, out) = invoke(&host, args);
            assert!(ok && out.contains("\"status\": \"duplicate\""), "{function} {args:?}: {out}");
        }
    }
    let (ok, out) = invoke(&host, &["cron-tick"]);
    assert!(ok && out.contains("\"reminders\""), "cron-tick: {out}");
    let activity = items(&host.get("/v1/activity?limit=200", "dev-user").await.body);
    assert_eq!(activity.len(), 4, "redeliveries added nothing: {activity:?}");
    let tasks = items(&host.get("/v1/tasks?status=all", "dev-user").await.body);
    assert_eq!(tasks.len(), 1, "one next occurrence: {tasks:?}");

    // Wrong use is explained, and nothing is sent.
    let (ok, out) = invoke(&host, &["task-due", "examples/missing.json"]);
    assert!(!ok && out.contains("cannot read examples/missing.json"), "{out}");
    let (ok, out) = invoke(&host, &["task-due", "examples/task.created.json"]);
    assert!(!ok && out.contains("HTTP 400") && out.contains("handles task.due, not task.created"), "{out}");
}
