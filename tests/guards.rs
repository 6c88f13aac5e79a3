//! `APP_API_TOKEN` guards every function and operator route of the real local
//! host: the list of routes comes from the host's own index, so a new function
//! is covered without touching this test. Refused calls change nothing; health
//! and metrics stay open for probes and scrapers.

mod common;

use common::{Host, items};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const APP_TOKEN: &str = "app-token-guards-9d41c2";

/// A well-formed event of type `ty` with a fresh id: the example of that type,
/// or the `task.created` one retyped (the task payload is the same). Refused
/// before it is read, so that nobody wrote it does not matter here.
fn example(ty: &str) -> Value {
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let file = std::fs::read_to_string(format!("{examples}/{ty}.json"))
        .or_else(|_| std::fs::read_to_string(format!("{examples}/task.created.json")))
        .expect("example");
    let mut event: Value = serde_json::from_str(&file).expect("JSON");
    event["id"] = uuid::Uuid::new_v4().to_string().into();
    event["type"] = ty.into();
    event
}

async fn call(
    host: &Host,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> StatusCode {
    let mut req = reqwest::Client::new().request(method, host.url(path));
    if let Some(token) = token {
        req = req.header(todo_lib::config::DAPR_API_TOKEN_HEADER, token);
    }
    if let Some(body) = body {
        req = req.header("content-type", "application/cloudevents+json").body(body.to_string());
    }
    req.send().await.expect("answered").status()
}

/// `GET path` on an operator route, with the app token.
async fn operator_get(host: &Host, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(host.url(path))
        .header(todo_lib::config::DAPR_API_TOKEN_HEADER, APP_TOKEN)
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn every_function_and_operator_route_demands_the_app_token() {
    let host = Host::start_with_env(&[("APP_API_TOKEN", APP_TOKEN)]).await;
    let index: Value = operator_get(&host, "/functions").await.json().await.expect("JSON");
    let functions = index["functions"].as_array().expect("functions").clone();
    assert_eq!(functions.len(), 6, "five consumers and cron-tick: {index}");

    let wrong = [None, Some(""), Some("wrong-token"), Some(&APP_TOKEN[..APP_TOKEN.len() - 1])];
    let with_suffix = format!("{APP_TOKEN}x");
    let mut refused = 0;
    for function in &functions {
        let path = function["path"].as_str().expect("path");
        let topics = function["topics"].as_array().expect("topics");
        // The topic "list-member-added" carries the type "list.member_added".
        let ty = |topic: &str| topic.replacen('-', ".", 1).replace('-', "_");
        let event = topics.first().and_then(Value::as_str).map(|topic| example(&ty(topic)));
        for token in wrong.iter().copied().chain([Some(with_suffix.as_str())]) {
            let status = call(&host, Method::POST, path, token, event.as_ref()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "POST {path} with {token:?}");
            refused += 1;
            if event.is_some() {
                let status = call(&host, Method::GET, &format!("{path}dapr/subscribe"), token, None).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "GET {path}dapr/subscribe with {token:?}");
                refused += 1;
            }
        }
        if event.is_some() {
            let status =
                call(&host, Method::GET, &format!("{path}dapr/subscribe"), Some(APP_TOKEN), None).await;
            assert_eq!(status, StatusCode::OK, "{path}dapr/subscribe with the token");
        }
        let status = call(&host, Method::GET, &format!("{path}healthz"), None, None).await;
        assert_eq!(status, StatusCode::OK, "{path}healthz is open to probes");
    }
    for path in ["/functions", "/functions/events", "/functions/dead-letters"] {
        for token in wrong {
            assert_eq!(call(&host, Method::GET, path, token, None).await, StatusCode::UNAUTHORIZED, "{path}");
            refused += 1;
        }
    }
    assert_eq!(refused, 67, "every refusal was checked");

    // The refused events had no effect; an event the system wrote, redelivered
    // with the token, is answered (a duplicate: the bus delivered it already).
    let activity = host.get("/v1/activity", "dev-user").await;
    assert_eq!(items(&activity.body), Vec::<Value>::new(), "refused events changed nothing");
    let created = host.post("/v1/tasks", "dev-user", serde_json::json!({ "title": "guarded" })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let recorded = |b: &Value| items(b).len() == 1;
    let activity = host.poll("/v1/activity", "dev-user", std::time::Duration::from_secs(10), recorded).await;
    assert!(recorded(&activity), "{activity}");
    let events: Value = operator_get(&host, "/functions/events?function=task-created&limit=1")
        .await
        .json()
        .await
        .expect("JSON");
    let event = &events["events"][0];
    let unknown = operator_get(&host, "/functions/events?function=api").await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST, "api consumes no events");
    assert_eq!(event["data"]["task"]["title"], "guarded", "{events}");
    let status = call(&host, Method::POST, "/functions/task-created/", Some(APP_TOKEN), Some(event)).await;
    assert_eq!(status, StatusCode::OK);
    let activity = host.get("/v1/activity", "dev-user").await;
    assert_eq!(items(&activity.body).len(), 1, "{}", activity.body);
}

/// DNS rebinding: a page at `attacker.example`, resolved to 127.0.0.1, sends
/// its own `Host`. Every route of the local host on loopback refuses it, the
/// operator routes and the development sign-in included, and this machine's
/// names still pass.
#[tokio::test]
async fn every_route_refuses_a_foreign_host_header_on_loopback() {
    let host = Host::start_with_env(&[("DEV_SIGN_IN", "true")]).await;
    let client = reqwest::Client::new();
    let foreign = |method: Method, path: &str| {
        client.request(method, host.url(path)).header("host", "attacker.example")
    };
    for (method, path) in [
        (Method::GET, "/functions/events?limit=500"),
        (Method::GET, "/functions"),
        (Method::POST, "/auth/dev"),
        (Method::GET, "/v1/tasks"),
        (Method::GET, "/"),
        (Method::GET, "/healthz"),
    ] {
        let answer = foreign(method.clone(), path).send().await.expect("answered");
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{method} {path}");
        let body: Value = answer.json().await.expect("the error shape");
        assert_eq!(body["error"]["code"], "host_not_allowed", "{method} {path}: {body}");
    }
    for name in ["127.0.0.1", "localhost"] {
        let port = reqwest::Url::parse(&host.url("/")).expect("url").port().expect("port");
        let answer = client
            .post(host.url("/auth/dev"))
            .header("host", format!("{name}:{port}"))
            .send()
            .await
            .expect("answered");
        assert_eq!(answer.status(), StatusCode::OK, "Host {name}");
    }
}
