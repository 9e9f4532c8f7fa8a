//! The `kagent_tool_server` example (`examples/tool_server.rs`) on the fake cluster, reached by
//! kagent-mcp's client over stdio and streamable HTTP: the tool families are listed, a read-only
//! tool answers with the cluster's content, `--read-only` and `--tools` filter, and bad
//! arguments fail with a message that says how to fix them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use kagent_core::ToolEffect;
use kagent_core::message::render_tool_content;
use kagent_mcp::{
    HttpServerConfig, McpClient, McpServerConfig, McpToolset, StdioServerConfig, TlsOptions,
    http_client,
};

mod support;

const EXAMPLE: &str = "kagent_tool_server";

/// The example binary.
fn example() -> PathBuf {
    support::example(EXAMPLE)
}

/// Environment variables the example reads, removed so the host's settings do not leak in.
const ENV: [&str; 10] = [
    "KUBECONFIG",
    "MCP_BEARER_TOKEN",
    "PROMETHEUS_URL",
    "PROMETHEUS_BEARER_TOKEN",
    "ALERTMANAGER_URL",
    "ALERTMANAGER_BEARER_TOKEN",
    "GRAFANA_URL",
    "GRAFANA_SERVICE_ACCOUNT_TOKEN",
    "HELM_KUBECONFIG",
    "RUST_LOG",
];

/// An MCP client for the example over stdio with `args` (after `--transport stdio --fake-cluster`).
async fn stdio_tools(args: &[&str]) -> McpToolset {
    let mut all = vec!["--transport", "stdio", "--fake-cluster"];
    all.extend_from_slice(args);
    // A clean environment, so the host's settings (KUBECONFIG, PROMETHEUS_URL, ...) stay out.
    let mut server = StdioServerConfig::new(example().to_string_lossy())
        .args(all)
        .env_clear(true);
    for var in ["PATH", "HOME", "TMPDIR"] {
        if let Ok(value) = std::env::var(var) {
            server = server.env(var, value);
        }
    }
    let client = McpClient::new(
        McpServerConfig::stdio("kagent-tool-server", server).timeout(Duration::from_secs(60)),
    );
    McpToolset::connect(client)
        .await
        .unwrap_or_else(|e| panic!("connecting to the example over stdio: {e}"))
}

/// Runs the example on the fake cluster over stdio to completion (for argument errors) and
/// returns (exit code, stderr).
fn run_to_exit(args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["--transport", "stdio", "--fake-cluster"];
    all.extend_from_slice(args);
    run_raw(&all)
}

