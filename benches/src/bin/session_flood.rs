//! Session flood (not a timed test): `initialize` requests that never close their session,
//! sent with a bearer token to the `tool_server` example in a child process, once per server
//! configuration in the same run. Reports the server's resident memory before, at the peak,
//! right after the flood and after the idle timeout has passed, and how many `initialize`
//! requests were accepted or rejected (by HTTP status).
//!
//! ```text
//! cargo build --release -p kagent-mcp --example tool_server
//! cargo run --release -p kagent-benches --bin session_flood -- [--sessions 10000] [--concurrency 32] [--addresses 8] [--idle 20] [--rest 15]
//! ```
//!
//! Configurations (each a fresh `tool_server` process, configured through its `MCP_*`
//! environment variables):
//!
//! - `unbounded`: session caps lifted and sessions that never expire: what the issue measured
//!   (every session held for good).
//! - `caps lifted, idle expiry`: every `initialize` accepted, sessions expire after `--idle`
//!   seconds: memory returns once they do.
//! - `defaults, idle expiry`: the default caps (1024 sessions, 256 per client), sessions expire
//!   after `--idle` seconds (the default is 300 s; shortened so the run ends in minutes).
//! - `defaults, one client`: the same, flooded from one address (the per-client cap).
//!
//! The flood comes from `--addresses` loopback source addresses (127.0.0.1, 127.0.0.2, ...;
//! one for the last configuration), `--sessions / addresses` requests each, `--concurrency` in
//! flight in total, so the total cap and the per-client cap are each reached. After the flood the run waits `--idle`
//! seconds plus `--rest` (jemalloc hands freed pages back after about 10 s), then reads RSS
//! again and checks that a new session is accepted.
//!
//! Exits non-zero when a configuration misbehaves: a bounded server holding more sessions than
//! its caps, memory not returning within 25 % of the flood's growth after expiry, or a server
//! that accepts no new session after expiry.

use std::net::{IpAddr, Ipv4Addr};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::json;

const TOKEN: &str = "flood-test-token";

struct Args {
    sessions: usize,
    concurrency: usize,
    addresses: u8,
    idle: u64,
    rest: u64,
    server: std::path::PathBuf,
}

fn args() -> anyhow::Result<Args> {
    let exe = std::env::current_exe()?;
    let profile_dir = exe.parent().context("the binary has no parent directory")?;
    let mut out = Args {
        sessions: 10_000,
        concurrency: 32,
        addresses: 8,
        idle: 20,
        rest: 15,
        server: profile_dir.join("examples/tool_server"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        if flag == "--server" {
            out.server = value.into();
            continue;
        }
        let n: u64 = value
            .parse()
            .with_context(|| format!("{flag} {value}: not a number"))?;
        match flag.as_str() {
            "--sessions" => out.sessions = n as usize,
            "--concurrency" => out.concurrency = (n as usize).max(1),
            "--addresses" => out.addresses = u8::try_from(n.clamp(1, 250))?,
            "--idle" => out.idle = n.max(1),
            "--rest" => out.rest = n,
            _ => bail!(
                "unknown flag {flag} (--sessions, --concurrency, --addresses, --idle, --rest, --server)"
            ),
        }
    }
    if !out.server.exists() {
        bail!(
            "no tool_server example at {}: run `cargo build --release -p kagent-mcp --example tool_server` (or pass --server PATH)",
            out.server.display()
        );
    }
    Ok(out)
}

fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Peak RSS of `pid` while the returned flag stays unset (polled every 50 ms; VmHWM would also
/// count the start-up).
fn watch_peak(pid: u32) -> (Arc<AtomicBool>, tokio::task::JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let task = tokio::spawn(async move {
        let mut peak = 0;
        while !flag.load(Ordering::Relaxed) {
            peak = peak.max(status_kib(pid, "VmRSS:").unwrap_or(0));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        peak.max(status_kib(pid, "VmRSS:").unwrap_or(0))
    });
    (stop, task)
}

#[derive(Default, Debug, Clone, Copy)]
struct Counts {
    ok: usize,
    unauthorized: usize,
    too_many: usize,
    unavailable: usize,
    other: usize,
    failed: usize,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.ok += o.ok;
        self.unauthorized += o.unauthorized;
        self.too_many += o.too_many;
        self.unavailable += o.unavailable;
        self.other += o.other;
        self.failed += o.failed;
    }
}

fn initialize_body() -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "session-flood", "version": "0"}}})
    .to_string()
}

