//! Interop with the official Python SDK (PyPI `mcp`): our client against a Python server, and
//! our server driven by the Python client; plus our own client against our own server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use std::time::Duration;

use kagent_core::{ToolContent, ToolContext, ToolEffect, ToolError};
use kagent_mcp::{
    HttpServeOptions, HttpServerConfig, McpClient, McpError, McpServerConfig, McpToolset,
    TraceContext,
};
use serde_json::{Value, json};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_against_a_python_sdk_server() {
    init_tracing();
    let port = free_port();
    let _server = start_python_server(port).await;
    let client = McpClient::with_http_client(
        McpServerConfig::http(
            "py",
            HttpServerConfig::streamable_http(format!("http://127.0.0.1:{port}/mcp")),
        )
        .timeout(Duration::from_secs(2)),
        http(),
    );
    let tools = McpToolset::connect(client.clone()).await.unwrap();
    let set = tools.toolset();
    assert_eq!(set.get("add").unwrap().spec().effect, ToolEffect::ReadOnly);
    assert_eq!(
        set.get("delete_pod").unwrap().spec().effect,
        ToolEffect::Destructive
    );
    assert_eq!(
        set.get("scale").unwrap().spec().effect,
        ToolEffect::Mutating,
        "no annotations: mutating"
    );

    let out = set
        .call("add", json!({"a": 2, "b": 3}), ToolContext::detached("1"))
        .await
        .unwrap();
    assert!(
        matches!(&out.content[0], ToolContent::Text { text } if text == "5"),
        "{out:?}"
    );

    let weather = set
        .call(
            "weather",
            json!({"city": "Oslo"}),
            ToolContext::detached("2"),
        )
        .await
        .unwrap();
    assert_eq!(
        weather.structured,
        Some(json!({"city": "Oslo", "temperature_c": 21}))
    );

    // A raised exception is an isError result: data for the model, not a fault.
    let err = set
        .call(
            "fail",
            json!({"reason": "quota"}),
            ToolContext::detached("3"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Failed { .. }), "{err}");
    assert!(err.to_string().contains("cannot do it: quota"), "{err}");
    assert!(!err.is_fault());

    // Slower than the 2 s timeout.
    let err = set
        .call("slow", json!({"seconds": 5}), ToolContext::detached("4"))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Timeout { .. }), "{err}");
    // ... and the session still works afterwards.
    set.call("add", json!({"a": 1, "b": 1}), ToolContext::detached("5"))
        .await
        .unwrap();

    let prompts = client.list_prompts().await.unwrap();
    assert!(prompts.iter().any(|p| p.name == "greet"));
    let resources = client.list_resources().await.unwrap();
    let readme = resources
        .iter()
        .find(|r| r.uri == "kagent://notes/readme")
        .expect("readme resource");
    let read = client.read_resource(&readme.uri).await.unwrap();
    assert!(
        serde_json::to_string(&read.contents)
            .unwrap()
            .contains("kagent notes")
    );

    let err = McpToolset::with_tool_names(client.clone(), &["add", "nope"])
        .await
        .unwrap_err();
    assert!(
        matches!(err, McpError::UnknownTools { ref names, .. } if names == &["nope"]),
        "{err}"
    );
    client.close().await;
}

fn check_python_report(report: &Value) {
    let tools = report["tools"].as_array().unwrap();
    let by_name = |n: &str| {
        tools
            .iter()
            .find(|t| t["name"] == n)
            .unwrap_or_else(|| panic!("{n} missing: {report}"))
    };
    assert_eq!(by_name("count_pods")["annotations"]["readOnlyHint"], true);
    assert_eq!(by_name("count_pods")["required"], json!(["namespace"]));
    assert_eq!(
        by_name("delete_namespace")["annotations"]["destructiveHint"],
        true
    );
    assert_eq!(
        by_name("delete_namespace")["annotations"]["readOnlyHint"],
        false
    );

    let calls = &report["calls"];
    assert_eq!(calls["count_pods"][0]["is_error"], false);
    assert_eq!(
        calls["count_pods"][0]["content"][0]["text"],
        "3 pods in default"
    );
    // Schema violations reach the client as isError results the model can read.
    assert_eq!(calls["count_pods"][1]["is_error"], true, "{report}");
    assert!(
        calls["count_pods"][1]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("invalid arguments")
    );
    assert_eq!(calls["delete_namespace"][0]["is_error"], true);
    assert_eq!(
        calls["delete_namespace"][0]["content"][0]["text"],
        "Error: forbidden: namespace prod is protected"
    );
    assert_eq!(
        calls["report"][0]["structured"],
        json!({"nodes": 3, "ready": true})
    );
}

