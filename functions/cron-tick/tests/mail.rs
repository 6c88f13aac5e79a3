//! Reminder mail from queue to a real SMTP server, on PostgreSQL and SQLite:
//! `task-due` queues one mail per reminder for a user who wants them by
//! e-mail at a confirmed address, and `cron-tick`'s ticks send it with lettre,
//! over TLS (implicit and STARTTLS) with AUTH, to aiosmtpd, which reads each
//! mail with Python's own parser. 4xx and a server that is down are retried
//! on the backoff schedule, 5xx is final, a redelivered event sends nothing
//! new, quiet hours hold a mail until they end, an unconfirmed address gets
//! nothing but its confirmation, and the one-click unsubscribe stops mail.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use cron_tick::TickSettings;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use todo_lib::event::OutboxEvent;
use todo_lib::mail::{MailConfig, Mailer, NewMail};
use todo_lib::sender::{Backoff, SenderSettings};
use todo_lib::settings::{QuietHours, Settings};
use todo_lib::task::NewTask;
use todo_testing::{ManualClock, SMTP_PASSWORD, SmtpServer, SmtpTls, TestDb, deliver_via_dapr, facts};
use tower::ServiceExt;

todo_testing::on_both_backends!(
    the_reminder_arrives_as_one_mail_with_its_headers_and_parts,
    a_4xx_is_retried_and_then_delivered_once,
    a_5xx_is_final,
    a_server_that_is_down_is_retried_and_nothing_is_lost,
    a_redelivered_reminder_sends_nothing_new,
    quiet_hours_hold_the_mail_and_release_it_once,
    an_unconfirmed_address_gets_only_its_confirmation,
    the_one_click_unsubscribe_stops_further_mail,
    a_reminder_kept_out_of_the_app_still_goes_by_mail,
    the_snooze_link_re_arms_the_reminder_once,
    a_shared_lists_assignee_is_mailed_not_its_creator,
);

const PUBLIC_URL: &str = "https://todo.example";

fn links() -> MailConfig {
    MailConfig { public_url: PUBLIC_URL.into(), ..MailConfig::default() }
}

/// The mailer that sends to `server`, trusting its CA.
fn mailer(server: &SmtpServer) -> Mailer {
    let config = MailConfig {
        smtp_url: Some(server.url().into()),
        smtp_ca_cert: Some(server.ca_cert()),
        mail_from: "Todo <reminders@todo.example>".into(),
        ..links()
    };
    let mailer = Mailer::from_config(&config).expect("the mail settings are usable");
    assert!(!format!("{mailer:?}").contains(SMTP_PASSWORD), "the password stays out of Debug");
    mailer
}

/// The test's clock: a minute ahead of the wall clock (what the functions
/// queue is due by it at once); from there only the test moves it.
fn clock() -> Arc<ManualClock> {
    ManualClock::starting_at(Utc::now() + chrono::Duration::minutes(1))
}

/// A cron-tick sending mail through `mailer`, retrying 300 ms apart twice,
/// with claims and retry times going by `clock`.
fn cron(db: &TestDb, mailer: Mailer, clock: &Arc<ManualClock>) -> Router {
    let clock: Arc<dyn todo_lib::clock::Clock> = clock.clone();
    let mail = SenderSettings {
        backoff: Backoff::new(vec![Duration::from_millis(300); 2]),
        // A round waits for its sends: the test reads what they came to.
        wait: Duration::from_secs(20),
        ..SenderSettings::default()
    };
    let settings = TickSettings { mail, mailer, clock, ..TickSettings::default() };
    cron_tick::app(db.store.clone(), None, settings, None, todo_testing::loopback_deliverer())
}

/// Runs one tick and returns its mail round.
async fn tick(cron: &Router) -> Value {
    let (status, body) =
        todo_testing::call(cron, Request::post("/").body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::OK);
    body["mail"].clone()
}

fn round(delivered: usize, failed: usize, retrying: usize) -> Value {
    json!({ "delivered": delivered, "failed": failed, "retrying": retrying, "in_flight": 0, "deferred": 0 })
}

