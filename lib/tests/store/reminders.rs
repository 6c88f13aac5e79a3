//! Claiming due reminders, on both backends.

use super::*;

todo_testing::on_both_backends!(
    a_due_reminder_is_claimed_once,
    a_claim_rolled_back_leaves_the_reminder_due,
    reminders_not_yet_due_done_or_absent_are_not_claimed,
    moving_the_due_time_re_arms_the_reminder,
    parallel_claims_never_take_the_same_reminder,
);

fn with_reminder(user: &str, title: &str, due: DateTime<Utc>, minutes: i64) -> Task {
    let input = NewTask {
        title: Some(title.into()),
        due_at: Some(due),
        remind_before_minutes: Some(minutes),
        ..NewTask::default()
    };
    Task::create(user, inbox_id(user), input, t0()).expect("valid")
}

/// Claims in a transaction of its own, committed.
async fn claim(store: &Store, now: DateTime<Utc>, limit: i64) -> Vec<Task> {
    let mut tx = store.begin().await.expect("begin");
    let claimed = tx.claim_due_reminders(now, limit).await.expect("claim");
    tx.commit().await.expect("commit");
    claimed
}

async fn a_due_reminder_is_claimed_once(db: TestDb) {
    let t = with_reminder("alice", "call", t0() + Duration::minutes(30), 30);
    insert(&db, &t).await;
    let claimed = claim(&db.store, t0(), 10).await;
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].id, claimed[0].remind_at), (t.id, Some(t0())));
    assert!(claim(&db.store, t0() + Duration::hours(1), 10).await.is_empty(), "claimed once");
}

async fn a_claim_rolled_back_leaves_the_reminder_due(db: TestDb) {
    let t = with_reminder("alice", "call", t0(), 0);
    insert(&db, &t).await;
    let mut tx = db.store.begin().await.expect("begin");
    assert_eq!(tx.claim_due_reminders(t0(), 10).await.expect("claim").len(), 1);
    // Not `drop`: PostgreSQL would roll back lazily, and until then the claim
    // below would skip the row it still locks.
    tx.rollback().await.expect("rollback");
    let again = claim(&db.store, t0(), 10).await;
    assert_eq!(again.iter().map(|t| t.id).collect::<Vec<_>>(), [t.id], "the claim did not stick");
}

async fn reminders_not_yet_due_done_or_absent_are_not_claimed(db: TestDb) {
    insert(&db, &with_reminder("alice", "later", t0() + Duration::hours(2), 30)).await;
    let done = with_reminder("alice", "done", t0(), 0).completed(t0()).expect("open");
    insert(&db, &done).await;
    insert(&db, &task("alice", "no reminder", t0())).await;
    let claimed = claim(&db.store, t0(), 10).await;
    assert!(claimed.is_empty(), "{claimed:?}");
}

async fn moving_the_due_time_re_arms_the_reminder(db: TestDb) {
    let t = with_reminder("alice", "call", t0(), 0);
    insert(&db, &t).await;
    assert_eq!(claim(&db.store, t0(), 10).await.len(), 1);
    let later = t0() + Duration::hours(1);
    let patch = TaskPatch { due_at: Some(Some(later)), ..TaskPatch::default() };
    let moved = t.patched(patch, t0()).expect("valid").expect("changed");
    update(&db, &moved, t.version, EventType::Updated).await.expect("update");
    assert!(claim(&db.store, t0(), 10).await.is_empty());
    assert_eq!(claim(&db.store, later, 10).await.len(), 1);
}

async fn parallel_claims_never_take_the_same_reminder(db: TestDb) {
    for i in 0..60 {
        insert(&db, &with_reminder("alice", &format!("t{i}"), t0(), 0)).await;
    }
    let store = &db.store;
    let (a, b, c) = tokio::join!(claim(store, t0(), 25), claim(store, t0(), 25), claim(store, t0(), 25));
    let mut subjects = Vec::new();
    for claimed in [a, b, c] {
        subjects.extend(claimed.into_iter().map(|t| t.id));
    }
    subjects.extend(claim(store, t0(), 100).await.into_iter().map(|t| t.id));
    let unique: HashSet<&Uuid> = subjects.iter().collect();
    assert_eq!(unique.len(), subjects.len(), "a reminder was claimed twice");
    assert_eq!(subjects.len(), 60, "every reminder was claimed");
}
