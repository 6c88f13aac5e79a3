//! Rate limits as callers meet them: a user's burst refused with 429 and the
//! IETF headers while another user goes on, on both stores of budgets (the
//! process's own, and real Redis); two `api` processes spending one budget
//! through Redis; Redis stopped mid-test; floods without a credential counted
//! per client address over real sockets.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use api::AppState;
use api::limit::RateLimits;
use axum::http::{Method, StatusCode};
use common::process::{Running, command, free_port, temp_dir, wait_until_healthy};
use common::{TestApp, TestResponse};
use secrecy::SecretString;
use serde_json::{Value, json};
use todo_lib::rate_limit::RateLimitConfig;
use todo_testing::{PrivateRedis, redis_url};

/// Three writes at once, then one a minute; reads and the rest as configured.
fn config(redis: Option<String>) -> RateLimitConfig {
    RateLimitConfig {
        redis_url: redis.map(SecretString::from),
        rate_limit_write_per_minute: 1,
        rate_limit_write_burst: 3,
        rate_limit_anonymous_per_minute: 1,
        rate_limit_anonymous_burst: 3,
        rate_limit_sign_in_per_minute: 1,
        rate_limit_sign_in_burst: 2,
        ..RateLimitConfig::default()
    }
}

async fn app(limits: RateLimits) -> TestApp {
    let db = todo_testing::sqlite().await;
    let state = AppState { limits, ..TestApp::state(&db, TestApp::authenticator(), Default::default()) };
    TestApp::from_state(db, state)
}

