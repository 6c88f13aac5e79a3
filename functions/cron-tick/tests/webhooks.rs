//! Webhooks from queue to receiver, on PostgreSQL and SQLite: `task-due` queues a
//! reminder for the user's webhooks and `cron-tick`'s ticks send it, signed per
//! the Standard Webhooks specification (checked by the reference Python
//! implementation), one record per (event, webhook). 5xx and timeouts are retried
//! on the backoff schedule, only to the receiver that failed, until the schedule
//! runs out; 4xx and forbidden addresses are final. A receiver that hangs holds
//! neither the tick nor anyone else's deliveries, a send cut short by a crash is
//! taken over when its lease ends, and two replicas ticking at once send each
//! delivery once.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use cron_tick::TickSettings;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use todo_lib::event::OutboxEvent;
use todo_lib::sender::{Backoff, SenderSettings};
use todo_lib::task::NewTask;
use todo_lib::webhook::{Deliverer, DeliveryStatus, Webhook};
use todo_testing::{
    ManualClock, Received, TestDb, WebhookReceiver, deliver_via_dapr, facts, loopback_deliverer,
};

todo_testing::on_both_backends!(
    the_reminder_reaches_the_webhook_signed_and_verifiable,
    a_5xx_is_retried_after_a_backoff_and_only_to_the_failed_webhook,
    a_4xx_is_recorded_as_failed_and_not_retried,
    a_receiver_that_keeps_failing_is_given_up_when_the_schedule_runs_out,
    a_hanging_receiver_holds_neither_the_tick_nor_other_deliveries,
    a_failing_receivers_backlog_waits_with_it_and_does_not_starve_others,
    a_send_cut_short_by_a_crash_is_taken_over_after_its_lease,
    two_replicas_ticking_at_once_send_each_delivery_once,
    a_webhook_deleted_meanwhile_is_not_sent_to,
    a_user_who_turned_reminders_to_webhooks_off_gets_only_the_other_events,
    a_name_that_resolves_to_loopback_is_refused_at_delivery,
    redirects_are_followed_only_to_addresses_a_webhook_may_reach,
    a_users_deliveries_past_their_bound_wait_in_the_queue_and_go_out_later,
);

/// Retries 300 ms apart, twice: quick enough to watch.
fn quick_retries() -> SenderSettings {
    SenderSettings { backoff: Backoff::new(vec![Duration::from_millis(300); 2]), ..SenderSettings::default() }
}

/// A cron-tick whose claims, leases and retry times go by `clock`.
fn cron(db: &TestDb, deliverer: Deliverer, webhooks: SenderSettings, clock: &Arc<ManualClock>) -> Router {
    let clock: Arc<dyn todo_lib::clock::Clock> = clock.clone();
    cron_tick::app(
        db.store.clone(),
        None,
        TickSettings { webhooks, clock, ..TickSettings::default() },
        None,
        deliverer,
    )
}

/// The test's clock: a minute ahead of the wall clock, so that deliveries the
/// functions queue (stamped with the wall clock) are due by it at once; from
/// there only the test moves it.
fn clock() -> Arc<ManualClock> {
    ManualClock::starting_at(Utc::now() + chrono::Duration::minutes(1))
}

/// Runs one tick and returns its webhook round.
async fn tick(cron: &Router) -> Value {
    let (status, body) =
        todo_testing::call(cron, Request::post("/").body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::OK);
    body["webhooks"].clone()
}

fn round(delivered: usize, failed: usize, retrying: usize, in_flight: usize) -> Value {
    json!({ "delivered": delivered, "failed": failed, "retrying": retrying, "in_flight": in_flight, "deferred": 0 })
}

