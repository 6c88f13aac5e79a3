//! The API's JSON bodies, through the real router on SQLite: any bytes as a
//! create or a patch are a clear 4xx or a task that reads back exactly as
//! answered. Never a 5xx.

#![no_main]

#[path = "common.rs"]
mod common;

use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use jsonwebtoken::{EncodingKey, Header, encode};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

const SECRET: &str = "fuzzing-secret-fuzzing-secret-fuzzing";

fn app() -> &'static (Router, String) {
    static APP: OnceLock<(Router, String)> = OnceLock::new();
    APP.get_or_init(|| {
        let auth = api::auth::Authenticator::with_secret(&SecretString::from(SECRET)).expect("secret");
        let state = api::AppState::new(common::store(), Arc::new(auth));
        let claims = serde_json::json!({ "sub": "fuzz", "iat": 0, "exp": 4_102_444_800_i64 });
        let token = encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET.as_bytes()))
            .expect("token");
        (api::app(state), format!("Bearer {token}"))
    })
}

#[derive(Debug, Arbitrary)]
struct Input {
    create: Vec<u8>,
    patch: Vec<u8>,
}

fn request(method: &str, path: &str, body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", &app().1)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request")
}

fuzz_target!(|input: Input| {
    let router = &app().0;
    let (status, body) = common::send(router, request("POST", "/v1/tasks", input.create));
    if status != 201 {
        return;
    }
    let created: serde_json::Value = serde_json::from_slice(&body).expect("a created task is JSON");
    let path = format!("/v1/tasks/{}", created["id"].as_str().expect("id"));
    let (_, read) = common::send(router, request("GET", &path, Vec::new()));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&read).expect("JSON"), created);
    let (status, body) = common::send(router, request("PATCH", &path, input.patch));
    let (_, read) = common::send(router, request("GET", &path, Vec::new()));
    let stored: serde_json::Value = serde_json::from_slice(&read).expect("JSON");
    if status == 200 {
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).expect("JSON"), stored);
    } else {
        assert_eq!(stored, created, "a refused patch changed nothing");
    }
    common::send(router, request("DELETE", &path, Vec::new()));
});
