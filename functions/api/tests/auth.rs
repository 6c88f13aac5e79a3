//! Authentication: every way a token can be wrong is a 401 with a challenge, and
//! tokens from an identity provider's JWKS (EdDSA here) are accepted.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use api::auth::Authenticator;
use api::config::ApiConfig;
use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{SECRET, TestApp, sign_hs256};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use secrecy::SecretString;
use serde_json::{Value, json};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Sends GET /v1/tasks with this Authorization header value.
async fn with_authorization(app: &TestApp, value: &str) -> common::TestResponse {
    app.send_with(Method::GET, "/v1/tasks", None, None, &[("authorization", value)]).await
}

fn assert_unauthorized(res: &common::TestResponse, what: &str) {
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{what}: {:?}", res.body);
    assert_eq!(res.code(), "unauthorized", "{what}");
    let challenge = res.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{what}: challenge {challenge:?}");
}

#[tokio::test]
async fn a_request_without_a_token_is_401_with_a_bare_challenge() {
    let app = TestApp::sqlite().await;
    let res = app.send(Method::GET, "/v1/tasks", None, None).await;
    assert_unauthorized(&res, "no header");
    assert_eq!(res.header("www-authenticate"), Some(r#"Bearer realm="todo""#));
}

#[tokio::test]
async fn every_kind_of_bad_token_is_401() {
    let app = TestApp::sqlite().await;
    let t = now();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(json!({ "sub": "alice", "exp": t + 60 }).to_string())
    );
    let cases: Vec<(&str, String)> = vec![
        ("wrong scheme", format!("Basic {}", sign_hs256(&json!({ "sub": "alice", "exp": t + 60 }), SECRET))),
        ("not a JWT", "Bearer not-a-jwt".into()),
        ("empty token", "Bearer ".into()),
        (
            "wrong secret",
            format!(
                "Bearer {}",
                sign_hs256(&json!({ "sub": "alice", "exp": t + 60 }), "another-secret-another-secret-123")
            ),
        ),
        ("expired", format!("Bearer {}", sign_hs256(&json!({ "sub": "alice", "exp": t - 3600 }), SECRET))),
        ("no exp", format!("Bearer {}", sign_hs256(&json!({ "sub": "alice" }), SECRET))),
        ("no sub", format!("Bearer {}", sign_hs256(&json!({ "exp": t + 60 }), SECRET))),
        ("empty sub", format!("Bearer {}", sign_hs256(&json!({ "sub": "", "exp": t + 60 }), SECRET))),
        (
            "sub with a right-to-left override",
            format!("Bearer {}", sign_hs256(&json!({ "sub": "\u{202e}bob", "exp": t + 60 }), SECRET)),
        ),
        (
            "sub with a zero-width space",
            format!("Bearer {}", sign_hs256(&json!({ "sub": "bo\u{200b}b", "exp": t + 60 }), SECRET)),
        ),
        ("sub not a string", format!("Bearer {}", sign_hs256(&json!({ "sub": 42, "exp": t + 60 }), SECRET))),
        ("alg none", format!("Bearer {unsigned}")),
        (
            "HS384",
            format!(
                "Bearer {}",
                encode(
                    &Header::new(Algorithm::HS384),
                    &json!({ "sub": "alice", "exp": t + 60 }),
                    &EncodingKey::from_secret(SECRET.as_bytes())
                )
                .expect("encodes")
            ),
        ),
        (
            "EdDSA without a JWKS",
            format!(
                "Bearer {}",
                eddsa_token(
                    &SigningKey::from_bytes(&[7; 32]),
                    "k1",
                    &json!({ "sub": "alice", "exp": t + 60 })
                )
            ),
        ),
    ];
    for (what, header) in cases {
        assert_unauthorized(&with_authorization(&app, &header).await, what);
    }
}

#[tokio::test]
async fn every_api_route_requires_a_token() {
    let app = TestApp::sqlite().await;
    let id = uuid::Uuid::now_v7();
    for (method, path) in [
        (Method::POST, "/v1/tasks".to_owned()),
        (Method::GET, "/v1/tasks".to_owned()),
        (Method::GET, format!("/v1/tasks/{id}")),
        (Method::PATCH, format!("/v1/tasks/{id}")),
        (Method::DELETE, format!("/v1/tasks/{id}")),
        (Method::POST, format!("/v1/tasks/{id}/complete")),
        (Method::POST, format!("/v1/tasks/{id}/reopen")),
        (Method::GET, "/v1/tags".to_owned()),
        (Method::POST, "/v1/lists".to_owned()),
        (Method::GET, "/v1/lists".to_owned()),
        (Method::GET, format!("/v1/lists/{id}")),
        (Method::PATCH, format!("/v1/lists/{id}")),
        (Method::DELETE, format!("/v1/lists/{id}")),
        (Method::GET, format!("/v1/lists/{id}/members")),
        (Method::POST, format!("/v1/lists/{id}/members")),
        (Method::PATCH, format!("/v1/lists/{id}/members/bob")),
        (Method::DELETE, format!("/v1/lists/{id}/members/bob")),
        (Method::POST, format!("/v1/lists/{id}/invitations")),
        (Method::GET, format!("/v1/lists/{id}/invitations")),
        (Method::DELETE, format!("/v1/lists/{id}/invitations/{id}")),
        (Method::POST, "/v1/invitations/inv_x/accept".to_owned()),
        (Method::GET, "/v1/notifications".to_owned()),
        (Method::POST, format!("/v1/notifications/{id}/read")),
        (Method::GET, "/v1/activity".to_owned()),
        (Method::GET, format!("/v1/tasks/{id}/activity")),
        (Method::GET, format!("/v1/tasks/{id}/subtasks")),
        (Method::GET, format!("/v1/lists/{id}/activity")),
        (Method::POST, "/v1/webhooks".to_owned()),
        (Method::GET, "/v1/webhooks".to_owned()),
        (Method::DELETE, format!("/v1/webhooks/{id}")),
        (Method::POST, "/v1/tokens".to_owned()),
        (Method::GET, "/v1/tokens".to_owned()),
        (Method::DELETE, format!("/v1/tokens/{id}")),
    ] {
        let res = app.send(method.clone(), &path, None, Some(json!({ "title": "t" }))).await;
        assert_unauthorized(&res, &format!("{method} {path}"));
    }
    assert_eq!(app.outbox_len().await, 0);
}

#[tokio::test]
async fn issuer_and_audience_are_enforced_when_configured() {
    let config = ApiConfig {
        jwt_secret: Some(SecretString::from(SECRET)),
        jwt_issuer: Some("https://idp.test/".into()),
        jwt_audience: Some("todo".into()),
        ..ApiConfig::default()
    };
    let app = TestApp::with_auth(todo_testing::sqlite().await, Authenticator::new(&config).expect("valid"));
    let t = now();
    let good = json!({ "sub": "alice", "exp": t + 60, "iss": "https://idp.test/", "aud": "todo" });
    let res = with_authorization(&app, &format!("Bearer {}", sign_hs256(&good, SECRET))).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    for (what, claims) in [
        (
            "wrong issuer",
            json!({ "sub": "alice", "exp": t + 60, "iss": "https://evil.test/", "aud": "todo" }),
        ),
        ("no issuer", json!({ "sub": "alice", "exp": t + 60, "aud": "todo" })),
        (
            "wrong audience",
            json!({ "sub": "alice", "exp": t + 60, "iss": "https://idp.test/", "aud": "other" }),
        ),
        ("no audience", json!({ "sub": "alice", "exp": t + 60, "iss": "https://idp.test/" })),
    ] {
        assert_unauthorized(
            &with_authorization(&app, &format!("Bearer {}", sign_hs256(&claims, SECRET))).await,
            what,
        );
    }
}

#[test]
fn a_short_secret_or_no_keys_at_all_is_refused_at_start_up() {
    let short = ApiConfig { jwt_secret: Some(SecretString::from("too-short")), ..ApiConfig::default() };
    assert!(Authenticator::new(&short).is_err());
    assert!(Authenticator::new(&ApiConfig::default()).is_err());
}

fn eddsa_token(key: &SigningKey, kid: &str, claims: &Value) -> String {
    let der = key.to_pkcs8_der().expect("PKCS#8 encodes");
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes())).expect("token encodes")
}

