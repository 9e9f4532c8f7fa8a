//! The article's seed agent lists `prometheus_query` from a `prometheus-tool-server` it does not
//! declare. With a Prometheus URL configured, `BuiltinTools` serves it in-process (kagent-tools'
//! Prometheus family, the `prometheus_query` alias) and a call reaches the real Prometheus
//! (`scripts/setup/prometheus.sh`, started by kagent-tools' `testing` harness); without one, the
//! error says which configuration is missing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kagent_core::testing::ScriptedProvider;
use kagent_core::{RunRequest, ToolEffect, spawn_run};
use kagent_fake_apiserver::FakeCluster;
use kagent_runtime::{
    AgentLoader, BuiltinTools, InProcess, LoadReason, ManifestSource, ToolOrigin,
};
use kagent_tools::PrometheusTools;
use kagent_tools::prometheus::client::QueryResult;
use kagent_tools::testing::{PromStack, StackOptions};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn seed_source() -> Arc<ManifestSource> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../kagent-api/tests/fixtures/seed");
    Arc::new(
        ManifestSource::from_paths(
            &[
                dir.join("agent-k8s-troubleshooter.yaml"),
                dir.join("modelconfig-anthropic-claude.yaml"),
            ],
            "kagent",
        )
        .unwrap(),
    )
}

/// A listener that records each request's head (request line and headers) and answers with
/// an empty Prometheus vector: it checks what the tools send, not what Prometheus answers.
async fn recording_listener() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf).into_owned());
                let body = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