/// A `task.due` event of a new task of `user`, queued for the user's webhooks by `task-due`.
async fn queued_reminder(db: &TestDb, user: &str) -> OutboxEvent {
    let now = Utc::now();
    let input = NewTask {
        title: Some("Standup".into()),
        due_at: Some(now + chrono::Duration::minutes(5)),
        remind_before_minutes: Some(5),
        ..NewTask::default()
    };
    let (task, _) = facts::created(&db.store, user, input, now).await;
    let due = facts::reminder(&db.store, &task, now + chrono::Duration::seconds(1)).await;
    let task_due = task_due::app(db.store.clone(), None);
    let (status, body) = deliver_via_dapr(&task_due, &due).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "SUCCESS" })));
    due
}

async fn register(db: &TestDb, user: &str, receiver: &WebhookReceiver) -> Webhook {
    register_url(db, user, &receiver.url).await
}

/// Registers `url` straight in the store, as if it had passed the API's check
/// (a name can be rebound to another address after registration).
async fn register_url(db: &TestDb, user: &str, url: &str) -> Webhook {
    todo_testing::facts::webhook(&db.store, user, url).await
}

async fn statuses(db: &TestDb, event: &OutboxEvent) -> Vec<(uuid::Uuid, DeliveryStatus)> {
    let mut got = db.store.webhook_delivery_statuses(&event.id.to_string()).await.expect("statuses");
    got.sort_by_key(|(id, _)| *id);
    got
}

fn sorted(mut pairs: Vec<(uuid::Uuid, DeliveryStatus)>) -> Vec<(uuid::Uuid, DeliveryStatus)> {
    pairs.sort_by_key(|(id, _)| *id);
    pairs
}

/// Verifies `request` with the reference implementation (scripts/verify-webhook.py,
/// run by the project's own Python tools).
fn verify_with_python(secret: &str, request: &Received) -> Result<(), String> {
    use std::io::Write;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/verify-webhook.py");
    let mut child = std::process::Command::new(todo_testing::python())
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("python runs: {e}"))?;
    let input = json!({ "secret": secret, "headers": request.headers, "body": request.body }).to_string();
    child.stdin.take().ok_or("stdin")?.write_all(input.as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).into_owned()) }
}

async fn the_reminder_reaches_the_webhook_signed_and_verifiable(db: TestDb) {
    let clock = clock();
    let receiver = WebhookReceiver::start().await;
    let hook = register(&db, "alice", &receiver).await;
    let event = queued_reminder(&db, "alice").await;
    assert!(receiver.received().is_empty(), "task-due only queues it");
    assert_eq!(statuses(&db, &event).await, [(hook.id, DeliveryStatus::Pending)]);

    let cron = cron(&db, loopback_deliverer(), SenderSettings::default(), &clock);
    assert_eq!(tick(&cron).await, round(1, 0, 0, 0));
    assert_eq!(tick(&cron).await, round(0, 0, 0, 0), "sent once");
    assert_eq!(statuses(&db, &event).await, [(hook.id, DeliveryStatus::Delivered)]);

    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(
        request.headers.get("webhook-id"),
        Some(&event.id.to_string()),
        "the event id is the idempotency key"
    );
    assert!(request.headers.get("webhook-signature").is_some_and(|s| s.starts_with("v1,")));
    let body: Value = serde_json::from_str(&request.body).expect("JSON body");
    assert_eq!(body["type"], "task.due");
    assert_eq!(body["data"]["task"]["title"], "Standup");
    verify_with_python(hook.secret.expose_secret(), request)
        .expect("the reference implementation verifies it");

    let mut tampered = request.clone();
    tampered.body = request.body.replace("Standup", "Payday");
    assert!(verify_with_python(hook.secret.expose_secret(), &tampered).is_err(), "a changed body fails");
}

