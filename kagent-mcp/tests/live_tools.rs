//! Live MCP tools in a running agent: a server that swaps a read-only tool for a mutating one
//! under the same name (announcing `notifications/tools/list_changed`) never gets the mutating
//! call without the policy deciding on the new effect.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use kagent_core::testing::ScriptedProvider;
use kagent_core::{
    AgentEvent, ApprovalRequest, AuditDecision, AuditOutcome, ChatRequest, ChatResponse,
    ChatStream, LlmAgent, MemoryAuditSink, ModelInfo, ModelProvider, PendingApproval,
    ProviderError, RunRequest, StandardPolicy, ToolContext, ToolEffect, ToolError, ToolSource,
    spawn_run,
};
use kagent_mcp::{McpClient, McpToolset};
use serde_json::json;
use support::*;

/// A hang becomes a test failure instead of a stuck run.
async fn bounded<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("{what} hung"))
}

/// Calls `arm` on the server (which swaps `probe` for a mutating tool) and waits until the
/// client has seen the server's `tools/list_changed`.
async fn swap_on_server(client: &McpClient) {
    let mut changes = client.tools_changed();
    changes.borrow_and_update();
    client.call_tool("arm", None, None).await.unwrap();
    bounded("list_changed after arm", changes.changed())
        .await
        .unwrap();
}

/// How many times the server ran the mutating `probe`.
async fn mutations(client: &McpClient) -> u64 {
    let out = client.call_tool("mutations", None, None).await.unwrap();
    let text = serde_json::to_value(&out.content).unwrap()[0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    text.parse().unwrap()
}

fn probe_effect(request: &ChatRequest) -> Option<ToolEffect> {
    request
        .tools
        .iter()
        .find(|t| t.name == "probe")
        .map(|t| t.effect)
}

/// A scripted model that makes the server swap `probe` right before answering its first turn:
/// the model was offered the read-only `probe` and asks for it, the server now has a mutating
/// one.
struct SwapBeforeFirstAnswer {
    inner: ScriptedProvider,
    client: McpClient,
    turns: AtomicUsize,
}

#[async_trait]
impl ModelProvider for SwapBeforeFirstAnswer {
    fn info(&self) -> &ModelInfo {
        self.inner.info()
    }
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        self.inner.chat(request).await
    }
    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        if self.turns.fetch_add(1, Ordering::SeqCst) == 0 {
            swap_on_server(&self.client).await;
        }
        self.inner.chat_stream(request).await
    }
}

/// Answers approvals with `approve`, recording every request.
fn approvals(
    approve: bool,
) -> (
    kagent_core::ChannelApprover,
    tokio::task::JoinHandle<Vec<ApprovalRequest>>,
) {
    let (approver, mut pending) = kagent_core::ChannelApprover::new(8);
    let seen = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(p) = pending.recv().await {
            let p: PendingApproval = p;
            seen.push(p.request.clone());
            if approve {
                p.approve("test");
            } else {
                p.reject("not now");
            }
        }
        seen
    });
    (approver, seen)
}

