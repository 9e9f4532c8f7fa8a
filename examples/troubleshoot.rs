//! Troubleshoot a cluster: find each broken workload, its root cause and the evidence.
//!
//! Offline (the default): starts the in-process fake Kubernetes API server loaded with the
//! broken-workloads scenario (crash loop, image pull failure, OOM kill, unschedulable pod,
//! Service selecting nothing, pending PVC, failing readiness probe, stuck rollout, HPA at max)
//! and runs an agent with a deterministic playbook planner — no model, no network:
//!
//! ```text
//! cargo run -p kagent-examples --example troubleshoot
//! ```
//!
//! Against a real cluster: set `KUBECONFIG` and a model, and a ReAct agent (the model picks the
//! tools) investigates with the read-only Kubernetes tools instead:
//!
//! ```text
//! KUBECONFIG=~/.kube/config KAGENT_MODEL_CONFIG=model.yaml \
//!   cargo run -p kagent-examples --example troubleshoot -- <namespace>
//! ```
//!
//! `model.yaml` is a kagent `ModelConfig` spec, e.g. `{provider: OpenAI, model: gpt-4.1-mini}`
//! with the key in `apiKey` or `OPENAI_API_KEY`.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context, Result};
use kagent_core::{
    AgentEvent, LlmAgent, PlaybookPlanner, PlaybookStep, ReactPlanner, RunRequest, spawn_run,
};
use kagent_fake_apiserver::FakeCluster;
use kagent_k8s::{Diagnosis, K8sTools, Severity};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<()> {
    let namespace = std::env::args().nth(1);
    match (std::env::var_os("KUBECONFIG"), model_config()?) {
        (Some(_), Some(config)) => live(config, namespace).await,
        _ => offline(namespace.unwrap_or_else(|| "shop".to_owned())).await,
    }
}

/// The model to use against a real cluster: `KAGENT_MODEL_CONFIG` (a kagent ModelConfig spec as
/// YAML or JSON), else OpenAI when `OPENAI_API_KEY` is set.
fn model_config() -> Result<Option<kagent_llm::config::ModelConfig>> {
    if let Some(path) = std::env::var_os("KAGENT_MODEL_CONFIG") {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.to_string_lossy()))?;
        let mut config: kagent_llm::config::ModelConfig =
            serde_yaml::from_str(&text).context("parsing KAGENT_MODEL_CONFIG")?;
        if config.api_key().is_none()
            && let Ok(key) = std::env::var("OPENAI_API_KEY")
        {
            config = config.with_api_key(key);
        }
        return Ok(Some(config));
    }
    Ok(std::env::var("OPENAI_API_KEY").ok().map(|key| {
        kagent_llm::config::ModelConfig::new(
            kagent_llm::config::ProviderKind::OpenAI,
            std::env::var("KAGENT_MODEL").unwrap_or_else(|_| "gpt-4.1-mini".to_owned()),
        )
        .with_api_key(key)
    }))
}

async fn offline(namespace: String) -> Result<()> {
    let cluster = FakeCluster::start_with_scenario()?;
    println!(
        "fake cluster at {} loaded with the broken-workloads scenario\n",
        cluster.url()
    );
    let tools = K8sTools::builder(cluster.client()?)
        .read_only(true)
        .default_namespace(&namespace)
        .build()?;

    let ns = namespace.clone();
    let playbook = PlaybookPlanner::new("troubleshoot")
        .step(PlaybookStep::call(
            "diagnose",
            "k8s_diagnose",
            json!({"namespace": namespace}),
        ))
        // For every workload with a critical finding, describe its failing pods' controller
        // (the owner chain and events a human would look at next).
        .step(PlaybookStep::dynamic(
            "describe",
            ["k8s_describe_resource"],
            move |results| {
                let Some(d) = diagnosis(results) else {
                    return Vec::new();
                };
                let mut seen = std::collections::BTreeSet::new();
                d.findings
                    .iter()
                    .filter(|f| f.severity == Severity::Critical && f.kind == "Service")
                    .filter(|f| seen.insert(f.name.clone()))
                    .map(|f| {
                        (
                            "k8s_describe_resource".to_owned(),
                            json!({"resource_type": "service", "resource_name": f.name, "namespace": ns}),
                        )
                    })
                    .collect()
            },
        ))
        .render(render_report);

    let agent = LlmAgent::builder("troubleshooter")
        .description("Finds broken workloads and their root causes")
        .planner(playbook)
        .toolset(tools)
        .build()?;
    let handle = spawn_run(
        Arc::new(agent),
        RunRequest::new(format!("What is broken in namespace {namespace}, and why?")),
    );
    let output = handle
        .for_each_event(|event| {
            if let AgentEvent::ToolCallProposed { call } = &event {
                println!("-> {}({})", call.name, call.arguments.to_json_string());
            }
        })
        .await?;
    println!("{}", output.answer);
    println!(
        "({} steps, {} tool calls, {} model tokens)",
        output.steps,
        output.tool_calls,
        output.usage.total()
    );
    Ok(())
}

