//! What each tool runs: its arguments read as its REST route reads its body,
//! path and query (the same rules, the same messages), then the API's use case.

use api::AppState;
use api::error::ApiError;
use api::extract::{IfMatch, from_json, list_query, path_id};
use chrono::Utc;
use serde::Serialize;
use serde_json::{Map, Value, json};
use todo_lib::task::{FieldError, NewTask, Task, TaskPatch};
use uuid::Uuid;

/// A tool's result: structured content, and a short text for people and for
/// clients that read text only.
#[derive(Debug)]
pub struct Outcome {
    pub structured: Value,
    pub text: String,
}

impl Outcome {
    fn new(value: &impl Serialize, text: String) -> Result<Self, ApiError> {
        let structured = serde_json::to_value(value).map_err(|e| ApiError::Internal(e.into()))?;
        Ok(Self { structured, text })
    }

    fn task(task: &Task, verb: &str) -> Result<Self, ApiError> {
        Self::new(task, format!("{verb} {}", line(task)))
    }
}

/// One task in a line: what an assistant reads back to the user.
fn line(task: &Task) -> String {
    let mut line = format!("\"{}\" [{}", task.title, if task.completed { "done" } else { "open" });
    line.push_str(&format!(
        ", {}",
        serde_json::to_value(task.priority).unwrap_or_default().as_str().unwrap_or("")
    ));
    if let Some(due) = task.due_at {
        line.push_str(&format!(", due {}", due.to_rfc3339()));
    }
    if !task.tags.is_empty() {
        line.push_str(&format!(", #{}", task.tags.join(" #")));
    }
    if let Some(rule) = &task.recurrence {
        line.push_str(&format!(", repeats {rule}"));
    }
    line.push_str(&format!("] id {} version {}", task.id, task.version));
    line
}

/// Arguments taken out of `args`: `name` as a UUID, refused as the route's
/// path would refuse it (`what` names the thing).
fn take_id(args: &mut Map<String, Value>, name: &str, what: &str) -> Result<Uuid, ApiError> {
    match args.remove(name) {
        Some(Value::String(raw)) => path_id(&raw, what),
        Some(other) => path_id(&other.to_string(), what),
        None => Err(ApiError::BadRequest {
            code: "invalid_arguments",
            message: format!("`{name}` is required"),
            details: vec![FieldError { field: name.into(), message: "is required".into() }],
        }),
    }
}

/// `expected_version`, the tools' `If-Match`.
fn take_version(args: &mut Map<String, Value>) -> Result<IfMatch, ApiError> {
    match args.remove("expected_version") {
        None | Some(Value::Null) => Ok(IfMatch::Absent),
        Some(Value::Number(n)) if n.as_i64().is_some() => {
            Ok(IfMatch::Versions(n.as_i64().into_iter().collect()))
        }
        Some(_) => Err(ApiError::BadRequest {
            code: "invalid_arguments",
            message: "`expected_version` must be a whole number: the task's `version`".into(),
            details: vec![FieldError {
                field: "expected_version".into(),
                message: "must be a whole number".into(),
            }],
        }),
    }
}

/// The arguments as the query string of the tool's route, so that the route's
/// own parser reads them: strings, numbers and booleans as they are, an array
/// as a repeated parameter.
fn query(args: Map<String, Value>) -> Result<Option<String>, ApiError> {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    let mut errors = Vec::new();
    for (key, value) in args {
        let values = match value {
            Value::Array(items) => items,
            Value::Null => Vec::new(),
            one => vec![one],
        };
        for value in values {
            match value {
                Value::String(s) => out.append_pair(&key, &s),
                Value::Number(_) | Value::Bool(_) => out.append_pair(&key, &value.to_string()),
                _ => {
                    errors.push(FieldError {
                        field: key.clone(),
                        message: "must be a string, a number, a boolean or a list of them".into(),
                    });
                    continue;
                }
            };
        }
    }
    ApiError::unless_invalid_query(Some(out.finish()), errors)
}

pub async fn list_tasks(state: &AppState, user: &str, args: Map<String, Value>) -> Result<Outcome, ApiError> {
    let query = list_query(query(args)?.as_deref(), Utc::now())?;
    let page = api::tasks::page(state, user, query).await?;
    let mut text = match page.items.len() {
        0 => "No tasks match.".to_owned(),
        n => format!("{n} task{}:", if n == 1 { "" } else { "s" }),
    };
    for task in &page.items {
        text.push_str(&format!("\n- {}", line(task)));
    }
    if page.next_cursor.is_some() {
        text.push_str("\nMore on the next page: pass next_cursor as cursor.");
    }
    Outcome::new(&page, text)
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
    args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let input: NewTask = from_json(Value::Object(args))?;
    Outcome::task(&api::tasks::create(state, user, input).await?, "Created")
}

pub async fn update_task(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let id = take_id(&mut args, "id", "task")?;
    let if_match = take_version(&mut args)?;
    let patch: TaskPatch = from_json(Value::Object(args))?;
    Outcome::task(&api::tasks::update(state, user, id, &if_match, patch).await?, "Changed")
}

