//! Rolling recurring tasks forward, on PostgreSQL and SQLite: the next occurrence
//! follows RFC 5545 (weekdays, the 31st, COUNT, UNTIL, DST in a time zone), is
//! created exactly once under duplicate and concurrent deliveries, skips
//! occurrences already past, and announces itself with `task.created`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use todo_lib::event::{EventType, OutboxEvent, task_event};
use todo_lib::lists::{NewList, TaskList};
use todo_lib::publish::{DaprPublisher, Publisher};
use todo_lib::store::{ListQuery, StatusFilter};
use todo_lib::task::{NewTask, Task};
use todo_testing::{DaprStandIn, TestDb, dapr_envelope, deliver_via_dapr as deliver, facts};
use tower::ServiceExt;

todo_testing::on_both_backends!(
    a_daily_task_rolls_forward_one_day_exactly_once,
    weekdays_skip_the_weekend,
    monthly_on_the_31st_skips_short_months,
    count_ends_the_series,
    until_ends_the_series,
    local_time_is_kept_across_dst,
    past_occurrences_are_skipped,
    concurrent_completions_of_one_occurrence_create_one_next,
    a_task_that_does_not_recur_only_gets_its_activity,
    the_new_occurrence_is_published_as_task_created,
    poison_is_dropped_and_a_broken_database_retried_without_loss,
    a_forged_completion_creates_nothing,
    the_next_occurrence_stays_in_the_list,
    a_completion_written_before_lists_rolls_forward_into_the_inbox,
    a_series_ends_with_its_deleted_list,
);

fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("valid time")
}

/// Alice's recurring task in her Inbox, not stored yet.
async fn recurring(db: &TestDb, due: DateTime<Utc>, rule: &str, zone: Option<&str>) -> Task {
    let input = NewTask {
        title: Some("Water plants".into()),
        description: Some("the big ones".into()),
        priority: Some(todo_lib::task::Priority::High),
        tags: Some(vec!["home".into()]),
        due_at: Some(due),
        remind_before_minutes: Some(15),
        recurrence: Some(rule.into()),
        time_zone: zone.map(String::from),
        list_id: None,
        assignee_id: None,
        parent_id: None,
        id: None,
    };
    let inbox = facts::inbox(&db.store, "alice").await;
    Task::create("alice", inbox.id, input, Utc::now()).expect("valid")
}

/// Stores `task` (unless it is stored already), completes it, and returns the
/// `task.completed` event.
async fn complete(db: &TestDb, task: &Task) -> OutboxEvent {
    if db.store.get_task("alice", task.id).await.expect("get").is_none() {
        facts::inserted(&db.store, task, Utc::now()).await;
    }
    facts::completed(&db.store, task, Utc::now()).await.1
}

async fn open_tasks(db: &TestDb) -> Vec<Task> {
    let mut q = ListQuery::new(Utc::now());
    q.status = StatusFilter::Open;
    db.store.list_tasks("alice", &q).await.expect("list").items
}

/// Completes `task` and returns the due time of the occurrence that follows, if any.
async fn next_due(db: &TestDb, task: &Task) -> Option<DateTime<Utc>> {
    let app = task_completed::app(db.store.clone(), None, None);
    let event = complete(db, task).await;
    assert_eq!(deliver(&app, &event).await, (StatusCode::OK, json!({ "status": "SUCCESS" })));
    let open = open_tasks(db).await;
    assert!(open.len() <= 1, "{open:?}");
    open.first().and_then(|t| t.due_at)
}

