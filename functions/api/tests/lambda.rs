//! The same `api` binary under AWS Lambda: with `AWS_LAMBDA_RUNTIME_API` set it
//! serves through `lambda_http`. A stand-in of the Lambda Runtime API on loopback
//! hands it one Function URL event (payload format 2.0) and checks the calls it
//! makes against the documented runtime contract.

mod common;

use std::process::Command;

use serde_json::{Value, json};
use todo_testing::lambda::{LambdaRuntime, REQUEST_ID, function_url_event};

const BIN: &str = env!("CARGO_BIN_EXE_api");

#[tokio::test]
async fn the_binary_answers_a_function_url_event_under_the_lambda_runtime() {
    let dir = std::env::temp_dir().join(format!("todo-lambda-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/todo.db", dir.display());
    let migrated =
        Command::new(BIN).env_clear().env("DATABASE_URL", &url).arg("migrate").output().expect("migrate");
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));

    let auth = format!("Bearer {}", common::token("alice"));
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let event = function_url_event("POST", "/v1/tasks", &headers, &json!({ "title": "from lambda" }));
    let mut runtime = LambdaRuntime::start(event).await;

    let env = [("DATABASE_URL", url.as_str()), ("JWT_SECRET", common::SECRET)];
    let call = runtime.invoke(BIN, "api", &env).await;
    let _ = std::fs::remove_dir_all(&dir);

    let (what, body) = call.expect("the function answered in time");
    assert_eq!(what, format!("response {REQUEST_ID}"), "{body}");
    assert_eq!(body["statusCode"], 201, "{body}");
    let task: Value = serde_json::from_str(body["body"].as_str().expect("a text body")).expect("JSON body");
    assert_eq!(task["title"], "from lambda");
}
