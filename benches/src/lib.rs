//! Shared helpers for the benches.

use std::sync::Arc;

use kagent_core::testing::{ScriptedProvider, tool_result_count};
use kagent_core::{
    ChatResponse, IntoTool, Limits, LlmAgent, ToolCall, ToolContext, ToolEffect, ToolError,
    ToolOutput, Toolset, TypedTool,
};

/// A read-only tool that answers at once.
pub struct NoopTool;

#[kagent_core::async_trait]
impl TypedTool for NoopTool {
    type Args = serde_json::Value;
    fn name(&self) -> &str {
        "noop"
    }
    fn description(&self) -> &str {
        "does nothing"
    }
    fn effect(&self) -> ToolEffect {
        ToolEffect::ReadOnly
    }
    async fn run(&self, _a: serde_json::Value, _c: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text("ok"))
    }
}

/// A zero-latency provider: one tool call per turn for `turns` turns, then an answer.
pub fn looping_provider(turns: usize) -> ScriptedProvider {
    ScriptedProvider::from_fn(move |request| {
        let done = tool_result_count(request);
        if done < turns {
            let mut response = ChatResponse::text("");
            response.message.content.clear();
            response.message.tool_calls.push(ToolCall::new(
                format!("c{done}"),
                "noop",
                serde_json::json!({"i": done}),
            ));
            response.finish_reason = kagent_core::FinishReason::ToolCalls;
            Ok(response)
        } else {
            Ok(ChatResponse::text("done"))
        }
    })
    .without_recording()
}

/// An agent over [`looping_provider`] and [`NoopTool`].
pub fn looping_agent(turns: usize, tools: Toolset) -> LlmAgent {
    looping_agent_with_store(
        turns,
        tools,
        Arc::new(kagent_core::InMemorySessionStore::new()),
    )
}

/// [`looping_agent`] with a given session store.
pub fn looping_agent_with_store(
    turns: usize,
    tools: Toolset,
    store: Arc<kagent_core::InMemorySessionStore>,
) -> LlmAgent {
    LlmAgent::builder("bench")
        .sessions(store)
        .system_prompt("bench")
        .provider(Arc::new(looping_provider(turns)))
        .toolset(tools)
        .limits(
            Limits::default()
                .with_max_steps(1000)
                .with_max_tool_calls(1000),
        )
        .build()
        .expect("bench agent builds")
}

/// A toolset with the no-op tool.
pub fn noop_tools() -> Toolset {
    Toolset::new()
        .with(NoopTool.into_tool().expect("valid tool"))
        .expect("unique tool")
}

/// Resident set size of this process in bytes (Linux `/proc/self/status` `VmRSS`).
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
