//! Many tasks changed in one call: moved to another time, completed, or each
//! changed as `update_task` would. Every task is checked first (the user sees
//! it, may change it, and the change is valid; `expected_version` matches):
//! if one fails, none is changed and the error names it (`ids[1]`,
//! `tasks[2].title`). Then each is changed as its own tool would, with its own
//! event; a task changed by someone else between the check and the change is
//! the one thing that can still stop the batch part-way, and the error says
//! which.

use api::AppState;
use api::error::ApiError;
use api::extract::{IfMatch, from_json};
use chrono::Utc;
use serde_json::{Map, Value, json};
use todo_lib::task::{FieldError, Task, TaskPatch, ValidationErrors};
use uuid::Uuid;

use super::{BATCH_MAX, Outcome, invalid, line};

/// The date arguments of `reschedule_tasks` and of each of `update_tasks`'s tasks.
pub const RESCHEDULE_DATES: &[&str] = &["to"];

/// The ids of `ids`: 1 to [`BATCH_MAX`] task ids, each once.
fn task_ids(args: &mut Map<String, Value>) -> Result<Vec<Uuid>, ApiError> {
    let wanted = || invalid("ids", format!("is required: a list of 1 to {BATCH_MAX} task ids, each once"));
    let Some(Value::Array(items)) = args.remove("ids") else { return Err(wanted()) };
    if !(1..=BATCH_MAX).contains(&items.len()) {
        return Err(wanted());
    }
    let mut ids = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str().and_then(|raw| raw.parse::<Uuid>().ok()) {
            Some(id) if ids.contains(&id) => {
                errors.push(super::field(&format!("ids[{i}]"), "is given twice"))
            }
            Some(id) => ids.push(id),
            None => errors.push(super::field(&format!("ids[{i}]"), "is not a task id (a UUID)")),
        }
    }
    if errors.is_empty() {
        Ok(ids)
    } else {
        Err(super::invalid_arguments("the arguments are not valid for this tool", errors))
    }
}

/// Why `patch` cannot be applied to task `id` by `user` (with `if_match`), if it cannot.
async fn refusal(
    state: &AppState,
    user: &str,
    id: Uuid,
    if_match: &IfMatch,
    patch: &TaskPatch,
) -> Result<Option<String>, ApiError> {
    let Some((task, role)) = state.store.task_and_role(user, id).await? else {
        return Ok(Some("no such task for this user".to_owned()));
    };
    if !role.writes_tasks() {
        return Ok(Some("the user only views this task's list".to_owned()));
    }
    if let Err(ApiError::PreconditionFailed { current }) = if_match.check(task.version) {
        return Ok(Some(format!("has changed since expected_version: it is now at version {current}")));
    }
    if let Some(Some(list)) = patch.list_id
        && list != task.list_id
        && let Some(refused) = api::lists::refusal_for_tasks(state, user, list).await?
    {
        return Ok(Some(format!("{}: {}", refused.field, refused.message)));
    }
    Ok(task.patched(patch.clone(), Utc::now()).err().map(|ValidationErrors(fields)| {
        fields.into_iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
    }))
}

/// "Verb 2 tasks:" and a line each.
fn report(verb: &str, tasks: &[Task]) -> String {
    let mut text = format!("{verb} {} task{}:", tasks.len(), if tasks.len() == 1 { "" } else { "s" });
    for task in tasks {
        text.push_str(&format!("\n- {}", line(task)));
    }
    text
}

/// Moves each task's due time to `to`, keeping its reminder's offset and its
/// series' rule.
pub async fn reschedule_tasks(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    super::dates::read_dates(state, user, &mut args, RESCHEDULE_DATES).await?;
    let ids = task_ids(&mut args)?;
    let to = match args.remove("to") {
        Some(Value::String(to)) => to,
        _ => return Err(invalid("to", format!("is required: the new due time. {}", super::dates::SPOKEN))),
    };
    super::no_more(args)?;
    let patch: TaskPatch = from_json(json!({ "due_at": to }))?;
    let mut errors = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if let Some(message) = refusal(state, user, *id, &IfMatch::Absent, &patch).await? {
            errors.push(FieldError { field: format!("ids[{i}]"), message });
        }
    }
    if !errors.is_empty() {
        return Err(ValidationErrors(errors).into());
    }
    let mut moved = Vec::with_capacity(ids.len());
    for id in ids {
        moved.push(api::tasks::update(state, user, id, &IfMatch::Absent, patch.clone()).await?);
    }
    Outcome::new(&json!({ "moved": moved }), report(&format!("Moved to {to}"), &moved))
}

/// Marks each task done (and its open subtasks); a done one stays as it is.
pub async fn complete_tasks(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let ids = task_ids(&mut args)?;
    super::no_more(args)?;
    let mut errors = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if let Some(message) = refusal(state, user, *id, &IfMatch::Absent, &TaskPatch::default()).await? {
            errors.push(FieldError { field: format!("ids[{i}]"), message });
        }
    }
    if !errors.is_empty() {
        return Err(ValidationErrors(errors).into());
    }
    let mut completed = Vec::with_capacity(ids.len());
    for id in ids {
        completed.push(api::tasks::complete(state, user, id, &IfMatch::Absent).await?);
    }
    Outcome::new(&json!({ "completed": completed }), report("Completed", &completed))
}

/// Changes each task as `update_task` would: `{id, expected_version, …fields}`.
pub async fn update_tasks(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let items = super::take_items(&mut args, "tasks", "changes")?;
    super::no_more(args)?;
    let mut changes: Vec<(Uuid, IfMatch, TaskPatch)> = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let at = |field: &str| format!("tasks[{i}].{field}");
        let Value::Object(mut change) = item else {
            errors.push(FieldError { field: format!("tasks[{i}]"), message: "must be an object".into() });
            continue;
        };
        let read = async {
            let id = super::take_id(&mut change, "id", "task")?;
            let if_match = super::take_version(&mut change)?;
            super::dates::read_dates(state, user, &mut change, super::TASK_DATES).await?;
            let patch: TaskPatch = from_json(Value::Object(change))?;
            Ok::<_, ApiError>((id, if_match, patch))
        };
        match read.await {
            Ok((id, if_match, patch)) => {
                if changes.iter().any(|(seen, _, _)| *seen == id) {
                    errors.push(FieldError { field: at("id"), message: "is given twice".into() });
                } else if let Some(message) = refusal(state, user, id, &if_match, &patch).await? {
                    errors.push(FieldError { field: at("id"), message });
                }
                changes.push((id, if_match, patch));
            }
            Err(err) => {
                let body = err.body();
                let mut details = body.error.details.into_iter().peekable();
                if details.peek().is_none() {
                    errors.push(FieldError { field: format!("tasks[{i}]"), message: body.error.message });
                }
                errors.extend(details.map(|d| FieldError { field: at(&d.field), message: d.message }));
            }
        }
    }
    if !errors.is_empty() {
        return Err(ValidationErrors(errors).into());
    }
    let mut updated = Vec::with_capacity(changes.len());
    for (id, if_match, patch) in changes {
        updated.push(api::tasks::update(state, user, id, &if_match, patch).await?);
    }
    Outcome::new(&json!({ "updated": updated }), report("Changed", &updated))
}
