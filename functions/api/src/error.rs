//! The API's one error type and its one JSON shape:
//! `{"error": {"code": "...", "message": "...", "details": [{"field", "message"}]}}`.
//!
//! Client errors carry a clear, safe message and are not logged as errors; server
//! errors show a generic message to the client and log their cause once, here.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use todo_lib::access_tokens::Scope;
pub use todo_lib::error_body::ErrorBody;
use todo_lib::event::EventError;
use todo_lib::serve::BoxError;
use todo_lib::store::StoreError;
use todo_lib::task::{FieldError, ValidationErrors};
use todo_lib::telemetry::Chain;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No credentials: `WWW-Authenticate` without an error code (RFC 6750 §3.1).
    #[error("authentication required")]
    MissingToken,
    /// Credentials given but not acceptable.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The task (webhook, notification: the name given) does not exist or belongs
    /// to someone else; the two are one answer.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller is a member of the list, but their role does not allow
    /// this; the message says what it takes.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The caller's personal access token lacks the scope this takes (RFC 6750 §3.1).
    #[error("this personal access token lacks the {} scope", .0.as_str())]
    InsufficientScope(Scope),
    /// No such route.
    #[error("no route for this path")]
    RouteNotFound,
    #[error("method not allowed on this path")]
    MethodNotAllowed,
    /// Well-formed input that breaks the task rules.
    #[error("{0}")]
    Validation(ValidationErrors),
    /// Input that could not be read: bad JSON, bad query string, bad header.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String, details: Vec<FieldError> },
    #[error("request body too large")]
    PayloadTooLarge,
    /// The body did not arrive whole within `BODY_READ_TIMEOUT_SECS`.
    #[error("the request body did not arrive in time")]
    BodyTimedOut,
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// `If-Match` named another version of the task or list.
    #[error("it has changed since the version If-Match names (current version {current})")]
    PreconditionFailed { current: i64 },
    /// The request contradicts what is stored (deleting the Inbox, say); the
    /// code names the rule.
    #[error("{message}")]
    Refused { code: &'static str, message: &'static str },
    /// What the request names existed but is no longer usable (an invitation
    /// accepted or expired); the code says which.
    #[error("{message}")]
    Gone { code: &'static str, message: &'static str },
    /// The caller holds as much of a bounded resource as they may (live
    /// streams, say); `Retry-After` says when to try again.
    #[error("quota reached: {} ({}); {hint}", .quota.sentence(*.limit), .quota.variable())]
    QuotaExceeded { quota: todo_lib::quota::Quota, limit: i64, field: &'static str, hint: &'static str },
    #[error("{message}")]
    TooMany { code: &'static str, message: String, retry_after_secs: u64 },
    /// Writers kept colliding; the client may simply retry.
    #[error("the task is being changed concurrently; retry")]
    Conflict,
    /// A dependency (database, identity provider) is down; retry later.
    #[error("service temporarily unavailable")]
    Unavailable(#[source] BoxError),
    /// A bug or broken dependency; details go to the log only.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl ApiError {
    /// `value` when the query string had no problem, else 400 `invalid_query`
    /// naming each parameter in `errors`.
    pub fn unless_invalid_query<T>(value: T, errors: Vec<FieldError>) -> Result<T, Self> {
        if errors.is_empty() {
            return Ok(value);
        }
        Err(Self::BadRequest {
            code: "invalid_query",
            message: "the query string has invalid parameters".into(),
            details: errors,
        })
    }

    /// 422 `validation_failed` naming one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(ValidationErrors(vec![FieldError { field: field.into(), message: message.into() }]))
    }

    /// 422 `quota_exceeded`: `quota` of `quotas` is reached; `field` is what
    /// the refusal is shown beside, `hint` what the user can do.
    pub fn over_quota(
        quotas: &todo_lib::quota::Quotas,
        quota: todo_lib::quota::Quota,
        field: &'static str,
        hint: &'static str,
    ) -> Self {
        Self::QuotaExceeded { quota, limit: quotas.limit(quota), field, hint }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { code, message: message.into(), details: Vec::new() }
    }

    /// The HTTP status the REST API answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Validation(_) | Self::QuotaExceeded { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimedOut => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::Conflict | Self::Refused { .. } => StatusCode::CONFLICT,
            Self::Gone { .. } => StatusCode::GONE,
            Self::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable code of the body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken | Self::InvalidToken(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::NotFound(_) => "not_found",
            Self::RouteNotFound => "route_not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Validation(_) => "validation_failed",
            Self::QuotaExceeded { .. } => "quota_exceeded",
            Self::BadRequest { code, .. } => code,
            Self::PayloadTooLarge => "payload_too_large",
            Self::BodyTimedOut => "request_timeout",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PreconditionFailed { .. } => "precondition_failed",
            Self::Conflict => "conflict",
            Self::Refused { code, .. } | Self::Gone { code, .. } | Self::TooMany { code, .. } => code,
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// What the caller is told, in the one error shape, whatever the protocol
    /// (REST here, a tool error in the MCP server). A server error's cause is
    /// logged here, once, and never shown.
    pub fn body(&self) -> ErrorBody {
        let (message, details) = match self {
            Self::Validation(errors) => ("the request has invalid fields".to_owned(), errors.0.clone()),
            Self::BadRequest { message, details, .. } => (message.clone(), details.clone()),
            Self::QuotaExceeded { field, .. } => {
                let message = self.to_string();
                (message.clone(), vec![FieldError { field: (*field).into(), message }])
            }
            Self::InvalidToken(_) => ("the bearer token is not valid".to_owned(), Vec::new()),
            Self::Unavailable(cause) => {
                tracing::warn!(error = %Chain(&**cause), "answering 503");
                ("service temporarily unavailable; retry later".to_owned(), Vec::new())
            }
            Self::Internal(cause) => {
                tracing::error!(error = %Chain(&**cause), "answering 500");
                ("internal error".to_owned(), Vec::new())
            }
            other => (other.to_string(), Vec::new()),
        };
        if let Self::InvalidToken(reason) = self {
            // Why a token failed is useful to an operator, not to whoever sent it.
            tracing::debug!(%reason, "rejected token");
        }
        ErrorBody::new(self.code(), message, details)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.body().into_response(self.status());
        let challenge = match &self {
            Self::MissingToken => Some(r#"Bearer realm="todo""#.to_owned()),
            Self::InvalidToken(_) => Some(r#"Bearer realm="todo", error="invalid_token""#.to_owned()),
            Self::InsufficientScope(scope) => Some(format!(
                r#"Bearer realm="todo", error="insufficient_scope", scope="{}""#,
                scope.as_str()
            )),
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        if let Self::TooMany { retry_after_secs, .. } = &self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        if matches!(self, Self::Unavailable(_)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static(todo_lib::health::RETRY_AFTER_SECONDS));
        }
        response
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::VersionConflict => Self::Conflict,
            // The list was checked, then deleted before the task was written.
            StoreError::NoSuchList => Self::Validation(ValidationErrors(vec![FieldError {
                field: "list_id".into(),
                message: crate::lists::NO_SUCH_LIST.into(),
            }])),
            StoreError::ListNotEmpty => Self::Refused {
                code: "list_not_empty",
                message: "the list still holds tasks: move them to another list or delete them first",
            },
            err if err.is_transient() => Self::Unavailable(err.into()),
            err => Self::Internal(err.into()),
        }
    }
}

impl From<EventError> for ApiError {
    fn from(err: EventError) -> Self {
        Self::Internal(err.into())
    }
}
