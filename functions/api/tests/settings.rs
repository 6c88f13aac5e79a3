//! Notification settings through the API, on both backends: the defaults, a
//! whole replacement, every bad field named at once and nothing stored, a new
//! address confirmed only by the link mailed to it, one-click unsubscribe,
//! and the pages those links open (no sign-in, strict CSP, `GET` never acts).

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, TestResponse};
use serde_json::{Value, json};

both_backends!(
    a_user_without_settings_has_the_defaults,
    settings_are_replaced_whole_and_kept_per_user,
    every_bad_field_is_named_and_nothing_is_stored,
    a_new_address_is_confirmed_only_by_its_link,
    a_changed_address_needs_confirming_again_and_the_old_link_does_nothing,
    unsubscribing_in_one_click_stops_mail,
    a_personal_access_token_cannot_change_the_address,
    link_pages_refuse_unknown_tokens_and_carry_the_strict_policy,
);

fn body(zone: &str, email: Value) -> Value {
    json!({
        "time_zone": zone,
        "email": email,
        "channels": {"reminders": {"in_app": true, "email": true, "push": false, "webhooks": false}},
        "quiet_hours": {"start": "22:00", "end": "07:00"},
    })
}

async fn put(app: &TestApp, user: &str, body: Value) -> TestResponse {
    app.send(Method::PUT, "/v1/me/settings", Some(user), Some(body)).await
}

