//! Answers in the caller's protocol (see the module above).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{HandleError, Handled};

pub(super) fn reply(
    via_dapr: bool,
    result: &Result<Handled, HandleError>,
    event_id: Option<&str>,
) -> Response {
    if via_dapr {
        let status = match result {
            Ok(_) => "SUCCESS",
            Err(HandleError::Transient(_)) => "RETRY",
            Err(HandleError::Permanent(_)) => "DROP",
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
        Err(HandleError::Permanent(reason)) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": { "code": "invalid_event", "message": reason, "details": [] } })),
        )
            .into_response(),
        Err(HandleError::Transient(_)) => {
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": { "code": "unavailable", "message": "temporary failure; retry later", "details": [] } })),
            )
                .into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
    }
}

/// The answer for any path a function does not serve.
pub fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": { "code": "route_not_found", "message": "events are accepted at POST /", "details": [] } })),
    )
        .into_response()
}

/// The answer for a method a route does not take (a `GET /`, say).
pub fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({ "error": { "code": "method_not_allowed", "message": "method not allowed here; events are accepted at POST /", "details": [] } })),
    )
        .into_response()
}
