//! What the functions produced for the user: notifications and activity.

use api::AppState;
use api::error::ApiError;
use chrono::Utc;
use serde_json::{Map, Value, json};

use super::{Outcome, no_more, query, take_id};

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
    activity(items, "this task")
}

/// What happened in one list the user is a member of, newest first.
pub async fn list_activity(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let id = take_id(&mut args, "list_id", "list")?;
    let (limit, _) = api::inbox::parse_query(query(args)?.as_deref(), false)?;
    let list = api::lists::visible(state, user, &id.to_string()).await?;
    let items = state.store.list_activity_in(user, list.id, limit).await?;
    activity(items, "this list")
}

/// What happened in all the user's lists, newest first.
pub async fn user_activity(
    state: &AppState,
    user: &str,
    args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let (limit, _) = api::inbox::parse_query(query(args)?.as_deref(), false)?;
    let items = state.store.list_activity(user, None, limit).await?;
    activity(items, "the user's lists")
}

/// Activity entries, each on a line.
fn activity(items: Vec<todo_lib::activity::Activity>, of: &str) -> Result<Outcome, ApiError> {
    let mut text = match items.len() {
        0 => format!("No activity in {of}."),
        n => format!("{n} entr{} in {of}:", if n == 1 { "y" } else { "ies" }),
    };
    for a in &items {
        text.push_str(&format!("\n- {} {}", a.occurred_at.to_rfc3339(), a.summary));
    }
    Outcome::new(&json!({"items": items}), text)
}
