//! The agents under test: anything that takes a scenario's cluster and task and answers.
//!
//! [`EvalAgent`] is the seam: the deterministic analyzers ([`AnalyzersAgent`]), the offline
//! playbook ([`PlaybookAgent`]) and a model-driven ReAct agent ([`crate::model::ModelAgent`])
//! implement it here; an agent declared as a `kagent.dev` `Agent` resource will implement it too
//! once the declarative loader exists (build it from the resource, run it on `env.client`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kagent_core::{
    AgentEvent, LlmAgent, PlaybookPlanner, PlaybookStep, RunRequest, ToolEffect, Toolset, spawn_run,
};
use kagent_k8s::{DiagnoseOptions, Diagnosis, Finding, K8sTools, ResourceCatalog, Severity};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{EvalError, Result};
use crate::scenario::Scenario;

/// What an agent gets to work on.
#[derive(Clone)]
pub struct ScenarioEnv<'a> {
    /// The scenario (task, namespace, Prometheus data).
    pub scenario: &'a Scenario,
    /// A client of the fake API server loaded with the scenario's cluster.
    pub client: kube::Client,
}

impl std::fmt::Debug for ScenarioEnv<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScenarioEnv")
            .field("scenario", &self.scenario.name)
            .finish_non_exhaustive()
    }
}

/// One statement "this object is broken, because ...".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// `Kind/name` of the object.
    pub object: String,
    /// `Kind/name` of its top-level workload, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// The stated cause (reason and message).
    pub cause: String,
    /// Supporting facts (events, log lines); not part of the statement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl Claim {
    /// The subject a false alarm is counted on: the workload when known, else the object.
    pub fn subject(&self) -> &str {
        self.workload.as_deref().unwrap_or(&self.object)
    }
}

/// A tool call the agent proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCallRecord {
    /// Tool name.
    pub tool: String,
    /// The tool's declared effect, when the tool is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<ToolEffect>,
    /// Arguments as JSON text.
    pub arguments: String,
}

/// An agent's answer and what it cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentAnswer {
    /// The answer as the agent gave it.
    pub text: String,
    /// Structured statements, when the agent gives them (the analyzers, the playbook, a model
    /// that ended its answer with the requested `Findings:` list). Without them false alarms
    /// are not counted (unless the judge counts them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<Claim>>,
    /// Tool calls proposed, in order.
    #[serde(default)]
    pub tool_calls: Vec<ToolCallRecord>,
    /// Model calls made.
    pub model_calls: u32,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
}

/// Something that answers a scenario's task.
#[async_trait::async_trait]
pub trait EvalAgent: Send + Sync {
    /// A short name for reports (`analyzers`, `playbook`, `model:gpt-4.1-mini`).
    fn name(&self) -> String;

    /// Answers the scenario's task against `env.client`.
    async fn answer(&self, env: &ScenarioEnv<'_>) -> Result<AgentAnswer>;
}

/// `Kind/name` of a finding.
fn finding_object(f: &Finding) -> String {
    format!("{}/{}", f.kind, f.name)
}

fn claim_of(f: &Finding) -> Claim {
    Claim {
        object: finding_object(f),
        workload: f.workload.clone(),
        cause: format!("{}: {}", f.reason, f.message),
        evidence: f.evidence.clone(),
    }
}

/// The deterministic analyzers alone: `kagent_k8s::diagnose` on the scenario's namespace (or
/// the whole cluster), every finding a claim.
#[derive(Debug, Clone, Default)]
pub struct AnalyzersAgent {
    /// Options passed to `diagnose` (the namespace is the scenario's).
    pub options: DiagnoseOptions,
}

#[async_trait::async_trait]
impl EvalAgent for AnalyzersAgent {
    fn name(&self) -> String {
        "analyzers".to_owned()
    }

