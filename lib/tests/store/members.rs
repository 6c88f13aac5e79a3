//! Members in the store, on both backends: a list and its tasks are read
//! through membership, with the reader's role; roles change and members go;
//! a deleted list takes its members along.

use std::time::Duration as StdDuration;
use todo_lib::lists::{NewList, TaskList};
use todo_lib::members::{Member, Role};

use todo_lib::store::Headcount;

use super::*;

todo_testing::on_both_backends!(
    lists_and_their_tasks_are_read_through_membership,
    roles_change_members_go_and_a_deleted_list_takes_its_members,
    only_owners_and_editors_add_tasks_to_a_list_that_is_not_archived,
);

/// Tries to add a task to `list` as `writer`: whether it was stored.
async fn add_as(db: &TestDb, writer: &str, list: Uuid, title: &str) -> bool {
    let task = Task { list_id: list, tags: vec!["a".into(), "b".into()], ..task(writer, title, t0()) };
    let mut tx = db.store.begin().await.expect("begin");
    let added = tx.insert_task_by(&task, writer).await.expect("insert");
    tx.commit().await.expect("commit");
    let stored = db.store.get_task("alice", task.id).await.expect("get");
    assert_eq!(stored.is_some(), added, "{title}: stored exactly when added");
    added
}

async fn only_owners_and_editors_add_tasks_to_a_list_that_is_not_archived(db: TestDb) {
    let list = shared(&db).await;
    let mut tx = db.store.begin().await.expect("begin");
    tx.insert_member(&Member::new(list.id, "victor", Role::Viewer, t0())).await.expect("Victor joins");
    tx.commit().await.expect("commit");

    assert!(add_as(&db, "alice", list.id, "by the owner").await);
    assert!(add_as(&db, "bob", list.id, "by an editor").await);
    assert!(!add_as(&db, "victor", list.id, "by a viewer").await);
    assert!(!add_as(&db, "mallory", list.id, "by a stranger").await);
    assert!(!add_as(&db, "alice", Uuid::now_v7(), "to no list").await);
    let mut q = ListQuery::new(t0());
    q.tags = vec!["b".into()];
    assert_eq!(list_all(&db, "alice", q).await.len(), 2, "the added tasks' tags, and no one else's");

    let mut tx = db.store.begin().await.expect("begin");
    assert!(tx.delete_member(list.id, "bob").await.expect("delete"));
    tx.commit().await.expect("commit");
    assert!(!add_as(&db, "bob", list.id, "by a removed editor").await);

    let archived = TaskList { archived: true, ..list.clone() };
    let mut tx = db.store.begin().await.expect("begin");
    tx.update_list(&archived, list.version).await.expect("archived");
    tx.commit().await.expect("commit");
    assert!(!add_as(&db, "alice", list.id, "to an archived list").await);
}

/// Alice's list "Shared", stored, with Bob as an editor.
async fn shared(db: &TestDb) -> TaskList {
    let list = TaskList::create("alice", NewList { name: Some("Shared".into()), ..NewList::default() }, t0())
        .expect("valid");
    let mut tx = db.store.begin().await.expect("begin");
    assert!(tx.insert_list(&list, 200).await.expect("insert"), "under the limit");
    let bob = Member::new(list.id, "bob", Role::Editor, t0());
    tx.insert_member(&bob).await.expect("Bob joins");
    tx.commit().await.expect("commit");
    list
}

