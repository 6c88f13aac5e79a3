//! The CloudEvent extractor, through a real function's router: structured,
//! binary and Dapr-envelope deliveries with fuzzed headers and bodies. A
//! delivery is handled (200) or refused (4xx), never a crash or a 5xx.

#![no_main]

#[path = "common.rs"]
mod common;

use arbitrary::Arbitrary;
use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;

const HEADERS: &[&str] = &[
    "ce-specversion",
    "ce-id",
    "ce-type",
    "ce-source",
    "ce-subject",
    "ce-time",
    "ce-datacontenttype",
    "ce-dataschema",
    "ce-traceparent",
    "traceparent",
];

const CONTENT_TYPES: &[&str] = &[
    "application/cloudevents+json",
    "application/json",
    "application/cloudevents+json; charset=utf-8",
    "text/plain",
    "",
];

#[derive(Debug, Arbitrary)]
struct Input {
    content_type: u8,
    headers: Vec<(u8, String)>,
    body: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let router = task_created::app(common::store(), None);
    let mut req = Request::post("/");
    let content_type = CONTENT_TYPES[usize::from(input.content_type) % CONTENT_TYPES.len()];
    if !content_type.is_empty() {
        req = req.header("content-type", content_type);
    }
    for (name, value) in input.headers.iter().take(16) {
        let name = HEADERS[usize::from(*name) % HEADERS.len()];
        if let Ok(value) = axum::http::HeaderValue::from_str(value) {
            req = req.header(name, value);
        }
    }
    let Ok(req) = req.body(Body::from(input.body)) else { return };
    common::send(&router, req);
});
