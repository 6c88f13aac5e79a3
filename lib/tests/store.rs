//! The storage conformance suite: every test runs on PostgreSQL (a fresh database
//! per test) and on SQLite (in memory), and both must behave identically.

use std::collections::HashSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use todo_lib::event::{EventType, OutboxEvent, task_event};
use todo_lib::store::{Cursor, ListQuery, Order, SortKey, StatusFilter, StoreError, TagCount};
use todo_lib::task::{NewTask, Priority, Task, TaskPatch};
use todo_testing::TestDb;
use uuid::Uuid;

todo_testing::on_both_backends!(
    insert_then_get_round_trips_every_field,
    get_is_scoped_to_the_owner,
    update_with_the_expected_version_replaces_the_task_and_its_tags,
    update_with_a_stale_version_conflicts_and_changes_nothing,
    delete_removes_the_task_and_its_tags,
    delete_of_a_changed_task_conflicts,
    every_change_writes_its_event_in_order,
    list_filters_by_status,
    list_filters_by_any_of_several_priorities,
    list_filters_by_all_of_several_tags,
    list_searches_title_and_description_case_insensitively,
    list_search_treats_wildcards_literally,
    list_filters_by_due_window_and_overdue,
    list_sorts_and_pages_every_key_in_both_orders,
    paging_neither_skips_nor_repeats_while_rows_are_inserted,
    tag_counts_are_per_user_and_most_used_first,
);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).single().expect("valid time")
}

fn task(user: &str, title: &str, now: DateTime<Utc>) -> Task {
    Task::create(user, NewTask { title: Some(title.into()), ..NewTask::default() }, now).expect("valid task")
}

fn event(ty: EventType, task: &Task) -> OutboxEvent {
    task_event(ty, task, "test", task.updated_at, None).expect("event builds")
}

async fn insert(db: &TestDb, task: &Task) {
    db.store.insert_task(task, &event(EventType::Created, task)).await.expect("insert");
}

async fn list_all(db: &TestDb, user: &str, mut query: ListQuery) -> Vec<Task> {
    let mut out = Vec::new();
    for _ in 0..1000 {
        let page = db.store.list_tasks(user, &query).await.expect("list");
        out.extend(page.items);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return out,
        }
    }
    panic!("pagination did not end");
}

fn titles(tasks: &[Task]) -> Vec<&str> {
    tasks.iter().map(|t| t.title.as_str()).collect()
}

async fn insert_then_get_round_trips_every_field(db: TestDb) {
    let input = NewTask {
        title: Some("Pay rent".into()),
        description: Some("Before the 1st — ünïcödé".into()),
        priority: Some(Priority::Urgent),
        tags: Some(vec!["Home".into(), "money".into()]),
        due_at: Some(t0() + Duration::days(3) + Duration::microseconds(123_456)),
        remind_before_minutes: Some(90),
        recurrence: Some("FREQ=MONTHLY;BYMONTHDAY=1".into()),
        time_zone: Some("Europe/Berlin".into()),
    };
    let created = Task::create("alice", input, t0()).expect("valid");
    insert(&db, &created).await;

    let read = db.store.get_task("alice", created.id).await.expect("get").expect("exists");
    assert_eq!(read, created);
    assert_eq!(read.user_id, "alice");
}

async fn get_is_scoped_to_the_owner(db: TestDb) {
    let t = task("alice", "mine", t0());
    insert(&db, &t).await;
    assert!(db.store.get_task("bob", t.id).await.expect("get").is_none());
    assert!(db.store.get_task("alice", Uuid::now_v7()).await.expect("get").is_none());
}

async fn update_with_the_expected_version_replaces_the_task_and_its_tags(db: TestDb) {
    let t = Task::create(
        "alice",
        NewTask { title: Some("a".into()), tags: Some(vec!["x".into()]), ..NewTask::default() },
        t0(),
    )
    .expect("valid");
    insert(&db, &t).await;
    let patch = TaskPatch { tags: Some(Some(vec!["y".into()])), ..TaskPatch::default() };
    let next = t.patched(patch, t0() + Duration::seconds(1)).expect("valid").expect("changed");
    db.store.update_task(&next, t.version, &event(EventType::Updated, &next)).await.expect("update");

    assert_eq!(db.store.get_task("alice", t.id).await.expect("get"), Some(next));
    let counts = db.store.tag_counts("alice").await.expect("tags");
    assert_eq!(counts, [TagCount { tag: "y".into(), count: 1 }]);
}