async fn lists_and_their_tasks_are_read_through_membership(db: TestDb) {
    let list = shared(&db).await;
    let task = Task { list_id: list.id, tags: vec!["food".into()], ..task("alice", "bread", t0()) };
    insert(&db, &task).await;

    let as_bob = db.store.get_list("bob", list.id).await.expect("get").expect("Bob is a member");
    assert_eq!(as_bob.role, Role::Editor);
    assert_eq!(db.store.get_list("alice", list.id).await.expect("get").map(|l| l.role), Some(Role::Owner));
    assert_eq!(db.store.get_list("mallory", list.id).await.expect("get"), None);
    let bobs: Vec<Uuid> = db.store.lists("bob", false).await.expect("lists").iter().map(|l| l.id).collect();
    assert_eq!(bobs, [list.id]);

    assert_eq!(
        db.store.task_and_role("bob", task.id).await.expect("get"),
        Some((task.clone(), Role::Editor))
    );
    assert_eq!(db.store.get_task("mallory", task.id).await.expect("get"), None);
    assert_eq!(list_all(&db, "bob", ListQuery::new(t0())).await, std::slice::from_ref(&task));
    assert!(list_all(&db, "mallory", ListQuery::new(t0())).await.is_empty());
    assert_eq!(db.store.tag_counts("bob").await.expect("tags"), [TagCount { tag: "food".into(), count: 1 }]);
    assert!(db.store.tag_counts("mallory").await.expect("tags").is_empty());
}

async fn roles_change_members_go_and_a_deleted_list_takes_its_members(db: TestDb) {
    let list = shared(&db).await;
    let mut tx = db.store.begin().await.expect("begin");
    assert_eq!(tx.headcount(list.id).await.expect("count"), Headcount { members: 2, owners: 1 });
    assert!(tx.set_role(list.id, "bob", Role::Owner).await.expect("promote"));
    assert!(!tx.set_role(list.id, "carol", Role::Owner).await.expect("not a member"));
    assert_eq!(tx.headcount(list.id).await.expect("count"), Headcount { members: 2, owners: 2 });
    tx.commit().await.expect("commit");
    let roles: Vec<(String, Role)> =
        db.store.members(list.id).await.expect("members").into_iter().map(|m| (m.user_id, m.role)).collect();
    assert_eq!(roles, [("alice".to_owned(), Role::Owner), ("bob".to_owned(), Role::Owner)]);

    let mut tx = db.store.begin().await.expect("begin");
    assert!(tx.delete_member(list.id, "bob").await.expect("remove"));
    assert!(!tx.delete_member(list.id, "bob").await.expect("gone already"));
    tx.commit().await.expect("commit");
    assert_eq!(db.store.get_list("bob", list.id).await.expect("get"), None, "no longer a member");

    db.store.delete_list(&list).await.expect("an empty list is deleted");
    assert!(db.store.members(list.id).await.expect("members").is_empty(), "its members went with it");
}

/// The race issue #29 closed: a member removed while their task is being
/// added. The insert holds their membership, so the removal waits for it and
/// the task was added by a member; had the removal come first, the insert
/// would have seen them gone (above).
#[tokio::test]
async fn a_removal_waits_for_the_task_its_member_is_adding() {
    let db = todo_testing::postgres().await;
    let list = shared(&db).await;
    let task = Task { list_id: list.id, ..task("bob", "added while a member", t0()) };
    let mut adding = db.store.begin().await.expect("begin");
    assert!(adding.insert_task_by(&task, "bob").await.expect("insert"));

    let store = db.store.clone();
    let removal = tokio::spawn(async move {
        let mut tx = store.begin().await.expect("begin");
        let removed = tx.delete_member(list.id, "bob").await.expect("delete");
        tx.commit().await.expect("commit");
        removed
    });
    let pool = db.store.pg_pool().expect("PostgreSQL").clone();
    let blocked = async {
        loop {
            let (waiting,): (i64,) = sqlx::query_as(
                "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
            )
            .fetch_one(&pool)
            .await
            .expect("activity");
            if waiting > 0 {
                return;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(StdDuration::from_secs(10), blocked)
        .await
        .expect("the removal waits for the insert");
    assert!(!removal.is_finished(), "the removal waits while the task is being added");
    adding.commit().await.expect("commit");
    assert!(removal.await.expect("joined"), "then Bob is removed");
    assert!(db.store.get_task("alice", task.id).await.expect("get").is_some(), "and his task stays");
    assert_eq!(db.store.get_list("bob", list.id).await.expect("get"), None);
}
