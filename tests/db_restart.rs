//! PostgreSQL crashes and comes back while the real local host takes a stream
//! of writes whose events (task.created, then task.due for an immediate
//! reminder) are being delivered. The server is the test's own
//! (`PrivatePostgres`), stopped with `-m immediate`: connections cut, recovery
//! from the write-ahead log. Afterwards every acknowledged write is there, and
//! each has exactly one activity entry and one reminder: nothing lost, nothing
//! doubled. A write refused during the outage (503) left at most one task.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Host, items};
use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_testing::PrivatePostgres;

/// One user per writer, so that each user's lists stay under their 200-item page.
const USERS: [&str; 4] = ["alice", "bob", "carol", "dave"];

/// Creates one task due now with an immediate reminder; its id when acknowledged.
async fn write(host: &Host, user: &str, n: usize) -> Result<String, StatusCode> {
    let due = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let body = json!({ "title": format!("write {n}"), "due_at": due, "remind_before_minutes": 0 });
    let answer = host.post("/v1/tasks", user, body).await;
    match answer.status {
        StatusCode::CREATED => Ok(answer.body["id"].as_str().expect("id").to_owned()),
        other => Err(other),
    }
}

/// How many created activities and reminders each task has, over all users.
async fn effects(host: &Host) -> (HashMap<String, usize>, HashMap<String, usize>) {
    let (mut created, mut reminded) = (HashMap::new(), HashMap::new());
    for user in USERS {
        let activity = host.get("/v1/activity?limit=200", user).await;
        let entries = items(&activity.body);
        assert!(entries.len() < 200, "{user}'s activity fits one page");
        for entry in entries.iter().filter(|e| e["kind"] == "task.created") {
            *created.entry(entry["task_id"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
        }
        let notes = items(&host.get("/v1/notifications?limit=200", user).await.body);
        assert!(notes.len() < 200, "{user}'s notifications fit one page");
        for note in notes {
            *reminded.entry(note["task_id"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
        }
    }
    (created, reminded)
}

/// What one writer saw: acknowledged ids, and how many writes were refused.
#[derive(Default)]
struct Seen {
    acknowledged: Vec<String>,
    refused: usize,
    /// Acknowledged after the database came back.
    after_restart: usize,
    /// When each write was sent and answered.
    spans: Vec<(Instant, Instant)>,
}

/// Writes until `end`, one write at a time; `restarted` tells when the
/// database is back after the crash.
async fn writer(
    host: &Host,
    user: &str,
    counter: &AtomicUsize,
    restarted: &AtomicBool,
    end: Instant,
) -> Seen {
    let mut seen = Seen::default();
    while Instant::now() < end {
        let back = restarted.load(Ordering::SeqCst);
        let sent = Instant::now();
        let answer = write(host, user, counter.fetch_add(1, Ordering::SeqCst)).await;
        seen.spans.push((sent, Instant::now()));
        match answer {
            Ok(id) => {
                seen.acknowledged.push(id);
                seen.after_restart += usize::from(back);
            }
            Err(status) => {
                assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "a clear retry-later answer");
                seen.refused += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_crash_mid_stream_loses_no_acknowledged_write_and_doubles_no_effect() {
    let server = Arc::new(PrivatePostgres::start());
    let url = server.url();
    // Four writers as fast as they can go, and a read per acknowledged write
    // afterwards: budgets no test of faults should meet.
    let unlimited = [
        ("DATABASE_URL", url.as_str()),
        ("RATE_LIMIT_WRITE_BURST", "100000"),
        ("RATE_LIMIT_WRITE_PER_MINUTE", "1000000"),
        ("RATE_LIMIT_READ_BURST", "100000"),
        ("RATE_LIMIT_READ_PER_MINUTE", "1000000"),
    ];
    let host = Host::start_on_with(None, &unlimited).await;

    // Four writers for 14 s; the database crashes at 2 s and is back at 5 s (a
    // write waiting for a connection gives up after 5 s, so writes resume late).
    let (counter, restarted) = (AtomicUsize::new(0), AtomicBool::new(false));
    let end = Instant::now() + Duration::from_secs(14);
    let controller = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let crashing = Arc::clone(&server);
        tokio::task::spawn_blocking(move || crashing.crash()).await.expect("crash");
        let crashed_at = Instant::now();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let starting = Arc::clone(&server);
        tokio::task::spawn_blocking(move || starting.start_server()).await.expect("restart");
        restarted.store(true, Ordering::SeqCst);
        (crashed_at, Instant::now())
    };
    let ((crashed_at, back_at), a, b, c, d) = tokio::join!(
        controller,
        writer(&host, USERS[0], &counter, &restarted, end),
        writer(&host, USERS[1], &counter, &restarted, end),
        writer(&host, USERS[2], &counter, &restarted, end),
        writer(&host, USERS[3], &counter, &restarted, end),
    );
    let seen = [a, b, c, d];
    let acknowledged: Vec<String> = seen.iter().flat_map(|s| s.acknowledged.iter().cloned()).collect();
    let refused: usize = seen.iter().map(|s| s.refused).sum();
    // A write during the outage waits up to 5 s for a connection: it is
    // acknowledged if the database is back by then, refused (503) if not.
    let during_outage = seen
        .iter()
        .flat_map(|s| &s.spans)
        .filter(|(sent, answered)| *sent < back_at && *answered > crashed_at)
        .count();
    assert!(during_outage > 0, "writes were in flight during the outage");
    assert!(seen.iter().map(|s| s.after_restart).sum::<usize>() > 0, "writes succeed again after it");

    // Deliveries that failed during the outage are retried by the bus or swept
    // from the outbox; wait until every acknowledged write has its effects.
    let deadline = Instant::now() + Duration::from_secs(40);
    let (created, reminded) = loop {
        let (created, reminded) = effects(&host).await;
        let done = acknowledged.iter().all(|id| created.contains_key(id) && reminded.contains_key(id));
        if done || Instant::now() > deadline {
            break (created, reminded);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let dead = reqwest::get(host.url("/functions/dead-letters")).await.expect("answered");
    let dead: Value = dead.json().await.expect("JSON");
    assert_eq!(dead["dead_letters"], json!([]), "nothing was given up on");
    for id in &acknowledged {
        let found = stored_for_someone(&host, id).await;
        assert!(found, "acknowledged task {id} is stored");
        assert_eq!(created.get(id), Some(&1), "task {id}: one created activity");
        assert_eq!(reminded.get(id), Some(&1), "task {id}: one reminder");
    }
    assert!(created.values().chain(reminded.values()).all(|&c| c == 1), "no effect doubled");
    let mut stored = 0;
    for user in USERS {
        stored += items(&host.get("/v1/tasks?status=all&limit=200", user).await.body).len();
    }
    assert!(stored >= acknowledged.len() && stored <= acknowledged.len() + refused, "{stored} stored");
    eprintln!(
        "postgres crash: {} writes acknowledged, {} in flight during the outage, {} refused with 503, {} stored, 0 lost",
        acknowledged.len(),
        during_outage,
        refused,
        stored
    );
}

/// Whether task `id` is stored for one of the users.
async fn stored_for_someone(host: &Host, id: &str) -> bool {
    for user in USERS {
        if host.get(&format!("/v1/tasks/{id}"), user).await.status == StatusCode::OK {
            return true;
        }
    }
    false
}