async fn update_with_a_stale_version_conflicts_and_changes_nothing(db: TestDb) {
    let t = task("alice", "a", t0());
    insert(&db, &t).await;
    let done = t.completed(t0()).expect("open");
    let err = db.store.update_task(&done, t.version + 1, &event(EventType::Completed, &done)).await;
    assert!(matches!(err, Err(StoreError::VersionConflict)), "{err:?}");
    // Another user cannot update it either, even with the right version.
    let mut stolen = done.clone();
    stolen.user_id = "bob".into();
    let err = db.store.update_task(&stolen, t.version, &event(EventType::Completed, &stolen)).await;
    assert!(matches!(err, Err(StoreError::VersionConflict)), "{err:?}");

    assert_eq!(db.store.get_task("alice", t.id).await.expect("get"), Some(t));
    assert_eq!(db.store.unpublished_events(10).await.expect("outbox").len(), 1, "only the create event");
}

async fn delete_removes_the_task_and_its_tags(db: TestDb) {
    let t = Task::create(
        "alice",
        NewTask { title: Some("a".into()), tags: Some(vec!["x".into()]), ..NewTask::default() },
        t0(),
    )
    .expect("valid");
    insert(&db, &t).await;
    db.store.delete_task(&t, &event(EventType::Deleted, &t)).await.expect("delete");
    assert!(db.store.get_task("alice", t.id).await.expect("get").is_none());
    assert!(db.store.tag_counts("alice").await.expect("tags").is_empty());
}

async fn delete_of_a_changed_task_conflicts(db: TestDb) {
    let t = task("alice", "a", t0());
    insert(&db, &t).await;
    let done = t.completed(t0()).expect("open");
    db.store.update_task(&done, t.version, &event(EventType::Completed, &done)).await.expect("update");
    let err = db.store.delete_task(&t, &event(EventType::Deleted, &t)).await;
    assert!(matches!(err, Err(StoreError::VersionConflict)), "{err:?}");
    assert!(db.store.get_task("alice", t.id).await.expect("get").is_some());
}

async fn every_change_writes_its_event_in_order(db: TestDb) {
    let t = task("alice", "a", t0());
    insert(&db, &t).await;
    let done = t.completed(t0() + Duration::seconds(1)).expect("open");
    db.store.update_task(&done, t.version, &event(EventType::Completed, &done)).await.expect("update");
    db.store.delete_task(&done, &event(EventType::Deleted, &done)).await.expect("delete");

    let events = db.store.unpublished_events(10).await.expect("outbox");
    let topics: Vec<&str> = events.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(topics, ["task-created", "task-completed", "task-deleted"]);
    for e in &events {
        assert_eq!(e.partition_key, t.id.to_string());
        assert_eq!(e.payload["id"], e.id.to_string());
        assert_eq!(e.payload["subject"], t.id.to_string());
    }
    assert_eq!(events[1].payload["data"]["task"]["completed"], true);
}

async fn list_filters_by_status(db: TestDb) {
    let open = task("alice", "open", t0());
    let done = task("alice", "done", t0()).completed(t0()).expect("open");
    insert(&db, &open).await;
    insert(&db, &done).await;
    insert(&db, &task("bob", "not alice's", t0())).await;

    let mut q = ListQuery::new(t0());
    q.status = StatusFilter::Open;
    assert_eq!(titles(&list_all(&db, "alice", q.clone()).await), ["open"]);
    q.status = StatusFilter::Done;
    assert_eq!(titles(&list_all(&db, "alice", q.clone()).await), ["done"]);
    q.status = StatusFilter::All;
    assert_eq!(list_all(&db, "alice", q).await.len(), 2);
}

async fn list_filters_by_any_of_several_priorities(db: TestDb) {
    for (title, p) in
        [("l", Priority::Low), ("m", Priority::Medium), ("h", Priority::High), ("u", Priority::Urgent)]
    {
        let t = Task::create(
            "alice",
            NewTask { title: Some(title.into()), priority: Some(p), ..NewTask::default() },
            t0(),
        )
        .expect("valid");
        insert(&db, &t).await;
    }
    let mut q = ListQuery::new(t0());
    q.priorities = vec![Priority::High, Priority::Urgent];
    q.sort = SortKey::Title;
    q.order = Order::Asc;
    assert_eq!(titles(&list_all(&db, "alice", q).await), ["h", "u"]);
}

