//! The delivery contract of an event function (DESIGN.md, "Delivery"), on
//! PostgreSQL and SQLite: success, duplicate, poison and transient failure, each
//! answered in Dapr's terms (SUCCESS/RETRY/DROP) or plain HTTP (200/400/503).

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use todo_lib::event::OutboxEvent;
use todo_testing::{TestDb, call as post, dapr_envelope, facts, loopback_deliverer, structured};
use tower::ServiceExt;

todo_testing::on_both_backends!(
    a_dapr_delivery_succeeds_and_records_the_activity,
    a_plain_structured_event_gets_a_summary,
    a_binary_mode_event_is_accepted,
    dapr_data_base64_is_decoded,
    a_duplicate_delivery_changes_nothing,
    poison_events_are_dropped_for_dapr_and_400_for_others,
    a_broken_database_is_retry_for_dapr_and_503_for_others,
    the_app_token_is_enforced_on_events_but_not_on_health,
    the_fact_is_queued_for_the_owners_webhooks_only,
    metrics_count_events_by_outcome,
    an_oversize_event_is_refused_before_it_is_read_whole,
);

/// A new task of `user` stored with its `task.created` event, as the API writes them.
async fn created_event(db: &TestDb, user: &str) -> OutboxEvent {
    facts::created_titled(&db.store, user, "Buy milk").await.1
}

fn app(db: &TestDb) -> Router {
    task_created::app(db.store.clone(), None)
}

async fn activity_count(db: &TestDb, user: &str) -> usize {
    db.store.list_activity(user, None, 100).await.expect("activity").len()
}

async fn a_dapr_delivery_succeeds_and_records_the_activity(db: TestDb) {
    let event = created_event(&db, "alice").await;
    let (status, body) = post(&app(&db), structured(&dapr_envelope(&event))).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "SUCCESS" })));
    let activity = db.store.list_activity("alice", None, 10).await.expect("activity");
    assert_eq!(activity.len(), 1);
    assert_eq!(activity[0].kind, "task.created");
    assert_eq!(activity[0].event_id, event.id.to_string());
    assert_eq!(activity[0].summary, "Buy milk");
}

async fn a_plain_structured_event_gets_a_summary(db: TestDb) {
    let event = created_event(&db, "alice").await;
    let (status, body) = post(&app(&db), structured(&event.payload)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "processed");
    assert_eq!(body["event_id"], event.id.to_string());
    assert!(body["result"]["activity_id"].is_string());
}

async fn a_binary_mode_event_is_accepted(db: TestDb) {
    let event = created_event(&db, "alice").await;
    let ce = &event.payload;
    let req = Request::post("/")
        .header("ce-specversion", "1.0")
        .header("ce-id", ce["id"].as_str().expect("id"))
        .header("ce-type", "task.created")
        .header("ce-source", "api")
        .header("ce-subject", ce["subject"].as_str().expect("subject"))
        .header("content-type", "application/json")
        .body(Body::from(ce["data"].to_string()))
        .expect("request");
    let (status, body) = post(&app(&db), req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "processed");
    assert_eq!(activity_count(&db, "alice").await, 1);
}

async fn dapr_data_base64_is_decoded(db: TestDb) {
    use base64::Engine;
    let event = created_event(&db, "alice").await;
    let mut envelope = dapr_envelope(&event);
    let data = envelope.as_object_mut().and_then(|o| o.remove("data")).expect("data");
    envelope["data_base64"] = base64::engine::general_purpose::STANDARD.encode(data.to_string()).into();
    let (status, body) = post(&app(&db), structured(&envelope)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "SUCCESS" })));
    assert_eq!(activity_count(&db, "alice").await, 1);
}

async fn a_duplicate_delivery_changes_nothing(db: TestDb) {
    let event = created_event(&db, "alice").await;
    let app = app(&db);
    for _ in 0..3 {
        let (status, body) = post(&app, structured(&dapr_envelope(&event))).await;
        assert_eq!((status, body), (StatusCode::OK, json!({ "status": "SUCCESS" })));
    }
    let (status, body) = post(&app, structured(&event.payload)).await;
    assert_eq!((status, body["status"].clone()), (StatusCode::OK, json!("duplicate")));
    assert_eq!(activity_count(&db, "alice").await, 1, "one activity entry for four deliveries");
}

