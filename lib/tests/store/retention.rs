//! Pruning what has outlived its use, on both backends.

use todo_lib::activity::Activity;
use todo_lib::store::{Pruned, Retention};
use todo_lib::webhook::{Attempt, DeliveryStatus};

use super::*;

todo_testing::on_both_backends!(
    prune_deletes_only_finished_rows_older_than_their_cutoffs,
    prune_deletes_at_most_limit_rows_of_each_kind_per_call,
);

/// Rows older than `before`; links in mails (which live two days) expired by
/// two days after it.
fn cutoffs(before: DateTime<Utc>, limit: i64) -> Retention {
    Retention {
        published_before: before,
        processed_before: before,
        deliveries_before: before,
        links_expired_before: before + Duration::days(2),
        limit,
    }
}

/// `n` published outbox rows, `n` processed ids, `n` delivered webhook
/// deliveries, `n` sent mails and `n` sent push messages; plus one unpublished
/// row, one owed delivery, one owed mail and one owed push message, never
/// pruned. Each mail has a link (`n + 1`); the push messages' links live a
/// week, past the cutoff.
async fn rows(db: &TestDb, n: usize) {
    let hook = todo_testing::facts::webhook(&db.store, "alice", "https://hooks.example.com/x").await;
    let config = todo_lib::mail::MailConfig::default();
    let browser = todo_testing::browser_subscription("https://push.example.com/alice");
    let browser: todo_lib::push::SubscriptionInput = serde_json::from_value(browser).expect("input");
    let mut tx = db.store.begin().await.expect("begin");
    tx.subscribe_push(&browser.check("alice", false, Utc::now()).expect("valid"), 10)
        .await
        .expect("subscribe");
    tx.commit().await.expect("commit");
    let mut last_event = String::new();
    for i in 0..=n {
        let (t, e) = todo_testing::facts::created_titled(&db.store, "alice", &format!("t{i}")).await;
        let id = e.id.to_string();
        db.store.queue_webhook_deliveries(&id, t.list_id, "{}", Utc::now()).await.expect("queue");
        let reminder = todo_lib::mail::Reminder {
            event_id: &id,
            task_id: t.id,
            title: &t.title,
            due_at: None,
            time_zone: chrono_tz::UTC,
        };
        let push = todo_lib::push::NewPush::reminder("alice", &reminder, Utc::now(), Utc::now());
        assert_eq!(db.store.queue_pushes(&[push], Utc::now()).await.expect("queue"), [1]);
        last_event.clone_from(&id);
        let mail = todo_lib::mail::NewMail::confirmation(&config, "alice", "alice@example.com", Utc::now());
        assert_eq!(
            db.store.queue_mails(std::slice::from_ref(&mail), Utc::now()).await.expect("queue").len(),
            1
        );
        if i == n {
            break; // the unpublished row, the owed delivery and the owed mail
        }
        let sent = Attempt {
            status: DeliveryStatus::Delivered,
            status_code: Some(250),
            error: None,
            retry_at: None,
        };
        db.store.record_mail_attempt(mail.id, &sent, Utc::now()).await.expect("record");
        db.store.mark_published(e.id, Utc::now()).await.expect("mark");
        let data = todo_lib::event::TaskEventData {
            version: 1,
            user_id: "alice".into(),
            task: t.clone(),
            reminder_at: None,
            moved_from: None,
        };
        let activity = Activity::of_event(EventType::Created, &id, &data, Utc::now());
        assert!(db.store.record_activity_once("task-created", &activity, Utc::now()).await.expect("record"));
        let sent = Attempt {
            status: DeliveryStatus::Delivered,
            status_code: Some(200),
            error: None,
            retry_at: None,
        };
        let mut tx = db.store.begin().await.expect("begin");
        tx.record_webhook_attempt(&id, hook.id, &sent, Utc::now()).await.expect("record");
        tx.commit().await.expect("commit");
    }
    let claimed =
        db.store.claim_push(Utc::now(), std::time::Duration::from_secs(60), 100).await.expect("claim");
    assert_eq!(claimed.len(), n + 1);
    let sent =
        Attempt { status: DeliveryStatus::Delivered, status_code: Some(201), error: None, retry_at: None };
    for push in claimed.iter().filter(|p| p.event_id != last_event) {
        db.store.record_push_attempt(push.id, &sent, Utc::now()).await.expect("record");
    }
}

async fn prune_deletes_only_finished_rows_older_than_their_cutoffs(db: TestDb) {
    rows(&db, 3).await;
    let earlier = Utc::now() - Duration::minutes(1);
    assert_eq!(db.store.prune(&cutoffs(earlier, 100)).await.expect("prune"), Pruned::default());

    let later = Utc::now() + Duration::minutes(1);
    let pruned = db.store.prune(&cutoffs(later, 100)).await.expect("prune");
    assert_eq!(
        pruned,
        Pruned { outbox: 3, processed: 3, webhook_deliveries: 3, mail: 3, mail_links: 4, push: 3 }
    );
    assert_eq!(db.store.count_unpublished().await.expect("count"), 1, "the unpublished row stays");
    let mails = db.store.recent_mail(10).await.expect("mail");
    assert_eq!(
        mails.iter().map(|m| m.status.as_str()).collect::<Vec<_>>(),
        ["pending"],
        "the owed mail stays"
    );
    assert_eq!(db.store.count_owed_webhook_deliveries().await.expect("count"), 1, "the owed one stays");
    assert_eq!(db.store.prune(&cutoffs(later, 100)).await.expect("prune"), Pruned::default());
    assert_eq!(
        db.store.list_activity("alice", None, 10).await.expect("activity").len(),
        3,
        "users' data is never pruned"
    );
}

async fn prune_deletes_at_most_limit_rows_of_each_kind_per_call(db: TestDb) {
    rows(&db, 5).await;
    let later = Utc::now() + Duration::minutes(1);
    let first = db.store.prune(&cutoffs(later, 2)).await.expect("prune");
    assert_eq!(
        first,
        Pruned { outbox: 2, processed: 2, webhook_deliveries: 2, mail: 2, mail_links: 2, push: 2 }
    );
    let rest = db.store.prune(&cutoffs(later, 10)).await.expect("prune");
    assert_eq!(
        rest,
        Pruned { outbox: 3, processed: 3, webhook_deliveries: 3, mail: 3, mail_links: 4, push: 3 }
    );
}
