//! The role agents (`agents/roles/`): each parses with no warning, names only tools the
//! workspace serves, lists every tool that is not read-only under `requireApproval`, and runs
//! offline against the fake cluster with its tools in process and a scripted model: its
//! read-only tool runs, its guarded tool is never run without an approver, and nothing writes
//! to the cluster.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use kagent_core::testing::ScriptedProvider;
use kagent_core::{AgentEvent, RunRequest, spawn_run};
use kagent_fake_apiserver::FakeCluster;
use kagent_runtime::{AgentLoader, BuiltinTools, InProcess, ManifestSource, ToolOrigin};
use serde_json::{Value, json};

const ROLES: [&str; 6] = [
    "alert-responder",
    "helm-operator",
    "k8s-troubleshooter",
    "progressive-delivery",
    "promql-observability",
    "zero-trust-auditor",
];

fn agents_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../agents")
}

/// The roles with kagent's `default-model-config` and `kagent-tool-server`.
fn source() -> ManifestSource {
    let dir = agents_dir();
    ManifestSource::from_paths(
        &[dir.join("roles"), dir.join("kagent/kagent.yaml")],
        "kagent",
    )
    .unwrap()
}

/// `(toolNames, requireApproval)` of every role, read from its file.
fn declared_tools() -> Vec<(String, Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    for role in ROLES {
        let path = agents_dir().join("roles").join(format!("{role}.yaml"));
        let manifests = kagent_api::read_yaml(&std::fs::read_to_string(&path).unwrap());
        assert!(
            manifests.errors.is_empty(),
            "{role}: {:?}",
            manifests.errors
        );
        let agents: Vec<_> = manifests.agents().collect();
        assert_eq!(agents.len(), 1, "{role}");
        let declarative = agents[0].spec.declarative.as_ref().unwrap();
        let (mut names, mut approval) = (Vec::new(), Vec::new());
        for tool in &declarative.tools {
            let server = tool.mcp_server.as_ref().unwrap();
            assert_eq!(server.name, "kagent-tool-server", "{role}");
            names.extend(server.tool_names.iter().cloned());
            approval.extend(server.require_approval.iter().cloned());
        }
        out.push((role.to_owned(), names, approval));
    }
    out
}

/// A loopback address nothing listens on: the HTTP families are configured, their backend is
/// down (the tool reports that to the model).
fn dead_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

fn builtin(cluster: &FakeCluster, dir: &tempfile::TempDir) -> BuiltinTools {
    let kubeconfig = dir.path().join("kubeconfig");
    cluster.write_kubeconfig(&kubeconfig).unwrap();
    BuiltinTools::new(cluster.client().unwrap())
        .default_namespace("shop")
        .helm_kubeconfig(kubeconfig)
        .prometheus_url(dead_url())
        .alertmanager_url(dead_url())
}