async fn poison_events_are_dropped_for_dapr_and_400_for_others(db: TestDb) {
    let app = app(&db);
    let event = created_event(&db, "alice").await;
    let mut wrong_type = dapr_envelope(&event);
    wrong_type["type"] = "task.completed".into();
    let mut unknown_type = dapr_envelope(&event);
    unknown_type["type"] = "task.exploded".into();
    let mut bad_data = dapr_envelope(&event);
    bad_data["data"] = json!({ "version": 1, "task": "not a task" });
    let mut no_id = dapr_envelope(&event);
    no_id.as_object_mut().map(|o| o.remove("id"));

    for (what, envelope) in
        [("wrong type", wrong_type), ("unknown type", unknown_type), ("bad data", bad_data), ("no id", no_id)]
    {
        let (status, body) = post(&app, structured(&envelope)).await;
        assert_eq!((status, body), (StatusCode::OK, json!({ "status": "DROP" })), "{what}");
        // Without Dapr's envelope the same event is a 400 with a clear message.
        let mut plain = envelope.clone();
        plain.as_object_mut().map(|o| o.remove("pubsubname"));
        let (status, body) = post(&app, structured(&plain)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        assert_eq!(body["error"]["code"], "invalid_event");
        assert!(body["error"]["message"].as_str().is_some_and(|m| m.len() > 10), "{what}: {body}");
    }
    for raw in ["not json at all", "", "{}"] {
        let req = Request::post("/")
            .header("content-type", "application/json")
            .body(Body::from(raw))
            .expect("request");
        let (status, body) = post(&app, req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{raw:?}: {body}");
    }
    assert_eq!(activity_count(&db, "alice").await, 0, "nothing recorded for poison");
}

async fn a_broken_database_is_retry_for_dapr_and_503_for_others(db: TestDb) {
    let app = app(&db);
    let event = created_event(&db, "alice").await;
    let outage = db.break_connections().await;
    let (status, body) = post(&app, structured(&dapr_envelope(&event))).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "RETRY" })));
    let (status, body) = post(&app, structured(&event.payload)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");

    if db.pg_options().is_some() {
        // After recovery the redelivery succeeds: nothing was lost, nothing doubled.
        outage.heal().await;
        let (status, body) = post(&app, structured(&dapr_envelope(&event))).await;
        assert_eq!((status, body), (StatusCode::OK, json!({ "status": "SUCCESS" })));
        assert_eq!(activity_count(&db, "alice").await, 1);
    }
}

async fn the_app_token_is_enforced_on_events_but_not_on_health(db: TestDb) {
    let token = Some(secrecy::SecretString::from("app-token-123"));
    let app = task_created::app(db.store.clone(), token);
    let event = created_event(&db, "alice").await;
    let (status, _) = post(&app, structured(&dapr_envelope(&event))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut req = structured(&dapr_envelope(&event));
    req.headers_mut()
        .insert(todo_lib::config::DAPR_API_TOKEN_HEADER, "wrong-token-12".parse().expect("header"));
    assert_eq!(post(&app, req).await.0, StatusCode::UNAUTHORIZED);
    let mut req = structured(&dapr_envelope(&event));
    req.headers_mut()
        .insert(todo_lib::config::DAPR_API_TOKEN_HEADER, "app-token-123".parse().expect("header"));
    assert_eq!(post(&app, req).await, (StatusCode::OK, json!({ "status": "SUCCESS" })));
    let health = Request::get("/healthz").body(Body::empty()).expect("request");
    assert_eq!(post(&app, health).await.0, StatusCode::OK);
    assert_eq!(activity_count(&db, "alice").await, 1);
}

async fn the_fact_is_queued_for_the_owners_webhooks_only(db: TestDb) {
    use todo_lib::sender::{Sender, SenderSettings};
    use todo_testing::WebhookReceiver;
    let mine = WebhookReceiver::start().await;
    let theirs = WebhookReceiver::start().await;
    for (user, receiver) in [("alice", &mine), ("bob", &theirs)] {
        todo_testing::facts::webhook(&db.store, user, &receiver.url).await;
    }
    let event = created_event(&db, "alice").await;
    let (status, body) = post(&app(&db), structured(&event.payload)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["webhooks_queued"], 1, "{body}");
    let (status, body) = post(&app(&db), structured(&event.payload)).await;
    assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("duplicate")), "{body}");
    assert!(mine.received().is_empty(), "the handler only queues");

    let sender = Sender::new(loopback_deliverer(), SenderSettings::default());
    let round = sender.round(&db.store).await.expect("round");
    assert_eq!((round.delivered, round.in_flight), (1, 0), "{round:?}");
    let got = mine.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].headers.get("webhook-id"), Some(&event.id.to_string()));
    assert!(theirs.received().is_empty(), "another user's webhook gets nothing");
}

async fn metrics_count_events_by_outcome(db: TestDb) {
    let app = app(&db);
    let event = created_event(&db, "alice").await;
    post(&app, structured(&dapr_envelope(&event))).await;
    post(&app, structured(&dapr_envelope(&event))).await;
    let res = app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).expect("request"))
        .await
        .expect("ok");
    assert_eq!(res.status(), StatusCode::OK);
    let text =
        String::from_utf8(res.into_body().collect().await.expect("body").to_bytes().to_vec()).expect("utf-8");
    assert!(text.contains(r#"todo_events_total{function="task-created",outcome="success"}"#), "{text}");
    assert!(text.contains(r#"todo_events_total{function="task-created",outcome="duplicate"}"#), "{text}");
    assert!(text.contains("todo_event_handler_seconds_bucket"), "{text}");
}

async fn an_oversize_event_is_refused_before_it_is_read_whole(db: TestDb) {
    let settings = todo_lib::serve::Settings {
        addr: "127.0.0.1:0".parse().expect("address"),
        body_limit_bytes: 4096,
        request_timeout: std::time::Duration::from_secs(10),
        shutdown_grace: std::time::Duration::from_secs(1),
    };
    let app = todo_lib::serve::with_common_layers(app(&db), settings);
    let mut envelope = dapr_envelope(&created_event(&db, "alice").await);
    envelope["data"]["task"]["description"] = "x".repeat(10_000).into();
    let (status, _) = post(&app, structured(&envelope)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(activity_count(&db, "alice").await, 0);
}
