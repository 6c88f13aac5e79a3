//! What each tool runs: its arguments read as its REST route reads its body,
//! path and query (the same rules, the same messages), then the API's use case.

//!
//! One file per family: [`tasks`], [`inbox`] (notifications, activity),
//! [`lists`] (lists and members), [`me`] (the user's settings) and [`workflows`] (several use cases in one
//! call, for assistants), [`batch`] (many tasks changed at once), [`overview`] (everything at a glance, in Markdown) and [`connectors`]
//! (`search` and `fetch`, as ChatGPT's connectors call them); [`dates`] reads the dates of all
//! of them as people say them.

mod batch;
mod connectors;
pub mod dates;
mod inbox;
mod lists;
mod me;
mod overview;
mod tasks;
mod workflows;

pub use batch::{RESCHEDULE_DATES, complete_tasks, reschedule_tasks, update_tasks};
pub use connectors::{fetch, search};
pub use inbox::{list_activity, list_notifications, mark_notification_read, task_activity, user_activity};
pub use lists::{
    add_member, change_member_role, create_invitation, create_list, delete_list, list_lists, list_members,
    remove_member, revoke_invitation, update_list,
};
pub use me::user_info;
pub use overview::overview;
pub use tasks::{
    COMPLETED_DATES, LIST_DATES, SNOOZE_DATES, TASK_DATES, complete_task, create_task, delete_task,
    find_completed_tasks, get_task, list_tags, list_tasks, move_task, quick_add, reopen_task, snooze_task,
    update_task,
};
pub use workflows::{BATCH_MAX, add_tasks, today};

use api::error::ApiError;
use api::extract::{IfMatch, path_id};
use serde::Serialize;
use serde_json::{Map, Value};
use todo_lib::task::{FieldError, Task};
use uuid::Uuid;

/// A tool's result: structured content, and a short text for people and for
/// clients that read text only.
#[derive(Debug)]
pub struct Outcome {
    pub structured: Value,
    pub text: String,
}

impl Outcome {
    pub(crate) fn new(value: &impl Serialize, text: String) -> Result<Self, ApiError> {
        let structured = serde_json::to_value(value).map_err(|e| ApiError::Internal(e.into()))?;
        Ok(Self { structured, text })
    }

    pub(crate) fn task(task: &Task, verb: &str) -> Result<Self, ApiError> {
        Self::new(task, format!("{verb} {}", line(task)))
    }
}

/// One task in a line: what an assistant reads back to the user.
pub(crate) fn line(task: &Task) -> String {
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
pub(crate) fn take_id(args: &mut Map<String, Value>, name: &str, what: &str) -> Result<Uuid, ApiError> {
    match args.remove(name) {
        Some(Value::String(raw)) => path_id(&raw, what),
        Some(other) => path_id(&other.to_string(), what),
        None => Err(invalid_arguments(format!("`{name}` is required"), vec![field(name, "is required")])),
    }
}

/// The string argument `name`, required.
pub(crate) fn take_text(args: &mut Map<String, Value>, name: &str) -> Result<String, ApiError> {
    match args.remove(name) {
        Some(Value::String(text)) => Ok(text),
        _ => Err(invalid_arguments(
            format!("`{name}` is required: a string"),
            vec![field(name, "is required: a string")],
        )),
    }
}

/// 400 `invalid_arguments` naming the one argument `name` at fault.
pub(crate) fn invalid(name: &str, message: impl Into<String>) -> ApiError {
    invalid_arguments("the arguments are not valid for this tool", vec![field(name, message)])
}

/// The list argument `name` of a batch tool: 1 to [`BATCH_MAX`] items, each
/// what `what` says.
pub(crate) fn take_items(
    args: &mut Map<String, Value>,
    name: &str,
    what: &str,
) -> Result<Vec<Value>, ApiError> {
    match args.remove(name) {
        Some(Value::Array(items)) if (1..=BATCH_MAX).contains(&items.len()) => Ok(items),
        _ => Err(invalid(name, format!("is required: a list of 1 to {BATCH_MAX} {what}"))),
    }
}

/// 400 `invalid_arguments`: the tool's arguments do not fit it, `details` say where.
pub(crate) fn invalid_arguments(message: impl Into<String>, details: Vec<FieldError>) -> ApiError {
    ApiError::BadRequest { code: "invalid_arguments", message: message.into(), details }
}

/// One field's problem.
pub(crate) fn field(name: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: name.into(), message: message.into() }
}

/// `expected_version`, the tools' `If-Match`.
pub(crate) fn take_version(args: &mut Map<String, Value>) -> Result<IfMatch, ApiError> {
    match args.remove("expected_version") {
        None | Some(Value::Null) => Ok(IfMatch::Absent),
        Some(Value::Number(n)) if n.as_i64().is_some() => {
            Ok(IfMatch::Versions(n.as_i64().into_iter().collect()))
        }
        Some(_) => Err(invalid_arguments(
            "`expected_version` must be a whole number: the task's `version`",
            vec![field("expected_version", "must be a whole number")],
        )),
    }
}

/// The arguments as the query string of the tool's route, so that the route's
/// own parser reads them: strings, numbers and booleans as they are, an array
/// as a repeated parameter.
pub(crate) fn query(args: Map<String, Value>) -> Result<Option<String>, ApiError> {
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

/// Refuses arguments a tool does not take, as a route refuses unknown fields.
pub(crate) fn no_more(args: Map<String, Value>) -> Result<(), ApiError> {
    let errors = args
        .keys()
        .map(|key| FieldError { field: key.clone(), message: "unknown argument".into() })
        .collect::<Vec<_>>();
    if errors.is_empty() {
        return Ok(());
    }
    Err(invalid_arguments("the arguments include some this tool does not take", errors))
}

/// What an assistant reads when a tool refuses: the reason in the tool's
/// terms, each argument at fault on a line of its own, and the error's code
/// in brackets at the end of the first line (`[not_found]`), which programs
/// may match on.
pub fn refusal_text(err: &ApiError, body: &todo_lib::error_body::ErrorBody) -> String {
    let reason = match err {
        ApiError::PreconditionFailed { current } => format!(
            "the task has changed since the version given as expected_version: it is now at version {current}; \
             read it again (get_task) and decide"
        ),
        ApiError::BadRequest { code: "invalid_query", .. } => {
            "the arguments are not valid for this tool".to_owned()
        }
        // With no argument to name (one missing, say), serde's reason says which.
        ApiError::BadRequest { code: "invalid_json", message, details } if details.is_empty() => {
            let why = message.split_once(": ").map_or("", |(_, why)| why);
            format!("the arguments do not fit this tool's input schema: {why}")
                .trim_end_matches(": ")
                .to_owned()
        }
        ApiError::BadRequest { code: "invalid_json", .. } => {
            "the arguments do not fit this tool's input schema".to_owned()
        }
        ApiError::Validation(_) => "some arguments are not valid".to_owned(),
        ApiError::InsufficientScope(scope) => format!(
            "the access token this assistant uses lacks the {} scope: the user can make one that has it",
            scope.as_str()
        ),
        _ => body.error.message.clone(),
    };
    // The REST API's codes for an unreadable body or query are one thing here.
    let code = match body.error.code {
        "invalid_json" | "invalid_query" => "invalid_arguments",
        other => other,
    };
    let mut text = format!("{reason} [{code}]");
    for detail in &body.error.details {
        text.push_str(&format!("\n- {}: {}", detail.field, detail.message));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