async fn a_5xx_is_retried_after_a_backoff_and_only_to_the_failed_webhook(db: TestDb) {
    let clock = clock();
    let healthy = WebhookReceiver::start().await;
    let flaky = WebhookReceiver::start().await;
    flaky.answer_with(&[503]);
    let good = register(&db, "alice", &healthy).await;
    let bad = register(&db, "alice", &flaky).await;
    let event = queued_reminder(&db, "alice").await;
    let cron = cron(&db, loopback_deliverer(), quick_retries(), &clock);

    assert_eq!(tick(&cron).await, round(1, 0, 1, 0));
    assert_eq!(tick(&cron).await, round(0, 0, 0, 0), "the retry waits for its backoff");
    assert_eq!(
        statuses(&db, &event).await,
        sorted(vec![(good.id, DeliveryStatus::Delivered), (bad.id, DeliveryStatus::Pending)])
    );
    clock.advance(Duration::from_millis(400));
    assert_eq!(tick(&cron).await, round(1, 0, 0, 0));
    assert_eq!(healthy.received().len(), 1, "the healthy receiver got it once");
    assert_eq!(flaky.received().len(), 2, "the flaky one got it again after its 503");
    assert_eq!(
        statuses(&db, &event).await,
        sorted(vec![(good.id, DeliveryStatus::Delivered), (bad.id, DeliveryStatus::Delivered)])
    );
}

async fn a_4xx_is_recorded_as_failed_and_not_retried(db: TestDb) {
    let clock = clock();
    let refusing = WebhookReceiver::start().await;
    refusing.answer_with(&[410]);
    let hook = register(&db, "alice", &refusing).await;
    let event = queued_reminder(&db, "alice").await;
    let cron = cron(&db, loopback_deliverer(), quick_retries(), &clock);
    assert_eq!(tick(&cron).await, round(0, 1, 0, 0));
    clock.advance(Duration::from_millis(400));
    assert_eq!(tick(&cron).await, round(0, 0, 0, 0));
    assert_eq!(refusing.received().len(), 1, "not retried");
    assert_eq!(statuses(&db, &event).await, [(hook.id, DeliveryStatus::Failed)]);
}

async fn a_receiver_that_keeps_failing_is_given_up_when_the_schedule_runs_out(db: TestDb) {
    let clock = clock();
    let broken = WebhookReceiver::start().await;
    broken.answer_with(&[500, 502, 503, 504]);
    let hook = register(&db, "alice", &broken).await;
    let event = queued_reminder(&db, "alice").await;
    let cron = cron(&db, loopback_deliverer(), quick_retries(), &clock);
    assert_eq!(tick(&cron).await, round(0, 0, 1, 0));
    for _ in 0..2 {
        clock.advance(Duration::from_millis(400));
        let _ = tick(&cron).await;
    }
    assert_eq!(statuses(&db, &event).await, [(hook.id, DeliveryStatus::Failed)]);
    assert_eq!(broken.received().len(), 3, "three attempts: the first and two retries");
    clock.advance(Duration::from_millis(400));
    assert_eq!(tick(&cron).await, round(0, 0, 0, 0));
    assert_eq!(broken.received().len(), 3, "nothing after giving up");
}

