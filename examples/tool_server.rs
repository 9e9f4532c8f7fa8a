//! `tool-server`: every tool family of the workspace served over MCP (streamable HTTP or
//! stdio), the counterpart of kagent's tool server (`kagent-tool-server`).
//!
//! ```text
//! # no cluster needed: the in-process fake API server with its broken-workloads scenario
//! cargo run -p kagent-examples --example kagent_tool_server -- --fake-cluster --transport stdio
//! # KUBECONFIG's cluster (or the in-cluster service account), over HTTP with a token
//! MCP_BEARER_TOKEN=s3cret cargo run -p kagent-examples --example kagent_tool_server -- \
//!     --listen 0.0.0.0:8084 --prometheus-url http://prometheus.monitoring:9090 --read-only
//! ```
//!
//! The example is named `kagent_tool_server`: kagent-mcp's demo `tool_server` example (which the
//! `session_flood` bench runs) would otherwise share its output path
//! (`target/<profile>/examples/tool_server`).
//!
//! The tools are assembled by kagent-runtime's `BuiltinTools` (the same set `kagent-run` serves
//! in-process): kagent-k8s's Kubernetes tools and kagent-tools' Helm, Argo Rollouts, Istio and
//! NetworkPolicy / Cilium tools on one kube client, and the Prometheus, Alertmanager and
//! Grafana tools when their URL is given. A family whose configuration is absent is skipped
//! with a line on stderr saying which flag configures it.
//!
//! Options (each also from the environment variable named):
//!
//! - `--transport stdio|http` (default `http`); `--listen ADDR` (default `127.0.0.1:8084`):
//!   streamable HTTP at `/mcp`, legacy SSE at `/sse`, health at `/healthz`.
//! - `--bearer-token TOKEN` (`MCP_BEARER_TOKEN`): HTTP clients must send
//!   `Authorization: Bearer TOKEN`. `--allowed-host HOST` (repeatable): the `Host` values
//!   accepted (DNS-rebinding protection; list the Service's names in a cluster).
//! - `--read-only`: only tools whose effect is read-only are served.
//! - `--tools a,b,c`: only these tools; a name that is not served is an error listing the
//!   valid names (or saying what configures it).
//! - `--namespace NS`: the namespace tools use when a call names none.
//! - `--fake-cluster`: the in-process fake API server with its broken-workloads scenario
//!   (namespace `shop`), plus the Istio, Argo Rollouts and Cilium CRDs and kagent-tools' test
//!   meshes, rollouts and network policies, so every Kubernetes-backed family has data.
//! - `--prometheus-url URL` (`PROMETHEUS_URL`), `--prometheus-token` (`PROMETHEUS_BEARER_TOKEN`).
//! - `--alertmanager-url URL` (`ALERTMANAGER_URL`), `--alertmanager-token`
//!   (`ALERTMANAGER_BEARER_TOKEN`).
//! - `--grafana-url URL` (`GRAFANA_URL`), `--grafana-token` (`GRAFANA_SERVICE_ACCOUNT_TOKEN`).
//! - `--helm-kubeconfig PATH` (`HELM_KUBECONFIG`): the kubeconfig the helm binary uses for
//!   Helm's write tools (default: `KUBECONFIG` when it names one file; with `--fake-cluster`, a
//!   kubeconfig written for the fake cluster).
//!
//! Prefer the environment variables for tokens: arguments are visible in the process list.
//! Logs go to stderr (`RUST_LOG`); in stdio mode stdout carries only the protocol.
//!
//! Exit codes: 0 served until the client left (stdio) or the process was stopped, 1 a
//! failure (no cluster, a bad URL, the address in use), 2 bad arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use kagent_core::Toolset;
use kagent_mcp::{HttpServeOptions, ToolsetServer, serve_http};
use kagent_runtime::BuiltinTools;

#[path = "support/fake_cluster.rs"]
mod fake_cluster;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Transport {
    /// MCP over the process's stdin and stdout.
    Stdio,
    /// MCP streamable HTTP (and legacy SSE).
    Http,
}

