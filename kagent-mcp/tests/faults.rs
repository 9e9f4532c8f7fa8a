//! Fault handling: servers that die, hang, send garbage, or restart mid-session.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use std::time::Duration;

use kagent_core::{ToolContext, ToolError};
use kagent_mcp::{
    HttpServerConfig, McpClient, McpError, McpServerConfig, McpToolset, ReconnectPolicy,
};
use serde_json::json;
use support::*;

/// A hang becomes a test failure instead of a stuck run.
async fn bounded<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("{what} hung"))
}

fn quick(mut config: McpServerConfig) -> McpServerConfig {
    config.reconnect = ReconnectPolicy::default()
        .max_attempts(3)
        .min_delay(Duration::from_millis(50))
        .max_delay(Duration::from_millis(200));
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_lists_are_paginated() {
    init_tracing();
    let client = McpClient::new(fake_server("paginate"));
    let tools = bounded("list", client.list_tools()).await.unwrap();
    let names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, ["a1", "a2", "b1", "c1", "c2"]);
    let set = McpToolset::with_tool_names(client.clone(), &["c2", "a1"])
        .await
        .unwrap();
    assert_eq!(set.toolset().names().collect::<Vec<_>>(), ["c2", "a1"]);
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_rpc_is_a_protocol_error_and_the_next_call_reconnects() {
    init_tracing();
    let client = McpClient::new(fake_server("garbage"));
    let set = McpToolset::connect(client.clone()).await.unwrap().toolset();
    let err = bounded(
        "garbage call",
        set.call("work", json!({}), ToolContext::detached("1")),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ToolError::Transport { .. }), "{err}");
    assert!(err.to_string().contains("malformed JSON-RPC"), "{err}");
    assert!(err.is_fault());
    // A fresh process answers tools/list again.
    let tools = bounded("relist", client.list_tools()).await.unwrap();
    assert_eq!(tools.len(), 1);
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_initialize_is_a_protocol_error() {
    init_tracing();
    let client = McpClient::new(quick(fake_server("badinit")).timeout(Duration::from_secs(5)));
    let err = bounded("connect", client.connect()).await.unwrap_err();
    assert!(matches!(err, McpError::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("not json-rpc"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_hits_the_timeout() {
    init_tracing();
    let client = McpClient::new(fake_server("silent").timeout(Duration::from_secs(1)));
    let set = McpToolset::connect(client.clone()).await.unwrap().toolset();
    let err = bounded(
        "silent call",
        set.call("work", json!({}), ToolContext::detached("1")),
    )
    .await
    .unwrap_err();
    match &err {
        ToolError::Timeout { tool, after } => {
            assert_eq!(tool, "work");
            assert_eq!(*after, Duration::from_secs(1));
        }
        other => panic!("expected a timeout, got {other}"),
    }
    // The connection itself is fine: other requests still work.
    assert_eq!(client.list_tools().await.unwrap().len(), 1);
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_call_returns_promptly() {
    init_tracing();
    let client = McpClient::new(fake_server("silent"));
    let set = McpToolset::connect(client.clone()).await.unwrap().toolset();
    let ctx = ToolContext::detached("c");
    let token = ctx.cancellation.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        token.cancel();
    });
    let err = bounded("cancelled call", set.call("work", json!({}), ctx))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Cancelled), "{err}");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_dying_mid_call_is_a_transport_error_and_the_next_call_restarts_it() {
    init_tracing();
    let client = McpClient::new(fake_server("crash"));
    let set = McpToolset::connect(client.clone()).await.unwrap().toolset();
    let err = bounded(
        "crashing call",
        set.call("work", json!({}), ToolContext::detached("1")),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ToolError::Transport { .. }), "{err}");
    assert!(err.to_string().contains("exited"), "{err}");
    // The next call starts a new process (which crashes again on tools/call, but lists fine).
    assert_eq!(
        bounded("relist", client.list_tools()).await.unwrap().len(),
        1
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_stdio_server_during_a_long_call_fails_that_call_fast() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("server.pid");
    let script = format!(
        "echo $$ > '{}'; exec node '{}' stdio",
        pidfile.display(),
        everything_js().display()
    );
    let client = McpClient::new(McpServerConfig::stdio(
        "everything-killed",
        kagent_mcp::StdioServerConfig::new("sh").args(["-c".to_owned(), script]),
    ));
    let set = McpToolset::connect(client.clone()).await.unwrap().toolset();
    let call = tokio::spawn({
        let set = set.clone();
        async move {
            set.call(
                "trigger-long-running-operation",
                json!({"duration": 20, "steps": 2}),
                ToolContext::detached("long"),
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Kill the server process (its pid was written by the wrapper shell before `exec`).
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let status = std::process::Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {pid} failed");
    let err = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("the call must fail long before the 20 s operation or the 30 s timeout")
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, ToolError::Transport { .. }), "{err}");
    let out = bounded(
        "echo after restart",
        set.call(
            "echo",
            json!({"message": "again"}),
            ToolContext::detached("2"),
        ),
    )
    .await
    .unwrap();
    assert!(format!("{out:?}").contains("again"));
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_a_streamable_http_server_mid_session_reconnects() {
    init_tracing();
    let port = free_port();
    let mut server = start_everything("streamableHttp", port).await;
    let client = McpClient::with_http_client(
        quick(McpServerConfig::http(
            "everything-http",
            HttpServerConfig::streamable_http(format!("http://127.0.0.1:{port}/mcp")),
        )),
        http(),
    );
    let set = McpToolset::connect(client.clone()).await.unwrap().toolset();
    set.call(
        "echo",
        json!({"message": "one"}),
        ToolContext::detached("1"),
    )
    .await
    .unwrap();

    server.kill().await;
    let err = bounded(
        "call to a dead server",
        set.call(
            "echo",
            json!({"message": "two"}),
            ToolContext::detached("2"),
        ),
    )
    .await
    .unwrap_err();
    assert!(err.is_fault(), "{err}");

    let _server = start_everything("streamableHttp", port).await;
    let out = bounded(
        "call after restart",
        set.call(
            "echo",
            json!({"message": "three"}),
            ToolContext::detached("3"),
        ),
    )
    .await
    .unwrap();
    assert!(format!("{out:?}").contains("three"), "{out:?}");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_a_legacy_sse_server_mid_session_reconnects() {
    init_tracing();
    let port = free_port();
    let mut server = start_everything("sse", port).await;
    let client = McpClient::with_http_client(
        quick(McpServerConfig::http(
            "everything-sse",
            HttpServerConfig::sse(format!("http://127.0.0.1:{port}/sse")),
        )),
        http(),
    );
    let set = McpToolset::connect(client.clone()).await.unwrap().toolset();
    set.call(
        "echo",
        json!({"message": "one"}),
        ToolContext::detached("1"),
    )
    .await
    .unwrap();
    server.kill().await;
    let err = bounded(
        "call to a dead server",
        set.call(
            "echo",
            json!({"message": "two"}),
            ToolContext::detached("2"),
        ),
    )
    .await
    .unwrap_err();
    assert!(err.is_fault(), "{err}");
    let _server = start_everything("sse", port).await;
    let out = bounded(
        "call after restart",
        set.call(
            "echo",
            json!({"message": "three"}),
            ToolContext::detached("3"),
        ),
    )
    .await
    .unwrap();
    assert!(format!("{out:?}").contains("three"), "{out:?}");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_a_connect_error_after_retries() {
    init_tracing();
    let port = free_port();
    let client = McpClient::with_http_client(
        quick(McpServerConfig::http(
            "nobody",
            HttpServerConfig::streamable_http(format!("http://127.0.0.1:{port}/mcp")),
        )),
        http(),
    );
    let err = bounded("connect", client.connect()).await.unwrap_err();
    assert!(matches!(err, McpError::Connect { .. }), "{err}");
    let sse = McpClient::with_http_client(
        quick(McpServerConfig::http(
            "nobody-sse",
            HttpServerConfig::sse(format!("http://127.0.0.1:{port}/sse")),
        )),
        http(),
    );
    assert!(matches!(
        bounded("connect", sse.connect()).await.unwrap_err(),
        McpError::Connect { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_command_is_a_spawn_error() {
    let client = McpClient::new(McpServerConfig::stdio(
        "missing",
        kagent_mcp::StdioServerConfig::new("/nonexistent/mcp-server"),
    ));
    let err = client.connect().await.unwrap_err();
    assert!(matches!(err, McpError::Spawn { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_servers_need_an_injected_http_client() {
    let client = McpClient::new(McpServerConfig::http(
        "x",
        HttpServerConfig::streamable_http("http://127.0.0.1:1/mcp"),
    ));
    let err = client.connect().await.unwrap_err();
    assert!(matches!(err, McpError::InvalidConfig { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_servers_get_args_env_and_working_dir() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    // The wrapper writes its working directory to a relative path, then becomes the server.
    let script = format!(
        "pwd > cwd.txt; exec node '{}' \"$@\"",
        everything_js().display()
    );
    let mut stdio = kagent_mcp::StdioServerConfig::new("sh")
        .args(["-c".to_owned(), script, "sh".to_owned(), "stdio".to_owned()])
        .env("KAGENT_TEST_MARKER", "marker-42")
        .working_dir(dir.path());
    stdio.shutdown_grace = Duration::from_millis(500);
    let client = McpClient::new(McpServerConfig::stdio("everything-env", stdio));
    let set = McpToolset::connect(client.clone()).await.unwrap().toolset();
    let out = set
        .call("get-env", json!({}), ToolContext::detached("e"))
        .await
        .unwrap();
    assert!(
        format!("{out:?}").contains("marker-42"),
        "env not passed: {out:?}"
    );
    let cwd = std::fs::read_to_string(dir.path().join("cwd.txt")).unwrap();
    assert_eq!(
        std::path::Path::new(cwd.trim()).canonicalize().unwrap(),
        dir.path().canonicalize().unwrap()
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_context_travels_in_meta_only_when_configured() {
    init_tracing();
    let traced = McpClient::new(fake_server("meta").trace_context(std::sync::Arc::new(|| {
        let mut cx = kagent_mcp::TraceContext::new(
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "00f067aa0ba902b7",
            true,
        );
        cx.tracestate = Some("kagent=1".into());
        Some(cx)
    })));
    let out = traced.call_tool("work", None, None).await.unwrap();
    let text = serde_json::to_value(&out.content).unwrap()[0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let meta: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        meta["traceparent"],
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
    assert_eq!(meta["tracestate"], "kagent=1");
    traced.close().await;

    let plain = McpClient::new(fake_server("meta"));
    let out = plain.call_tool("work", None, None).await.unwrap();
    let text = serde_json::to_value(&out.content).unwrap()[0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let meta: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(meta.get("traceparent").is_none(), "{meta}");
    plain.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_toolset_follows_tools_list_changed() {
    init_tracing();
    let client = McpClient::new(fake_server("changing"));
    let tools = McpToolset::connect(client.clone()).await.unwrap();
    assert_eq!(tools.toolset().names().collect::<Vec<_>>(), ["work"]);
    tools
        .toolset()
        .call("work", json!({}), ToolContext::detached("1"))
        .await
        .unwrap();
    bounded("refresh after list_changed", async {
        while !tools.toolset().contains("extra") {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(
        tools.toolset().names().collect::<Vec<_>>(),
        ["work", "extra"]
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_announced_while_the_first_list_is_read_is_not_lost() {
    // The server announces `list_changed` while it answers the toolset's first `tools/list`,
    // and holds that answer until the client has recorded the change: the change is known to
    // have happened before `McpToolset::connect` returns, however the tasks are scheduled. The
    // background refresh must still pick it up (it once subscribed to changes only after the
    // first list, and a change in between was never seen: the snapshot stayed stale forever).
    init_tracing();
    let client = McpClient::new(fake_server("early"));
    let mut changes = client.tools_changed();
    let release = {
        let client = client.clone();
        async move {
            changes.changed().await.unwrap();
            client.call_tool("release", None, None).await.unwrap();
        }
    };
    let (tools, ()) = bounded("connect", async {
        tokio::join!(McpToolset::connect(client.clone()), release)
    })
    .await;
    let tools = tools.unwrap();
    bounded("refresh after a list_changed during connect", async {
        while !tools.toolset().contains("extra") {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(
        tools.toolset().names().collect::<Vec<_>>(),
        ["work", "extra"]
    );
    client.close().await;
}

/// A hand-written legacy SSE endpoint that sends `events` (raw SSE text, one chunk each, 50 ms
/// apart) and then keeps the stream open; POSTs are accepted and ignored.
async fn scripted_sse_server(events: Vec<String>) -> String {
    use axum::routing::{get, post};
    let app = axum::Router::new()
        .route(
            "/sse",
            get(move || {
                let events = events.clone();
                async move {
                    let stream = futures::stream::unfold(events.into_iter(), |mut it| async move {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        match it.next() {
                            Some(chunk) => Some((Ok::<_, std::io::Error>(chunk), it)),
                            None => {
                                // Keep the stream open.
                                std::future::pending::<()>().await;
                                None
                            }
                        }
                    });
                    (
                        [(http::header::CONTENT_TYPE, "text/event-stream")],
                        axum::body::Body::from_stream(stream),
                    )
                }
            }),
        )
        .route("/message", post(|| async { http::StatusCode::ACCEPTED }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/sse")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_sse_endpoint_on_another_origin_is_refused() {
    init_tracing();
    let url = scripted_sse_server(vec![
        "event: endpoint\ndata: http://evil.example/message\n\n".into(),
    ])
    .await;
    let client = McpClient::with_http_client(
        McpServerConfig::http(
            "sse-evil",
            HttpServerConfig::sse(url)
                .header("Authorization", "Bearer x")
                .unwrap(),
        )
        .reconnect(ReconnectPolicy::default().max_attempts(1)),
        http(),
    );
    let err = bounded("connect", client.connect()).await.unwrap_err();
    assert!(matches!(err, McpError::Connect { .. }), "{err}");
    assert!(err.to_string().contains("another origin"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_rpc_on_legacy_sse_is_a_protocol_error() {
    init_tracing();
    let url = scripted_sse_server(vec![
        "event: endpoint\ndata: /message?sessionId=1\n\n".into(),
        "event: message\ndata: {oops\n\n".into(),
    ])
    .await;
    let client = McpClient::with_http_client(
        McpServerConfig::http("sse-garbage", HttpServerConfig::sse(url))
            .timeout(Duration::from_secs(5))
            .reconnect(ReconnectPolicy::default().max_attempts(1)),
        http(),
    );
    let err = bounded("connect", client.connect()).await.unwrap_err();
    assert!(matches!(err, McpError::Protocol { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("malformed JSON-RPC in SSE message"),
        "{err}"
    );
}
