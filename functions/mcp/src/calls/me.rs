//! Who the user is: their id, time zone and notification settings.

use api::AppState;
use api::error::ApiError;
use chrono::Utc;
use serde_json::{Map, Value, json};

use super::{Outcome, no_more};

pub async fn user_info(state: &AppState, user: &str, args: Map<String, Value>) -> Result<Outcome, ApiError> {
    no_more(args)?;
    let settings = state.store.settings(user).await?;
    let zone = settings.time_zone;
    let local_time = Utc::now().with_timezone(&zone).to_rfc3339();
    let reminders = settings.channels.reminders;
    let channels: Vec<&str> = [
        (reminders.in_app, "the app"),
        (reminders.email && settings.email_verified, "e-mail"),
        (reminders.push, "push"),
        (reminders.webhooks, "webhooks"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    let text = format!(
        "User {user}, time zone {} (now {local_time}). Reminders go to {}.",
        zone.name(),
        if channels.is_empty() { "nowhere".to_owned() } else { channels.join(", ") }
    );
    let value =
        json!({"user_id": user, "time_zone": zone.name(), "local_time": local_time, "settings": settings});
    Outcome::new(&value, text)
}
