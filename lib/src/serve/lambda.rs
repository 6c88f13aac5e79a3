//! Under AWS Lambda one binary answers every invocation it can be wired to:
//!
//! - an HTTP request (a function URL, API Gateway, an ALB), answered by the
//!   router as over TCP (`lambda_http`);
//! - a batch from an event source mapping of Amazon MSK or self-managed Kafka
//!   (`eventSource` `aws:kafka` or `SelfManagedKafka`: records grouped by
//!   `topic-partition`, each `value` base64 of one of our CloudEvents, as Dapr
//!   and the relay publish them);
//! - a batch from an SQS event source mapping (`Records`, `eventSource`
//!   `aws:sqs`, each `body` one of our CloudEvents in JSON).
//!
//! A batch goes to the router's `POST /` as Dapr's bulk subscribe request, so
//! it takes the one path every delivery takes (`crate::function`), and is
//! answered with what Lambda should deliver again: `{"batchItemFailures":
//! [{"itemIdentifier": …}]}` (the mapping needs `ReportBatchItemFailures`),
//! the SQS `messageId`, or for Kafka `{"partition": "<topic>-<partition>",
//! "offset": n}`. An entry answered `RETRY` (or left unanswered) is a failure;
//! `SUCCESS` and `DROP` are not (a dropped event is logged and counted as
//! `todo_events_total{outcome="dropped"}`, as it would go to Dapr's
//! dead-letter topic). Batches are split into requests within the body limit.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, LambdaEvent, Service, service_fn};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::BoxError;

/// What Lambda invoked the function with.
#[derive(Debug, PartialEq)]
enum Invocation {
    Http,
    Kafka,
    Sqs,
}

impl Invocation {
    fn of(payload: &Value) -> Self {
        let kafka = matches!(payload["eventSource"].as_str(), Some("aws:kafka" | "SelfManagedKafka"));
        if kafka && payload["records"].is_object() {
            return Self::Kafka;
        }
        let records = payload["Records"].as_array();
        if records.is_some_and(|r| r.first().is_none_or(|r| r["eventSource"] == "aws:sqs")) {
            return Self::Sqs;
        }
        Self::Http
    }
}

/// One record of a batch: its event (a base64 or JSON string, as a bulk
/// entry's raw payload) and how Lambda names it in a failure report.
struct Record {
    event: Value,
    identifier: Value,
}

#[derive(Clone)]
struct Handler {
    app: Router,
    /// `app` with each request's source address as `ConnectInfo`, for HTTP.
    http: Router,
    token: Option<SecretString>,
    body_limit: usize,
}

/// Serves `app` under the Lambda Runtime API until the runtime stops it.
/// `token` is presented to the event routes (`dapr-api-token`) when set;
/// `body_limit` bounds each request a batch is split into.
pub(super) async fn run(app: Router, token: Option<SecretString>, body_limit: usize) -> Result<(), BoxError> {
    let http = app.clone().layer(axum::middleware::map_request(with_source_ip));
    let handler = Handler { app, http, token, body_limit };
    lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = handler.clone();
        async move { handler.invoke(event).await }
    }))
    .await
}

/// The caller's address as API Gateway or a function URL saw it, as axum's
/// `ConnectInfo` (what rate limits count requests without a credential
/// against); behind a load balancer, `TRUSTED_PROXIES` and `X-Forwarded-For`.
async fn with_source_ip(mut request: Request<Body>) -> Request<Body> {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    let source = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
        Some(RequestContext::ApiGatewayV1(context)) => context.identity.source_ip.clone(),
        _ => None,
    };
    if let Some(ip) = source.and_then(|s| s.parse::<std::net::IpAddr>().ok()) {
        request.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(ip, 0)));
    }
    request
}

impl Handler {
    async fn invoke(&self, event: LambdaEvent<Value>) -> Result<Value, BoxError> {
        let LambdaEvent { payload, context } = event;
        let records = match Invocation::of(&payload) {
            Invocation::Http => {
                let request: LambdaRequest = serde_json::from_value(payload)?;
                let mut adapter = Adapter::from(self.http.clone());
                let response = adapter.call(LambdaEvent::new(request, context)).await?;
                return Ok(serde_json::to_value(response)?);
            }
            Invocation::Kafka => kafka_records(&payload),
            Invocation::Sqs => sqs_records(&payload),
        };
        let mut failures = Vec::new();
        for chunk in chunks(&records, self.body_limit) {
            failures.extend(self.deliver(chunk).await);
        }
        Ok(json!({ "batchItemFailures": failures }))
    }

