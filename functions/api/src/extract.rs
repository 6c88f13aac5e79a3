//! Extractors whose rejections speak the API's error shape: a JSON body with
//! field-level errors, a task id, `If-Match`, and the list query string; and the
//! versioned answer (`ETag`, `Location`) that goes with `If-Match`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{CONTENT_TYPE, ETAG, IF_MATCH, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use todo_lib::store::{Cursor, CursorError, ListQuery, Order, ParentFilter, SortKey, StatusFilter};
use todo_lib::task::{FieldError, Priority};
use uuid::Uuid;

use crate::error::ApiError;

/// A JSON body: 415 without a JSON content type, 413 when too large, 400 with the
/// offending field's path when it does not parse (unknown fields included).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else if todo_lib::serve::BodyTimedOut::caused(&rejection) {
                ApiError::BodyTimedOut
            } else {
                ApiError::bad_request("invalid_body", rejection.body_text())
            }
        })?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de).map(Self).map_err(invalid_json)
    }
}

/// `value` read as the input `T` of a use case, refused exactly as a JSON body
/// would be: for callers whose input arrives as JSON already (the MCP server's
/// tool arguments).
pub fn from_json<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(invalid_json)
}

/// 400 `invalid_json`, naming the offending field when there is one.
fn invalid_json<E: std::fmt::Display>(err: serde_path_to_error::Error<E>) -> ApiError {
    let field = err.path().to_string();
    let inner = err.into_inner();
    let message = format!("the body is not valid JSON for this request: {inner}");
    let details = if field == "." || field.is_empty() {
        Vec::new()
    } else {
        vec![FieldError { field, message: inner.to_string() }]
    };
    ApiError::BadRequest { code: "invalid_json", message, details }
}

/// The `{id}` of a route naming `what` (a list, a webhook), which must be a UUID.
pub fn path_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::bad_request("invalid_path", format!("{what} id '{raw}' is not a UUID")))
}

/// The `{id}` of a task route, which must be a UUID.
#[derive(Debug, Clone, Copy)]
pub struct TaskId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for TaskId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_path", e.body_text()))?;
        raw.parse()
            .map(Self)
            .map_err(|_| ApiError::bad_request("invalid_path", format!("task id '{raw}' is not a UUID")))
    }
}

/// The `If-Match` precondition: the version the client last saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No header: last writer wins.
    Absent,
    /// `*`: the task (or list) must exist.
    Any,
    /// One or more entity tags; strong comparison.
    Versions(Vec<i64>),
}

impl IfMatch {
    /// 412 unless `current` satisfies the precondition.
    pub fn check(&self, current: i64) -> Result<(), ApiError> {
        match self {
            Self::Versions(versions) if !versions.contains(&current) => {
                Err(ApiError::PreconditionFailed { current })
            }
            _ => Ok(()),
        }
    }

    pub fn is_absent(&self) -> bool {
        *self == Self::Absent
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(IF_MATCH) else {
            return Ok(Self::Absent);
        };
        let bad = || {
            ApiError::bad_request(
                "invalid_header",
                r#"If-Match must be "*" or entity tags such as "3" (from the ETag header)"#,
            )
        };
        let value = value.to_str().map_err(|_| bad())?.trim();
        if value == "*" {
            return Ok(Self::Any);
        }
        let mut versions = Vec::new();
        for tag in value.split(',').map(str::trim) {
            // Weak tags never match under If-Match's strong comparison.
            if tag.starts_with("W/") {
                continue;
            }
            let inner = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')).ok_or_else(bad)?;
            let version: i64 = inner.parse().map_err(|_| bad())?;
            // Entity tags compare as strings: "01" or "+1" is not the tag "1" of
            // version 1, so it matches no version (412), as any other tag would.
            if inner == version.to_string() {
                versions.push(version);
            }
        }
        Ok(Self::Versions(versions))
    }
}

/// `body` answered with `status`, the `ETag` of `version` and, for a created
/// resource, its `Location`: how tasks and lists answer alike.
pub fn versioned(
    status: StatusCode,
    body: &impl Serialize,
    version: i64,
    location: Option<&str>,
) -> Response {
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        headers.insert(ETAG, value);
    }
    if let Some(value) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        headers.insert(LOCATION, value);
    }
    response
}

/// The strong entity tag of a version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The query string's pairs, percent-decoded (`+` is a space). A key or value
/// that is not UTF-8 once decoded, or that holds a control character (NUL
/// included), is refused naming it: it could only be garbage or an attack, and
/// replacing it with U+FFFD would search for something nobody asked for.
pub fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs = Vec::new();
    let mut errors = Vec::new();
    for part in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let Some(key) = decode_component(key) else {
            errors.push(FieldError {
                field: "query".into(),
                message: "a parameter name is not UTF-8 text once percent-decoded".into(),
            });
            continue;
        };
        match decode_component(value) {
            Some(value) => pairs.push((key, value)),
            None => errors.push(FieldError {
                field: key,
                message: "must be UTF-8 text without control characters once percent-decoded".into(),
            }),
        }
    }
    ApiError::unless_invalid_query(pairs, errors)
}

