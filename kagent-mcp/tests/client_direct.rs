//! The client's direct `tools/call` exchange over streamable HTTP, against a scripted server
//! that records what it receives: headers and ids on the wire, JSON and SSE answers,
//! notifications on the way, fallback to rmcp's path on 4xx, no resend on 5xx.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kagent_mcp::{HttpServerConfig, McpClient, McpError, McpServerConfig, TlsOptions, http_client};
use serde_json::{Value, json};

const SESSION: &str = "sess-1";

/// How the scripted server answers `tools/call` number `n` (0-based) and its request.
type Answer = Arc<dyn Fn(usize, &Value) -> Response + Send + Sync>;

/// The revision the scripted server negotiates unless a test says otherwise.
const REVISION: &str = "2025-06-18";

#[derive(Clone, Default)]
struct Seen {
    /// Every tools/call: (id, headers).
    calls: Arc<Mutex<Vec<(Value, HeaderMap)>>>,
}

fn json_response(body: Value) -> Response {
    ([("content-type", "application/json")], body.to_string()).into_response()
}

fn result(id: &Value, text: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": text}], "isError": false}})
}

async fn start(answer: Answer) -> (String, Seen) {
    start_with(REVISION, answer).await
}

async fn start_with(revision: &'static str, answer: Answer) -> (String, Seen) {
    let seen = Seen::default();
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/mcp",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let seen = s.clone();
            let answer = Arc::clone(&answer);
            async move {
                let v: Value = serde_json::from_slice(&body).unwrap();
                let Some(id) = v.get("id").cloned() else {
                    return StatusCode::ACCEPTED.into_response();
                };
                match v["method"].as_str().unwrap_or_default() {
                    "initialize" => {
                        let mut r = json_response(json!({"jsonrpc": "2.0", "id": id, "result": {
                            "protocolVersion": revision,
                            "capabilities": {"tools": {"listChanged": true}},
                            "serverInfo": {"name": "scripted", "version": "0"}}}));
                        r.headers_mut()
                            .insert("mcp-session-id", SESSION.parse().unwrap());
                        r
                    }
                    "tools/call" => {
                        let n = {
                            let mut calls = seen.calls.lock().unwrap();
                            calls.push((id.clone(), headers));
                            calls.len() - 1
                        };
                        answer(n, &v)
                    }
                    _ => json_response(json!({"jsonrpc": "2.0", "id": id, "result": {}})),
                }
            }
        })
        .get(|| async { StatusCode::METHOD_NOT_ALLOWED })
        .delete(|| async { StatusCode::OK }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/mcp"), seen)
}

fn client(url: &str, direct: bool) -> McpClient {
    let mut config = McpServerConfig::http(
        "scripted",
        HttpServerConfig::streamable_http(url)
            .header("authorization", "Bearer t0ken")
            .unwrap()
            .direct_tool_calls(direct),
    );
    config.timeout = Duration::from_secs(5);
    McpClient::with_http_client(config, http_client(&TlsOptions::default()).unwrap())
}

async fn call(c: &McpClient) -> Result<rmcp::model::CallToolResult, McpError> {
    let mut args = serde_json::Map::new();
    args.insert("namespace".into(), json!("default"));
    c.call_tool("count_pods", Some(args), None).await
}

fn text(r: &rmcp::model::CallToolResult) -> String {
    serde_json::to_value(&r.content).unwrap()[0]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn direct_call_carries_session_version_auth_and_its_own_id() {
    let (url, seen) = start(Arc::new(|_, v| json_response(result(&v["id"], "3 pods")))).await;
    let c = client(&url, true);
    assert_eq!(text(&call(&c).await.unwrap()), "3 pods");
    assert_eq!(text(&call(&c).await.unwrap()), "3 pods");
    let calls = seen.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2);
    let (id, headers) = &calls[0];
    // String ids: they cannot collide with rmcp's numeric ids on the same session.
    assert!(id.as_str().unwrap().starts_with("kagent-"), "{id}");
    assert_ne!(calls[0].0, calls[1].0);
    assert_eq!(headers["mcp-session-id"], SESSION);
    assert!(headers.contains_key("mcp-protocol-version"));
    assert_eq!(headers["authorization"], "Bearer t0ken");
    let accept = headers["accept"].to_str().unwrap();
    assert!(accept.contains("application/json") && accept.contains("text/event-stream"));
    c.close().await;
}

#[tokio::test]
async fn direct_off_sends_calls_through_rmcp() {
    let (url, seen) = start(Arc::new(|_, v| json_response(result(&v["id"], "ok")))).await;
    let c = client(&url, false);
    assert_eq!(text(&call(&c).await.unwrap()), "ok");
    let calls = seen.calls.lock().unwrap().clone();
    assert!(
        calls[0].0.is_number(),
        "rmcp's ids are numbers: {}",
        calls[0].0
    );
    c.close().await;
}

