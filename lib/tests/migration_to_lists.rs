//! The migration that puts every task in a list (issue #15), run on a database
//! populated by the schema before it, on both backends: each task lands in its
//! owner's Inbox, an Inbox that existed already is kept, a user without tasks
//! gets none, and from then on a task without a list is refused. The activity
//! written before lists lands in its user's Inbox too (one is made for a user
//! who has activity but no tasks left).

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::migrate::{Migrate, Migrator};
use todo_lib::store::{ListQuery, Store};
use todo_testing::TestDb;
use uuid::Uuid;

/// The last migration before tasks joined lists.
const BEFORE: i64 = 20261203000011;

/// A task row as the schema at [`BEFORE`] stores it: $1 id, $2 owner, $3 title,
/// $4 done, $5 created.
const OLD_TASK: &str = "insert into tasks (id, user_id, title, title_key, description, search_text, \
     priority, tags, completed, created_at, updated_at, version) \
     values ($1, $2, $3, lower($3), '', lower($3), 1, '[]', $4, $5, $5, 1)";

/// An Inbox made by the lists endpoints before tasks joined lists: $1 id,
/// $2 owner, $3 created.
const OLD_INBOX: &str = "insert into lists (id, owner_id, name, colour, position, archived, inbox, \
     created_at, updated_at, version) values ($1, $2, 'Inbox', null, 0, $3, $4, $5, $5, 1)";

/// An activity entry as the schema at [`BEFORE`] stores it: $1 id, $2 user,
/// $3 task, $4 event, $5 summary, $6 when.
const OLD_ACTIVITY: &str = "insert into activity (id, user_id, task_id, kind, event_id, summary, \
     occurred_at) values ($1, $2, $3, 'task.created', $4, $5, $6)";

/// Who had activity before lists, and its summary; Erin's tasks are gone.
const OLD_ACTIVITY_OF: [(&str, &str); 2] = [("alice", "Pay rent"), ("erin", "Gone for good")];

const NULL_LIST: &str = "insert into tasks (id, user_id, title, title_key, description, search_text, \
     priority, tags, completed, created_at, updated_at, version, list_id) \
     values ($1, 'alice', 't', 't', '', 't', 1, '[]', $2, $3, $3, 1, null)";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).single().expect("valid time")
}

/// The tasks the old schema holds: (id, owner, title, done).
fn old_tasks() -> Vec<(Uuid, &'static str, &'static str, bool)> {
    vec![
        (Uuid::now_v7(), "alice", "Pay rent", false),
        (Uuid::now_v7(), "alice", "Call mum", true),
        (Uuid::now_v7(), "alice", "Water plants", false),
        (Uuid::now_v7(), "bob", "Fix bike", false),
    ]
}

fn migrations_dir(backend: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend)
}

/// Runs each statement once per backend: `$micros` is how SQLite stores an
/// instant, PostgreSQL takes the `DateTime` itself.
macro_rules! seed {
    ($conn:expr, $at:expr, $bob_inbox:expr) => {{
        let conn = $conn;
        conn.ensure_migrations_table().await.expect("bookkeeping table");
        let migrator = Migrator::new(migrations_dir(BACKEND)).await.expect("migrations read");
        for migration in migrator.iter().filter(|m| m.version <= BEFORE) {
            conn.apply(migration).await.expect("an earlier migration applies");
        }
        for (id, owner, title, done) in old_tasks() {
            sqlx::query(OLD_TASK)
                .bind(id)
                .bind(owner)
                .bind(title)
                .bind(done)
                .bind($at)
                .execute(&mut *conn)
                .await
                .expect("an old task");
        }
        sqlx::query(OLD_INBOX)
            .bind($bob_inbox)
            .bind("bob")
            .bind(false)
            .bind(true)
            .bind($at)
            .execute(&mut *conn)
            .await
            .expect("Bob's Inbox");
        for (user, summary) in OLD_ACTIVITY_OF {
            sqlx::query(OLD_ACTIVITY)
                .bind(Uuid::now_v7())
                .bind(user)
                .bind(Uuid::now_v7())
                .bind(Uuid::now_v7().to_string())
                .bind(summary)
                .bind($at)
                .execute(&mut *conn)
                .await
                .expect("an old activity entry");
        }
    }};
}

