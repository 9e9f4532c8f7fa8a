//! Embedding an agent: the wiring a Rust service does, with every piece real.
//!
//! - **Provider**: a kagent `ModelConfig` built into a provider by `kagent_llm::build_provider`
//!   (the same call a service makes with its own configuration).
//! - **MCP tools**: a team's runbook tools served over streamable HTTP by an MCP server
//!   (`kagent_mcp::ToolsetServer`, started in this process on a loopback port) and reached
//!   through `McpClient` + `McpToolset`, a live tool source, renamed with the prefix `ops_`.
//! - **Kubernetes tools**: kagent-k8s's native tools against the in-process fake API server
//!   loaded with the broken-workloads scenario (crate `kagent-fake-apiserver`).
//! - **Policy**: read-only tools run; every mutating or destructive tool waits for approval.
//!   The approver asks on the terminal (`y` to approve); when stdin is not a terminal (CI) it
//!   approves and says so.
//!
//! By default the provider is OpenAI pointed at a scripted wire model (kagent-llm's
//! `testing::WireServer` on loopback, answering as the Chat Completions API does), so the
//! example needs no cluster, no network and no API key:
//!
//! ```text
//! cargo run -p kagent-examples --example embed
//! ```
//!
//! With a real model (the Kubernetes side stays the fake cluster, so nothing real changes):
//!
//! ```text
//! OPENAI_API_KEY=sk-... cargo run -p kagent-examples --example embed
//! KAGENT_MODEL_CONFIG=model.yaml cargo run -p kagent-examples --example embed
//! ```
//!
//! `model.yaml` is a kagent `ModelConfig` spec, e.g. `{provider: Anthropic, model:
//! claude-sonnet-4-5, apiKey: ...}`. Run by `examples/tests/run_examples.rs`.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use kagent_core::policy::{Rule, StandardPolicy};
use kagent_core::{
    AgentEvent, ApprovalDecision, ChannelApprover, IntoTool, LlmAgent, ModelProvider,
    PendingApproval, ReactPlanner, RunRequest, ToolContext, ToolEffect, ToolError, ToolOutput,
    ToolSourceExt, Toolset, TypedTool, spawn_run,
};
use kagent_fake_apiserver::FakeCluster;
use kagent_k8s::K8sTools;
use kagent_llm::config::{ModelConfig, ProviderKind, build_provider};
use kagent_llm::testing::{Reply, Scenario, WireServer};
use kagent_mcp::{
    HttpServeOptions, HttpServerConfig, McpClient, McpServerConfig, McpToolset, TlsOptions,
    ToolsetServer, http_client, serve_http,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

const NAMESPACE: &str = "shop";

#[tokio::main]
async fn main() -> Result<()> {
    // 1. The cluster: the fake API server with nine broken workloads in `shop`.
    let cluster = FakeCluster::start_with_scenario()?;
    println!("fake cluster at {}", cluster.url());

    // 2. The team's MCP server, and the client that turns its tools into a live tool source.
    let stop = kagent_core::CancellationToken::new();
    let mcp_url = start_runbook_server(stop.clone()).await?;
    let mcp = McpClient::with_http_client(
        McpServerConfig::http("ops-runbooks", HttpServerConfig::streamable_http(&mcp_url)),
        http_client(&TlsOptions::default())?,
    );
    let runbooks = McpToolset::connect(mcp.clone())
        .await
        .context("listing the runbook server's tools")?;
    println!(
        "MCP server {mcp_url}: {:?}",
        runbooks.toolset().names().collect::<Vec<_>>()
    );

    // 3. The provider, from a kagent ModelConfig; offline, a scripted wire model stands in for
    //    the OpenAI API.
    let (config, wire) = match model_config()? {
        Some(config) => (config, None),
        None => {
            let wire = WireServer::start(scripted_model()).await;
            let config = ModelConfig::new(ProviderKind::OpenAI, "gpt-4.1-mini")
                .with_api_key("sk-offline-wire-model")
                .with_base_url(format!("{}/v1", wire.url()));
            (config, Some(wire))
        }
    };
    let provider: Arc<dyn ModelProvider> = build_provider(&config, config.build_client()?)?;
    println!(
        "model: {} {}{}\n",
        provider.info().provider,
        provider.info().model,
        if wire.is_some() {
            " (scripted wire model, offline)"
        } else {
            ""
        }
    );

    // 4. The Kubernetes tools (all of them, mutating ones included: the policy guards those).
    //    `k8s_generate_resource` writes manifests with the agent's own provider.
    let k8s = K8sTools::builder(cluster.client()?)
        .default_namespace(NAMESPACE)
        .model(Arc::clone(&provider))
        .build()?;

    // 5. Approvals: asked on the terminal.
    let (approver, approvals) = ChannelApprover::new(8);
    tokio::spawn(answer_approvals(approvals));

    let agent = LlmAgent::builder("shop-oncall")
        .description("Finds what is broken in the shop namespace and fixes it, with approval")
        .system_prompt(
            "You are the on-call SRE for namespace shop. Diagnose with the k8s_* tools, look \
             up the runbook for each root cause with ops_runbook, and follow it. Changes to \
             the cluster need a human's approval.",
        )
        .provider(Arc::clone(&provider))
        .planner(ReactPlanner::new())
        .toolset(k8s)
        .toolset(runbooks.prefixed("ops_"))
        .policy(
            StandardPolicy::default()
                .with_mutating(Rule::Ask)
                .with_destructive(Rule::Ask),
        )
        .approver(approver)
        .build()?;

    let handle = spawn_run(
        Arc::new(agent),
        RunRequest::new("checkout keeps restarting; find out why and stop the restarts"),
    );
    let output = handle
        .for_each_event(|event| match &event {
            AgentEvent::ModelRequest { step, tools, .. } => {
                println!("[model] step {step}, {tools} tools offered");
            }
            AgentEvent::ToolCallProposed { call } => {
                println!("[call] {}({})", call.name, call.arguments.to_json_string());
            }
            AgentEvent::ApprovalRequested { call, effect, .. } => {
                println!("[approval] {} is {effect:?}: asking", call.name);
            }
            AgentEvent::ToolCallDenied { tool, reason, .. } => {
                println!("[denied] {tool}: {reason}");
            }
            AgentEvent::ToolFinished { tool, is_error, .. } => {
                println!("[done] {tool}{}", if *is_error { " (error)" } else { "" });
            }
            _ => {}
        })
        .await?;
    println!("\n{}\n", output.answer);
    println!(
        "({} steps, {} tool calls, {} tokens)",
        output.steps,
        output.tool_calls,
        output.usage.total()
    );

    // What the run did to the (fake) cluster, read back from the API server's store.
    let replicas = cluster
        .get_object("apps/v1", "Deployment", NAMESPACE, "checkout")
        .and_then(|d| d.pointer("/spec/replicas").and_then(Value::as_u64));
    println!("deployment shop/checkout: spec.replicas = {replicas:?}");

    if let Some(wire) = &wire {
        // The scripted model saw the composed tool list: Kubernetes tools and the prefixed
        // MCP tools side by side.
        let first = wire
            .requests()
            .first()
            .and_then(|r| r.json())
            .context("the provider sent no request")?;
        let offered: Vec<&str> = first["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.pointer("/function/name").and_then(Value::as_str))
            .collect();
        for name in ["k8s_diagnose", "k8s_scale", "ops_runbook"] {
            if !offered.contains(&name) {
                bail!("the model was not offered {name}: {offered:?}");
            }
        }
        let mismatches = wire.mismatches();
        if !mismatches.is_empty() || wire.unused() != 0 {
            bail!(
                "the scripted model was not driven as scripted: {mismatches:?}, {} replies unused",
                wire.unused()
            );
        }
    }
    mcp.close().await;
    stop.cancel();
    Ok(())
}

/// A real model when one is configured: `KAGENT_MODEL_CONFIG` (a kagent ModelConfig spec as
/// YAML or JSON), else OpenAI when `OPENAI_API_KEY` is set.
fn model_config() -> Result<Option<ModelConfig>> {
    if let Some(path) = std::env::var_os("KAGENT_MODEL_CONFIG") {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.to_string_lossy()))?;
        let config: ModelConfig =
            serde_yaml::from_str(&text).context("parsing KAGENT_MODEL_CONFIG")?;
        return Ok(Some(config));
    }
    Ok(std::env::var("OPENAI_API_KEY").ok().map(|key| {
        ModelConfig::new(
            ProviderKind::OpenAI,
            std::env::var("KAGENT_MODEL").unwrap_or_else(|_| "gpt-4.1-mini".to_owned()),
        )
        .with_api_key(key)
    }))
}

