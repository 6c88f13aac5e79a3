//! The task tools: `GET /v1/tasks`, `/v1/tasks/{id}` and its changes, `/v1/tags`.

use api::AppState;
use api::error::ApiError;
use api::extract::{IfMatch, from_json, list_query};
use api::tasks::TaskPage;
use chrono::Utc;
use serde_json::{Map, Value, json};
use todo_lib::task::{NewTask, Task, TaskPatch};

use super::dates::{read_dates, read_past_dates};
use super::{Outcome, line, no_more, query, take_id, take_version};

/// The date arguments of each tool (see [`super::dates`]).
pub const LIST_DATES: &[&str] = &["due_before", "due_after"];
pub const COMPLETED_DATES: &[&str] = &["completed_after", "completed_before"];
pub const TASK_DATES: &[&str] = &["due_at"];
pub const SNOOZE_DATES: &[&str] = &["until"];

pub async fn list_tasks(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    read_dates(state, user, &mut args, LIST_DATES).await?;
    let query = list_query(query(args)?.as_deref(), Utc::now())?;
    let page = api::tasks::page(state, user, query).await?;
    let text = page_text(&page, "No tasks match.", "", |_| String::new());
    Outcome::new(&page, text)
}

/// What the user got done: done tasks by when they were completed, most
/// recently first, within `completed_after` (inclusive) and
/// `completed_before` (exclusive), in one `list` or all. `list_tasks` with
/// `status=done&sort=completed`, so the same rules and the same index.
pub async fn find_completed_tasks(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    const TAKES: [&str; 5] = ["completed_after", "completed_before", "list", "limit", "cursor"];
    no_more(
        args.iter()
            .filter(|(k, _)| !TAKES.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )?;
    read_past_dates(state, user, &mut args, COMPLETED_DATES).await?;
    args.insert("status".into(), "done".into());
    args.insert("sort".into(), "completed".into());
    let query = list_query(query(args)?.as_deref(), Utc::now())?;
    let page = api::tasks::page(state, user, query).await?;
    let text = page_text(&page, "No task was completed in that time.", " completed", |task| {
        task.completed_at.map(|at| format!(" (completed {})", at.to_rfc3339())).unwrap_or_default()
    });
    Outcome::new(&page, text)
}

/// A page in lines: how many, each task's [`line`] and what `more` adds to
/// it, and how to ask for the next page.
fn page_text(page: &TaskPage, none: &str, what: &str, more: impl Fn(&Task) -> String) -> String {
    let mut text = match page.items.len() {
        0 => none.to_owned(),
        n => format!("{n} task{}{what}:", if n == 1 { "" } else { "s" }),
    };
    for task in &page.items {
        text.push_str(&format!("\n- {}{}", line(task), more(task)));
    }
    if page.next_cursor.is_some() {
        text.push_str("\nMore on the next page: pass next_cursor as cursor.");
    }
    text
}

pub async fn get_task(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let id = take_id(&mut args, "id", "task")?;
    no_more(args)?;
    Outcome::task(&api::tasks::get(state, user, id).await?, "Task")
}

pub async fn create_task(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    read_dates(state, user, &mut args, TASK_DATES).await?;
    let input: NewTask = from_json(Value::Object(args))?;
    Outcome::task(&api::tasks::create(state, user, input).await?.task, "Created")
}

/// One sentence read as quick add reads it ("Pay rent tomorrow 9am #home
/// !high every month"), in `time_zone`, and created (in `list_id`, else the
/// list an `@name` names, else the Inbox).
pub async fn quick_add(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let list_id = match args.get("list_id") {
        None | Some(Value::Null) => args.remove("list_id").and(None),
        Some(_) => Some(take_id(&mut args, "list_id", "list")?),
    };
    let input: api::quick_add::QuickAdd = from_json(Value::Object(args))?;
    let (read, new) = api::quick_add::read(state, user, &input, Utc::now()).await?;
    // The `list_id` argument, else the list an `@name` named, else the Inbox.
    let task =
        api::tasks::create(state, user, NewTask { list_id: list_id.or(new.list_id), ..new }).await?.task;
    let mut outcome = Outcome::task(&task, "Created")?;
    if !read.recognized.is_empty() {
        let phrases: Vec<String> =
            read.recognized.iter().map(|r| format!("\"{}\" as {}", r.text, r.field)).collect();
        outcome.text.push_str(&format!("\nRead {}.", phrases.join(", ")));
    }
    Ok(outcome)
}

pub async fn update_task(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let id = take_id(&mut args, "id", "task")?;
    let if_match = take_version(&mut args)?;
    read_dates(state, user, &mut args, TASK_DATES).await?;
    let patch: TaskPatch = from_json(Value::Object(args))?;
    Outcome::task(&api::tasks::update(state, user, id, &if_match, patch).await?, "Changed")
}

pub async fn complete_task(
    state: &AppState,
    user: &str,
    args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let (id, if_match) = one_task(args)?;
    Outcome::task(&api::tasks::complete(state, user, id, &if_match).await?, "Completed")
}

pub async fn snooze_task(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let id = take_id(&mut args, "id", "task")?;
    let if_match = take_version(&mut args)?;
    read_dates(state, user, &mut args, SNOOZE_DATES).await?;
    let input: api::snooze::Snooze = from_json(Value::Object(args))?;
    let task = api::snooze::snooze(state, user, id, &if_match, &input).await?;
    let mut outcome = Outcome::task(&task, "Snoozed")?;
    if let Some(at) = task.remind_at {
        outcome.text.push_str(&format!("\nThe next reminder is at {}.", at.to_rfc3339()));
    }
    Ok(outcome)
}

/// Puts a task right after the task `after` in its list's order, or first
/// without one.
pub async fn move_task(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let id = take_id(&mut args, "id", "task")?;
    let if_match = take_version(&mut args)?;
    let after = match args.get("after") {
        None | Some(Value::Null) => args.remove("after").and(None),
        Some(_) => Some(take_id(&mut args, "after", "task")?),
    };
    no_more(args)?;
    let task = api::order::move_after(state, user, id, after, &if_match).await?;
    let mut outcome = Outcome::task(&task, "Moved")?;
    outcome.text.push_str(if after.is_some() {
        "\nIt follows the task named."
    } else {
        "\nIt is first in its list."
    });
    Ok(outcome)
}

pub async fn reopen_task(
    state: &AppState,
    user: &str,
    args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let (id, if_match) = one_task(args)?;
    Outcome::task(&api::tasks::reopen(state, user, id, &if_match).await?, "Reopened")
}

pub async fn delete_task(
    state: &AppState,
    user: &str,
    args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let (id, if_match) = one_task(args)?;
    api::tasks::delete(state, user, id, &if_match).await?;
    Outcome::new(&json!({"deleted": id}), format!("Deleted task {id} and its subtasks."))
}

/// The arguments of a change to one task: its `id` and `expected_version`, and nothing else.
fn one_task(mut args: Map<String, Value>) -> Result<(uuid::Uuid, IfMatch), ApiError> {
    let id = take_id(&mut args, "id", "task")?;
    let if_match = take_version(&mut args)?;
    no_more(args)?;
    Ok((id, if_match))
}

pub async fn list_tags(state: &AppState, user: &str, args: Map<String, Value>) -> Result<Outcome, ApiError> {
    no_more(args)?;
    let tags = state.store.tag_counts(user).await?;
    let text = if tags.is_empty() {
        "No tags yet.".to_owned()
    } else {
        tags.iter().map(|t| format!("#{} ({})", t.tag, t.count)).collect::<Vec<_>>().join(", ")
    };
    Outcome::new(&json!({"tags": tags}), text)
}
