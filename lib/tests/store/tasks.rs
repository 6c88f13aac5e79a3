//! Writing and reading tasks in composed transactions, on both backends.

use super::*;

todo_testing::on_both_backends!(
    insert_then_get_round_trips_every_field,
    the_tree_reads_beneath_parents_first_and_above_nearest_first,
    get_is_scoped_to_the_owner,
    update_with_the_expected_version_replaces_the_task_and_its_tags,
    update_with_a_stale_version_conflicts_and_changes_nothing,
    delete_removes_the_task_and_its_tags,
    delete_of_a_changed_task_conflicts,
    every_change_writes_its_event_in_order,
);

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
        list_id: None,
        assignee_id: None,
        parent_id: None,
        id: None,
    };
    let created = Task::create("alice", inbox_id("alice"), input, t0()).expect("valid");
    insert(&db, &created).await;

    let read = db.store.get_task("alice", created.id).await.expect("get").expect("exists");
    assert_eq!(read, created);
    assert_eq!(read.user_id, "alice");
}

async fn the_tree_reads_beneath_parents_first_and_above_nearest_first(db: TestDb) {
    let at = |minutes| t0() + Duration::minutes(minutes);
    let task = |title: &str, parent: Option<&Task>, minutes| {
        let input =
            NewTask { title: Some(title.into()), parent_id: parent.map(|p| p.id), ..NewTask::default() };
        Task::create("alice", inbox_id("alice"), input, at(minutes)).expect("valid")
    };
    let top = task("top", None, 0);
    // Created out of order: the read goes by level, then by creation.
    let b = task("b", Some(&top), 2);
    let a = task("a", Some(&top), 1);
    let b1 = task("b1", Some(&b), 3);
    let a1 = task("a1", Some(&a), 4);
    let a11 = task("a11", Some(&a1), 5);
    let elsewhere = task("elsewhere", None, 6);
    for t in [&top, &b, &a, &b1, &a1, &a11, &elsewhere] {
        insert(&db, t).await;
    }
    let read = db.store.get_task("alice", a11.id).await.expect("get").expect("exists");
    assert_eq!(read.parent_id, Some(a1.id), "the parent round-trips");

    let mut tx = db.store.begin().await.expect("begin");
    let beneath: Vec<String> =
        tx.subtree(top.id).await.expect("subtree").into_iter().map(|t| t.title).collect();
    assert_eq!(beneath, ["a", "b", "b1", "a1", "a11"]);
    assert!(tx.subtree(a11.id).await.expect("subtree").is_empty());
    assert_eq!(tx.ancestry(a11.id).await.expect("ancestry"), [a11.id, a1.id, a.id, top.id]);
    assert_eq!(tx.ancestry(top.id).await.expect("ancestry"), [top.id]);
    assert!(tx.ancestry(Uuid::now_v7()).await.expect("ancestry").is_empty());
    assert_eq!(tx.task_by_id(b1.id).await.expect("read").map(|t| t.title).as_deref(), Some("b1"));
    drop(tx);

    // A parent with subtasks cannot be deleted from under them.
    let mut tx = db.store.begin().await.expect("begin");
    assert!(tx.delete_task(&a1).await.is_err(), "a11 still names it");
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
        inbox_id("alice"),
        NewTask { title: Some("a".into()), tags: Some(vec!["x".into()]), ..NewTask::default() },
        t0(),
    )
    .expect("valid");
    insert(&db, &t).await;
    let patch = TaskPatch { tags: Some(Some(vec!["y".into()])), ..TaskPatch::default() };
    let next = t.patched(patch, t0() + Duration::seconds(1)).expect("valid").expect("changed");
    update(&db, &next, t.version, EventType::Updated).await.expect("update");

    assert_eq!(db.store.get_task("alice", t.id).await.expect("get"), Some(next));
    let counts = db.store.tag_counts("alice").await.expect("tags");
    assert_eq!(counts, [TagCount { tag: "y".into(), count: 1 }]);
}

async fn update_with_a_stale_version_conflicts_and_changes_nothing(db: TestDb) {
    let t = task("alice", "a", t0());
    insert(&db, &t).await;
    let done = t.completed(t0()).expect("open");
    let err = update(&db, &done, t.version + 1, EventType::Completed).await;
    assert!(matches!(err, Err(StoreError::VersionConflict)), "{err:?}");
    // Another user cannot update it either, even with the right version.
    let mut stolen = done.clone();
    stolen.user_id = "bob".into();
    let err = update(&db, &stolen, t.version, EventType::Completed).await;
    assert!(matches!(err, Err(StoreError::VersionConflict)), "{err:?}");

    assert_eq!(db.store.get_task("alice", t.id).await.expect("get"), Some(t));
    assert_eq!(db.store.unpublished_events(10).await.expect("outbox").len(), 1, "only the create event");
}

async fn delete_removes_the_task_and_its_tags(db: TestDb) {
    let t = Task::create(
        "alice",
        inbox_id("alice"),
        NewTask { title: Some("a".into()), tags: Some(vec!["x".into()]), ..NewTask::default() },
        t0(),
    )
    .expect("valid");
    insert(&db, &t).await;
    delete(&db, &t).await.expect("delete");
    assert!(db.store.get_task("alice", t.id).await.expect("get").is_none());
    assert!(db.store.tag_counts("alice").await.expect("tags").is_empty());
}

async fn delete_of_a_changed_task_conflicts(db: TestDb) {
    let t = task("alice", "a", t0());
    insert(&db, &t).await;
    let done = t.completed(t0()).expect("open");
    update(&db, &done, t.version, EventType::Completed).await.expect("update");
    let err = delete(&db, &t).await;
    assert!(matches!(err, Err(StoreError::VersionConflict)), "{err:?}");
    assert!(db.store.get_task("alice", t.id).await.expect("get").is_some());
}

async fn every_change_writes_its_event_in_order(db: TestDb) {
    let t = task("alice", "a", t0());
    insert(&db, &t).await;
    let done = t.completed(t0() + Duration::seconds(1)).expect("open");
    update(&db, &done, t.version, EventType::Completed).await.expect("update");
    delete(&db, &done).await.expect("delete");

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
