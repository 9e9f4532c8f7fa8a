//! End to end: the seed's two resources (the article's Agent and ModelConfig) applied to the fake
//! API server with kagent's CRDs, loaded through kube by kagent-runtime, with the Kubernetes tools
//! served in-process and a scripted model; and a declared agent answering through a real MCP
//! server from the test components (`scripts/setup/mcp.sh`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kagent_core::testing::ScriptedProvider;
use kagent_core::{AgentEvent, RunRequest, spawn_run};
use kagent_fake_apiserver::FakeCluster;
use kagent_runtime::{
    AgentLoader, BuiltinTools, InProcess, KubeSource, LoadReason, ManifestSource, ToolOrigin,
};
use serde_json::json;

fn seed(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../kagent-api/tests/fixtures/seed")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const KEY_SECRET: &str = "apiVersion: v1
kind: Secret
metadata: {name: anthropic-api-key, namespace: kagent}
stringData: {api-key: sk-ant-test}
";

/// The fake cluster with kagent's CRDs, the scenario, the seed's resources and their Secret.
fn cluster_with_seed(agent_yaml: &str) -> FakeCluster {
    let cluster = FakeCluster::start_with_scenario().unwrap();
    cluster
        .load_yaml(&kagent_api::crd::crds_yaml().unwrap())
        .unwrap();
    cluster
        .load_yaml("apiVersion: v1\nkind: Namespace\nmetadata: {name: kagent}\n")
        .unwrap();
    cluster.load_yaml(agent_yaml).unwrap();
    cluster
        .load_yaml(&seed("modelconfig-anthropic-claude.yaml"))
        .unwrap();
    cluster.load_yaml(KEY_SECRET).unwrap();
    cluster
}

fn loader(cluster: &FakeCluster) -> AgentLoader {
    let client = cluster.client().unwrap();
    AgentLoader::new(KubeSource::new(client.clone()).with_label("the fake cluster"))
        .builtin_tools(BuiltinTools::new(client).default_namespace("shop"))
        .in_process(InProcess::builtin())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_from_the_cluster_names_the_tool_not_served_in_process() {
    let cluster = cluster_with_seed(&seed("agent-k8s-troubleshooter.yaml"));
    let errors = loader(&cluster)
        .load("kagent", "k8s-troubleshooter")
        .await
        .unwrap_err();
    // The three Kubernetes tools are served in-process; prometheus_query is the only problem.
    let all: Vec<_> = errors.iter().collect();
    assert_eq!(all.len(), 1, "{errors}");
    let e = all[0];
    assert_eq!(e.condition_reason(), "ToolsNotAvailableInProcess");
    assert_eq!(
        e.path.to_string(),
        "spec.declarative.tools[1].mcpServer.toolNames"
    );
    match &e.reason {
        LoadReason::NotInProcess { server, tools, .. } => {
            assert_eq!(server, "kagent/prometheus-tool-server");
            assert_eq!(tools, &["prometheus_query".to_owned()]);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string()
            .contains("declare RemoteMCPServer kagent/prometheus-tool-server")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_agent_without_prometheus_runs_against_the_fake_cluster() {
    let agent = seed("agent-k8s-troubleshooter.yaml");
    let cut = agent
        .find("      - type: McpServer\n        mcpServer:\n          name: prometheus-tool-server")
        .unwrap();
    let cluster = cluster_with_seed(&agent[..cut]);

    // Without a model override the ModelConfig (lower-case provider, object apiKeySecretRef)
    // becomes an Anthropic provider with the key from the cluster's Secret.
    let loaded = loader(&cluster)
        .load("kagent", "k8s-troubleshooter")
        .await
        .unwrap();
    assert_eq!(loaded.model, "anthropic/claude-sonnet-4-20250514");
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("apiKeySecretRef")),
        "{:?}",
        loaded.warnings
    );
    loaded.close().await;

    let model = Arc::new(
        ScriptedProvider::new()
            .with_model("scripted")
            .tool_call(
                "k8s_get_resources",
                json!({"resource_type": "pods", "namespace": "shop"}),
            )
            .tool_call("k8s_get_events", json!({"namespace": "shop"}))
            .text("checkout is crash-looping"),
    );
    let loaded = loader(&cluster)
        .model(model.clone())
        .load("kagent", "k8s-troubleshooter")
        .await
        .unwrap();
    let names: Vec<_> = loaded.origins.keys().cloned().collect();
    assert_eq!(
        names,
        ["k8s_get_events", "k8s_get_pod_logs", "k8s_get_resources"]
    );
    assert!(loaded.origins.values().all(|o| matches!(
        o,
        ToolOrigin::InProcess {
            declared: false,
            ..
        }
    )));
    let mut finished = Vec::new();
    let out = spawn_run(
        loaded.agent.clone(),
        RunRequest::new("Why is checkout failing?"),
    )
    .for_each_event(|e| {
        if let AgentEvent::ToolFinished { tool, is_error, .. } = e {
            finished.push((tool.clone(), is_error));
        }
    })
    .await
    .unwrap();
    assert_eq!(out.answer, "checkout is crash-looping");
    assert_eq!(
        finished,
        [
            ("k8s_get_resources".to_owned(), false),
            ("k8s_get_events".to_owned(), false)
        ]
    );
    let requests = model.requests();
    assert!(
        requests[0]
            .system
            .as_deref()
            .unwrap_or_default()
            .contains("Kubernetesの障害調査専門エージェント")
    );
    assert_eq!(requests[0].tools.len(), 3);
    assert!(format!("{:?}", requests[1].messages).contains("checkout"));
    loaded.close().await;
}

fn components() -> PathBuf {
    match std::env::var_os("KAGENT_TEST_COMPONENTS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.test-components"),
    }
}

/// A declared agent (files, as `kagent-run -f` reads them) answers through server-everything
/// over streamable HTTP, a real MCP server from the test components.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_agent_answers_through_a_real_mcp_server() {
    let js =
        components().join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    assert!(
        js.exists(),
        "server-everything is not installed at {}: run scripts/setup/mcp.sh",
        js.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new("node")
        .arg(&js)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed (apt-get install -y nodejs)");
    let mut up = false;
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "server-everything did not listen on {port}");

    let yaml = format!(
        "{}
---
apiVersion: kagent.dev/v1alpha2
kind: RemoteMCPServer
metadata: {{name: everything, namespace: kagent}}
spec: {{description: server-everything, protocol: STREAMABLE_HTTP, url: 'http://127.0.0.1:{port}/mcp', timeout: 10s}}
---
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: {{name: echoer, namespace: kagent}}
spec:
  type: Declarative
  description: echoes
  declarative:
    modelConfig: anthropic-claude
    systemMessage: Echo what you are told.
    tools:
    - type: McpServer
      mcpServer: {{name: everything, kind: RemoteMCPServer, apiGroup: kagent.dev, toolNames: [echo]}}
",
        seed("modelconfig-anthropic-claude.yaml")
    );
    let mut source = ManifestSource::new("kagent");
    source.add_yaml(&yaml, "echoer.yaml").unwrap();

    // A toolNames entry the server does not offer names the server and what it offers.
    let mut bad = ManifestSource::new("kagent");
    bad.add_yaml(
        &yaml.replace("toolNames: [echo]", "toolNames: [echo, no_such_tool]"),
        "bad.yaml",
    )
    .unwrap();
    let errors = AgentLoader::new(bad)
        .model(Arc::new(ScriptedProvider::new()))
        .load("kagent", "echoer")
        .await
        .unwrap_err();
    let e = errors.first().unwrap();
    assert_eq!(e.condition_reason(), "UnknownTools", "{errors}");
    assert_eq!(
        e.path.to_string(),
        "spec.declarative.tools[0].mcpServer.toolNames"
    );
    assert!(
        e.to_string().contains("no_such_tool") && e.to_string().contains("get-sum"),
        "{e}"
    );

    let model = Arc::new(
        ScriptedProvider::new()
            .tool_call("echo", json!({"message": "declared and served"}))
            .text("done"),
    );
    let loaded = AgentLoader::new(source)
        .model(model.clone())
        .load("kagent", "echoer")
        .await
        .unwrap();
    assert!(matches!(
        loaded.origins.get("echo"),
        Some(ToolOrigin::Remote { .. })
    ));
    let out = spawn_run(loaded.agent.clone(), RunRequest::new("say it"))
        .for_each_event(|_| {})
        .await
        .unwrap();
    assert_eq!(out.answer, "done");
    assert!(format!("{:?}", model.requests()[1].messages).contains("declared and served"));
    loaded.close().await;
    let _ = child.kill().await;
}