async fn swap_mid_turn(approve: bool) -> (u64, Vec<ApprovalRequest>, Vec<AgentEvent>) {
    init_tracing();
    let client = McpClient::new(fake_server("swap"));
    let tools = McpToolset::connect(client.clone()).await.unwrap();
    assert_eq!(
        tools.toolset().get("probe").unwrap().spec().effect,
        ToolEffect::ReadOnly
    );
    let scripted = ScriptedProvider::new()
        .tool_call("probe", json!({}))
        .tool_call("probe", json!({}))
        .text("done");
    let provider = Arc::new(SwapBeforeFirstAnswer {
        inner: scripted.clone(),
        client: client.clone(),
        turns: AtomicUsize::new(0),
    });
    let audit = MemoryAuditSink::new();
    let (approver, seen) = approvals(approve);
    let agent = LlmAgent::builder("swapper")
        .provider(provider)
        .toolset(tools.clone())
        .approver(approver)
        .audit(audit.clone())
        .build()
        .unwrap();
    let mut events = Vec::new();
    let out = bounded(
        "agent run",
        spawn_run(Arc::new(agent), RunRequest::new("check the workload"))
            .for_each_event(|e| events.push(e)),
    )
    .await
    .unwrap();
    assert_eq!(out.answer, "done");

    // The model was offered the read-only probe, then (after the swap) the mutating one.
    let requests = scripted.requests();
    assert_eq!(probe_effect(&requests[0]), Some(ToolEffect::ReadOnly));
    assert_eq!(probe_effect(&requests[1]), Some(ToolEffect::Mutating));

    // The first call was written for the read-only probe: not run, and the model is told why.
    let first = requests[1]
        .messages
        .iter()
        .filter_map(|m| match m {
            kagent_core::Message::Tool(r) => Some(r),
            _ => None,
        })
        .next()
        .unwrap();
    assert!(first.is_error);
    assert!(first.text().contains("changed"), "{}", first.text());
    assert!(
        first.text().contains("effect read_only -> mutating"),
        "{}",
        first.text()
    );
    let records = audit.records();
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(
        matches!(&records[0].decision, AuditDecision::Invalid { reason } if reason.contains("changed")),
        "{:?}",
        records[0].decision
    );
    assert_eq!(records[0].outcome, AuditOutcome::NotRun);
    assert_eq!(records[0].effect, ToolEffect::Mutating);

    let m = mutations(&client).await;
    client.close().await;
    drop(tools);
    (m, seen.await.unwrap(), events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_swapped_for_a_mutating_one_is_decided_on_its_new_effect() {
    let (mutations, approvals, events) = swap_mid_turn(false).await;
    // The second call (written for the mutating probe) went to the approver as mutating, was
    // rejected, and the server never ran the mutating probe.
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    assert_eq!(approvals[0].effect, ToolEffect::Mutating);
    assert_eq!(approvals[0].call.name, "probe");
    assert_eq!(mutations, 0);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AgentEvent::ToolStarted { tool, .. } if tool == "probe")),
        "probe never started: {events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_call_of_the_new_tool_runs_once() {
    // The same run with an approver that says yes: the mutating probe runs exactly once (the
    // call written for the read-only probe still does not).
    let (mutations, approvals, _) = swap_mid_turn(true).await;
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0].effect, ToolEffect::Mutating);
    assert_eq!(mutations, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_while_the_approver_decides_stops_the_call() {
    init_tracing();
    let client = McpClient::new(fake_server("swap"));
    let tools = McpToolset::connect(client.clone()).await.unwrap();
    let scripted = ScriptedProvider::new()
        .tool_call("probe", json!({}))
        .text("done");
    // `probe` needs approval even while read-only; the server swaps it while the approver
    // looks at the read-only request, and the approver then says yes.
    let (approver, mut pending) = kagent_core::ChannelApprover::new(8);
    let swapper = client.clone();
    let answered = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(p) = pending.recv().await {
            seen.push(p.request.effect);
            if seen.len() == 1 {
                swap_on_server(&swapper).await;
            }
            p.approve("test");
        }
        seen
    });
    let audit = MemoryAuditSink::new();
    let agent = LlmAgent::builder("slow-approval")
        .provider(scripted.clone())
        .toolset(tools.clone())
        .policy(StandardPolicy::default().require_approval(["probe"]))
        .approver(approver)
        .audit(audit.clone())
        .build()
        .unwrap();
    let out = bounded(
        "agent run",
        spawn_run(Arc::new(agent), RunRequest::new("check")).result(),
    )
    .await
    .unwrap();
    assert_eq!(out.answer, "done");
    assert_eq!(answered.await.unwrap(), [ToolEffect::ReadOnly]);
    let records = audit.records();
    assert_eq!(records.len(), 1);
    assert!(
        matches!(&records[0].decision, AuditDecision::Invalid { reason } if reason.contains("effect read_only -> mutating")),
        "{:?}",
        records[0].decision
    );
    assert_eq!(records[0].outcome, AuditOutcome::NotRun);
    assert_eq!(mutations(&client).await, 0);
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_tool_checks_the_list_before_it_sends() {
    // A Toolset taken from the McpToolset (a fixed snapshot, e.g. served again or handed to an
    // agent as a plain toolset) still refuses to send a call under a definition the server
    // replaced; with the McpToolset dropped it reads the list itself.
    init_tracing();
    for keep_toolset in [true, false] {
        let client = McpClient::new(fake_server("swap"));
        let tools = McpToolset::connect(client.clone()).await.unwrap();
        let snapshot = tools.toolset();
        let kept = keep_toolset.then_some(tools);
        let out = snapshot
            .call("probe", json!({}), ToolContext::detached("1"))
            .await
            .unwrap();
        assert_eq!(out, kagent_core::ToolOutput::text("status: running"));
        swap_on_server(&client).await;
        let err = bounded(
            "stale call",
            snapshot.call("probe", json!({}), ToolContext::detached("2")),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ToolError::Changed { .. }), "{err}");
        assert!(!err.is_fault());
        assert!(
            err.to_string().contains("effect read_only -> mutating"),
            "{err}"
        );
        // A tool whose definition did not change goes through.
        snapshot
            .call("mutations", json!({}), ToolContext::detached("3"))
            .await
            .unwrap();
        if let Some(tools) = kept {
            // The live source has the new definition.
            let live = tools.tools().await;
            assert_eq!(
                live.get("probe").unwrap().spec().effect,
                ToolEffect::Mutating
            );
        }
        assert_eq!(mutations(&client).await, 0);
        client.close().await;
    }
}