/// Runs the example with exactly `args`.
fn run_raw(args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = Command::new(example());
    cmd.args(args);
    for var in ENV {
        cmd.env_remove(var);
    }
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_serves_every_kube_family_and_a_read_only_call_returns_cluster_content() {
    let tools = stdio_tools(&[]).await;
    let set = tools.toolset();
    let names: Vec<&str> = set.names().collect();
    for name in [
        "k8s_get_resources",
        "k8s_get_pod_logs",
        "k8s_delete_resource",
        "istio_analyze_cluster_configuration",
        "network_policy_analyze",
        "cilium_validate_cilium_network_policies",
        "helm_list_releases",
        // --fake-cluster writes a kubeconfig for helm, so its writes are served too.
        "helm_upgrade",
        "argo_rollouts_list",
        "argo_promote_rollout",
    ] {
        assert!(names.contains(&name), "{name} not listed: {names:?}");
    }
    // No Prometheus, Alertmanager or Grafana URL: those families are skipped.
    for name in [
        "prometheus_query",
        "alertmanager_list_alerts",
        "search_dashboards",
    ] {
        assert!(!names.contains(&name), "{name} listed unconfigured");
    }
    // Effects travel as MCP annotations and come back as kagent effects.
    assert_eq!(
        set.get("k8s_get_resources").unwrap().spec().effect,
        ToolEffect::ReadOnly
    );
    assert_eq!(
        set.get("k8s_delete_resource").unwrap().spec().effect,
        ToolEffect::Destructive
    );

    let out = tools
        .client()
        .call_tool(
            "k8s_get_resources",
            Some(
                serde_json::json!({"resource_type": "pods", "namespace": "shop"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
            None,
        )
        .await
        .unwrap();
    assert_ne!(out.is_error, Some(true), "{out:?}");
    let text = format!("{:?}", out.content);
    // The scenario's failing pods, from the fake API server through kube and MCP.
    assert!(text.contains("checkout"), "{text}");
    assert!(text.contains("CrashLoopBackOff"), "{text}");

    // One read-only tool of each other family answers over MCP with what --fake-cluster
    // loaded (kagent-tools' test rollouts and meshes on top of the scenario).
    for (name, args, expect) in [
        (
            "helm_list_releases",
            serde_json::json!({"all_namespaces": true}),
            "No Helm releases",
        ),
        (
            "argo_rollouts_list",
            serde_json::json!({"namespace": "shop"}),
            "RolloutAborted",
        ),
        (
            "istio_analyze_cluster_configuration",
            serde_json::json!({"namespace": "store"}),
            "VirtualService",
        ),
    ] {
        let out = tools
            .client()
            .call_tool(name, Some(args.as_object().unwrap().clone()), None)
            .await
            .unwrap();
        let text = format!("{:?}", out.content);
        assert_ne!(out.is_error, Some(true), "{name}: {text}");
        assert!(text.contains(expect), "{name}: {text}");
    }

    // A read-only call through the kagent Tool wrapper, too.
    let netpol = set
        .call(
            "network_policy_analyze",
            serde_json::json!({"namespace": "shop"}),
            kagent_core::ToolContext::detached("t"),
        )
        .await
        .unwrap();
    assert!(!render_tool_content(&netpol.content).is_empty());
    tools.client().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_lists_no_mutating_tool() {
    let tools = stdio_tools(&["--read-only"]).await;
    let specs = tools.specs();
    assert!(specs.len() > 20, "{}", specs.len());
    for spec in &specs {
        assert_eq!(
            spec.effect,
            ToolEffect::ReadOnly,
            "{} served with --read-only",
            spec.name
        );
    }
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    for name in [
        "k8s_delete_resource",
        "k8s_apply_manifest",
        "helm_upgrade",
        "argo_promote_rollout",
        "istio_set_route_weights",
        "network_policy_create_default_deny",
    ] {
        assert!(!names.contains(&name), "{name} listed with --read-only");
    }
    assert!(names.contains(&"k8s_get_resources"));
    tools.client().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_keeps_only_the_named_tools() {
    let tools = stdio_tools(&[
        "--tools",
        "k8s_get_resources,istio_analyze_cluster_configuration",
    ])
    .await;
    let mut names: Vec<String> = tools.toolset().names().map(str::to_owned).collect();
    names.sort();
    assert_eq!(
        names,
        ["istio_analyze_cluster_configuration", "k8s_get_resources"]
    );
    tools.client().close().await;
}

#[test]
fn an_unknown_tool_name_fails_with_the_valid_names() {
    let (code, stderr) = run_to_exit(&["--tools", "k8s_get_resources,k8s_frobnicate"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown tool name k8s_frobnicate"),
        "{stderr}"
    );
    assert!(
        stderr.contains("valid names with this configuration:"),
        "{stderr}"
    );
    assert!(stderr.contains("k8s_get_pod_logs"), "{stderr}");
}

#[test]
fn a_tool_whose_family_is_not_configured_says_what_configures_it() {
    let (code, stderr) = run_to_exit(&["--tools", "prometheus_query"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("prometheus_query needs a Prometheus URL"),
        "{stderr}"
    );
    assert!(
        stderr.contains("prometheus: skipped (no --prometheus-url / PROMETHEUS_URL)"),
        "{stderr}"
    );
    // A mutating tool asked for with --read-only.
    let (code, stderr) = run_to_exit(&["--read-only", "--tools", "k8s_delete_resource"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("read-only"), "{stderr}");
}

#[test]
fn bad_arguments_are_usage_errors() {
    let (code, stderr) = run_raw(&["--transport", "carrier-pigeon", "--fake-cluster"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("stdio"), "{stderr}");
    let (code, stderr) = run_to_exit(&["--prometheus-url", "prometheus:9090"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("Prometheus"), "{stderr}");
}

/// Kills the child when the test ends, passing or not.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_serves_the_tools_behind_the_bearer_token() {
    let mut cmd = Command::new(example());
    cmd.args([
        "--transport",
        "http",
        "--listen",
        "127.0.0.1:0",
        "--fake-cluster",
        "--read-only",
    ]);
    for var in ENV {
        cmd.env_remove(var);
    }
    cmd.env("MCP_BEARER_TOKEN", "tool-server-token");
    let mut child = Child(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // The address is announced on stderr once the listener is bound.
    let stderr = child.0.stderr.take().unwrap();
    let url = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(url) = line.strip_prefix("serving MCP on ") {
                // Keep draining stderr so the server never blocks on a full pipe.
                std::thread::spawn(move || lines.for_each(drop));
                return url.to_owned();
            }
            seen.push(line);
        }
        panic!("the server exited without serving: {seen:?}");
    })
    .await
    .unwrap();

    let remote = HttpServerConfig::streamable_http(&url)
        .header("Authorization", "Bearer tool-server-token")
        .unwrap();
    let http = http_client(&TlsOptions::default()).unwrap();
    let client = McpClient::with_http_client(
        McpServerConfig::http("kagent-tool-server", remote),
        http.clone(),
    );
    let listed = client.list_tools().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|t| t.name.as_ref()).collect();
    assert!(names.contains(&"k8s_get_resources"), "{names:?}");
    assert!(names.contains(&"argo_rollouts_list"), "{names:?}");
    assert!(!names.contains(&"k8s_delete_resource"), "{names:?}");
    client.close().await;

    // Without the token the server refuses.
    let anonymous = McpClient::with_http_client(
        McpServerConfig::http(
            "kagent-tool-server",
            HttpServerConfig::streamable_http(&url),
        ),
        http,
    );
    let err = anonymous.list_tools().await.unwrap_err();
    let text = err.to_string();
    // rmcp's client reports the server's 401 as "Auth required".
    assert!(text.to_lowercase().contains("auth required"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_families_are_served_when_their_url_is_given() {
    // Nothing listens on port 9 (discard): the tools are served, and a call reports the
    // unreachable backend to the model instead of failing the protocol.
    let tools = stdio_tools(&[
        "--prometheus-url",
        "http://127.0.0.1:9",
        "--alertmanager-url",
        "http://127.0.0.1:9",
        "--grafana-url",
        "http://127.0.0.1:9",
        "--grafana-token",
        "glsa_test",
    ])
    .await;
    let set = tools.toolset();
    for name in [
        "prometheus_query",
        "prometheus_query_tool",
        "prometheus_query_range_tool",
        "alertmanager_list_alerts",
        "alertmanager_create_silence",
        "search_dashboards",
    ] {
        assert!(set.contains(name), "{name} not served");
    }
    let out = tools
        .client()
        .call_tool(
            "prometheus_query",
            Some(
                serde_json::json!({"query": "up"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
            None,
        )
        .await
        .unwrap();
    assert_eq!(out.is_error, Some(true), "{out:?}");
    let text = format!("{:?}", out.content);
    assert!(text.contains("Prometheus"), "{text}");
    assert!(text.contains("127.0.0.1:9"), "{text}");
    tools.client().close().await;
}
