//! What a composed transaction promises, on both backends: all of it or none
//! of it, and no writer left waiting behind one that ended.

use super::*;

todo_testing::on_both_backends!(
    a_dropped_transaction_changes_nothing,
    a_failed_operation_leaves_the_rest_uncommitted,
    a_writer_follows_a_transaction_dropped_midway,
    an_occurrence_is_reserved_once_under_concurrent_transactions,
    an_event_is_claimed_once_per_consumer,
);

async fn a_dropped_transaction_changes_nothing(db: TestDb) {
    let t = task("alice", "a", t0());
    ensure_inbox(&db, "alice").await;
    let mut tx = db.store.begin().await.expect("begin");
    tx.insert_task(&t).await.expect("insert");
    tx.write_event(&event(EventType::Created, &t), None).await.expect("event");
    drop(tx);
    assert_eq!(db.store.get_task("alice", t.id).await.expect("get"), None);
    assert!(db.store.unpublished_events(10).await.expect("outbox").is_empty(), "no event without its change");
    assert!(db.store.tag_counts("alice").await.expect("tags").is_empty());
}

async fn a_failed_operation_leaves_the_rest_uncommitted(db: TestDb) {
    let t = task("alice", "a", t0());
    insert(&db, &t).await;
    let done = t.completed(t0() + Duration::seconds(1)).expect("open");
    // The API's order: the event is written only after the row, so a stale
    // version fails before it; here the event goes first to show it is undone.
    let result = async {
        let mut tx = db.store.begin().await?;
        tx.write_event(&event(EventType::Completed, &done), None).await?;
        tx.update_task(&done, t.version + 1).await?;
        tx.commit().await
    };
    assert!(matches!(result.await, Err(StoreError::VersionConflict)));
    assert_eq!(db.store.unpublished_events(10).await.expect("outbox").len(), 1, "only the create event");
    assert_eq!(db.store.get_task("alice", t.id).await.expect("get"), Some(t));
}

/// On SQLite a transaction holds this process's write turn: dropping it
/// midway must hand the turn on, or every later writer would wait forever.
async fn a_writer_follows_a_transaction_dropped_midway(db: TestDb) {
    let t = task("alice", "a", t0());
    ensure_inbox(&db, "alice").await;
    let mut tx = db.store.begin().await.expect("begin");
    tx.insert_task(&t).await.expect("insert");
    drop(tx);
    let write = async {
        insert(&db, &t).await;
        db.store.mark_published(Uuid::now_v7(), t0()).await.expect("mark")
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), write)
        .await
        .expect("the next writer got its turn");
    assert_eq!(db.store.get_task("alice", t.id).await.expect("get"), Some(t));
}

async fn an_occurrence_is_reserved_once_under_concurrent_transactions(db: TestDb) {
    let (series, at) = (Uuid::now_v7(), t0() + Duration::days(1));
    let reserve = |task_id: Uuid| {
        let store = db.store.clone();
        async move {
            let mut tx = store.begin().await.expect("begin");
            let reserved = tx.reserve_occurrence(series, at, task_id).await.expect("reserve");
            tx.commit().await.expect("commit");
            reserved
        }
    };
    let (a, b, c) = tokio::join!(reserve(Uuid::now_v7()), reserve(Uuid::now_v7()), reserve(Uuid::now_v7()));
    assert_eq!([a, b, c].iter().filter(|r| **r).count(), 1, "one of three reserved it: {a} {b} {c}");
    assert!(!reserve(Uuid::now_v7()).await, "and it stays reserved");
    assert!(reserve_other_time(&db.store, series, at + Duration::days(1)).await, "the next time is free");
}

async fn reserve_other_time(store: &Store, series: Uuid, at: DateTime<Utc>) -> bool {
    let mut tx = store.begin().await.expect("begin");
    let reserved = tx.reserve_occurrence(series, at, Uuid::now_v7()).await.expect("reserve");
    tx.commit().await.expect("commit");
    reserved
}

async fn an_event_is_claimed_once_per_consumer(db: TestDb) {
    let claim = |consumer: &'static str| {
        let store = db.store.clone();
        async move {
            let mut tx = store.begin().await.expect("begin");
            let claimed = tx.claim_event(consumer, "e1", t0()).await.expect("claim");
            tx.commit().await.expect("commit");
            claimed
        }
    };
    let (a, b) = tokio::join!(claim("task-created"), claim("task-created"));
    assert!(a ^ b, "exactly one delivery claims it: {a} {b}");
    assert!(claim("task-changed").await, "another consumer claims it for itself");
    // A claim rolled back is no claim.
    let mut tx = db.store.begin().await.expect("begin");
    assert!(tx.claim_event("task-due", "e1", t0()).await.expect("claim"));
    drop(tx);
    assert!(claim("task-due").await, "the dropped claim did not stick");
}
