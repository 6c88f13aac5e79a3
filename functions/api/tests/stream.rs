//! `GET /v1/stream` over real HTTP on loopback: the events a client sees,
//! heartbeats, resuming with `Last-Event-ID`, and (PostgreSQL) a change made
//! through one replica arriving on another replica's stream. Streams are
//! bounded per user, per token and per process, and end when their
//! credential expires or is revoked, or when the server shuts down.

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
        Self::open_with(base, &token(user), last_event_id).await
    }

    /// A stream opened with `bearer` (a JWT or a personal access token).
    async fn open_with(base: &str, bearer: &str, last_event_id: Option<&str>) -> Self {
        let response = attempt(base, bearer, last_event_id).await;
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

    /// Whether the server ends the stream within `wait`, and every event
    /// before its end (comments left out).
    async fn ends_within(&mut self, wait: Duration) -> (bool, Vec<Sse>) {
        let deadline = tokio::time::Instant::now() + wait;
        let mut events = Vec::new();
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if !block.starts_with(':') {
                    events.push(Sse { name: None, id: None, data: block });
                }
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return (false, events),
                Ok(Ok(Some(chunk))) => self.buffer.push_str(std::str::from_utf8(&chunk).expect("UTF-8")),
                Ok(Ok(None) | Err(_)) => return (true, events),
            }
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

/// `GET /v1/stream` with `bearer`, as it answers.
async fn attempt(base: &str, bearer: &str, last_event_id: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{base}/v1/stream")).bearer_auth(bearer);
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    request.send().await.expect("the stream answers")
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
    one_user_s_streams_are_capped_and_never_lock_others_out,
    a_token_s_streams_are_capped_below_its_user_s,
    a_stream_ends_when_its_personal_access_token_is_revoked,
    a_stream_ends_when_its_jwt_expires,
    a_new_member_s_stream_from_the_start_holds_no_history_of_the_list,
);

async fn a_new_member_s_stream_from_the_start_holds_no_history_of_the_list(app: TestApp) {
    let base = app.serve().await;
    let client = reqwest::Client::new();
    let send = |method: reqwest::Method, path: String, user: &str, body: Value| {
        client.request(method, format!("{base}{path}")).bearer_auth(token(user)).json(&body).send()
    };
    let list: Value = send(reqwest::Method::POST, "/v1/lists".into(), "alice", json!({"name": "Team"}))
        .await
        .expect("answers")
        .json()
        .await
        .expect("a list");
    let list = list["id"].as_str().expect("id").to_owned();
    let salary = send(
        reqwest::Method::POST,
        "/v1/tasks".into(),
        "alice",
        json!({"title": "pay", "description": "salary 123", "list_id": list}),
    )
    .await
    .expect("answers");
    assert_eq!(salary.status(), 201);
    send(reqwest::Method::GET, "/v1/lists".into(), "dave", Value::Null).await.expect("dave signs in");
    let added = send(
        reqwest::Method::POST,
        format!("/v1/lists/{list}/members"),
        "alice",
        json!({"user_id": "dave", "role": "viewer"}),
    )
    .await
    .expect("answers");
    assert_eq!(added.status(), 201);
    create(&base, "alice", "unrelated").await;

    let mut stream = Reader::open(&base, "dave", Some("0-0")).await;
    assert_eq!(stream.event(WAIT).await.name.as_deref(), Some("ready"));
    let first = change(&stream.event(WAIT).await);
    assert_eq!(first["type"], "member", "his joining comes first: {first}");
    let (_, rest) = stream.ends_within(Duration::from_secs(2)).await;
    assert!(rest.iter().all(|e| !e.data.contains("salary")), "{rest:?}");
}

/// Small caps, to reach them: three per user, two per token, five in all.
fn capped(app: TestApp) -> TestApp {
    let stream = api::stream::Settings {
        stream_heartbeat_secs: 1,
        stream_max_per_user: 3,
        stream_max_per_token: 2,
        stream_max_open: Some(5),
        ..Default::default()
    };
    TestApp::with_streams(app.db, TestApp::authenticator(), stream)
}

/// The answer of a refused stream: 429 `too_many_streams`, with `Retry-After`.
async fn too_many(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 429);
    let retry_after = response.headers()["retry-after"].to_str().expect("ASCII").to_owned();
    assert!(retry_after.parse::<u64>().is_ok_and(|s| s > 0), "Retry-After: {retry_after}");
    let body: Value = response.json().await.expect("the error shape");
    assert_eq!(body["error"]["code"], "too_many_streams", "{body}");
    body["error"]["message"].as_str().expect("a message").to_owned()
}

