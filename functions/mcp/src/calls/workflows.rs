//! Workflow tools: several use cases in one call, where that serves an
//! assistant better than one tool per route: the day at a glance, and many
//! tasks added at once (many changed at once: [`super::batch`]).

use api::AppState;
use api::error::ApiError;
use api::extract::{from_json, list_query};
use chrono::{DateTime, Days, NaiveTime, Utc};
use serde_json::{Map, Value, json};
use todo_lib::task::{FieldError, NewTask, Task, ValidationErrors};
use uuid::Uuid;

use super::{Outcome, invalid, line};

/// The most tasks one `add_tasks` call adds.
pub const BATCH_MAX: usize = 50;
/// The most tasks `today` shows in each part.
const TODAY_LIMIT: u32 = 50;

/// Refused arguments, named.
/// When the day that holds `now` ends in `zone`, as a UTC instant.
pub(crate) fn end_of_day(now: DateTime<Utc>, zone: chrono_tz::Tz) -> DateTime<Utc> {
    let local = now.with_timezone(&zone).date_naive();
    let next = local.checked_add_days(Days::new(1)).unwrap_or(local).and_time(NaiveTime::MIN);
    next.and_local_timezone(zone).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or(now)
}

/// Open tasks by due time within `[after, before)` (or overdue), soonest first.
async fn open_due(state: &AppState, user: &str, params: &str) -> Result<Vec<Task>, ApiError> {
    let raw = format!("status=open&sort=due&limit={TODAY_LIMIT}&{params}");
    Ok(api::tasks::page(state, user, list_query(Some(&raw), Utc::now())?).await?.items)
}

pub async fn today(state: &AppState, user: &str, mut args: Map<String, Value>) -> Result<Outcome, ApiError> {
    let zone = match args.remove("time_zone") {
        None | Some(Value::Null) => state.store.settings(user).await?.time_zone,
        Some(Value::String(name)) => {
            todo_lib::recurrence::parse_time_zone(&name).map_err(|e| invalid("time_zone", e.to_string()))?
        }
        Some(_) => return Err(invalid("time_zone", "must be an IANA time zone name such as Europe/Berlin")),
    };
    super::no_more(args)?;
    let now = Utc::now();
    let end = end_of_day(now, zone);
    let stamp = |t: DateTime<Utc>| {
        url::form_urlencoded::byte_serialize(t.to_rfc3339().as_bytes()).collect::<String>()
    };
    let overdue = open_due(state, user, "overdue=true").await?;
    let due_today =
        open_due(state, user, &format!("due_after={}&due_before={}", stamp(now), stamp(end))).await?;
    let unread = state.store.list_notifications(user, true, 200).await?.len();

    let mut text = format!(
        "{} overdue, {} due by the end of today ({}), {} unread reminder{}.",
        overdue.len(),
        due_today.len(),
        zone.name(),
        unread,
        if unread == 1 { "" } else { "s" }
    );
    for (heading, tasks) in [("Overdue", &overdue), ("Due today", &due_today)] {
        if !tasks.is_empty() {
            text.push_str(&format!("\n{heading}:"));
            for task in tasks.iter() {
                text.push_str(&format!("\n- {}", line(task)));
            }
        }
    }
    let structured = json!({
        "time_zone": zone.name(),
        "day_ends_at": end,
        "overdue": overdue,
        "due_today": due_today,
        "unread_notifications": unread,
    });
    Outcome::new(&structured, text)
}

pub async fn add_tasks(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let items = super::take_items(&mut args, "tasks", "tasks")?;
    super::no_more(args)?;
    // Every task is checked before any is written, so that bad input adds nothing.
    let now = Utc::now();
    let mut errors = Vec::new();
    let mut inputs = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let prefix = |field: &str| format!("tasks[{i}].{field}");
        match from_json::<NewTask>(item) {
            Ok(input) => {
                if input.parent_id.is_some() || input.assignee_id.is_some() {
                    let field = if input.parent_id.is_some() { "parent_id" } else { "assignee_id" };
                    let message = "add_tasks adds top-level, unassigned tasks: use create_task for this one";
                    errors.push(FieldError { field: prefix(field), message: message.into() });
                }
                let probe = input.clone();
                if let Some(list) = probe.list_id
                    && let Some(refusal) = api::lists::refusal_for_tasks(state, user, list).await?
                {
                    errors.push(FieldError { field: prefix(&refusal.field), message: refusal.message });
                }
                if let Err(ValidationErrors(fields)) = Task::create(user, Uuid::nil(), probe, now) {
                    errors.extend(
                        fields
                            .into_iter()
                            .map(|f| FieldError { field: prefix(&f.field), message: f.message }),
                    );
                }
                inputs.push(input);
            }
            Err(err) => {
                let body = err.body();
                let detail = body.error.details.into_iter().next();
                let field =
                    detail.as_ref().map(|d| prefix(&d.field)).unwrap_or_else(|| format!("tasks[{i}]"));
                errors.push(FieldError {
                    field,
                    message: detail.map(|d| d.message).unwrap_or(body.error.message),
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(ValidationErrors(errors).into());
    }
    let mut created = Vec::with_capacity(inputs.len());
    for input in inputs {
        created.push(api::tasks::create(state, user, input).await?.task);
    }
    let mut text = format!("Created {} task{}:", created.len(), if created.len() == 1 { "" } else { "s" });
    for task in &created {
        text.push_str(&format!("\n- {}", line(task)));
    }
    Outcome::new(&json!({"created": created}), text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_day_ends_at_local_midnight() {
        let now = Utc.with_ymd_and_hms(2026, 12, 5, 22, 30, 0).single().expect("valid");
        let berlin: chrono_tz::Tz = "Europe/Berlin".parse().expect("known");
        // 23:30 in Berlin: the day ends half an hour later, 23:00 UTC.
        assert_eq!(
            end_of_day(now, berlin),
            Utc.with_ymd_and_hms(2026, 12, 5, 23, 0, 0).single().expect("valid")
        );
        assert_eq!(
            end_of_day(now, chrono_tz::UTC),
            Utc.with_ymd_and_hms(2026, 12, 6, 0, 0, 0).single().expect("valid")
        );
    }
}
