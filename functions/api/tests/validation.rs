//! Bad input: every validation rule, every malformed request. Each gets a clear
//! 4xx in the one error shape, and nothing is stored.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, id_of, token};
use serde_json::{Value, json};

both_backends!(
    look_alike_tags_are_one_tag_and_invisible_characters_are_refused,
    each_invalid_field_on_create_is_a_422_naming_the_field,
    several_invalid_fields_are_all_reported,
    malformed_or_mistyped_json_is_a_400_naming_the_field,
    unknown_fields_are_refused,
    a_body_that_is_not_json_is_415,
    an_oversize_body_is_413,
    invalid_patches_are_refused_and_change_nothing,
    a_task_id_that_is_not_a_uuid_is_400,
    invalid_list_parameters_are_400_naming_each,
    a_forged_or_mismatched_cursor_is_400,
    unknown_routes_and_methods_answer_in_the_error_shape,
);

/// POSTs `body` as alice and checks it is refused naming `field`, and that the
/// outbox is still empty.
async fn assert_refused(app: &TestApp, body: Value, status: StatusCode, field: &str) {
    let res = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(body.clone())).await;
    assert_eq!(res.status, status, "{body} -> {:?}", res.body);
    assert!(res.detail_fields().iter().any(|f| f == field), "{body} -> {:?}", res.body);
    assert!(res.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(app.outbox_len().await, 0, "nothing is stored for {body}");
}

async fn each_invalid_field_on_create_is_a_422_naming_the_field(app: TestApp) {
    let due = "2030-01-01T09:00:00Z";
    let cases = [
        (json!({}), "title"),
        (json!({ "title": "" }), "title"),
        (json!({ "title": "   " }), "title"),
        (json!({ "title": "x".repeat(201) }), "title"),
        (json!({ "title": "bell\u{7}" }), "title"),
        (json!({ "title": "t", "description": "d".repeat(10_001) }), "description"),
        (json!({ "title": "t", "tags": (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>() }), "tags"),
        (json!({ "title": "t", "tags": ["x".repeat(41)] }), "tags"),
        (json!({ "title": "t", "tags": [""] }), "tags"),
        (json!({ "title": "t", "tags": ["a,b"] }), "tags"),
        (json!({ "title": "t", "due_at": "1800-01-01T00:00:00Z" }), "due_at"),
        (json!({ "title": "t", "remind_before_minutes": 10 }), "remind_before_minutes"),
        (json!({ "title": "t", "due_at": due, "remind_before_minutes": -1 }), "remind_before_minutes"),
        (json!({ "title": "t", "due_at": due, "remind_before_minutes": 525_601 }), "remind_before_minutes"),
        (json!({ "title": "t", "recurrence": "FREQ=DAILY" }), "recurrence"),
        (json!({ "title": "t", "due_at": due, "recurrence": "FREQ=FORTNIGHTLY" }), "recurrence"),
        (json!({ "title": "t", "due_at": due, "recurrence": "FREQ=MINUTELY" }), "recurrence"),
        (json!({ "title": "t", "due_at": due, "recurrence": "" }), "recurrence"),
        (
            json!({ "title": "t", "due_at": due, "recurrence": "DTSTART:20300101T000000Z\nRRULE:FREQ=DAILY" }),
            "recurrence",
        ),
        (json!({ "title": "t", "time_zone": "Mars/Olympus" }), "time_zone"),
    ];
    for (body, field) in cases {
        assert_refused(&app, body, StatusCode::UNPROCESSABLE_ENTITY, field).await;
    }
    let res = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(json!({}))).await;
    assert_eq!(res.code(), "validation_failed");
}

async fn several_invalid_fields_are_all_reported(app: TestApp) {
    let body = json!({ "title": "", "tags": [""], "remind_before_minutes": 5, "time_zone": "Nowhere" });
    let res = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(body)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.detail_fields(), ["title", "tags", "remind_before_minutes", "time_zone"]);
}