#[test]
fn every_role_reads_without_warnings() {
    let source = source();
    let mut agents = source.agents();
    agents.sort();
    let expected: Vec<_> = ROLES
        .iter()
        .map(|r| ("kagent".to_owned(), (*r).to_owned()))
        .collect();
    assert_eq!(agents, expected);
    assert!(source.warnings().is_empty(), "{:?}", source.warnings());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_names_served_tools_and_guards_every_write() {
    let cluster = FakeCluster::start_with_scenario().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tools = builtin(&cluster, &dir).toolset(None).unwrap();
    let published: BTreeSet<&str> = BuiltinTools::published_names().into_iter().collect();
    for (role, names, approval) in declared_tools() {
        let unique: BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{role}: a tool is listed twice");
        for name in &names {
            assert!(
                published.contains(name.as_str()),
                "{role}: {name} is not published"
            );
            let tool = tools
                .get(name)
                .unwrap_or_else(|| panic!("{role}: {name} is not served with this configuration"));
            let effect = tool.spec().effect;
            assert_eq!(
                !effect.is_read_only(),
                approval.contains(name),
                "{role}: {name} is {effect:?}; requireApproval must list exactly the tools that are not read-only"
            );
        }
    }
}

/// The read-only call and the guarded call the scripted model makes for each role.
fn script(role: &str) -> (&'static str, Value, Option<(&'static str, Value)>) {
    match role {
        "k8s-troubleshooter" => (
            "k8s_get_resources",
            json!({"resource_type": "pods", "namespace": "shop"}),
            Some((
                "k8s_scale",
                json!({"name": "checkout", "namespace": "shop", "replicas": 0}),
            )),
        ),
        "alert-responder" => (
            "k8s_get_events",
            json!({"namespace": "shop"}),
            Some((
                "alertmanager_expire_silence",
                json!({"silence_id": "5f8c1a9e-0000-4000-8000-000000000000"}),
            )),
        ),
        "progressive-delivery" => (
            "argo_rollouts_list",
            json!({"namespace": "shop"}),
            Some((
                "argo_promote_rollout",
                json!({"rollout_name": "checkout", "namespace": "shop"}),
            )),
        ),
        "zero-trust-auditor" => (
            "network_policy_analyze",
            json!({"namespace": "shop"}),
            Some((
                "network_policy_create_default_deny",
                json!({"namespace": "shop"}),
            )),
        ),
        "helm-operator" => (
            "helm_list_releases",
            json!({"namespace": "shop"}),
            Some((
                "helm_uninstall",
                json!({"name": "checkout", "namespace": "shop"}),
            )),
        ),
        "promql-observability" => ("prometheus_query_tool", json!({"query": "up"}), None),
        other => panic!("no script for {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_runs_offline_and_never_writes_without_approval() {
    let cluster = FakeCluster::start_with_scenario().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = Arc::new(source());
    for role in ROLES {
        let (read, read_args, guarded) = script(role);
        let mut model = ScriptedProvider::new()
            .with_model("scripted")
            .tool_call(read, read_args);
        if let Some((name, args)) = &guarded {
            model = model.tool_call(*name, args.clone());
        }
        let model = Arc::new(model.text(format!("{role}: done")));
        // No approver: a call that needs approval is rejected.
        let loaded = AgentLoader::from_arc(source.clone())
            .builtin_tools(builtin(&cluster, &dir))
            .in_process(InProcess::builtin())
            .model(model.clone())
            .load("kagent", role)
            .await
            .unwrap_or_else(|e| panic!("{role}: {e}"));
        assert!(
            loaded.origins.values().all(|o| matches!(
                o,
                ToolOrigin::InProcess { server, .. } if server == "kagent/kagent-tool-server"
            )),
            "{role}: {:?}",
            loaded.origins
        );
        let writes_before = cluster
            .requests()
            .iter()
            .filter(|r| r.method != "GET")
            .count();
        let mut events = Vec::new();
        let out = spawn_run(
            loaded.agent.clone(),
            RunRequest::new("Check the shop namespace."),
        )
        .for_each_event(|e| events.push(e))
        .await
        .unwrap_or_else(|e| panic!("{role}: {e}"));
        assert_eq!(out.answer, format!("{role}: done"));

        let started: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::ToolStarted { tool, .. } => Some(tool.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(started, vec![read], "{role}: tools that ran");
        if let Some((name, _)) = guarded {
            let stopped = events.iter().any(|e| match e {
                AgentEvent::ApprovalRequested { call, .. } => call.name == name,
                AgentEvent::ToolCallDenied { tool, .. } => tool == name,
                _ => false,
            });
            assert!(
                stopped,
                "{role}: {name} was not put to approval: {events:?}"
            );
        }
        let writes_after = cluster
            .requests()
            .iter()
            .filter(|r| r.method != "GET")
            .count();
        assert_eq!(
            writes_before, writes_after,
            "{role}: the cluster was written to"
        );
        // The model saw the read-only tool's result (a table, or the backend being down).
        let requests = model.requests();
        assert!(
            requests.len() >= 2,
            "{role}: {} model calls",
            requests.len()
        );
        loaded.close().await;
    }
}