async fn a_hanging_receiver_holds_neither_the_tick_nor_other_deliveries(db: TestDb) {
    let clock = clock();
    let hanging = WebhookReceiver::start().await;
    hanging.answer_with(&[0]);
    let healthy = WebhookReceiver::start().await;
    let bobs = WebhookReceiver::start().await;
    // Alice's hanging receiver first, so that sending in order would hold the rest.
    let stuck = register(&db, "alice", &hanging).await;
    let fine = register(&db, "alice", &healthy).await;
    register(&db, "bob", &bobs).await;
    let event = queued_reminder(&db, "alice").await;
    // The receiver is given 3 s; a tick waits for its sends for at most 500 ms.
    let deliverer = Deliverer::with_timeout(Duration::from_secs(3), true).expect("client");
    let cron =
        cron(&db, deliverer, SenderSettings { wait: Duration::from_millis(500), ..quick_retries() }, &clock);

    assert_eq!(tick(&cron).await, round(1, 0, 0, 1), "the tick returned with the hanging send in flight");
    assert_eq!(healthy.received().len(), 1);
    // Bob's reminder, queued while Alice's receiver hangs, goes out on the next tick.
    queued_reminder(&db, "bob").await;
    assert_eq!(tick(&cron).await, round(1, 0, 0, 0), "the hanging send is leased: not sent twice");
    assert_eq!(bobs.received().len(), 1);
    assert_eq!(hanging.received().len(), 1);
    assert_eq!(
        statuses(&db, &event).await,
        sorted(vec![(fine.id, DeliveryStatus::Delivered), (stuck.id, DeliveryStatus::Pending)])
    );
    // After its timeout and backoff the hanging one is retried, and now answers.
    let mut delivered = false;
    for _ in 0..50 {
        // The send waits out the receiver's real 3 s timeout; its retry time
        // goes by the test's clock.
        tokio::time::sleep(Duration::from_millis(200)).await;
        clock.advance(Duration::from_millis(200));
        tick(&cron).await;
        if statuses(&db, &event).await.iter().all(|(_, s)| *s == DeliveryStatus::Delivered) {
            delivered = true;
            break;
        }
    }
    assert!(delivered, "retried after the timeout: {:?}", statuses(&db, &event).await);
    assert_eq!(hanging.received().len(), 2);
    assert_eq!(healthy.received().len(), 1, "the healthy receiver was not sent it again");
}

async fn a_failing_receivers_backlog_waits_with_it_and_does_not_starve_others(db: TestDb) {
    let clock = clock();
    let down = WebhookReceiver::start().await;
    down.answer_with(&[503; 20]);
    let bobs = WebhookReceiver::start().await;
    register(&db, "alice", &down).await;
    register(&db, "bob", &bobs).await;
    for _ in 0..8 {
        queued_reminder(&db, "alice").await;
    }
    let bob_event = queued_reminder(&db, "bob").await;
    // Two sends at a time: Alice's first two fail and the six behind them wait
    // for the same backoff, so Bob's (queued last) goes out in the same tick.
    let cron = cron(&db, loopback_deliverer(), SenderSettings { concurrency: 2, ..quick_retries() }, &clock);
    let first = tick(&cron).await;
    assert_eq!(first, round(1, 0, 2, 0), "{first}");
    assert_eq!(down.received().len(), 2, "one try per failing receiver's batch, not one per event");
    assert_eq!(bobs.received().len(), 1);
    assert_eq!(bobs.received()[0].headers.get("webhook-id"), Some(&bob_event.id.to_string()));
}

async fn a_send_cut_short_by_a_crash_is_taken_over_after_its_lease(db: TestDb) {
    let clock = clock();
    let receiver = WebhookReceiver::start().await;
    let hook = register(&db, "alice", &receiver).await;
    let event = queued_reminder(&db, "alice").await;
    // A sender claims the delivery and dies before it sends or records anything.
    let claimed = db
        .store
        .claim_webhook_deliveries(todo_lib::clock::Clock::now(&*clock), Duration::from_millis(300), 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].webhook.as_ref().map(|w| w.id), Some(hook.id));

    let cron = cron(&db, loopback_deliverer(), SenderSettings::default(), &clock);
    assert_eq!(tick(&cron).await, round(0, 0, 0, 0), "leased to the dead sender");
    clock.advance(Duration::from_millis(400));
    assert_eq!(tick(&cron).await, round(1, 0, 0, 0), "taken over once the lease ended");
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(statuses(&db, &event).await, [(hook.id, DeliveryStatus::Delivered)]);
}

