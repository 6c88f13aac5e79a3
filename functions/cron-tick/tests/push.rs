//! Reminders pushed to a Web Push service on loopback, on PostgreSQL and
//! SQLite: `task-due` queues one message per reminder for each browser of a
//! user who wants reminders by push, and `cron-tick`'s ticks send it,
//! encrypted and VAPID-signed, to `scripts/push-test-service.py`, which
//! verifies the signature and decrypts the message with libraries written by
//! others (`cryptography`, `http_ece`). A 410 deletes the subscription, a 429
//! waits for its `Retry-After`, a 5xx is retried, a redelivered event pushes
//! nothing new, quiet hours hold the message, and the notice's Complete
//! action completes the task.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use cron_tick::TickSettings;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use todo_lib::event::OutboxEvent;
use todo_lib::push::{Pusher, SubscriptionInput, VapidKeys};
use todo_lib::sender::{Backoff, SenderSettings};
use todo_lib::settings::{QuietHours, Settings};
use todo_lib::task::NewTask;
use todo_testing::{ManualClock, PushService, TestDb, deliver_via_dapr, facts};
use tower::ServiceExt;

todo_testing::on_both_backends!(
    the_reminder_is_pushed_encrypted_and_signed_to_every_browser,
    a_410_deletes_the_subscription_and_what_it_was_owed,
    a_429_waits_for_its_retry_after,
    a_5xx_is_retried_and_then_delivered_once,
    a_redelivered_reminder_pushes_nothing_new,
    quiet_hours_hold_the_push_and_release_it_once,
    push_turned_off_in_the_settings_sends_nothing,
    the_complete_action_completes_the_task,
);

const CONTACT: &str = "mailto:ops@todo.example";

fn keys() -> VapidKeys {
    VapidKeys::new(&VapidKeys::generate(), CONTACT).expect("keys")
}

/// The test's clock: a minute ahead of the wall clock (what the functions
/// queue is due by it at once); from there only the test moves it.
fn clock() -> Arc<ManualClock> {
    ManualClock::starting_at(Utc::now() + chrono::Duration::minutes(1))
}

/// A cron-tick pushing with `keys` (loopback allowed), retrying 300 ms apart
/// twice, with claims and retry times going by `clock`.
fn cron(db: &TestDb, keys: &VapidKeys, clock: &Arc<ManualClock>) -> Router {
    let clock: Arc<dyn todo_lib::clock::Clock> = clock.clone();
    let push = SenderSettings {
        backoff: Backoff::new(vec![Duration::from_millis(300); 2]),
        wait: Duration::from_secs(20),
        ..SenderSettings::default()
    };
    let pusher = Pusher::new(Some(keys.clone()), true).expect("a client");
    let settings = TickSettings { push, pusher, clock, ..TickSettings::default() };
    cron_tick::app(db.store.clone(), None, settings, None, todo_testing::loopback_deliverer())
}

/// Runs one tick and returns its push round.
async fn tick(cron: &Router) -> Value {
    let (status, body) =
        todo_testing::call(cron, Request::post("/").body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::OK);
    body["push"].clone()
}

fn round(delivered: usize, failed: usize, retrying: usize) -> Value {
    json!({ "delivered": delivered, "failed": failed, "retrying": retrying, "in_flight": 0, "deferred": 0 })
}

/// Saves `user`'s settings: reminders by push (and in the app), in `zone`,
/// with `quiet` hours.
async fn wants_push(db: &TestDb, user: &str, push: bool, zone: &str, quiet: Option<QuietHours>) {
    let mut settings = Settings::defaults(user);
    settings.time_zone = zone.parse().expect("a zone");
    settings.channels.reminders.push = push;
    settings.quiet_hours = quiet;
    settings.updated_at = Some(Utc::now());
    let mut tx = db.store.begin().await.expect("tx");
    tx.put_settings(&settings).await.expect("saved");
    tx.commit().await.expect("commit");
}

/// A browser of `user` subscribed at `service`: its endpoint.
async fn browser(db: &TestDb, service: &PushService, user: &str) -> String {
    let input: SubscriptionInput = serde_json::from_value(service.subscribe()).expect("a subscription");
    let subscription = input.check(user, true, Utc::now()).expect("valid");
    let mut tx = db.store.begin().await.expect("tx");
    tx.subscribe_push(&subscription, 10).await.expect("subscribed");
    tx.commit().await.expect("commit");
    subscription.endpoint
}

/// A task of `user` titled `title` due in five minutes, its reminder claimed
/// now, and the `task.due` event handled by `task-due`.
async fn reminded(db: &TestDb, user: &str, title: &str) -> (uuid::Uuid, OutboxEvent) {
    let now = Utc::now();
    let input = NewTask {
        title: Some(title.into()),
        due_at: Some(now + chrono::Duration::minutes(5)),
        remind_before_minutes: Some(5),
        ..NewTask::default()
    };
    let (task, _) = facts::created(&db.store, user, input, now).await;
    let due = facts::reminder(&db.store, &task, now + chrono::Duration::seconds(1)).await;
    deliver(db, &due).await;
    (task.id, due)
}