/// The scripted model: four Chat Completions turns, streamed as the API streams them.
fn scripted_model() -> Vec<Scenario> {
    let turn = |reply: String| {
        Scenario::post("/v1/chat/completions")
            .header("authorization", "Bearer sk-offline-wire-model")
            .reply(Reply::sse([reply]))
    };
    vec![
        turn(tool_call_turn(
            "call_1",
            "k8s_diagnose",
            json!({"namespace": NAMESPACE}),
        )),
        turn(tool_call_turn(
            "call_2",
            "ops_runbook",
            json!({"reason": "CrashLoopBackOff"}),
        )),
        turn(tool_call_turn(
            "call_3",
            "k8s_scale",
            json!({"name": "checkout", "namespace": NAMESPACE, "replicas": 0}),
        )),
        turn(text_turn(
            "checkout is in CrashLoopBackOff: its logs show `connection refused` to its \
             database. Following the runbook, I scaled Deployment shop/checkout to 0 replicas \
             (approved) to stop the restarts; bring it back with k8s_scale once the database \
             answers.",
        )),
    ]
}

fn sse(chunks: &[Value]) -> String {
    let mut body: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    body.push_str("data: [DONE]\n\n");
    body
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-embed", "object": "chat.completion.chunk", "created": 1_764_000_000,
           "model": "gpt-4.1-mini",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

fn usage(prompt: u64, completion: u64) -> Value {
    json!({"id": "chatcmpl-embed", "object": "chat.completion.chunk", "created": 1_764_000_000,
           "model": "gpt-4.1-mini", "choices": [],
           "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                     "total_tokens": prompt + completion}})
}

fn tool_call_turn(id: &str, name: &str, arguments: Value) -> String {
    sse(&[
        chunk(json!({"role": "assistant", "content": null}), None),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": id, "type": "function",
                                   "function": {"name": name, "arguments": arguments.to_string()}}]}),
            None,
        ),
        chunk(json!({}), Some("tool_calls")),
        usage(900, 30),
    ])
}

