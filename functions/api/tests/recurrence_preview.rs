//! `GET /v1/recurrence/preview`: the due times a rule gives, as the series
//! will have them, in the user's zone across a change of daylight saving.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApp;
use serde_json::json;

async fn preview(app: &TestApp, query: &str) -> common::TestResponse {
    app.send(Method::GET, &format!("/v1/recurrence/preview?{query}"), Some("alice"), None).await
}

#[tokio::test]
async fn the_first_due_times_keep_local_time_across_daylight_saving() {
    let app = TestApp::sqlite().await;
    // Mondays and Thursdays at 09:00 in Berlin, from Thursday 22 October 2026;
    // summer time ends on Sunday 25 October.
    let res = preview(
        &app,
        "rule=FREQ%3DWEEKLY%3BBYDAY%3DMO%2CTH&start=2026-10-22T07:00:00Z&time_zone=Europe/Berlin&count=4",
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    assert_eq!(
        res.body["occurrences"],
        json!([
            "2026-10-22T07:00:00Z",
            "2026-10-26T08:00:00Z",
            "2026-10-29T08:00:00Z",
            "2026-11-02T08:00:00Z"
        ])
    );
    // A monthly rule on the 31st skips the months without one; COUNT ends it.
    let res = preview(
        &app,
        "rule=FREQ%3DMONTHLY%3BBYMONTHDAY%3D31%3BCOUNT%3D3&start=2027-01-31T12:00:00Z&count=10",
    )
    .await;
    assert_eq!(
        res.body["occurrences"],
        json!(["2027-01-31T12:00:00Z", "2027-03-31T12:00:00Z", "2027-05-31T12:00:00Z"])
    );
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_parameter() {
    let app = TestApp::sqlite().await;
    for (query, status, field) in [
        ("start=2026-10-22T07:00:00Z", StatusCode::BAD_REQUEST, "rule"),
        ("rule=FREQ%3DDAILY", StatusCode::BAD_REQUEST, "start"),
        ("rule=FREQ%3DDAILY&start=tomorrow", StatusCode::BAD_REQUEST, "start"),
        ("rule=FREQ%3DDAILY&start=2026-10-22T07:00:00Z&count=21", StatusCode::BAD_REQUEST, "count"),
        ("rule=FREQ%3DDAILY&start=2026-10-22T07:00:00Z&every=1", StatusCode::BAD_REQUEST, "every"),
        ("rule=FREQ%3DSOMETIMES&start=2026-10-22T07:00:00Z", StatusCode::UNPROCESSABLE_ENTITY, "rule"),
        ("rule=FREQ%3DMINUTELY&start=2026-10-22T07:00:00Z", StatusCode::UNPROCESSABLE_ENTITY, "rule"),
        (
            "rule=FREQ%3DDAILY&start=2026-10-22T07:00:00Z&time_zone=Mars/Olympus",
            StatusCode::UNPROCESSABLE_ENTITY,
            "time_zone",
        ),
    ] {
        let res = preview(&app, query).await;
        assert_eq!(res.status, status, "{query}: {:?}", res.body);
        assert_eq!(res.detail_fields(), [field], "{query}");
    }
    let res = app.send(Method::GET, "/v1/recurrence/preview?rule=FREQ%3DDAILY", None, None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}
