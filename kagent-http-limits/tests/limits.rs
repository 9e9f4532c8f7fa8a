//! Each limit against a real TCP server: the right answer, and other clients still served.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use kagent_http_limits::{KeyedLimiter, LimitsLayer, ServerLimits, body_rejection, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

struct Running {
    addr: SocketAddr,
    stop: CancellationToken,
    connections: KeyedLimiter,
    layer: LimitsLayer,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// `/hold` waits for a permit of `gate`; `/echo` reads the body (answering 413 / 408 as the
/// limits say); `/big` streams `n` KiB; `/` answers "ok".
fn app(limits: &ServerLimits, gate: Arc<Semaphore>) -> (Router, LimitsLayer) {
    let layer = LimitsLayer::new(limits);
    let echo_limits = limits.clone();
    let router = Router::new()
        .route("/", get(|| async { "ok" }))
        .route(
            "/hold",
            get(move || {
                let gate = Arc::clone(&gate);
                async move {
                    let _permit = gate.acquire().await.unwrap();
                    "released"
                }
            }),
        )
        .route(
            "/echo",
            post(move |body: Body| {
                let limits = echo_limits.clone();
                async move {
                    match axum::body::to_bytes(body, usize::MAX).await {
                        Ok(bytes) => (http::StatusCode::OK, format!("{} bytes", bytes.len())),
                        Err(e) => match body_rejection(&e, &limits) {
                            Some(r) => (r.status(), r.reason().to_owned()),
                            None => (http::StatusCode::BAD_REQUEST, e.to_string()),
                        },
                    }
                }
            }),
        )
        .route(
            "/big",
            get(|| async {
                let chunk = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
                let stream = futures_stream(chunk, 4096);
                Body::from_stream(stream)
            }),
        )
        .layer(layer.clone());
    (router, layer)
}

fn futures_stream(
    chunk: bytes::Bytes,
    n: usize,
) -> impl futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send {
    futures::stream::iter((0..n).map(move |_| Ok(chunk.clone())))
}

async fn start(limits: ServerLimits, gate: Arc<Semaphore>) -> Running {
    let (router, layer) = app(&limits, gate);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let server = serve(listener, router)
        .limits(limits)
        .shutdown_on(stop.clone());
    let connections = server.connections();
    let task = tokio::spawn(server.into_future());
    Running {
        addr,
        stop,
        connections,
        layer,
        task,
    }
}

use std::future::IntoFuture;

/// A TCP connection to `addr` from the loopback address `from` (127.0.0.x are all local on
/// Linux, so they stand for different clients).
async fn connect_from(from: [u8; 4], addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(addr).await.unwrap()
}

struct Answer {
    status: u16,
    head: String,
    body: String,
}

/// Reads one response with a `content-length` (or up to EOF).
async fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.unwrap();
                assert!(n > 0, "connection closed mid-body");
                buf.extend_from_slice(&chunk[..n]);
            }
            let status = head
                .split_whitespace()
                .nth(1)
                .unwrap()
                .parse::<u16>()
                .unwrap();
            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).to_string();
            return Answer { status, head, body };
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(
            n > 0,
            "connection closed before a response: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn get_path(from: [u8; 4], addr: SocketAddr, path: &str) -> Answer {
    let mut s = connect_from(from, addr).await;
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: t\r\n\r\n").as_bytes())
        .await
        .unwrap();
    read_answer(&mut s).await
}

