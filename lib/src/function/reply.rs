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
        return (StatusCode::OK, Json(json!({ "status": dapr_status(result) }))).into_response();
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
        Err(HandleError::Unprocessable(_)) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable_event",
            "the event names what cannot be stored (a list that is gone, say); it will not be retried",
        ),
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

/// Dapr's word for a verdict: `SUCCESS`, `RETRY` (transient) or `DROP`.
pub(super) fn dapr_status(result: &Result<Handled, HandleError>) -> &'static str {
    match result {
        Ok(_) => "SUCCESS",
        Err(HandleError::Transient(_)) => "RETRY",
        Err(HandleError::Permanent(_) | HandleError::Bug(_) | HandleError::Unprocessable(_)) => "DROP",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    async fn dapr_status(result: Result<Handled, HandleError>) -> String {
        let response = reply(true, &result, Some("e1"));
        let body = axum::body::to_bytes(response.into_body(), 1024).await.expect("body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
        body["status"].as_str().expect("status").to_owned()
    }

    #[tokio::test]
    async fn a_store_error_that_cannot_pass_on_retry_is_dropped_not_retried_for_ever() {
        for permanent in [StoreError::NoSuchList, StoreError::Corrupt("priority 'x'".into())] {
            assert_eq!(dapr_status(Err(permanent.into())).await, "DROP");
        }
        let lost = StoreError::Unavailable(sqlx::Error::PoolTimedOut);
        assert_eq!(dapr_status(Err(lost.into())).await, "RETRY");
        assert_eq!(dapr_status(Err(StoreError::VersionConflict.into())).await, "RETRY");
    }

    #[tokio::test]
    async fn outside_dapr_an_unprocessable_event_is_a_422_that_says_it_will_not_be_retried() {
        let response = reply(false, &Err(StoreError::NoSuchList.into()), Some("e1"));
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