/// Saves `user`'s settings: reminders by e-mail (and in the app) to `address`,
/// confirmed or not, in `zone`, with `quiet` hours.
async fn wants_mail(
    db: &TestDb,
    user: &str,
    address: &str,
    confirmed: bool,
    zone: &str,
    quiet: Option<QuietHours>,
) {
    let now = Utc::now();
    let mut settings = Settings::defaults(user);
    settings.time_zone = zone.parse().expect("a zone");
    settings.email = Some(address.into());
    settings.email_verified = confirmed;
    settings.email_verified_at = confirmed.then_some(now);
    settings.channels.reminders.email = true;
    settings.quiet_hours = quiet;
    settings.updated_at = Some(now);
    let mut tx = db.store.begin().await.expect("tx");
    tx.put_settings(&settings).await.expect("saved");
    tx.commit().await.expect("commit");
}

/// A task of `user` titled `title` due in five minutes, its reminder claimed
/// now, and the `task.due` event handled by `task-due`.
async fn reminded(db: &TestDb, user: &str, title: &str) -> (uuid::Uuid, OutboxEvent, DateTime<Utc>) {
    reminded_with(db, user, NewTask { title: Some(title.into()), ..NewTask::default() }).await
}

/// [`reminded`] for the task `input` describes (due in five minutes).
async fn reminded_with(db: &TestDb, user: &str, input: NewTask) -> (uuid::Uuid, OutboxEvent, DateTime<Utc>) {
    let now = Utc::now();
    let due_at = now + chrono::Duration::minutes(5);
    let input = NewTask { due_at: Some(due_at), remind_before_minutes: Some(5), ..input };
    let (task, _) = facts::created(&db.store, user, input, now).await;
    let due = facts::reminder(&db.store, &task, now + chrono::Duration::seconds(1)).await;
    deliver(db, &due).await;
    (task.id, due, task.due_at.expect("due"))
}

async fn deliver(db: &TestDb, due: &OutboxEvent) {
    let task_due = task_due::app_with_links(db.store.clone(), None, links());
    let (status, body) = deliver_via_dapr(&task_due, due).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "SUCCESS" })));
}

/// The API, where the links in mails lead.
fn api(db: &TestDb) -> Router {
    let secret = "mail-tests-only-secret-0123456789abcdef".to_owned().into();
    let auth = api::auth::Authenticator::with_secret(&secret).expect("a secret");
    api::app(api::AppState::new(db.store.clone(), Arc::new(auth)))
}

/// A form POST (or a GET when `form` is `None`) to `path` on the API: the
/// status and the page.
async fn open(db: &TestDb, path: &str, form: Option<&str>) -> (StatusCode, String) {
    let request = match form {
        Some(form) => Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned())),
        None => Request::get(path).body(Body::empty()),
    };
    let res = api(db).oneshot(request.expect("request")).await.expect("infallible");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn mail_statuses(db: &TestDb) -> Vec<String> {
    db.store.recent_mail(100).await.expect("mail reads").into_iter().map(|m| m.status).collect()
}

