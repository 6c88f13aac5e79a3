//! A PostgreSQL server of a test's own, from the machine's PostgreSQL binaries,
//! so that a test can crash and restart it without touching the shared server
//! other tests use. Its data directory is a fresh temporary one (initdb, trust
//! authentication on loopback), removed when it is dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// A running private server.
#[derive(Debug)]
pub struct PrivatePostgres {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
}

impl PrivatePostgres {
    /// Creates and starts a server on a free loopback port.
    pub fn start() -> Self {
        let bin = binaries();
        let dir = std::env::temp_dir().join(format!("todo-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("data directory");
        if is_root() {
            // The server refuses to run as root: the data belongs to `postgres`.
            run(Command::new("chown").arg("postgres:postgres").arg(&dir), "chown");
        }
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
        let server = Self { bin, dir, port };
        let data = server.data();
        run(
            server
                .as_owner(&server.bin.join("initdb"))
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
                .arg(&data),
            "initdb",
        );
        server.start_server();
        server
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`):
    /// connections are cut, and the next start recovers from the write-ahead log.
    pub fn crash(&self) {
        run(self.pg_ctl().args(["stop", "-m", "immediate", "-w"]), "pg_ctl stop");
    }

    /// Starts the server again on the same port and data.
    pub fn start_server(&self) {
        let options = format!("-p {} -c listen_addresses=127.0.0.1 -k {}", self.port, self.dir.display());
        let log = self.dir.join("server.log");
        run(self.pg_ctl().args(["start", "-w", "-t", "30", "-o", &options, "-l"]).arg(log), "pg_ctl start");
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn pg_ctl(&self) -> Command {
        let mut cmd = self.as_owner(&self.bin.join("pg_ctl"));
        cmd.arg("-D").arg(self.data());
        cmd
    }

    fn as_owner(&self, program: &Path) -> Command {
        if is_root() {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(program);
            cmd
        } else {
            Command::new(program)
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl().args(["stop", "-m", "immediate"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest installed server's binaries (Debian keeps them out of PATH).
fn binaries() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .expect("PostgreSQL's binaries under /usr/lib/postgresql")
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).expect("an installed PostgreSQL server with initdb")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn run(cmd: &mut Command, what: &str) -> Output {
    let started = Instant::now();
    let out = cmd.output().unwrap_or_else(|e| panic!("{what} runs: {e}"));
    assert!(
        out.status.success(),
        "{what} failed after {:?}: {}{}",
        started.elapsed(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