async fn deliver(db: &TestDb, due: &OutboxEvent) {
    let (status, body) = deliver_via_dapr(&task_due::app(db.store.clone(), None), due).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "SUCCESS" })));
}

/// Every message the service took was signed and decrypted: none has an error.
fn all_verified(received: &[Value]) {
    for message in received {
        assert!(message.get("error").is_none(), "the push service refused a message: {message}");
    }
}

async fn the_reminder_is_pushed_encrypted_and_signed_to_every_browser(db: TestDb) {
    let service = PushService::start();
    wants_push(&db, "alice", true, "Europe/Berlin", None).await;
    let (laptop, phone) = (browser(&db, &service, "alice").await, browser(&db, &service, "alice").await);
    let (task_id, _) = reminded(&db, "alice", "Pay <rent>").await;
    let keys = keys();
    let clock = clock();
    let cron = cron(&db, &keys, &clock);
    assert_eq!(tick(&cron).await, round(2, 0, 0));
    assert_eq!(tick(&cron).await, round(0, 0, 0), "pushed once");

    let received = service.received();
    all_verified(&received);
    let mut reached: Vec<&str> = received.iter().filter_map(|m| m["subscription"].as_str()).collect();
    reached.sort_unstable();
    let mut browsers = [laptop.rsplit('/').next(), phone.rsplit('/').next()].map(Option::unwrap_or_default);
    browsers.sort_unstable();
    assert_eq!(reached, browsers, "one message to each browser");
    let message = &received[0];
    let notice = &message["payload"];
    assert_eq!(notice["title"], "Pay <rent>", "the browser shows it as text");
    let body = notice["body"].as_str().unwrap_or_default();
    assert!(body.starts_with("Due ") && body.ends_with("(Europe/Berlin)"), "{body}");
    assert_eq!(notice["tag"], task_id.to_string());
    assert_eq!(notice["url"], format!("/?task={task_id}"));
    assert!(
        notice["actions"]["complete"]
            .as_str()
            .unwrap_or_default()
            .starts_with("/mail/complete?token=todo_done_")
    );
    assert!(
        notice["actions"]["snooze"]
            .as_str()
            .unwrap_or_default()
            .starts_with("/mail/snooze?token=todo_snooze_")
    );
    let vapid = &message["vapid"];
    assert_eq!(vapid["key"], keys.public_key(), "signed with the server's key");
    assert_eq!(vapid["claims"]["aud"], format!("http://127.0.0.1:{}", service.port));
    assert_eq!(vapid["claims"]["sub"], CONTACT);
    let headers = &message["headers"];
    assert_eq!(headers["ttl"], "86400");
    assert_eq!(headers["urgency"], "high");
    assert_eq!(headers["topic"], task_id.simple().to_string(), "a later notice of the task replaces it");
    let in_app = db.store.list_notifications("alice", false, 10).await.expect("notifications");
    assert_eq!(in_app.len(), 1, "the app still shows it");
}

async fn a_410_deletes_the_subscription_and_what_it_was_owed(db: TestDb) {
    let service = PushService::start();
    wants_push(&db, "alice", true, "UTC", None).await;
    let endpoint = browser(&db, &service, "alice").await;
    service.answer_next(&endpoint, &[(410, None)]);
    reminded(&db, "alice", "Standup").await;
    let (keys, clock) = (keys(), clock());
    let cron = cron(&db, &keys, &clock);
    assert_eq!(tick(&cron).await, round(0, 1, 0));
    assert!(db.store.push_subscriptions("alice").await.expect("reads").is_empty(), "deleted");
    reminded(&db, "alice", "Lunch").await;
    clock.advance(Duration::from_secs(3600));
    assert_eq!(tick(&cron).await, round(0, 0, 0), "nothing more is queued for it");
    assert_eq!(service.received().len(), 1);
}

async fn a_429_waits_for_its_retry_after(db: TestDb) {
    let service = PushService::start();
    wants_push(&db, "alice", true, "UTC", None).await;
    let endpoint = browser(&db, &service, "alice").await;
    service.answer_next(&endpoint, &[(429, Some("120"))]);
    reminded(&db, "alice", "Standup").await;
    let (keys, clock) = (keys(), clock());
    let cron = cron(&db, &keys, &clock);
    assert_eq!(tick(&cron).await, round(0, 0, 1));
    clock.advance(Duration::from_secs(60));
    assert_eq!(tick(&cron).await, round(0, 0, 0), "past the backoff, not yet past Retry-After");
    clock.advance(Duration::from_secs(61));
    assert_eq!(tick(&cron).await, round(1, 0, 0));
    let received = service.received();
    all_verified(&received);
    let answers: Vec<u64> = received.iter().filter_map(|m| m["answer"].as_u64()).collect();
    assert_eq!(answers, [429, 201]);
    assert_eq!(received[0]["payload"], received[1]["payload"], "the same notice, resent");
}

