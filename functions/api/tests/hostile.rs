//! Hostile input, on both backends: deeply nested and duplicate-keyed JSON,
//! control characters and NUL bytes, huge tag lists, percent-encoded garbage and
//! SQL and HTML metacharacters. Each request gets a clear 4xx in the one error
//! shape (or, for metacharacters that are ordinary text, is stored verbatim and
//! changes nothing else); nothing partial is stored.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, TestResponse, id_of, token};
use serde_json::json;

both_backends!(
    deeply_nested_json_is_a_400,
    duplicate_keys_are_a_400,
    nul_and_control_characters_are_refused_everywhere,
    a_huge_tag_list_is_refused_whole,
    percent_encoded_garbage_in_queries_and_paths_is_a_400,
    sql_metacharacters_are_text_not_code,
    html_is_stored_verbatim_and_only_ever_served_as_json,
);

/// POSTs raw bytes to `path` as alice.
async fn post_raw(app: &TestApp, path: &str, bytes: impl Into<Vec<u8>>) -> TestResponse {
    let req = Request::post(path)
        .header("authorization", format!("Bearer {}", token("alice")))
        .header("content-type", "application/json")
        .body(Body::from(bytes.into()))
        .expect("request");
    app.call(req).await
}

fn assert_clear_4xx(res: &TestResponse, status: StatusCode, what: &str) {
    assert_eq!(res.status, status, "{what}: {:?}", res.body);
    let message = res.body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{what}: a message says why: {:?}", res.body);
    assert_eq!(res.header("content-type"), Some("application/json"), "{what}");
}

async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(app.outbox_len().await, 0, "no event");
    let listed = app.send(Method::GET, "/v1/tasks", Some("alice"), None).await;
    assert_eq!(listed.body["items"], json!([]), "no task");
}

async fn deeply_nested_json_is_a_400(app: TestApp) {
    for depth in [200, 10_000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let body = format!(r#"{{"title":"t","description":{nested}}}"#);
        let res = post_raw(&app, "/v1/tasks", body).await;
        assert_clear_4xx(&res, StatusCode::BAD_REQUEST, &format!("nesting {depth} deep"));
        let nested = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        let res = post_raw(&app, "/v1/tasks", nested).await;
        assert_clear_4xx(&res, StatusCode::BAD_REQUEST, &format!("objects {depth} deep"));
    }
    assert_nothing_stored(&app).await;
}

async fn duplicate_keys_are_a_400(app: TestApp) {
    let res = post_raw(&app, "/v1/tasks", r#"{"title":"harmless","title":"sneaky"}"#).await;
    assert_clear_4xx(&res, StatusCode::BAD_REQUEST, "duplicate title");
    assert!(res.body["error"]["message"].as_str().is_some_and(|m| m.contains("duplicate")), "{:?}", res.body);
    assert_nothing_stored(&app).await;
}

async fn nul_and_control_characters_are_refused_everywhere(app: TestApp) {
    for (body, field) in [
        (json!({ "title": "a\u{0}b" }), "title"),
        (json!({ "title": "t", "description": "a\u{0}b" }), "description"),
        (json!({ "title": "t", "tags": ["a\u{0}"] }), "tags"),
        (json!({ "title": "t", "tags": ["a\u{1b}[31m"] }), "tags"),
    ] {
        let res = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(body.clone())).await;
        assert_clear_4xx(&res, StatusCode::UNPROCESSABLE_ENTITY, &body.to_string());
        assert_eq!(res.detail_fields(), [field], "{body}");
    }
    assert_nothing_stored(&app).await;
    let task = app.create_titled("alice", "keep").await;
    let path = format!("/v1/tasks/{}", id_of(&task));
    let res = app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "title": "x\u{0}" }))).await;
    assert_clear_4xx(&res, StatusCode::UNPROCESSABLE_ENTITY, "NUL in a patch");
    let res = app.send(Method::GET, "/v1/tasks?q=a%00b", Some("alice"), None).await;
    assert_clear_4xx(&res, StatusCode::BAD_REQUEST, "NUL in a search");
    let res = app.send(Method::GET, "/v1/tasks?tag=a%00b", Some("alice"), None).await;
    assert_clear_4xx(&res, StatusCode::BAD_REQUEST, "NUL in a tag filter");
    assert_eq!(app.send(Method::GET, &path, Some("alice"), None).await.body, task, "unchanged");
}

