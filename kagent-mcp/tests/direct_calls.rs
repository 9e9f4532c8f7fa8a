//! The server's direct `tools/call` path (answered from the HTTP task with `application/json`)
//! and what still goes through rmcp: checked on the wire with raw HTTP requests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use kagent_mcp::HttpServeOptions;
use serde_json::{Value, json};
use support::*;

const ACCEPT: &str = "application/json, text/event-stream";

struct Raw {
    http: reqwest::Client,
    url: String,
    session: Option<String>,
}

impl Raw {
    async fn post(&self, body: Value) -> reqwest::Response {
        let mut req = self
            .http
            .post(&self.url)
            .header("accept", ACCEPT)
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2025-06-18")
            .body(body.to_string());
        if let Some(s) = &self.session {
            req = req.header("mcp-session-id", s);
        }
        req.send().await.unwrap()
    }

    /// The JSON-RPC message of a response, whether JSON or SSE framed, and its content type.
    async fn message(&self, body: Value) -> (String, Value) {
        let resp = self.post(body).await;
        assert_eq!(resp.status(), 200);
        let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
        let text = resp.text().await.unwrap();
        let msg = if ct.starts_with("application/json") {
            serde_json::from_str(&text).unwrap()
        } else {
            let data = text
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim)
                .find(|d| !d.is_empty())
                .unwrap_or_else(|| panic!("no data in {text:?}"));
            serde_json::from_str(data).unwrap()
        };
        (ct, msg)
    }

    async fn initialize(&mut self) {
        let resp = self
            .post(
                json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"}}}),
            )
            .await;
        assert_eq!(resp.status(), 200);
        self.session = resp
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_owned());
        let _ = resp.text().await.unwrap();
        let resp = self
            .post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert_eq!(resp.status(), 202);
    }
}

fn call(id: u64, tool: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": {"namespace": "default"}}})
}

fn check_count_pods(msg: &Value, id: u64) {
    assert_eq!(msg["id"], id, "{msg}");
    assert_eq!(
        msg["result"]["content"][0]["text"], "3 pods in default",
        "{msg}"
    );
    assert_ne!(msg["result"]["isError"], true, "{msg}");
}

