//! The outbox is the durable queue: the local host killed with SIGKILL in the
//! middle of a stream of writes, then started again on the same data, delivers
//! every event, and each has its effect exactly once.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Host, items, token};
use serde_json::{Value, json};
use todo_lib::store::ConnectOptions;

const WORKERS: usize = 8;
/// Creates per worker at most: the stream is bounded even if the kill came late.
const PER_WORKER: usize = 25;
/// The host is killed once this many creates were acknowledged.
const KILL_AFTER: usize = 40;

/// What the clients were told succeeded, per user.
#[derive(Default)]
struct Acknowledged {
    created: HashMap<String, Vec<String>>,
    completed: HashMap<String, Vec<String>>,
}

/// One client: creates tasks, completes every other one, until the host is gone.
async fn write_until_killed(base: String, user: String, acks: Arc<Mutex<Acknowledged>>) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");
    let bearer = token(&user);
    for i in 0..PER_WORKER {
        let created = client
            .post(format!("{base}/v1/tasks"))
            .bearer_auth(&bearer)
            .json(&json!({ "title": format!("{user}-{i}") }))
            .send()
            .await;
        let Ok(res) = created else { return };
        if res.status() != 201 {
            return;
        }
        let Ok(task) = res.json::<Value>().await else { return };
        let id = task["id"].as_str().expect("id").to_owned();
        acks.lock().expect("lock").created.entry(user.clone()).or_default().push(id.clone());
        if i % 2 == 0 {
            let done =
                client.post(format!("{base}/v1/tasks/{id}/complete")).bearer_auth(&bearer).send().await;
            match done {
                Ok(res) if res.status() == 200 => {
                    acks.lock().expect("lock").completed.entry(user.clone()).or_default().push(id);
                }
                _ => return,
            }
        }
    }
}

fn count(acks: &Mutex<Acknowledged>) -> usize {
    acks.lock().expect("lock").created.values().map(Vec::len).sum()
}

/// Per task id, how many activity entries of each kind a user has.
async fn activity_of(host: &Host, user: &str) -> HashMap<(String, String), usize> {
    let mut seen = HashMap::new();
    for entry in items(&host.get("/v1/activity?limit=200", user).await.body) {
        let key = (entry["task_id"].as_str().unwrap_or_default().to_owned(), entry["kind"].to_string());
        *seen.entry(key).or_insert(0) += 1;
    }
    seen
}

#[tokio::test]
async fn killed_mid_stream_and_restarted_every_event_is_delivered_once_in_effect() {
    let mut host = Host::start().await;
    let acks = Arc::new(Mutex::new(Acknowledged::default()));
    let users: Vec<String> = (0..WORKERS).map(|w| format!("writer-{w}")).collect();
    let workers: Vec<_> = users
        .iter()
        .map(|user| tokio::spawn(write_until_killed(host.base.clone(), user.clone(), Arc::clone(&acks))))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&acks) < KILL_AFTER && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    host.kill();
    let at_kill = count(&acks);
    for worker in workers {
        worker.await.expect("the worker ends");
    }
    assert!(
        at_kill >= KILL_AFTER,
        "the stream was running when the host was killed ({at_kill} acknowledged)"
    );
    assert!(
        count(&acks) < WORKERS * PER_WORKER,
        "the kill cut the stream short ({} of {} writes acknowledged)",
        count(&acks),
        WORKERS * PER_WORKER
    );
    let store = todo_lib::store::connect(&host.database_url(), ConnectOptions::default()).expect("store");
    let left = store.count_unpublished().await.expect("count");
    eprintln!("killed after {at_kill} acknowledged creates; {left} events were left unpublished");

    host.launch().await;
    let deadline = Instant::now() + Duration::from_secs(40);
    while store.count_unpublished().await.expect("count") > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(store.count_unpublished().await.expect("count"), 0, "the outbox drained after the restart");

    let created_kind = json!("task.created").to_string();
    let completed_kind = json!("task.completed").to_string();
    let acks = std::mem::take(&mut *acks.lock().expect("lock"));
    for user in &users {
        // Effects are applied before an event is marked published: all are here now.
        let tasks = items(&host.get("/v1/tasks?status=all&limit=200", user).await.body);
        let activity = activity_of(&host, user).await;
        for id in acks.created.get(user).into_iter().flatten() {
            assert!(tasks.iter().any(|t| t["id"] == id.as_str()), "acknowledged task {id} survived");
        }
        for id in acks.completed.get(user).into_iter().flatten() {
            let task = tasks.iter().find(|t| t["id"] == id.as_str()).expect("the completed task");
            assert_eq!(task["completed"], true, "acknowledged completion of {id} survived");
        }
        // Every stored change (acknowledged or cut off after its commit) had its
        // effect exactly once, and nothing else happened.
        for task in &tasks {
            let id = task["id"].as_str().expect("id").to_owned();
            assert_eq!(activity.get(&(id.clone(), created_kind.clone())), Some(&1), "{user}: {id} created");
            let completions = activity.get(&(id.clone(), completed_kind.clone())).copied().unwrap_or(0);
            let expected = usize::from(task["completed"] == true);
            assert_eq!(completions, expected, "{user}: {id} completed {expected} time(s)");
        }
        let entries: usize = activity.values().sum();
        let done = tasks.iter().filter(|t| t["completed"] == true).count();
        assert_eq!(entries, tasks.len() + done, "{user}: no other activity");
    }
    let letters = reqwest::get(host.url("/functions/dead-letters")).await.expect("answered");
    let letters: Value = letters.json().await.expect("json");
    assert_eq!(letters["dead_letters"], json!([]), "nothing was given up on");
}