async fn list_filters_by_all_of_several_tags(db: TestDb) {
    for (title, tags) in [("both", vec!["a", "b"]), ("a only", vec!["a"]), ("none", vec![])] {
        let tags = tags.into_iter().map(String::from).collect();
        let t = Task::create(
            "alice",
            NewTask { title: Some(title.into()), tags: Some(tags), ..NewTask::default() },
            t0(),
        )
        .expect("valid");
        insert(&db, &t).await;
    }
    let mut q = ListQuery::new(t0());
    q.tags = vec!["a".into(), "b".into()];
    assert_eq!(titles(&list_all(&db, "alice", q.clone()).await), ["both"]);
    q.tags = vec!["a".into()];
    assert_eq!(list_all(&db, "alice", q).await.len(), 2);
}

async fn list_searches_title_and_description_case_insensitively(db: TestDb) {
    let a = Task::create("alice", NewTask { title: Some("Call MOM".into()), ..NewTask::default() }, t0())
        .expect("valid");
    let b = Task::create(
        "alice",
        NewTask {
            title: Some("Errand".into()),
            description: Some("buy a gift for mom".into()),
            ..NewTask::default()
        },
        t0(),
    )
    .expect("valid");
    insert(&db, &a).await;
    insert(&db, &b).await;
    insert(&db, &task("alice", "Dentist", t0())).await;
    let mut q = ListQuery::new(t0());
    q.text = Some("Mom".into());
    q.sort = SortKey::Title;
    q.order = Order::Asc;
    assert_eq!(titles(&list_all(&db, "alice", q).await), ["Call MOM", "Errand"]);
}

async fn list_search_treats_wildcards_literally(db: TestDb) {
    insert(&db, &task("alice", "50% off", t0())).await;
    insert(&db, &task("alice", "500 off", t0())).await;
    let mut q = ListQuery::new(t0());
    q.text = Some("50%".into());
    assert_eq!(titles(&list_all(&db, "alice", q.clone()).await), ["50% off"]);
    q.text = Some("_".into());
    assert!(list_all(&db, "alice", q).await.is_empty());
}

async fn list_filters_by_due_window_and_overdue(db: TestDb) {
    let due = |title: &str, at: Option<DateTime<Utc>>| {
        Task::create("alice", NewTask { title: Some(title.into()), due_at: at, ..NewTask::default() }, t0())
            .expect("valid")
    };
    let past = due("past", Some(t0() - Duration::hours(1)));
    let past_done = due("past done", Some(t0() - Duration::hours(2))).completed(t0()).expect("open");
    let soon = due("soon", Some(t0() + Duration::hours(1)));
    let later = due("later", Some(t0() + Duration::days(3)));
    let never = due("never", None);
    for t in [&past, &past_done, &soon, &later, &never] {
        insert(&db, t).await;
    }
    let base = {
        let mut q = ListQuery::new(t0());
        q.sort = SortKey::Due;
        q.order = Order::Asc;
        q
    };

    let mut q = base.clone();
    q.due_after = Some(t0() - Duration::hours(1));
    q.due_before = Some(t0() + Duration::days(3));
    assert_eq!(
        titles(&list_all(&db, "alice", q).await),
        ["past", "soon"],
        "after is inclusive, before exclusive"
    );

    let mut q = base.clone();
    q.overdue = Some(true);
    assert_eq!(titles(&list_all(&db, "alice", q).await), ["past"]);

    let mut q = base;
    q.overdue = Some(false);
    assert_eq!(titles(&list_all(&db, "alice", q).await), ["past done", "soon", "later", "never"]);
}

