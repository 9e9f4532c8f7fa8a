//! kagent's pre-built agents (`agents/kagent/`, as kagent's Helm charts render them) load from
//! the folder, with the RBAC objects skipped and the `{{include "builtin/..."}}` directives
//! resolved from the `kagent-builtin-prompts` ConfigMap, and run offline against the fake
//! cluster with in-process tools and a scripted model.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::sync::Arc;

use kagent_core::testing::ScriptedProvider;
use kagent_core::{RunRequest, spawn_run};
use kagent_fake_apiserver::FakeCluster;
use kagent_runtime::{AgentLoader, BuiltinTools, InProcess, ManifestSource, ToolOrigin};
use serde_json::json;

fn agents_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../agents/kagent")
}

fn builtin(cluster: &FakeCluster, dir: &tempfile::TempDir) -> BuiltinTools {
    let kubeconfig = dir.path().join("kubeconfig");
    cluster.write_kubeconfig(&kubeconfig).unwrap();
    BuiltinTools::new(cluster.client().unwrap())
        .default_namespace("shop")
        .helm_kubeconfig(kubeconfig)
}

#[test]
fn the_folder_reads_with_rbac_skipped_and_no_warnings() {
    let source = ManifestSource::from_paths(&[agents_dir()], "kagent").unwrap();
    let mut agents = source.agents();
    agents.sort();
    assert_eq!(
        agents,
        vec![
            ("kagent".to_owned(), "helm-agent".to_owned()),
            ("kagent".to_owned(), "k8s-agent".to_owned()),
            ("kagent".to_owned(), "promql-agent".to_owned()),
        ]
    );
    let skipped = source.skipped().join("\n");
    for kind in ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"] {
        assert!(
            skipped.contains(kind),
            "{kind} not noted as skipped: {skipped}"
        );
    }
    assert!(source.warnings().is_empty(), "{:?}", source.warnings());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_prebuilt_agent_loads_and_runs_against_the_fake_cluster() {
    let cluster = FakeCluster::start_with_scenario().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = Arc::new(ManifestSource::from_paths(&[agents_dir()], "kagent").unwrap());
    for name in ["k8s-agent", "helm-agent", "promql-agent"] {
        let tools_listed = name != "promql-agent";
        let mut model = ScriptedProvider::new().with_model("scripted");
        if tools_listed {
            model = model.tool_call(
                "k8s_get_resources",
                json!({"resource_type": "pods", "namespace": "shop"}),
            );
        }
        let model = Arc::new(model.text(format!("{name}: done")));
        let loaded = AgentLoader::from_arc(source.clone())
            .builtin_tools(builtin(&cluster, &dir))
            .in_process(InProcess::builtin())
            .model(model.clone())
            .load("kagent", name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        if tools_listed {
            assert!(
                loaded.origins.values().all(|o| matches!(
                    o,
                    ToolOrigin::InProcess { declared: true, server } if server == "kagent/kagent-tool-server"
                )),
                "{name}: {:?}",
                loaded.origins
            );
            assert!(loaded.origins.contains_key("k8s_get_resources"));
        }
        let out = spawn_run(
            loaded.agent.clone(),
            RunRequest::new("What is failing in shop?"),
        )
        .for_each_event(|_| {})
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(out.answer, format!("{name}: done"));
        let requests = model.requests();
        let system = requests[0].system.clone().unwrap_or_default();
        assert!(
            !system.contains("{{"),
            "{name}: unrendered template: {system}"
        );
        assert!(
            system.contains("Tool Usage Best Practices"),
            "{name}: builtin prompt not included"
        );
        if tools_listed {
            // The tool ran against the fake cluster: its result names a scenario pod.
            let second = format!("{:?}", requests[1].messages);
            assert!(second.contains("checkout"), "{name}: {second}");
        }
        loaded.close().await;
    }
}
