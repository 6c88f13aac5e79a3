//! The changes feed, on both backends: what each user sees, in commit order,
//! paged, never skipping a row that commits late; and the wake-ups.

use std::time::Duration as StdDuration;

use todo_lib::changes::{ChangeBody, ChangeCursor, ChangePage};
use todo_lib::members::Role;
use todo_lib::notification::Notification;
use todo_lib::store::Retention;
use todo_testing::facts;

use super::*;

todo_testing::on_both_backends!(
    each_user_sees_the_changes_of_their_lists_in_order,
    pages_merge_events_and_notifications_and_say_there_is_more,
    a_member_who_leaves_sees_their_leaving_and_nothing_after,
    the_head_is_after_everything_committed,
    pruning_moves_the_expired_position_past_what_it_deleted,
    a_commit_wakes_the_watchers_of_this_process,
);

async fn page(db: &TestDb, user: &str, after: ChangeCursor, limit: usize) -> ChangePage {
    let rows = db.store.changes_after(user, after, limit as i64 + 1).await.expect("the feed reads");
    rows.into_page(after, limit)
}

/// Waits until the feed's horizon has passed every transaction committed so
/// far. On PostgreSQL, transactions of other tests on the same server hold it
/// back for a moment: the feed is late then, never wrong.
async fn settle(db: &TestDb) {
    let Some(pool) = db.store.pg_pool() else { return };
    let mark: i64 = sqlx::query_scalar("select pg_current_xact_id()::text::bigint")
        .fetch_one(pool)
        .await
        .expect("a transaction id");
    for _ in 0..500 {
        if db.store.changes_head().await.expect("head").xid >= mark {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    panic!("the horizon did not pass transaction {mark} in 10 s");
}

/// Every change `user` sees after `after`, following pages of two.
async fn all(db: &TestDb, user: &str, mut after: ChangeCursor) -> Vec<String> {
    settle(db).await;
    let start = after;
    let mut seen = Vec::new();
    for _ in 0..100 {
        let page = page(db, user, after, 2).await;
        assert!(page.cursor >= after, "the cursor never moves back");
        for change in &page.changes {
            seen.push(describe(&change.body));
        }
        after = page.cursor;
        if !page.has_more {
            assert_eq!(for_readers(db, user, start).await, seen, "one read for several readers agrees");
            return seen;
        }
    }
    panic!("the feed did not end");
}

/// Every change `user` sees after `after`, as the streams' one reader per
/// process reads them: for several readers at once, in small batches.
async fn for_readers(db: &TestDb, user: &str, mut after: ChangeCursor) -> Vec<String> {
    let readers: Vec<String> =
        [user, "alice", "bob", "carol", "dave", "mallory"].iter().map(|r| r.to_string()).collect();
    let mut seen = Vec::new();
    for _ in 0..100 {
        let mut batch = db.store.changes_for(&readers, after, 2).await.expect("the feed reads");
        assert_eq!(batch.after, after);
        assert!(batch.to >= after, "a batch never moves back");
        let rows = batch.rows.remove(user).expect("every reader has rows, maybe none");
        for change in rows.into_page(after, usize::MAX).changes {
            assert!(change.cursor > after && change.cursor <= batch.to, "within the batch");
            seen.push(describe(&change.body));
        }
        after = batch.to;
        if !batch.has_more {
            return seen;
        }
    }
    panic!("the feed did not end");
}

fn describe(body: &ChangeBody) -> String {
    match body {
        ChangeBody::Task { event, task } => format!("{event} {}", task.title),
        ChangeBody::Member { event, member } => format!("{event} {}", member.user_id),
        ChangeBody::Notification { notification } => format!("notification {}", notification.title),
        ChangeBody::MovedOut { task_id, .. } => format!("moved out {task_id}"),
    }
}

async fn each_user_sees_the_changes_of_their_lists_in_order(db: TestDb) {
    let start = db.store.changes_head().await.expect("head");
    let (a, _) = facts::created_titled(&db.store, "alice", "a").await;
    let (_, _) = facts::created_titled(&db.store, "bob", "b").await;
    let shared = facts::shared_list(&db.store, "alice", "Home", &[("carol", Role::Viewer)]).await;
    let input = NewTask { title: Some("s".into()), list_id: Some(shared.id), ..NewTask::default() };
    let (s, _) = facts::created(&db.store, "alice", input, Utc::now()).await;
    let (a, _) = facts::completed(&db.store, &a, Utc::now()).await;
    facts::updated(
        &db.store,
        &s,
        TaskPatch { title: Some(Some("s2".into())), ..TaskPatch::default() },
        Utc::now(),
    )
    .await;
    facts::deleted(&db.store, &a, Utc::now()).await;

    assert_eq!(
        all(&db, "alice", start).await,
        ["task.created a", "task.created s", "task.completed a", "task.updated s2", "task.deleted a"]
    );
    assert_eq!(all(&db, "bob", start).await, ["task.created b"]);
    assert_eq!(all(&db, "carol", start).await, ["task.created s", "task.updated s2"]);
    assert_eq!(all(&db, "mallory", start).await, Vec::<String>::new());
}

async fn pages_merge_events_and_notifications_and_say_there_is_more(db: TestDb) {
    let start = db.store.changes_head().await.expect("head");
    let mut expected = Vec::new();
    for i in 0..3 {
        let (task, event) = facts::created_titled(&db.store, "alice", &format!("t{i}")).await;
        expected.push(format!("task.created t{i}"));
        let data: todo_lib::event::TaskEventData =
            serde_json::from_value(event.payload["data"].clone()).expect("data");
        let note = Notification::reminder(&format!("due-{i}"), &data, "alice", Utc::now());
        assert!(db.store.record_notification_once("task-due", &note, Utc::now()).await.expect("record"));
        expected.push(format!("notification {}", task.title));
    }
    assert_eq!(all(&db, "alice", start).await, expected);

    let first = page(&db, "alice", start, 4).await;
    assert_eq!((first.changes.len(), first.has_more), (4, true));
    assert_eq!(first.cursor, first.changes[3].cursor);
    let rest = page(&db, "alice", first.cursor, 4).await;
    assert_eq!((rest.changes.len(), rest.has_more), (2, false));
    let none = page(&db, "alice", rest.cursor, 4).await;
    assert_eq!((none.changes.len(), none.has_more, none.cursor), (0, false, rest.cursor));
}

async fn a_member_who_leaves_sees_their_leaving_and_nothing_after(db: TestDb) {
    let list = facts::shared_list(&db.store, "alice", "Trip", &[]).await;
    let start = db.store.changes_head().await.expect("head");
    facts::joined(&db.store, &list, "bob", Role::Editor, "alice").await;
    let input = NewTask { title: Some("tickets".into()), list_id: Some(list.id), ..NewTask::default() };
    facts::created(&db.store, "alice", input.clone(), Utc::now()).await;
    facts::left(&db.store, &list, "bob", "alice").await;
    let input = NewTask { title: Some("hotel".into()), ..input };
    facts::created(&db.store, "alice", input, Utc::now()).await;

    assert_eq!(
        all(&db, "bob", start).await,
        ["list.member_added bob", "list.member_removed bob"],
        "while he was out of the list, its tasks are not his to see"
    );
    assert_eq!(
        all(&db, "alice", start).await,
        ["list.member_added bob", "task.created tickets", "list.member_removed bob", "task.created hotel"]
    );
}

async fn the_head_is_after_everything_committed(db: TestDb) {
    facts::created_titled(&db.store, "alice", "before").await;
    settle(&db).await;
    let head = db.store.changes_head().await.expect("head");
    assert_eq!(all(&db, "alice", head).await, Vec::<String>::new());
    facts::created_titled(&db.store, "alice", "after").await;
    assert_eq!(all(&db, "alice", head).await, ["task.created after"]);
    assert!(db.store.changes_head().await.expect("head") > head);
}

async fn pruning_moves_the_expired_position_past_what_it_deleted(db: TestDb) {
    assert_eq!(db.store.changes_pruned().await.expect("pruned"), ChangeCursor::default());
    let start = db.store.changes_head().await.expect("head");
    let (_, old) = facts::created_titled(&db.store, "alice", "old").await;
    let (_, kept) = facts::created_titled(&db.store, "alice", "kept").await;
    db.store.mark_published(old.id, Utc::now() - Duration::days(8)).await.expect("mark");
    db.store.mark_published(kept.id, Utc::now()).await.expect("mark");
    let before = Utc::now() - Duration::days(7);
    let cutoffs = Retention {
        published_before: before,
        processed_before: before,
        deliveries_before: before,
        links_expired_before: before,
        limit: 10,
    };
    assert_eq!(db.store.prune(&cutoffs).await.expect("prune").outbox, 1);

    let pruned = db.store.changes_pruned().await.expect("pruned");
    assert!(pruned > start, "a client at the start has missed what was pruned");
    settle(&db).await;
    let rest = page(&db, "alice", pruned, 10).await;
    assert_eq!(rest.changes.iter().map(|c| describe(&c.body)).collect::<Vec<_>>(), ["task.created kept"]);
    assert!(pruned < rest.cursor, "the kept row is after the pruned position");
}

async fn a_commit_wakes_the_watchers_of_this_process(db: TestDb) {
    let mut watcher = db.store.watch_changes();
    watcher.borrow_and_update();
    facts::created_titled(&db.store, "alice", "wake").await;
    tokio::time::timeout(StdDuration::from_secs(5), watcher.changed())
        .await
        .expect("a commit with an event wakes the watcher")
        .expect("the signal lives");
}

/// PostgreSQL: a transaction that took its id first but commits last is not
/// skipped by a reader that read in between, and another process (another
/// store on the same database) is woken by the commit.
mod postgres_only {
    use super::*;

    #[tokio::test]
    async fn a_late_commit_is_not_skipped() {
        let db = todo_testing::postgres().await;
        ensure_inbox(&db, "alice").await;
        let (quick, _) = facts::created_titled(&db.store, "alice", "quick").await;
        // The start is past the quick task's creation (once other tests'
        // transactions no longer hold the horizon back).
        settle(&db).await;
        let start = db.store.changes_head().await.expect("head");
        let slow = task("alice", "slow", Utc::now());
        let mut late = db.store.begin().await.expect("begin");
        late.insert_task(&slow).await.expect("insert");
        late.write_event(&event(EventType::Created, &slow), None).await.expect("event");
        // Another write of the same user commits meanwhile: a change to a
        // task, which needs no row the open transaction holds (a second
        // insert might share the row of the user's task count it updated).
        let patch = todo_lib::task::TaskPatch { title: Some(Some("quicker".into())), ..Default::default() };
        facts::updated(&db.store, &quick, patch, Utc::now()).await;

        let first = page(&db, "alice", start, 10).await;
        assert_eq!(first.changes.len(), 0, "the quick commit waits behind the open transaction");
        late.commit().await.expect("commit");
        assert_eq!(all(&db, "alice", first.cursor).await, ["task.created slow", "task.updated quicker"]);
    }

    #[tokio::test]
    async fn another_process_commit_wakes_the_listener() {
        let db = todo_testing::postgres().await;
        let url = db.postgres_url().expect("a PostgreSQL URL");
        let replica =
            todo_lib::store::connect(&url, todo_lib::store::ConnectOptions::default()).expect("opens");
        let mut watcher = replica.watch_changes();
        // The listener wakes once when it starts listening; a commit after that
        // must wake it again.
        tokio::time::timeout(StdDuration::from_secs(10), watcher.changed())
            .await
            .expect("the listener starts")
            .expect("the signal lives");
        facts::created_titled(&db.store, "alice", "elsewhere").await;
        tokio::time::timeout(StdDuration::from_secs(10), watcher.changed())
            .await
            .expect("a commit in another store wakes this one through LISTEN")
            .expect("the signal lives");
    }
}