fn decode_component(text: &str) -> Option<String> {
    let spaced = text.replace('+', " ");
    let decoded = percent_encoding::percent_decode_str(&spaced).decode_utf8().ok()?;
    (!decoded.chars().any(char::is_control)).then(|| decoded.into_owned())
}

/// Parses the list endpoint's query string. Lists (`priority`, `tag`) may be given
/// comma-separated, repeated, or both; unknown parameters are refused so that a
/// typo is not silently ignored.
pub fn list_query(raw: Option<&str>, now: DateTime<Utc>) -> Result<ListQuery, ApiError> {
    let mut query = ListQuery::new(now);
    let mut errors: Vec<FieldError> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut order = None;
    let mut cursor = None;
    let mut err = |field: &str, message: String| errors.push(FieldError { field: field.to_owned(), message });

    for (key, value) in query_pairs(raw)? {
        let repeatable = matches!(key.as_ref(), "priority" | "tag");
        if !repeatable && seen.contains(&key) {
            err(&key, "given more than once".into());
            continue;
        }
        seen.push(key.to_string());
        let value = value.trim();
        match key.as_ref() {
            "status" => match value {
                "open" => query.status = StatusFilter::Open,
                "done" => query.status = StatusFilter::Done,
                "all" => query.status = StatusFilter::All,
                _ => err("status", "must be open, done or all".into()),
            },
            "priority" => {
                for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    match Priority::parse(&name.to_ascii_lowercase()) {
                        Some(p) if !query.priorities.contains(&p) => query.priorities.push(p),
                        Some(_) => {}
                        None => err("priority", format!("'{name}' is not one of low, medium, high, urgent")),
                    }
                }
            }
            "tag" => {
                for tag in value.split(',').map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()) {
                    if !query.tags.contains(&tag) {
                        query.tags.push(tag);
                    }
                }
                if query.tags.len() > todo_lib::task::TAGS_MAX {
                    err("tag", format!("at most {} tags", todo_lib::task::TAGS_MAX));
                }
            }
            "q" => match value.chars().count() {
                0 => {}
                1..=200 => query.text = Some(value.to_owned()),
                _ => err("q", "must be at most 200 characters".into()),
            },
            "due_before" | "due_after" | "completed_before" | "completed_after" => {
                match DateTime::parse_from_rfc3339(value) {
                    Ok(t) => {
                        let t = Some(t.with_timezone(&Utc));
                        match key.as_ref() {
                            "due_before" => query.due_before = t,
                            "due_after" => query.due_after = t,
                            "completed_before" => query.completed_before = t,
                            _ => query.completed_after = t,
                        }
                    }
                    Err(_) => err(&key, "must be an RFC 3339 time such as 2026-01-31T09:00:00Z".into()),
                }
            }
            "overdue" => match value {
                "true" => query.overdue = Some(true),
                "false" => query.overdue = Some(false),
                _ => err("overdue", "must be true or false".into()),
            },
            "sort" => match value {
                "due" => query.sort = SortKey::Due,
                "priority" => query.sort = SortKey::Priority,
                "created" => query.sort = SortKey::Created,
                "updated" => query.sort = SortKey::Updated,
                "title" => query.sort = SortKey::Title,
                "completed" => query.sort = SortKey::Completed,
                "manual" => query.sort = SortKey::Manual,
                _ => {
                    err("sort", "must be due, priority, created, updated, title, completed or manual".into())
                }
            },
            "order" => match value {
                "asc" => order = Some(Order::Asc),
                "desc" => order = Some(Order::Desc),
                _ => err("order", "must be asc or desc".into()),
            },
            "limit" => match value.parse::<u32>() {
                Ok(n) if (1..=todo_lib::store::LIMIT_MAX).contains(&n) => query.limit = n,
                _ => err("limit", format!("must be a whole number from 1 to {}", todo_lib::store::LIMIT_MAX)),
            },
            "list" => match uuid::Uuid::parse_str(value) {
                Ok(id) => query.list = Some(id),
                Err(_) => err("list", "must be a list id (a UUID)".into()),
            },
            "assignee" => match value {
                "" => err("assignee", "must be a user id, or me".into()),
                _ => query.assignee = Some(value.to_owned()),
            },
            "parent" => match value {
                "none" => query.parent = Some(ParentFilter::TopLevel),
                _ => match uuid::Uuid::parse_str(value) {
                    Ok(id) => query.parent = Some(ParentFilter::Of(id)),
                    Err(_) => err("parent", "must be a task id (a UUID), or none for top-level tasks".into()),
                },
            },
            "cursor" => cursor = Some(value.to_owned()),
            other => err(other, "unknown parameter".into()),
        }
    }
    query.order = order.unwrap_or(query.sort.default_order());
    if query.sort == SortKey::Completed && (query.status == StatusFilter::Open || query.overdue == Some(true))
    {
        err("sort", "completed orders done tasks, and open ones have no completion time: sort open tasks by another key".into());
    }
    if let Some(text) = cursor {
        match Cursor::decode(&text, query.sort, query.order) {
            Ok(c) => query.after = Some(c),
            Err(e @ (CursorError::Malformed | CursorError::WrongSort)) => err("cursor", e.to_string()),
        }
    }
    ApiError::unless_invalid_query(query, errors)
}