async fn two_replicas_ticking_at_once_send_each_delivery_once(db: TestDb) {
    let clock = clock();
    let receiver = WebhookReceiver::start().await;
    register(&db, "alice", &receiver).await;
    let mut events = Vec::new();
    for _ in 0..30 {
        events.push(queued_reminder(&db, "alice").await.id.to_string());
    }
    // Two cron-tick replicas, each with its own sender, four sends at a time.
    let settings = || SenderSettings { concurrency: 4, ..SenderSettings::default() };
    let (a, b) = (
        cron(&db, loopback_deliverer(), settings(), &clock),
        cron(&db, loopback_deliverer(), settings(), &clock),
    );
    let mut sent = 0;
    for _ in 0..10 {
        let (ra, rb) = tokio::join!(tick(&a), tick(&b));
        sent += ra["delivered"].as_u64().unwrap_or(0) + rb["delivered"].as_u64().unwrap_or(0);
        if sent >= 30 {
            break;
        }
    }
    assert_eq!(sent, 30);
    let mut ids: Vec<String> =
        receiver.received().iter().filter_map(|r| r.headers.get("webhook-id").cloned()).collect();
    ids.sort();
    events.sort();
    assert_eq!(ids, events, "each event once, none twice");
}

async fn a_webhook_deleted_meanwhile_is_not_sent_to(db: TestDb) {
    let clock = clock();
    let receiver = WebhookReceiver::start().await;
    let hook = register(&db, "alice", &receiver).await;
    let event = queued_reminder(&db, "alice").await;
    assert!(db.store.delete_webhook("alice", hook.id).await.expect("delete"));
    let cron = cron(&db, loopback_deliverer(), SenderSettings::default(), &clock);
    assert_eq!(tick(&cron).await, round(0, 1, 0, 0));
    assert!(receiver.received().is_empty());
    assert_eq!(statuses(&db, &event).await, [(hook.id, DeliveryStatus::Failed)]);
}

async fn a_user_who_turned_reminders_to_webhooks_off_gets_only_the_other_events(db: TestDb) {
    let receiver = WebhookReceiver::start().await;
    let hook = register(&db, "alice", &receiver).await;
    let mut settings = todo_lib::settings::Settings::defaults("alice");
    settings.channels.reminders.webhooks = false;
    settings.updated_at = Some(Utc::now());
    let mut tx = db.store.begin().await.expect("tx");
    tx.put_settings(&settings).await.expect("saved");
    tx.commit().await.expect("commit");

    let event = queued_reminder(&db, "alice").await;
    assert!(statuses(&db, &event).await.is_empty(), "the reminder is not queued for alice's webhook");
    let (task, created) = facts::created_titled(&db.store, "alice", "Other news").await;
    let queued = db
        .store
        .queue_webhook_deliveries(&created.id.to_string(), task.list_id, "{}", Utc::now())
        .await
        .expect("queued");
    assert_eq!(queued, 1, "other events still go to it");
    assert_eq!(statuses(&db, &created).await, [(hook.id, DeliveryStatus::Pending)]);
}

/// This machine's host name, which its hosts file maps to a loopback address.
fn loopback_host_name() -> String {
    use std::net::ToSocketAddrs;
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("host name").trim().to_owned();
    let resolved: Vec<_> = (name.as_str(), 0).to_socket_addrs().expect("the host name resolves").collect();
    assert!(
        !resolved.is_empty() && resolved.iter().all(|a| a.ip().is_loopback()),
        "this test needs a host name that resolves to loopback; {name} resolves to {resolved:?}"
    );
    name
}

async fn a_name_that_resolves_to_loopback_is_refused_at_delivery(db: TestDb) {
    let clock = clock();
    let receiver = WebhookReceiver::start().await;
    let port = url::Url::parse(&receiver.url).expect("url").port().expect("port");
    // An https URL with a host name passes the registration check; only
    // resolving the name shows where it points.
    let url = format!("https://{}:{port}/hook", loopback_host_name());
    assert!(todo_lib::webhook::check_url(&url, false).is_ok(), "{url} passes registration");
    let hook = register_url(&db, "alice", &url).await;
    let event = queued_reminder(&db, "alice").await;
    let cron = cron(&db, Deliverer::new(false).expect("client"), quick_retries(), &clock);

    assert_eq!(tick(&cron).await, round(0, 1, 0, 0), "refused for good, not retried");
    assert_eq!(statuses(&db, &event).await, [(hook.id, DeliveryStatus::Failed)]);
    clock.advance(Duration::from_millis(400));
    assert_eq!(tick(&cron).await, round(0, 0, 0, 0));
    assert!(receiver.received().is_empty(), "no connection was made");
}