/// One `initialize`; the session is never closed. Returns the HTTP status (`None`: the
/// request failed below HTTP).
async fn initialize(http: &reqwest::Client, url: &str, token: Option<&str>) -> Option<u16> {
    let mut request = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(initialize_body());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    // Read the answer (the SSE stream ends after the initialize result).
    response.bytes().await.ok()?;
    Some(status)
}

fn tally(status: Option<u16>, counts: &mut Counts) {
    match status {
        Some(200) => counts.ok += 1,
        Some(401) => counts.unauthorized += 1,
        Some(429) => counts.too_many += 1,
        Some(503) => counts.unavailable += 1,
        Some(_) => counts.other += 1,
        None => counts.failed += 1,
    }
}

async fn flood(args: &Args, addresses: u8, url: &str) -> anyhow::Result<Counts> {
    let per_address = args.sessions / usize::from(addresses);
    let in_flight = (args.concurrency / usize::from(addresses)).max(1);
    let mut tasks = Vec::new();
    for a in 0..addresses {
        let http = reqwest::Client::builder()
            .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + a)))
            .timeout(Duration::from_secs(30))
            .build()?;
        for w in 0..in_flight {
            let http = http.clone();
            let url = url.to_owned();
            let n = per_address / in_flight + usize::from(w < per_address % in_flight);
            tasks.push(tokio::spawn(async move {
                let mut counts = Counts::default();
                for _ in 0..n {
                    tally(initialize(&http, &url, Some(TOKEN)).await, &mut counts);
                }
                counts
            }));
        }
    }
    let mut total = Counts::default();
    for t in tasks {
        total.add(t.await?);
    }
    Ok(total)
}

