//! Memory: resident set size of (a) 1,000 concurrent runs held live in one process (each parked
//! inside a tool call after 5 turns) and (b) 1,000 finished sessions kept in the in-memory store.
//! Prints the figures; fails if the 100 MB target for (a) is missed.
//!
//! `cargo bench -p kagent-benches --bench engine_memory`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use kagent_benches::{NoopTool, rss_bytes};
use kagent_core::{
    Agent, EventSink, IntoTool, RunRequest, ToolContext, ToolEffect, ToolError, ToolOutput,
    Toolset, TypedTool,
};

const RUNS: usize = 1000;
const MB: f64 = 1024.0 * 1024.0;

/// Parks every run on its 6th tool call until released.
struct Gate {
    parked: Arc<AtomicUsize>,
    release: Arc<tokio::sync::Semaphore>,
}

#[kagent_core::async_trait]
impl TypedTool for Gate {
    type Args = serde_json::Value;
    fn name(&self) -> &str {
        "gate"
    }
    fn description(&self) -> &str {
        "waits"
    }
    fn effect(&self) -> ToolEffect {
        ToolEffect::ReadOnly
    }
    async fn run(&self, _a: serde_json::Value, _c: ToolContext) -> Result<ToolOutput, ToolError> {
        self.parked.fetch_add(1, Ordering::SeqCst);
        let _permit = self
            .release
            .acquire()
            .await
            .map_err(|_| ToolError::Cancelled)?;
        Ok(ToolOutput::text("released"))
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // criterion-style discovery: nothing to list
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let base = rss_bytes().unwrap_or(0);
        let parked = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        // The provider calls "noop" 5 times, then "gate" (which parks), then answers.
        let provider = kagent_core::testing::ScriptedProvider::from_fn(|req| {
            let n = kagent_core::testing::tool_result_count(req);
            let mut r = kagent_core::ChatResponse::text("");
            r.message.content.clear();
            let name = match n {
                0..5 => "noop",
                5 => "gate",
                _ => return Ok(kagent_core::ChatResponse::text("done")),
            };
            r.message.tool_calls.push(kagent_core::ToolCall::new(format!("c{n}"), name, serde_json::json!({"n": n})));
            r.finish_reason = kagent_core::FinishReason::ToolCalls;
            Ok(r)
        })
        .without_recording();
        let tools = Toolset::new()
            .with(NoopTool.into_tool().unwrap())
            .unwrap()
            .with(Gate { parked: parked.clone(), release: release.clone() }.into_tool().unwrap())
            .unwrap();
        let agent = Arc::new(
            kagent_core::LlmAgent::builder("mem")
                .system_prompt("You are a memory benchmark agent.")
                .provider(Arc::new(provider))
                .toolset(tools)
                .build()
                .unwrap(),
        );
        let handles: Vec<_> = (0..RUNS)
            .map(|_| {
                let agent = agent.clone();
                tokio::spawn(async move { agent.run(RunRequest::new("check the cluster"), EventSink::discard()).await })
            })
            .collect();
        while parked.load(Ordering::SeqCst) < RUNS {
            tokio::task::yield_now().await;
        }
        let live = rss_bytes().unwrap_or(0);
        release.add_permits(RUNS);
        for h in handles {
            h.await.unwrap().unwrap();
        }
        let after_runs = rss_bytes().unwrap_or(0);
        let live_mb = live as f64 / MB;
        println!("baseline RSS: {:.1} MB", base as f64 / MB);
        println!("RSS with {RUNS} concurrent runs parked mid-run (6 tool calls each so far): {live_mb:.1} MB");
        println!("RSS after they finished (their {RUNS} sessions kept): {:.1} MB", after_runs as f64 / MB);
        drop(agent);

        // Session footprint alone: 1,000 sessions of 10 tool turns each (23 messages).
        let store = Arc::new(kagent_core::InMemorySessionStore::new());
        let looping = kagent_benches::looping_agent_with_store(10, kagent_benches::noop_tools(), store.clone());
        let before_sessions = rss_bytes().unwrap_or(0);
        for _ in 0..RUNS {
            looping.run(RunRequest::new("go"), EventSink::discard()).await.unwrap();
        }
        let after_sessions = rss_bytes().unwrap_or(0);
        println!(
            "{} live sessions of 23 messages each: +{:.1} MB RSS ({:.1} KB per session)",
            store.len().await,
            after_sessions.saturating_sub(before_sessions) as f64 / MB,
            after_sessions.saturating_sub(before_sessions) as f64 / 1024.0 / RUNS as f64
        );
        assert!(live_mb < 100.0, "target missed: {live_mb:.1} MB for {RUNS} concurrent runs");
    });
}