/// The diagnosis from the playbook's first step (its structured output).
fn diagnosis(results: &kagent_core::planner::PlaybookResults) -> Option<Diagnosis> {
    let r = results.step("diagnose")?.results.first()?;
    serde_json::from_value(r.structured.clone()?).ok()
}

/// One block per broken workload: root cause first, then the evidence.
fn render_report(results: &kagent_core::planner::PlaybookResults) -> String {
    let Some(d) = diagnosis(results) else {
        return "The diagnosis failed; see the tool output.".to_owned();
    };
    let mut by_workload: BTreeMap<String, Vec<&kagent_k8s::Finding>> = BTreeMap::new();
    for f in &d.findings {
        let key = f
            .workload
            .clone()
            .unwrap_or_else(|| format!("{}/{}", f.kind, f.name));
        by_workload.entry(key).or_default().push(f);
    }
    let mut out = format!(
        "# Troubleshooting report: {} broken or degraded workloads\n\n",
        by_workload.len()
    );
    for (workload, findings) in &by_workload {
        // The most specific finding (a pod's or a claim's) is the root cause; the workload's own
        // finding is the symptom.
        let root = findings
            .iter()
            .find(|f| f.kind != "Deployment" && f.kind != "ReplicaSet")
            .or(findings.first())
            .copied();
        let Some(root) = root else { continue };
        let severity = if findings.iter().any(|f| f.severity == Severity::Critical) {
            "BROKEN"
        } else {
            "DEGRADED"
        };
        out.push_str(&format!(
            "## {workload} — {severity}\nroot cause: {} — {}\n",
            root.reason, root.message
        ));
        for f in findings {
            if !std::ptr::eq(*f, root) {
                out.push_str(&format!(
                    "symptom: {} {}: {}\n",
                    f.kind, f.reason, f.message
                ));
            }
        }
        for f in findings {
            for e in f.evidence.iter().take(6) {
                out.push_str(&format!("  evidence: {e}\n"));
            }
        }
        out.push('\n');
    }
    if let Some(step) = results.step("describe") {
        for r in &step.results {
            out.push_str("## detail\n");
            out.push_str(&r.text());
            out.push('\n');
        }
    }
    out
}

async fn live(config: kagent_llm::config::ModelConfig, namespace: Option<String>) -> Result<()> {
    let client = kube::Client::try_default()
        .await
        .context("connecting with KUBECONFIG")?;
    let http = config.build_client()?;
    let provider: Arc<dyn kagent_core::ModelProvider> =
        kagent_llm::config::build_provider(&config, http)?;
    let mut builder = K8sTools::builder(client)
        .read_only(true)
        .model(provider.clone());
    if let Some(ns) = &namespace {
        builder = builder.default_namespace(ns);
    }
    let tools = builder.build()?;
    let scope = namespace
        .as_deref()
        .map(|n| format!("namespace {n}"))
        .unwrap_or_else(|| "the cluster".to_owned());
    let agent = LlmAgent::builder("troubleshooter")
        .description("Finds broken workloads and their root causes")
        .system_prompt(
            "You are a Kubernetes SRE. Start with k8s_diagnose, then confirm each finding with \
             k8s_describe_resource, k8s_get_pod_logs and k8s_get_events. For every broken \
             workload report: the workload, the root cause, and the evidence (quote log lines \
             and events). You only have read-only tools: propose fixes, do not apply them.",
        )
        .provider(provider)
        .planner(ReactPlanner::new())
        .toolset(tools)
        .build()?;
    let handle = spawn_run(
        Arc::new(agent),
        RunRequest::new(format!("What is broken in {scope}, and why?")),
    );
    let output = handle
        .for_each_event(|event| {
            if let AgentEvent::ToolCallProposed { call } = &event {
                println!("-> {}({})", call.name, call.arguments.to_json_string());
            }
        })
        .await?;
    println!("\n{}", output.answer);
    println!(
        "({} steps, {} tool calls, {} tokens)",
        output.steps,
        output.tool_calls,
        output.usage.total()
    );
    Ok(())
}