struct Config {
    name: &'static str,
    env: Vec<(&'static str, String)>,
    /// The most sessions the server may hold (for the check).
    cap: Option<usize>,
    /// Source addresses of the flood (`None`: `--addresses`).
    addresses: Option<u8>,
    expires: bool,
}

async fn run_config(args: &Args, config: &Config) -> anyhow::Result<(serde_json::Value, bool)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut command = tokio::process::Command::new(&args.server);
    command
        .args(["http", &format!("127.0.0.1:{port}"), TOKEN])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in &config.env {
        command.env(k, v);
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", args.server.display()))?;
    let pid = child.id().context("the server exited at once")?;
    let mut up = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !up {
        bail!("{}: the server did not listen on port {port}", config.name);
    }
    let url = format!("http://127.0.0.1:{port}/mcp");
    let probe = reqwest::Client::new();

    // Without the token nothing is created.
    let mut anonymous = Counts::default();
    for _ in 0..100 {
        tally(initialize(&probe, &url, None).await, &mut anonymous);
    }
    // Warm up (thread pools, lazy statics) with one session, then settle.
    tally(
        initialize(&probe, &url, Some(TOKEN)).await,
        &mut Counts::default(),
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = status_kib(pid, "VmRSS:")?;

    let (stop, peak_task) = watch_peak(pid);
    let addresses = config.addresses.unwrap_or(args.addresses);
    let counts = flood(args, addresses, &url).await?;
    let after_flood = status_kib(pid, "VmRSS:")?;
    stop.store(true, Ordering::Relaxed);
    let peak = peak_task.await?;

    tokio::time::sleep(Duration::from_secs(args.idle + args.rest)).await;
    let after_expiry = status_kib(pid, "VmRSS:")?;
    let accepted_again = initialize(&probe, &url, Some(TOKEN)).await == Some(200);
    let _ = child.kill().await;

    let growth = peak.saturating_sub(before);
    let mut ok = anonymous.unauthorized == 100 && counts.failed == 0 && counts.other == 0;
    if let Some(cap) = config.cap {
        ok &= counts.ok <= cap;
    }
    if config.expires {
        ok &= accepted_again && after_expiry <= before + growth / 4;
    }
    let per_session_kb = if counts.ok > 0 {
        (growth as f64 * 1.024 / counts.ok as f64 * 10.0).round() / 10.0
    } else {
        0.0
    };
    println!(
        "{:<32} from {addresses} address(es): accepted {:>5}  429 {:>5}  503 {:>5}  failed {:>3}  other {:>3}  | no token: {} x 401 | RSS MiB: before {:>6.1}  peak {:>6.1}  after flood {:>6.1}  after {} s {:>6.1}  ({per_session_kb} KB per accepted session) | new session after: {}{}",
        config.name,
        counts.ok,
        counts.too_many,
        counts.unavailable,
        counts.failed,
        counts.other,
        anonymous.unauthorized,
        mib(before),
        mib(peak),
        mib(after_flood),
        args.idle + args.rest,
        mib(after_expiry),
        if accepted_again {
            "accepted"
        } else {
            "refused"
        },
        if ok { "" } else { "  <-- FAILED CHECK" },
    );
    let report = json!({
        "config": config.name,
        "source_addresses": addresses,
        "accepted": counts.ok, "rejected_429": counts.too_many, "rejected_503": counts.unavailable,
        "failed": counts.failed, "other_status": counts.other,
        "unauthenticated_401": anonymous.unauthorized,
        "rss_mib": {"before": mib(before), "peak": mib(peak), "after_flood": mib(after_flood),
                    "after_wait": mib(after_expiry)},
        "wait_s": args.idle + args.rest,
        "kb_per_accepted_session": per_session_kb,
        "new_session_accepted_after_wait": accepted_again,
        "ok": ok,
    });
    Ok((report, ok))
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let lifted = || {
        vec![
            ("MCP_MAX_SESSIONS", "1000000000".to_owned()),
            ("MCP_MAX_SESSIONS_PER_CLIENT", "1000000000".to_owned()),
        ]
    };
    let idle = args.idle.to_string();
    let mut unbounded = lifted();
    unbounded.push(("MCP_SESSION_IDLE_SECS", "1000000".to_owned()));
    let mut lifted_expiring = lifted();
    lifted_expiring.push(("MCP_SESSION_IDLE_SECS", idle.clone()));
    let configs = [
        Config {
            name: "unbounded (no caps, no expiry)",
            env: unbounded,
            cap: None,
            addresses: None,
            expires: false,
        },
        Config {
            name: "caps lifted, idle expiry",
            env: lifted_expiring,
            cap: None,
            addresses: None,
            expires: true,
        },
        Config {
            name: "defaults, idle expiry",
            env: vec![("MCP_SESSION_IDLE_SECS", idle)],
            cap: Some(1024),
            addresses: None,
            expires: true,
        },
        Config {
            name: "defaults, one client",
            env: vec![("MCP_SESSION_IDLE_SECS", args.idle.to_string())],
            cap: Some(256),
            addresses: Some(1),
            expires: true,
        },
    ];
    println!(
        "session flood: {} initialize from {} addresses, {} in flight, idle timeout {} s (where it expires), rest {} s",
        args.sessions, args.addresses, args.concurrency, args.idle, args.rest
    );
    let mut reports = Vec::new();
    let mut all_ok = true;
    for config in &configs {
        let (report, ok) = run_config(&args, config).await?;
        reports.push(report);
        all_ok &= ok;
    }
    println!("{}", serde_json::to_string_pretty(&reports)?);
    if !all_ok {
        bail!("a configuration failed its check (see above)");
    }
    Ok(())
}
