//! The `local` binary as a developer runs it: a real process on a loopback port,
//! SQLite in its own data directory, configured only by its environment. Killed
//! with SIGKILL when asked (or dropped); its log is printed if a test fails.

#![allow(dead_code)] // each test file uses its own part of the harness

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use jsonwebtoken::{EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_testing::TestDb;

/// The `local` binary of this build (`target/<profile>/local`), beside the
/// directory of the test executable (`target/<profile>/deps/`). `make test`
/// builds it first; `cargo build -p local` does too.
fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe.parent().and_then(std::path::Path::parent).expect("target/<profile>/deps/<test>");
    let bin = profile_dir.join("local");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p local` (make test does)",
        bin.display()
    );
    bin
}
pub const SECRET: &str = "local-host-e2e-secret-local-host-e2e-secret";

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

pub struct Host {
    pub base: String,
    pub dir: PathBuf,
    /// A PostgreSQL database instead of the SQLite file, dropped after the host.
    postgres: Option<TestDb>,
    /// Set after the defaults, so they may override them.
    env: Vec<(String, String)>,
    child: Option<Child>,
    starts: u32,
    /// The port to serve on; a free one at each launch when `None`.
    port: Option<u16>,
    client: reqwest::Client,
}

pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Host {
    /// Starts the host on a fresh data directory, with its default SQLite file.
    pub async fn start() -> Self {
        Self::start_on(None).await
    }

    /// Starts the host on a fresh PostgreSQL database (`DATABASE_URL` names it).
    pub async fn start_on_postgres() -> Self {
        Self::start_on(Some(todo_testing::postgres().await)).await
    }

    /// Starts the host on SQLite with these variables besides (or instead of) the defaults.
    pub async fn start_with_env(env: &[(&str, &str)]) -> Self {
        Self::start_on_with(None, env).await
    }

    async fn start_on(postgres: Option<TestDb>) -> Self {
        Self::start_on_with(postgres, &[]).await
    }

    pub async fn start_on_with(postgres: Option<TestDb>, env: &[(&str, &str)]) -> Self {
        Self::start_at(postgres, None, env).await
    }

    /// Starts the host on `port` when given (a free one otherwise): for a
    /// test whose other parts must know its address first.
    pub async fn start_at(postgres: Option<TestDb>, port: Option<u16>, env: &[(&str, &str)]) -> Self {
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let dir = std::env::temp_dir().join(format!("todo-local-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("data dir");
        let client = reqwest::Client::new();
        let mut host = Self { base: String::new(), dir, postgres, env, child: None, starts: 0, client, port };
        host.launch().await;
        host
    }

    pub fn database_url(&self) -> String {
        match &self.postgres {
            Some(db) => db.postgres_url().expect("a PostgreSQL database"),
            None => format!("sqlite://{}/todo.db", self.dir.display()),
        }
    }

    /// Starts the process (again) on the same data directory and a new port, and
    /// waits until it answers `/healthz`.
    pub async fn launch(&mut self) {
        self.starts += 1;
        let port = self.port.unwrap_or_else(free_port);
        let log =
            std::fs::File::create(self.dir.join(format!("host-{}.log", self.starts))).expect("log file");
        let child = Command::new(binary())
            .env_clear()
            .env("DATABASE_URL", self.database_url())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("JWT_SECRET", SECRET)
            .env("WEBHOOK_ALLOW_LOOPBACK", "true")
            .env("RUST_LOG", "info")
            .envs(self.env.iter().cloned())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("the local host starts");
        self.child = Some(child);
        self.base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(res) = self.client.get(format!("{}/healthz", self.base)).send().await
                && res.status().is_success()
            {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("the local host exited with {status}:\n{}", self.logs());
            }
            assert!(Instant::now() < deadline, "the local host did not answer within 20 s:\n{}", self.logs());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no flushing, as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn logs(&self) -> String {
        (1..=self.starts)
            .map(|n| std::fs::read_to_string(self.dir.join(format!("host-{n}.log"))).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n--- restarted ---\n")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, user: &str, body: Option<Value>) -> Answer {
        let mut request = self.client.request(method, self.url(path)).bearer_auth(token(user));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let res = request.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
    }

    pub async fn get(&self, path: &str, user: &str) -> Answer {
        self.send(reqwest::Method::GET, path, user, None).await
    }

    pub async fn post(&self, path: &str, user: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, user, Some(body)).await
    }

    /// `GET path` until `done` holds for the answer's body, or `within` passed.
    pub async fn poll(
        &self,
        path: &str,
        user: &str,
        within: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let answer = self.get(path, user).await;
            assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
            if done(&answer.body) || Instant::now() >= deadline {
                return answer.body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("--- local host log ---\n{}", self.logs());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A development token for `user`, valid for an hour.
pub fn token(user: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "sub": user, "iat": now, "exp": now + 3600 });
    encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).expect("token encodes")
}

pub fn items(body: &Value) -> Vec<Value> {
    body["items"].as_array().cloned().unwrap_or_default()
}

/// Runs the Node scenario `script` (a path from the repository's root, with
/// its packages from target/node-tools) with `env` against `host`; fails,
/// with its output and the host's log, unless it exits 0 and prints each of
/// `steps` (a step that was skipped would be missing). Its output.
pub fn node_scenario(host: &Host, script: &str, env: &[(&str, &str)], steps: &[&str]) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    assert!(
        std::path::Path::new(root).join("target/node-tools/node_modules").exists(),
        "target/node-tools is missing: run `make node-tools` (make test does)"
    );
    let output = Command::new("node")
        .current_dir(root)
        .arg(script)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("node runs {script}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed:\n{stdout}\n{stderr}\n--- host ---\n{}", host.logs());
    for step in steps {
        assert!(stdout.contains(step), "no '{step}' in:\n{stdout}");
    }
    println!("{stdout}");
    stdout
}
