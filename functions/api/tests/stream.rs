//! `GET /v1/stream` over real HTTP on loopback: the events a client sees,
//! heartbeats, resuming with `Last-Event-ID`, and (PostgreSQL) a change made
//! through one replica arriving on another replica's stream.

mod common;

use std::time::Duration;

use common::{TestApp, token};
use serde_json::{Value, json};

/// One Server-Sent Event as the wire carries it; `None` name for a comment.
#[derive(Debug, Clone, PartialEq)]
struct Sse {
    name: Option<String>,
    id: Option<String>,
    data: String,
}

/// Reads a `text/event-stream` body, event by event.
struct Reader {
    response: reqwest::Response,
    buffer: String,
}

impl Reader {
    async fn open(base: &str, user: &str, last_event_id: Option<&str>) -> Self {
        let mut request = reqwest::Client::new().get(format!("{base}/v1/stream")).bearer_auth(token(user));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.expect("the stream answers");
        assert_eq!(response.status(), 200);
        let headers = response.headers();
        assert_eq!(headers["content-type"], "text/event-stream");
        assert_eq!(headers["cache-control"], "no-cache");
        assert_eq!(headers["x-accel-buffering"], "no");
        Self { response, buffer: String::new() }
    }

    /// The next event or comment, within `wait`.
    async fn next(&mut self, wait: Duration) -> Sse {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Sse { name: Some("message".into()), id: None, data: String::new() };
                for line in block.lines().filter(|l| !l.is_empty()) {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "" => event.name = None,
                        "event" => event.name = Some(value.into()),
                        "id" => event.id = Some(value.into()),
                        "data" => event.data.push_str(value),
                        _ => {}
                    }
                }
                return event;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .expect("an event arrives in time")
                .expect("the stream reads")
                .expect("the stream is still open");
            self.buffer.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }

    /// The next event that is not a comment, within `wait` in all.
    async fn event(&mut self, wait: Duration) -> Sse {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let event = self.next(deadline.saturating_duration_since(tokio::time::Instant::now())).await;
            if event.name.is_some() {
                return event;
            }
        }
    }
}

async fn create(base: &str, user: &str, title: &str) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{base}/v1/tasks"))
        .bearer_auth(token(user))
        .json(&json!({ "title": title }))
        .send()
        .await
        .expect("create answers");
    assert_eq!(res.status(), 201);
    res.json().await.expect("a task")
}

fn change(event: &Sse) -> Value {
    assert_eq!(event.name.as_deref(), Some("change"), "{event:?}");
    let change: Value = serde_json::from_str(&event.data).expect("JSON data");
    assert_eq!(event.id.as_deref(), change["cursor"].as_str(), "the event id is the change's cursor");
    change
}

const WAIT: Duration = Duration::from_secs(10);

todo_testing::on_both_backends!(
    wrap = super::TestApp::with_db;
    a_change_arrives_live_and_idle_streams_hear_heartbeats,
    a_client_that_reconnects_resumes_after_its_last_event,
    the_stream_refuses_bad_requests_before_it_starts,
);

async fn a_change_arrives_live_and_idle_streams_hear_heartbeats(app: TestApp) {
    let base = app.serve().await;
    let mut stream = Reader::open(&base, "alice", None).await;
    let ready = stream.event(WAIT).await;
    assert_eq!(ready.name.as_deref(), Some("ready"));
    let data: Value = serde_json::from_str(&ready.data).expect("JSON");
    assert_eq!(ready.id.as_deref(), data["cursor"].as_str());

    let task = create(&base, "alice", "live").await;
    create(&base, "bob", "not alice's").await;
    let seen = change(&stream.event(WAIT).await);
    assert_eq!((seen["type"].as_str(), seen["event"].as_str()), (Some("task"), Some("task.created")));
    assert_eq!(seen["task"]["id"], task["id"]);

    // Idle now (bob's change is not alice's): the test app's heartbeat is 1 s.
    let idle = stream.next(Duration::from_secs(3)).await;
    assert_eq!(idle, Sse { name: None, id: None, data: String::new() }, "a heartbeat comment");
}

async fn a_client_that_reconnects_resumes_after_its_last_event(app: TestApp) {
    let base = app.serve().await;
    let mut stream = Reader::open(&base, "alice", None).await;
    stream.event(WAIT).await;
    create(&base, "alice", "one").await;
    let one = change(&stream.event(WAIT).await);
    drop(stream);

    // Offline: two changes happen meanwhile.
    create(&base, "alice", "two").await;
    create(&base, "alice", "three").await;

    let last = one["cursor"].as_str().expect("a cursor");
    let mut stream = Reader::open(&base, "alice", Some(last)).await;
    let ready = stream.event(WAIT).await;
    assert_eq!((ready.name.as_deref(), ready.id.as_deref()), (Some("ready"), Some(last)));
    let two = change(&stream.event(WAIT).await);
    let three = change(&stream.event(WAIT).await);
    assert_eq!(
        (two["task"]["title"].as_str(), three["task"]["title"].as_str()),
        (Some("two"), Some("three")),
        "what was missed arrives in order"
    );
}

async fn the_stream_refuses_bad_requests_before_it_starts(app: TestApp) {
    let base = app.serve().await;
    let client = reqwest::Client::new();
    let res = client.get(format!("{base}/v1/stream")).send().await.expect("answers");
    assert_eq!(res.status(), 401);
    let res = client
        .get(format!("{base}/v1/stream"))
        .bearer_auth(token("alice"))
        .header("last-event-id", "not-a-cursor")
        .send()
        .await
        .expect("answers");
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("the error shape");
    assert_eq!(body["error"]["code"], "invalid_cursor");
}

/// Two replicas on one PostgreSQL database, each with its own pool: a change
/// written through one reaches a stream held open on the other.
#[tokio::test]
async fn a_change_through_one_replica_reaches_a_stream_on_another() {
    let db = todo_testing::postgres().await;
    let writing = TestApp::with_db(db.replica());
    let streaming = TestApp::with_db(db);
    let (stream_base, write_base) = (streaming.serve().await, writing.serve().await);

    let mut stream = Reader::open(&stream_base, "alice", None).await;
    stream.event(WAIT).await;
    // Past the looks a stream takes in the seconds after it starts (5.25 s): only
    // PostgreSQL's notification can now tell this replica of the change.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let task = create(&write_base, "alice", "from the other replica").await;
    let seen = change(&stream.event(WAIT).await);
    assert_eq!(seen["task"]["id"], task["id"]);
}