async fn a_5xx_is_retried_and_then_delivered_once(db: TestDb) {
    let service = PushService::start();
    wants_push(&db, "alice", true, "UTC", None).await;
    let endpoint = browser(&db, &service, "alice").await;
    service.answer_next(&endpoint, &[(503, None)]);
    reminded(&db, "alice", "Standup").await;
    let (keys, clock) = (keys(), clock());
    let cron = cron(&db, &keys, &clock);
    assert_eq!(tick(&cron).await, round(0, 0, 1));
    assert_eq!(tick(&cron).await, round(0, 0, 0), "the retry waits for its backoff");
    clock.advance(Duration::from_millis(400));
    assert_eq!(tick(&cron).await, round(1, 0, 0));
    assert_eq!(tick(&cron).await, round(0, 0, 0));
    assert_eq!(service.received().len(), 2);
}

async fn a_redelivered_reminder_pushes_nothing_new(db: TestDb) {
    let service = PushService::start();
    wants_push(&db, "alice", true, "UTC", None).await;
    browser(&db, &service, "alice").await;
    let (_, due) = reminded(&db, "alice", "Standup").await;
    deliver(&db, &due).await;
    let (keys, clock) = (keys(), clock());
    let cron = cron(&db, &keys, &clock);
    assert_eq!(tick(&cron).await, round(1, 0, 0));
    deliver(&db, &due).await;
    assert_eq!(tick(&cron).await, round(0, 0, 0));
    assert_eq!(service.received().len(), 1);
}

async fn quiet_hours_hold_the_push_and_release_it_once(db: TestDb) {
    let service = PushService::start();
    let now = Utc::now();
    let minute = |at: chrono::DateTime<Utc>| {
        todo_lib::settings::hh_mm::parse(&at.format("%H:%M").to_string()).expect("time")
    };
    let quiet = QuietHours {
        start: minute(now - chrono::Duration::hours(1)),
        end: minute(now + chrono::Duration::hours(2)),
    };
    wants_push(&db, "alice", true, "UTC", Some(quiet)).await;
    browser(&db, &service, "alice").await;
    reminded(&db, "alice", "Standup").await;
    let (keys, clock) = (keys(), clock());
    let cron = cron(&db, &keys, &clock);
    assert_eq!(tick(&cron).await, round(0, 0, 0), "held");
    clock.advance(Duration::from_secs(2 * 3600 + 120));
    assert_eq!(tick(&cron).await, round(1, 0, 0), "sent when they end");
    assert_eq!(tick(&cron).await, round(0, 0, 0), "once");
    assert_eq!(service.received().len(), 1);
}

async fn push_turned_off_in_the_settings_sends_nothing(db: TestDb) {
    let service = PushService::start();
    wants_push(&db, "alice", false, "UTC", None).await;
    browser(&db, &service, "alice").await;
    reminded(&db, "alice", "Standup").await;
    let (keys, clock) = (keys(), clock());
    assert_eq!(tick(&cron(&db, &keys, &clock)).await, round(0, 0, 0));
    assert!(service.received().is_empty());
}

/// The API, where the notice's actions lead.
fn api(db: &TestDb) -> Router {
    let secret = "push-tests-only-secret-0123456789abcdef".to_owned().into();
    let auth = api::auth::Authenticator::with_secret(&secret).expect("a secret");
    api::app(api::AppState::new(db.store.clone(), Arc::new(auth)))
}

async fn the_complete_action_completes_the_task(db: TestDb) {
    let service = PushService::start();
    wants_push(&db, "alice", true, "UTC", None).await;
    browser(&db, &service, "alice").await;
    let (task_id, _) = reminded(&db, "alice", "Water the plants").await;
    let (keys, clock) = (keys(), clock());
    assert_eq!(tick(&cron(&db, &keys, &clock)).await, round(1, 0, 0));
    let notice = service.received()[0]["payload"].clone();
    let complete = notice["actions"]["complete"].as_str().expect("a complete action").to_owned();
    // What the service worker sends: a POST to the action's path, no sign-in.
    for _ in 0..2 {
        let res = api(&db).oneshot(Request::post(&complete).body(Body::empty()).expect("request")).await;
        let res = res.expect("infallible");
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.into_body().collect().await.expect("body").to_bytes();
        assert!(String::from_utf8_lossy(&page).contains("is done"), "twice is still done");
    }
    let task = db.store.get_task("alice", task_id).await.expect("reads").expect("the task");
    assert!(task.completed);
    let forged = api(&db)
        .oneshot(Request::post("/mail/complete?token=todo_done_forged").body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
}
