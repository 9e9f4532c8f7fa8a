//! Offline test support (feature `testing`): a [`ScriptedProvider`] that plays back model
//! turns and records every request, and mockall mocks of the traits (`MockTool`,
//! `MockToolSource`, `MockModelProvider`, `MockToolPolicy`, `MockApprover`, `MockAuditSink`,
//! `MockSessionStore`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::Value;

use crate::message::{
    AssistantMessage, ChatRequest, ChatResponse, ContentPart, FinishReason, Message, ToolArguments,
    ToolCall, Usage,
};
use crate::provider::{ApiErrorDetails, ApiErrorKind, ModelInfo, ModelProvider, ProviderError};
use crate::stream::{ChatEvent, ChatStream, response_events};

pub use crate::audit::MockAuditSink;
pub use crate::policy::{MockApprover, MockToolPolicy};
pub use crate::provider::MockModelProvider;
pub use crate::session::MockSessionStore;
pub use crate::source::MockToolSource;
pub use crate::tool::MockTool;

type ErrorFactory = Arc<dyn Fn() -> ProviderError + Send + Sync>;
type Responder = Arc<dyn Fn(&ChatRequest) -> Result<ChatResponse, ProviderError> + Send + Sync>;

#[derive(Clone)]
enum Turn {
    Respond(ChatResponse),
    Fail(ErrorFactory),
    /// Streams the response's text, then fails without a finish event.
    Truncate(ChatResponse),
}

#[derive(Clone)]
struct Scripted {
    turn: Turn,
    delay: Option<Duration>,
}

/// A [`ModelProvider`] that answers from a script, for tests and offline demos.
///
/// Each call takes the next scripted turn: text, tool calls, an error, or a truncated stream,
/// optionally after a delay. With [`ScriptedProvider::from_fn`] it answers from a function of the
/// request instead. Every request is recorded. Text is streamed in small chunks, so consumers see
/// several text deltas. Usage is counted as one token per four characters.
///
/// ```
/// use kagent_core::testing::ScriptedProvider;
/// use serde_json::json;
/// let provider = ScriptedProvider::new()
///     .tool_call("get_pods", json!({"namespace": "default"}))
///     .text("All pods are running.");
/// ```
#[derive(Clone)]
pub struct ScriptedProvider {
    info: ModelInfo,
    turns: Arc<Mutex<VecDeque<Scripted>>>,
    responder: Option<Responder>,
    requests: Arc<Mutex<Vec<ChatRequest>>>,
    pending_delay: Option<Duration>,
    call_counter: Arc<Mutex<u64>>,
    chunk_chars: usize,
    record: bool,
}

impl std::fmt::Debug for ScriptedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedProvider")
            .field("info", &self.info)
            .field("remaining_turns", &self.remaining())
            .finish_non_exhaustive()
    }
}

impl Default for ScriptedProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl ScriptedProvider {
    /// An empty script.
    pub fn new() -> Self {
        ScriptedProvider {
            info: ModelInfo::new("scripted", "scripted-model"),
            turns: Arc::default(),
            responder: None,
            requests: Arc::default(),
            pending_delay: None,
            call_counter: Arc::default(),
            chunk_chars: 16,
            record: true,
        }
    }

    /// Answers every call from a function of the request (for benches and open-ended loops).
    pub fn from_fn(
        f: impl Fn(&ChatRequest) -> Result<ChatResponse, ProviderError> + Send + Sync + 'static,
    ) -> Self {
        ScriptedProvider {
            responder: Some(Arc::new(f)),
            ..Self::new()
        }
    }

    /// Turns request recording off (benches and long runs: recorded requests grow with every
    /// call).
    pub fn without_recording(mut self) -> Self {
        self.record = false;
        self
    }

