//! Every view's first page reads about a page of rows, however many tasks the
//! user has (issue #29): PostgreSQL's plan of each filter and sort the API
//! offers, run on a user with 50,000 tasks shaped like a long-used account
//! (`bench/scale/seed.sql`, which `make bench` seeds up to a million with),
//! must read no more than a bound that a scan of the user's tasks exceeds
//! twentyfold. A dropped index, an order no index serves or a generic plan that
//! scans fails here with the plan printed.

use serde_json::Value;
use todo_lib::store::ParentFilter;

use super::*;

const USER: &str = "plans-user";
const TASKS: usize = 50_000;
/// Rows a first page of 20 may read: a filter that matches one task in a
/// hundred reads about a hundred rows per row it keeps.
const BUDGET: u64 = 2_500;

/// The seed script with its psql variables filled in.
fn seed_sql() -> String {
    include_str!("../../../bench/scale/seed.sql")
        .replace(":'user'", &format!("'{USER}'"))
        .replace(":users", "1")
        .replace(":lists", "1")
        .replace(":n", &TASKS.to_string())
}

/// Rows read by the scans under `node`: those kept and those a filter or a
/// recheck removed, in every loop.
fn rows_read(node: &Value) -> u64 {
    let n = |key: &str| node.get(key).and_then(Value::as_f64).unwrap_or(0.0);
    let own = if node["Node Type"].as_str().is_some_and(|t| t.contains("Scan")) {
        ((n("Actual Rows") + n("Rows Removed by Filter") + n("Rows Removed by Index Recheck"))
            * n("Actual Loops")) as u64
    } else {
        0
    };
    own + node["Plans"].as_array().map_or(0, |plans| plans.iter().map(rows_read).sum())
}

#[tokio::test]
async fn every_view_s_first_page_reads_about_a_page_whatever_the_user_s_task_count() {
    let db = todo_testing::postgres().await;
    let url = db.postgres_url().expect("PostgreSQL");
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    sqlx::raw_sql(&seed_sql()).execute(&pool).await.expect("seeded");
    let (inbox,): (Uuid,) = sqlx::query_as("select id from lists where owner_id = $1 and inbox")
        .bind(USER)
        .fetch_one(&pool)
        .await
        .expect("the Inbox");
    let (parent,): (Uuid,) = sqlx::query_as("select id from tasks where user_id = $1 limit 1")
        .bind(USER)
        .fetch_one(&pool)
        .await
        .expect("a task");
    let now = Utc::now();

    let base = || {
        let mut q = ListQuery::new(now);
        q.limit = 20;
        q
    };
    let sorted = |sort: SortKey, order: Order| {
        let mut q = base();
        (q.sort, q.order) = (sort, order);
        q
    };
    let mut views: Vec<(String, ListQuery)> = Vec::new();
    for sort in [
        SortKey::Created,
        SortKey::Updated,
        SortKey::Due,
        SortKey::Priority,
        SortKey::Title,
        SortKey::Completed,
        SortKey::Manual,
    ] {
        for order in [Order::Asc, Order::Desc] {
            for status in [StatusFilter::All, StatusFilter::Open, StatusFilter::Done] {
                if sort == SortKey::Completed && status == StatusFilter::Open {
                    continue; // Refused: open tasks have no completion time to sort by.
                }
                let mut q = sorted(sort, order);
                q.status = status;
                views.push((format!("{status:?} by {sort:?} {order:?}"), q));
            }
        }
    }
    let with = |name: &str, f: &dyn Fn(&mut ListQuery)| {
        let mut q = base();
        f(&mut q);
        (name.to_owned(), q)
    };
    views.extend([
        with("one list", &|q| q.list = Some(inbox)),
        with("one list by priority", &|q| {
            q.list = Some(inbox);
            (q.sort, q.order) = (SortKey::Priority, Order::Desc);
        }),
        with("urgent", &|q| q.priorities = vec![Priority::Urgent]),
        with("tag on a tenth", &|q| q.tags = vec!["work".into()]),
        with("tag on a thousandth", &|q| q.tags = vec!["rare".into()]),
        with("tag on none", &|q| q.tags = vec!["nowhere".into()]),
        with("search, no match", &|q| q.text = Some("zebra".into())),
        with("search, one match", &|q| q.text = Some("Unicorn".into())),
        with("search, one match, by due", &|q| {
            q.text = Some("unicorn".into());
            q.sort = SortKey::Due;
            q.order = Order::Asc;
        }),
        with("search, a hundredth", &|q| q.text = Some("groceries".into())),
        with("due today", &|q| {
            q.due_after = Some(now);
            q.due_before = Some(now + Duration::days(1));
            (q.sort, q.order) = (SortKey::Due, Order::Asc);
        }),
        with("open, upcoming", &|q| {
            q.status = StatusFilter::Open;
            q.due_after = Some(now + Duration::days(1));
            (q.sort, q.order) = (SortKey::Due, Order::Asc);
        }),
        with("overdue by due", &|q| {
            q.overdue = Some(true);
            (q.sort, q.order) = (SortKey::Due, Order::Asc);
        }),
        with("overdue, newest", &|q| q.overdue = Some(true)),
        with("title, not overdue", &|q| {
            q.overdue = Some(false);
            (q.sort, q.order) = (SortKey::Title, Order::Asc);
        }),
        with("completed this week", &|q| {
            q.completed_after = Some(now - Duration::days(7));
            q.completed_before = Some(now);
            (q.sort, q.order) = (SortKey::Completed, Order::Desc);
        }),
        with("assigned to the user", &|q| q.assignee = Some(USER.into())),
        with("top level", &|q| q.parent = Some(ParentFilter::TopLevel)),
        with("subtasks of one", &|q| q.parent = Some(ParentFilter::Of(parent))),
    ]);

    let mut over = Vec::new();
    let mut found = std::collections::HashMap::new();
    for (name, query) in &views {
        let plan =
            db.store.explain_tasks(USER, query).await.expect("explained").expect("PostgreSQL explains");
        let plan: Value = serde_json::from_str(&plan).expect("JSON");
        let read = rows_read(&plan[0]["Plan"]);
        if read > BUDGET {
            over.push(format!(
                "{name}: {read} rows\n{}",
                serde_json::to_string_pretty(&plan).unwrap_or_default()
            ));
        }
        let page = db.store.list_tasks(USER, query).await.expect("listed");
        found.insert(name.as_str(), page.items.len());
    }
    // A plan changes what a page costs, never what it holds.
    for (name, expected) in [
        ("search, no match", 0),
        ("search, one match", 1),
        ("search, one match, by due", 1),
        ("search, a hundredth", 20),
        ("tag on none", 0),
        ("tag on a thousandth", 20),
        ("Open by Due Asc", 20),
    ] {
        assert_eq!(found[name], expected, "{name}");
    }
    assert!(
        over.is_empty(),
        "{} of {} views read more than {BUDGET} rows of {TASKS}:\n{}",
        over.len(),
        views.len(),
        over.join("\n\n")
    );
}
