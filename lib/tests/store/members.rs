//! Members in the store, on both backends: a list and its tasks are read
//! through membership, with the reader's role; roles change and members go;
//! a deleted list takes its members along.

use todo_lib::lists::{NewList, TaskList};
use todo_lib::members::{Member, Role};
use todo_lib::store::Headcount;

use super::*;

todo_testing::on_both_backends!(
    lists_and_their_tasks_are_read_through_membership,
    roles_change_members_go_and_a_deleted_list_takes_its_members,
);

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