async fn redirects_are_followed_only_to_addresses_a_webhook_may_reach(db: TestDb) {
    let clock = clock();
    let first = WebhookReceiver::start().await;
    let second = WebhookReceiver::start().await;
    // Loopback is allowed here (the development flag), so a redirect to
    // another loopback receiver is followed, and one to the metadata address is not.
    first.redirect_with(307, &second.url);
    first.redirect_with(307, "http://169.254.169.254/latest/meta-data/");
    let hook = register(&db, "alice", &first).await;
    let cron = cron(&db, loopback_deliverer(), SenderSettings::default(), &clock);

    let followed = queued_reminder(&db, "alice").await;
    assert_eq!(tick(&cron).await, round(1, 0, 0, 0));
    assert_eq!(statuses(&db, &followed).await, [(hook.id, DeliveryStatus::Delivered)]);
    assert_eq!(second.received().len(), 1, "the redirect was followed");

    let refused = queued_reminder(&db, "alice").await;
    assert_eq!(tick(&cron).await, round(0, 1, 0, 0));
    assert_eq!(statuses(&db, &refused).await, [(hook.id, DeliveryStatus::Failed)]);
    assert_eq!(first.received().len(), 2);
    assert_eq!(second.received().len(), 1, "nothing else went anywhere");
}

async fn a_users_deliveries_past_their_bound_wait_in_the_queue_and_go_out_later(db: TestDb) {
    use todo_lib::rate_limit::{Limiter, Policies, Policy};
    let clock = clock();
    let (alice, bob) = (WebhookReceiver::start().await, WebhookReceiver::start().await);
    register(&db, "alice", &alice).await;
    register(&db, "bob", &bob).await;
    let mut events = Vec::new();
    for _ in 0..5 {
        events.push(queued_reminder(&db, "alice").await);
    }
    queued_reminder(&db, "bob").await;
    // Two a minute per user, by the test's clock.
    let policies = Policies { webhooks: Policy { per_minute: 2, burst: 2 }, ..Policies::DEFAULT };
    let per_user = Limiter::in_process_with_clock(policies, clock.clone());
    let cron =
        cron(&db, loopback_deliverer(), SenderSettings { per_user, ..SenderSettings::default() }, &clock);
    let with_deferred = |delivered: usize, deferred: usize| {
        let mut round = round(delivered, 0, 0, 0);
        round["deferred"] = json!(deferred);
        round
    };

    assert_eq!(tick(&cron).await, with_deferred(3, 3), "alice's two, and bob's one");
    assert_eq!((alice.received().len(), bob.received().len()), (2, 1));
    assert_eq!(tick(&cron).await, with_deferred(0, 0), "the rest wait, unclaimed, for room");
    let mut pending = 0;
    for event in &events {
        pending += statuses(&db, event).await.iter().filter(|(_, s)| *s == DeliveryStatus::Pending).count();
    }
    assert_eq!(pending, 3, "never dropped");

    clock.advance(Duration::from_secs(30));
    assert_eq!(tick(&cron).await, with_deferred(1, 2), "one unit back after half a minute");
    clock.advance(Duration::from_secs(60));
    assert_eq!(tick(&cron).await, with_deferred(2, 0));
    let mut ids: Vec<_> =
        alice.received().iter().filter_map(|r| r.headers.get("webhook-id").cloned()).collect();
    ids.sort();
    let mut want: Vec<_> = events.iter().map(|e| e.id.to_string()).collect();
    want.sort();
    assert_eq!(ids, want, "each event once, none lost");
}
