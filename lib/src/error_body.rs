//! The one error shape every process answers with, the API and the functions
//! alike: `{"error": {"code": "...", "message": "...", "details": [{"field", "message"}]}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::task::FieldError;

/// The error body, as documented in the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `validation_failed`, `invalid_json`, `not_found`, …
    pub code: &'static str,
    /// For people; may change between versions.
    pub message: String,
    /// Field-level problems, when there are any.
    pub details: Vec<FieldError>,
}

impl ErrorBody {
    pub fn new(code: &'static str, message: impl Into<String>, details: Vec<FieldError>) -> Self {
        Self { error: ErrorDetail { code, message: message.into(), details } }
    }

    /// The body as a JSON response with `status`.
    pub fn into_response(self, status: StatusCode) -> Response {
        (status, Json(self)).into_response()
    }
}