async fn list_sorts_and_pages_every_key_in_both_orders(db: TestDb) {
    // Ties on every key, missing due times, mixed case: the order must still be total.
    let specs = [
        ("banana", Priority::High, Some(2)),
        ("Apple", Priority::Low, None),
        ("cherry", Priority::High, Some(1)),
        ("apple pie", Priority::Urgent, Some(2)),
        ("Date", Priority::Medium, None),
        ("elder", Priority::Low, Some(5)),
        ("fig", Priority::Medium, Some(1)),
    ];
    let mut all = Vec::new();
    for (i, (title, priority, due_days)) in specs.into_iter().enumerate() {
        let created = t0() + Duration::seconds((i % 3) as i64);
        let input = NewTask {
            title: Some(title.into()),
            priority: Some(priority),
            due_at: due_days.map(|d| t0() + Duration::days(d)),
            ..NewTask::default()
        };
        let t = Task::create("alice", input, created).expect("valid");
        insert(&db, &t).await;
        all.push(t);
    }

    for sort in [SortKey::Due, SortKey::Priority, SortKey::Created, SortKey::Updated, SortKey::Title] {
        for order in [Order::Asc, Order::Desc] {
            let mut expected = all.clone();
            expected.sort_by(|a, b| {
                let key = |t: &Task| match sort {
                    SortKey::Due => (
                        t.due_at.is_none(),
                        t.due_at.map(|d| d.timestamp_micros()).unwrap_or(0),
                        String::new(),
                    ),
                    SortKey::Priority => (false, i64::from(t.priority.rank()), String::new()),
                    SortKey::Created => (false, t.created_at.timestamp_micros(), String::new()),
                    SortKey::Updated => (false, t.updated_at.timestamp_micros(), String::new()),
                    SortKey::Title => (false, 0, t.title.to_lowercase()),
                };
                let (ka, kb) = (key(a), key(b));
                let by_key = (ka.1, &ka.2, a.id).cmp(&(kb.1, &kb.2, b.id));
                ka.0.cmp(&kb.0).then(if order == Order::Asc { by_key } else { by_key.reverse() })
            });
            let mut q = ListQuery::new(t0());
            q.sort = sort;
            q.order = order;
            q.limit = 2;
            let got = list_all(&db, "alice", q).await;
            assert_eq!(titles(&got), titles(&expected), "sort {sort:?} {order:?}");
        }
    }
}

async fn paging_neither_skips_nor_repeats_while_rows_are_inserted(db: TestDb) {
    let mut original = HashSet::new();
    for i in 0..25 {
        let t = task("alice", &format!("task {i:02}"), t0() + Duration::seconds(i));
        insert(&db, &t).await;
        original.insert(t.id);
    }
    for sort in [SortKey::Created, SortKey::Title, SortKey::Due] {
        let mut q = ListQuery::new(t0());
        q.sort = sort;
        q.order = sort.default_order();
        q.limit = 4;
        let mut seen = Vec::new();
        let mut next: Option<Cursor> = None;
        for page_no in 0..100 {
            q.after = next.clone();
            let page = db.store.list_tasks("alice", &q).await.expect("list");
            seen.extend(page.items.iter().map(|t| t.id));
            // Between pages, someone adds tasks that sort before, after and among ours.
            for j in 0..2 {
                let t = task(
                    "alice",
                    &format!("task {page_no:02}{j} {sort:?}"),
                    t0() + Duration::seconds(page_no * 3 + j),
                );
                insert(&db, &t).await;
            }
            next = page.next;
            if next.is_none() {
                break;
            }
        }
        let unique: HashSet<Uuid> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "a row was repeated ({sort:?})");
        assert!(original.is_subset(&unique), "a row that existed throughout was skipped ({sort:?})");
    }
}

async fn tag_counts_are_per_user_and_most_used_first(db: TestDb) {
    for (user, tags) in [("alice", vec!["work", "home"]), ("alice", vec!["work"]), ("bob", vec!["secret"])] {
        let tags = tags.into_iter().map(String::from).collect();
        let t = Task::create(
            user,
            NewTask { title: Some("t".into()), tags: Some(tags), ..NewTask::default() },
            t0(),
        )
        .expect("valid");
        insert(&db, &t).await;
    }
    let counts = db.store.tag_counts("alice").await.expect("tags");
    assert_eq!(
        counts,
        [TagCount { tag: "work".into(), count: 2 }, TagCount { tag: "home".into(), count: 1 }]
    );
}

mod outbox {
    //! The outbox's claim/publish cycle, on both backends.

    use std::time::Duration as StdDuration;

    use super::*;

    todo_testing::on_both_backends!(
        marking_published_removes_an_event_from_the_unpublished,
        claims_take_only_old_enough_rows_and_lease_them,
        a_released_claim_is_offered_again_at_once_unless_published,
        concurrent_claims_get_disjoint_rows,
        written_events_are_read_back_by_id_and_newest_first,
    );