/// Serves `{"keys": [...]}` on loopback, counting fetches.
async fn spawn_jwks(keys: Value) -> (String, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&fetches);
    let router = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let keys = keys.clone();
            async move { axum::Json(keys) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}/jwks.json"), fetches)
}

fn okp_jwk(key: &SigningKey, kid: &str) -> Value {
    json!({ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()) })
}

#[tokio::test]
async fn tokens_signed_by_a_jwks_key_are_accepted_and_keys_are_cached() {
    let idp_key = SigningKey::from_bytes(&[1; 32]);
    let stranger = SigningKey::from_bytes(&[2; 32]);
    let (url, fetches) = spawn_jwks(json!({ "keys": [okp_jwk(&idp_key, "k1")] })).await;
    let config = ApiConfig { jwt_jwks_url: Some(url), ..ApiConfig::default() };
    let app = TestApp::with_auth(todo_testing::sqlite().await, Authenticator::new(&config).expect("valid"));
    let claims = json!({ "sub": "carol", "exp": now() + 60 });

    for _ in 0..3 {
        let res = with_authorization(&app, &format!("Bearer {}", eddsa_token(&idp_key, "k1", &claims))).await;
        assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "keys are fetched once and cached");

    let forged = with_authorization(&app, &format!("Bearer {}", eddsa_token(&stranger, "k1", &claims))).await;
    assert_unauthorized(&forged, "signed by a key the IdP does not publish");
    let unknown_kid =
        with_authorization(&app, &format!("Bearer {}", eddsa_token(&idp_key, "k9", &claims))).await;
    assert_unauthorized(&unknown_kid, "unknown kid");
    let hs = with_authorization(&app, &format!("Bearer {}", sign_hs256(&claims, SECRET))).await;
    assert_unauthorized(&hs, "HS256 when only a JWKS is configured");
}