async fn malformed_or_mistyped_json_is_a_400_naming_the_field(app: TestApp) {
    let cases = [
        (json!({ "title": 5 }), "title"),
        (json!({ "title": "t", "priority": "critical" }), "priority"),
        (json!({ "title": "t", "due_at": "tomorrow" }), "due_at"),
        (json!({ "title": "t", "tags": "work" }), "tags"),
        (json!({ "title": "t", "remind_before_minutes": "ten" }), "remind_before_minutes"),
    ];
    for (body, field) in cases {
        assert_refused(&app, body, StatusCode::BAD_REQUEST, field).await;
    }
    let req = Request::post("/v1/tasks")
        .header("authorization", format!("Bearer {}", token("alice")))
        .header("content-type", "application/json")
        .body(Body::from("{\"title\": \"unterminated"))
        .expect("request");
    let res = app.call(req).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.code(), "invalid_json");
    let req = Request::post("/v1/tasks")
        .header("authorization", format!("Bearer {}", token("alice")))
        .header("content-type", "application/json")
        .body(Body::from(vec![b'"', 0xff, 0xfe, b'"']))
        .expect("request");
    assert_eq!(app.call(req).await.status, StatusCode::BAD_REQUEST, "invalid UTF-8");
    assert_eq!(app.outbox_len().await, 0);
}

async fn unknown_fields_are_refused(app: TestApp) {
    assert_refused(&app, json!({ "title": "t", "colour": "red" }), StatusCode::BAD_REQUEST, "colour").await;
    let res = app
        .send(Method::POST, "/v1/tasks", Some("alice"), Some(json!({ "title": "t", "completed": true })))
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "completion goes through /complete");
    assert!(
        res.body["error"]["message"].as_str().is_some_and(|m| m.contains("unknown field")),
        "{:?}",
        res.body
    );
}

async fn a_body_that_is_not_json_is_415(app: TestApp) {
    let req = Request::post("/v1/tasks")
        .header("authorization", format!("Bearer {}", token("alice")))
        .header("content-type", "text/plain")
        .body(Body::from(r#"{"title":"t"}"#))
        .expect("request");
    let res = app.call(req).await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(res.code(), "unsupported_media_type");
    assert_eq!(app.outbox_len().await, 0);
}

async fn an_oversize_body_is_413(app: TestApp) {
    let body = json!({ "title": "t", "description": "d".repeat(common::BODY_LIMIT) });
    let res = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(body)).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.code(), "payload_too_large");
    assert_eq!(app.outbox_len().await, 0);
}

async fn invalid_patches_are_refused_and_change_nothing(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let path = format!("/v1/tasks/{}", id_of(&task));
    let cases = [
        (json!({ "title": null }), StatusCode::UNPROCESSABLE_ENTITY, "title"),
        (json!({ "priority": null }), StatusCode::UNPROCESSABLE_ENTITY, "priority"),
        (json!({ "title": "" }), StatusCode::UNPROCESSABLE_ENTITY, "title"),
        (json!({ "recurrence": "FREQ=DAILY" }), StatusCode::UNPROCESSABLE_ENTITY, "recurrence"),
        (json!({ "version": 7 }), StatusCode::BAD_REQUEST, "version"),
        (json!({ "due_at": 17 }), StatusCode::BAD_REQUEST, "due_at"),
    ];
    for (body, status, field) in cases {
        let res = app.send(Method::PATCH, &path, Some("alice"), Some(body.clone())).await;
        assert_eq!(res.status, status, "{body} -> {:?}", res.body);
        assert!(res.detail_fields().iter().any(|f| f == field), "{body} -> {:?}", res.body);
    }
    let stored = app.send(Method::GET, &path, Some("alice"), None).await;
    assert_eq!(stored.body, task);
    assert_eq!(app.outbox_len().await, 1);
}

async fn a_task_id_that_is_not_a_uuid_is_400(app: TestApp) {
    for (method, path) in [
        (Method::GET, "/v1/tasks/42"),
        (Method::PATCH, "/v1/tasks/42"),
        (Method::DELETE, "/v1/tasks/not-a-uuid"),
        (Method::POST, "/v1/tasks/42/complete"),
        (Method::POST, "/v1/tasks/42/reopen"),
    ] {
        let body = (method == Method::PATCH).then(|| json!({ "title": "x" }));
        let res = app.send(method.clone(), path, Some("alice"), body).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{method} {path}");
        assert_eq!(res.code(), "invalid_path");
    }
}

