//! Memory returns near its baseline once idle sessions expire: thousands of `initialize`
//! requests that never close their session, against the `tool_server` example in a child
//! process, its resident memory read from `/proc/<pid>/status`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use support::*;

const SESSIONS: usize = 3000;
const CLIENTS: usize = 8;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

async fn initialize(http: &reqwest::Client, url: &str) -> Option<String> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "flood", "version": "0"}}});
    let resp = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let id = resp
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let _ = resp.bytes().await.unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_returns_near_baseline_after_idle_sessions_expire() {
    let port = free_port();
    let mut child = tokio::process::Command::new(tool_server_example())
        .args(["http", &format!("127.0.0.1:{port}")])
        .env("MCP_MAX_SESSIONS", "100000")
        .env("MCP_MAX_SESSIONS_PER_CLIENT", "100000")
        .env("MCP_SESSION_IDLE_SECS", "2")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!("http://127.0.0.1:{port}/mcp");
    let http = reqwest::Client::new();
    // Warm up (lazy statics, thread pools), then let that session expire too.
    let _ = initialize(&http, &url).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let baseline = rss_kib(pid);

    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let http = http.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut last = None;
            for _ in 0..SESSIONS / CLIENTS {
                last = initialize(&http, &url).await;
            }
            last
        }));
    }
    let mut probe = None;
    for t in tasks {
        probe = t.await.unwrap();
    }
    let probe = probe.expect("the server sent no session id");
    let peak = rss_kib(pid);
    let growth = peak.saturating_sub(baseline);
    eprintln!("RSS: baseline {baseline} KiB, after {SESSIONS} sessions {peak} KiB");
    assert!(
        growth >= (SESSIONS as u64) * 10,
        "{SESSIONS} sessions grew RSS by only {growth} KiB: the flood did not hold sessions"
    );

    // The sessions expire (the probe's own requests are further apart than the timeout).
    let mut expired = false;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let resp = http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-session-id", &probe)
            .header("mcp-protocol-version", "2025-06-18")
            .body(json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}).to_string())
            .send()
            .await
            .unwrap();
        if resp.status() == 404 {
            expired = true;
            break;
        }
    }
    assert!(expired, "the flood's sessions never expired");

    // The allocator hands freed pages back after its decay time (jemalloc: about 10 s).
    let bound = baseline + growth / 4;
    let mut after = rss_kib(pid);
    for _ in 0..120 {
        if after <= bound {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        after = rss_kib(pid);
    }
    eprintln!("RSS after expiry: {after} KiB (bound {bound} KiB)");
    assert!(
        after <= bound,
        "RSS stayed at {after} KiB after the sessions expired (baseline {baseline} KiB, peak {peak} KiB)"
    );
    let _ = child.kill().await;
}