/// Waits until the real Prometheus has scraped the harness's metrics endpoint.
async fn wait_for_scrape(url: &str) {
    let client = PrometheusTools::builder(url).build_client().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client
            .query("kagent_test_cpu_usage_seconds_total", None)
            .await
            && let QueryResult::Vector(v) = &r.data
            && !v.is_empty()
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus scraped nothing in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_agent_queries_the_real_prometheus_in_process_with_a_prometheus_url() {
    let opts = StackOptions {
        pods: 3,
        alertmanager: false,
        ..StackOptions::default()
    };
    let stack = PromStack::start(opts).unwrap_or_else(|e| panic!("{e}"));
    let url = stack.prometheus_url();
    wait_for_scrape(&url).await;

    let cluster = FakeCluster::start_with_scenario().unwrap();
    let model = Arc::new(
        ScriptedProvider::new()
            .with_model("scripted")
            .tool_call(
                "prometheus_query",
                json!({"query": "sum by (pod) (kagent_test_cpu_usage_seconds_total)"}),
            )
            .text("three pods report CPU"),
    );
    let loaded = AgentLoader::from_arc(seed_source())
        .builtin_tools(
            BuiltinTools::new(cluster.client().unwrap())
                .default_namespace("shop")
                .prometheus_url(&url),
        )
        .in_process(InProcess::builtin())
        .model(model.clone())
        .load("kagent", "k8s-troubleshooter")
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(
        loaded.origins.get("prometheus_query"),
        Some(&ToolOrigin::InProcess {
            server: "kagent/prometheus-tool-server".into(),
            declared: false,
        }),
        "{:?}",
        loaded.origins
    );
    let tools = loaded.agent.toolset();
    let mut names: Vec<_> = tools.names().collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "k8s_get_events",
            "k8s_get_pod_logs",
            "k8s_get_resources",
            "prometheus_query"
        ]
    );
    assert_eq!(
        tools.get("prometheus_query").unwrap().spec().effect,
        ToolEffect::ReadOnly
    );

    let out = spawn_run(loaded.agent.clone(), RunRequest::new("Which pods use CPU?"))
        .for_each_event(|_| {})
        .await
        .unwrap();
    assert_eq!(out.answer, "three pods report CPU");
    // Prometheus's answer, rendered as a table for the model, came back to the model: one
    // row per pod of the harness's metrics endpoint.
    let second = format!("{:?}", model.requests()[1].messages);
    assert!(second.contains("vector: 3 series"), "{second}");
    for pod in ["web-0", "web-1", "web-2"] {
        assert!(second.contains(pod), "{pod} missing: {second}");
    }
    loaded.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_bearer_token_is_sent() {
    let cluster = FakeCluster::start_with_scenario().unwrap();
    let (url, seen) = recording_listener().await;
    let tools = BuiltinTools::new(cluster.client().unwrap())
        .prometheus_bearer_token("prom-token")
        .prometheus_url(&url)
        .toolset(None)
        .unwrap();
    tools
        .call(
            "prometheus_query",
            json!({"query": "up"}),
            kagent_core::ToolContext::detached("t"),
        )
        .await
        .unwrap();
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let head = requests[0].to_ascii_lowercase();
    assert!(head.contains("/api/v1/query"), "{head}");
    assert!(head.contains("authorization: bearer prom-token"), "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_prometheus_url_the_error_names_the_missing_configuration() {
    let cluster = FakeCluster::start_with_scenario().unwrap();
    let errors = AgentLoader::from_arc(seed_source())
        .builtin_tools(BuiltinTools::new(cluster.client().unwrap()).default_namespace("shop"))
        .in_process(InProcess::builtin())
        .model(Arc::new(ScriptedProvider::new().text("unused")))
        .load("kagent", "k8s-troubleshooter")
        .await
        .unwrap_err();
    let all: Vec<_> = errors.iter().collect();
    assert_eq!(all.len(), 1, "{errors}");
    let e = all[0];
    assert_eq!(e.condition_reason(), "ToolsNotAvailableInProcess");
    assert_eq!(
        e.path.to_string(),
        "spec.declarative.tools[1].mcpServer.toolNames"
    );
    match &e.reason {
        LoadReason::NotInProcess {
            server,
            tools,
            unknown,
            needs,
            ..
        } => {
            assert_eq!(server, "kagent/prometheus-tool-server");
            assert_eq!(tools, &["prometheus_query".to_owned()]);
            assert!(unknown.is_empty(), "{unknown:?}");
            assert_eq!(needs.len(), 1, "{needs:?}");
            assert!(needs[0].contains("Prometheus URL"), "{needs:?}");
        }
        other => panic!("{other:?}"),
    }
    let text = e.to_string();
    assert!(
        text.contains("prometheus_query needs a Prometheus URL"),
        "{text}"
    );
    assert!(text.contains("--prometheus-url"), "{text}");
    assert!(!text.contains("has no tool by"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_no_family_has_is_still_reported_as_unknown() {
    let cluster = FakeCluster::start_with_scenario().unwrap();
    let agent = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../kagent-api/tests/fixtures/seed/agent-k8s-troubleshooter.yaml"),
    )
    .unwrap()
    .replace(
        "- prometheus_query",
        "- prometheus_query\n            - prometheus_frobnicate",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.yaml");
    std::fs::write(&path, agent).unwrap();
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../kagent-api/tests/fixtures/seed/modelconfig-anthropic-claude.yaml");
    let source = ManifestSource::from_paths(&[path, model], "kagent").unwrap();
    let errors = AgentLoader::new(source)
        .builtin_tools(BuiltinTools::new(cluster.client().unwrap()))
        .in_process(InProcess::builtin())
        .model(Arc::new(ScriptedProvider::new().text("unused")))
        .load("kagent", "k8s-troubleshooter")
        .await
        .unwrap_err();
    let e = errors.iter().next().unwrap();
    match &e.reason {
        LoadReason::NotInProcess { unknown, needs, .. } => {
            assert_eq!(unknown, &["prometheus_frobnicate".to_owned()]);
            assert_eq!(needs.len(), 1, "{needs:?}");
        }
        other => panic!("{other:?}"),
    }
    let text = e.to_string();
    assert!(
        text.contains("prometheus_query needs a Prometheus URL"),
        "{text}"
    );
    assert!(
        text.contains("kagent-rs has no tool by the name prometheus_frobnicate"),
        "{text}"
    );
}