    async fn events(db: &TestDb, n: usize) -> Vec<Uuid> {
        let mut ids = Vec::new();
        for i in 0..n {
            let t = task("alice", &format!("t{i}"), t0() + Duration::milliseconds(i as i64));
            let e = event(EventType::Created, &t);
            db.store.insert_task(&t, &e).await.expect("insert");
            ids.push(e.id);
        }
        ids
    }

    /// The lookups the event functions (by id) and the operator route (newest
    /// first, by topic) make; `write_events` writes without a cause.
    async fn written_events_are_read_back_by_id_and_newest_first(db: TestDb) {
        let ids = events(&db, 2).await;
        let t = task("alice", "loose", t0() + Duration::milliseconds(5));
        let due =
            task_event(EventType::Due, &t, "test", t0() + Duration::milliseconds(5), None).expect("event");
        db.store.write_events(std::slice::from_ref(&due)).await.expect("write");
        let stored = db.store.get_event(due.id).await.expect("get").expect("stored");
        assert_eq!((stored.id, &stored.payload), (due.id, &due.payload));
        assert_eq!(db.store.get_event(Uuid::now_v7()).await.expect("get"), None);
        let newest: Vec<Uuid> =
            db.store.recent_events(None, 10).await.expect("recent").iter().map(|e| e.id).collect();
        assert_eq!(newest, [due.id, ids[1], ids[0]]);
        let created: Vec<Uuid> = db
            .store
            .recent_events(Some("task-created"), 1)
            .await
            .expect("recent")
            .iter()
            .map(|e| e.id)
            .collect();
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
}

mod reminders {
    //! Claiming due reminders, on both backends.

    use super::*;

    const LEASE: std::time::Duration = std::time::Duration::from_secs(60);

    todo_testing::on_both_backends!(
        a_due_reminder_is_claimed_once_with_a_task_due_event,
        claimed_reminder_events_are_leased_to_the_claimer,
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
        Task::create(user, input, t0()).expect("valid")
    }

    async fn a_due_reminder_is_claimed_once_with_a_task_due_event(db: TestDb) {
        let t = with_reminder("alice", "call", t0() + Duration::minutes(30), 30);
        insert(&db, &t).await;
        let events = db.store.claim_due_reminders(t0(), 10, "cron-tick", LEASE).await.expect("claim");
        assert_eq!(events.len(), 1);
        let ce = &events[0].payload;
        assert_eq!(ce["type"], "task.due");
        assert_eq!(ce["source"], "cron-tick");
        assert_eq!(ce["subject"], t.id.to_string());
        assert_eq!(ce["data"]["reminder_at"], json_time(t0()));
        assert_eq!(events[0].topic, "task-due");
        let outbox = db.store.unpublished_events(10).await.expect("outbox");
        assert!(outbox.iter().any(|e| e.id == events[0].id), "the event is in the outbox");

        let again = db
            .store
            .claim_due_reminders(t0() + Duration::hours(1), 10, "cron-tick", LEASE)
            .await
            .expect("claim");
        assert!(again.is_empty(), "claimed once");
    }

    async fn claimed_reminder_events_are_leased_to_the_claimer(db: TestDb) {
        insert(&db, &with_reminder("alice", "call", t0(), 0)).await;
        let created = db.store.unpublished_events(10).await.expect("outbox");
        for e in &created {
            db.store.mark_published(e.id, t0()).await.expect("mark");
        }
        let claimed = db.store.claim_due_reminders(t0(), 10, "cron-tick", LEASE).await.expect("claim");
        let during =
            db.store.claim_unpublished(t0(), t0() + Duration::seconds(30), LEASE, 10).await.expect("claim");
        assert!(during.is_empty(), "a republisher leaves the claimer's events alone during the lease");
        let after = db
            .store
            .claim_unpublished(t0() + Duration::seconds(1), t0() + Duration::seconds(61), LEASE, 10)
            .await;
        let after: Vec<Uuid> = after.expect("claim").iter().map(|e| e.id).collect();
        assert_eq!(after, [claimed[0].id], "after the lease, an unpublished event is republished");
    }

    fn json_time(t: DateTime<Utc>) -> serde_json::Value {
        serde_json::to_value(t).expect("serializes")
    }