pub async fn complete_task(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let id = take_id(&mut args, "id", "task")?;
    let if_match = take_version(&mut args)?;
    no_more(args)?;
    Outcome::task(&api::tasks::complete(state, user, id, &if_match).await?, "Completed")
}

pub async fn reopen_task(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let id = take_id(&mut args, "id", "task")?;
    let if_match = take_version(&mut args)?;
    no_more(args)?;
    Outcome::task(&api::tasks::reopen(state, user, id, &if_match).await?, "Reopened")
}

pub async fn delete_task(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let id = take_id(&mut args, "id", "task")?;
    let if_match = take_version(&mut args)?;
    no_more(args)?;
    api::tasks::delete(state, user, id, &if_match).await?;
    Outcome::new(&json!({"deleted": id}), format!("Deleted task {id} and its subtasks."))
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

pub async fn list_notifications(
    state: &AppState,
    user: &str,
    args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let (limit, unread) = api::inbox::parse_query(query(args)?.as_deref(), true)?;
    let items = state.store.list_notifications(user, unread, limit).await?;
    let mut text = match items.len() {
        0 => "No notifications.".to_owned(),
        n => format!("{n} notification{}:", if n == 1 { "" } else { "s" }),
    };
    for n in &items {
        let read = if n.read_at.is_some() { "read" } else { "unread" };
        text.push_str(&format!("\n- reminder for \"{}\" ({read}) id {}", n.title, n.id));
    }
    Outcome::new(&json!({"items": items}), text)
}

pub async fn mark_notification_read(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let id = take_id(&mut args, "id", "notification")?;
    no_more(args)?;
    let read = state.store.mark_notification_read(user, id, Utc::now()).await?;
    let read = read.ok_or(ApiError::NotFound("notification"))?;
    Outcome::new(&read, format!("Marked the reminder for \"{}\" read.", read.title))
}

pub async fn task_activity(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let id = take_id(&mut args, "id", "task")?;
    let (limit, _) = api::inbox::parse_query(query(args)?.as_deref(), false)?;
    let items = state.store.list_activity(user, Some(id), limit).await?;
    let mut text = match items.len() {
        0 => "No activity for this task.".to_owned(),
        n => format!("{n} entr{}:", if n == 1 { "y" } else { "ies" }),
    };
    for a in &items {
        text.push_str(&format!("\n- {} {}", a.occurred_at.to_rfc3339(), a.summary));
    }
    Outcome::new(&json!({"items": items}), text)
}

/// Refuses arguments a tool does not take, as a route refuses unknown fields.
fn no_more(args: Map<String, Value>) -> Result<(), ApiError> {
    let errors = args
        .keys()
        .map(|key| FieldError { field: key.clone(), message: "unknown argument".into() })
        .collect::<Vec<_>>();
    if errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::BadRequest {
        code: "invalid_arguments",
        message: "the arguments include some this tool does not take".into(),
        details: errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn arguments_become_the_routes_query_string() {
        let raw =
            query(args(json!({"q": "a b&c", "priority": ["high", "urgent"], "limit": 5, "overdue": true})))
                .expect("valid");
        let raw = raw.expect("some");
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert!(pairs.contains(&("q".into(), "a b&c".into())), "{pairs:?}");
        assert!(pairs.contains(&("priority".into(), "high".into())));
        assert!(pairs.contains(&("priority".into(), "urgent".into())));
        assert!(pairs.contains(&("limit".into(), "5".into())));
        assert!(pairs.contains(&("overdue".into(), "true".into())));
    }

    #[test]
    fn an_object_argument_is_refused_naming_it() {
        let err = query(args(json!({"q": {"nested": 1}}))).expect_err("refused");
        assert_eq!(err.code(), "invalid_query");
        assert_eq!(err.body().error.details[0].field, "q");
    }

    #[test]
    fn a_missing_or_malformed_id_is_refused_as_the_route_refuses_it() {
        assert_eq!(take_id(&mut Map::new(), "id", "task").expect_err("missing").code(), "invalid_arguments");
        let err = take_id(&mut args(json!({"id": "nope"})), "id", "task").expect_err("malformed");
        assert_eq!(err.to_string(), "task id 'nope' is not a UUID");
    }

    #[test]
    fn expected_version_is_if_match() {
        assert_eq!(
            take_version(&mut args(json!({"expected_version": 3}))).ok(),
            Some(IfMatch::Versions(vec![3]))
        );
        assert_eq!(take_version(&mut Map::new()).ok(), Some(IfMatch::Absent));
        assert!(take_version(&mut args(json!({"expected_version": "3"}))).is_err());
    }

    #[test]
    fn unknown_arguments_are_refused() {
        let err = no_more(args(json!({"titel": "x"}))).expect_err("refused");
        assert_eq!(err.body().error.details[0].field, "titel");
    }
}
