//! Personal access tokens through the API, on both backends: made by a
//! signed-in user and shown once, accepted beside JWTs within their scopes,
//! revoked at once, refused when expired, never managing tokens themselves.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use common::{TestApp, TestResponse};
use serde_json::{Value, json};
use todo_lib::access_tokens::{AccessToken, NewAccessToken, Scope};
use todo_lib::secret_token;

both_backends!(
    a_token_is_shown_once_and_listed_without_its_secret,
    a_token_signs_in_as_its_user_within_its_scopes,
    revoking_a_token_takes_effect_on_the_next_request,
    an_expired_or_unknown_token_is_refused,
    a_token_cannot_manage_tokens,
    nobody_lists_or_revokes_anothers_tokens,
    bad_input_is_refused_and_stores_nothing,
    the_last_use_is_shown,
);

/// A request with `bearer` as the token.
async fn with_token(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> TestResponse {
    let auth = format!("Bearer {bearer}");
    app.send_with(method, path, None, body, &[("authorization", auth.as_str())]).await
}

/// A token of `user` with `scopes`; its secret.
async fn make(app: &TestApp, user: &str, scopes: &[&str]) -> String {
    let res = app
        .send(Method::POST, "/v1/tokens", Some(user), Some(json!({"name": "cli", "scopes": scopes})))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body["token"].as_str().expect("the secret").to_owned()
}

async fn a_token_is_shown_once_and_listed_without_its_secret(app: TestApp) {
    let body = json!({"name": "Claude on my laptop", "scopes": ["tasks:read", "tasks:write"], "expires_in_days": 30});
    let res = app.send(Method::POST, "/v1/tokens", Some("alice"), Some(body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let secret = res.body["token"].as_str().expect("shown").to_owned();
    assert!(secret.starts_with("todo_pat_"));
    assert_eq!(res.body["scopes"], json!(["tasks:read", "tasks:write"]));
    assert!(res.body["expires_at"].is_string());

    let list = app.send(Method::GET, "/v1/tokens", Some("alice"), None).await;
    assert_eq!(list.status, StatusCode::OK);
    let items = list.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "Claude on my laptop");
    assert_eq!(items[0]["last_used_at"], Value::Null);
    let text = list.body.to_string();
    assert!(!text.contains(&secret) && !text.contains(&secret_token::hash(&secret)), "{text}");
}

async fn a_token_signs_in_as_its_user_within_its_scopes(app: TestApp) {
    app.create_titled("alice", "Alice's").await;
    let reader = make(&app, "alice", &["tasks:read"]).await;
    let writer = make(&app, "alice", &["tasks:write"]).await;

    let read = with_token(&app, Method::GET, "/v1/tasks", &reader, None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["items"][0]["title"], "Alice's", "it reads as alice");

    let refused = with_token(&app, Method::POST, "/v1/tasks", &reader, Some(json!({"title": "x"}))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "insufficient_scope");
    assert_eq!(
        refused.header("www-authenticate"),
        Some(r#"Bearer realm="todo", error="insufficient_scope", scope="tasks:write""#)
    );
    let blind = with_token(&app, Method::GET, "/v1/tags", &writer, None).await;
    assert_eq!(blind.code(), "insufficient_scope", "writing is not reading");

    let made = with_token(&app, Method::POST, "/v1/tasks", &writer, Some(json!({"title": "By token"}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(app.outbox_len().await, 2, "the refused write wrote nothing");
    let seen = app.send(Method::GET, "/v1/tasks?q=By%20token", Some("alice"), None).await;
    assert_eq!(seen.body["items"].as_array().map(Vec::len), Some(1), "the task is alice's");
}

async fn revoking_a_token_takes_effect_on_the_next_request(app: TestApp) {
    let secret = make(&app, "alice", &["tasks:read"]).await;
    assert_eq!(with_token(&app, Method::GET, "/v1/tasks", &secret, None).await.status, StatusCode::OK);
    let id = app.send(Method::GET, "/v1/tokens", Some("alice"), None).await.body["items"][0]["id"].clone();
    let id = id.as_str().expect("an id").to_owned();
    let revoked = app.send(Method::DELETE, &format!("/v1/tokens/{id}"), Some("alice"), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let after = with_token(&app, Method::GET, "/v1/tasks", &secret, None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.header("www-authenticate"), Some(r#"Bearer realm="todo", error="invalid_token""#));
    let again = app.send(Method::DELETE, &format!("/v1/tokens/{id}"), Some("alice"), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

async fn an_expired_or_unknown_token_is_refused(app: TestApp) {
    let input = NewAccessToken {
        name: Some("old".into()),
        scopes: Some(vec![Scope::TasksRead]),
        expires_in_days: Some(1),
    };
    let (mut token, secret) =
        AccessToken::create("alice", input, Utc::now() - Duration::days(2)).expect("valid");
    token.expires_at = Some(Utc::now() - Duration::seconds(1));
    let mut tx = app.db.store.begin().await.expect("begin");
    assert!(tx.insert_access_token(&token, 10).await.expect("insert"));
    tx.commit().await.expect("commit");
    use secrecy::ExposeSecret;
    let expired = with_token(&app, Method::GET, "/v1/tasks", secret.expose_secret(), None).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    let unknown = with_token(
        &app,
        Method::GET,
        "/v1/tasks",
        "todo_pat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        None,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.code(), "unauthorized");
}

async fn a_token_cannot_manage_tokens(app: TestApp) {
    let secret = make(&app, "alice", &["tasks:read", "tasks:write"]).await;
    let body = json!({"name": "more", "scopes": ["tasks:write"]});
    for (method, path, body) in [
        (Method::POST, "/v1/tokens".to_owned(), Some(body)),
        (Method::GET, "/v1/tokens".to_owned(), None),
        (Method::DELETE, format!("/v1/tokens/{}", uuid::Uuid::now_v7()), None),
    ] {
        let res = with_token(&app, method.clone(), &path, &secret, body).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{method} {path}: {}", res.body);
    }
    let list = app.send(Method::GET, "/v1/tokens", Some("alice"), None).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1), "no token was made by a token");
}

async fn nobody_lists_or_revokes_anothers_tokens(app: TestApp) {
    make(&app, "alice", &["tasks:read"]).await;
    let id = app.send(Method::GET, "/v1/tokens", Some("alice"), None).await.body["items"][0]["id"].clone();
    let id = id.as_str().expect("an id").to_owned();
    let bobs = app.send(Method::GET, "/v1/tokens", Some("bob"), None).await;
    assert_eq!(bobs.body["items"], json!([]));
    let revoke = app.send(Method::DELETE, &format!("/v1/tokens/{id}"), Some("bob"), None).await;
    assert_eq!(revoke.status, StatusCode::NOT_FOUND);
    let still = app.send(Method::GET, "/v1/tokens", Some("alice"), None).await;
    assert_eq!(still.body["items"].as_array().map(Vec::len), Some(1));
}

async fn bad_input_is_refused_and_stores_nothing(app: TestApp) {
    let cases = [
        (json!({"name": "x", "scopes": ["admin"]}), StatusCode::BAD_REQUEST, "invalid_json"),
        (
            json!({"name": "x", "scopes": ["tasks:read"], "owner": "bob"}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (json!({"name": " ", "scopes": []}), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        (
            json!({"name": "x", "scopes": ["tasks:read"], "expires_in_days": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
    ];
    for (body, status, code) in cases {
        let res = app.send(Method::POST, "/v1/tokens", Some("alice"), Some(body.clone())).await;
        assert_eq!((res.status, res.code()), (status, code), "{body}: {}", res.body);
    }
    let missing = app.send(Method::POST, "/v1/tokens", Some("alice"), Some(json!({}))).await;
    assert_eq!(missing.detail_fields(), ["name", "scopes"]);
    let list = app.send(Method::GET, "/v1/tokens", Some("alice"), None).await;
    assert_eq!(list.body["items"], json!([]));
}

async fn the_last_use_is_shown(app: TestApp) {
    let secret = make(&app, "alice", &["tasks:read"]).await;
    with_token(&app, Method::GET, "/v1/tasks", &secret, None).await;
    let list = app.send(Method::GET, "/v1/tokens", Some("alice"), None).await;
    let used = list.body["items"][0]["last_used_at"].as_str().expect("recorded");
    let used: chrono::DateTime<Utc> = used.parse().expect("RFC 3339");
    assert!((Utc::now() - used).num_seconds().abs() < 60, "{used}");
}
