//! Snoozing a reminder through the API, on both backends: one more reminder
//! at the time asked for, never two, also when snoozes race; bad input named
//! and nothing changed; a snooze outlives edits that keep the schedule and
//! ends with one that changes it.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use common::{TestApp, id_of};
use serde_json::{Value, json};

both_backends!(
    a_snoozed_reminder_fires_once_more_at_the_new_time,
    concurrent_snoozes_leave_exactly_one_more_reminder,
    bad_snoozes_are_named_and_change_nothing,
    a_snooze_lasts_through_edits_that_keep_the_schedule,
);

fn at(value: &Value) -> DateTime<Utc> {
    value.as_str().expect("a time").parse().expect("RFC 3339")
}

/// A task due in an hour, reminded 30 minutes before.
async fn reminded_task(app: &TestApp) -> Value {
    let due = Utc::now() + Duration::hours(1);
    app.create("alice", json!({"title": "Call the bank", "due_at": due, "remind_before_minutes": 30})).await
}

/// The reminders of the task `id` that cron-tick claims at `now`.
async fn claimed(app: &TestApp, id: &str, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut tx = app.db.store.begin().await.expect("tx");
    let tasks = tx.claim_due_reminders(now, 1000).await.expect("claim");
    tx.commit().await.expect("commit");
    tasks.into_iter().filter(|t| t.id.to_string() == id).filter_map(|t| t.remind_at).collect()
}

async fn snooze(app: &TestApp, id: &str, body: Value) -> common::TestResponse {
    app.send(Method::POST, &format!("/v1/tasks/{id}/snooze"), Some("alice"), Some(body)).await
}

async fn a_snoozed_reminder_fires_once_more_at_the_new_time(app: TestApp) {
    let task = reminded_task(&app).await;
    let id = id_of(&task);
    let first = at(&task["remind_at"]);
    assert_eq!(claimed(&app, &id, first).await, [first], "the reminder fires");
    assert_eq!(claimed(&app, &id, first + Duration::hours(2)).await, Vec::<DateTime<Utc>>::new(), "once");

    let events = app.outbox_len().await;
    let res = snooze(&app, &id, json!({"minutes": 10})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let again = at(&res.body["remind_at"]);
    let expected = Utc::now() + Duration::minutes(10);
    assert!((again - expected).num_seconds().abs() < 5, "{again} is ten minutes from now");
    assert_eq!(res.header("etag"), Some(format!("\"{}\"", res.body["version"]).as_str()));
    assert_eq!(app.outbox_len().await, events + 1, "a task.updated event");

    assert_eq!(
        claimed(&app, &id, again - Duration::seconds(1)).await,
        Vec::<DateTime<Utc>>::new(),
        "not before its time"
    );
    assert_eq!(claimed(&app, &id, again).await, [again], "one more");
    assert_eq!(
        claimed(&app, &id, again + Duration::days(1)).await,
        Vec::<DateTime<Utc>>::new(),
        "and no other"
    );

    let until = Utc::now() + Duration::days(2);
    let res = snooze(&app, &id, json!({"until": until})).await;
    assert_eq!((res.status, at(&res.body["remind_at"]).timestamp()), (StatusCode::OK, until.timestamp()));
}

async fn concurrent_snoozes_leave_exactly_one_more_reminder(app: TestApp) {
    let task = reminded_task(&app).await;
    let id = id_of(&task);
    let base = Utc::now();
    let snoozes = (1..=8).map(|n| {
        let (app, id) = (&app, id.clone());
        async move { snooze(app, &id, json!({"until": base + Duration::minutes(5 * n)})).await }
    });
    let answers = futures_util::future::join_all(snoozes).await;
    for res in &answers {
        assert!(matches!(res.status, StatusCode::OK | StatusCode::CONFLICT), "{} {}", res.status, res.body);
    }
    assert!(answers.iter().any(|r| r.status == StatusCode::OK));
    let stored = app.send(Method::GET, &format!("/v1/tasks/{id}"), Some("alice"), None).await;
    let remind_at = at(&stored.body["remind_at"]);
    let winner = answers.iter().filter(|r| r.status == StatusCode::OK).map(|r| at(&r.body["remind_at"]));
    assert!(winner.clone().any(|t| t == remind_at), "the stored time is one a snooze was answered with");
    assert_eq!(claimed(&app, &id, base + Duration::days(1)).await, [remind_at], "exactly one reminder");
    assert_eq!(claimed(&app, &id, base + Duration::days(2)).await, Vec::<DateTime<Utc>>::new());
}

async fn bad_snoozes_are_named_and_change_nothing(app: TestApp) {
    let task = reminded_task(&app).await;
    let id = id_of(&task);
    let cases = [
        (json!({}), "minutes"),
        (json!({"minutes": 5, "until": Utc::now() + Duration::hours(1)}), "minutes"),
        (json!({"minutes": 0}), "minutes"),
        (json!({"minutes": 600_000}), "minutes"),
        (json!({"until": Utc::now() - Duration::minutes(1)}), "until"),
        (json!({"until": Utc::now() + Duration::days(400)}), "until"),
    ];
    for (body, field) in cases {
        let res = snooze(&app, &id, body.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.body);
        assert_eq!(res.detail_fields(), [field], "{body}");
    }
    for body in [json!({"minutes": "ten"}), json!({"hours": 1})] {
        assert_eq!(snooze(&app, &id, body).await.status, StatusCode::BAD_REQUEST);
    }
    app.send(Method::POST, &format!("/v1/tasks/{id}/complete"), Some("alice"), None).await;
    let done = snooze(&app, &id, json!({"minutes": 5})).await;
    assert_eq!(
        (done.status, done.detail_fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["task".to_owned()])
    );
    let stored = app.send(Method::GET, &format!("/v1/tasks/{id}"), Some("alice"), None).await;
    assert_eq!(stored.body["remind_at"], task["remind_at"], "unchanged");
    let other = app
        .send(Method::POST, &format!("/v1/tasks/{id}/snooze"), Some("bob"), Some(json!({"minutes": 5})))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "another user's task is not there");
}

async fn a_snooze_lasts_through_edits_that_keep_the_schedule(app: TestApp) {
    let task = reminded_task(&app).await;
    let id = id_of(&task);
    let res = snooze(&app, &id, json!({"minutes": 90})).await;
    let snoozed = res.body["remind_at"].clone();
    let renamed = app
        .send(
            Method::PATCH,
            &format!("/v1/tasks/{id}"),
            Some("alice"),
            Some(json!({"title": "Call the bank back"})),
        )
        .await;
    assert_eq!(renamed.body["remind_at"], snoozed, "a new title keeps the snooze");
    let due = Utc::now() + Duration::hours(5);
    let moved = app
        .send(Method::PATCH, &format!("/v1/tasks/{id}"), Some("alice"), Some(json!({"due_at": due})))
        .await;
    assert_eq!(
        at(&moved.body["remind_at"]).timestamp(),
        (due - Duration::minutes(30)).timestamp(),
        "a new due time sets the reminder anew"
    );
}