    async fn answer(&self, env: &ScenarioEnv<'_>) -> Result<AgentAnswer> {
        let catalog = ResourceCatalog::new(env.client.clone());
        let options = self
            .options
            .clone()
            .namespace(env.scenario.spec.namespace.clone());
        let d = kagent_k8s::diagnose(&env.client, &catalog, &options)
            .await
            .map_err(|e| EvalError::Agent {
                agent: self.name(),
                message: e.to_string(),
            })?;
        Ok(AgentAnswer {
            text: d.render(),
            claims: Some(d.findings.iter().map(claim_of).collect()),
            ..AgentAnswer::default()
        })
    }
}

/// The offline troubleshooting playbook of `examples/troubleshoot.rs`, run as an agent: a
/// playbook planner (no model) calls `k8s_diagnose`, then describes every Service with a
/// critical finding, and renders one block per broken workload with the most specific finding
/// as its root cause and the others as symptoms.
#[derive(Debug, Clone, Default)]
pub struct PlaybookAgent;

type Captured = Arc<Mutex<Option<Vec<Claim>>>>;

impl PlaybookAgent {
    fn planner(namespace: Option<String>, captured: Captured) -> PlaybookPlanner {
        let args = match &namespace {
            Some(ns) => json!({"namespace": ns}),
            None => json!({}),
        };
        let ns = namespace.clone();
        PlaybookPlanner::new("troubleshoot")
            .step(PlaybookStep::call("diagnose", "k8s_diagnose", args))
            .step(PlaybookStep::dynamic(
                "describe",
                ["k8s_describe_resource"],
                move |results| {
                    let Some(d) = diagnosis(results) else {
                        return Vec::new();
                    };
                    let mut seen = BTreeSet::new();
                    d.findings
                        .iter()
                        .filter(|f| f.severity == Severity::Critical && f.kind == "Service")
                        .filter(|f| seen.insert((f.namespace.clone(), f.name.clone())))
                        .map(|f| {
                            let namespace = f.namespace.clone().or_else(|| ns.clone());
                            (
                                "k8s_describe_resource".to_owned(),
                                json!({"resource_type": "service", "resource_name": f.name, "namespace": namespace}),
                            )
                        })
                        .collect()
                },
            ))
            .render(move |results| {
                let (text, claims) = render_report(results);
                if let Ok(mut slot) = captured.lock() {
                    *slot = claims;
                }
                text
            })
    }
}

/// The diagnosis from the playbook's first step (its structured output).
fn diagnosis(results: &kagent_core::planner::PlaybookResults) -> Option<Diagnosis> {
    let r = results.step("diagnose")?.results.first()?;
    serde_json::from_value(r.structured.clone()?).ok()
}

/// One block per broken workload: root cause first, then symptoms and evidence (as the
/// troubleshoot example renders it), and the claims those blocks make.
fn render_report(results: &kagent_core::planner::PlaybookResults) -> (String, Option<Vec<Claim>>) {
    let Some(d) = diagnosis(results) else {
        return (
            "The diagnosis failed; see the tool output.".to_owned(),
            None,
        );
    };
    let mut by_workload: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in &d.findings {
        let key = f.workload.clone().unwrap_or_else(|| finding_object(f));
        by_workload.entry(key).or_default().push(f);
    }
    let mut claims = Vec::new();
    let mut out = format!(
        "# Troubleshooting report: {} broken or degraded workloads\n\n",
        by_workload.len()
    );
    for (workload, findings) in &by_workload {
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
        claims.push(claim_of(root));
        for f in findings {
            if !std::ptr::eq(*f, root) {
                out.push_str(&format!(
                    "symptom: {} {}: {}\n",
                    f.kind, f.reason, f.message
                ));
                claims.push(claim_of(f));
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
    (out, Some(claims))
}

#[async_trait::async_trait]
impl EvalAgent for PlaybookAgent {
    fn name(&self) -> String {
        "playbook".to_owned()
    }

    async fn answer(&self, env: &ScenarioEnv<'_>) -> Result<AgentAnswer> {
        let mut builder = K8sTools::builder(env.client.clone()).read_only(true);
        if let Some(ns) = &env.scenario.spec.namespace {
            builder = builder.default_namespace(ns);
        }
        let tools = builder.build().map_err(|e| agent_err("playbook", e))?;
        let captured: Captured = Arc::default();
        let agent = LlmAgent::builder("troubleshooter")
            .description("Finds broken workloads and their root causes")
            .planner(PlaybookAgent::planner(
                env.scenario.spec.namespace.clone(),
                captured.clone(),
            ))
            .toolset(tools.clone())
            .build()
            .map_err(|e| agent_err("playbook", e))?;
        let mut answer = run_llm_agent(agent, &tools, &env.scenario.spec.task, None)
            .await
            .map_err(|m| EvalError::Agent {
                agent: "playbook".to_owned(),
                message: m,
            })?;
        answer.claims = captured.lock().ok().and_then(|mut c| c.take());
        Ok(answer)
    }
}

pub(crate) fn agent_err(agent: &str, e: impl std::fmt::Display) -> EvalError {
    EvalError::Agent {
        agent: agent.to_owned(),
        message: e.to_string(),
    }
}

/// Runs an `LlmAgent` on `task`, recording its tool calls, model calls and tokens.
pub(crate) async fn run_llm_agent(
    agent: LlmAgent,
    tools: &Toolset,
    task: &str,
    timeout: Option<Duration>,
) -> std::result::Result<AgentAnswer, String> {
    let effects: BTreeMap<String, ToolEffect> = tools
        .specs()
        .into_iter()
        .map(|s| (s.name.clone(), s.effect))
        .collect();
    let handle = spawn_run(Arc::new(agent), RunRequest::new(task));
    let mut calls = Vec::new();
    let mut model_calls = 0u32;
    let run = handle.for_each_event(|event| match event {
        AgentEvent::ToolCallProposed { call } => calls.push(ToolCallRecord {
            effect: effects.get(&call.name).copied(),
            tool: call.name.clone(),
            arguments: call.arguments.to_json_string(),
        }),
        AgentEvent::ModelRequest { .. } => model_calls += 1,
        _ => {}
    });
    let output = match timeout {
        Some(t) => tokio::time::timeout(t, run)
            .await
            .map_err(|_| format!("no answer within {} s", t.as_secs()))?,
        None => run.await,
    }
    .map_err(|e| e.to_string())?;
    Ok(AgentAnswer {
        text: output.answer,
        claims: None,
        tool_calls: calls,
        model_calls,
        input_tokens: output.usage.input_tokens,
        output_tokens: output.usage.output_tokens,
    })
}
