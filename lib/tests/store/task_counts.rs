//! The count of each user's tasks that the tasks-per-user quota reads, kept by
//! the database on both backends: every insert and delete, one by one or in
//! bulk, and nothing for a transaction dropped.

use super::*;

todo_testing::on_both_backends!(the_count_follows_inserts_and_deletes_and_dropped_transactions,);

async fn count(db: &TestDb, user: &str) -> i64 {
    let mut tx = db.store.begin().await.expect("begin");
    tx.tasks_made_by(user).await.expect("the count reads")
}

async fn the_count_follows_inserts_and_deletes_and_dropped_transactions(db: TestDb) {
    assert_eq!(count(&db, "alice").await, 0, "a user with no task");
    let tasks: Vec<_> = (0..3).map(|i| task("alice", &format!("t{i}"), t0())).collect();
    for t in &tasks {
        insert(&db, t).await;
    }
    insert(&db, &task("bob", "b", t0())).await;
    assert_eq!((count(&db, "alice").await, count(&db, "bob").await), (3, 1));

    let mut tx = db.store.begin().await.expect("begin");
    tx.insert_task(&task("alice", "dropped", t0())).await.expect("insert");
    assert_eq!(tx.tasks_made_by("alice").await.expect("reads"), 4, "the transaction sees its own");
    drop(tx);
    assert_eq!(count(&db, "alice").await, 3, "a dropped insert counts nothing");

    let mut tx = db.store.begin().await.expect("begin");
    tx.delete_task(&tasks[0]).await.expect("delete");
    tx.commit().await.expect("commit");
    assert_eq!(count(&db, "alice").await, 2);
    // Several users in one statement.
    db.execute("delete from tasks").await;
    assert_eq!((count(&db, "alice").await, count(&db, "bob").await), (0, 0), "a bulk delete too");
}
