//! Tool composition in the agent builder and live tool sources in the engine: tools and
//! toolsets add up, clashes are build errors naming both sources, prefixes and aliases rename,
//! every component setter takes a value or an `Arc`, and a live source's change reaches the
//! policy before the changed tool's first call.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use kagent_core::testing::{MockApprover, MockTool, MockToolPolicy, ScriptedProvider};
use kagent_core::*;
use serde_json::json;

/// A tool that counts its executions.
struct CountingTool {
    name: &'static str,
    effect: ToolEffect,
    runs: Arc<AtomicUsize>,
}

#[async_trait]
impl TypedTool for CountingTool {
    type Args = serde_json::Value;
    fn name(&self) -> &str {
        self.name
    }
    fn description(&self) -> &str {
        "counts"
    }
    fn effect(&self) -> ToolEffect {
        self.effect
    }
    async fn run(&self, _a: serde_json::Value, _c: ToolContext) -> Result<ToolOutput, ToolError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        Ok(ToolOutput::text(format!("{} ran", self.name)))
    }
}

fn counting(name: &'static str, effect: ToolEffect) -> (Arc<dyn Tool>, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let tool = CountingTool {
        name,
        effect,
        runs: runs.clone(),
    }
    .into_tool()
    .unwrap();
    (Arc::new(tool), runs)
}

fn set_of(tools: &[Arc<dyn Tool>]) -> Toolset {
    let mut set = Toolset::new();
    for t in tools {
        set.add_arc(Arc::clone(t)).unwrap();
    }
    set
}

/// A live source whose list the test replaces.
#[derive(Clone)]
struct Swappable {
    tools: Arc<Mutex<Toolset>>,
    asked: Arc<AtomicUsize>,
}

impl Swappable {
    fn new(set: Toolset) -> Self {
        Swappable {
            tools: Arc::new(Mutex::new(set)),
            asked: Arc::default(),
        }
    }
    fn swap(&self, set: Toolset) {
        *self.tools.lock().unwrap() = set;
    }
}

#[async_trait]
impl ToolSource for Swappable {
    fn describe(&self) -> String {
        "swappable".into()
    }
    fn snapshot(&self) -> Toolset {
        self.tools.lock().unwrap().clone()
    }
    async fn tools(&self) -> Toolset {
        self.asked.fetch_add(1, Ordering::SeqCst);
        self.snapshot()
    }
    fn is_live(&self) -> bool {
        true
    }
}

fn calls_response(calls: Vec<ToolCall>) -> ChatResponse {
    let mut response = ChatResponse::text("");
    response.message = AssistantMessage::default().with_tool_calls(calls);
    response.finish_reason = FinishReason::ToolCalls;
    response
}