async fn raw_client(options: HttpServeOptions) -> (Raw, tokio_util::sync::CancellationToken) {
    let (base, stop) = start_our_server(options).await;
    let raw = Raw {
        http: http(),
        url: format!("{base}/mcp"),
        session: None,
    };
    (raw, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_tool_calls_are_answered_directly_with_json() {
    init_tracing();
    let (mut raw, stop) = raw_client(HttpServeOptions::default()).await;
    raw.initialize().await;
    assert!(raw.session.is_some(), "session mode hands out a session id");

    // The first call of a session goes through rmcp (it keeps the session alive) ...
    let (ct, msg) = raw.message(call(1, "count_pods")).await;
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    check_count_pods(&msg, 1);
    // ... the next ones are answered directly, with the same result.
    let (ct, msg) = raw.message(call(2, "count_pods")).await;
    assert_eq!(ct, "application/json");
    check_count_pods(&msg, 2);
    // Tool errors stay `isError` results; unknown tools are JSON-RPC errors.
    let (ct, msg) = raw.message(call(3, "delete_namespace")).await;
    assert_eq!(ct, "application/json");
    assert_eq!(msg["result"]["isError"], true, "{msg}");
    let (ct, msg) = raw.message(call(4, "no_such_tool")).await;
    assert_eq!(ct, "application/json");
    assert_eq!(msg["id"], 4);
    assert_eq!(msg["error"]["code"], -32602, "{msg}");
    // Other requests still go through rmcp.
    let (ct, msg) = raw
        .message(json!({"jsonrpc": "2.0", "id": 5, "method": "tools/list"}))
        .await;
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    assert_eq!(msg["result"]["tools"].as_array().unwrap().len(), 3);

    // rmcp still answers the bad requests: unknown session, bad Accept, foreign Host.
    let stale = Raw {
        http: raw.http.clone(),
        url: raw.url.clone(),
        session: Some("no-such-session".into()),
    };
    assert_eq!(stale.post(call(6, "count_pods")).await.status(), 404);
    let no_session = Raw {
        session: None,
        ..stale
    };
    assert_eq!(no_session.post(call(7, "count_pods")).await.status(), 400);
    let resp = raw
        .http
        .post(&raw.url)
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .header("mcp-session-id", raw.session.clone().unwrap())
        .body(call(8, "count_pods").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 406);
    let resp = raw
        .http
        .post(&raw.url)
        .header("host", "evil.example")
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .header("mcp-session-id", raw.session.clone().unwrap())
        .body(call(9, "count_pods").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    // A deleted session is gone for the direct path too.
    let resp = raw
        .http
        .delete(&raw.url)
        .header("mcp-session-id", raw.session.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(raw.post(call(10, "count_pods")).await.status(), 404);
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateless_tool_calls_are_answered_directly() {
    init_tracing();
    let (raw, stop) = raw_client(HttpServeOptions::new().stateless_json(true)).await;
    let (ct, msg) = raw.message(call(1, "count_pods")).await;
    assert_eq!(ct, "application/json");
    check_count_pods(&msg, 1);
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_direct_path_can_be_turned_off() {
    init_tracing();
    let (mut raw, stop) = raw_client(HttpServeOptions::new().disable_direct_tool_calls(true)).await;
    raw.initialize().await;
    for id in 1..=2 {
        let (ct, msg) = raw.message(call(id, "count_pods")).await;
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        check_count_pods(&msg, id);
    }
    stop.cancel();
}

/// Waits until its call is cancelled, then reports it (also when its future is dropped: the
/// server drops a call whose client went away).
struct WaitForCancel(tokio::sync::mpsc::UnboundedSender<String>);

#[async_trait::async_trait]
impl kagent_core::TypedTool for WaitForCancel {
    type Args = serde_json::Value;
    fn name(&self) -> &str {
        "wait_for_cancel"
    }
    fn description(&self) -> &str {
        "Runs until cancelled"
    }
    fn effect(&self) -> kagent_core::ToolEffect {
        kagent_core::ToolEffect::ReadOnly
    }
    async fn run(
        &self,
        _args: serde_json::Value,
        ctx: kagent_core::ToolContext,
    ) -> Result<kagent_core::ToolOutput, kagent_core::ToolError> {
        struct Report(tokio::sync::mpsc::UnboundedSender<String>, String);
        impl Drop for Report {
            fn drop(&mut self) {
                let _ = self.0.send(self.1.clone());
            }
        }
        let _report = Report(self.0.clone(), ctx.call_id.clone());
        ctx.cancellation.cancelled().await;
        Ok(kagent_core::ToolOutput::text("cancelled"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_direct_calls_stop_the_tool() {
    use kagent_core::IntoTool;
    init_tracing();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let tools = demo_tools::demo_toolset()
        .with(WaitForCancel(tx).into_tool().unwrap())
        .unwrap();
    let options = HttpServeOptions::default();
    let stop = options.cancellation.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let server = kagent_mcp::ToolsetServer::new("cancel", "0", tools);
    tokio::spawn(async move {
        kagent_mcp::serve_http(listener, server, options)
            .await
            .unwrap()
    });
    let client = remote("c", kagent_mcp::HttpServerConfig::streamable_http(url));
    // The session's first call goes through rmcp; the waiting one takes the direct path.
    client.call_tool("count_pods", None, None).await.ok();
    let cancel = tokio_util::sync::CancellationToken::new();
    let canceller = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        canceller.cancel();
    });
    let err = client
        .call_tool("wait_for_cancel", None, Some(&cancel))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cancelled"), "{err}");
    let seen = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .expect("the tool was never cancelled")
        .unwrap();
    assert!(!seen.is_empty());
    client.close().await;
    stop.cancel();
}
