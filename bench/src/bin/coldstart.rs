//! Cold start of a function binary: from spawning the process to its first
//! `200` on `/healthz`, over several runs; and its resident memory once idle.
//!
//! usage: coldstart --bin PATH --port P [--runs N]
//!
//! The binary inherits this process's environment (DATABASE_URL, JWT_SECRET, …)
//! with PORT set to P. Prints one JSON line:
//! `{"bin","runs","median_ms","min_ms","max_ms","idle_rss_kb"}`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use bench::{Args, percentile};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("coldstart: {err}");
            ExitCode::FAILURE
        }
    }
}

/// One `GET /healthz` over a fresh connection; true on a 200.
fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && &head[9..12] == b"200"
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(std::env::args().skip(1))?;
    let bin = args.required("bin")?;
    let port: u16 = args.required("port")?.parse()?;
    let runs = args.number("runs", 20)?;
    let (mut times, mut idle_rss) = (Vec::with_capacity(runs), 0);
    for run in 0..runs {
        let started = Instant::now();
        let mut child = Command::new(&bin)
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let deadline = started + Duration::from_secs(10);
        while !healthy(port) {
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(format!("{bin} did not answer /healthz within 10 s").into());
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        times.push(started.elapsed());
        if run == 0 {
            std::thread::sleep(Duration::from_millis(500));
            idle_rss = rss_kb(child.id()).unwrap_or(0);
        }
        child.kill()?;
        child.wait()?;
    }
    times.sort_unstable();
    let ms = |d: Duration| (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    println!(
        "{}",
        serde_json::json!({
            "bin": bin,
            "runs": runs,
            "median_ms": ms(percentile(&times, 50.0)),
            "min_ms": ms(times[0]),
            "max_ms": ms(times[times.len() - 1]),
            "idle_rss_kb": idle_rss,
        })
    );
    Ok(())
}
