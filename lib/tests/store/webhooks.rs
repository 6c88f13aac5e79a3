//! Queueing, claiming and recording webhook deliveries, on both backends.

use std::time::Duration as StdDuration;

use todo_lib::webhook::{Attempt, DeliveryStatus, Webhook};

use super::*;

const LEASE: StdDuration = StdDuration::from_secs(60);

todo_testing::on_both_backends!(
    an_event_is_queued_once_per_webhook_of_its_owner,
    claims_lease_due_deliveries_soonest_first,
    concurrent_claims_get_disjoint_deliveries,
    a_retry_time_holds_back_the_webhooks_other_deliveries,
    a_final_delivery_is_never_reopened,
);

async fn webhook(db: &TestDb, user: &str) -> Webhook {
    let url = url::Url::parse("https://hooks.example.com/x").expect("url");
    let hook = Webhook::new(user, &url, t0()).expect("random");
    let mut tx = db.store.begin().await.expect("begin");
    assert!(tx.insert_webhook(&hook, 10).await.expect("insert"));
    tx.commit().await.expect("commit");
    hook
}

/// Records an attempt as the sender does: with a retry time, the webhook's
/// other owed deliveries are held back too.
async fn record(db: &TestDb, event_id: &str, webhook: Uuid, attempt: &Attempt, now: DateTime<Utc>) {
    let mut tx = db.store.begin().await.expect("begin");
    tx.record_webhook_attempt(event_id, webhook, attempt, now).await.expect("record");
    if let Some(retry_at) = attempt.retry_at {
        tx.defer_webhook(webhook, retry_at, now).await.expect("defer");
    }
    tx.commit().await.expect("commit");
}

/// Queues an event of a task in `user`'s Inbox, whose only member is `user`.
async fn queue(db: &TestDb, event_id: &str, user: &str, at: DateTime<Utc>) -> u64 {
    let inbox = todo_testing::facts::inbox(&db.store, user).await.id;
    db.store.queue_webhook_deliveries(event_id, inbox, r#"{"n":1}"#, at).await.expect("queue")
}

fn attempt(status: DeliveryStatus, retry_at: Option<DateTime<Utc>>) -> Attempt {
    Attempt { status, status_code: Some(503), error: None, retry_at }
}

async fn an_event_is_queued_once_per_webhook_of_its_owner(db: TestDb) {
    let (a1, a2) = (webhook(&db, "alice").await, webhook(&db, "alice").await);
    webhook(&db, "bob").await;
    assert_eq!(queue(&db, "e1", "alice", t0()).await, 2, "one per webhook of hers, none of Bob's");
    assert_eq!(queue(&db, "e1", "alice", t0()).await, 0, "a redelivery queues nothing");
    assert_eq!(queue(&db, "e2", "carol", t0()).await, 0, "no webhooks, nothing queued");
    let mut got = db.store.webhook_delivery_statuses("e1").await.expect("statuses");
    got.sort_by_key(|(id, _)| *id);
    let mut want = vec![(a1.id, DeliveryStatus::Pending), (a2.id, DeliveryStatus::Pending)];
    want.sort_by_key(|(id, _)| *id);
    assert_eq!(got, want);
    assert_eq!(db.store.count_owed_webhook_deliveries().await.expect("count"), 2);
}

async fn claims_lease_due_deliveries_soonest_first(db: TestDb) {
    let hook = webhook(&db, "alice").await;
    queue(&db, "later", "alice", t0() + Duration::seconds(2)).await;
    queue(&db, "sooner", "alice", t0() + Duration::seconds(1)).await;
    queue(&db, "not-yet", "alice", t0() + Duration::minutes(5)).await;
    let now = t0() + Duration::seconds(3);
    let claimed = db.store.claim_webhook_deliveries(now, LEASE, 10).await.expect("claim");
    let ids: Vec<&str> = claimed.iter().map(|d| d.event_id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, ["later", "sooner"], "only those due");
    assert!(claimed.iter().all(|d| d.webhook.as_ref().map(|w| w.id) == Some(hook.id) && d.attempts == 0));
    assert_eq!(claimed[0].body, r#"{"n":1}"#);
    let one = db.store.claim_webhook_deliveries(now + Duration::seconds(61), LEASE, 1).await.expect("claim");
    assert_eq!(one.iter().map(|d| d.event_id.as_str()).collect::<Vec<_>>(), ["sooner"]);
    assert!(db.store.claim_webhook_deliveries(now, LEASE, 10).await.expect("claim").is_empty(), "leased");
}

async fn concurrent_claims_get_disjoint_deliveries(db: TestDb) {
    webhook(&db, "alice").await;
    for i in 0..40 {
        queue(&db, &format!("e{i}"), "alice", t0()).await;
    }
    let (a, b) = tokio::join!(
        db.store.claim_webhook_deliveries(t0(), LEASE, 25),
        db.store.claim_webhook_deliveries(t0(), LEASE, 25),
    );
    let a: HashSet<String> = a.expect("claim a").into_iter().map(|d| d.event_id).collect();
    let b: HashSet<String> = b.expect("claim b").into_iter().map(|d| d.event_id).collect();
    assert!(a.is_disjoint(&b), "a delivery was claimed twice");
    assert_eq!(a.len() + b.len(), 40, "every delivery was claimed by one of them");
}

async fn a_retry_time_holds_back_the_webhooks_other_deliveries(db: TestDb) {
    let (failing, other) = (webhook(&db, "alice").await, webhook(&db, "bob").await);
    for i in 0..3 {
        queue(&db, &format!("a{i}"), "alice", t0()).await;
    }
    queue(&db, "b0", "bob", t0()).await;
    let first = db.store.claim_webhook_deliveries(t0(), LEASE, 1).await.expect("claim");
    assert_eq!(first[0].webhook_id, failing.id);
    let retry_at = t0() + Duration::minutes(5);
    let failed = attempt(DeliveryStatus::Pending, Some(retry_at));
    record(&db, &first[0].event_id, failing.id, &failed, t0()).await;

    let now = t0() + Duration::seconds(1);
    let rest = db.store.claim_webhook_deliveries(now, LEASE, 10).await.expect("claim");
    assert_eq!(rest.iter().map(|d| d.webhook_id).collect::<Vec<_>>(), [other.id], "Alice's wait");
    let sent = attempt(DeliveryStatus::Delivered, None);
    record(&db, "b0", other.id, &sent, now).await;
    let later = db.store.claim_webhook_deliveries(retry_at, LEASE, 10).await.expect("claim");
    assert_eq!(later.len(), 3, "all three of hers come back at the retry time");
    let retried = later.iter().find(|d| d.event_id == first[0].event_id).expect("the failed one");
    assert_eq!(retried.attempts, 1);
}

async fn a_final_delivery_is_never_reopened(db: TestDb) {
    let hook = webhook(&db, "alice").await;
    queue(&db, "e1", "alice", t0()).await;
    let delivered = attempt(DeliveryStatus::Delivered, None);
    record(&db, "e1", hook.id, &delivered, t0()).await;
    // A sender that outlived its lease reports a timeout afterwards.
    let late = attempt(DeliveryStatus::Pending, Some(t0()));
    record(&db, "e1", hook.id, &late, t0()).await;
    assert_eq!(
        db.store.webhook_delivery_statuses("e1").await.expect("statuses"),
        [(hook.id, DeliveryStatus::Delivered)]
    );
    assert!(db.store.claim_webhook_deliveries(t0(), LEASE, 10).await.expect("claim").is_empty());
    assert_eq!(db.store.count_owed_webhook_deliveries().await.expect("count"), 0);
}