async fn a_huge_tag_list_is_refused_whole(app: TestApp) {
    // As many tags as fit under the body limit.
    let tags: Vec<String> = (0..6_000).map(|i| format!("t{i}")).collect();
    let body = json!({ "title": "t", "tags": tags });
    assert!(body.to_string().len() < common::BODY_LIMIT);
    let res = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(body)).await;
    assert_clear_4xx(&res, StatusCode::UNPROCESSABLE_ENTITY, "6,000 tags");
    assert_eq!(res.detail_fields(), ["tags"]);
    assert_nothing_stored(&app).await;
    let task = app.create("alice", json!({ "title": "t", "tags": ["a"] })).await;
    let path = format!("/v1/tasks/{}", id_of(&task));
    let tags: Vec<String> = (0..6_000).map(|i| format!("t{i}")).collect();
    let res = app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "tags": tags }))).await;
    assert_clear_4xx(&res, StatusCode::UNPROCESSABLE_ENTITY, "6,000 tags in a patch");
    let stored = app.send(Method::GET, &path, Some("alice"), None).await;
    assert_eq!(stored.body["tags"], json!(["a"]), "the old tags are all still there");
    let repeated = (0..500).map(|_| "tag=a").collect::<Vec<_>>().join("&");
    let res = app.send(Method::GET, &format!("/v1/tasks?{repeated}"), Some("alice"), None).await;
    assert!(res.status == StatusCode::OK || res.status == StatusCode::BAD_REQUEST, "{:?}", res.body);
}

async fn percent_encoded_garbage_in_queries_and_paths_is_a_400(app: TestApp) {
    for path in [
        "/v1/tasks?q=%FF%FE",
        "/v1/tasks?sort=%C0%AF",
        "/v1/tasks/%FF",
        "/v1/tasks/%00",
        "/v1/tasks/..%2F..%2Fetc%2Fpasswd",
    ] {
        let res = app.send(Method::GET, path, Some("alice"), None).await;
        assert!(res.status.is_client_error(), "{path}: {:?}", res.status);
        assert!(
            res.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{path}: {:?}",
            res.body
        );
    }
    let long = format!("/v1/tasks?q={}", "x".repeat(20_000));
    let res = app.send(Method::GET, &long, Some("alice"), None).await;
    assert!(res.status.is_client_error(), "a 20 kB search: {:?}", res.status);
}

async fn sql_metacharacters_are_text_not_code(app: TestApp) {
    let bobby = "Robert'); DROP TABLE tasks;--";
    let task = app
        .create("alice", json!({ "title": bobby, "description": "1' OR '1'='1", "tags": ["x'--", "a;b"] }))
        .await;
    assert_eq!(task["title"], bobby);
    app.create_titled("bob", "bob's secret").await;
    app.create_titled("alice", "100% done").await;
    app.create_titled("alice", "plain").await;

    let search = |q: &str| {
        let q = url_encode(q);
        let app = &app;
        async move { app.send(Method::GET, &format!("/v1/tasks?q={q}"), Some("alice"), None).await }
    };
    let titles = |res: &TestResponse| -> Vec<String> {
        res.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|t| t["title"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(titles(&search("' OR 1=1 --").await), Vec::<String>::new(), "an injection finds nothing");
    assert_eq!(titles(&search("DROP TABLE").await), [bobby], "it is just text");
    assert_eq!(titles(&search("%").await), ["100% done"], "a like wildcard is a literal");
    assert_eq!(titles(&search("_").await), Vec::<String>::new());
    let tagged = app.send(Method::GET, "/v1/tasks?tag=x%27--", Some("alice"), None).await;
    assert_eq!(titles(&tagged), [bobby]);
    let all = app.send(Method::GET, "/v1/tasks?limit=200", Some("alice"), None).await;
    assert_eq!(titles(&all).len(), 3, "the table is intact and bob's task stays bob's");
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn html_is_stored_verbatim_and_only_ever_served_as_json(app: TestApp) {
    let script = "<script>alert('x')</script>";
    let task =
        app.create("alice", json!({ "title": script, "description": "<img src=x onerror=alert(1)>" })).await;
    let path = format!("/v1/tasks/{}", id_of(&task));
    let res = app.send(Method::GET, &path, Some("alice"), None).await;
    assert_eq!(res.body["title"], script, "stored as the user wrote it");
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    // An error that echoes the input is JSON too, never HTML.
    let res = app
        .send(Method::POST, "/v1/tasks", Some("alice"), Some(json!({ "title": "t", "<b>x</b>": 1 })))
        .await;
    assert_clear_4xx(&res, StatusCode::BAD_REQUEST, "an unknown field named in HTML");
    let res = app.send(Method::GET, "/v1/%3Cscript%3E", Some("alice"), None).await;
    assert_clear_4xx(&res, StatusCode::NOT_FOUND, "a route named in HTML");
}