/// Every tool family of kagent-rs over MCP: kagent's tool server, as a Rust binary.
#[derive(Debug, Parser)]
#[command(name = "tool-server", version)]
struct Args {
    /// How clients connect.
    #[arg(long, value_enum, default_value = "http")]
    transport: Transport,
    /// The HTTP listen address.
    #[arg(long, default_value = "127.0.0.1:8084")]
    listen: SocketAddr,
    /// Bearer token HTTP clients must send.
    #[arg(long, env = "MCP_BEARER_TOKEN", hide_env_values = true)]
    bearer_token: Option<String>,
    /// A `Host` header value accepted over HTTP (repeatable; default: any).
    #[arg(long = "allowed-host")]
    allowed_hosts: Vec<String>,
    /// Serve only tools whose effect is read-only.
    #[arg(long)]
    read_only: bool,
    /// Serve only these tools (comma-separated).
    #[arg(long, value_delimiter = ',')]
    tools: Option<Vec<String>>,
    /// The namespace used when a call names none (default: the kube client's).
    #[arg(long)]
    namespace: Option<String>,
    /// Use the in-process fake API server with its scenario, Istio meshes, rollouts and policies.
    #[arg(long)]
    fake_cluster: bool,
    /// Prometheus base URL (enables the Prometheus tools).
    #[arg(long, env = "PROMETHEUS_URL")]
    prometheus_url: Option<String>,
    /// Bearer token for Prometheus.
    #[arg(long, env = "PROMETHEUS_BEARER_TOKEN", hide_env_values = true)]
    prometheus_token: Option<String>,
    /// Alertmanager base URL (enables the Alertmanager tools).
    #[arg(long, env = "ALERTMANAGER_URL")]
    alertmanager_url: Option<String>,
    /// Bearer token for Alertmanager.
    #[arg(long, env = "ALERTMANAGER_BEARER_TOKEN", hide_env_values = true)]
    alertmanager_token: Option<String>,
    /// Grafana base URL (enables the Grafana tools).
    #[arg(long, env = "GRAFANA_URL")]
    grafana_url: Option<String>,
    /// Grafana service-account token.
    #[arg(long, env = "GRAFANA_SERVICE_ACCOUNT_TOKEN", hide_env_values = true)]
    grafana_token: Option<String>,
    /// Kubeconfig for the helm binary (enables Helm's write tools).
    #[arg(long, env = "HELM_KUBECONFIG")]
    helm_kubeconfig: Option<PathBuf>,
}

/// Empty values (`PROMETHEUS_URL=`) count as absent.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Keeps the fake cluster (and its kubeconfig file) alive while serving.
struct FakeGuard {
    _cluster: kagent_fake_apiserver::FakeCluster,
    kubeconfig: PathBuf,
}

impl Drop for FakeGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.kubeconfig);
    }
}

/// The tools to serve, with a line on stderr for everything left out.
async fn assemble(args: &Args) -> Result<(BuiltinTools, Option<FakeGuard>)> {
    let mut fake = None;
    let client = if args.fake_cluster {
        let cluster = fake_cluster::start()?;
        let client = cluster.client()?;
        let kubeconfig = std::env::temp_dir().join(format!(
            "kagent-tool-server-{}.kubeconfig",
            std::process::id()
        ));
        cluster.write_kubeconfig(&kubeconfig)?;
        eprintln!(
            "kubernetes: fake cluster at {} with {}",
            cluster.url(),
            fake_cluster::CONTENTS
        );
        fake = Some(FakeGuard {
            _cluster: cluster,
            kubeconfig,
        });
        client
    } else {
        kube::Client::try_default().await.context(
            "no Kubernetes cluster: set KUBECONFIG, run in a pod with a service account, or pass --fake-cluster",
        )?
    };
    let mut tools = BuiltinTools::new(client).read_only(args.read_only);
    if let Some(ns) = &args.namespace {
        tools = tools.default_namespace(ns);
    }

    let given_kubeconfig = args
        .helm_kubeconfig
        .as_ref()
        .filter(|p| !p.as_os_str().is_empty());
    let helm_kubeconfig = match (&fake, given_kubeconfig) {
        (_, Some(path)) => Some(path.clone()),
        (Some(f), None) => Some(f.kubeconfig.clone()),
        (None, None) => std::env::var_os("KUBECONFIG")
            .filter(|p| !p.is_empty() && !p.to_string_lossy().contains(':'))
            .map(PathBuf::from),
    };
    match helm_kubeconfig {
        Some(path) => tools = tools.helm_kubeconfig(path),
        None if !args.read_only => eprintln!(
            "helm: write tools skipped (no --helm-kubeconfig / HELM_KUBECONFIG, and KUBECONFIG does not name one file)"
        ),
        None => {}
    }

    match given(&args.prometheus_url) {
        Some(url) => {
            tools = tools.prometheus_url(url);
            if let Some(token) = given(&args.prometheus_token) {
                tools = tools.prometheus_bearer_token(token.to_owned());
            }
        }
        None => eprintln!("prometheus: skipped (no --prometheus-url / PROMETHEUS_URL)"),
    }
    match given(&args.alertmanager_url) {
        Some(url) => {
            tools = tools.alertmanager_url(url);
            if let Some(token) = given(&args.alertmanager_token) {
                tools = tools.alertmanager_bearer_token(token.to_owned());
            }
        }
        None => eprintln!("alertmanager: skipped (no --alertmanager-url / ALERTMANAGER_URL)"),
    }
    match given(&args.grafana_url) {
        Some(url) => {
            tools = tools.grafana_url(url);
            match given(&args.grafana_token) {
                Some(token) => tools = tools.grafana_token(token.to_owned()),
                None => eprintln!(
                    "grafana: no --grafana-token / GRAFANA_SERVICE_ACCOUNT_TOKEN; requests are anonymous"
                ),
            }
        }
        None => eprintln!("grafana: skipped (no --grafana-url / GRAFANA_URL)"),
    }
    Ok((tools, fake))
}

