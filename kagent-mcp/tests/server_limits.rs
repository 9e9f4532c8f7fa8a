//! The MCP server under abuse: every limit answers with the right status and JSON-RPC body,
//! and other clients keep being served.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use kagent_mcp::{HttpServeOptions, ServerLimits, SessionLimits};
use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ACCEPT: &str = "application/json, text/event-stream";

/// A plain reqwest client whose connections come from `127.0.0.<last>` (each loopback address
/// is a different client to the server's per-client caps).
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .build()
        .unwrap()
}

fn initialize(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "abuser", "version": "0"}}})
}

async fn post_raw(
    http: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut req = http
        .post(url)
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .body(body);
    if let Some(s) = session {
        req = req
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", "2025-06-18");
    }
    req.send().await.unwrap()
}

/// Opens a session; returns its id.
async fn open_session(http: &reqwest::Client, url: &str) -> String {
    let resp = post_raw(http, url, None, initialize(1).to_string()).await;
    assert_eq!(resp.status(), 200);
    let id = resp.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let _ = resp.text().await.unwrap();
    let resp = post_raw(
        http,
        url,
        Some(&id),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
    )
    .await;
    assert_eq!(resp.status(), 202);
    id
}

/// A JSON-RPC error answer: its HTTP status and body.
async fn error_answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(body["jsonrpc"], "2.0", "{body}");
    (status, body)
}