async fn the_reminder_arrives_as_one_mail_with_its_headers_and_parts(db: TestDb) {
    let server = SmtpServer::start(SmtpTls::Implicit);
    wants_mail(&db, "alice", "alice@example.com", true, "Europe/Berlin", None).await;
    let (task_id, event, due_at) = reminded(&db, "alice", "Pay <rent> & fees").await;
    let clock = clock();
    let cron = cron(&db, mailer(&server), &clock);
    assert_eq!(tick(&cron).await, round(1, 0, 0));
    assert_eq!(tick(&cron).await, round(0, 0, 0), "sent once");
    assert_eq!(mail_statuses(&db).await, ["delivered"]);

    let received = server.received();
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!((mail["tls"].as_bool(), mail["authenticated"].as_bool()), (Some(true), Some(true)));
    assert_eq!(mail["mail_from"], "reminders@todo.example");
    assert_eq!(mail["rcpt_tos"], json!(["alice@example.com"]));
    assert_eq!(mail["content_type"], "multipart/alternative");
    let headers = &mail["headers"];
    assert_eq!(headers["Subject"], "Reminder: Pay <rent> & fees");
    assert_eq!(headers["To"], "alice@example.com");
    assert_eq!(
        headers["Message-ID"].as_str(),
        Some(todo_lib::mail::smtp::message_id(&event.id.to_string(), "alice", "todo.example").as_str()),
        "derived from the event, so a resend is recognisable"
    );
    let unsubscribe = headers["List-Unsubscribe"].as_str().unwrap_or_default();
    assert!(
        unsubscribe.starts_with("<https://todo.example/mail/unsubscribe?token=todo_unsub_"),
        "{unsubscribe}"
    );
    assert_eq!(headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
    assert_eq!(headers["Auto-Submitted"], "auto-generated");

    let berlin: chrono_tz::Tz = "Europe/Berlin".parse().expect("zone");
    let local = due_at.with_timezone(&berlin).format("%a %-d %b %Y, %H:%M").to_string();
    let text = mail["text"].as_str().unwrap_or_default();
    let html = mail["html"].as_str().unwrap_or_default();
    assert!(text.contains("Reminder: Pay <rent> & fees"), "{text}");
    assert!(text.contains(&format!("Due {local} (Europe/Berlin)")), "{text}");
    assert!(text.contains(&format!("https://todo.example/?task={task_id}")), "{text}");
    assert!(text.contains("Mark it done: https://todo.example/mail/complete?token=todo_done_"), "{text}");
    assert!(html.contains("Pay &lt;rent&gt; &amp; fees") && !html.contains("<rent>"), "{html}");
    assert!(html.contains(&format!("https://todo.example/?task={task_id}")), "{html}");
    let in_app = db.store.list_notifications("alice", false, 10).await.expect("notifications");
    assert_eq!(in_app.len(), 1, "the app still shows it");
}

async fn a_4xx_is_retried_and_then_delivered_once(db: TestDb) {
    let server = SmtpServer::start(SmtpTls::StartTls);
    wants_mail(&db, "alice", "tempfail@example.com", true, "UTC", None).await;
    reminded(&db, "alice", "Standup").await;
    let clock = clock();
    let cron = cron(&db, mailer(&server), &clock);
    assert_eq!(tick(&cron).await, round(0, 0, 1));
    assert_eq!(tick(&cron).await, round(0, 0, 0), "the retry waits for its backoff");
    clock.advance(Duration::from_millis(400));
    assert_eq!(tick(&cron).await, round(1, 0, 0));
    let attempts = server.attempts();
    let answers: Vec<&str> = attempts.iter().filter_map(|a| a["answer"].as_str()).collect();
    assert_eq!(answers, ["451 4.3.0 Try again later", "250 OK"]);
    assert_eq!(attempts[0]["message_id"], attempts[1]["message_id"], "the same message, resent");
    assert_eq!(server.received().len(), 1);
    assert_eq!(server.received()[0]["tls"], true, "STARTTLS before anything else");
    assert_eq!(mail_statuses(&db).await, ["delivered"]);
}

async fn a_5xx_is_final(db: TestDb) {
    let server = SmtpServer::start(SmtpTls::Implicit);
    wants_mail(&db, "alice", "reject@example.com", true, "UTC", None).await;
    reminded(&db, "alice", "Standup").await;
    let clock = clock();
    let cron = cron(&db, mailer(&server), &clock);
    assert_eq!(tick(&cron).await, round(0, 1, 0));
    clock.advance(Duration::from_secs(3600));
    assert_eq!(tick(&cron).await, round(0, 0, 0), "never tried again");
    assert_eq!(server.attempts().len(), 1);
    assert_eq!(mail_statuses(&db).await, ["failed"]);
}

async fn a_server_that_is_down_is_retried_and_nothing_is_lost(db: TestDb) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let down = SmtpServer::start_on(SmtpTls::Implicit, Some(port));
    let mailer_of_down = mailer(&down);
    drop(down);
    wants_mail(&db, "alice", "alice@example.com", true, "UTC", None).await;
    reminded(&db, "alice", "Standup").await;
    let clock = clock();
    assert_eq!(tick(&cron(&db, mailer_of_down, &clock)).await, round(0, 0, 1), "no connection: retried");
    assert_eq!(mail_statuses(&db).await, ["pending"]);

    let up = SmtpServer::start_on(SmtpTls::Implicit, Some(port));
    clock.advance(Duration::from_millis(400));
    let cron = cron(&db, mailer(&up), &clock);
    assert_eq!(tick(&cron).await, round(1, 0, 0));
    assert_eq!(up.received().len(), 1);
}

