//! Listing: filters, sort and keyset pagination, rendered to SQL that both
//! backends accept (`$n` placeholders, no vendor functions).
//!
//! Keyset ("seek") pagination continues after the last row seen instead of
//! skipping an offset, so rows inserted or deleted between pages make no row
//! appear twice or go missing. Every sort ends with the id, which makes the order
//! total. For `due`, tasks without a due time come last in either direction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Backend;
use super::cursor::CursorKey;
pub use super::cursor::{Cursor, CursorError};
use crate::task::{Priority, Task};

pub const LIMIT_MAX: u32 = 200;
pub const LIMIT_DEFAULT: u32 = 50;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    Open,
    Done,
    #[default]
    All,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    Due,
    Priority,
    #[default]
    Created,
    Updated,
    Title,
    /// When the task was completed; open tasks come last.
    Completed,
    /// The list's own order, as its members arranged it (`position`).
    Manual,
}

impl SortKey {
    /// The order a person expects when they name only the key: soonest due and A
    /// to Z first; newest, most urgent and most recently completed first.
    pub fn default_order(self) -> Order {
        match self {
            Self::Due | Self::Title | Self::Manual => Order::Asc,
            Self::Priority | Self::Created | Self::Updated | Self::Completed => Order::Desc,
        }
    }

    /// Whether some tasks have no value for this key (no due time, not
    /// completed): those come last in either direction.
    pub(crate) fn nullable(self) -> bool {
        matches!(self, Self::Due | Self::Completed)
    }

    /// The index on (list, this key, id), which SQLite is told to read by
    /// (see [`plan`]).
    fn index(self) -> &'static str {
        match self {
            Self::Due => "tasks_list_due",
            Self::Priority => "tasks_list_priority",
            Self::Created => "tasks_list",
            Self::Updated => "tasks_list_updated",
            Self::Title => "tasks_list_title",
            Self::Completed => "tasks_list_completed",
            Self::Manual => "tasks_list_position",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Self::Due => "t.due_at",
            Self::Priority => "t.priority",
            Self::Created => "t.created_at",
            Self::Updated => "t.updated_at",
            Self::Title => "t.title_key",
            Self::Completed => "t.completed_at",
            Self::Manual => "t.position",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    fn sql(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }

    /// The comparison that means "comes after" in this order.
    fn after(self) -> &'static str {
        match self {
            Self::Asc => ">",
            Self::Desc => "<",
        }
    }
}

/// Which tasks by their place in a tree of subtasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentFilter {
    /// Only tasks that are not subtasks.
    TopLevel,
    /// Only the direct subtasks of this task.
    Of(Uuid),
}

/// What to list. Built by the API from query parameters.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Only the tasks of this list.
    pub list: Option<Uuid>,
    /// Only the tasks assigned to this user.
    pub assignee: Option<String>,
    pub parent: Option<ParentFilter>,
    pub status: StatusFilter,
    /// Any of these priorities; empty means all.
    pub priorities: Vec<Priority>,
    /// All of these tags.
    pub tags: Vec<String>,
    /// Case-insensitive substring of the title or description.
    pub text: Option<String>,
    pub due_before: Option<DateTime<Utc>>,
    pub due_after: Option<DateTime<Utc>>,
    /// Completed strictly before this instant (so only done tasks).
    pub completed_before: Option<DateTime<Utc>>,
    /// Completed at or after this instant (so only done tasks).
    pub completed_after: Option<DateTime<Utc>>,
    /// `Some(true)`: only open tasks past due; `Some(false)`: none of those.
    pub overdue: Option<bool>,
    pub sort: SortKey,
    pub order: Order,
    pub limit: u32,
    pub after: Option<Cursor>,
    /// The instant "overdue" is measured against.
    pub now: DateTime<Utc>,
}