/// A personal access token of `user` with `scopes`, made through the API.
async fn personal_token(base: &str, user: &str, scopes: &[&str]) -> (String, String) {
    let res = reqwest::Client::new()
        .post(format!("{base}/v1/tokens"))
        .bearer_auth(token(user))
        .json(&json!({ "name": "stream", "scopes": scopes }))
        .send()
        .await
        .expect("answers");
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.expect("JSON");
    (body["token"].as_str().expect("secret").to_owned(), body["id"].as_str().expect("id").to_owned())
}

async fn one_user_s_streams_are_capped_and_never_lock_others_out(app: TestApp) {
    let app = capped(app);
    let base = app.serve().await;
    let mut alice = Vec::new();
    for _ in 0..3 {
        alice.push(Reader::open(&base, "alice", None).await);
    }
    let message = too_many(attempt(&base, &token("alice"), None).await).await;
    assert!(message.contains("this user has 3"), "{message}");

    // Others still stream, until the process keeps the rest for requests.
    let _bob = Reader::open(&base, "bob", None).await;
    let _carol = Reader::open(&base, "carol", None).await;
    let message = too_many(attempt(&base, &token("dave"), None).await).await;
    assert!(message.contains("this server"), "{message}");
    // ... and every ordinary request is served.
    create(&base, "dave", "still served").await;

    // A stream that closes gives its place back.
    alice.pop();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let answer = attempt(&base, &token("alice"), None).await;
        if answer.status() == 200 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the place came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_token_s_streams_are_capped_below_its_user_s(app: TestApp) {
    let app = capped(app);
    let base = app.serve().await;
    let (read_only, _) = personal_token(&base, "alice", &["tasks:read"]).await;
    let _one = Reader::open_with(&base, &read_only, None).await;
    let _two = Reader::open_with(&base, &read_only, None).await;
    let message = too_many(attempt(&base, &read_only, None).await).await;
    assert!(message.contains("personal access token has 2"), "{message}");
    // Alice's own sign-in has her third place.
    let _three = Reader::open(&base, "alice", None).await;
}

async fn a_stream_ends_when_its_personal_access_token_is_revoked(app: TestApp) {
    let base = app.serve().await;
    let (secret, id) = personal_token(&base, "alice", &["tasks:read"]).await;
    let mut stream = Reader::open_with(&base, &secret, None).await;
    assert_eq!(stream.event(WAIT).await.name.as_deref(), Some("ready"));
    let revoked = reqwest::Client::new()
        .delete(format!("{base}/v1/tokens/{id}"))
        .bearer_auth(token("alice"))
        .send()
        .await
        .expect("answers");
    assert_eq!(revoked.status(), 204);
    create(&base, "alice", "not for a revoked token").await;
    let (ended, events) = stream.ends_within(WAIT).await;
    assert!(ended, "the stream ended");
    assert!(events.iter().all(|e| !e.data.contains("not for a revoked token")), "{events:?}");
    assert_eq!(attempt(&base, &secret, None).await.status(), 401);
}

async fn a_stream_ends_when_its_jwt_expires(app: TestApp) {
    let base = app.serve().await;
    // Accepted for 2 s more: `exp` is 28 s ago, within the 30 s of leeway.
    let now = chrono::Utc::now().timestamp();
    let expiring =
        common::sign_hs256(&json!({ "sub": "alice", "iat": now - 60, "exp": now - 28 }), common::SECRET);
    let mut stream = Reader::open_with(&base, &expiring, None).await;
    assert_eq!(stream.event(WAIT).await.name.as_deref(), Some("ready"));
    let (ended, _) = stream.ends_within(WAIT).await;
    assert!(ended, "the stream ended when its token expired");
}

/// Shutting down ends every open stream at once, not after the grace period.
#[tokio::test]
async fn shutdown_ends_open_streams_at_once() {
    let app = TestApp::sqlite().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let grace = Duration::from_secs(60);
    let server = tokio::spawn(todo_lib::serve::serve_tcp(
        listener,
        app.router.clone(),
        async move {
            let _ = stopped.await;
        },
        grace,
        todo_lib::serve::ConnectionLimits::default(),
    ));
    let mut stream = Reader::open(&base, "alice", None).await;
    assert_eq!(stream.event(WAIT).await.name.as_deref(), Some("ready"));
    stop.send(()).expect("the server listens for its stop");
    let (ended, _) = stream.ends_within(WAIT).await;
    assert!(ended, "the stream ended with the server");
    tokio::time::timeout(WAIT, server)
        .await
        .expect("stopped well within the grace period")
        .expect("joined")
        .expect("served");
}

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

/// Issue #29: a write is read from the database once for every stream open
/// in the process (by its one reader, the hub), not once per stream.
async fn a_write_is_read_once_for_all_open_streams(db: todo_testing::TestDb) {
    const MEMBERS: usize = 20;
    let members: Vec<String> = (0..MEMBERS).map(|i| format!("member-{i}")).collect();
    let roles: Vec<(&str, todo_lib::members::Role)> =
        members.iter().map(|m| (m.as_str(), todo_lib::members::Role::Viewer)).collect();
    let list = todo_testing::facts::shared_list(&db.store, "alice", "Household", &roles).await;
    let stream = api::stream::Settings { stream_heartbeat_secs: 1, ..Default::default() };
    let state = TestApp::state(&db, TestApp::authenticator(), stream);
    let hub = std::sync::Arc::clone(&state.hub);
    let app = TestApp::from_state(db, state);
    let base = app.serve().await;

    let mut streams = Vec::new();
    for member in &members {
        let mut stream = Reader::open(&base, member, None).await;
        assert_eq!(stream.event(WAIT).await.name.as_deref(), Some("ready"));
        streams.push(stream);
    }
    let add = |title: &'static str| {
        let base = base.clone();
        async move {
            let res = reqwest::Client::new()
                .post(format!("{base}/v1/tasks"))
                .bearer_auth(token("alice"))
                .json(&json!({ "title": title, "list_id": list.id }))
                .send()
                .await
                .expect("create answers");
            assert_eq!(res.status(), 201);
        }
    };
    // Every stream has caught up, on its own or from the hub, once each has
    // the first change.
    add("first").await;
    for stream in &mut streams {
        assert_eq!(change(&stream.event(WAIT).await)["task"]["title"], "first");
    }
    let (hub_before, streams_before) = (hub.reads().by_hub(), hub.reads().by_streams());
    add("second").await;
    for stream in &mut streams {
        assert_eq!(change(&stream.event(WAIT).await)["task"]["title"], "second");
    }
    let (by_hub, by_streams) = (hub.reads().by_hub() - hub_before, hub.reads().by_streams() - streams_before);
    assert_eq!(by_streams, 0, "no stream read the feed for itself");
    assert!((1..=4).contains(&by_hub), "the hub read it for all {MEMBERS} streams at once: {by_hub} reads");
}

#[tokio::test]
async fn a_write_is_read_once_for_all_open_streams_on_postgres() {
    a_write_is_read_once_for_all_open_streams(todo_testing::postgres().await).await;
}

#[tokio::test]
async fn a_write_is_read_once_for_all_open_streams_on_sqlite() {
    a_write_is_read_once_for_all_open_streams(todo_testing::sqlite().await).await;
}