/// Applies `--tools`: every name must be served; otherwise the error lists the valid names and
/// says what configures a known tool that is left out.
fn select(all: Toolset, wanted: &[String], builtin: &BuiltinTools) -> Result<Toolset, String> {
    let wanted: Vec<&str> = wanted
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .collect();
    if wanted.is_empty() {
        return Err("--tools names no tool".into());
    }
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    for name in &wanted {
        if all.contains(name) {
            continue;
        }
        match builtin.unavailable_reason(name) {
            Some(reason) => problems.push(reason),
            None => unknown.push(*name),
        }
    }
    if !unknown.is_empty() {
        problems.push(format!(
            "unknown tool name{} {}",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", ")
        ));
    }
    if !problems.is_empty() {
        let mut valid: Vec<&str> = all.names().collect();
        valid.sort_unstable();
        return Err(format!(
            "--tools: {}\nvalid names with this configuration: {}",
            problems.join("; "),
            valid.join(", ")
        ));
    }
    all.filter(&wanted).map_err(|e| format!("--tools: {e}"))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();

    let (builtin, _fake) = assemble(&args).await?;
    let mut tools = builtin
        .toolset(None)
        .context("building the tools (check the URLs given)")?;
    if let Some(wanted) = &args.tools {
        tools = match select(tools, wanted, &builtin) {
            Ok(t) => t,
            Err(message) => {
                eprintln!("error: {message}");
                std::process::exit(2);
            }
        };
    }
    let read_only = tools
        .specs()
        .iter()
        .filter(|s| s.effect.is_read_only())
        .count();
    eprintln!(
        "serving {} tools ({read_only} read-only{})",
        tools.len(),
        if args.read_only { ", --read-only" } else { "" }
    );

    let server = ToolsetServer::new("kagent-tool-server", env!("CARGO_PKG_VERSION"), tools);
    match args.transport {
        Transport::Stdio => {
            if args.bearer_token.is_some() {
                eprintln!("stdio: --bearer-token / MCP_BEARER_TOKEN has no effect over stdio");
            }
            server.serve_stdio().await?;
        }
        Transport::Http => {
            let mut options = HttpServeOptions::new();
            if let Some(token) = given(&args.bearer_token) {
                options = options.bearer_token(token.to_owned());
            } else {
                eprintln!(
                    "http: no --bearer-token / MCP_BEARER_TOKEN; any client may call the tools"
                );
            }
            if !args.allowed_hosts.is_empty() {
                options = options.allowed_hosts(args.allowed_hosts.clone());
            }
            let listener = tokio::net::TcpListener::bind(args.listen)
                .await
                .with_context(|| format!("listening on {}", args.listen))?;
            eprintln!("serving MCP on http://{}/mcp", listener.local_addr()?);
            serve_http(listener, server, options).await?;
        }
    }
    Ok(())
}