#[tokio::test]
async fn an_unreachable_jwks_is_503_not_401() {
    // A port nobody listens on: bind, take the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let config = ApiConfig {
        jwt_jwks_url: Some(format!("http://127.0.0.1:{port}/jwks.json")),
        ..ApiConfig::default()
    };
    let app = TestApp::with_auth(todo_testing::sqlite().await, Authenticator::new(&config).expect("valid"));
    let token =
        eddsa_token(&SigningKey::from_bytes(&[1; 32]), "k1", &json!({ "sub": "carol", "exp": now() + 60 }));
    let res = with_authorization(&app, &format!("Bearer {token}")).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", res.body);
    assert_eq!(res.header("retry-after"), Some("5"));
}

#[tokio::test]
async fn a_token_not_valid_yet_is_401_with_the_same_leeway_as_exp() {
    let idp_key = SigningKey::from_bytes(&[1; 32]);
    let (url, _) = spawn_jwks(json!({ "keys": [okp_jwk(&idp_key, "k1")] })).await;
    let config = ApiConfig {
        jwt_secret: Some(SecretString::from(SECRET)),
        jwt_jwks_url: Some(url),
        ..ApiConfig::default()
    };
    let app = TestApp::with_auth(todo_testing::sqlite().await, Authenticator::new(&config).expect("valid"));
    let t = now();
    let hs256 = |claims: &Value| format!("Bearer {}", sign_hs256(claims, SECRET));
    let eddsa = |claims: &Value| format!("Bearer {}", eddsa_token(&idp_key, "k1", claims));

    for (alg, sign) in [("HS256", &hs256 as &dyn Fn(&Value) -> String), ("EdDSA", &eddsa)] {
        let later = json!({ "sub": "alice", "exp": t + 7200, "nbf": t + 3600 });
        assert_unauthorized(&with_authorization(&app, &sign(&later)).await, &format!("{alg} nbf in an hour"));
        for (what, nbf) in [("nbf past", t - 60), ("nbf within the leeway", t + 10)] {
            let claims = json!({ "sub": "alice", "exp": t + 600, "nbf": nbf });
            let res = with_authorization(&app, &sign(&claims)).await;
            assert_eq!(res.status, StatusCode::OK, "{alg} {what}: {:?}", res.body);
        }
    }
}

#[tokio::test]
async fn a_token_with_a_crit_header_is_401() {
    let app = TestApp::sqlite().await;
    let claims = json!({ "sub": "alice", "exp": now() + 60 });
    for crit in [vec!["exp".to_owned()], vec!["b64".to_owned()], Vec::new()] {
        // Signed for real with the right secret: only the header is wrong.
        let mut header = Header::new(Algorithm::HS256);
        header.crit = Some(crit.clone());
        let token = encode(&header, &claims, &EncodingKey::from_secret(SECRET.as_bytes())).expect("encodes");
        assert_unauthorized(
            &with_authorization(&app, &format!("Bearer {token}")).await,
            &format!("crit {crit:?}"),
        );
    }
    let plain = with_authorization(&app, &format!("Bearer {}", sign_hs256(&claims, SECRET))).await;
    assert_eq!(plain.status, StatusCode::OK, "the same token without crit passes");
}
