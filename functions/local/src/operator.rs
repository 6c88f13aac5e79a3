//! Operator routes of the local host: which functions run where, the events the
//! system wrote (for `scripts/invoke --last` to redeliver one), the events
//! the bus gave up on, and the mail queue (kept rather than sent when
//! `SMTP_URL` is unset, so `make dev` needs no mail server). Guarded like the function routes (`APP_API_TOKEN`).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use secrecy::SecretString;
use serde_json::json;
use todo_lib::store::Store;

use todo_lib::function::error;

/// Items per page of a listing by default, and at most.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

pub(crate) fn routes(store: Store, token: Option<SecretString>) -> Router {
    let routes = Router::new()
        .route("/functions", get(index))
        .route("/functions/events", get(events))
        .route("/functions/dead-letters", get(dead_letters))
        .route("/functions/outbox-mail", get(outbox_mail))
        .with_state(store);
    todo_lib::function::protect(routes, token)
}

async fn index() -> Json<serde_json::Value> {
    let functions: Vec<_> = crate::facts::functions()
        .into_iter()
        .filter_map(|f| {
            f.path().map(|path| json!({ "name": f.name, "path": format!("{path}/"), "topics": f.topics }))
        })
        .collect();
    Json(json!({
        "functions": functions,
        "events": "/functions/events",
        "dead_letters": "/functions/dead-letters",
        "outbox_mail": "/functions/outbox-mail",
    }))
}

/// The events the outbox holds, newest first: those a function consumes with
/// `function=<name>`, else all; each as the CloudEvent that was published.
async fn events(State(store): State<Store>, Query(params): Query<HashMap<String, String>>) -> Response {
    let limit = match parse_limit(&params, &["limit", "function"]) {
        Ok(limit) => limit,
        Err(message) => return error(StatusCode::BAD_REQUEST, "invalid_query", &message),
    };
    let topics: Vec<Option<&str>> = match params.get("function") {
        None => vec![None],
        Some(name) => match crate::facts::functions().into_iter().find(|f| f.name == name.as_str()) {
            Some(function) if !function.topics.is_empty() => function.topics.into_iter().map(Some).collect(),
            _ => {
                let consumers: Vec<&str> = crate::facts::functions()
                    .into_iter()
                    .filter(|f| !f.topics.is_empty())
                    .map(|f| f.name)
                    .collect();
                let message = format!("function must be one of {} (got '{name}')", consumers.join(", "));
                return error(StatusCode::BAD_REQUEST, "invalid_query", &message);
            }
        },
    };
    let mut found = Vec::new();
    for topic in topics {
        match store.recent_events(topic, limit).await {
            Ok(events) => found.extend(events),
            Err(err) => {
                tracing::warn!(error = %todo_lib::telemetry::Chain(&err), "listing events failed");
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "temporary failure; retry later",
                );
            }
        }
    }
    found.sort_by_key(|e| std::cmp::Reverse((e.created_at, e.id)));
    let events: Vec<serde_json::Value> =
        found.into_iter().take(usize::try_from(limit).unwrap_or(0)).map(|e| e.payload).collect();
    Json(json!({ "events": events })).into_response()
}

async fn dead_letters(State(store): State<Store>, Query(params): Query<HashMap<String, String>>) -> Response {
    let limit = match parse_limit(&params, &["limit"]) {
        Ok(limit) => limit,
        Err(message) => return error(StatusCode::BAD_REQUEST, "invalid_query", &message),
    };
    match store.list_dead_letters(limit).await {
        Ok(letters) => Json(json!({ "dead_letters": letters })).into_response(),
        Err(err) => {
            tracing::warn!(error = %todo_lib::telemetry::Chain(&err), "listing dead letters failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "temporary failure; retry later")
        }
    }
}

/// The mails queued, newest first, with their text, HTML and links, and what
/// became of each (`delivered` is kept, without `SMTP_URL`).
async fn outbox_mail(State(store): State<Store>, Query(params): Query<HashMap<String, String>>) -> Response {
    let limit = match parse_limit(&params, &["limit"]) {
        Ok(limit) => limit,
        Err(message) => return error(StatusCode::BAD_REQUEST, "invalid_query", &message),
    };
    match store.recent_mail(limit).await {
        Ok(mails) => Json(json!({ "mails": mails })).into_response(),
        Err(err) => {
            tracing::warn!(error = %todo_lib::telemetry::Chain(&err), "listing mail failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "temporary failure; retry later")
        }
    }
}

/// `limit` from `params`, which may hold only the parameters `known`.
fn parse_limit(params: &HashMap<String, String>, known: &[&str]) -> Result<i64, String> {
    if let Some(unknown) = params.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(format!("unknown query parameter '{unknown}' (accepted: {})", known.join(", ")));
    }
    match params.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(raw) => match raw.parse::<i64>() {
            Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
            _ => Err(format!("limit must be a whole number from 1 to {MAX_LIMIT} (got '{raw}')")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_limit_defaults_and_is_bounded() {
        assert_eq!(parse_limit(&params(&[]), &["limit"]), Ok(DEFAULT_LIMIT));
        assert_eq!(parse_limit(&params(&[("limit", "500")]), &["limit"]), Ok(500));
        for bad in ["0", "501", "-1", "ten", ""] {
            let err = parse_limit(&params(&[("limit", bad)]), &["limit"]).expect_err(bad);
            assert!(err.contains("from 1 to 500"), "{err}");
        }
    }

    #[test]
    fn unknown_parameters_are_named() {
        let err = parse_limit(&params(&[("lmit", "5")]), &["limit", "function"]).expect_err("refused");
        assert!(err.contains("'lmit'") && err.contains("limit, function"), "{err}");
    }
}