async fn invalid_list_parameters_are_400_naming_each(app: TestApp) {
    let cases = [
        ("status=finished", "status"),
        ("priority=critical", "priority"),
        ("sort=colour", "sort"),
        ("order=sideways", "order"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("due_before=tomorrow", "due_before"),
        ("due_after=2026-13-01T00:00:00Z", "due_after"),
        ("completed_after=last+week", "completed_after"),
        ("completed_before=2026-12-32T00:00:00Z", "completed_before"),
        ("status=open&sort=completed", "sort"),
        ("overdue=true&sort=completed", "sort"),
        ("overdue=yes", "overdue"),
        ("colour=red", "colour"),
        ("sort=due&sort=title", "sort"),
    ];
    for (query, field) in cases {
        let res = app.send(Method::GET, &format!("/v1/tasks?{query}"), Some("alice"), None).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(res.code(), "invalid_query", "{query}");
        assert_eq!(res.detail_fields(), [field], "{query}");
    }
}

/// A cursor as the API makes them, for `sort=title`, holding `key` (JSON-escaped).
fn forged_title_cursor(key: &str) -> String {
    use base64::Engine;
    let json = format!(
        r#"{{"s":"title","o":"asc","k":{{"text":"{key}"}},"i":"00000000-0000-0000-0000-000000000000"}}"#
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

async fn a_forged_or_mismatched_cursor_is_400(app: TestApp) {
    for i in 0..3 {
        app.create_titled("alice", &format!("t{i}")).await;
    }
    let res = app.send(Method::GET, "/v1/tasks?limit=1&sort=title", Some("alice"), None).await;
    let cursor = res.body["next_cursor"].as_str().expect("more pages").to_owned();
    for query in [
        format!("sort=due&cursor={cursor}"),
        format!("sort=title&order=desc&cursor={cursor}"),
        "cursor=garbage".into(),
        // Well-formed, for this sort, but with a NUL in its title key.
        format!("sort=title&cursor={}", forged_title_cursor(r"t\u0000")),
    ] {
        let res = app.send(Method::GET, &format!("/v1/tasks?{query}"), Some("alice"), None).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(res.detail_fields(), ["cursor"]);
    }
    // The same cursor without the NUL is one of ours: the forgery was only the NUL.
    let res = app
        .send(
            Method::GET,
            &format!("/v1/tasks?sort=title&cursor={}", forged_title_cursor("t")),
            Some("alice"),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
}

async fn unknown_routes_and_methods_answer_in_the_error_shape(app: TestApp) {
    let res = app.send(Method::GET, "/v1/nothing-here", Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.code(), "route_not_found");
    let res = app.send(Method::PUT, "/v1/tasks", Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.code(), "method_not_allowed");
}

async fn look_alike_tags_are_one_tag_and_invisible_characters_are_refused(app: TestApp) {
    let task = app
        .create("alice", json!({ "title": "t", "tags": ["home", "\u{FF28}\u{FF2F}\u{FF2D}\u{FF25}"] }))
        .await;
    assert_eq!(task["tags"], json!(["home"]), "the full-width spelling is the same tag");
    for (field, body) in [
        ("tags", json!({ "title": "t", "tags": ["\u{04BB}\u{043E}m\u{0435}"] })),
        ("tags", json!({ "title": "t", "tags": ["ho\u{200B}me"] })),
        ("title", json!({ "title": "invoice\u{202E}fdp.exe" })),
        ("title", json!({ "title": "a\u{2066}b" })),
    ] {
        let res = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", res.body);
        assert_eq!(res.detail_fields(), [field], "{body}");
    }
    let tags = app.send(Method::GET, "/v1/tags", Some("alice"), None).await;
    assert_eq!(tags.body["tags"].as_array().map(Vec::len), Some(1), "one tag stored: {:?}", tags.body);
}