async fn a_redelivered_reminder_sends_nothing_new(db: TestDb) {
    let server = SmtpServer::start(SmtpTls::Implicit);
    wants_mail(&db, "alice", "alice@example.com", true, "UTC", None).await;
    let (_, due, _) = reminded(&db, "alice", "Standup").await;
    deliver(&db, &due).await;
    let clock = clock();
    let cron = cron(&db, mailer(&server), &clock);
    assert_eq!(tick(&cron).await, round(1, 0, 0));
    deliver(&db, &due).await;
    assert_eq!(tick(&cron).await, round(0, 0, 0));
    assert_eq!(server.received().len(), 1);
    assert_eq!(mail_statuses(&db).await, ["delivered"], "one row for the event and user");
}

async fn quiet_hours_hold_the_mail_and_release_it_once(db: TestDb) {
    let server = SmtpServer::start(SmtpTls::Implicit);
    let now = Utc::now();
    let minute = |at: DateTime<Utc>| {
        todo_lib::settings::hh_mm::parse(&at.format("%H:%M").to_string()).expect("a time")
    };
    let quiet = QuietHours {
        start: minute(now - chrono::Duration::hours(1)),
        end: minute(now + chrono::Duration::hours(2)),
    };
    wants_mail(&db, "alice", "alice@example.com", true, "UTC", Some(quiet)).await;
    reminded(&db, "alice", "Standup").await;
    let queued = db.store.recent_mail(10).await.expect("mail");
    let release = queued[0].next_attempt_at;
    let hours = (release - now).num_minutes();
    assert!((118..=120).contains(&hours), "held until the quiet hours end: {release} ({hours} min from now)");

    let clock = clock();
    let cron = cron(&db, mailer(&server), &clock);
    assert_eq!(tick(&cron).await, round(0, 0, 0), "held");
    clock.advance(Duration::from_secs(2 * 3600 + 120));
    assert_eq!(tick(&cron).await, round(1, 0, 0), "sent when they end");
    assert_eq!(tick(&cron).await, round(0, 0, 0), "once");
    assert_eq!(server.received().len(), 1);
}

async fn an_unconfirmed_address_gets_only_its_confirmation(db: TestDb) {
    let server = SmtpServer::start(SmtpTls::Implicit);
    wants_mail(&db, "alice", "alice@example.com", false, "UTC", None).await;
    let now = Utc::now();
    let mut tx = db.store.begin().await.expect("tx");
    tx.queue_mail(&NewMail::confirmation(&links(), "alice", "alice@example.com", now), now)
        .await
        .expect("queued");
    tx.commit().await.expect("commit");
    reminded(&db, "alice", "Standup").await;
    let clock = clock();
    let cron = cron(&db, mailer(&server), &clock);
    assert_eq!(tick(&cron).await, round(1, 0, 0));
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["headers"]["Subject"], "Confirm your e-mail address for Todo");
    assert!(received[0]["headers"].get("List-Unsubscribe").is_none());
    assert!(
        received[0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("https://todo.example/mail/confirm?token=todo_confirm_")
    );
}

async fn the_one_click_unsubscribe_stops_further_mail(db: TestDb) {
    let server = SmtpServer::start(SmtpTls::Implicit);
    wants_mail(&db, "alice", "alice@example.com", true, "UTC", None).await;
    reminded(&db, "alice", "First").await;
    let clock = clock();
    let cron = cron(&db, mailer(&server), &clock);
    assert_eq!(tick(&cron).await, round(1, 0, 0));
    let header = server.received()[0]["headers"]["List-Unsubscribe"].as_str().unwrap_or_default().to_owned();
    let path = header.trim_start_matches('<').trim_end_matches('>').trim_start_matches(PUBLIC_URL).to_owned();

    // What a mail client does for RFC 8058's one-click unsubscribe.
    assert_eq!(open(&db, &path, Some("List-Unsubscribe=One-Click")).await.0, StatusCode::OK);

    reminded(&db, "alice", "Second").await;
    assert_eq!(tick(&cron).await, round(0, 0, 0));
    assert_eq!(server.received().len(), 1, "nothing after unsubscribing");
    assert_eq!(
        db.store.list_notifications("alice", false, 10).await.expect("in-app").len(),
        2,
        "the app still reminds"
    );
}