    /// Sets the model name reported by [`ModelProvider::info`].
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.info.model = model.into();
        self
    }

    fn push(self, turn: Turn) -> Self {
        let mut this = self;
        let delay = this.pending_delay.take();
        if let Ok(mut t) = this.turns.lock() {
            t.push_back(Scripted { turn, delay });
        }
        this
    }

    /// The next turn waits this long before answering.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.pending_delay = Some(delay);
        self
    }

    /// A turn that answers with text.
    pub fn text(self, text: impl Into<String>) -> Self {
        self.push(Turn::Respond(ChatResponse::text(text)))
    }

    /// A turn with one tool call (id `call_<n>`).
    pub fn tool_call(self, name: impl Into<String>, arguments: Value) -> Self {
        let name = name.into();
        self.tool_calls(vec![(name, arguments)])
    }

    /// A turn with several tool calls.
    pub fn tool_calls(self, calls: Vec<(String, Value)>) -> Self {
        let calls = calls
            .into_iter()
            .map(|(name, args)| ToolCall::new(String::new(), name, args))
            .collect();
        self.push(Turn::Respond(tool_response(None, calls)))
    }

    /// A turn with one tool call whose argument text is not valid JSON.
    pub fn malformed_tool_call(
        self,
        name: impl Into<String>,
        raw_arguments: impl Into<String>,
    ) -> Self {
        let raw = raw_arguments.into();
        let arguments = ToolArguments::parse(&raw);
        let call = ToolCall {
            id: String::new(),
            name: name.into(),
            arguments,
            provider_data: None,
        };
        self.push(Turn::Respond(tool_response(None, vec![call])))
    }

    /// A turn with a full response.
    pub fn response(self, response: ChatResponse) -> Self {
        self.push(Turn::Respond(response))
    }

    /// A turn that fails with the error `make` builds.
    pub fn error(self, make: impl Fn() -> ProviderError + Send + Sync + 'static) -> Self {
        self.push(Turn::Fail(Arc::new(make)))
    }

    /// A turn that streams this text and then ends without a finish event.
    pub fn truncated(self, text: impl Into<String>) -> Self {
        self.push(Turn::Truncate(ChatResponse::text(text)))
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Scripted turns not yet used.
    pub fn remaining(&self) -> usize {
        self.turns.lock().map(|t| t.len()).unwrap_or(0)
    }

    fn next_turn(&self, request: &ChatRequest) -> Scripted {
        if self.record
            && let Ok(mut r) = self.requests.lock()
        {
            r.push(request.clone());
        }
        if let Some(responder) = &self.responder {
            let responder = Arc::clone(responder);
            let result = responder(request);
            return Scripted {
                turn: match result {
                    Ok(r) => Turn::Respond(r),
                    Err(e) => {
                        let msg = e.to_string();
                        let _ = e;
                        Turn::Fail(Arc::new(move || {
                            ProviderError::api(
                                "scripted",
                                ApiErrorKind::InvalidRequest,
                                ApiErrorDetails::new(msg.clone()),
                            )
                        }))
                    }
                },
                delay: None,
            };
        }
        let next = self.turns.lock().ok().and_then(|mut t| t.pop_front());
        next.unwrap_or_else(|| Scripted {
            turn: Turn::Fail(Arc::new(|| {
                ProviderError::api(
                    "scripted",
                    ApiErrorKind::InvalidRequest,
                    ApiErrorDetails::new("the scripted provider has no more turns"),
                )
            })),
            delay: None,
        })
    }

    fn finalize(&self, mut response: ChatResponse, request: &ChatRequest) -> ChatResponse {
        let mut counter = self.call_counter.lock().ok();
        for call in &mut response.message.tool_calls {
            if call.id.is_empty() {
                let n = counter.as_deref_mut().map_or(0, |c| {
                    *c += 1;
                    *c
                });
                call.id = format!("call_{n}");
            }
        }
        if response.usage.is_none() {
            let input: usize = request
                .messages
                .iter()
                .map(|m| m.text().len())
                .sum::<usize>()
                + request.system.as_ref().map_or(0, String::len);
            let output = response.message.text_content().len()
                + response
                    .message
                    .tool_calls
                    .iter()
                    .map(|c| c.arguments.to_json_string().len())
                    .sum::<usize>();
            // A characters-per-token estimate, marked as one.
            response.usage = Some(
                Usage::new((input / 4) as u64, (output / 4).max(1) as u64).with_estimated(true),
            );
        }
        response
    }

    fn chunked_events(&self, response: ChatResponse) -> Vec<ChatEvent> {
        let mut events = Vec::new();
        for event in response_events(response) {
            match event {
                ChatEvent::TextDelta { text } => {
                    let chars: Vec<char> = text.chars().collect();
                    for chunk in chars.chunks(self.chunk_chars.max(1)) {
                        events.push(ChatEvent::TextDelta {
                            text: chunk.iter().collect(),
                        });
                    }
                }
                other => events.push(other),
            }
        }
        events
    }
}

fn tool_response(text: Option<String>, calls: Vec<ToolCall>) -> ChatResponse {
    ChatResponse {
        message: AssistantMessage {
            content: text.map(|t| vec![ContentPart::text(t)]).unwrap_or_default(),
            reasoning: Vec::new(),
            tool_calls: calls,
        },
        finish_reason: FinishReason::ToolCalls,
        raw_finish_reason: Some("tool_calls".into()),
        usage: None,
        model: None,
        id: None,
    }
}

#[async_trait]
impl ModelProvider for ScriptedProvider {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let stream = self.chat_stream(request).await?;
        crate::stream::collect_stream(&self.info.provider, stream).await
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let scripted = self.next_turn(request);
        if let Some(d) = scripted.delay {
            tokio::time::sleep(d).await;
        }
        match scripted.turn {
            Turn::Fail(make) => Err(make()),
            Turn::Respond(response) => {
                let response = self.finalize(response, request);
                let events = self.chunked_events(response);
                Ok(futures::stream::iter(events.into_iter().map(Ok)).boxed())
            }
            Turn::Truncate(response) => {
                let mut events = self.chunked_events(response);
                events.retain(|e| !matches!(e, ChatEvent::Finish { .. } | ChatEvent::Usage { .. }));
                Ok(futures::stream::iter(events.into_iter().map(Ok)).boxed())
            }
        }
    }
}

/// The last user message of a request (what a [`ScriptedProvider::from_fn`] responder usually
/// looks at).
pub fn last_user_text(request: &ChatRequest) -> Option<String> {
    request.messages.iter().rev().find_map(|m| match m {
        Message::User { .. } => Some(m.text()),
        _ => None,
    })
}

/// How many tool results a request carries (for responders that loop a fixed number of turns).
pub fn tool_result_count(request: &ChatRequest) -> usize {
    request
        .messages
        .iter()
        .filter(|m| matches!(m, Message::Tool(_)))
        .count()
}
