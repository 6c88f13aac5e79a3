//! What PostgreSQL does for one page of tasks: the plan it runs, with the rows
//! each step read, for the plan tests (`lib/tests/store/plans.rs`) and for an
//! operator asking why a view is slow.

use sqlx::Connection;

use super::db::Pool;
use super::list::{self, ListQuery, Param};
use super::tasks::task_columns;
use super::{Store, StoreError};

/// The name of the statement the explanation prepares, on a connection of its own.
const STATEMENT: &str = "todo_explain_tasks";

impl Store {
    /// `EXPLAIN (ANALYZE, FORMAT JSON)` of [`Store::list_tasks`] for this
    /// query, planned as the store plans it: prepared once, so by PostgreSQL's
    /// generic plan, unless the statement is planned for its values each time.
    /// `None` on SQLite.
    pub async fn explain_tasks(
        &self,
        user_id: &str,
        query: &ListQuery,
    ) -> Result<Option<String>, StoreError> {
        let Pool::Postgres(pool) = &self.pool else { return Ok(None) };
        let plan = list::plan(task_columns!(), user_id, query, self.backend());
        let mode = if plan.per_values { "force_custom_plan" } else { "force_generic_plan" };
        // Its own connection: a prepared statement left behind by a failure
        // must not meet the pool's.
        let mut c = sqlx::PgConnection::connect_with(&pool.connect_options()).await?;
        sqlx::query(&format!("set plan_cache_mode = {mode}")).execute(&mut c).await?;
        sqlx::query(&format!("prepare {STATEMENT} as {}", plan.sql)).execute(&mut c).await?;
        let values: Vec<String> = plan.params.iter().map(literal).collect();
        let explain = format!("explain (analyze, format json) execute {STATEMENT}({})", values.join(", "));
        let (json,): (serde_json::Value,) = sqlx::query_as(&explain).fetch_one(&mut c).await?;
        c.close().await?;
        Ok(Some(json.to_string()))
    }
}

/// `param` as an SQL literal of unknown type, which PostgreSQL reads as the
/// type it inferred for the placeholder.
fn literal(param: &Param) -> String {
    let text = match param {
        Param::Text(v) => v.clone(),
        Param::Int(v) => v.to_string(),
        Param::Bool(v) => v.to_string(),
        Param::Time(v) => v.to_rfc3339(),
        Param::Uuid(v) => v.to_string(),
    };
    format!("'{}'", text.replace('\'', "''"))
}