impl ListQuery {
    /// Everything, newest first, first page.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            list: None,
            assignee: None,
            parent: None,
            status: StatusFilter::All,
            priorities: Vec::new(),
            tags: Vec::new(),
            text: None,
            due_before: None,
            due_after: None,
            completed_before: None,
            completed_after: None,
            overdue: None,
            sort: SortKey::Created,
            order: SortKey::Created.default_order(),
            limit: LIMIT_DEFAULT,
            after: None,
            now,
        }
    }
}

/// One page and where the next one starts.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Task>,
    pub next: Option<Cursor>,
}

/// The sort key for titles: case-insensitive, compared byte-wise on both backends
/// (PostgreSQL's column uses the "C" collation), so both order alike.
pub(crate) fn title_key(title: &str) -> String {
    title.to_lowercase()
}

/// Lower-cased title and description, searched with `like`.
pub(crate) fn search_text(task: &Task) -> String {
    format!("{}\n{}", task.title, task.description).to_lowercase()
}

/// A value bound to a `$n` placeholder.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
    Bool(bool),
    Time(DateTime<Utc>),
    Uuid(Uuid),
}

/// SQL text and its parameters, in placeholder order.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub sql: String,
    pub params: Vec<Param>,
    /// Whether the best plan depends on the parameters' values, so that the
    /// statement must be planned for them each time rather than prepared
    /// once: see [`plan`].
    pub per_values: bool,
}

impl Plan {
    /// Adds a parameter and returns its placeholder.
    fn bind(&mut self, param: Param) -> String {
        self.params.push(param);
        format!("${}", self.params.len())
    }
}

