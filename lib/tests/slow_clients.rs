//! Slow and silent clients against `serve_tcp` over loopback (slowloris): 50
//! connections trickling their headers, 10 that send nothing and an idle
//! keep-alive one are all closed by the server once the header-read deadline
//! passes, while a well-behaved client is served meanwhile; and the connection
//! cap makes a new client wait until a slot frees. A body trickled after its
//! head is cut off at the body-read deadline in the same way; a body declared
//! longer than the limit is refused at once, and a route that does not exist
//! answers without waiting for the body. Every wait is bounded.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use todo_lib::serve::{ConnectionLimits, serve_tcp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

const DEADLINE: Duration = Duration::from_secs(2);
/// The longest any test waits for the server to act: the deadline and a margin.
const BOUND: Duration = Duration::from_secs(15);

async fn start(limits: ConnectionLimits) -> (std::net::SocketAddr, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .route("/echo", axum::routing::post(|body: axum::body::Bytes| async move { body.len().to_string() }));
    let settings = todo_lib::serve::Settings {
        addr,
        body_limit_bytes: 256 * 1024,
        request_timeout: Duration::from_secs(60),
        shutdown_grace: Duration::from_secs(1),
    };
    let app = todo_lib::serve::with_common_layers(app, settings);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve_tcp(
        listener,
        app,
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(1),
        limits,
    ));
    (addr, stop)
}

/// Whether the server closed `stream` (EOF or reset) before `until`. Bytes it
/// sends meanwhile (a response, a 408) are read and ignored.
async fn closed_by_server(stream: &mut TcpStream, until: Instant) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// One well-formed request on a new connection; the status line.
async fn get_status(addr: std::net::SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    stream.write_all(b"GET / HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n").await.expect("sends");
    let mut answer = Vec::new();
    tokio::time::timeout(BOUND, stream.read_to_end(&mut answer)).await.expect("answered in time").ok();
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned()
}

