//! Quickstart: an agent with two custom tools, driven offline by the scripted provider.
//!
//! `get_deployment` is read-only and runs freely; `scale_deployment` is mutating, so the
//! standard policy asks for approval. A stand-in for a human approves the first request. The
//! example prints every event of the run and the final answer.
//!
//! Run it with `cargo run -p kagent-examples --example quickstart`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use kagent_core::testing::ScriptedProvider;
use kagent_core::{
    AgentEvent, ApprovalDecision, ChannelApprover, IntoTool, LlmAgent, MemoryAuditSink, RunRequest,
    ToolContext, ToolEffect, ToolError, ToolOutput, Toolset, TypedTool, spawn_run,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

/// A tiny in-memory "cluster": deployment name to replica count.
type Cluster = Arc<Mutex<BTreeMap<String, u32>>>;

#[derive(Deserialize, JsonSchema)]
struct GetArgs {
    /// Deployment name.
    name: String,
}

struct GetDeployment(Cluster);

#[kagent_core::async_trait]
impl TypedTool for GetDeployment {
    type Args = GetArgs;
    fn name(&self) -> &str {
        "get_deployment"
    }
    fn description(&self) -> &str {
        "Shows a deployment's replica count"
    }
    fn effect(&self) -> ToolEffect {
        ToolEffect::ReadOnly
    }
    async fn run(&self, args: GetArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let cluster = self
            .0
            .lock()
            .map_err(|_| ToolError::failed("cluster lock poisoned"))?;
        match cluster.get(&args.name) {
            Some(n) => Ok(ToolOutput::text(format!(
                "deployment {} has {n} replica(s), 412 req/s per replica (limit 300)",
                args.name
            ))),
            None => Err(ToolError::NotFound {
                message: format!("deployment {}", args.name),
            }),
        }
    }
}

#[derive(Deserialize, JsonSchema)]
struct ScaleArgs {
    /// Deployment name.
    name: String,
    /// Desired replica count.
    replicas: u32,
}

struct ScaleDeployment(Cluster);

#[kagent_core::async_trait]
impl TypedTool for ScaleDeployment {
    type Args = ScaleArgs;
    fn name(&self) -> &str {
        "scale_deployment"
    }
    fn description(&self) -> &str {
        "Sets a deployment's replica count"
    }
    fn effect(&self) -> ToolEffect {
        ToolEffect::Mutating
    }
    async fn run(&self, args: ScaleArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let mut cluster = self
            .0
            .lock()
            .map_err(|_| ToolError::failed("cluster lock poisoned"))?;
        let current = cluster
            .get_mut(&args.name)
            .ok_or_else(|| ToolError::NotFound {
                message: format!("deployment {}", args.name),
            })?;
        let before = *current;
        *current = args.replicas;
        Ok(ToolOutput::text(format!(
            "scaled {} from {before} to {}",
            args.name, args.replicas
        )))
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let cluster: Cluster = Arc::new(Mutex::new(BTreeMap::from([("checkout".to_owned(), 2)])));
    let tools = Toolset::new()
        .with(GetDeployment(cluster.clone()).into_tool()?)?
        .with(ScaleDeployment(cluster.clone()).into_tool()?)?;

    // What a model would do: look, act, answer. Swap in any kagent-llm provider for a real one.
    let provider = ScriptedProvider::new()
        .tool_call("get_deployment", json!({"name": "checkout"}))
        .tool_call("scale_deployment", json!({"name": "checkout", "replicas": 3}))
        .text("checkout was over its per-replica limit (412 req/s vs 300); I scaled it from 2 to 3 replicas.");

    let (approver, mut approvals) = ChannelApprover::new(8);
    tokio::spawn(async move {
        while let Some(pending) = approvals.recv().await {
            println!(
                "  >> approval needed for {}({}) — approving as on-call",
                pending.request.call.name,
                pending.request.call.arguments.to_json_string()
            );
            pending.approve("on-call@example.com");
        }
    });

    let audit = MemoryAuditSink::new();
    let agent = LlmAgent::builder("quickstart")
        .description("Keeps the checkout service within its capacity")
        .system_prompt("You are an SRE agent. Inspect before you change anything.")
        .provider(Arc::new(provider))
        .toolset(tools)
        .approver(Arc::new(approver))
        .audit(Arc::new(audit.clone()))
        .build()?;

    let handle = spawn_run(
        Arc::new(agent),
        RunRequest::new("checkout is slow; fix its capacity"),
    );
    let output = handle
        .for_each_event(|event| match &event {
            AgentEvent::TextDelta { .. } => {}
            AgentEvent::ApprovalDecided { call_id, decision } => {
                let verdict = match decision {
                    ApprovalDecision::Approved { by } => {
                        format!("approved by {}", by.as_deref().unwrap_or("?"))
                    }
                    ApprovalDecision::Rejected { reason } => format!("rejected: {reason}"),
                    other => format!("{other:?}"),
                };
                println!("event: approval for {call_id} {verdict}");
            }
            other => println!(
                "event: {}",
                serde_json::to_string(other).unwrap_or_default()
            ),
        })
        .await?;

    println!("\nanswer: {}", output.answer);
    println!(
        "steps: {}, tool calls: {}, tokens: {}, audit records: {}",
        output.steps,
        output.tool_calls,
        output.usage.total(),
        audit.records().len()
    );
    println!(
        "checkout replicas now: {:?}",
        cluster.lock().ok().and_then(|c| c.get("checkout").copied())
    );
    Ok(())
}