/// Waits (bounded) until `/readyz` says the budgets are kept where `backend` says.
async fn until_backend(app: &TestApp, backend: &str) -> TestResponse {
    for _ in 0..500 {
        let ready = app.send(Method::GET, "/readyz", None, None).await;
        if ready.body["rate_limiter"]["backend"] == backend {
            return ready;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the rate limiter never reported {backend}");
}

/// A user no other run of the suite has spent from (Redis outlives test runs).
fn someone() -> String {
    format!("user-{}", uuid::Uuid::new_v4().simple())
}

async fn burst_then_refusal(app: &TestApp) {
    let (alice, bob) = (someone(), someone());
    let mut answers = Vec::new();
    for n in 0..4 {
        answers.push(
            app.send(Method::POST, "/v1/tasks", Some(&alice), Some(json!({ "title": format!("task {n}") })))
                .await,
        );
    }
    let statuses: Vec<_> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::CREATED, StatusCode::CREATED, StatusCode::TOO_MANY_REQUESTS]
    );

    // Every answer names its policy and what is left of it.
    let remaining: Vec<_> =
        answers.iter().map(|a| a.header("ratelimit").expect("RateLimit").to_owned()).collect();
    assert!(remaining[0].starts_with(r#""write";r=2;t="#), "{remaining:?}");
    assert!(remaining[2].starts_with(r#""write";r=0;t="#), "{remaining:?}");
    assert!(answers.iter().all(|a| a.header("ratelimit-policy") == Some(r#""write";q=3;w=180"#)));

    let refused = &answers[3];
    assert_eq!(refused.code(), "rate_limited");
    assert!(
        refused.body["error"]["message"].as_str().is_some_and(|m| m.contains("write")),
        "{:?}",
        refused.body
    );
    let wait: u64 = refused.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!((55..=60).contains(&wait), "a unit comes back each minute: {wait}");
    // Nothing of the refused request was done.
    let listed = app.send(Method::GET, "/v1/tasks", Some(&alice), None).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(3));
    // Reads are a budget of their own.
    assert_eq!(listed.status, StatusCode::OK);
    assert!(listed.header("ratelimit").is_some_and(|h| h.starts_with(r#""read";"#)));

    // Another user in the same second spends from their own budget.
    for n in 0..3 {
        let created = app
            .send(Method::POST, "/v1/tasks", Some(&bob), Some(json!({ "title": format!("task {n}") })))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    }
}

#[tokio::test]
async fn a_burst_over_the_limit_is_refused_while_another_user_goes_on_in_process() {
    let app = app(RateLimits::from_config(&config(None)).expect("limits")).await;
    assert_eq!(until_backend(&app, "in-process").await.body["rate_limiter"].get("degraded"), None);
    burst_then_refusal(&app).await;
}

#[tokio::test]
async fn a_burst_over_the_limit_is_refused_while_another_user_goes_on_in_redis() {
    let app = app(RateLimits::from_config(&config(Some(redis_url()))).expect("limits")).await;
    until_backend(&app, "redis").await;
    burst_then_refusal(&app).await;
}

#[tokio::test]
async fn with_redis_stopped_requests_go_on_and_readyz_says_so() {
    let mut redis = PrivateRedis::start();
    let app = app(RateLimits::from_config(&config(Some(redis.url()))).expect("limits")).await;
    until_backend(&app, "redis").await;
    let alice = someone();
    let first = app.send(Method::POST, "/v1/tasks", Some(&alice), Some(json!({ "title": "before" }))).await;
    assert_eq!(first.status, StatusCode::CREATED);

    redis.stop();
    for title in ["during 1", "during 2"] {
        let created =
            app.send(Method::POST, "/v1/tasks", Some(&alice), Some(json!({ "title": title }))).await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "never failed for the limiter's store: {:?}",
            created.body
        );
    }
    let ready = app.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "still ready: {:?}", ready.body);
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["rate_limiter"]["backend"], "in-process");
    assert!(
        ready.body["rate_limiter"]["degraded"].as_str().is_some_and(|d| d.contains("Redis")),
        "{:?}",
        ready.body
    );
    // The process's own budgets still limit.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let res = app.send(Method::POST, "/v1/tasks", Some(&alice), Some(json!({ "title": "more" }))).await;
        statuses.push(res.status);
    }
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    let metrics = app.send(Method::GET, "/metrics", None, None).await;
    assert!(
        metrics.body.as_str().is_some_and(|m| m.contains("todo_rate_limiter_redis_up 0")),
        "{:?}",
        metrics.body
    );

    redis.start_server();
    until_backend(&app, "redis").await;
}

#[tokio::test]
async fn two_api_processes_spend_one_users_budget_through_redis() {
    let dir = temp_dir();
    let url = format!("sqlite://{}/todo.db", dir.display());
    let migrated = command(&url, free_port()).arg("migrate").output().expect("api migrate runs");
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    let client = reqwest::Client::new();
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let port = free_port();
        let mut cmd = command(&url, port);
        cmd.env("REDIS_URL", redis_url())
            .env("RATE_LIMIT_WRITE_BURST", "4")
            .env("RATE_LIMIT_WRITE_PER_MINUTE", "1");
        let running = Running(cmd.spawn().expect("api starts"));
        let base = format!("http://127.0.0.1:{port}");
        wait_until_healthy(&client, &base).await;
        until_shared(&client, &base).await;
        replicas.push((running, base));
    }
    let token = common::token(&someone());
    let mut statuses = Vec::new();
    for n in 0..6 {
        let base = &replicas[n % 2].1;
        let res = client
            .post(format!("{base}/v1/tasks"))
            .bearer_auth(&token)
            .json(&json!({ "title": format!("task {n}") }))
            .send()
            .await
            .expect("answered");
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 201, 201, 429, 429], "one budget of four across both replicas");
    drop(replicas);
    let _ = std::fs::remove_dir_all(dir);
}

async fn until_shared(client: &reqwest::Client, base: &str) {
    for _ in 0..500 {
        let ready: Value =
            client.get(format!("{base}/readyz")).send().await.expect("readyz").json().await.expect("json");
        if ready["rate_limiter"]["backend"] == "redis" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{base} never reached Redis");
}

/// The app served over a real socket, so each request has a peer address.
async fn served(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(todo_lib::serve::serve_tcp(
        listener,
        app.router.clone(),
        std::future::pending(),
        Duration::from_secs(1),
        todo_lib::serve::ConnectionLimits::default(),
    ));
    base
}

/// A client whose requests come from `address` (any of 127.0.0.0/8 on loopback).
fn client_from(address: &str) -> reqwest::Client {
    let address: IpAddr = address.parse().expect("an address");
    reqwest::Client::builder().local_address(address).build().expect("a client")
}

#[tokio::test]
async fn requests_without_a_valid_credential_are_limited_per_address() {
    let app = app(RateLimits::from_config(&config(None)).expect("limits")).await;
    let base = served(&app).await;
    let (mallory, neighbour) = (client_from("127.0.0.1"), client_from("127.0.0.2"));

    // No token, a forged token, a feed or invitation URL: one budget per address.
    let mut statuses = Vec::new();
    let calls = [
        (Method::GET, "/v1/tasks", None),
        (Method::GET, "/v1/tasks", Some("forged")),
        (Method::POST, "/v1/invitations/abc/accept", None),
        (Method::GET, "/v1/tasks", None),
    ];
    for (method, path, token) in calls {
        let mut request = mallory.request(method, format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let res = request.send().await.expect("answered");
        assert!(
            res.headers()
                .get("ratelimit")
                .is_some_and(|h| h.to_str().is_ok_and(|h| h.starts_with(r#""anonymous";"#)))
        );
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses[..3].iter().filter(|s| **s == 429).count(), 0, "{statuses:?}");
    assert_eq!(statuses[3], 429, "{statuses:?}");

    // Another address is untouched, and a signed-in user from the flooded one too.
    let other = neighbour.get(format!("{base}/v1/tasks")).send().await.expect("answered");
    assert_eq!(other.status(), 401);
    let signed_in = mallory
        .get(format!("{base}/v1/tasks"))
        .bearer_auth(common::token(&someone()))
        .send()
        .await
        .expect("answered");
    assert_eq!(signed_in.status(), 200);
}

/// A page load asks for twenty files: they spend no budget (an office behind
/// one address reloading the app would otherwise lock itself out of it), and
/// a browser that holds a file already is answered 304 by its `ETag`.
#[tokio::test]
async fn the_web_app_s_files_spend_no_budget_and_answer_304_when_held() {
    let app = app(RateLimits::from_config(&config(None)).expect("limits")).await;
    let base = served(&app).await;
    let client = client_from("127.0.0.3");
    // Ten loads of the page's files, over an anonymous budget of three.
    for _ in 0..10 {
        for path in ["/", "/app.js", "/app.css", "/api.js", "/words.js", "/favicon.svg", "/docs"] {
            let res = client.get(format!("{base}{path}")).send().await.expect("answered");
            assert_eq!(res.status(), 200, "{path}");
            assert!(res.headers().get("ratelimit").is_none(), "{path} spent from a budget");
        }
    }
    let first = client.get(format!("{base}/app.js")).send().await.expect("answered");
    let tag = first.headers().get("etag").expect("an ETag").to_str().expect("text").to_owned();
    assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
    let held =
        client.get(format!("{base}/app.js")).header("if-none-match", &tag).send().await.expect("answered");
    assert_eq!(held.status(), 304);
    assert!(held.headers().get("content-security-policy").is_some(), "the 304 keeps the headers");
    assert!(held.bytes().await.expect("body").is_empty());
    let other =
        client.get(format!("{base}/api.js")).header("if-none-match", &tag).send().await.expect("answered");
    assert_eq!(other.status(), 200, "another file's tag does not match");

    // The API's budget for the address is whole: three anonymous calls, then 429.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses
            .push(client.get(format!("{base}/v1/tasks")).send().await.expect("answered").status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_counted() {
    let mut config = config(None);
    config.trusted_proxies = Some("127.0.0.1".into());
    let app = app(RateLimits::from_config(&config).expect("limits")).await;
    let base = served(&app).await;
    let proxy = client_from("127.0.0.1");
    let from =
        |client: &str| proxy.get(format!("{base}/v1/tasks")).header("x-forwarded-for", client.to_owned());
    for _ in 0..3 {
        assert_eq!(from("198.51.100.7").send().await.expect("answered").status(), 401);
    }
    assert_eq!(from("198.51.100.7").send().await.expect("answered").status(), 429);
    assert_eq!(
        from("198.51.100.8").send().await.expect("answered").status(),
        401,
        "another client behind the proxy"
    );

    // A peer that is not a trusted proxy cannot pick its address.
    let untrusted = client_from("127.0.0.3");
    let mut statuses = Vec::new();
    for n in 0..4 {
        let res = untrusted
            .get(format!("{base}/v1/tasks"))
            .header("x-forwarded-for", format!("203.0.113.{n}"))
            .send()
            .await
            .expect("answered");
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
}

#[tokio::test]
async fn sign_in_has_a_smaller_budget_of_its_own() {
    // A provider nobody answers at: each exchange that reaches it costs a call.
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let auth = api::auth::Authenticator::new(&api::config::ApiConfig {
        jwt_jwks_url: Some(format!("{issuer}/jwks")),
        jwt_issuer: Some(issuer),
        oidc_client_id: Some("todo-web".into()),
        ..Default::default()
    })
    .expect("a valid configuration");
    let db = todo_testing::sqlite().await;
    let limits = RateLimits::from_config(&config(None)).expect("limits");
    let state = AppState { limits, ..TestApp::state(&db, auth, Default::default()) };
    let app = TestApp::from_state(db, state);
    let base = served(&app).await;
    let client = client_from("127.0.0.4");
    let mut exchanges = Vec::new();
    for _ in 0..3 {
        let res = client
            .post(format!("{base}/auth/token"))
            .json(&json!({ "code": "" }))
            .send()
            .await
            .expect("answered");
        let policy = res.headers().get("ratelimit-policy").and_then(|h| h.to_str().ok()).map(str::to_owned);
        exchanges.push((res.status().as_u16(), policy));
    }
    let sign_in = Some(r#""sign_in";q=2;w=120"#.to_owned());
    assert_eq!(exchanges, [(400, sign_in.clone()), (400, sign_in.clone()), (429, sign_in)]);
    // The address's other budget is untouched.
    let other = client.get(format!("{base}/v1/tasks")).send().await.expect("answered");
    assert_eq!(other.status(), 401);
}
