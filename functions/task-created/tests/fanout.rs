//! Fan-out to every member of a shared list (issue #15), on PostgreSQL and
//! SQLite: each member's webhooks get each event once, however often and
//! however concurrently it is delivered; every member sees the activity; a
//! member removed before an event was written gets nothing of it.

use std::collections::HashMap;

use axum::http::StatusCode;
use todo_lib::event::OutboxEvent;
use todo_lib::lists::TaskList;
use todo_lib::members::Role;
use todo_lib::sender::{Sender, SenderSettings};
use todo_lib::task::NewTask;
use todo_testing::{TestDb, WebhookReceiver, call as post, facts, loopback_deliverer, structured};

todo_testing::on_both_backends!(
    one_event_reaches_each_members_webhooks_once_under_concurrent_duplicates,
    a_member_removed_gets_nothing_written_after_the_removal,
);

const OWNER: &str = "alice";
const MEMBERS: [(&str, Role); 2] = [("bob", Role::Editor), ("carol", Role::Viewer)];
const STRANGER: &str = "dave";

/// A list of `OWNER` shared with `MEMBERS`, and two webhooks for each of
/// them and for `STRANGER` (who is not in the list).
async fn household(db: &TestDb) -> (TaskList, HashMap<&'static str, [WebhookReceiver; 2]>) {
    let list = facts::shared_list(&db.store, OWNER, "Household", &MEMBERS).await;
    let mut hooks = HashMap::new();
    for user in [OWNER, MEMBERS[0].0, MEMBERS[1].0, STRANGER] {
        let pair = [WebhookReceiver::start().await, WebhookReceiver::start().await];
        for receiver in &pair {
            facts::webhook(&db.store, user, &receiver.url).await;
        }
        hooks.insert(user, pair);
    }
    (list, hooks)
}

async fn created_in(db: &TestDb, list: &TaskList, title: &str) -> OutboxEvent {
    let input = NewTask { title: Some(title.into()), list_id: Some(list.id), ..NewTask::default() };
    facts::created(&db.store, OWNER, input, chrono::Utc::now()).await.1
}

/// Sends every owed delivery (a bounded number of rounds).
async fn send_owed(db: &TestDb) {
    let sender = Sender::new(loopback_deliverer(), SenderSettings::default());
    for _ in 0..5 {
        let round = sender.round(&db.store).await.expect("a sender round");
        if round.delivered == 0 && round.in_flight == 0 {
            return;
        }
    }
}

/// The event ids a receiver got, in order.
fn ids(receiver: &WebhookReceiver) -> Vec<String> {
    receiver.received().iter().filter_map(|r| r.headers.get("webhook-id").cloned()).collect()
}

async fn one_event_reaches_each_members_webhooks_once_under_concurrent_duplicates(db: TestDb) {
    let (list, hooks) = household(&db).await;
    let event = created_in(&db, &list, "Buy milk").await;
    let app = task_created::app(db.store.clone(), None);
    let request = || structured(&event.payload);
    let (first, second) = tokio::join!(post(&app, request()), post(&app, request()));
    for (status, body) in [&first, &second] {
        assert_eq!(*status, StatusCode::OK, "{body}");
    }
    let queued: Vec<i64> = [&first.1, &second.1]
        .iter()
        .map(|body| body["result"]["webhooks_queued"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(queued.iter().sum::<i64>(), 6, "three members with two webhooks each: {first:?} {second:?}");
    let again = post(&app, request()).await;
    assert_eq!(again.1["status"], "duplicate", "{again:?}");

    send_owed(&db).await;
    for (user, pair) in &hooks {
        let want = if *user == STRANGER { vec![] } else { vec![event.id.to_string()] };
        for receiver in pair {
            assert_eq!(ids(receiver), want, "{user}'s webhook at {}", receiver.url);
        }
    }
    for (user, sees) in [(OWNER, 1), (MEMBERS[0].0, 1), (MEMBERS[1].0, 1), (STRANGER, 0)] {
        let entries = db.store.list_activity_in(user, list.id, 10).await.expect("activity");
        assert_eq!(entries.len(), sees, "{user} in the list's activity");
        let all = db.store.list_activity(user, None, 10).await.expect("activity");
        assert_eq!(all.len(), sees, "{user} in their activity");
    }
}

async fn a_member_removed_gets_nothing_written_after_the_removal(db: TestDb) {
    let (list, hooks) = household(&db).await;
    let (leaver, stayer) = (MEMBERS[1].0, MEMBERS[0].0);
    // Both events are in flight (written, not yet handled) when the removal
    // commits; the second was written after it.
    let before = created_in(&db, &list, "before").await;
    facts::removed(&db.store, &list, leaver).await;
    let after = created_in(&db, &list, "after").await;
    let app = task_created::app(db.store.clone(), None);
    let (a, b) =
        tokio::join!(post(&app, structured(&after.payload)), post(&app, structured(&before.payload)));
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK), "{a:?} {b:?}");
    send_owed(&db).await;

    let after_id = after.id.to_string();
    for receiver in &hooks[leaver] {
        assert!(
            !ids(receiver).contains(&after_id),
            "the removed member got an event written after: {receiver:?}"
        );
    }
    for user in [OWNER, stayer] {
        for receiver in &hooks[user] {
            let mut got = ids(receiver);
            got.sort();
            let mut want = vec![before.id.to_string(), after_id.clone()];
            want.sort();
            assert_eq!(got, want, "{user} gets both");
        }
    }
    assert!(db.store.list_activity(leaver, None, 10).await.expect("activity").is_empty(), "no activity");
    assert_eq!(db.store.list_activity_in(stayer, list.id, 10).await.expect("activity").len(), 2);
}
