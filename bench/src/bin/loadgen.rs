//! Sends CloudEvents to an event function the way Dapr delivers them, each with
//! a unique id, and reports events per second and latency percentiles.
//!
//! usage: loadgen --url URL --type TYPE [--events N] [--concurrency C] [--tasks K] [--members M] [--bulk B]
//!
//! With `--bulk B` the events go in Dapr's bulk subscribe requests of B
//! entries each (CloudEvent entries in Dapr's envelope), C requests in flight;
//! latency is then per request, and every entry must be answered `SUCCESS`.
//! With `--lambda BIN` too (and no `--url`), they go as self-managed Kafka
//! event source batches of B records to C processes of the function binary
//! `BIN` under a Lambda Runtime API on loopback (`bench::runtime`), one
//! invocation at a time each, as Lambda runs them; every answer must report no
//! `batchItemFailures`.
//!
//! With `--members M` each task's user keeps the tasks in a list shared with
//! M - 1 others, and each of the M members has one webhook, so that every
//! event is queued for M webhooks: the fan-out issue #15 measures (`M = 1` is
//! the single owner with one webhook). Without it, tasks are in their user's
//! Inbox and nobody has a webhook.
//!
//! The tasks the events are about, and then the events themselves, are first
//! written to `DATABASE_URL`: a function acts only on an event the system wrote,
//! and its effect is then really done (a `task.due` for a task that does not
//! exist would only be skipped). Every answer must be `200 {"status":"SUCCESS"}`;
//! anything else is counted as an error and makes the run fail. Prints one JSON
//! line: `{"type","events","bulk","concurrency","seconds","events_per_sec","p50_ms","p99_ms","errors"}`.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bench::{Args, percentile};
use chrono::Utc;
use todo_lib::event::{EventType, OutboxEvent, task_event};
use todo_lib::lists::{NewList, TaskList};
use todo_lib::members::{Member, Role};
use todo_lib::store::ConnectOptions;
use todo_lib::task::{NewTask, Task};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(ok) => {
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            eprintln!("loadgen: {err}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let args = Args::parse(std::env::args().skip(1))?;
    let lambda = args.optional("lambda");
    let url = if lambda.is_some() { String::new() } else { args.required("url")? };
    let ty = EventType::parse(&args.required("type")?).ok_or("--type must be a task event type")?;
    let events: usize = args.number("events", 10_000)?;
    let concurrency: usize = args.number("concurrency", 16)?;
    let tasks: usize = args.number("tasks", 1_000)?;
    let members: usize = args.number("members", 0)?;
    // 0 (absent): one event per request.
    let bulk: usize = args.number("bulk", 0)?;
    let database_url = std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL")?;

    // The tasks, written as the API would (their own events marked published).
    let store = todo_lib::store::connect(&database_url, ConnectOptions::default())?;
    let now = Utc::now();
    let mut prepared = Vec::with_capacity(tasks);
    let mut inboxes = std::collections::HashMap::new();
    for i in 0..tasks {
        let user = format!("bench-user-{}", i % 50);
        if !inboxes.contains_key(&user) {
            let list = match members {
                0 => store.inbox_or_insert(&TaskList::inbox(&user, now)).await?,
                m => shared_list(&store, &user, m).await?,
            };
            inboxes.insert(user.clone(), list.id);
        }
        let input = NewTask {
            title: Some(format!("bench {i}")),
            due_at: Some(now + chrono::Duration::days(1)),
            remind_before_minutes: Some(0),
            recurrence: Some("FREQ=DAILY".into()),
            ..NewTask::default()
        };
        let task = Task::create(&user, inboxes[&user], input, now)?;
        let created = task_event(EventType::Created, &task, "bench", now, None)?;
        let mut tx = store.begin().await?;
        tx.insert_task(&task).await?;
        tx.write_event(&created, None).await?;
        tx.commit().await?;
        store.mark_published(created.id, now).await?;
        prepared.push(task);
    }
    // The events, each with a unique id, written as their causes would have.
    let bodies: Vec<(String, usize)> = {
        let events: Vec<OutboxEvent> =
            (0..events).map(|n| event(ty, &prepared[n % prepared.len()])).collect::<Result<_, _>>()?;
        for batch in events.chunks(1_000) {
            let mut tx = store.begin().await?;
            for event in batch {
                tx.write_event(event, None).await?;
            }
            tx.commit().await?;
        }
        let pubsub = todo_lib::config::DEFAULT_PUBSUB_NAME;
        let envelopes: Vec<serde_json::Value> =
            events.iter().map(|e| todo_lib::event::dapr_envelope(e, pubsub)).collect();
        match (bulk, &lambda) {
            (0, _) => envelopes.iter().map(|e| (e.to_string(), 1)).collect(),
            (size, Some(_)) => {
                events.chunks(size).map(|chunk| (kafka_event(chunk, ty), chunk.len())).collect()
            }
            (size, None) => {
                envelopes.chunks(size).map(|chunk| (bulk_request(chunk, ty), chunk.len())).collect()
            }
        }
    };
    let requests = bodies.len();
    if let Some(bin) = lambda {
        let env: Vec<(String, String)> =
            ["DATABASE_URL", "APP_API_TOKEN", "BODY_LIMIT_BYTES", "DB_MAX_CONNECTIONS"]
                .iter()
                .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v)))
                .collect();
        let outcome = bench::runtime::run(&bin, &env, concurrency, bodies, Duration::from_secs(300)).await?;
        let mut latencies = outcome.latencies;
        latencies.sort_unstable();
        report(ty, events, bulk, concurrency, outcome.seconds, &latencies, outcome.errors);
        return Ok(outcome.errors == 0);
    }
    let bodies = Arc::new(bodies);

    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, url, next, bodies) =
            (client.clone(), url.clone(), Arc::clone(&next), Arc::clone(&bodies));
        workers.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0usize);
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= requests {
                    break;
                }
                let (body, entries) = bodies[n].clone();
                let content_type = if bulk == 0 {
                    "application/cloudevents+json"
                } else {
                    "application/cloudevents-batch+json"
                };
                let sent = Instant::now();
                let answer = client
                    .post(&url)
                    .header("content-type", content_type)
                    .body(body)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await;
                let succeeded = match answer {
                    Ok(res) if res.status() == 200 => res.text().await.map(|t| t.matches("SUCCESS").count()),
                    _ => Ok(0),
                };
                latencies.push(sent.elapsed());
                errors += entries - succeeded.unwrap_or(0).min(entries);
            }
            (latencies, errors)
        }));
    }
    let (mut latencies, mut errors) = (Vec::with_capacity(requests), 0);
    for worker in workers {
        let (l, e) = worker.await?;
        latencies.extend(l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    report(ty, events, bulk, concurrency, seconds, &latencies, errors);
    Ok(errors == 0)
}

/// Prints the run's one JSON line.
fn report(
    ty: EventType,
    events: usize,
    bulk: usize,
    concurrency: usize,
    seconds: f64,
    latencies: &[Duration],
    errors: usize,
) {
    let ms = |d: Duration| (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    println!(
        "{}",
        serde_json::json!({
            "type": ty.as_str(),
            "events": events,
            "bulk": bulk,
            "concurrency": concurrency,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "events_per_sec": (events as f64 / seconds).round(),
            "p50_ms": ms(percentile(latencies, 50.0)),
            "p99_ms": ms(percentile(latencies, 99.0)),
            "errors": errors,
        })
    );
}

/// A self-managed Kafka event source batch of `events` (type `ty`), each
/// record's value base64 of the structured CloudEvent, as the relay publishes it.
fn kafka_event(events: &[OutboxEvent], ty: EventType) -> String {
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let records: Vec<serde_json::Value> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            serde_json::json!({
                "topic": ty.topic(), "partition": 0, "offset": i, "timestamp": 0, "timestampType": "CREATE_TIME",
                "key": b64(e.partition_key.as_bytes()), "value": b64(e.payload.to_string().as_bytes()), "headers": [],
            })
        })
        .collect();
    let key = format!("{}-0", ty.topic());
    serde_json::json!({ "eventSource": "SelfManagedKafka", "records": { key: records } }).to_string()
}