/// The link of `path` (`mail/confirm`, `mail/unsubscribe`) in the newest mail
/// to `address`, as a path with its query.
async fn link_in_mail(app: &TestApp, address: &str, path: &str) -> String {
    let mails = app.db.store.recent_mail(50).await.expect("mail reads");
    let mail = mails.iter().find(|m| m.address == address).expect("a mail to the address");
    let at = mail.text.find(&format!("/{path}?token=")).expect("the link is in the text");
    let start = mail.text[..at].rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let link: String = mail.text[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    assert!(mail.html.contains(&link), "the HTML part carries the same link");
    link
}

/// A form `POST` to a page, as a browser sends it (no sign-in).
async fn post_form(app: &TestApp, path: &str, form: &str) -> (StatusCode, String) {
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .expect("request");
    let res = app.call(req).await;
    (res.status, res.body.as_str().unwrap_or_default().to_owned())
}

async fn page(app: &TestApp, path: &str) -> TestResponse {
    app.send(Method::GET, path, None, None).await
}

async fn a_user_without_settings_has_the_defaults(app: TestApp) {
    let res = app.send(Method::GET, "/v1/me/settings", Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        res.body,
        json!({
            "time_zone": "UTC",
            "email": null,
            "email_verified": false,
            "channels": {"reminders": {"in_app": true, "email": false, "push": false, "webhooks": true}},
            "quiet_hours": null,
            "updated_at": null,
        })
    );
    let anonymous = app.send(Method::GET, "/v1/me/settings", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn settings_are_replaced_whole_and_kept_per_user(app: TestApp) {
    let saved = put(&app, "alice", body("Europe/Berlin", json!("alice@example.com"))).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.body["time_zone"], "Europe/Berlin");
    assert_eq!(saved.body["quiet_hours"], json!({"start": "22:00", "end": "07:00"}));
    assert_eq!(saved.body["email_verified"], false);
    let read = app.send(Method::GET, "/v1/me/settings", Some("alice"), None).await;
    assert_eq!(read.body, saved.body, "what was saved is what is read");
    let bob = app.send(Method::GET, "/v1/me/settings", Some("bob"), None).await;
    assert_eq!(bob.body["time_zone"], "UTC", "another user's are their own");

    let mut again = body("Asia/Tokyo", json!("alice@example.com"));
    again["quiet_hours"] = Value::Null;
    let replaced = put(&app, "alice", again).await;
    assert_eq!(replaced.status, StatusCode::OK);
    assert_eq!(
        (replaced.body["time_zone"].as_str(), &replaced.body["quiet_hours"]),
        (Some("Asia/Tokyo"), &Value::Null)
    );
    let confirmations = app.db.store.recent_mail(50).await.expect("mail").len();
    assert_eq!(confirmations, 1, "the same address is not asked to confirm twice");
}

async fn every_bad_field_is_named_and_nothing_is_stored(app: TestApp) {
    let mut bad = body("Mars/Olympus", json!("not-an-address"));
    bad["quiet_hours"] = json!({"start": "08:00", "end": "08:00"});
    let res = put(&app, "alice", bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.code(), "validation_failed");
    assert_eq!(res.detail_fields(), ["time_zone", "email", "quiet_hours"]);

    let mut unreadable = body("UTC", Value::Null);
    unreadable["quiet_hours"] = json!({"start": "10pm", "end": "07:00"});
    let res = put(&app, "alice", unreadable).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert!(res.body["error"]["message"].as_str().unwrap_or_default().contains("HH:MM"), "{}", res.body);

    let mut unknown = body("UTC", Value::Null);
    unknown["channels"]["reminders"]["sms"] = json!(true);
    assert_eq!(put(&app, "alice", unknown).await.status, StatusCode::BAD_REQUEST);
    let mut missing = body("UTC", Value::Null);
    missing.as_object_mut().map(|o| o.remove("channels"));
    assert_eq!(put(&app, "alice", missing).await.status, StatusCode::BAD_REQUEST);

    let read = app.send(Method::GET, "/v1/me/settings", Some("alice"), None).await;
    assert_eq!(read.body["updated_at"], Value::Null, "nothing was stored");
    assert!(app.db.store.recent_mail(50).await.expect("mail").is_empty(), "and nothing mailed");
}

async fn a_new_address_is_confirmed_only_by_its_link(app: TestApp) {
    let saved = put(&app, "alice", body("UTC", json!("alice@example.com"))).await;
    assert_eq!(saved.body["email_verified"], false);
    let mails = app.db.store.recent_mail(50).await.expect("mail");
    assert_eq!(mails.len(), 1);
    assert_eq!(
        (mails[0].subject.as_str(), mails[0].unsubscribe_url.as_deref()),
        ("Confirm your e-mail address for Todo", None)
    );
    let link = link_in_mail(&app, "alice@example.com", "mail/confirm").await;
    assert!(link.starts_with("http://127.0.0.1:8080/mail/confirm?token=todo_confirm_"), "{link}");
    let path = link.trim_start_matches("http://127.0.0.1:8080");

    // Opening the link shows a page and changes nothing (mail scanners open links).
    let shown = page(&app, path).await;
    assert_eq!(shown.status, StatusCode::OK);
    let html = shown.body.as_str().unwrap_or_default();
    assert!(html.contains("alice@example.com") && html.contains("<form method=\"post\">"), "{html}");
    let still = app.send(Method::GET, "/v1/me/settings", Some("alice"), None).await;
    assert_eq!(still.body["email_verified"], false);

    let (status, html) = post_form(&app, path, "").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Address confirmed"), "{html}");
    let confirmed = app.send(Method::GET, "/v1/me/settings", Some("alice"), None).await;
    assert_eq!(
        (confirmed.body["email"].as_str(), &confirmed.body["email_verified"]),
        (Some("alice@example.com"), &json!(true))
    );
    // Saving the same address again keeps it confirmed.
    let kept = put(&app, "alice", body("Europe/Paris", json!("alice@example.com"))).await;
    assert_eq!(kept.body["email_verified"], true);

    let resend = app.send(Method::POST, "/v1/me/settings/email/confirmation", Some("alice"), None).await;
    assert_eq!((resend.status, resend.code()), (StatusCode::CONFLICT, "nothing_to_confirm"));
}

async fn a_changed_address_needs_confirming_again_and_the_old_link_does_nothing(app: TestApp) {
    put(&app, "alice", body("UTC", json!("old@example.com"))).await;
    let old = link_in_mail(&app, "old@example.com", "mail/confirm").await;
    let changed = put(&app, "alice", body("UTC", json!("new@example.com"))).await;
    assert_eq!(
        (changed.body["email"].as_str(), &changed.body["email_verified"]),
        (Some("new@example.com"), &json!(false))
    );

    let (status, html) = post_form(&app, old.trim_start_matches("http://127.0.0.1:8080"), "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    let read = app.send(Method::GET, "/v1/me/settings", Some("alice"), None).await;
    assert_eq!(read.body["email_verified"], false, "the old address's link confirmed nothing");

    let resend = app.send(Method::POST, "/v1/me/settings/email/confirmation", Some("alice"), None).await;
    assert_eq!(resend.status, StatusCode::ACCEPTED);
    let to_new = app
        .db
        .store
        .recent_mail(50)
        .await
        .expect("mail")
        .iter()
        .filter(|m| m.address == "new@example.com")
        .count();
    assert_eq!(to_new, 2, "the first link and the one sent again");
    let link = link_in_mail(&app, "new@example.com", "mail/confirm").await;
    let (status, _) = post_form(&app, link.trim_start_matches("http://127.0.0.1:8080"), "").await;
    assert_eq!(status, StatusCode::OK);
    let read = app.send(Method::GET, "/v1/me/settings", Some("alice"), None).await;
    assert_eq!(read.body["email_verified"], true);
}

async fn unsubscribing_in_one_click_stops_mail(app: TestApp) {
    use todo_lib::mail::{LinkPurpose, MailLink};
    put(&app, "alice", body("UTC", json!("alice@example.com"))).await;
    // The link a reminder mail carries, stored as queueing one stores it.
    let (link, token) = MailLink::new(LinkPurpose::Unsubscribe, "alice", None, chrono::Utc::now());
    let mail = todo_lib::mail::NewMail {
        links: vec![link],
        ..todo_lib::mail::NewMail::confirmation(
            &Default::default(),
            "alice",
            "alice@example.com",
            chrono::Utc::now(),
        )
    };
    let mut tx = app.db.store.begin().await.expect("tx");
    tx.queue_mail(&mail, chrono::Utc::now()).await.expect("queued");
    tx.commit().await.expect("commit");
    let path = format!("/mail/unsubscribe?token={}", secrecy::ExposeSecret::expose_secret(&token));

    let shown = page(&app, &path).await;
    assert_eq!(shown.status, StatusCode::OK);
    let read = app.send(Method::GET, "/v1/me/settings", Some("alice"), None).await;
    assert_eq!(read.body["channels"]["reminders"]["email"], true, "opening the link changed nothing");

    // RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click` to the URL.
    let (status, html) = post_form(&app, &path, "List-Unsubscribe=One-Click").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let read = app.send(Method::GET, "/v1/me/settings", Some("alice"), None).await;
    assert_eq!(read.body["channels"]["reminders"]["email"], false);
    assert_eq!(read.body["channels"]["reminders"]["in_app"], true, "only mail stops");
    // A second click (or a client's retry) is answered the same.
    assert_eq!(post_form(&app, &path, "List-Unsubscribe=One-Click").await.0, StatusCode::OK);
}

async fn a_personal_access_token_cannot_change_the_address(app: TestApp) {
    let made = app
        .send(
            Method::POST,
            "/v1/tokens",
            Some("alice"),
            Some(json!({"name": "cli", "scopes": ["tasks:read", "tasks:write"]})),
        )
        .await;
    let secret = made.body["token"].as_str().expect("token").to_owned();
    let auth = format!("Bearer {secret}");
    let res = app
        .send_with(
            Method::PUT,
            "/v1/me/settings",
            None,
            Some(body("UTC", json!("evil@example.com"))),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert!(app.db.store.recent_mail(50).await.expect("mail").is_empty());
    // The rest it may change.
    let res = app
        .send_with(
            Method::PUT,
            "/v1/me/settings",
            None,
            Some(body("Asia/Tokyo", Value::Null)),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!((res.status, res.body["time_zone"].as_str()), (StatusCode::OK, Some("Asia/Tokyo")));
}

async fn link_pages_refuse_unknown_tokens_and_carry_the_strict_policy(app: TestApp) {
    for path in
        ["/mail/confirm?token=todo_confirm_nope", "/mail/unsubscribe", "/mail/unsubscribe?token=%3Cscript%3E"]
    {
        let res = page(&app, path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        let csp = res.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'") && csp.contains("form-action 'self'"), "{csp}");
        assert!(!res.body.as_str().unwrap_or_default().contains("<script>"));
        assert_eq!(post_form(&app, path, "").await.0, StatusCode::NOT_FOUND, "{path}");
    }
    // An unsubscribe token does not confirm, nor a confirmation unsubscribe.
    put(&app, "alice", body("UTC", json!("alice@example.com"))).await;
    let confirm = link_in_mail(&app, "alice@example.com", "mail/confirm").await;
    let wrong =
        confirm.trim_start_matches("http://127.0.0.1:8080").replace("/mail/confirm", "/mail/unsubscribe");
    assert_eq!(post_form(&app, &wrong, "").await.0, StatusCode::NOT_FOUND);
}
