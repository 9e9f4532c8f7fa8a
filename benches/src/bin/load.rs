//! Load test (not a timed test): many clients against the MCP tool server and the agent engine
//! for a fixed time; reports throughput, p50 / p99 latency and peak RSS, and checks that
//! nothing leaks (RSS after a rest within 10 % of before). Exits non-zero on a leak or an
//! error.
//!
//! ```text
//! cargo run --release -p kagent-benches --bin load -- [--clients 64] [--seconds 5] [--rounds 3] [--rest 15]
//! ```
//!
//! MCP: `tools/call` of the same tool (`count_pods` of the demo toolset, the same
//! `ToolsetServer` handler) against kagent-mcp's server (`serve_http`, default limits) and
//! against rmcp's own streamable HTTP server (`StreamableHttpService` with its
//! `LocalSessionManager`, served by `axum::serve` with `TCP_NODELAY`), in alternating rounds of
//! `--seconds` each so machine noise hits both alike. Every client is a kagent-mcp `McpClient`
//! with its own session, sharing one pooled HTTP client. Clients and servers share this
//! process and its 2-worker runtime.
//!
//! Engine: `--clients` concurrent agent runs of 10 tool turns each (zero-latency scripted
//! model, no-op tool), each session deleted after its run.
//!
//! The process uses jemalloc (as the `tool_server` example does), which hands freed memory
//! back to the OS, so RSS after the rest shows what is still held.