#[tokio::test]
async fn revisions_with_per_request_headers_stay_on_rmcps_path() {
    // 2026-07-28 (SEP-2243) adds per-request headers only rmcp builds: no direct calls.
    let (url, seen) = start_with(
        "2026-07-28",
        Arc::new(|_, v| json_response(result(&v["id"], "ok"))),
    )
    .await;
    let c = client(&url, true);
    let _ = call(&c).await;
    let calls = seen.calls.lock().unwrap().clone();
    assert!(calls.iter().all(|(id, _)| !id.is_string()), "{calls:?}");
    c.close().await;
}

#[tokio::test]
async fn sse_answer_with_a_notification_first() {
    let (url, _) = start(Arc::new(|_, v| {
        let note = json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"});
        let log = json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "working"}});
        let body = format!(
            ": keep-alive\n\nevent: message\ndata: {note}\n\ndata: {log}\n\nid: 7\ndata: {}\n\n",
            result(&v["id"], "from sse")
        );
        ([("content-type", "text/event-stream")], body).into_response()
    }))
    .await;
    let c = client(&url, true);
    c.connect().await.unwrap();
    let mut changed = c.tools_changed();
    let before = *changed.borrow_and_update();
    assert_eq!(text(&call(&c).await.unwrap()), "from sse");
    assert_ne!(*changed.borrow(), before, "list_changed reached the client");
    c.close().await;
}

#[tokio::test]
async fn json_rpc_error_is_a_typed_server_error() {
    let (url, _) = start(Arc::new(|_, v| {
        json_response(json!({"jsonrpc": "2.0", "id": v["id"], "error": {"code": -32602, "message": "bad namespace"}}))
    }))
    .await;
    let c = client(&url, true);
    match call(&c).await {
        Err(McpError::Server { code, message, .. }) => {
            assert_eq!(code, -32602);
            assert_eq!(message, "bad namespace");
        }
        other => panic!("expected a server error, got {other:?}"),
    }
    c.close().await;
}

#[tokio::test]
async fn a_refused_direct_call_is_retried_through_rmcp() {
    // The first (direct) call is refused with 404 before the server acts; rmcp's path then
    // sends it again and gets the answer.
    let (url, seen) = start(Arc::new(|n, v| {
        if n == 0 {
            StatusCode::NOT_FOUND.into_response()
        } else {
            json_response(result(&v["id"], "second try"))
        }
    }))
    .await;
    let c = client(&url, true);
    assert_eq!(text(&call(&c).await.unwrap()), "second try");
    let calls = seen.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2);
    assert!(calls[0].0.is_string());
    assert!(calls[1].0.is_number());
    c.close().await;
}

#[tokio::test]
async fn a_server_error_is_not_resent_and_malformed_answers_are_protocol_errors() {
    let (url, seen) = start(Arc::new(|n, v| match n {
        0 => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        1 => ([("content-type", "application/json")], "{not json").into_response(),
        2 => {
            // An SSE stream that ends before the response.
            ([("content-type", "text/event-stream")], ": nothing\n\n").into_response()
        }
        _ => json_response(result(&v["id"], "fine")),
    }))
    .await;
    let c = client(&url, true);
    match call(&c).await {
        Err(McpError::Transport { message, .. }) => assert!(message.contains("500"), "{message}"),
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert_eq!(
        seen.calls.lock().unwrap().len(),
        1,
        "a 5xx call is never sent twice"
    );
    match call(&c).await {
        Err(McpError::Protocol { message, .. }) => {
            assert!(message.contains("not JSON-RPC"), "{message}")
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
    match call(&c).await {
        Err(McpError::Transport { message, .. }) => {
            assert!(message.contains("ended before the response"), "{message}")
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    // The client recovers (reconnecting where the connection was dropped).
    assert_eq!(text(&call(&c).await.unwrap()), "fine");
    c.close().await;
}

#[tokio::test]
async fn a_hanging_call_times_out() {
    let (url, _) = start(Arc::new(|_, _| {
        let body = axum::body::Body::from_stream(futures::stream::pending::<
            Result<Bytes, std::io::Error>,
        >());
        ([("content-type", "text/event-stream")], body).into_response()
    }))
    .await;
    let mut config = McpServerConfig::http("scripted", HttpServerConfig::streamable_http(&url));
    config.timeout = Duration::from_millis(500);
    let c = McpClient::with_http_client(config, http_client(&TlsOptions::default()).unwrap());
    match tokio::time::timeout(Duration::from_secs(10), call(&c))
        .await
        .unwrap()
    {
        Err(McpError::Timeout { operation, .. }) => assert_eq!(operation, "tools/call"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    c.close().await;
}