async fn a_reminder_kept_out_of_the_app_still_goes_by_mail(db: TestDb) {
    let server = SmtpServer::start(SmtpTls::Implicit);
    wants_mail(&db, "alice", "alice@example.com", true, "UTC", None).await;
    let mut settings = db.store.settings("alice").await.expect("settings");
    settings.channels.reminders.in_app = false;
    let mut tx = db.store.begin().await.expect("tx");
    tx.put_settings(&settings).await.expect("saved");
    tx.commit().await.expect("commit");
    reminded(&db, "alice", "Standup").await;
    assert!(db.store.list_notifications("alice", false, 10).await.expect("in-app").is_empty());
    let clock = clock();
    assert_eq!(tick(&cron(&db, mailer(&server), &clock)).await, round(1, 0, 0));
    assert_eq!(server.received().len(), 1);
}

async fn the_snooze_link_re_arms_the_reminder_once(db: TestDb) {
    let server = SmtpServer::start(SmtpTls::Implicit);
    wants_mail(&db, "alice", "alice@example.com", true, "Europe/Berlin", None).await;
    let (task_id, _, _) = reminded(&db, "alice", "Water the plants").await;
    let clock = clock();
    let cron = cron(&db, mailer(&server), &clock);
    assert_eq!(tick(&cron).await, round(1, 0, 0));
    let text = server.received()[0]["text"].as_str().unwrap_or_default().to_owned();
    let line = text.lines().find(|l| l.starts_with("Snooze it: ")).expect("a snooze link in the text");
    let path = line.trim_start_matches("Snooze it: ").trim_start_matches(PUBLIC_URL).to_owned();
    assert!(path.starts_with("/mail/snooze?token=todo_snooze_"), "{path}");

    let (status, page) = open(&db, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Water the plants") && page.contains("value=\"60\""), "{page}");
    let unchanged = db.store.get_task("alice", task_id).await.expect("read").expect("the task");
    assert_eq!(
        open(&db, &path, Some("minutes=7")).await.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "only what is offered"
    );

    let (status, page) = open(&db, &path, Some("minutes=60")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("(Europe/Berlin)"), "the time in the user's zone: {page}");
    let task = db.store.get_task("alice", task_id).await.expect("read").expect("the task");
    let again = task.remind_at.expect("re-armed");
    assert_ne!(Some(again), unchanged.remind_at);
    assert!((again - (Utc::now() + chrono::Duration::minutes(60))).num_seconds().abs() < 10, "{again}");
    let mut tx = db.store.begin().await.expect("tx");
    let claimed = tx.claim_due_reminders(again + chrono::Duration::days(1), 100).await.expect("claim");
    tx.commit().await.expect("commit");
    assert_eq!(claimed.iter().filter(|t| t.id == task_id).count(), 1, "one more reminder");

    // The same token does nothing else.
    let unsubscribe = path.replace("/mail/snooze", "/mail/unsubscribe");
    assert_eq!(open(&db, &unsubscribe, Some("")).await.0, StatusCode::NOT_FOUND);
}

async fn a_shared_lists_assignee_is_mailed_not_its_creator(db: TestDb) {
    let server = SmtpServer::start(SmtpTls::Implicit);
    let list =
        facts::shared_list(&db.store, "alice", "Flat", &[("bob", todo_lib::members::Role::Editor)]).await;
    wants_mail(&db, "alice", "alice@example.com", true, "UTC", None).await;
    wants_mail(&db, "bob", "bob@example.com", true, "Asia/Tokyo", None).await;
    let input = NewTask {
        title: Some("Take the bins out".into()),
        list_id: Some(list.id),
        assignee_id: Some("bob".into()),
        ..NewTask::default()
    };
    reminded_with(&db, "alice", input).await;
    let clock = clock();
    assert_eq!(tick(&cron(&db, mailer(&server), &clock)).await, round(1, 0, 0));
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["rcpt_tos"], json!(["bob@example.com"]), "the assignee, not the creator");
    assert!(
        received[0]["text"].as_str().unwrap_or_default().contains("(Asia/Tokyo)"),
        "in the assignee's zone"
    );
}