/// Renders `query` for `user_id` (the tasks of the lists they are a member
/// of), asking for one row more than the page so the caller knows whether
/// another page follows.
///
/// On PostgreSQL the page of each of the user's lists is read on its own, by
/// the index on (list, sort key) where there is one, and the pages are then
/// merged (a lateral join): the newest 21 tasks of a list of 50,000 cost
/// 0.1 ms instead of the 27 ms of sorting all of them, which is what
/// `list_id in (…)` makes the planner do (measured with `explain analyze` on
/// the bench database). SQLite has no lateral join and keeps that form, as
/// does a search on PostgreSQL (see below).
///
/// Every sort and the filters by status are served by an index on (list,
/// key, id), so a list's first page reads about a page of rows however many
/// tasks it holds (`lib/tests/store/plans.rs` checks each view's plan). For
/// the filters whose cost depends on how many rows match (text, tags,
/// priorities, due times, assignee), the best plan depends on the values:
/// a word matching one task in a million is read from its index and sorted,
/// one matching every tenth task is read in order and filtered. A statement
/// prepared once gets PostgreSQL's generic plan after five runs, which cannot
/// tell these apart (a search with no match then read the million rows), so
/// those statements are planned with their values each time
/// ([`Plan::per_values`]).
pub(crate) fn plan(columns: &str, user_id: &str, query: &ListQuery, backend: Backend) -> Plan {
    let mut p = Plan::default();
    let user = p.bind(Param::Text(user_id.to_owned()));
    let mut sql = String::new();

    if let Some(list) = query.list {
        let list = p.bind(Param::Uuid(list));
        sql += &format!(" and t.list_id = {list}");
    }
    if let Some(assignee) = &query.assignee {
        let assignee = p.bind(Param::Text(assignee.clone()));
        sql += &format!(" and t.assignee_id = {assignee}");
    }
    match query.parent {
        None => {}
        Some(ParentFilter::TopLevel) => sql += " and t.parent_id is null",
        Some(ParentFilter::Of(parent)) => {
            let parent = p.bind(Param::Uuid(parent));
            sql += &format!(" and t.parent_id = {parent}");
        }
    }
    match query.status {
        StatusFilter::All => {}
        StatusFilter::Open | StatusFilter::Done => {
            let done = p.bind(Param::Bool(query.status == StatusFilter::Done));
            sql += &format!(" and t.completed = {done}");
        }
    }
    if !query.priorities.is_empty() {
        let list: Vec<String> =
            query.priorities.iter().map(|pr| p.bind(Param::Int(i64::from(pr.rank())))).collect();
        sql += &format!(" and t.priority in ({})", list.join(", "));
    }
    for tag in &query.tags {
        let tag = p.bind(Param::Text(tag.clone()));
        sql += &format!(
            " and exists (select 1 from task_tags g where g.list_id = t.list_id and g.task_id = t.id and g.tag = {tag})"
        );
    }
    if let Some(text) = &query.text {
        sql += &search(&mut p, text, backend);
    }
    if let Some(before) = query.due_before {
        let before = p.bind(Param::Time(before));
        sql += &format!(" and t.due_at < {before}");
    }
    if let Some(after) = query.due_after {
        let after = p.bind(Param::Time(after));
        sql += &format!(" and t.due_at >= {after}");
    }
    if let Some(before) = query.completed_before {
        let before = p.bind(Param::Time(before));
        sql += &format!(" and t.completed_at < {before}");
    }
    if let Some(after) = query.completed_after {
        let after = p.bind(Param::Time(after));
        sql += &format!(" and t.completed_at >= {after}");
    }
    match query.overdue {
        None => {}
        Some(true) => {
            let now = p.bind(Param::Time(query.now));
            let open = p.bind(Param::Bool(false));
            sql += &format!(" and t.completed = {open} and t.due_at < {now}");
        }
        Some(false) => {
            let now = p.bind(Param::Time(query.now));
            let done = p.bind(Param::Bool(true));
            sql += &format!(" and (t.completed = {done} or t.due_at is null or t.due_at >= {now})");
        }
    }

    let col = query.sort.column();
    let (dir, after) = (query.order.sql(), query.order.after());
    if let Some(cursor) = &query.after {
        let id = p.bind(Param::Uuid(cursor.id));
        let seek = match &cursor.key {
            CursorKey::Time(None) => format!("({col} is null and t.id {after} {id})"),
            CursorKey::Time(Some(t)) => seek_after(&mut p, query.sort, after, Param::Time(*t), &id),
            CursorKey::Int(i) => seek_after(&mut p, query.sort, after, Param::Int(*i), &id),
            CursorKey::Text(s) => seek_after(&mut p, query.sort, after, Param::Text(s.clone()), &id),
        };
        sql += &format!(" and {seek}");
    }

    // Tasks without a due time (or not completed, sorted by completion)
    // come last in either direction: PostgreSQL says so as its indexes on
    // these keys are ordered; SQLite puts nulls first and sorts by "is null"
    // before the key.
    let order = |key: &str| match (query.sort.nullable(), backend) {
        (true, Backend::Postgres) => format!("order by {key} {dir} nulls last, t.id {dir}"),
        (true, Backend::Sqlite) => format!("order by {key} is null, {key} {dir}, t.id {dir}"),
        (false, _) => format!("order by {key} {dir}, t.id {dir}"),
    };
    let limit = p.bind(Param::Int(i64::from(query.limit.clamp(1, LIMIT_MAX)) + 1));
    let filters = sql;
    p.per_values = query.text.is_some()
        || !query.tags.is_empty()
        || !query.priorities.is_empty()
        || query.assignee.is_some()
        || query.due_before.is_some()
        || query.due_after.is_some()
        || query.completed_before.is_some()
        || query.completed_after.is_some()
        || query.overdue.is_some();
    // A search reads its matches from the trigram index once for all the
    // lists: per list (the lateral join) it read the whole index for each,
    // 20 lists × 10,000 matches for a word on 1 % of a million tasks (197 ms
    // against 21 ms, `explain analyze` on the bench database).
    let per_list = backend == Backend::Postgres && query.text.is_none();
    p.sql = if per_list {
        format!(
            "select {columns} from list_members m cross join lateral (select {columns}, {col} as sort_key \
             from tasks t where t.list_id = m.list_id{filters} {} limit {limit}) t \
             where m.user_id = {user} {} limit {limit}",
            order(col),
            order("t.sort_key"),
        )
    } else {
        // SQLite, without statistics, picks any of the indexes that start with
        // the list and sorts every row it reads: told to read the one in the
        // order asked, its sort sees the rows in order and stops early (0.3 ms
        // against 12 ms for the first page of 30,000 tasks). A search, a
        // parent or an assignee is found faster by its own index.
        let hint = match (backend, &query.text, query.parent, &query.assignee) {
            (Backend::Sqlite, None, None | Some(ParentFilter::TopLevel), None) => {
                format!(" indexed by {}", query.sort.index())
            }
            _ => String::new(),
        };
        format!(
            "select {columns} from tasks t{hint} \
             where t.list_id in (select m.list_id from list_members m where m.user_id = {user}){filters} \
             {} limit {limit}",
            order(col),
        )
    };
    p
}