    async fn reminders_not_yet_due_done_or_absent_are_not_claimed(db: TestDb) {
        insert(&db, &with_reminder("alice", "later", t0() + Duration::hours(2), 30)).await;
        let done = with_reminder("alice", "done", t0(), 0).completed(t0()).expect("open");
        insert(&db, &done).await;
        insert(&db, &task("alice", "no reminder", t0())).await;
        let claimed = db.store.claim_due_reminders(t0(), 10, "cron-tick", LEASE).await.expect("claim");
        assert!(claimed.is_empty(), "{claimed:?}");
    }

    async fn moving_the_due_time_re_arms_the_reminder(db: TestDb) {
        let t = with_reminder("alice", "call", t0(), 0);
        insert(&db, &t).await;
        assert_eq!(db.store.claim_due_reminders(t0(), 10, "cron-tick", LEASE).await.expect("claim").len(), 1);
        let later = t0() + Duration::hours(1);
        let patch = TaskPatch { due_at: Some(Some(later)), ..TaskPatch::default() };
        let moved = t.patched(patch, t0()).expect("valid").expect("changed");
        db.store.update_task(&moved, t.version, &event(EventType::Updated, &moved)).await.expect("update");
        assert!(db.store.claim_due_reminders(t0(), 10, "cron-tick", LEASE).await.expect("claim").is_empty());
        assert_eq!(
            db.store.claim_due_reminders(later, 10, "cron-tick", LEASE).await.expect("claim").len(),
            1
        );
    }

    async fn parallel_claims_never_take_the_same_reminder(db: TestDb) {
        for i in 0..60 {
            insert(&db, &with_reminder("alice", &format!("t{i}"), t0(), 0)).await;
        }
        let store = &db.store;
        let (a, b, c) = tokio::join!(
            store.claim_due_reminders(t0(), 25, "cron-tick", LEASE),
            store.claim_due_reminders(t0(), 25, "cron-tick", LEASE),
            store.claim_due_reminders(t0(), 25, "cron-tick", LEASE),
        );
        let mut subjects = Vec::new();
        for claimed in [a, b, c] {
            subjects.extend(claimed.expect("claim").into_iter().map(|e| e.partition_key));
        }
        let rest = store.claim_due_reminders(t0(), 100, "cron-tick", LEASE).await.expect("claim");
        subjects.extend(rest.into_iter().map(|e| e.partition_key));
        let unique: HashSet<&String> = subjects.iter().collect();
        assert_eq!(unique.len(), subjects.len(), "a reminder was claimed twice");
        assert_eq!(subjects.len(), 60, "every reminder was claimed");
    }
}

mod webhook_queue {
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
        assert!(db.store.insert_webhook(&hook, 10).await.expect("insert"));
        hook
    }

    async fn queue(db: &TestDb, event_id: &str, user: &str, at: DateTime<Utc>) -> u64 {
        db.store.queue_webhook_deliveries(event_id, user, r#"{"n":1}"#, at).await.expect("queue")
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
        let one =
            db.store.claim_webhook_deliveries(now + Duration::seconds(61), LEASE, 1).await.expect("claim");
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
        db.store.record_webhook_attempt(&first[0].event_id, failing.id, &failed, t0()).await.expect("record");

        let now = t0() + Duration::seconds(1);
        let rest = db.store.claim_webhook_deliveries(now, LEASE, 10).await.expect("claim");
        assert_eq!(rest.iter().map(|d| d.webhook_id).collect::<Vec<_>>(), [other.id], "Alice's wait");
        let sent = attempt(DeliveryStatus::Delivered, None);
        db.store.record_webhook_attempt("b0", other.id, &sent, now).await.expect("record");
        let later = db.store.claim_webhook_deliveries(retry_at, LEASE, 10).await.expect("claim");
        assert_eq!(later.len(), 3, "all three of hers come back at the retry time");
        let retried = later.iter().find(|d| d.event_id == first[0].event_id).expect("the failed one");
        assert_eq!(retried.attempts, 1);
    }

    async fn a_final_delivery_is_never_reopened(db: TestDb) {
        let hook = webhook(&db, "alice").await;
        queue(&db, "e1", "alice", t0()).await;
        let delivered = attempt(DeliveryStatus::Delivered, None);
        db.store.record_webhook_attempt("e1", hook.id, &delivered, t0()).await.expect("record");
        // A sender that outlived its lease reports a timeout afterwards.
        let late = attempt(DeliveryStatus::Pending, Some(t0()));
        db.store.record_webhook_attempt("e1", hook.id, &late, t0()).await.expect("record");
        assert_eq!(
            db.store.webhook_delivery_statuses("e1").await.expect("statuses"),
            [(hook.id, DeliveryStatus::Delivered)]
        );
        assert!(db.store.claim_webhook_deliveries(t0(), LEASE, 10).await.expect("claim").is_empty());
        assert_eq!(db.store.count_owed_webhook_deliveries().await.expect("count"), 0);
    }
}

mod retention {
    //! Pruning what has outlived its use, on both backends.

