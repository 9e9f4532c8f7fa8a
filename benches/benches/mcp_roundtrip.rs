//! One MCP `tools/call` round trip over streamable HTTP on loopback: kagent-mcp's client versus
//! the official Python client (PyPI `mcp`), both against the same kagent-mcp server, in the same
//! run. Needs `scripts/setup/mcp.sh`.
//!
//! `cargo bench -p kagent-benches --bench mcp_roundtrip`

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

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (url, client) = rt.block_on(async {
        let server = ToolsetServer::new("bench", "0", demo_tools::demo_toolset());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            serve_http(listener, server, HttpServeOptions::default())
                .await
                .unwrap();
        });
        let url = format!("http://{addr}/mcp");
        let client = McpClient::with_http_client(
            McpServerConfig::http("bench", HttpServerConfig::streamable_http(url.clone())),
            http_client(&TlsOptions::default()).unwrap(),
        );
        client.connect().await.unwrap();
        (url, client)
    });
    let args = json!({"namespace": "default"});
    let args_map = args.as_object().cloned();
    let call = |client: McpClient, args: Option<serde_json::Map<String, serde_json::Value>>| async move {
        let r = client.call_tool("count_pods", args, None).await.unwrap();
        assert_ne!(r.is_error, Some(true));
    };

    // Our client: criterion's estimate plus a plain median over SAMPLES calls.
    c.bench_function("mcp_tools_call_streamable_http_kagent_mcp", |b| {
        b.to_async(&rt).iter(|| call(client.clone(), args_map.clone()))
    });
    let ours = rt.block_on(async {
        for _ in 0..200 {
            call(client.clone(), args_map.clone()).await;
        }
        let mut samples = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            let t = Instant::now();
            call(client.clone(), args_map.clone()).await;
            samples.push(t.elapsed());
        }
        median_us(samples)
    });

    // The Python client against the same server, same run.
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
        .arg(&url)
        .arg("count_pods")
        .arg(args.to_string())
        .arg(SAMPLES.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python bench client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let py = report["median_us"].as_f64().unwrap();
    println!(
        "\nmcp_roundtrip (tools/call, streamable HTTP, loopback, {SAMPLES} calls each):\n  \
         kagent-mcp client median: {ours:.1} µs\n  \
         python mcp client median: {py:.1} µs (p90 {:.1} µs)\n  \
         speed-up: {:.1}x (targets: ≤ 300 µs, ≥ 5x)",
        report["p90_us"].as_f64().unwrap_or_default(),
        py / ours
    );
    rt.block_on(client.close());
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(100).measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
