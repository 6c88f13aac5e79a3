//! Publishing a backlog through Dapr's bulk publish, on both backends, against
//! the sidecar stand-in (which checks every request against Dapr's documented
//! format): one request per topic, and only what the sidecar took is marked
//! published. The entries it fails stay in the outbox, released for the next
//! sweep, and go out then; nothing is marked that was not sent, nothing is
//! sent twice.

use todo_lib::outbox::publish_and_mark;
use todo_lib::publish::DaprPublisher;
use todo_testing::DaprStandIn;

use super::*;

todo_testing::on_both_backends!(
    a_backlog_goes_out_in_one_request_per_topic,
    entries_the_sidecar_fails_stay_unpublished_until_they_go_out,
);

/// `n` new tasks of alice with their `task.created` events, and one update:
/// the outbox's unpublished rows, oldest first.
async fn backlog(db: &TestDb, n: usize) -> Vec<OutboxEvent> {
    ensure_inbox(db, "alice").await;
    for i in 0..n {
        insert(db, &task("alice", &format!("task {i}"), t0())).await;
    }
    let t = task("alice", "changed", t0());
    insert(db, &t).await;
    let mut tx = db.store.begin().await.expect("begin");
    tx.write_event(&event(EventType::Updated, &t), None).await.expect("the update's event");
    tx.commit().await.expect("commit");
    db.store.unpublished_events(100).await.expect("the backlog")
}

fn ids(accepted: &[serde_json::Value]) -> Vec<String> {
    let mut ids: Vec<String> = accepted.iter().filter_map(|e| e["id"].as_str().map(str::to_owned)).collect();
    ids.sort();
    ids
}

async fn a_backlog_goes_out_in_one_request_per_topic(db: TestDb) {
    let sidecar = DaprStandIn::start("pubsub", Some("sidecar-token")).await;
    let publisher =
        DaprPublisher::new(&sidecar.url, "pubsub", Some("sidecar-token".to_owned().into())).expect("client");
    let events = backlog(&db, 30).await;
    assert_eq!(events.len(), 32, "31 created and one updated");
    assert_eq!(publish_and_mark(&db.store, &publisher, &events).await, 32);
    assert_eq!(sidecar.violations(), Vec::<String>::new());
    assert_eq!(sidecar.bulk_requests(), 1, "the created ones in one request, the lone update alone");
    let mut expected: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
    expected.sort();
    assert_eq!(ids(&sidecar.accepted()), expected);
    assert_eq!(db.store.count_unpublished().await.expect("count"), 0);
}

async fn entries_the_sidecar_fails_stay_unpublished_until_they_go_out(db: TestDb) {
    let sidecar = DaprStandIn::start("pubsub", None).await;
    let publisher = DaprPublisher::new(&sidecar.url, "pubsub", None).expect("client");
    let events = backlog(&db, 9).await;
    let failing: Vec<String> = events.iter().step_by(3).map(|e| e.id.to_string()).collect();
    sidecar.fail_events(&failing);
    let sent = publish_and_mark(&db.store, &publisher, &events).await;
    assert_eq!(sent, events.len() - failing.len());
    assert_eq!(db.store.count_unpublished().await.expect("count"), failing.len() as i64);
    let mut left: Vec<String> =
        db.store.unpublished_events(100).await.expect("left").iter().map(|e| e.id.to_string()).collect();
    left.sort();
    let mut expected_left = failing.clone();
    expected_left.sort();
    assert_eq!(left, expected_left, "exactly the failed entries are left");
    // Released: a sweep may claim them at once.
    let claimed =
        db.store.claim_unpublished(Utc::now(), Utc::now(), std::time::Duration::from_secs(60), 100).await;
    assert_eq!(claimed.expect("claim").len(), failing.len());

    // The whole sidecar failing: nothing is marked.
    sidecar.fail_events(&[]);
    sidecar.set_failing(true);
    let left = db.store.unpublished_events(100).await.expect("left");
    assert_eq!(publish_and_mark(&db.store, &publisher, &left).await, 0);
    assert_eq!(db.store.count_unpublished().await.expect("count"), failing.len() as i64);

    sidecar.set_failing(false);
    assert_eq!(publish_and_mark(&db.store, &publisher, &left).await, failing.len());
    assert_eq!(db.store.count_unpublished().await.expect("count"), 0);
    let mut all: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
    all.sort();
    assert_eq!(ids(&sidecar.accepted()), all, "each event accepted once");
    assert_eq!(sidecar.violations(), Vec::<String>::new());
}