/// A `tools/call` in session `session` (or stateless) answers.
async fn call_works(http: &reqwest::Client, url: &str, session: Option<&str>) {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "count_pods", "arguments": {"namespace": "default"}}});
    let resp = post_raw(http, url, session, body.to_string()).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("3 pods in default"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_are_json_rpc_400s_not_415s() {
    init_tracing();
    for stateless_json in [false, true] {
        let (base, stop) =
            start_our_server(HttpServeOptions::new().stateless_json(stateless_json)).await;
        let url = format!("{base}/mcp");
        let http = client_from(1);
        let (status, body) =
            error_answer(post_raw(&http, &url, None, "{\"jsonrpc\": \"2.0\", \"id\": 1,").await)
                .await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], -32700, "{body}");
        assert_eq!(body["id"], Value::Null);
        let (status, body) = error_answer(post_raw(&http, &url, None, "[1, 2, 3]").await).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], -32600, "{body}");
        let (status, body) =
            error_answer(post_raw(&http, &url, None, json!({"hello": "world"}).to_string()).await)
                .await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (400, json!(-32600))
        );
        // A wrong content type is still rmcp's 415.
        let resp = http
            .post(&url)
            .header("accept", ACCEPT)
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 415);
        // The server keeps serving.
        if stateless_json {
            call_works(&http, &url, None).await;
        } else {
            let session = open_session(&http, &url).await;
            call_works(&http, &url, Some(&session)).await;
        }
        stop.cancel();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_sse_messages_get_the_same_answers() {
    init_tracing();
    let (base, stop) = start_our_server(
        HttpServeOptions::new().limits(ServerLimits::default().with_max_request_body_bytes(2048)),
    )
    .await;
    let http = client_from(1);
    let mut events = http
        .get(format!("{base}/sse"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let first = String::from_utf8(events.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    let endpoint = first
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .unwrap()
        .trim()
        .to_owned();
    let url = format!("{base}/{endpoint}");
    let post = |body: String| {
        http.post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let (status, body) = error_answer(post("not json".into()).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!(-32700))
    );
    let (status, body) = error_answer(post("{\"a\":1}".into()).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!(-32600))
    );
    let big =
        json!({"jsonrpc": "2.0", "method": "notifications/x", "params": {"pad": "x".repeat(4000)}});
    let (status, body) = error_answer(post(big.to_string()).await.unwrap()).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["data"]["reason"], "body_too_large", "{body}");
    let ok = post(initialize(1).to_string()).await.unwrap();
    assert_eq!(ok.status(), 202);
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_slow_bodies_are_413_and_408() {
    init_tracing();
    let (base, stop) = start_our_server(
        HttpServeOptions::new().limits(
            ServerLimits::default()
                .with_max_request_body_bytes(4096)
                .with_request_body_timeout(Duration::from_millis(400)),
        ),
    )
    .await;
    let url = format!("{base}/mcp");
    let http = client_from(1);
    let big =
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "x".repeat(10_000)}});
    // Declared length: refused by the limits layer before reading.
    let (status, body) = error_answer(post_raw(&http, &url, None, big.to_string()).await).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], -32000);
    assert_eq!(body["error"]["data"]["reason"], "body_too_large");
    assert_eq!(body["error"]["data"]["limit"], 4096);
    // Chunked (no length): cut while reading.
    let chunks = vec![Ok::<_, std::io::Error>(big.to_string())];
    let stream = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let (status, body) = error_answer(post_raw(&http, &url, None, stream).await).await;
    assert_eq!(
        (status, body["error"]["data"]["reason"].clone()),
        (413, json!("body_too_large"))
    );

    // A body that trickles in: 408 once the deadline passes.
    let addr = base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nhost: {addr}\r\naccept: {ACCEPT}\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{{"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    for _ in 0..200 {
        tokio::select! {
            n = tcp.read(&mut buf) => {
                let n = n.unwrap();
                answer.extend_from_slice(&buf[..n]);
                if n == 0 || answer.windows(4).any(|w| w == b"\r\n\r\n") { break; }
            }
            () = tokio::time::sleep(Duration::from_millis(100)) => {
                if tcp.write_all(b" ").await.is_err() { break; }
            }
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // Other clients are unaffected.
    let session = open_session(&http, &url).await;
    call_works(&http, &url, Some(&session)).await;
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_caps_answer_429_and_503_with_the_request_id() {
    init_tracing();
    let (base, stop) = start_our_server(
        HttpServeOptions::new().sessions(
            SessionLimits::default()
                .with_max_sessions(3)
                .with_max_sessions_per_client(2),
        ),
    )
    .await;
    let url = format!("{base}/mcp");
    let a = client_from(1);
    let s1 = open_session(&a, &url).await;
    let _s2 = open_session(&a, &url).await;
    let (status, body) =
        error_answer(post_raw(&a, &url, None, initialize(42).to_string()).await).await;
    assert_eq!(status, 429);
    assert_eq!(body["id"], 42);
    assert_eq!(body["error"]["code"], -32000);
    assert_eq!(body["error"]["data"]["reason"], "client_sessions");
    assert_eq!(body["error"]["data"]["limit"], 2);
    // The client's open sessions still work, and another client gets a session.
    call_works(&a, &url, Some(&s1)).await;
    let b = client_from(2);
    let s3 = open_session(&b, &url).await;
    call_works(&b, &url, Some(&s3)).await;
    // Now the server is full for everyone.
    let c = client_from(3);
    let resp = post_raw(&c, &url, None, initialize(7).to_string()).await;
    assert_eq!(resp.headers()["retry-after"], "1");
    let (status, body) = error_answer(resp).await;
    assert_eq!((status, body["id"].clone()), (503, json!(7)));
    assert_eq!(body["error"]["data"]["reason"], "sessions");
    // Legacy SSE sessions count against the same caps.
    let resp = c.get(format!("{base}/sse")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    // Closing a session frees its slot.
    let resp = a
        .delete(&url)
        .header("mcp-session-id", &s1)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let mut opened = None;
    for _ in 0..100 {
        let resp = post_raw(&c, &url, None, initialize(8).to_string()).await;
        if resp.status() == 200 {
            opened = resp.headers().get("mcp-session-id").cloned();
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(opened.is_some(), "the closed session's slot was not freed");
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_expire_and_free_their_slots() {
    init_tracing();
    let (base, stop) = start_our_server(
        HttpServeOptions::new().sessions(
            SessionLimits::default()
                .with_max_sessions(2)
                .with_idle_timeout(Duration::from_millis(500)),
        ),
    )
    .await;
    let url = format!("{base}/mcp");
    let http = client_from(1);
    let s1 = open_session(&http, &url).await;
    let _s2 = open_session(&http, &url).await;
    let mut events = http.get(format!("{base}/sse")).send().await.unwrap();
    assert_eq!(events.status(), 503);
    let _ = events.text().await;
    // Wait for expiry: the sessions answer 404, then new sessions are accepted. Each probe is
    // traffic that resets the session's timer, so probes are further apart than the timeout.
    let mut expired = false;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let ping = json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}).to_string();
        let resp = post_raw(&http, &url, Some(&s1), ping).await;
        if resp.status() == 404 {
            expired = true;
            break;
        }
        let _ = resp.text().await;
    }
    assert!(expired, "the idle session never expired");
    let mut reopened = false;
    for _ in 0..100 {
        let resp = post_raw(&http, &url, None, initialize(1).to_string()).await;
        if resp.status() == 200 {
            reopened = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(reopened, "expired sessions kept their slots");
    // A legacy SSE session expires too: its event stream ends.
    events = http.get(format!("{base}/sse")).send().await.unwrap();
    assert_eq!(events.status(), 200);
    let mut ended = false;
    for _ in 0..100 {
        match tokio::time::timeout(Duration::from_millis(100), events.chunk()).await {
            Ok(Ok(None)) | Ok(Err(_)) => {
                ended = true;
                break;
            }
            _ => {}
        }
    }
    assert!(ended, "the idle legacy SSE session was never closed");
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_client_request_cap_answers_429_and_serves_others() {
    init_tracing();
    let (base, stop) = start_our_server(
        HttpServeOptions::new().limits(ServerLimits::default().with_max_requests_per_client(2)),
    )
    .await;
    let url = format!("{base}/mcp");
    let a = client_from(1);
    // Two open event streams: two requests in flight.
    let mut streams = Vec::new();
    for _ in 0..2 {
        let mut events = a.get(format!("{base}/sse")).send().await.unwrap();
        assert_eq!(events.status(), 200);
        let _ = events.chunk().await.unwrap();
        streams.push(events);
    }
    let resp = post_raw(&a, &url, None, initialize(5).to_string()).await;
    assert_eq!(resp.headers()["retry-after"], "1");
    let (status, body) = error_answer(resp).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["data"]["reason"], "client_requests");
    assert_eq!(body["error"]["data"]["limit"], 2);
    let b = client_from(2);
    let session = open_session(&b, &url).await;
    call_works(&b, &url, Some(&session)).await;
    // Closing a stream frees its slot.
    drop(streams.pop());
    let mut served = false;
    for _ in 0..100 {
        let resp = post_raw(&a, &url, None, initialize(6).to_string()).await;
        if resp.status() == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served);
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_headers_are_cut_off_while_others_are_served() {
    init_tracing();
    let (base, stop) = start_our_server(
        HttpServeOptions::new()
            .limits(ServerLimits::default().with_header_read_timeout(Duration::from_secs(2))),
    )
    .await;
    let addr = base.trim_start_matches("http://").to_owned();
    let request = format!(
        "POST /mcp HTTP/1.1\r\nhost: {addr}\r\naccept: {ACCEPT}\r\ncontent-type: application/json\r\n\r\n"
    );
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut sent = 0;
    let mut cut = false;
    let http = client_from(2);
    for byte in request.bytes() {
        if tcp.write_all(&[byte]).await.is_err() {
            cut = true;
            break;
        }
        sent += 1;
        if sent == 1 {
            let session = open_session(&http, &format!("{base}/mcp")).await;
            call_works(&http, &format!("{base}/mcp"), Some(&session)).await;
        }
        let mut probe = [0u8; 256];
        match tokio::time::timeout(Duration::from_secs(1), tcp.read(&mut probe)).await {
            Ok(Ok(0) | Err(_)) => {
                cut = true;
                break;
            }
            Ok(Ok(n)) => panic!(
                "answered before the headers were complete: {:?}",
                String::from_utf8_lossy(&probe[..n])
            ),
            Err(_) => {}
        }
    }
    assert!(
        cut && sent < request.len(),
        "a one-byte-per-second client sent all {sent} bytes"
    );
    stop.cancel();
}