#[tokio::test]
async fn postgres_tasks_move_into_their_owners_inboxes() {
    const BACKEND: &str = "postgres";
    let db = todo_testing::postgres_unmigrated().await;
    let bob_inbox = Uuid::now_v7();
    let mut conn = db.store.pg_pool().expect("PostgreSQL").acquire().await.expect("connects");
    seed!(&mut *conn, t0(), bob_inbox);
    drop(conn);
    let tasks = migrate_and_check(&db, bob_inbox).await;
    let pool = db.store.pg_pool().expect("PostgreSQL");
    let refused = sqlx::query(NULL_LIST).bind(Uuid::now_v7()).bind(false).bind(t0()).execute(pool).await;
    assert!(refused.is_err(), "a task without a list is refused");
    assert_eq!(count_tasks(&db.store).await, tasks);
}

#[tokio::test]
async fn sqlite_tasks_move_into_their_owners_inboxes() {
    const BACKEND: &str = "sqlite";
    let db = todo_testing::sqlite_unmigrated().await;
    let bob_inbox = Uuid::now_v7();
    let micros = t0().timestamp_micros();
    let mut conn = db.store.sqlite_pool().expect("SQLite").acquire().await.expect("connects");
    seed!(&mut *conn, micros, bob_inbox);
    drop(conn);
    let tasks = migrate_and_check(&db, bob_inbox).await;
    let pool = db.store.sqlite_pool().expect("SQLite");
    let refused = sqlx::query(NULL_LIST).bind(Uuid::now_v7()).bind(false).bind(micros).execute(pool).await;
    let message = refused.expect_err("a task without a list is refused").to_string();
    assert!(message.contains("list_id must not be null"), "{message}");
    let moved = sqlx::query("update tasks set list_id = null").execute(pool).await;
    assert!(moved.is_err(), "no task loses its list");
    assert_eq!(count_tasks(&db.store).await, tasks);
}

/// Applies the rest of the migrations through the store and checks where every
/// old task went; returns how many tasks there are.
async fn migrate_and_check(db: &TestDb, bob_inbox: Uuid) -> usize {
    let before = Utc::now();
    db.store.migrate().await.expect("the remaining migrations apply");

    let alice = db.store.lists("alice", true).await.expect("Alice's lists");
    let [alice_inbox] = alice.as_slice() else { panic!("Alice has one list, her new Inbox: {alice:?}") };
    assert!(alice_inbox.inbox && !alice_inbox.archived, "{alice_inbox:?}");
    assert_eq!((alice_inbox.name.as_str(), alice_inbox.position, alice_inbox.version), ("Inbox", 0, 1));
    assert_eq!(alice_inbox.id.get_version_num(), 4, "a random uuid: {}", alice_inbox.id);
    assert!(alice_inbox.created_at >= before - chrono::Duration::seconds(1), "{alice_inbox:?}");
    assert!(alice_inbox.created_at <= Utc::now(), "{alice_inbox:?}");

    let bob = db.store.lists("bob", true).await.expect("Bob's lists");
    assert_eq!(bob.iter().map(|l| l.id).collect::<Vec<_>>(), [bob_inbox], "Bob keeps his Inbox");
    assert!(db.store.lists("carol", true).await.expect("Carol's lists").is_empty(), "no tasks, no Inbox yet");

    let old = old_tasks();
    for (owner, inbox) in [("alice", alice_inbox.id), ("bob", bob_inbox)] {
        let mut query = ListQuery::new(Utc::now());
        query.list = Some(inbox);
        let page = db.store.list_tasks(owner, &query).await.expect("the Inbox lists");
        let mut titles: Vec<&str> = page.items.iter().map(|t| t.title.as_str()).collect();
        titles.sort_unstable();
        let mut expected: Vec<&str> = old.iter().filter(|t| t.1 == owner).map(|t| t.2).collect();
        expected.sort_unstable();
        assert_eq!(titles, expected, "every task of {owner} is in their Inbox");
        assert!(page.items.iter().all(|t| t.list_id == inbox), "{:?}", page.items);
    }
    for (user, summary) in OLD_ACTIVITY_OF {
        let lists = db.store.lists(user, true).await.expect("lists");
        let [inbox] = lists.as_slice() else { panic!("{user} has one list, the Inbox: {lists:?}") };
        let entries = db.store.list_activity_in(user, inbox.id, 10).await.expect("activity");
        let summaries: Vec<&str> = entries.iter().map(|a| a.summary.as_str()).collect();
        assert_eq!(summaries, [summary], "{user}'s old activity is in their Inbox");
        assert_eq!(db.store.list_activity(user, None, 10).await.expect("activity"), entries);
    }
    old.len()
}

async fn count_tasks(store: &Store) -> usize {
    let mut n = 0;
    for owner in ["alice", "bob"] {
        n += store.list_tasks(owner, &ListQuery::new(Utc::now())).await.expect("lists").items.len();
    }
    n
}