    use todo_lib::activity::Activity;
    use todo_lib::store::{Pruned, Retention};
    use todo_lib::webhook::{Attempt, DeliveryStatus, Webhook};

    use super::*;

    todo_testing::on_both_backends!(
        prune_deletes_only_finished_rows_older_than_their_cutoffs,
        prune_deletes_at_most_limit_rows_of_each_kind_per_call,
    );

    fn cutoffs(before: DateTime<Utc>, limit: i64) -> Retention {
        Retention { published_before: before, processed_before: before, deliveries_before: before, limit }
    }

    /// `n` published outbox rows, `n` processed ids and `n` delivered webhook
    /// deliveries; plus one unpublished row and one owed delivery, never pruned.
    async fn rows(db: &TestDb, n: usize) {
        let url = url::Url::parse("https://hooks.example.com/x").expect("url");
        let hook = Webhook::new("alice", &url, Utc::now()).expect("random");
        assert!(db.store.insert_webhook(&hook, 10).await.expect("insert"));
        for i in 0..=n {
            let t = task("alice", &format!("t{i}"), Utc::now());
            let e = event(EventType::Created, &t);
            db.store.insert_task(&t, &e).await.expect("insert");
            let id = e.id.to_string();
            db.store.queue_webhook_deliveries(&id, "alice", "{}", Utc::now()).await.expect("queue");
            if i == n {
                break; // the unpublished row and the owed delivery
            }
            db.store.mark_published(e.id, Utc::now()).await.expect("mark");
            let data = todo_lib::event::TaskEventData {
                version: 1,
                user_id: "alice".into(),
                task: t.clone(),
                reminder_at: None,
            };
            let activity = Activity::of_event(EventType::Created, &id, &data, Utc::now());
            assert!(db.store.record_activity("task-created", &activity).await.expect("record"));
            let sent = Attempt {
                status: DeliveryStatus::Delivered,
                status_code: Some(200),
                error: None,
                retry_at: None,
            };
            db.store.record_webhook_attempt(&id, hook.id, &sent, Utc::now()).await.expect("record");
        }
    }

    async fn prune_deletes_only_finished_rows_older_than_their_cutoffs(db: TestDb) {
        rows(&db, 3).await;
        let earlier = Utc::now() - Duration::minutes(1);
        assert_eq!(db.store.prune(&cutoffs(earlier, 100)).await.expect("prune"), Pruned::default());

        let later = Utc::now() + Duration::minutes(1);
        let pruned = db.store.prune(&cutoffs(later, 100)).await.expect("prune");
        assert_eq!(pruned, Pruned { outbox: 3, processed: 3, webhook_deliveries: 3 });
        assert_eq!(db.store.count_unpublished().await.expect("count"), 1, "the unpublished row stays");
        assert_eq!(db.store.count_owed_webhook_deliveries().await.expect("count"), 1, "the owed one stays");
        assert_eq!(db.store.prune(&cutoffs(later, 100)).await.expect("prune"), Pruned::default());
        assert_eq!(
            db.store.list_activity("alice", None, 10).await.expect("activity").len(),
            3,
            "users' data is never pruned"
        );
    }

    async fn prune_deletes_at_most_limit_rows_of_each_kind_per_call(db: TestDb) {
        rows(&db, 5).await;
        let later = Utc::now() + Duration::minutes(1);
        let first = db.store.prune(&cutoffs(later, 2)).await.expect("prune");
        assert_eq!(first, Pruned { outbox: 2, processed: 2, webhook_deliveries: 2 });
        let rest = db.store.prune(&cutoffs(later, 10)).await.expect("prune");
        assert_eq!(rest, Pruned { outbox: 3, processed: 3, webhook_deliveries: 3 });
    }
}