/// "Comes after (`value`, `id`)" for a non-null sort key: a row comparison,
/// which both backends read as a range of the index on (list, key, id). For
/// `due` and `completed`, tasks without the key sort last, so they all come
/// after any task that has one.
fn seek_after(p: &mut Plan, sort: SortKey, after: &str, value: Param, id: &str) -> String {
    let col = sort.column();
    let v = p.bind(value);
    if sort.nullable() {
        format!("({col} is null or {col} {after} {v} or ({col} = {v} and t.id {after} {id}))")
    } else {
        format!("(({col}, t.id) {after} ({v}, {id}))")
    }
}

/// The filter for the text `q`: a case-insensitive substring of the title or
/// the description (both lower-cased as Rust lower-cases, so that both
/// backends agree on every script). A `like` on the stored lower-cased text
/// decides; a trigram index finds the candidates when `q` has three
/// characters or more (pg_trgm's GIN index, which `like` uses by itself, or
/// SQLite's FTS5 table `tasks_search` by a phrase query).
fn search(p: &mut Plan, text: &str, backend: Backend) -> String {
    let lower = text.to_lowercase();
    let pattern = p.bind(Param::Text(format!("%{}%", escape_like(&lower))));
    match backend {
        // Backslash is PostgreSQL's escape character for `like` already.
        Backend::Postgres => format!(" and t.search_text like {pattern}"),
        Backend::Sqlite if lower.chars().count() >= 3 => {
            let phrase = p.bind(Param::Text(format!("\"{}\"", lower.replace('"', "\"\""))));
            format!(
                " and t.rowid in (select rowid from tasks_search where tasks_search match {phrase}) \
                 and t.search_text like {pattern} escape '\\'"
            )
        }
        Backend::Sqlite => format!(" and t.search_text like {pattern} escape '\\'"),
    }
}

/// Escapes `like` wildcards so that a search for "50%" finds "50%", not "50".
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Splits the fetched rows into a page and the cursor for the next one.
pub(crate) fn into_page(mut rows: Vec<Task>, query: &ListQuery) -> Page {
    let limit = query.limit.clamp(1, LIMIT_MAX) as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(|t| Cursor::after_task(t, query.sort, query.order)) } else { None };
    Page { items: rows, next }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }

    #[test]
    fn placeholders_are_numbered_in_bind_order() {
        let mut q = ListQuery::new(Utc::now());
        q.tags = vec!["a".into(), "b".into()];
        for backend in [Backend::Postgres, Backend::Sqlite] {
            let p = plan("t.id", "u", &q, backend);
            assert_eq!(p.params.len(), 4);
            assert!(p.sql.contains("m.user_id = $1"));
            assert!(p.sql.contains("g.tag = $2"));
            assert!(p.sql.contains("g.tag = $3"));
            assert!(p.sql.ends_with("limit $4"));
        }
    }
}
