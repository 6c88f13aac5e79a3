//! The API's side of the web app's sign-in with OpenID Connect, where no
//! provider answers: off unless configured, input checked before the provider
//! is asked, and a provider that cannot be reached is a 503. The whole flow,
//! against a real provider in a real browser, is in tests/web.rs.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApp;
use serde_json::json;

fn with_provider_at(issuer: &str) -> api::auth::Authenticator {
    let config = api::config::ApiConfig {
        jwt_jwks_url: Some(format!("{issuer}/jwks")),
        jwt_issuer: Some(issuer.to_owned()),
        oidc_client_id: Some("todo-web".into()),
        ..Default::default()
    };
    api::auth::Authenticator::new(&config).expect("a valid configuration")
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

#[tokio::test]
async fn without_a_client_id_there_is_no_sign_in_with_a_provider() {
    let app = TestApp::sqlite().await;
    // Answered, so the web app asks without an error in the console.
    let res = app.send(Method::GET, "/auth/config", None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, json!({"dev_sign_in": false, "oidc": null}));
    let body = json!({"code": "c", "code_verifier": "v".repeat(43), "redirect_uri": "http://127.0.0.1/"});
    let res = app.send(Method::POST, "/auth/token", None, Some(body)).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.code(), "route_not_found", "an unknown path, not a handler that read the body");
}

#[tokio::test]
async fn a_provider_that_cannot_be_reached_is_a_503_and_bad_input_a_422_first() {
    let issuer = format!("http://127.0.0.1:{}", closed_port());
    let app = TestApp::with_auth(todo_testing::sqlite().await, with_provider_at(&issuer));
    let res = app.send(Method::GET, "/auth/config", None, None).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", res.body);
    assert!(res.header("retry-after").is_some());

    let bad = json!({"code": "", "code_verifier": "short", "redirect_uri": "http://evil.example/"});
    let res = app.send(Method::POST, "/auth/token", None, Some(bad)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", res.body);
    assert_eq!(res.detail_fields(), ["code_verifier", "code", "redirect_uri"]);
    let res = app.send(Method::POST, "/auth/token", None, Some(json!({"code": "c", "extra": 1}))).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);

    let good = json!({"code": "c", "code_verifier": "v".repeat(43), "redirect_uri": "http://127.0.0.1:9/"});
    let res = app.send(Method::POST, "/auth/token", None, Some(good)).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", res.body);
}

#[test]
fn a_client_id_needs_a_secure_issuer() {
    let config = |issuer: Option<&str>| api::config::ApiConfig {
        jwt_secret: Some("a-secret-of-at-least-thirty-two-bytes!!".to_owned().into()),
        jwt_issuer: issuer.map(str::to_owned),
        oidc_client_id: Some("todo-web".into()),
        ..Default::default()
    };
    let refused = |issuer| api::auth::Authenticator::new(&config(issuer)).expect_err("refused").to_string();
    assert!(refused(None).contains("JWT_ISSUER"));
    assert!(refused(Some("http://idp.example.com")).contains("https"));
    assert!(api::auth::Authenticator::new(&config(Some("https://idp.example.com"))).is_ok());
}
