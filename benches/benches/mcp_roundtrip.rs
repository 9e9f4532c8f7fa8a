//! One MCP `tools/call` round trip over streamable HTTP on loopback: kagent-mcp's client versus
//! the official Python client (PyPI `mcp`), both against the same kagent-mcp server, in the same
//! run. Needs `scripts/setup/mcp.sh`.
//!
//! `cargo bench -p kagent-benches --bench mcp_roundtrip`
//!
//! Set `MCP_ROUNDTRIP_SKIP_CRITERION=1` to print only the plain medians (faster).

#[path = "../../kagent-mcp/tests/support/demo_tools.rs"]
mod demo_tools;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use kagent_mcp::{
    HttpServeOptions, HttpServerConfig, McpClient, McpServerConfig, TlsOptions, ToolsetServer,
    http_client, serve_http,
};
use serde_json::json;

const SAMPLES: usize = 2000;

fn components() -> PathBuf {
    std::env::var_os("KAGENT_TEST_COMPONENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.test-components"))
}

fn median_us(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1e6
}

async fn start_server(options: HttpServeOptions) -> String {
    let server = ToolsetServer::new("bench", "0", demo_tools::demo_toolset());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        serve_http(listener, server, options).await.unwrap();
    });
    format!("http://{addr}/mcp")
}

async fn call(client: &McpClient) {
    let mut args = serde_json::Map::new();
    args.insert("namespace".into(), json!("default"));
    let r = client
        .call_tool("count_pods", Some(args), None)
        .await
        .unwrap();
    assert_ne!(r.is_error, Some(true));
}

/// Median of the Python SDK client over `SAMPLES` calls, and its p90.
fn python_median(url: &str) -> (f64, f64) {
    let python = components().join("mcp-venv/bin/python");
    assert!(
        python.exists(),
        "python mcp missing at {}: run scripts/setup/mcp.sh",
        python.display()
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../kagent-mcp/tests/python/bench_client.py");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(url)
        .arg("count_pods")
        .arg(json!({"namespace": "default"}).to_string())
        .arg(SAMPLES.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python bench client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        report["median_us"].as_f64().unwrap(),
        report["p90_us"].as_f64().unwrap_or_default(),
    )
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // The first two are the server's modes as shipped; the last two send every call through
    // rmcp's session/service machinery (`disable_direct_tool_calls`), for an A/B in one run.
    let modes = [
        ("sessions_sse", HttpServeOptions::default()),
        (
            "stateless_json",
            HttpServeOptions::new().stateless_json(true),
        ),
        (
            "sessions_sse_rmcp_path",
            HttpServeOptions::new().disable_direct_tool_calls(true),
        ),
        (
            "stateless_json_rmcp_path",
            HttpServeOptions::new()
                .stateless_json(true)
                .disable_direct_tool_calls(true),
        ),
    ];
    let mut report = Vec::new();
    for (mode, options) in modes {
        let (url, client) = rt.block_on(async {
            let url = start_server(options).await;
            let client = McpClient::with_http_client(
                McpServerConfig::http("bench", HttpServerConfig::streamable_http(url.clone())),
                http_client(&TlsOptions::default()).unwrap(),
            );
            client.connect().await.unwrap();
            (url, client)
        });

        if std::env::var_os("MCP_ROUNDTRIP_SKIP_CRITERION").is_none() {
            c.bench_function(&format!("mcp_tools_call_{mode}_kagent_mcp"), |b| {
                b.to_async(&rt).iter(|| call(&client))
            });
        }
        // A plain median over SAMPLES calls, comparable with the Python client's. Ours (with
        // its direct tools/call exchange) and rmcp's own client (over the same pooled,
        // TCP_NODELAY reqwest client: kagent-mcp's client without the direct exchange)
        // alternate call by call, so load on the machine affects both alike.
        // The calls run in a task on the runtime, as an agent's tool calls do (not on the
        // thread that called block_on).
        let task_client = client.clone();
        let task_url = url.clone();
        let (ours, raw) = rt.block_on(async move {
            let client = task_client;
            let url = task_url;
            tokio::spawn(async move {
            use kagent_mcp::rmcp::ServiceExt;
            use kagent_mcp::rmcp::transport::StreamableHttpClientTransport;
            use kagent_mcp::rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
            let transport = StreamableHttpClientTransport::with_client(
                http_client(&TlsOptions::default()).unwrap(),
                StreamableHttpClientTransportConfig::with_uri(url.as_str()),
            );
            let peer = ().serve(transport).await.unwrap();
            let params = || {
                let mut args = serde_json::Map::new();
                args.insert("namespace".into(), json!("default"));
                kagent_mcp::rmcp::model::CallToolRequestParams::new("count_pods").with_arguments(args)
            };
            for _ in 0..200 {
                call(&client).await;
                peer.call_tool(params()).await.unwrap();
            }
            let mut ours = Vec::with_capacity(SAMPLES);
            let mut raw = Vec::with_capacity(SAMPLES);
            for i in 0..SAMPLES {
                for first in [i % 2 == 0, i % 2 != 0] {
                    let t = Instant::now();
                    if first {
                        call(&client).await;
                        ours.push(t.elapsed());
                    } else {
                        peer.call_tool(params()).await.unwrap();
                        raw.push(t.elapsed());
                    }
                }
            }
            let _ = peer.cancel().await;
            (median_us(ours), median_us(raw))
            })
            .await
            .unwrap()
        });
        let (py, py_p90) = python_median(&url);
        rt.block_on(client.close());
        report.push(format!(
            "  server mode {mode}:\n    kagent-mcp client median: {ours:.1} µs\n    \
             rmcp client (same reqwest client) median: {raw:.1} µs\n    \
             python mcp client median: {py:.1} µs (p90 {py_p90:.1} µs)\n    speed-up: {:.1}x",
            py / ours
        ));
    }
    // Medians are only comparable on a quiet machine: print the load they were taken under.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_else(|_| "n/a".into());
    println!(
        "\nmcp_roundtrip (tools/call, streamable HTTP, loopback, same kagent-mcp server, {SAMPLES} calls per client; targets: ≤ 300 µs, ≥ 5x; load avg after: {}):\n{}",
        load.trim(),
        report.join("\n")
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(100).measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
