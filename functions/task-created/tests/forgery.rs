//! Forged events, on PostgreSQL and SQLite (issue #13, item 1): an event function
//! acts only on an event the system wrote, as it wrote it. One nobody wrote is
//! dropped (DROP for Dapr, 400 for others) and changes nothing; a real id whose
//! copy names another user, task, version or type is dropped too; a real event
//! whose copy carries other content acts on the stored copy, so the activity and
//! the signed webhook body never carry the request's text. Every function is
//! served by the same router, so task-created stands for all of them here;
//! task-completed and task-due have their own cases beside their tests.

use axum::Router;
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Value, json};
use todo_lib::event::{EventType, task_event};
use todo_lib::sender::{Sender, SenderSettings};
use todo_lib::task::{NewTask, Task};
use todo_testing::{TestDb, WebhookReceiver, call, dapr_envelope, facts, loopback_deliverer, structured};

todo_testing::on_both_backends!(
    an_event_nobody_wrote_is_dropped_and_changes_nothing,
    a_real_id_naming_another_fact_is_dropped,
    a_real_event_with_other_content_acts_on_the_stored_copy,
);

fn app(db: &TestDb) -> Router {
    task_created::app(db.store.clone(), None)
}

/// Posts `envelope` as Dapr would and, without `pubsubname`, as curl would: the
/// two answers.
async fn both_ways(app: &Router, envelope: &Value) -> ((StatusCode, Value), (StatusCode, Value)) {
    let dapr = call(app, structured(envelope)).await;
    let mut plain = envelope.clone();
    plain.as_object_mut().map(|o| o.remove("pubsubname"));
    (dapr, call(app, structured(&plain)).await)
}

async fn register(db: &TestDb, user: &str) -> WebhookReceiver {
    let receiver = WebhookReceiver::start().await;
    todo_testing::facts::webhook(&db.store, user, &receiver.url).await;
    receiver
}

async fn nothing_happened(db: &TestDb, user: &str) {
    assert!(db.store.list_activity(user, None, 10).await.expect("activity").is_empty(), "no activity");
    assert_eq!(db.store.count_owed_webhook_deliveries().await.expect("count"), 0, "no webhook queued");
}

async fn an_event_nobody_wrote_is_dropped_and_changes_nothing(db: TestDb) {
    let _receiver = register(&db, "bob").await;
    // A well-formed event for bob's task, with a title a user could never store.
    let input = NewTask { title: Some("pay here: evil.example".into()), ..NewTask::default() };
    let task = Task::create("bob", uuid::Uuid::now_v7(), input, Utc::now()).expect("valid");
    let forged = task_event(EventType::Created, &task, "api", Utc::now(), None).expect("event");
    let mut envelope = dapr_envelope(&forged);
    envelope["data"]["task"]["title"] = "\u{202e}\0".repeat(1_500).into();

    let (dapr, plain) = both_ways(&app(&db), &envelope).await;
    assert_eq!(dapr, (StatusCode::OK, json!({ "status": "DROP" })));
    assert_eq!(plain.0, StatusCode::BAD_REQUEST, "{}", plain.1);
    let message = plain.1["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("was written by this system"), "{message}");

    // An id that is not even an outbox id is refused the same way.
    envelope["id"] = "msg-1".into();
    let (dapr, plain) = both_ways(&app(&db), &envelope).await;
    assert_eq!(dapr, (StatusCode::OK, json!({ "status": "DROP" })));
    assert_eq!(plain.0, StatusCode::BAD_REQUEST, "{}", plain.1);
    nothing_happened(&db, "bob").await;
}

async fn a_real_id_naming_another_fact_is_dropped(db: TestDb) {
    let store = &db.store;
    let _receiver = register(&db, "bob").await;
    let (task, created) = facts::created_titled(store, "alice", "Buy milk").await;
    let (_, updated) = facts::completed(store, &task, Utc::now()).await;
    let (other, _) = facts::created_titled(store, "alice", "Other").await;

    let mut as_bob = dapr_envelope(&created);
    as_bob["data"]["user_id"] = "bob".into();
    let mut other_task = dapr_envelope(&created);
    other_task["data"]["task"]["id"] = other.id.to_string().into();
    let mut later_version = dapr_envelope(&created);
    later_version["data"]["task"]["version"] = 2.into();
    // A task.completed's id sent to task-created as a task.created.
    let mut retyped = dapr_envelope(&updated);
    retyped["type"] = "task.created".into();
    for (field, envelope) in
        [("user_id", as_bob), ("task id", other_task), ("task version", later_version), ("type", retyped)]
    {
        let (dapr, plain) = both_ways(&app(&db), &envelope).await;
        assert_eq!(dapr, (StatusCode::OK, json!({ "status": "DROP" })), "{field}");
        assert_eq!(plain.0, StatusCode::BAD_REQUEST, "{field}: {}", plain.1);
        let message = plain.1["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(&format!("event's {field} differs")), "{field}: {message}");
    }
    nothing_happened(&db, "alice").await;
    nothing_happened(&db, "bob").await;
}

async fn a_real_event_with_other_content_acts_on_the_stored_copy(db: TestDb) {
    let receiver = register(&db, "alice").await;
    let (_, created) = facts::created_titled(&db.store, "alice", "Buy milk").await;
    let mut envelope = dapr_envelope(&created);
    envelope["data"]["task"]["title"] = "Wire 500 EUR to evil.example".into();
    envelope["data"]["task"]["tags"] = json!(["a,b"]);
    envelope["source"] = "attacker".into();

    let (status, body) = call(&app(&db), structured(&envelope)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "SUCCESS" })));
    let activity = db.store.list_activity("alice", None, 10).await.expect("activity");
    assert_eq!(activity.len(), 1);
    assert_eq!(activity[0].summary, "Buy milk", "the stored title, not the request's");

    let sender = Sender::new(loopback_deliverer(), SenderSettings::default());
    let round = sender.round(&db.store).await.expect("round");
    assert_eq!(round.delivered, 1, "{round:?}");
    let got = receiver.received();
    let sent: Value = serde_json::from_str(&got[0].body).expect("JSON body");
    assert_eq!(sent["type"], "task.created");
    assert_eq!(sent["data"], created.payload["data"], "the webhook body is the stored event's data");
    assert!(!got[0].body.contains("evil.example"), "{}", got[0].body);
}
