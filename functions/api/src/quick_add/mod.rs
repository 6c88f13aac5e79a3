//! `POST /v1/quick-add`: one line of text read into the fields of a new task,
//! for the client to show before it saves them with `POST /v1/tasks`.
//! Nothing is stored; see [`parse`] for what it understands.

pub mod parse;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use todo_lib::task::NewTask;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;

/// The longest text read, in characters.
pub const TEXT_MAX: usize = 500;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(quick_add))
}

/// What to read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickAdd {
    /// "Pay rent tomorrow 9am #home !high every month"
    pub text: String,
    /// The IANA time zone dates and times are meant in; the one in the user's
    /// settings (`GET /v1/me/settings`) when absent.
    pub time_zone: Option<String>,
    /// When the text was written, if that was earlier than now (a line queued
    /// while offline and sent later): "tomorrow" and "in 2 hours" are read
    /// from then. Within the last 30 days.
    pub written_at: Option<DateTime<Utc>>,
}

/// How far back `written_at` may be.
const WRITTEN_WITHIN_DAYS: i64 = 30;

/// The body of `POST /v1/tasks` the text describes, and what was recognised.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuickAdded {
    pub task: QuickTask,
    pub recognized: Vec<Recognized>,
}

/// The fields read; absent fields were not in the text.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuickTask {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<String>,
    /// The list an `@name` named, among those the user may add tasks to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_id: Option<uuid::Uuid>,
    /// The zone a recurrence keeps its local time in: the one sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// A phrase of the text and the field it filled.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recognized {
    pub text: String,
    /// `due_at`, `tags`, `priority`, `recurrence` or `list_id`.
    pub field: &'static str,
}

/// Reads one line into a new task's fields, stored nowhere: the due time in
/// the user's zone ("tomorrow 9am", "friday 5pm", "dec 24", "in 2 hours"; a
/// date without a time is at 09:00), `#tags`, a priority (`!low`, `!medium`,
/// `!high`, `!urgent`, or `!4` to `!1`), a recurrence ("every day",
/// "every weekday", "every mon and thu", "every 2 weeks", "monthly", ...) and
/// a list by its name (`@household`, `@book-club` for "Book club": letters and
/// digits, any case), among those the user may add tasks to; an `@word`
/// naming none stays in the title. What is left is the title. Send the answer's `task` to `POST /v1/tasks`.
#[utoipa::path(
    post, path = "/v1/quick-add", tag = "tasks",
    request_body = QuickAdd,
    responses(
        (status = 200, description = "The fields read", body = QuickAdded),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 422, description = "Empty or too long text, an unknown time zone, or a result that is not a valid task", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn quick_add(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(input): JsonBody<QuickAdd>,
) -> Result<Json<QuickAdded>, ApiError> {
    read(&state, &user, &input, Utc::now()).await.map(|(read, _)| Json(read))
}

/// The use case behind `POST /v1/quick-add` (and the MCP server's
/// `quick_add`): `input` read for `user` at `now` (in their settings' time
/// zone unless it names one), with the new task it describes.
pub async fn read(
    state: &AppState,
    user: &str,
    input: &QuickAdd,
    now: DateTime<Utc>,
) -> Result<(QuickAdded, NewTask), ApiError> {
    let now = match input.written_at {
        None => now,
        // A client's clock a little ahead reads as now.
        Some(at)
            if at <= now + chrono::TimeDelta::minutes(5)
                && at >= now - chrono::TimeDelta::days(WRITTEN_WITHIN_DAYS) =>
        {
            at.min(now)
        }
        Some(_) => {
            let message =
                format!("must be within the last {WRITTEN_WITHIN_DAYS} days, and not later than now");
            return Err(ApiError::invalid("written_at", message));
        }
    };
    let text = input.text.trim();
    if text.is_empty() || text.chars().count() > TEXT_MAX {
        return Err(ApiError::invalid("text", format!("must be 1 to {TEXT_MAX} characters")));
    }
    let zone: chrono_tz::Tz = match input.time_zone.as_deref() {
        None => state.store.settings(user).await?.time_zone,
        Some(name) => {
            name.parse().map_err(|_| ApiError::invalid("time_zone", "is not an IANA time zone name"))?
        }
    };
    // The lists an `@name` may name: those the user may add tasks to.
    let lists: Vec<(uuid::Uuid, String)> = state
        .store
        .lists(user, false)
        .await?
        .into_iter()
        .filter(|list| list.role != todo_lib::members::Role::Viewer)
        .map(|list| (list.id, list.name))
        .collect();
    let read = parse::parse_in(text, now.with_timezone(&zone), &lists);
    let task = QuickTask {
        title: read.title,
        due_at: read.due_at,
        tags: read.tags,
        priority: read.priority,
        time_zone: read.recurrence.as_ref().map(|_| zone.name().to_owned()),
        recurrence: read.recurrence,
        list_id: read.list_id,
    };
    // What it read must be a task the API would take.
    let body = serde_json::to_value(&task).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let new: NewTask = crate::extract::from_json(body)?;
    todo_lib::task::Task::create("quick-add", uuid::Uuid::nil(), new.clone(), now)?;
    let recognized = read.recognized.into_iter().map(|(text, field)| Recognized { text, field }).collect();
    Ok((QuickAdded { task, recognized }, new))
}