/// Whether the server has closed `stream` (EOF or reset), reading and discarding anything.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut chunk = [0u8; 1024];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return true,
            Ok(_) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_client_request_cap_answers_429_and_serves_others() {
    let gate = Arc::new(Semaphore::new(0));
    let limits = ServerLimits::default().with_max_requests_per_client(2);
    let server = start(limits, Arc::clone(&gate)).await;
    let addr = server.addr;
    let held: Vec<_> = (0..2)
        .map(|_| tokio::spawn(async move { get_path([127, 0, 0, 1], addr, "/hold").await }))
        .collect();
    // Wait until both are in flight.
    while server.layer.requests().in_use() < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let refused = get_path([127, 0, 0, 1], addr, "/").await;
    assert_eq!(refused.status, 429, "{}", refused.head);
    assert!(refused.head.to_ascii_lowercase().contains("retry-after: 1"));
    let v: serde_json::Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(v["error"]["reason"], "client_requests");
    assert_eq!(v["error"]["limit"], 2);
    // Another client is served meanwhile.
    let other = get_path([127, 0, 0, 2], addr, "/").await;
    assert_eq!((other.status, other.body.as_str()), (200, "ok"));
    gate.add_permits(2);
    for h in held {
        let a = h.await.unwrap();
        assert_eq!((a.status, a.body.as_str()), (200, "released"));
    }
    // The slots are free again.
    assert_eq!(get_path([127, 0, 0, 1], addr, "/").await.status, 200);
    assert_eq!(server.layer.requests().in_use(), 0);
    server.stop.cancel();
    server.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_limits_answer_413_before_and_while_reading() {
    let limits = ServerLimits::default().with_max_request_body_bytes(1000);
    let server = start(limits, Arc::new(Semaphore::new(0))).await;
    // Declared too large: refused before the body is read.
    let mut s = connect_from([127, 0, 0, 1], server.addr).await;
    s.write_all(b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 5000\r\n\r\n")
        .await
        .unwrap();
    let a = read_answer(&mut s).await;
    assert_eq!(a.status, 413);
    let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(v["error"]["reason"], "body_too_large");
    assert_eq!(v["error"]["limit"], 1000);
    // Chunked and too large: cut while reading.
    let mut s = connect_from([127, 0, 0, 1], server.addr).await;
    let chunk = "x".repeat(600);
    let req = format!(
        "POST /echo HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n258\r\n{chunk}\r\n258\r\n{chunk}\r\n0\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let a = read_answer(&mut s).await;
    assert_eq!((a.status, a.body.as_str()), (413, "body_too_large"));
    // Within the limit: fine.
    let mut s = connect_from([127, 0, 0, 1], server.addr).await;
    s.write_all(b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 3\r\n\r\nabc")
        .await
        .unwrap();
    let a = read_answer(&mut s).await;
    assert_eq!((a.status, a.body.as_str()), (200, "3 bytes"));
    server.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_body_is_cut_at_its_deadline() {
    let limits = ServerLimits::default().with_request_body_timeout(Duration::from_millis(300));
    let server = start(limits, Arc::new(Semaphore::new(0))).await;
    let mut s = connect_from([127, 0, 0, 1], server.addr).await;
    s.write_all(b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\n")
        .await
        .unwrap();
    // One byte per 100 ms: 100 bytes would take 10 s.
    let sender = tokio::spawn(async move {
        let mut sent = 0;
        for _ in 0..100 {
            if s.write_all(b"x").await.is_err() {
                break;
            }
            sent += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (s, sent)
    });
    let (mut s, sent) = sender.await.unwrap();
    assert!(sent < 100, "the whole slow body was accepted");
    let a = read_answer(&mut s).await;
    assert_eq!((a.status, a.body.as_str()), (408, "body_timeout"));
    server.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_or_too_many_headers_answer_431() {
    let limits = ServerLimits::default()
        .with_max_header_bytes(4096)
        .with_max_headers(10);
    let server = start(limits, Arc::new(Semaphore::new(0))).await;
    let mut s = connect_from([127, 0, 0, 1], server.addr).await;
    let big = "a".repeat(8000);
    s.write_all(format!("GET / HTTP/1.1\r\nhost: t\r\nx-big: {big}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(read_answer(&mut s).await.status, 431);
    let mut s = connect_from([127, 0, 0, 1], server.addr).await;
    let many: String = (0..20).map(|i| format!("x-h{i}: v\r\n")).collect();
    s.write_all(format!("GET / HTTP/1.1\r\nhost: t\r\n{many}\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(read_answer(&mut s).await.status, 431);
    assert_eq!(get_path([127, 0, 0, 1], server.addr, "/").await.status, 200);
    server.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_headers_one_byte_per_second_are_cut_off() {
    let limits = ServerLimits::default().with_header_read_timeout(Duration::from_secs(2));
    let server = start(limits, Arc::new(Semaphore::new(0))).await;
    let request = b"GET / HTTP/1.1\r\nhost: t\r\nuser-agent: slowloris\r\nx-padding: aaaaaaaaaaaaaaaa\r\n\r\n";
    let mut s = connect_from([127, 0, 0, 1], server.addr).await;
    let mut sent = 0;
    let mut cut = false;
    for byte in request.iter() {
        if s.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        sent += 1;
        // Meanwhile another client is served.
        if sent == 1 {
            let other = get_path([127, 0, 0, 2], server.addr, "/").await;
            assert_eq!(other.status, 200);
        }
        let mut probe = [0u8; 64];
        match tokio::time::timeout(Duration::from_secs(1), s.read(&mut probe)).await {
            Ok(Ok(0) | Err(_)) => {
                cut = true;
                break;
            }
            Ok(Ok(_)) => panic!("the server answered a request whose headers never finished"),
            Err(_) => {} // a second passed with the connection open: send the next byte
        }
    }
    assert!(
        cut,
        "the slow client sent all {sent} bytes without being cut off"
    );
    assert!(sent < request.len());
    // The connection's slot is free again.
    while server.connections.in_use() > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connection_is_closed() {
    let limits = ServerLimits::default().with_header_read_timeout(Duration::from_millis(300));
    let server = start(limits, Arc::new(Semaphore::new(0))).await;
    let mut s = connect_from([127, 0, 0, 1], server.addr).await;
    s.write_all(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_answer(&mut s).await.status, 200);
    assert!(closed_by_server(&mut s).await);
    server.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_that_stops_reading_is_dropped_after_the_write_timeout() {
    let limits = ServerLimits::default().with_write_timeout(Duration::from_millis(500));
    let server = start(limits, Arc::new(Semaphore::new(0))).await;
    let mut s = connect_from([127, 0, 0, 1], server.addr).await;
    // 256 MiB response; the client reads nothing.
    s.write_all(b"GET /big HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    while server.connections.in_use() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    while server.connections.in_use() > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.layer.requests().in_use(), 0);
    drop(s);
    server.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_caps_answer_503_and_429() {
    let limits = ServerLimits::default()
        .with_max_connections(3)
        .with_max_connections_per_client(2);
    let server = start(limits, Arc::new(Semaphore::new(0))).await;
    let _a1 = connect_from([127, 0, 0, 1], server.addr).await;
    let _a2 = connect_from([127, 0, 0, 1], server.addr).await;
    while server.connections.in_use() < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut a3 = connect_from([127, 0, 0, 1], server.addr).await;
    let answer = read_answer(&mut a3).await;
    assert_eq!(answer.status, 429);
    let v: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(v["error"]["reason"], "client_connections");
    assert!(closed_by_server(&mut a3).await);
    // Another client gets the last slot and is served.
    let mut b = connect_from([127, 0, 0, 2], server.addr).await;
    b.write_all(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_answer(&mut b).await.status, 200);
    // Now the server is full.
    let mut c = connect_from([127, 0, 0, 3], server.addr).await;
    let answer = read_answer(&mut c).await;
    assert_eq!(answer.status, 503);
    assert!(answer.head.to_ascii_lowercase().contains("retry-after: 1"));
    server.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drops_connections_after_the_grace_period() {
    let gate = Arc::new(Semaphore::new(0));
    let limits = ServerLimits::default().with_shutdown_grace(Duration::from_millis(200));
    let server = start(limits, Arc::clone(&gate)).await;
    let addr = server.addr;
    let mut held = connect_from([127, 0, 0, 1], addr).await;
    held.write_all(b"GET /hold HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    while server.layer.requests().in_use() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.stop.cancel();
    server.task.await.unwrap().unwrap();
    assert!(closed_by_server(&mut held).await);
    assert_eq!(server.connections.in_use(), 0);
    assert!(TcpStream::connect(addr).await.is_err(), "still listening");
}