async fn a_daily_task_rolls_forward_one_day_exactly_once(db: TestDb) {
    let task = recurring(&db, utc(2031, 5, 1, 9), "FREQ=DAILY", None).await;
    let app = task_completed::app(db.store.clone(), None, None);
    let event = complete(&db, &task).await;
    for _ in 0..3 {
        assert_eq!(deliver(&app, &event).await, (StatusCode::OK, json!({ "status": "SUCCESS" })));
    }
    let open = open_tasks(&db).await;
    assert_eq!(open.len(), 1, "one next occurrence for three deliveries");
    let next = &open[0];
    assert_eq!(next.due_at, Some(utc(2031, 5, 2, 9)));
    assert_eq!(next.remind_at, Some(utc(2031, 5, 2, 9) - chrono::Duration::minutes(15)));
    assert_eq!((next.title.as_str(), next.description.as_str()), ("Water plants", "the big ones"));
    assert_eq!((next.priority, next.tags.clone()), (todo_lib::task::Priority::High, vec!["home".to_owned()]));
    assert_eq!((next.series_id, next.series_start), (Some(task.id), Some(utc(2031, 5, 1, 9))));
    assert_eq!(next.version, 1);
    assert_ne!(next.id, task.id);

    let created: Vec<Value> = db
        .store
        .unpublished_events(100)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|e| e.payload["subject"] == next.id.to_string())
        .map(|e| e.payload)
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["type"], "task.created");
    assert_eq!(created[0]["source"], "task-completed");
    let trace = created[0]["traceparent"].as_str().expect("the trace is passed on");
    assert_eq!(
        trace.split('-').nth(1),
        Some("4bf92f3577b34da6a3ce929d0e0e4736"),
        "same trace as the completion"
    );
    assert_eq!(db.store.list_activity("alice", Some(task.id), 10).await.expect("activity").len(), 1);
}

async fn weekdays_skip_the_weekend(db: TestDb) {
    // 2031-05-02 is a Friday.
    let task = recurring(&db, utc(2031, 5, 2, 9), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", None).await;
    assert_eq!(next_due(&db, &task).await, Some(utc(2031, 5, 5, 9)));
}

async fn monthly_on_the_31st_skips_short_months(db: TestDb) {
    let task = recurring(&db, utc(2031, 1, 31, 9), "FREQ=MONTHLY;BYMONTHDAY=31", None).await;
    assert_eq!(next_due(&db, &task).await, Some(utc(2031, 3, 31, 9)));
}

async fn count_ends_the_series(db: TestDb) {
    let first = recurring(&db, utc(2031, 5, 1, 9), "FREQ=DAILY;COUNT=2", None).await;
    assert_eq!(next_due(&db, &first).await, Some(utc(2031, 5, 2, 9)));
    let second = open_tasks(&db).await.remove(0);
    assert_eq!(next_due(&db, &second).await, None, "COUNT=2 counts from the series' start");
}

async fn until_ends_the_series(db: TestDb) {
    let task = recurring(&db, utc(2031, 5, 1, 9), "FREQ=DAILY;UNTIL=20310501T235959Z", None).await;
    assert_eq!(next_due(&db, &task).await, None);
}

async fn local_time_is_kept_across_dst(db: TestDb) {
    // 09:00 in Berlin: 08:00 UTC before the switch on 2031-03-30, 07:00 UTC after.
    let task = recurring(&db, utc(2031, 3, 29, 8), "FREQ=DAILY", Some("Europe/Berlin")).await;
    assert_eq!(next_due(&db, &task).await, Some(utc(2031, 3, 30, 7)));
}

async fn past_occurrences_are_skipped(db: TestDb) {
    let ten_days_ago = Utc::now() - chrono::Duration::days(10);
    let task = recurring(&db, ten_days_ago, "FREQ=DAILY", None).await;
    let next = next_due(&db, &task).await.expect("a next occurrence");
    assert!(next > Utc::now(), "the next occurrence is in the future: {next}");
    assert!(next <= Utc::now() + chrono::Duration::days(1), "and it is the first one: {next}");
}

async fn concurrent_completions_of_one_occurrence_create_one_next(db: TestDb) {
    let task = recurring(&db, utc(2031, 5, 1, 9), "FREQ=DAILY", None).await;
    let first = complete(&db, &task).await;
    // Reopened and completed again: a second, distinct completion event.
    let done = db.store.get_task("alice", task.id).await.expect("get").expect("exists");
    let (reopened, _) = facts::reopened(&db.store, &done, Utc::now()).await;
    let (_, second) = facts::completed(&db.store, &reopened, Utc::now()).await;

    let app = task_completed::app(db.store.clone(), None, None);
    let (a, b, c, d) = tokio::join!(
        deliver(&app, &first),
        deliver(&app, &second),
        deliver(&app, &first),
        deliver(&app, &second)
    );
    for (status, body) in [a, b, c, d] {
        assert_eq!((status, body), (StatusCode::OK, json!({ "status": "SUCCESS" })));
    }
    let open = open_tasks(&db).await;
    assert_eq!(open.len(), 1, "exactly one next occurrence: {open:?}");
    assert_eq!(open[0].due_at, Some(utc(2031, 5, 2, 9)));
}

async fn a_task_that_does_not_recur_only_gets_its_activity(db: TestDb) {
    let (task, _) = facts::created_titled(&db.store, "alice", "once").await;
    let app = task_completed::app(db.store.clone(), None, None);
    let event = complete(&db, &task).await;
    let req = Request::post("/")
        .header("content-type", "application/cloudevents+json")
        .body(Body::from(event.payload.to_string()))
        .expect("request");
    let res = app.oneshot(req).await.expect("infallible");
    let body: Value =
        serde_json::from_slice(&res.into_body().collect().await.expect("body").to_bytes()).expect("json");
    assert_eq!(body["status"], "processed");
    assert_eq!(body["result"]["next_task_id"], Value::Null);
    assert!(open_tasks(&db).await.is_empty());
    assert_eq!(db.store.list_activity("alice", None, 10).await.expect("activity").len(), 1);
}

async fn the_new_occurrence_is_published_as_task_created(db: TestDb) {
    let sidecar = DaprStandIn::start("pubsub", None).await;
    let publisher: Arc<dyn Publisher> =
        Arc::new(DaprPublisher::new(&sidecar.url, "pubsub", None).expect("client"));
    let app = task_completed::app(db.store.clone(), Some(publisher), None);
    let task = recurring(&db, utc(2031, 5, 1, 9), "FREQ=DAILY", None).await;
    let event = complete(&db, &task).await;
    deliver(&app, &event).await;
    let accepted = sidecar.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["type"], "task.created");
    assert_eq!(accepted[0]["data"]["task"]["due_at"], "2031-05-02T09:00:00Z");
    assert_eq!(sidecar.violations(), Vec::<String>::new());
}