#[path = "../../../kagent-mcp/tests/support/demo_tools.rs"]
mod demo_tools;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kagent_benches::{looping_agent_with_store, noop_tools};
use kagent_core::{Agent, EventSink, InMemorySessionStore, RunRequest, SessionStore};
use kagent_mcp::rmcp::transport::StreamableHttpServerConfig;
use kagent_mcp::rmcp::transport::StreamableHttpService;
use kagent_mcp::rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use kagent_mcp::{
    HttpServeOptions, HttpServerConfig, McpClient, McpServerConfig, TlsOptions, ToolsetServer,
    http_client, serve_http,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const TURNS: usize = 10;

struct Args {
    clients: usize,
    seconds: u64,
    rounds: usize,
    rest: u64,
}

fn args() -> anyhow::Result<Args> {
    let mut out = Args {
        clients: 64,
        seconds: 5,
        rounds: 3,
        rest: 15,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let n: u64 = value
            .parse()
            .with_context(|| format!("{flag} {value}: not a number"))?;
        match flag.as_str() {
            "--clients" => out.clients = n as usize,
            "--seconds" => out.seconds = n,
            "--rounds" => out.rounds = n as usize,
            "--rest" => out.rest = n,
            _ => bail!("unknown flag {flag} (--clients, --seconds, --rounds, --rest)"),
        }
    }
    Ok(out)
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn rss_mib() -> f64 {
    status_kib("VmRSS:") as f64 / 1024.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Samples RSS every 50 ms until stopped; returns the peak in MiB.
fn watch_peak() -> (Arc<AtomicBool>, tokio::task::JoinHandle<f64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let task = tokio::spawn(async move {
        let mut peak = rss_mib();
        while !flag.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(50)).await;
            peak = peak.max(rss_mib());
        }
        peak
    });
    (stop, task)
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    elapsed: Duration,
    errors: u64,
}

impl Tally {
    fn merge(&mut self, mut other: Tally) {
        self.latencies.append(&mut other.latencies);
        self.errors += other.errors;
    }

    fn report(&mut self, name: &str, unit: &str, peak: f64) -> serde_json::Value {
        self.latencies.sort();
        let pct = |p: f64| -> f64 {
            if self.latencies.is_empty() {
                return 0.0;
            }
            let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
            self.latencies[i].as_secs_f64() * 1e3
        };
        let rate = self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9);
        println!(
            "{name:<34} {rate:>10.0} {unit}/s   p50 {:>7.3} ms   p99 {:>7.3} ms   errors {}   peak RSS {peak:.1} MiB",
            pct(0.5),
            pct(0.99),
            self.errors
        );
        json!({"name": name, "per_second": rate, "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "count": self.latencies.len(), "errors": self.errors, "peak_rss_mib": peak})
    }
}

async fn start_kagent_server(tools: ToolsetServer, stop: CancellationToken) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = HttpServeOptions::new().cancellation(stop);
    tokio::spawn(async move { serve_http(listener, tools, options).await });
    format!("http://{addr}/mcp")
}

async fn start_rmcp_server(tools: ToolsetServer, stop: CancellationToken) -> String {
    use axum::serve::ListenerExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = StreamableHttpService::new(
        move || Ok(tools.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default().with_cancellation_token(stop.child_token()),
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
    });
    format!("http://{addr}/mcp")
}

async fn mcp_clients(
    url: &str,
    n: usize,
    http: &reqwest::Client,
) -> anyhow::Result<Vec<Arc<McpClient>>> {
    let mut clients = Vec::with_capacity(n);
    for i in 0..n {
        let config = McpServerConfig::http(
            format!("load-{i}"),
            HttpServerConfig::streamable_http(url.to_owned()),
        );
        let client = McpClient::with_http_client(config, http.clone());
        client.list_tools().await.context("connect")?;
        clients.push(Arc::new(client));
    }
    Ok(clients)
}

/// Every client calls `count_pods` in a loop for `seconds`.
async fn mcp_round(clients: &[Arc<McpClient>], seconds: f64) -> Tally {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in clients {
        let client = Arc::clone(client);
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut args = serde_json::Map::new();
            args.insert("namespace".into(), json!("default"));
            while Instant::now() < deadline {
                let t = Instant::now();
                match client
                    .call_tool("count_pods", Some(args.clone()), None)
                    .await
                {
                    Ok(r) if r.is_error != Some(true) => tally.latencies.push(t.elapsed()),
                    _ => tally.errors += 1,
                }
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for t in tasks {
        total.merge(t.await.unwrap());
    }
    total.elapsed = started.elapsed();
    total
}

/// `n` concurrent agent runs in a loop for `seconds`; each run's session is deleted after it.
async fn engine_round(n: usize, seconds: f64) -> Tally {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let store = Arc::new(InMemorySessionStore::new());
    let agent = Arc::new(looping_agent_with_store(
        TURNS,
        noop_tools(),
        Arc::clone(&store),
    ));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let agent = Arc::clone(&agent);
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < deadline {
                let t = Instant::now();
                match agent.run(RunRequest::new("go"), EventSink::discard()).await {
                    Ok(out) if out.tool_calls == TURNS as u32 => {
                        tally.latencies.push(t.elapsed());
                        let _ = store.delete(&out.session_id).await;
                    }
                    _ => tally.errors += 1,
                }
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for t in tasks {
        total.merge(t.await.unwrap());
    }
    total.elapsed = started.elapsed();
    total
}

fn leak_check(name: &str, before: f64, after: f64) -> bool {
    let ok = after <= before * 1.10;
    println!(
        "{name:<34} RSS before {before:.1} MiB, after rest {after:.1} MiB: {}",
        if ok {
            "ok (within 10 %)"
        } else {
            "LEAK? (more than 10 % above)"
        }
    );
    ok
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    println!(
        "load: {} clients, {} rounds of {} s per server, rest {} s; load average before: {}",
        args.clients,
        args.rounds,
        args.seconds,
        args.rest,
        load_average()
    );
    let mut report = serde_json::Map::new();
    let mut ok = true;

    // ---- MCP: kagent-mcp's server and rmcp's, same tool, alternating rounds ----
    let stop = CancellationToken::new();
    let tools = ToolsetServer::new("load", "0", demo_tools::demo_toolset());
    let kagent_url = start_kagent_server(tools.clone(), stop.clone()).await;
    let rmcp_url = start_rmcp_server(tools, stop.clone()).await;
    let http = http_client(&TlsOptions::default())?;
    let kagent_clients = mcp_clients(&kagent_url, args.clients, &http).await?;
    let rmcp_clients = mcp_clients(&rmcp_url, args.clients, &http).await?;
    // Warm up both (connections, allocator pools), then take the baseline.
    mcp_round(&kagent_clients, 1.0).await;
    mcp_round(&rmcp_clients, 1.0).await;
    let before = rss_mib();
    let (peak_stop, peak_task) = watch_peak();
    let mut kagent = Tally::default();
    let mut rmcp = Tally::default();
    for round in 0..args.rounds {
        // Alternate which goes first, so neither always follows the other.
        let order: [bool; 2] = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_kagent in order {
            if is_kagent {
                let t = mcp_round(&kagent_clients, args.seconds as f64).await;
                kagent.elapsed += t.elapsed;
                kagent.merge(t);
            } else {
                let t = mcp_round(&rmcp_clients, args.seconds as f64).await;
                rmcp.elapsed += t.elapsed;
                rmcp.merge(t);
            }
        }
    }
    peak_stop.store(true, Ordering::Relaxed);
    let peak = peak_task.await?;
    println!("load average after the MCP rounds: {}", load_average());
    report.insert(
        "mcp_kagent".into(),
        kagent.report("tools/call, kagent-mcp server", "calls", peak),
    );
    report.insert(
        "mcp_rmcp".into(),
        rmcp.report("tools/call, rmcp server", "calls", peak),
    );
    ok &= kagent.errors == 0 && rmcp.errors == 0;
    for c in kagent_clients.iter().chain(rmcp_clients.iter()) {
        c.close().await;
    }
    drop(kagent_clients);
    drop(rmcp_clients);
    tokio::time::sleep(Duration::from_secs(args.rest)).await;
    ok &= leak_check("MCP (both servers)", before, rss_mib());
    stop.cancel();

    // ---- Engine ----
    engine_round(args.clients, 1.0).await;
    let before = rss_mib();
    let (peak_stop, peak_task) = watch_peak();
    let calls = Arc::new(AtomicU64::new(0));
    let mut engine = Tally::default();
    for _ in 0..args.rounds {
        let t = engine_round(args.clients, args.seconds as f64).await;
        calls.fetch_add((t.latencies.len() * TURNS) as u64, Ordering::Relaxed);
        engine.elapsed += t.elapsed;
        engine.merge(t);
    }
    peak_stop.store(true, Ordering::Relaxed);
    let peak = peak_task.await?;
    let tool_calls_per_s = calls.load(Ordering::Relaxed) as f64 / engine.elapsed.as_secs_f64();
    let mut engine_report = engine.report("agent runs (10 tool turns each)", "runs", peak);
    println!("{:<34} {tool_calls_per_s:>10.0} tool calls/s", "");
    if let Some(map) = engine_report.as_object_mut() {
        map.insert("tool_calls_per_second".into(), json!(tool_calls_per_s));
    }
    report.insert("engine".into(), engine_report);
    ok &= engine.errors == 0;
    tokio::time::sleep(Duration::from_secs(args.rest)).await;
    ok &= leak_check("engine", before, rss_mib());

    report.insert("load_average_end".into(), json!(load_average()));
    report.insert(
        "peak_rss_process_mib".into(),
        json!(status_kib("VmHWM:") as f64 / 1024.0),
    );
    println!("{}", serde_json::Value::Object(report));
    if !ok {
        bail!("errors or a leak (see above)");
    }
    Ok(())
}
