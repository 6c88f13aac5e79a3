//! The outbox's claim/publish cycle, on both backends.

use std::time::Duration as StdDuration;

use super::*;

todo_testing::on_both_backends!(
    marking_published_removes_an_event_from_the_unpublished,
    claims_take_only_old_enough_rows_and_lease_them,
    a_released_claim_is_offered_again_at_once_unless_published,
    concurrent_claims_get_disjoint_rows,
    written_events_are_read_back_by_id_and_newest_first,
    an_event_written_under_a_lease_is_left_to_its_writer_until_the_lease_ends,
);

async fn events(db: &TestDb, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..n {
        let t = task("alice", &format!("t{i}"), t0() + Duration::milliseconds(i as i64));
        insert(db, &t).await;
        ids.push(db.store.recent_events(None, 1).await.expect("recent")[0].id);
    }
    ids
}

/// What `cron-tick` and `task-completed` rely on: the events they write are
/// theirs to publish right after commit; only if they crash does a
/// republisher take them, once the lease has ended.
async fn an_event_written_under_a_lease_is_left_to_its_writer_until_the_lease_ends(db: TestDb) {
    let t = task("alice", "leased", t0());
    let due = task_event(EventType::Due, &t, "test", t0(), None).expect("event");
    let mut tx = db.store.begin().await.expect("begin");
    tx.write_event(&due, Some(t0() + Duration::seconds(60))).await.expect("write");
    tx.commit().await.expect("commit");
    let lease = StdDuration::from_secs(60);
    let during =
        db.store.claim_unpublished(t0() + Duration::seconds(1), t0() + Duration::seconds(30), lease, 10);
    assert!(during.await.expect("claim").is_empty(), "left to the writer during its lease");
    let after =
        db.store.claim_unpublished(t0() + Duration::seconds(1), t0() + Duration::seconds(61), lease, 10);
    let after: Vec<Uuid> = after.await.expect("claim").iter().map(|e| e.id).collect();
    assert_eq!(after, [due.id], "after the lease, an unpublished event is republished");
}

/// The lookups the event functions (by id) and the operator route (newest
/// first, by topic) make; an event may be written without a cause.
async fn written_events_are_read_back_by_id_and_newest_first(db: TestDb) {
    let ids = events(&db, 2).await;
    let t = task("alice", "loose", t0() + Duration::milliseconds(5));
    let due = task_event(EventType::Due, &t, "test", t0() + Duration::milliseconds(5), None).expect("event");
    let mut tx = db.store.begin().await.expect("begin");
    tx.write_event(&due, None).await.expect("write");
    tx.commit().await.expect("commit");
    let stored = db.store.get_event(due.id).await.expect("get").expect("stored");
    assert_eq!((stored.id, &stored.payload), (due.id, &due.payload));
    assert_eq!(db.store.get_event(Uuid::now_v7()).await.expect("get"), None);
    let newest: Vec<Uuid> =
        db.store.recent_events(None, 10).await.expect("recent").iter().map(|e| e.id).collect();
    assert_eq!(newest, [due.id, ids[1], ids[0]]);
    let created: Vec<Uuid> =
        db.store.recent_events(Some("task-created"), 1).await.expect("recent").iter().map(|e| e.id).collect();
    assert_eq!(created, [ids[1]]);
}

async fn marking_published_removes_an_event_from_the_unpublished(db: TestDb) {
    let ids = events(&db, 2).await;
    db.store.mark_published(ids[0], t0()).await.expect("mark");
    db.store.mark_published(ids[0], t0()).await.expect("marking twice is harmless");
    let left: Vec<Uuid> =
        db.store.unpublished_events(10).await.expect("outbox").iter().map(|e| e.id).collect();
    assert_eq!(left, [ids[1]]);
}

async fn claims_take_only_old_enough_rows_and_lease_them(db: TestDb) {
    let ids = events(&db, 3).await;
    let lease = StdDuration::from_secs(60);
    // Only rows created before the cutoff: the first two.
    let cutoff = t0() + Duration::milliseconds(2);
    let claimed: Vec<Uuid> = db
        .store
        .claim_unpublished(cutoff, t0(), lease, 10)
        .await
        .expect("claim")
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(claimed, ids[..2]);
    // Leased: a second claim before the lease ends gets nothing.
    let again =
        db.store.claim_unpublished(cutoff, t0() + Duration::seconds(30), lease, 10).await.expect("claim");
    assert!(again.is_empty());
    // After the lease, unpublished rows are offered again.
    let later =
        db.store.claim_unpublished(cutoff, t0() + Duration::seconds(61), lease, 10).await.expect("claim");
    assert_eq!(later.len(), 2);
}

async fn a_released_claim_is_offered_again_at_once_unless_published(db: TestDb) {
    let ids = events(&db, 3).await;
    let lease = StdDuration::from_secs(60);
    let cutoff = t0() + Duration::days(1);
    let claimed = db.store.claim_unpublished(cutoff, t0(), lease, 10).await.expect("claim");
    assert_eq!(claimed.len(), 3);
    // The first went out; the other two could not be published.
    db.store.mark_published(ids[0], t0()).await.expect("mark");
    db.store.release_unpublished(&ids).await.expect("release");
    let again: Vec<Uuid> = db
        .store
        .claim_unpublished(cutoff, t0() + Duration::seconds(1), lease, 10)
        .await
        .expect("claim")
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(again, ids[1..], "released rows come back before the lease ends; published ones never");
}

async fn concurrent_claims_get_disjoint_rows(db: TestDb) {
    events(&db, 40).await;
    let cutoff = t0() + Duration::days(1);
    let lease = StdDuration::from_secs(60);
    let (a, b) = tokio::join!(
        db.store.claim_unpublished(cutoff, t0(), lease, 25),
        db.store.claim_unpublished(cutoff, t0(), lease, 25),
    );
    let (a, b) = (a.expect("claim a"), b.expect("claim b"));
    let a: HashSet<Uuid> = a.iter().map(|e| e.id).collect();
    let b: HashSet<Uuid> = b.iter().map(|e| e.id).collect();
    assert!(a.is_disjoint(&b), "a row was claimed twice");
    assert_eq!(a.len() + b.len(), 40, "every row was claimed by one of them");
}