/// Opens `n` connections that send `head`, then one more byte each every
/// 200 ms until the server closes them or the bound passes, listening
/// `listen` after each byte for the close; with `others_served`, a
/// well-behaved request must be answered 200 between rounds. How many are
/// still open, and how long it took.
async fn trickle(
    addr: std::net::SocketAddr,
    head: &[u8],
    n: usize,
    listen: Duration,
    others_served: bool,
) -> (usize, Duration) {
    let mut clients = Vec::new();
    for _ in 0..n {
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        stream.write_all(head).await.expect("sends");
        clients.push(stream);
    }
    let started = Instant::now();
    let mut open = clients.len();
    let mut closed = vec![false; clients.len()];
    while open > 0 && started.elapsed() < BOUND {
        for (i, stream) in clients.iter_mut().enumerate() {
            if closed[i] {
                continue;
            }
            if stream.write_all(b"x").await.is_err()
                || closed_by_server(stream, Instant::now() + listen).await
            {
                closed[i] = true;
                open -= 1;
            }
        }
        if others_served {
            assert_eq!(get_status(addr).await, "HTTP/1.1 200 OK", "others are served meanwhile");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    (open, started.elapsed())
}

fn limits(max_connections: usize) -> ConnectionLimits {
    ConnectionLimits { header_read_timeout: DEADLINE, body_read_timeout: DEADLINE, max_connections }
}

#[tokio::test]
async fn fifty_connections_trickling_headers_are_closed_after_the_deadline() {
    let (addr, _stop) = start(limits(100)).await;
    // Trickle one header byte per client every 200 ms; the server must cut them off.
    let (open, took) =
        trickle(addr, b"GET / HTTP/1.1\r\nhost: test\r\n", 50, Duration::from_millis(4), false).await;
    assert_eq!(open, 0, "{open} of 50 trickling connections still open after {took:?}");
    assert!(took >= DEADLINE - Duration::from_millis(500), "not before the deadline");
    assert!(get_status(addr).await.contains("200"), "a well-behaved client is served");
}

#[tokio::test]
async fn silent_and_idle_keep_alive_connections_are_closed_after_the_deadline() {
    let (addr, _stop) = start(limits(100)).await;
    let mut silent = Vec::new();
    for _ in 0..10 {
        silent.push(TcpStream::connect(addr).await.expect("connects"));
    }
    let mut idle = TcpStream::connect(addr).await.expect("connects");
    idle.write_all(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n").await.expect("sends");
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(BOUND, idle.read(&mut buf)).await.expect("answered").expect("reads");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"), "kept alive after a 200");

    let until = Instant::now() + BOUND;
    for (i, stream) in silent.iter_mut().enumerate() {
        assert!(closed_by_server(stream, until).await, "silent connection {i} closed");
    }
    assert!(closed_by_server(&mut idle, until).await, "the idle keep-alive connection closed");
}

#[tokio::test]
async fn past_the_connection_cap_a_client_waits_for_a_free_slot() {
    let (addr, _stop) =
        start(ConnectionLimits { header_read_timeout: Duration::from_secs(60), ..limits(3) }).await;
    let mut holders = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        stream.write_all(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n").await.expect("sends");
        let mut buf = [0u8; 512];
        let n = tokio::time::timeout(BOUND, stream.read(&mut buf)).await.expect("answered").expect("reads");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        holders.push(stream); // kept alive: each holds one of the three slots
    }
    let waiting = tokio::spawn(get_status(addr));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "a fourth client is not served while three are connected");
    drop(holders.pop()); // one slot frees
    let status = tokio::time::timeout(BOUND, waiting).await.expect("served in time").expect("joins");
    assert!(status.contains("200"), "{status}");
}

/// Issue #13, item 3: the HTTP/2 preface, trickled or sent whole and then
/// nothing, holds no connection either (every caller speaks HTTP/1.1 to the
/// functions; HTTP/2 had no header-read deadline in hyper).
#[tokio::test]
async fn an_http2_preface_trickled_or_followed_by_silence_is_closed_after_the_deadline() {
    let (addr, _stop) = start(limits(100)).await;
    let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let mut whole = TcpStream::connect(addr).await.expect("connects");
    whole.write_all(preface).await.expect("sends");
    // An HTTP/2 SETTINGS frame, empty, as a client sends next; then silence.
    whole.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.expect("sends");
    let mut trickled = TcpStream::connect(addr).await.expect("connects");
    let started = Instant::now();
    let mut sent = 0;
    let mut trickled_closed = false;
    while !trickled_closed && started.elapsed() < BOUND {
        if sent < preface.len() && trickled.write_all(&preface[sent..=sent]).await.is_err() {
            trickled_closed = true;
            break;
        }
        sent += 1;
        trickled_closed = closed_by_server(&mut trickled, Instant::now() + Duration::from_millis(300)).await;
    }
    assert!(trickled_closed, "the trickled preface was cut off within {BOUND:?}");
    assert!(
        closed_by_server(&mut whole, started + DEADLINE + Duration::from_secs(3)).await,
        "the silent HTTP/2 connection was closed within the deadline and a margin"
    );
    assert_eq!(get_status(addr).await, "HTTP/1.1 200 OK", "others are served meanwhile");
}

/// The first line the server sends on `stream`, within the bound.
async fn status_line(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let until = Instant::now() + BOUND;
    while !answer.windows(2).any(|w| w == b"\r\n") && Instant::now() < until {
        match tokio::time::timeout(until - Instant::now(), stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn twenty_connections_trickling_a_body_are_closed_after_the_deadline_while_others_are_served() {
    let (addr, _stop) = start(limits(100)).await;
    let head = "POST /echo HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n";
    let (open, took) = trickle(addr, head.as_bytes(), 20, Duration::from_millis(10), true).await;
    assert_eq!(open, 0, "every trickling body was cut off");
    assert!(took >= DEADLINE && took < DEADLINE * 3, "cut off at the body deadline, after {took:?}");
}

#[tokio::test]
async fn a_body_declared_over_the_limit_is_refused_at_once() {
    let (addr, _stop) = start(limits(100)).await;
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let head = "POST /echo HTTP/1.1\r\nhost: test\r\ncontent-length: 99999999999\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("sends");
    let started = Instant::now();
    assert_eq!(status_line(&mut stream).await, "HTTP/1.1 413 Payload Too Large");
    assert!(started.elapsed() < DEADLINE, "refused before any deadline");
}

#[tokio::test]
async fn a_route_that_does_not_exist_answers_without_waiting_for_the_body() {
    let (addr, _stop) = start(limits(100)).await;
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let head = "POST /auth/token HTTP/1.1\r\nhost: test\r\ncontent-length: 100000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("sends");
    let started = Instant::now();
    assert_eq!(status_line(&mut stream).await, "HTTP/1.1 404 Not Found");
    assert!(started.elapsed() < DEADLINE, "answered before any deadline");
}
