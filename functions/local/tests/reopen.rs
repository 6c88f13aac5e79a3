//! Reopening a completed task of a series, on both backends: the next
//! occurrence its completion made is taken back when untouched (one open
//! task, as the user expects), exactly once, whether the completion was
//! handled before the reopening or after it; a changed next occurrence is
//! kept; and completing again rolls the series forward again.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use jsonwebtoken::{EncodingKey, Header, encode};
use secrecy::SecretString;
use serde_json::{Value, json};
use todo_lib::event::OutboxEvent;
use todo_testing::{TestDb, call, deliver_via_dapr};

const SECRET: &str = "reopen-tests-secret-0123456789abcdef";

todo_testing::on_both_backends!(
    reopening_takes_back_the_untouched_next_occurrence_and_completing_again_rolls_forward_again,
    a_completion_handled_after_its_reopening_rolls_nothing_forward,
    a_next_occurrence_someone_changed_is_kept,
);

struct System {
    db: TestDb,
    api: Router,
    completed: Router,
}

impl System {
    fn new(db: TestDb) -> Self {
        let auth = api::auth::Authenticator::with_secret(&SecretString::from(SECRET)).expect("secret");
        let api = api::app(api::AppState::new(db.store.clone(), Arc::new(auth)));
        let completed = task_completed::app(db.store.clone(), None, None);
        Self { db, api, completed }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({ "sub": "alice", "iat": now, "exp": now + 3600 });
        let token =
            encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).expect("jwt");
        let request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .expect("request");
        let (status, body) = call(&self.api, request).await;
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        body
    }

    /// The open tasks' titles and due times.
    async fn open(&self) -> Vec<(String, String)> {
        let page = self.send(Method::GET, "/v1/tasks?status=open", None).await;
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|t| {
                (
                    t["title"].as_str().unwrap_or("?").to_owned(),
                    t["due_at"].as_str().unwrap_or("?").to_owned(),
                )
            })
            .collect()
    }

    /// The events written since the last call, of `ty`, taken out of the outbox.
    async fn events(&self, ty: &str) -> Vec<OutboxEvent> {
        let events = self.db.store.unpublished_events(1000).await.expect("outbox");
        for event in &events {
            self.db.store.mark_published(event.id, chrono::Utc::now()).await.expect("marked");
        }
        events.into_iter().filter(|e| e.payload["type"] == ty).collect()
    }

    async fn deliver(&self, event: &OutboxEvent) {
        let (status, body) = deliver_via_dapr(&self.completed, event).await;
        assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("SUCCESS")), "{body}");
    }

    /// A daily task due tomorrow; its id.
    async fn daily(&self) -> String {
        let due = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%dT09:00:00Z").to_string();
        let task = self
            .send(
                Method::POST,
                "/v1/tasks",
                Some(json!({"title": "Stretch", "due_at": due, "recurrence": "FREQ=DAILY"})),
            )
            .await;
        task["id"].as_str().expect("id").to_owned()
    }
}

async fn reopening_takes_back_the_untouched_next_occurrence_and_completing_again_rolls_forward_again(
    db: TestDb,
) {
    let system = System::new(db);
    let id = system.daily().await;
    let first_due = system.open().await;
    system.send(Method::POST, &format!("/v1/tasks/{id}/complete"), None).await;
    let completion = system.events("task.completed").await;
    system.deliver(&completion[0]).await;
    let next = system.open().await;
    assert_eq!(next.len(), 1, "the next occurrence: {next:?}");
    assert_ne!(next, first_due);

    system.send(Method::POST, &format!("/v1/tasks/{id}/reopen"), None).await;
    assert_eq!(system.open().await, first_due, "one open task: the one reopened");
    assert_eq!(system.events("task.deleted").await.len(), 1, "the occurrence taken back, with its event");
    // Reopening again (it is open) changes nothing; redelivering the old completion neither.
    system.send(Method::POST, &format!("/v1/tasks/{id}/reopen"), None).await;
    system.deliver(&completion[0]).await;
    assert_eq!(system.open().await, first_due);

    system.send(Method::POST, &format!("/v1/tasks/{id}/complete"), None).await;
    let again = system.events("task.completed").await;
    system.deliver(&again[0]).await;
    system.deliver(&again[0]).await;
    assert_eq!(system.open().await, next, "rolled forward again, once");
}

async fn a_completion_handled_after_its_reopening_rolls_nothing_forward(db: TestDb) {
    let system = System::new(db);
    let id = system.daily().await;
    let first_due = system.open().await;
    system.send(Method::POST, &format!("/v1/tasks/{id}/complete"), None).await;
    system.send(Method::POST, &format!("/v1/tasks/{id}/reopen"), None).await;
    let completion = system.events("task.completed").await;
    system.deliver(&completion[0]).await;
    assert_eq!(system.open().await, first_due, "one open task, and no second");
}

async fn a_next_occurrence_someone_changed_is_kept(db: TestDb) {
    let system = System::new(db);
    let id = system.daily().await;
    system.send(Method::POST, &format!("/v1/tasks/{id}/complete"), None).await;
    let completion = system.events("task.completed").await;
    system.deliver(&completion[0]).await;
    let next = system.send(Method::GET, "/v1/tasks?status=open", None).await["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    system.send(Method::PATCH, &format!("/v1/tasks/{next}"), Some(json!({"title": "Stretch longer"}))).await;
    system.send(Method::POST, &format!("/v1/tasks/{id}/reopen"), None).await;
    let titles: Vec<String> = system.open().await.into_iter().map(|(t, _)| t).collect();
    assert_eq!(titles.len(), 2, "the changed occurrence stays: {titles:?}");
    assert!(titles.contains(&"Stretch longer".to_owned()));
}
