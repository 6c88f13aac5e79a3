//! Task lists in the store, on both backends: one Inbox per owner however many
//! ask at once, versioned changes, an Inbox never deleted, lists per owner,
//! tasks always in a list that exists.

use todo_lib::lists::{ListPatch, NewList, TaskList};

use super::*;

todo_testing::on_both_backends!(
    one_inbox_per_owner_however_many_ask_at_once,
    a_stale_version_conflicts_and_changes_nothing,
    the_inbox_is_never_deleted_and_lists_stay_with_their_owner,
    a_list_holding_tasks_stays_and_a_task_needs_a_list_that_exists,
    a_user_has_an_account_once_they_have_an_inbox,
);

async fn a_user_has_an_account_once_they_have_an_inbox(db: TestDb) {
    assert!(!db.store.has_account("alice").await.expect("read"), "nobody yet");
    insert(&db, &named("alice", "Home")).await;
    assert!(!db.store.has_account("bob").await.expect("read"));
    db.store.inbox_or_insert(&TaskList::inbox("bob", t0())).await.expect("inbox");
    assert!(db.store.has_account("bob").await.expect("read"), "signed in: an Inbox");
}

fn named(owner: &str, name: &str) -> TaskList {
    TaskList::create(owner, NewList { name: Some(name.into()), ..NewList::default() }, t0()).expect("valid")
}

async fn insert(db: &TestDb, list: &TaskList) {
    let mut tx = db.store.begin().await.expect("begin");
    assert!(tx.insert_list(list, 200).await.expect("insert"), "under the limit");
    tx.commit().await.expect("commit");
}

async fn one_inbox_per_owner_however_many_ask_at_once(db: TestDb) {
    let (x, y, z) =
        (TaskList::inbox("alice", t0()), TaskList::inbox("alice", t0()), TaskList::inbox("alice", t0()));
    let (a, b, c) = tokio::join!(
        db.store.inbox_or_insert(&x),
        db.store.inbox_or_insert(&y),
        db.store.inbox_or_insert(&z)
    );
    let (a, b, c) = (a.expect("inbox"), b.expect("inbox"), c.expect("inbox"));
    assert!(a == b && b == c, "one Inbox: {a:?} {b:?} {c:?}");
    assert_eq!(db.store.lists("alice", true).await.expect("lists"), [a]);
}

async fn a_stale_version_conflicts_and_changes_nothing(db: TestDb) {
    let list = named("alice", "Home");
    insert(&db, &list).await;
    let patch = ListPatch { name: Some("House".into()), ..ListPatch::default() };
    let next = list.patched(patch, t0() + Duration::seconds(1)).expect("valid").expect("changed");
    let mut tx = db.store.begin().await.expect("begin");
    let stale = tx.update_list(&next, list.version + 1).await;
    assert!(matches!(stale, Err(StoreError::VersionConflict)), "{stale:?}");
    drop(tx);
    assert_eq!(db.store.get_list("alice", list.id).await.expect("get"), Some(list.clone()));
    let mut tx = db.store.begin().await.expect("begin");
    tx.update_list(&next, list.version).await.expect("update");
    tx.commit().await.expect("commit");
    assert_eq!(db.store.get_list("alice", list.id).await.expect("get"), Some(next));
}

/// Reads are scoped by membership; who may delete is the API's to decide
/// (`functions/api/tests/sharing.rs`), so the store deletes by id and version.
async fn the_inbox_is_never_deleted_and_lists_stay_with_their_owner(db: TestDb) {
    let inbox = db.store.inbox_or_insert(&TaskList::inbox("alice", t0())).await.expect("inbox");
    let conflict = |r: Result<(), StoreError>| matches!(r, Err(StoreError::VersionConflict));
    assert!(conflict(db.store.delete_list(&inbox).await), "the Inbox stays");
    let list = named("alice", "Home");
    insert(&db, &list).await;
    assert_eq!(db.store.get_list("bob", list.id).await.expect("get"), None);
    let stale = TaskList { version: list.version + 1, ..list.clone() };
    assert!(conflict(db.store.delete_list(&stale).await), "not a version it never had");
    db.store.delete_list(&list).await.expect("delete");
    assert_eq!(db.store.lists("alice", true).await.expect("lists"), [inbox]);
}

async fn a_list_holding_tasks_stays_and_a_task_needs_a_list_that_exists(db: TestDb) {
    let home = named("alice", "Home");
    insert(&db, &home).await;
    let in_inbox = task("alice", "in the Inbox", t0());
    let in_home = Task { list_id: home.id, ..task("alice", "at home", t0()) };
    super::insert(&db, &in_inbox).await;
    super::insert(&db, &in_home).await;

    let refused = db.store.delete_list(&home).await;
    assert!(matches!(refused, Err(StoreError::ListNotEmpty)), "{refused:?}");
    assert_eq!(db.store.get_list("alice", home.id).await.expect("get"), Some(home.clone()));

    let mut query = ListQuery::new(t0());
    query.list = Some(home.id);
    assert_eq!(list_all(&db, "alice", query.clone()).await, std::slice::from_ref(&in_home));
    query.list = Some(inbox_id("alice"));
    assert_eq!(list_all(&db, "alice", query).await, std::slice::from_ref(&in_inbox));

    let later = t0() + Duration::seconds(1);
    let nowhere = TaskPatch { list_id: Some(Some(Uuid::now_v7())), ..TaskPatch::default() };
    let lost = in_home.patched(nowhere, later).expect("valid").expect("changed");
    let moved = update(&db, &lost, in_home.version, EventType::Updated).await;
    assert!(matches!(moved, Err(StoreError::NoSuchList)), "{moved:?}");
    assert_eq!(db.store.get_task("alice", in_home.id).await.expect("get"), Some(in_home.clone()));

    let orphan = Task { list_id: Uuid::now_v7(), ..task("alice", "orphan", t0()) };
    let mut tx = db.store.begin().await.expect("begin");
    let inserted = tx.insert_task(&orphan).await;
    assert!(matches!(inserted, Err(StoreError::NoSuchList)), "{inserted:?}");
    drop(tx);
    assert_eq!(db.store.get_task("alice", orphan.id).await.expect("get"), None);

    let to_inbox = TaskPatch { list_id: Some(Some(inbox_id("alice"))), ..TaskPatch::default() };
    let back = in_home.patched(to_inbox, later).expect("valid").expect("changed");
    update(&db, &back, in_home.version, EventType::Updated).await.expect("moved to the Inbox");
    db.store.delete_list(&home).await.expect("an empty list is deleted");
    assert_eq!(db.store.get_task("alice", in_home.id).await.expect("get"), Some(back));
}
