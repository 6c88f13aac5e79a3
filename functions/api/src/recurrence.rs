//! `GET /v1/recurrence/preview`: the due times a rule gives from a first due
//! time, so that a client can show them before the task is saved. The rule
//! is read and checked exactly as a task's `recurrence` is.

use axum::Json;
use axum::extract::RawQuery;
use chrono::{DateTime, Utc};
use serde::Serialize;
use todo_lib::recurrence::Recurrence;
use todo_lib::task::FieldError;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};

pub const COUNT_DEFAULT: usize = 5;
pub const COUNT_MAX: usize = 20;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(preview))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Occurrences {
    /// The first `count` due times of the series, `start` first; fewer when
    /// the rule ends sooner.
    pub occurrences: Vec<DateTime<Utc>>,
}

/// The first due times of `rule` (an RFC 5545 RRULE, as a task's
/// `recurrence`) starting at `start` (the task's `due_at`) in `time_zone`.
#[utoipa::path(
    get, path = "/v1/recurrence/preview", tag = "tasks",
    params(
        ("rule" = String, Query, description = "An RFC 5545 RRULE, such as FREQ=WEEKLY;BYDAY=MO,TH"),
        ("start" = DateTime<Utc>, Query, description = "The first due time (RFC 3339)"),
        ("time_zone" = Option<String>, Query, description = "IANA zone the series keeps its local time in (UTC when absent)"),
        ("count" = Option<usize>, Query, description = "1 to 20 (default 5)"),
    ),
    responses(
        (status = 200, description = "The first due times", body = Occurrences),
        (status = 400, description = "Missing or invalid query parameters", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 422, description = "The rule or the time zone is not valid", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn preview(
    AuthUser(_user): AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<Occurrences>, ApiError> {
    let (mut rule, mut start, mut zone, mut count) = (None, None, None, COUNT_DEFAULT);
    let mut errors = Vec::new();
    let bad = |field: &str, message: String| FieldError { field: field.into(), message };
    for (key, value) in crate::extract::query_pairs(raw.as_deref())? {
        match key.as_str() {
            "rule" => rule = Some(value),
            "start" => match DateTime::parse_from_rfc3339(&value) {
                Ok(at) => start = Some(at.with_timezone(&Utc)),
                Err(_) => errors.push(bad("start", "must be an RFC 3339 time".into())),
            },
            "time_zone" => zone = Some(value),
            "count" => match value.parse::<usize>() {
                Ok(n) if (1..=COUNT_MAX).contains(&n) => count = n,
                _ => errors.push(bad("count", format!("must be a whole number from 1 to {COUNT_MAX}"))),
            },
            other => errors.push(bad(other, "unknown parameter".into())),
        }
    }
    for (field, given) in [("rule", rule.is_some()), ("start", start.is_some())] {
        if !given && !errors.iter().any(|e| e.field == field) {
            errors.push(bad(field, "is required".into()));
        }
    }
    ApiError::unless_invalid_query((), errors)?;
    let (rule, start) = (rule.unwrap_or_default(), start.unwrap_or_default());
    let series = Recurrence::new(&rule, start, zone.as_deref()).map_err(|err| {
        let field = if err.to_string().contains("time zone") { "time_zone" } else { "rule" };
        ApiError::invalid(field, err.to_string())
    })?;
    let mut occurrences = vec![start];
    while occurrences.len() < count {
        let Some(next) = occurrences.last().and_then(|last| series.next_after(*last)) else { break };
        occurrences.push(next);
    }
    Ok(Json(Occurrences { occurrences }))
}