async fn poison_is_dropped_and_a_broken_database_retried_without_loss(db: TestDb) {
    let app = task_completed::app(db.store.clone(), None, None);
    let task = recurring(&db, utc(2031, 5, 1, 9), "FREQ=DAILY", None).await;
    let event = complete(&db, &task).await;

    let mut wrong = dapr_envelope(&event);
    wrong["type"] = "task.created".into();
    let mut bad_data = dapr_envelope(&event);
    bad_data["data"] = json!("nonsense");
    for envelope in [wrong, bad_data] {
        let req = Request::post("/")
            .header("content-type", "application/cloudevents+json")
            .body(Body::from(envelope.to_string()))
            .expect("request");
        let res = app.clone().oneshot(req).await.expect("infallible");
        let body: Value =
            serde_json::from_slice(&res.into_body().collect().await.expect("body").to_bytes()).expect("json");
        assert_eq!(body, json!({ "status": "DROP" }));
    }

    let outage = db.break_connections().await;
    assert_eq!(deliver(&app, &event).await, (StatusCode::OK, json!({ "status": "RETRY" })));
    if db.pg_options().is_some() {
        outage.heal().await;
        assert_eq!(deliver(&app, &event).await, (StatusCode::OK, json!({ "status": "SUCCESS" })));
        assert_eq!(open_tasks(&db).await.len(), 1, "the next occurrence, once, after recovery");
    }
}

/// Issue #13, item 1: a `task.completed` nobody wrote, for another user's
/// recurring task with content the API would refuse, creates no task.
async fn a_forged_completion_creates_nothing(db: TestDb) {
    let app = task_completed::app(db.store.clone(), None, None);
    let mut task = recurring(&db, utc(2031, 5, 1, 9), "FREQ=DAILY", None).await;
    task.user_id = "bob".into();
    task.title = "\0\u{202e}".repeat(1_500);
    let done = task.completed(Utc::now()).expect("open");
    let forged = task_event(EventType::Completed, &done, "api", Utc::now(), None).expect("event");
    assert_eq!(deliver(&app, &forged).await, (StatusCode::OK, json!({ "status": "DROP" })));
    let mut q = ListQuery::new(Utc::now());
    q.status = StatusFilter::All;
    assert!(db.store.list_tasks("bob", &q).await.expect("list").items.is_empty(), "no task for bob");
    assert!(db.store.list_activity("bob", None, 10).await.expect("activity").is_empty());
}