/// A list of `owner` shared with `members - 1` others, each of the `members`
/// with one webhook.
async fn shared_list(
    store: &todo_lib::store::Store,
    owner: &str,
    members: usize,
) -> Result<TaskList, Box<dyn std::error::Error>> {
    let now = Utc::now();
    let input = NewList { name: Some(format!("shared by {owner}")), ..NewList::default() };
    let list = TaskList::create(owner, input, now).map_err(|e| format!("{e:?}"))?;
    let url = url::Url::parse("https://hooks.example.com/bench")?;
    let mut tx = store.begin().await?;
    tx.insert_list(&list, todo_lib::quota::Quotas::DEFAULT.lists_per_user).await?;
    let others: Vec<String> = (1..members).map(|k| format!("{owner}-member-{k}")).collect();
    for other in &others {
        tx.insert_member(&Member::new(list.id, other, Role::Editor, now)).await?;
    }
    for user in std::iter::once(owner).chain(others.iter().map(String::as_str)) {
        let hook = todo_lib::webhook::Webhook::new(user, &url, now)?;
        tx.insert_webhook(&hook, todo_lib::quota::Quotas::DEFAULT.webhooks_per_user).await?;
    }
    tx.commit().await?;
    Ok(list)
}

/// Dapr's bulk subscribe request carrying `envelopes` (events of type `ty`).
fn bulk_request(envelopes: &[serde_json::Value], ty: EventType) -> String {
    let entries: Vec<serde_json::Value> = envelopes
        .iter()
        .map(|event| {
            serde_json::json!({
                "entryId": uuid::Uuid::new_v4().to_string(),
                "event": event,
                "contentType": "application/cloudevents+json",
                "metadata": {},
            })
        })
        .collect();
    let pubsub = todo_lib::config::DEFAULT_PUBSUB_NAME;
    serde_json::json!({
        "entries": entries,
        "id": uuid::Uuid::new_v4().to_string(),
        "metadata": { "pubsubName": pubsub },
        "pubsubname": pubsub,
        "topic": ty.topic(),
        "type": "com.dapr.event.sent.bulk",
    })
    .to_string()
}

/// A fresh event (unique id) of type `ty` about `task`.
fn event(ty: EventType, task: &Task) -> Result<OutboxEvent, todo_lib::event::EventError> {
    let now = Utc::now();
    let reminder = (ty == EventType::Due).then_some(task.remind_at).flatten();
    let mut task = task.clone();
    if ty == EventType::Completed {
        task = task.completed(now).unwrap_or(task);
    }
    task_event(ty, &task, "bench", now, reminder)
}
