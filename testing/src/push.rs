//! A Web Push service for tests: `scripts/push-test-service.py` on a loopback
//! port, which makes browser-like subscriptions, verifies each message's VAPID
//! signature (`cryptography`) and decrypts it with the subscription's private
//! key (`http_ece`), both written by others. Stopped when dropped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin};
use std::time::Duration;

use serde_json::{Value, json};

#[derive(Debug)]
pub struct PushService {
    pub port: u16,
    dir: PathBuf,
    child: Child,
    /// Closing it stops the service.
    _stdin: ChildStdin,
}

impl PushService {
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("todo-push-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("a directory for the messages");
        let (child, stdin, port) = crate::start_stand_in("push-test-service.py", &[dir.as_os_str()]);
        Self { port, dir, child, _stdin: stdin }
    }

    /// A new browser subscription, as `PushSubscription.toJSON()` gives it.
    pub fn subscribe(&self) -> Value {
        self.post("/subscriptions", &json!({}))
    }

    /// Queues answers for the next messages to subscription `endpoint`:
    /// `(status, Retry-After)`.
    pub fn answer_next(&self, endpoint: &str, answers: &[(u16, Option<&str>)]) {
        let id = endpoint.rsplit('/').next().expect("an endpoint ends with its id");
        let answers: Vec<Value> = answers
            .iter()
            .map(|(status, retry)| match retry {
                Some(after) => json!({ "status": status, "retry_after": after }),
                None => json!({ "status": status }),
            })
            .collect();
        self.post(&format!("/subscriptions/{id}/answers"), &Value::Array(answers));
    }

    /// Every message it was sent, in order: `subscription`, `headers`,
    /// `vapid` (`claims`, `key`), `payload` (decrypted) or `error`, `answer`.
    pub fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("received.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("the service writes JSON lines"))
            .collect()
    }

    /// Waits until at least `n` messages arrived, or `within` passed.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Value> {
        crate::at_least(n, within, || self.received()).await
    }

    /// A small blocking JSON `POST` to the service (its answers are instant).
    fn post(&self, path: &str, body: &Value) -> Value {
        let body = body.to_string();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("the push service answers");
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("the request is sent");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("the answer is read");
        let (_, payload) = answer.split_once("\r\n\r\n").unwrap_or_default();
        serde_json::from_str(payload).unwrap_or(Value::Null)
    }
}

impl Drop for PushService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a browser hands over for a push subscription at `endpoint`: a fresh
/// P-256 public key and auth secret (for the API's checks; nothing can be
/// decrypted with them here: [`PushService::subscribe`] makes ones that can).
pub fn browser_subscription(endpoint: &str) -> Value {
    use base64::Engine as _;
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let random = |bytes: &mut [u8]| getrandom::getrandom(bytes).expect("random bytes");
    let secret = loop {
        let mut scalar = [0u8; 32];
        random(&mut scalar);
        if let Ok(secret) = p256::SecretKey::from_slice(&scalar) {
            break secret;
        }
    };
    let mut auth = [0u8; 16];
    random(&mut auth);
    json!({
        "endpoint": endpoint,
        "expirationTime": null,
        "keys": {
            "p256dh": b64.encode(secret.public_key().to_encoded_point(false).as_bytes()),
            "auth": b64.encode(auth),
        },
    })
}