fn tool_results(request: &ChatRequest) -> Vec<ToolResult> {
    request
        .messages
        .iter()
        .filter_map(|m| match m {
            Message::Tool(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

// ---------- composition ----------

#[tokio::test]
async fn tools_and_toolsets_add_up_in_order() {
    let (a, _) = counting("a", ToolEffect::ReadOnly);
    let (b, _) = counting("b", ToolEffect::Mutating);
    let (c, _) = counting("c", ToolEffect::ReadOnly);
    let (get, _) = counting("get", ToolEffect::ReadOnly);
    let provider = ScriptedProvider::new().text("ok");
    let agent = LlmAgent::builder("composed")
        .provider(provider.clone())
        .tool(a)
        .toolset(set_of(&[b, c]))
        .toolset(set_of(std::slice::from_ref(&get)).prefixed("remote_"))
        .toolset(set_of(&[get]).alias("get", "fetch"))
        .build()
        .unwrap();
    assert_eq!(
        agent.toolset().names().collect::<Vec<_>>(),
        ["a", "b", "c", "remote_get", "fetch"]
    );
    assert_eq!(agent.card().max_effect, ToolEffect::Mutating);
    agent
        .run(RunRequest::new("go"), EventSink::discard())
        .await
        .unwrap();
    let offered: Vec<String> = provider.requests()[0]
        .tools
        .iter()
        .map(|t| t.name.clone())
        .collect();
    assert_eq!(offered, ["a", "b", "c", "remote_get", "fetch"]);
}

#[tokio::test]
async fn a_prefixed_tool_is_called_decided_and_audited_under_its_new_name() {
    let (get, runs) = counting("get", ToolEffect::ReadOnly);
    let provider = ScriptedProvider::new()
        .tool_call("kagent_get", json!({}))
        .text("done");
    let audit = MemoryAuditSink::new();
    let agent = LlmAgent::builder("prefixed")
        .provider(provider.clone())
        .toolset(set_of(&[get]).prefixed("kagent_"))
        .policy(StandardPolicy::default().deny(["get"]))
        .audit(audit.clone())
        .build()
        .unwrap();
    agent
        .run(RunRequest::new("go"), EventSink::discard())
        .await
        .unwrap();
    // The deny list names the original tool: the agent's name is what counts.
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let results = tool_results(&provider.requests()[1]);
    assert_eq!(results[0].name, "kagent_get");
    assert_eq!(
        kagent_core::framing::unframe(&results[0].text()),
        Some("get ran")
    );
    assert_eq!(audit.records()[0].tool, "kagent_get");
}

#[test]
fn a_clash_is_a_build_error_naming_both_sources() {
    let (x1, _) = counting("k8s_get_resources", ToolEffect::ReadOnly);
    let (x2, _) = counting("k8s_get_resources", ToolEffect::ReadOnly);
    let err = LlmAgent::builder("clash")
        .provider(ScriptedProvider::new())
        .toolset(set_of(std::slice::from_ref(&x1)))
        .toolset(Swappable::new(set_of(std::slice::from_ref(&x2))))
        .build()
        .unwrap_err();
    let BuildError::ToolClash {
        name,
        first,
        second,
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(name, "k8s_get_resources");
    assert_eq!(first, "source #1 (toolset (k8s_get_resources))");
    assert_eq!(second, "source #2 (swappable)");
    let message = err.to_string();
    assert!(message.contains("prefixed"), "{message}");
    assert!(message.contains("source #2 (swappable)"), "{message}");

    // Two `.tool(..)`s with one name clash the same way.
    let err = LlmAgent::builder("clash")
        .provider(ScriptedProvider::new())
        .tool(x1.clone())
        .tool(x1.clone())
        .build()
        .unwrap_err();
    assert!(matches!(err, BuildError::ToolClash { .. }), "{err}");

    // A prefix resolves it.
    LlmAgent::builder("no-clash")
        .provider(ScriptedProvider::new())
        .tool(x1)
        .toolset(Swappable::new(set_of(&[x2])).prefixed("mcp_"))
        .build()
        .unwrap();
}

#[test]
fn bad_tools_and_renames_are_build_errors() {
    let mut bad = MockTool::new();
    bad.expect_spec().return_const({
        let mut spec = ToolSpec::new("ok", "d", ToolEffect::ReadOnly).unwrap();
        spec.name = "has space".into();
        spec
    });
    let err = LlmAgent::builder("bad")
        .provider(ScriptedProvider::new())
        .tool(bad)
        .build()
        .unwrap_err();
    let BuildError::ToolSource { label, error } = &err else {
        panic!("{err}");
    };
    assert!(label.contains(".tool()"), "{label}");
    assert!(matches!(error, ToolsetError::Spec(_)), "{error}");

    let (get, _) = counting("get", ToolEffect::ReadOnly);
    let err = LlmAgent::builder("bad")
        .provider(ScriptedProvider::new())
        .toolset(set_of(&[get]).alias("gett", "fetch"))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("gett"), "{err}");
    assert!(
        err.to_string()
            .contains("source #1 (toolset (get) with 1 alias(es))"),
        "{err}"
    );
}

#[tokio::test]
async fn every_component_takes_a_value_or_an_arc() {
    // Shared components passed as `Arc<dyn Trait>` are used as they are.
    let provider: Arc<dyn ModelProvider> = Arc::new(
        ScriptedProvider::new()
            .tool_call("scale", json!({}))
            .text("done"),
    );
    let planner: Arc<dyn Planner> = Arc::new(ReactPlanner);
    let mut policy = MockToolPolicy::new();
    policy
        .expect_decide()
        .times(1)
        .returning(|_, _| PolicyDecision::RequireApproval {
            reason: "test".into(),
        });
    let policy: Arc<dyn ToolPolicy> = Arc::new(policy);
    let mut approver = MockApprover::new();
    approver
        .expect_decide()
        .times(1)
        .returning(|_| ApprovalDecision::Approved { by: None });
    let approver: Arc<dyn Approver> = Arc::new(approver);
    let audit = Arc::new(MemoryAuditSink::new());
    let audit_dyn: Arc<dyn AuditSink> = audit.clone();
    let sessions = Arc::new(InMemorySessionStore::new());
    let sessions_dyn: Arc<dyn SessionStore> = sessions.clone();
    let (scale, runs) = counting("scale", ToolEffect::Mutating);
    let agent = LlmAgent::builder("shared")
        .provider(Arc::clone(&provider))
        .planner(Arc::clone(&planner))
        .policy(Arc::clone(&policy))
        .approver(Arc::clone(&approver))
        .audit(audit_dyn)
        .sessions(sessions_dyn)
        .tool(scale)
        .build()
        .unwrap();
    // Kept as they are, not wrapped in a second Arc.
    assert_eq!(Arc::strong_count(&policy), 2);
    assert_eq!(Arc::strong_count(&approver), 2);
    let out = agent
        .run(RunRequest::new("scale it"), EventSink::discard())
        .await
        .unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(audit.records().len(), 1);
    assert_eq!(sessions.len().await, 1);
    assert!(sessions.load(&out.session_id).await.unwrap().is_some());
}

// ---------- live sources ----------

#[tokio::test]
async fn a_live_source_is_asked_at_every_turn_and_before_every_call() {
    let (get, _) = counting("get", ToolEffect::ReadOnly);
    let live = Swappable::new(set_of(&[get]));
    let provider = ScriptedProvider::new()
        .tool_call("get", json!({}))
        .tool_call("get", json!({}))
        .text("done");
    let agent = LlmAgent::builder("live")
        .provider(provider)
        .toolset(live.clone())
        .build()
        .unwrap();
    // A live source makes the agent's strongest effect unknown.
    assert_eq!(agent.card().max_effect, ToolEffect::Destructive);
    agent
        .run(RunRequest::new("go"), EventSink::discard())
        .await
        .unwrap();
    // the start, 3 model turns, one read per turn of tool calls
    assert_eq!(live.asked.load(Ordering::SeqCst), 6);
}

#[tokio::test]
async fn a_new_tool_reaches_the_next_turn() {
    let (get, _) = counting("get", ToolEffect::ReadOnly);
    let (delete, deletes) = counting("delete", ToolEffect::Destructive);
    let live = Swappable::new(set_of(std::slice::from_ref(&get)));
    let swap = live.clone();
    let turn = Arc::new(AtomicUsize::new(0));
    let provider =
        ScriptedProvider::from_fn(move |request| {
            let n = turn.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                // The server adds a destructive tool while the model thinks.
                swap.swap(set_of(&[get.clone(), delete.clone()]));
                let calls = vec![ToolCall::new("c1", "get", json!({}))];
                return Ok(calls_response(calls));
            }
            let offered = request.tools.iter().find(|t| t.name == "delete");
            match (n, offered) {
                (1, Some(spec)) if spec.effect == ToolEffect::Destructive => Ok(calls_response(
                    vec![ToolCall::new("c2", "delete", json!({}))],
                )),
                (1, _) => Ok(ChatResponse::text("delete was not offered")),
                _ => Ok(ChatResponse::text("done")),
            }
        });
    let mut approver = MockApprover::new();
    approver
        .expect_decide()
        .times(1)
        .withf(|r| r.call.name == "delete" && r.effect == ToolEffect::Destructive)
        .returning(|_| ApprovalDecision::Rejected {
            reason: "no".into(),
        });
    let agent = LlmAgent::builder("live")
        .provider(provider)
        .toolset(live)
        .approver(approver)
        .build()
        .unwrap();
    let out = agent
        .run(RunRequest::new("go"), EventSink::discard())
        .await
        .unwrap();
    assert_eq!(out.answer, "done");
    assert_eq!(deletes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_tool_changed_after_the_model_saw_it_is_not_run() {
    let (probe_ro, ro_runs) = counting("probe", ToolEffect::ReadOnly);
    let (probe_mut, mut_runs) = counting("probe", ToolEffect::Mutating);
    let live = Swappable::new(set_of(&[probe_ro]));
    let swap = live.clone();
    let turn = Arc::new(AtomicUsize::new(0));
    let provider = ScriptedProvider::from_fn(move |_| match turn.fetch_add(1, Ordering::SeqCst) {
        0 => {
            swap.swap(set_of(std::slice::from_ref(&probe_mut)));
            Ok(calls_response(vec![ToolCall::new(
                "c1",
                "probe",
                json!({}),
            )]))
        }
        _ => Ok(ChatResponse::text("done")),
    });
    // A policy that would allow anything: the call must still not run.
    let audit = MemoryAuditSink::new();
    let (sink, mut rx) = EventSink::channel(64);
    let agent = LlmAgent::builder("live")
        .provider(provider)
        .toolset(live)
        .policy(StandardPolicy::default().with_mutating(Rule::Allow))
        .audit(audit.clone())
        .build()
        .unwrap();
    agent.run(RunRequest::new("go"), sink).await.unwrap();
    assert_eq!(ro_runs.load(Ordering::SeqCst), 0);
    assert_eq!(mut_runs.load(Ordering::SeqCst), 0);
    let records = audit.records();
    assert_eq!(records[0].effect, ToolEffect::Mutating);
    assert_eq!(records[0].outcome, AuditOutcome::NotRun);
    let mut finished = None;
    while let Ok(e) = rx.try_recv() {
        if let AgentEvent::ToolFinished { is_error, .. } = e {
            finished = Some(is_error);
        }
        assert!(!matches!(e, AgentEvent::ToolStarted { .. }), "{e:?}");
    }
    assert_eq!(finished, Some(true));
}

#[tokio::test]
async fn a_tool_changed_while_the_approver_decides_is_not_run() {
    let (probe_v1, v1_runs) = counting("probe", ToolEffect::Mutating);
    let (probe_v2, v2_runs) = counting("probe", ToolEffect::Destructive);
    let live = Swappable::new(set_of(&[probe_v1]));
    let swap = live.clone();
    let mut approver = MockApprover::new();
    approver.expect_decide().times(1).returning(move |r| {
        assert_eq!(r.effect, ToolEffect::Mutating);
        swap.swap(set_of(std::slice::from_ref(&probe_v2)));
        ApprovalDecision::Approved { by: None }
    });
    let provider = ScriptedProvider::new()
        .tool_call("probe", json!({}))
        .text("done");
    let agent = LlmAgent::builder("live")
        .provider(provider.clone())
        .toolset(live)
        .approver(approver)
        .build()
        .unwrap();
    agent
        .run(RunRequest::new("go"), EventSink::discard())
        .await
        .unwrap();
    assert_eq!(v1_runs.load(Ordering::SeqCst), 0);
    assert_eq!(v2_runs.load(Ordering::SeqCst), 0);
    let result = &tool_results(&provider.requests()[1])[0];
    assert!(result.is_error);
    assert!(
        result.text().contains("effect mutating -> destructive"),
        "{}",
        result.text()
    );
    // The next turn offers the new definition.
    assert_eq!(
        provider.requests()[1].tools[0].effect,
        ToolEffect::Destructive
    );
}

#[tokio::test]
async fn a_removed_tool_is_an_unknown_tool() {
    let (get, runs) = counting("get", ToolEffect::ReadOnly);
    let live = Swappable::new(set_of(&[get]));
    let swap = live.clone();
    let turn = Arc::new(AtomicUsize::new(0));
    let provider = ScriptedProvider::from_fn(move |_| match turn.fetch_add(1, Ordering::SeqCst) {
        0 => {
            swap.swap(Toolset::new());
            Ok(calls_response(vec![ToolCall::new("c1", "get", json!({}))]))
        }
        _ => Ok(ChatResponse::text("done")),
    });
    let agent = LlmAgent::builder("live")
        .provider(provider)
        .toolset(live)
        .build()
        .unwrap();
    agent
        .run(RunRequest::new("go"), EventSink::discard())
        .await
        .unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}