    /// Sends `records` as one bulk request; the failure reports of those to
    /// deliver again.
    async fn deliver(&self, records: &[Record]) -> Vec<Value> {
        let entries: Vec<Value> = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                json!({
                    "entryId": i.to_string(),
                    "event": r.event,
                    "contentType": "application/cloudevents+json",
                    "metadata": { "rawPayload": "true" },
                })
            })
            .collect();
        let body = json!({ "entries": entries, "type": "com.dapr.event.sent.bulk" }).to_string();
        let mut request = Request::post("/").header("content-type", "application/cloudevents-batch+json");
        if let Some(token) = &self.token {
            request = request.header(crate::config::DAPR_API_TOKEN_HEADER, token.expose_secret());
        }
        let every = || records.iter().map(|r| json!({ "itemIdentifier": r.identifier })).collect();
        let Ok(request) = request.body(Body::from(body)) else { return every() };
        let Ok(response) = self.app.clone().oneshot(request).await;
        let status = response.status();
        let bytes = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        if !status.is_success() {
            tracing::error!(
                status = status.as_u16(),
                records = records.len(),
                "a batch was refused whole; Lambda delivers it again"
            );
            return every();
        }
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let statuses = answer["statuses"].as_array().cloned().unwrap_or_default();
        records
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                let id = i.to_string();
                let status = statuses.iter().find(|s| s["entryId"].as_str() == Some(&id));
                !matches!(status.and_then(|s| s["status"].as_str()), Some("SUCCESS" | "DROP"))
            })
            .map(|(_, r)| json!({ "itemIdentifier": r.identifier }))
            .collect()
    }
}

/// A Kafka event's records, by topic-partition in the order Lambda lists them,
/// each partition's in offset order. A record without a value (a tombstone)
/// is no event of ours and is passed over.
fn kafka_records(payload: &Value) -> Vec<Record> {
    let Some(partitions) = payload["records"].as_object() else { return Vec::new() };
    let mut records = Vec::new();
    for (partition, list) in partitions {
        for record in list.as_array().into_iter().flatten() {
            let Some(value) = record["value"].as_str() else { continue };
            let identifier = json!({ "partition": partition, "offset": record["offset"] });
            records.push(Record { event: Value::String(value.to_owned()), identifier });
        }
    }
    records
}

/// An SQS event's messages, each body a CloudEvent in JSON.
fn sqs_records(payload: &Value) -> Vec<Record> {
    payload["Records"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| Record {
            event: Value::String(m["body"].as_str().unwrap_or_default().to_owned()),
            identifier: m["messageId"].clone(),
        })
        .collect()
}

/// `records` split into runs whose bulk request stays within `limit` bytes
/// (each run at least one record).
fn chunks(records: &[Record], limit: usize) -> Vec<&[Record]> {
    const ENTRY_OVERHEAD: usize = 160;
    let mut runs = Vec::new();
    let (mut start, mut size) = (0, 64);
    for (i, record) in records.iter().enumerate() {
        let len = record.event.as_str().map_or(0, str::len) + ENTRY_OVERHEAD;
        if i > start && size + len > limit {
            runs.push(&records[start..i]);
            (start, size) = (i, 64);
        }
        size += len;
    }
    if start < records.len() {
        runs.push(&records[start..]);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocations_are_told_apart_by_their_shape() {
        let kafka = json!({ "eventSource": "SelfManagedKafka", "records": {} });
        assert_eq!(Invocation::of(&kafka), Invocation::Kafka);
        let msk = json!({ "eventSource": "aws:kafka", "eventSourceArn": "arn", "records": { "t-0": [] } });
        assert_eq!(Invocation::of(&msk), Invocation::Kafka);
        let sqs = json!({ "Records": [{ "messageId": "m", "body": "{}", "eventSource": "aws:sqs" }] });
        assert_eq!(Invocation::of(&sqs), Invocation::Sqs);
        let url = json!({ "version": "2.0", "rawPath": "/", "requestContext": {} });
        assert_eq!(Invocation::of(&url), Invocation::Http);
        let sns = json!({ "Records": [{ "EventSource": "aws:sns" }] });
        assert_eq!(Invocation::of(&sns), Invocation::Http, "not a source these functions take");
    }

    #[test]
    fn a_batch_is_split_within_the_limit_and_an_oversize_record_goes_alone() {
        let record = |n: usize| Record { event: Value::String("x".repeat(n)), identifier: json!(n) };
        let records = vec![record(300), record(300), record(5_000), record(300)];
        let runs = chunks(&records, 1_200);
        let sizes: Vec<usize> = runs.iter().map(|r| r.len()).collect();
        assert_eq!(sizes, [2, 1, 1]);
        assert!(chunks(&[], 1_200).is_empty());
    }
}