/// Alice's list `name`, stored.
async fn list_of_alice(db: &TestDb, name: &str) -> TaskList {
    let list =
        TaskList::create("alice", NewList { name: Some(name.into()), ..NewList::default() }, Utc::now())
            .expect("valid");
    let mut tx = db.store.begin().await.expect("begin");
    assert!(tx.insert_list(&list, 200).await.expect("insert"), "under the limit");
    tx.commit().await.expect("commit");
    list
}

async fn the_next_occurrence_stays_in_the_list(db: TestDb) {
    let chores = list_of_alice(&db, "Chores").await;
    let task = Task { list_id: chores.id, ..recurring(&db, utc(2031, 5, 1, 9), "FREQ=DAILY", None).await };
    assert_eq!(next_due(&db, &task).await, Some(utc(2031, 5, 2, 9)));
    let open = open_tasks(&db).await;
    assert_eq!(open.iter().map(|t| t.list_id).collect::<Vec<_>>(), [chores.id]);
}

/// Events of data version 1 name no list: their task was in the owner's
/// Inbox, where the migration put it, and so is the next occurrence.
async fn a_completion_written_before_lists_rolls_forward_into_the_inbox(db: TestDb) {
    let task = recurring(&db, utc(2031, 5, 1, 9), "FREQ=DAILY", None).await;
    facts::inserted(&db.store, &task, Utc::now()).await;
    let done = task.completed(Utc::now()).expect("open");
    let mut event = task_event(EventType::Completed, &done, "api", Utc::now(), None).expect("event");
    event.payload["dataschema"] = "urn:todo:events:task:v1".into();
    event.payload["data"]["version"] = 1.into();
    event.payload["data"]["task"].as_object_mut().expect("a task").remove("list_id");
    let mut tx = db.store.begin().await.expect("begin");
    tx.update_task(&done, task.version).await.expect("update");
    tx.write_event(&event, None).await.expect("event");
    tx.commit().await.expect("commit");

    let app = task_completed::app(db.store.clone(), None, None);
    assert_eq!(deliver(&app, &event).await, (StatusCode::OK, json!({ "status": "SUCCESS" })));
    let open = open_tasks(&db).await;
    let inbox = facts::inbox(&db.store, "alice").await;
    assert_eq!(
        open.iter().map(|t| (t.due_at, t.list_id)).collect::<Vec<_>>(),
        [(Some(utc(2031, 5, 2, 9)), inbox.id)]
    );
}

async fn a_series_ends_with_its_deleted_list(db: TestDb) {
    let chores = list_of_alice(&db, "Chores").await;
    let task = Task { list_id: chores.id, ..recurring(&db, utc(2031, 5, 1, 9), "FREQ=DAILY", None).await };
    let event = complete(&db, &task).await;
    let done = db.store.get_task("alice", task.id).await.expect("get").expect("stored");
    facts::deleted(&db.store, &done, Utc::now()).await;
    db.store.delete_list(&chores).await.expect("the emptied list is deleted");

    let app = task_completed::app(db.store.clone(), None, None);
    assert_eq!(deliver(&app, &event).await, (StatusCode::OK, json!({ "status": "SUCCESS" })));
    assert!(open_tasks(&db).await.is_empty(), "no occurrence without its list");
    let mut tx = db.store.begin().await.expect("begin");
    let unclaimed = tx.claim_event(task_completed::NAME, &event.id.to_string(), Utc::now()).await;
    assert!(!unclaimed.expect("claim"), "the completion was recorded");
    tx.rollback().await.expect("rollback");
    let activity = db.store.list_activity("alice", Some(task.id), 10).await.expect("activity");
    assert!(activity.is_empty(), "nobody sees an entry of a list that is gone: {activity:?}");
    assert_eq!(
        deliver(&app, &event).await,
        (StatusCode::OK, json!({ "status": "SUCCESS" })),
        "a duplicate too"
    );
}