fn text_turn(text: &str) -> String {
    sse(&[
        chunk(json!({"role": "assistant", "content": text}), None),
        chunk(json!({}), Some("stop")),
        usage(1_400, 80),
    ])
}

/// Asks on the terminal; approves (and says so) when nobody is there to ask.
async fn answer_approvals(mut approvals: tokio::sync::mpsc::Receiver<PendingApproval>) {
    while let Some(pending) = approvals.recv().await {
        let call = &pending.request.call;
        let question = format!(
            "approve {}({})? {} [y/N] ",
            call.name,
            call.arguments.to_json_string(),
            pending.request.reason
        );
        if !std::io::stdin().is_terminal() {
            println!("{question}y (stdin is not a terminal: approved as `ci`)");
            pending.approve("ci");
            continue;
        }
        let answer = tokio::task::spawn_blocking(move || {
            print!("{question}");
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map(|_| line)
        })
        .await;
        match answer {
            Ok(Ok(line)) if line.trim().eq_ignore_ascii_case("y") => pending.approve("terminal"),
            _ => pending.respond(ApprovalDecision::Rejected {
                reason: "rejected on the terminal".into(),
            }),
        }
    }
}

/// Starts the team's runbook MCP server on a loopback port; returns its `/mcp` URL.
async fn start_runbook_server(stop: kagent_core::CancellationToken) -> Result<String> {
    let tools = Toolset::new().with(Runbook.into_tool()?)?;
    let server = ToolsetServer::new("ops-runbooks", "0.1.0", tools);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/mcp", listener.local_addr()?);
    let options = HttpServeOptions::new().cancellation(stop);
    tokio::spawn(async move {
        if let Err(e) = serve_http(listener, server, options).await {
            eprintln!("runbook MCP server stopped: {e}");
        }
    });
    Ok(url)
}

#[derive(Deserialize, JsonSchema)]
struct RunbookArgs {
    /// The root cause as the diagnosis names it (`CrashLoopBackOff`, `OOMKilled`, ...).
    reason: String,
}

/// The team's own typed tool, served over MCP.
struct Runbook;

#[kagent_core::async_trait]
impl TypedTool for Runbook {
    type Args = RunbookArgs;
    fn name(&self) -> &str {
        "runbook"
    }
    fn description(&self) -> &str {
        "The team's runbook entry for a root cause the diagnosis reported"
    }
    fn effect(&self) -> ToolEffect {
        ToolEffect::ReadOnly
    }
    async fn run(&self, args: RunbookArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let entry = match args.reason.as_str() {
            "CrashLoopBackOff" => {
                "CrashLoopBackOff: read the last logs. If a dependency refuses connections, \
                 scale the deployment to 0 to stop the restart storm and page its owner; \
                 scale back once the dependency is up."
            }
            "OOMKilled" => "OOMKilled: raise the memory limit by 50% and open a ticket.",
            "ImagePullBackOff" => "ImagePullBackOff: check the tag exists; roll back if not.",
            other => {
                return Err(ToolError::NotFound {
                    message: format!(
                        "no runbook entry for {other}; known: CrashLoopBackOff, OOMKilled, \
                         ImagePullBackOff"
                    ),
                });
            }
        };
        Ok(ToolOutput::text(entry))
    }
}
