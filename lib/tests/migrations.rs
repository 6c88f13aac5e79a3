//! The PostgreSQL and SQLite migration trees build the same schema: the same
//! tables, the same columns in each, and the same indexes (by name for those the
//! migrations name, by table, columns and uniqueness for primary keys and unique
//! constraints, which each backend names its own way). The store runs the same
//! statements on both, so a column or index added to one tree only is a bug
//! that would show on one backend alone (issue #14, item 2). Column types and
//! partial-index predicates differ by design (uuid/blob, timestamptz/text) and
//! are not compared. Two indexes differ by design too ([`BY_DESIGN`]).

use std::collections::BTreeSet;

use sqlx::Row;
use todo_lib::store::ConnectOptions;

/// (table, column)
type Columns = BTreeSet<(String, String)>;
/// (table, index name or "" for an unnamed key, columns in order, unique)
type Indexes = BTreeSet<(String, String, Vec<String>, bool)>;

const BOOKKEEPING: &str = "_sqlx_migrations";

/// The search index is pg_trgm's GIN index on PostgreSQL and an FTS5 table of
/// the same name on SQLite, compared as the index it is; the indexes for due
/// and completion times in descending order serve PostgreSQL's `nulls last`,
/// which SQLite sorts by another expression (lib/src/store/list.rs).
const SEARCH_INDEX: &str = "tasks_search";
const BY_DESIGN: [&str; 2] = ["tasks_list_due_desc", "tasks_list_completed_desc"];

async fn postgres_schema() -> (Columns, Indexes) {
    let db = todo_testing::postgres().await;
    let pool = sqlx::PgPool::connect_with(db.pg_options().expect("PostgreSQL")).await.expect("connects");
    let columns = sqlx::query(
        "select table_name::text, column_name::text from information_schema.columns \
         where table_schema = 'public' and table_name <> $1",
    )
    .bind(BOOKKEEPING)
    .fetch_all(&pool)
    .await
    .expect("columns")
    .into_iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let indexes = sqlx::query(
        "select t.relname::text, i.relname::text, x.indisunique, x.indisprimary, \
                array_agg(coalesce(a.attname::text, '<expression>') order by k.ord) \
         from pg_index x \
         join pg_class i on i.oid = x.indexrelid \
         join pg_class t on t.oid = x.indrelid \
         join pg_namespace n on n.oid = t.relnamespace \
         cross join lateral unnest(x.indkey::int2[]) with ordinality as k(attnum, ord) \
         left join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum \
         where n.nspname = 'public' and t.relname <> $1 \
         group by 1, 2, 3, 4",
    )
    .bind(BOOKKEEPING)
    .fetch_all(&pool)
    .await
    .expect("indexes")
    .into_iter()
    .map(|r| {
        let (table, name, unique, primary): (String, String, bool, bool) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        // Keys and unique constraints are named by PostgreSQL itself.
        let constraint = primary || pg_constraint_name(&table, &name);
        (table, if constraint { String::new() } else { name }, r.get(4), unique)
    })
    .filter(|(_, name, _, _)| !BY_DESIGN.contains(&name.as_str()))
    .collect();
    pool.close().await;
    (columns, indexes)
}

fn pg_constraint_name(table: &str, name: &str) -> bool {
    name.strip_prefix(table).is_some_and(|rest| rest.ends_with("_key"))
}

async fn sqlite_schema() -> (Columns, Indexes) {
    let store = todo_lib::store::connect("sqlite::memory:", ConnectOptions::default()).expect("opens");
    store.migrate().await.expect("migrates");
    let pool = store.sqlite_pool().expect("a SQLite store");
    let tables: Vec<String> = sqlx::query_scalar(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name <> ?1 \
         and name <> ?2 and name <> ?3 and name not like ?3 || '_%'",
    )
    .bind(BOOKKEEPING)
    // SQLite has no sequences: this one-row table is PostgreSQL's `change_seq`.
    .bind("change_seq")
    .bind(SEARCH_INDEX)
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut columns = Columns::new();
    let mut indexes = Indexes::new();
    let search: Option<String> =
        sqlx::query_scalar("select name from sqlite_master where name = ? and sql like '%fts5%'")
            .bind(SEARCH_INDEX)
            .fetch_optional(pool)
            .await
            .expect("the search table");
    if search.is_some() {
        indexes.insert(("tasks".into(), SEARCH_INDEX.into(), vec!["search_text".into()], false));
    }
    for table in tables {
        let names: Vec<String> = sqlx::query_scalar("select name from pragma_table_info(?)")
            .bind(&table)
            .fetch_all(pool)
            .await
            .expect("columns");
        columns.extend(names.into_iter().map(|c| (table.clone(), c)));
        let list = sqlx::query("select name, \"unique\", origin from pragma_index_list(?)")
            .bind(&table)
            .fetch_all(pool)
            .await
            .expect("indexes");
        for row in list {
            let (name, unique, origin): (String, bool, String) = (row.get(0), row.get(1), row.get(2));
            let cols: Vec<Option<String>> =
                sqlx::query_scalar("select name from pragma_index_info(?) order by seqno")
                    .bind(&name)
                    .fetch_all(pool)
                    .await
                    .expect("index columns");
            let cols = cols.into_iter().map(|c| c.unwrap_or_else(|| "<expression>".into())).collect();
            // "c": made by `create index`; "pk" and "u": a key or unique constraint.
            let name = if origin == "c" { name } else { String::new() };
            indexes.insert((table.clone(), name, cols, unique));
        }
    }
    (columns, indexes)
}

/// What one side has that the other lacks, for the failure message.
fn difference<T: Ord + Clone + std::fmt::Debug>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> Vec<T> {
    a.difference(b).cloned().collect()
}

#[tokio::test]
async fn both_migration_trees_build_the_same_tables_columns_and_indexes() {
    let (pg_columns, pg_indexes) = postgres_schema().await;
    let (lite_columns, lite_indexes) = sqlite_schema().await;
    assert!(pg_columns.len() > 50 && pg_indexes.len() > 15, "the schema was read: {pg_indexes:?}");
    assert_eq!(
        (difference(&pg_columns, &lite_columns), difference(&lite_columns, &pg_columns)),
        (vec![], vec![]),
        "columns only on PostgreSQL, only on SQLite"
    );
    assert_eq!(
        (difference(&pg_indexes, &lite_indexes), difference(&lite_indexes, &pg_indexes)),
        (vec![], vec![]),
        "indexes only on PostgreSQL, only on SQLite"
    );
}