async fn run_python_driver(args: &[&str]) -> Value {
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(python())
            .arg(python_script("client_driver.py"))
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("python driver hung")
    .unwrap();
    assert!(
        out.status.success(),
        "python driver failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad driver output ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_drives_our_server_over_streamable_http() {
    init_tracing();
    let (base, stop) = start_our_server(HttpServeOptions::default()).await;
    let report = run_python_driver(&["http", &format!("{base}/mcp")]).await;
    assert_eq!(report["server_name"], "kagent-demo-tools");
    check_python_report(&report);
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_drives_our_server_over_stdio() {
    init_tracing();
    let exe = tool_server_example();
    let report = run_python_driver(&["stdio", exe.to_str().unwrap(), "stdio"]).await;
    assert_eq!(report["server_name"], "kagent-demo-tools");
    check_python_report(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token_is_required_when_configured_and_health_stays_open() {
    init_tracing();
    let (base, stop) = start_our_server(HttpServeOptions::new().bearer_token("t0ken-abc")).await;
    let http = http();
    let health: Value = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({"status": "ok", "tools": 3}));

    let denied = http
        .post(format!("{base}/mcp"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 401);
    let denied = http
        .get(format!("{base}/sse"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 401);

    // Without the token our client cannot connect; with it, it can.
    let no_token = McpClient::with_http_client(
        McpServerConfig::http(
            "ours",
            HttpServerConfig::streamable_http(format!("{base}/mcp")),
        )
        .reconnect(kagent_mcp::ReconnectPolicy::default().max_attempts(1)),
        http.clone(),
    );
    assert!(no_token.connect().await.is_err());
    let with_token = remote(
        "ours",
        HttpServerConfig::streamable_http(format!("{base}/mcp"))
            .header("Authorization", "Bearer t0ken-abc")
            .unwrap(),
    );
    let set = McpToolset::connect(with_token.clone())
        .await
        .unwrap()
        .toolset();
    assert_eq!(set.len(), 3);

    // The Python client with the token, too.
    let report = run_python_driver(&["http", &format!("{base}/mcp"), "t0ken-abc"]).await;
    check_python_report(&report);
    with_token.close().await;
    stop.cancel();
}

struct SecretHeaders;

#[async_trait::async_trait]
impl kagent_mcp::HeaderProvider for SecretHeaders {
    async fn headers(
        &self,
    ) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, Box<dyn std::error::Error + Send + Sync>>
    {
        Ok(vec![(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer from-secret"),
        )])
    }
}

struct FailingHeaders;

#[async_trait::async_trait]
impl kagent_mcp::HeaderProvider for FailingHeaders {
    async fn headers(
        &self,
    ) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, Box<dyn std::error::Error + Send + Sync>>
    {
        Err("secret kagent/mcp-token not found".into())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_are_resolved_at_connect_time() {
    init_tracing();
    let (base, stop) = start_our_server(HttpServeOptions::new().bearer_token("from-secret")).await;
    let client = remote(
        "ours",
        HttpServerConfig::streamable_http(format!("{base}/mcp"))
            .headers_from(std::sync::Arc::new(SecretHeaders)),
    );
    assert_eq!(
        McpToolset::connect(client.clone())
            .await
            .unwrap()
            .toolset()
            .len(),
        3
    );
    client.close().await;

    let failing = remote(
        "ours",
        HttpServerConfig::streamable_http(format!("{base}/mcp"))
            .headers_from(std::sync::Arc::new(FailingHeaders)),
    );
    let err = failing.connect().await.unwrap_err();
    assert!(matches!(err, McpError::Headers { .. }), "{err}");
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_and_server_over_streamable_http_and_legacy_sse() {
    init_tracing();
    let (base, stop) = start_our_server(HttpServeOptions::default()).await;
    for config in [
        HttpServerConfig::streamable_http(format!("{base}/mcp")),
        HttpServerConfig::sse(format!("{base}/sse")),
    ] {
        let protocol = config.protocol;
        let client = McpClient::with_http_client(
            McpServerConfig::http("ours", config).trace_context(std::sync::Arc::new(|| {
                Some(TraceContext::new(
                    "4bf92f3577b34da6a3ce929d0e0e4736",
                    "00f067aa0ba902b7",
                    true,
                ))
            })),
            http(),
        );
        let set = McpToolset::connect(client.clone()).await.unwrap().toolset();
        assert_eq!(
            set.get("delete_namespace").unwrap().spec().effect,
            ToolEffect::Destructive,
            "{protocol:?}"
        );
        assert_eq!(
            set.get("count_pods").unwrap().spec().effect,
            ToolEffect::ReadOnly
        );
        let out = set
            .call(
                "count_pods",
                json!({"namespace": "kube-system"}),
                ToolContext::detached("1"),
            )
            .await
            .unwrap();
        assert_eq!(
            out,
            kagent_core::ToolOutput::text("3 pods in kube-system"),
            "{protocol:?}"
        );
        let err = set
            .call(
                "delete_namespace",
                json!({"namespace": "prod"}),
                ToolContext::detached("2"),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("protected"), "{err}");
        let report = set
            .call("report", json!({}), ToolContext::detached("3"))
            .await
            .unwrap();
        assert_eq!(report.structured, Some(json!({"nodes": 3, "ready": true})));
        // An unknown tool is a JSON-RPC error from the server (the toolset never sends one).
        let err = client.call_tool("nope", None, None).await.unwrap_err();
        assert!(
            matches!(err, McpError::Server { code: -32602, .. }),
            "{err}"
        );
        client.close().await;
    }
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_sse_server_rejects_bad_requests() {
    init_tracing();
    let (base, stop) = start_our_server(HttpServeOptions::default()).await;
    let http = http();
    let unknown = http
        .post(format!("{base}/message?sessionId=nope"))
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let garbage = http
        .post(format!("{base}/message?sessionId=nope"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_on_close_controls_the_session_delete() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    init_tracing();
    let deletes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&deletes);
    let server = kagent_mcp::ToolsetServer::new("t", "0", demo_tools::demo_toolset());
    let app =
        kagent_mcp::router(server, HttpServeOptions::default()).layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let counter = Arc::clone(&counter);
                async move {
                    if req.method() == http::Method::DELETE {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    next.run(req).await
                }
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut keep = HttpServerConfig::streamable_http(url.clone());
    keep.terminate_on_close = false;
    let client = remote("keep", keep);
    client.connect().await.unwrap();
    client.close().await;
    assert_eq!(
        deletes.load(Ordering::SeqCst),
        0,
        "terminateOnClose=false must not DELETE the session"
    );

    let client = remote("end", HttpServerConfig::streamable_http(url));
    client.connect().await.unwrap();
    client.close().await;
    assert_eq!(
        deletes.load(Ordering::SeqCst),
        1,
        "terminateOnClose=true DELETEs the session"
    );
}

/// A tool that reports the trace context it was handed.
struct TraceEcho;

#[async_trait::async_trait]
impl kagent_core::TypedTool for TraceEcho {
    type Args = serde_json::Value;
    fn name(&self) -> &str {
        "trace_echo"
    }
    fn description(&self) -> &str {
        "Returns the caller's traceparent"
    }
    fn effect(&self) -> ToolEffect {
        ToolEffect::ReadOnly
    }
    async fn run(
        &self,
        _args: serde_json::Value,
        ctx: ToolContext,
    ) -> Result<kagent_core::ToolOutput, kagent_core::ToolError> {
        Ok(kagent_core::ToolOutput::text(
            ctx.trace_parent.unwrap_or_else(|| "none".into()),
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_tools_receive_the_callers_traceparent() {
    use kagent_core::IntoTool;
    init_tracing();
    let tools = kagent_core::Toolset::new()
        .with(TraceEcho.into_tool().unwrap())
        .unwrap();
    let options = HttpServeOptions::default();
    let stop = options.cancellation.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = kagent_mcp::ToolsetServer::new("trace", "0.1.0", tools);
    tokio::spawn(async move {
        kagent_mcp::serve_http(listener, server, options)
            .await
            .unwrap()
    });
    let url = format!("http://{addr}/mcp");

    let traced = McpClient::with_http_client(
        McpServerConfig::http("t", HttpServerConfig::streamable_http(url.clone())).trace_context(
            std::sync::Arc::new(|| {
                Some(TraceContext::new(
                    "4bf92f3577b34da6a3ce929d0e0e4736",
                    "00f067aa0ba902b7",
                    true,
                ))
            }),
        ),
        http(),
    );
    let set = McpToolset::connect(traced.clone()).await.unwrap().toolset();
    // Twice: a session's first call goes through rmcp, the next through the direct path.
    for id in ["1a", "1b"] {
        let out = set
            .call("trace_echo", json!({}), ToolContext::detached(id))
            .await
            .unwrap();
        assert_eq!(
            out,
            kagent_core::ToolOutput::text(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            )
        );
    }
    traced.close().await;

    let plain = remote("p", HttpServerConfig::streamable_http(url));
    let set = McpToolset::connect(plain.clone()).await.unwrap().toolset();
    let out = set
        .call("trace_echo", json!({}), ToolContext::detached("2"))
        .await
        .unwrap();
    assert_eq!(out, kagent_core::ToolOutput::text("none"));
    plain.close().await;
    stop.cancel();
}
