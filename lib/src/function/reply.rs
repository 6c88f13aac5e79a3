//! Answers in the caller's protocol (see the module above).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{HandleError, Handled};
use crate::error_body::ErrorBody;

pub(super) fn reply(
    via_dapr: bool,
    result: &Result<Handled, HandleError>,
    event_id: Option<&str>,
) -> Response {
    if via_dapr {
        let status = match result {
            Ok(_) => "SUCCESS",
            Err(HandleError::Transient(_)) => "RETRY",
            Err(HandleError::Permanent(_) | HandleError::Bug(_)) => "DROP",
        };
        return (StatusCode::OK, Json(json!({ "status": status }))).into_response();
    }
    match result {
        Ok(Handled::Done(summary)) => {
            (StatusCode::OK, Json(json!({ "status": "processed", "event_id": event_id, "result": summary })))
                .into_response()
        }
        Ok(Handled::Duplicate) => {
            (StatusCode::OK, Json(json!({ "status": "duplicate", "event_id": event_id }))).into_response()
        }
        Err(HandleError::Permanent(reason)) => error(StatusCode::BAD_REQUEST, "invalid_event", reason),
        Err(HandleError::Bug(_)) => {
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; the event was not handled")
        }
        Err(HandleError::Transient(_)) => {
            let mut response =
                error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "temporary failure; retry later");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static(crate::health::RETRY_AFTER_SECONDS));
            response
        }
    }
}

/// An error in the one shape every process answers with ([`ErrorBody`]).
pub fn error(status: StatusCode, code: &'static str, message: &str) -> Response {
    ErrorBody::new(code, message, Vec::new()).into_response(status)
}

/// The answer for any path a function does not serve.
pub fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "route_not_found", "events are accepted at POST /")
}

/// The answer for a method a route does not take (a `GET /`, say).
pub fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed here; events are accepted at POST /",
    )
}
