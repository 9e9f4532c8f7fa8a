//! Streamed chat events and the [`StreamAssembler`] that turns them into a [`ChatResponse`].

use std::pin::Pin;

use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};

use crate::message::{
    AssistantMessage, ChatResponse, ContentPart, FinishReason, Reasoning, ToolArguments, ToolCall,
    Usage,
};
use crate::provider::ProviderError;

/// One event of a streamed chat call.
///
/// Providers assemble tool calls themselves and emit [`ChatEvent::ToolCallDone`] with the whole
/// call; `ToolCallStart` and `ToolCallDelta` are for showing progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChatEvent {
    /// A piece of answer text.
    TextDelta {
        /// The text.
        text: String,
    },
    /// A piece of reasoning text.
    ReasoningDelta {
        /// The text.
        text: String,
    },
    /// A complete reasoning block to keep for replay.
    ReasoningDone {
        /// The block.
        reasoning: Reasoning,
    },
    /// The model started a tool call.
    ToolCallStart {
        /// Position of the call in this turn.
        index: usize,
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
    },
    /// A fragment of a tool call's argument text.
    ToolCallDelta {
        /// Position of the call in this turn.
        index: usize,
        /// The fragment.
        arguments: String,
    },
    /// A complete tool call.
    ToolCallDone {
        /// Position of the call in this turn.
        index: usize,
        /// The call.
        call: ToolCall,
    },
    /// Token usage so far (the last value wins).
    Usage {
        /// The usage.
        usage: Usage,
    },
    /// Metadata about the response.
    ResponseMetadata {
        /// Provider response id.
        id: Option<String>,
        /// The model that answered.
        model: Option<String>,
    },
    /// The turn is over. Always the last event of a successful stream.
    Finish {
        /// Normalized reason.
        reason: FinishReason,
        /// The provider's raw reason.
        raw: Option<String>,
    },
}

/// A stream of chat events.
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<ChatEvent, ProviderError>> + Send>>;

/// Replays a complete response as a stream (for providers without streaming, and tests).
pub fn single_response_stream(response: ChatResponse) -> ChatStream {
    Box::pin(futures::stream::iter(
        response_events(response).into_iter().map(Ok),
    ))
}

/// The events that describe a complete response, in stream order.
pub fn response_events(response: ChatResponse) -> Vec<ChatEvent> {
    let mut events = Vec::new();
    if response.id.is_some() || response.model.is_some() {
        events.push(ChatEvent::ResponseMetadata {
            id: response.id,
            model: response.model,
        });
    }
    for reasoning in response.message.reasoning {
        events.push(ChatEvent::ReasoningDone { reasoning });
    }
    for part in response.message.content {
        if let ContentPart::Text { text } = part {
            events.push(ChatEvent::TextDelta { text });
        }
    }
    for (index, call) in response.message.tool_calls.into_iter().enumerate() {
        events.push(ChatEvent::ToolCallDone { index, call });
    }
    if let Some(usage) = response.usage {
        events.push(ChatEvent::Usage { usage });
    }
    events.push(ChatEvent::Finish {
        reason: response.finish_reason,
        raw: response.raw_finish_reason,
    });
    events
}

/// Assembles [`ChatEvent`]s into a [`ChatResponse`].
///
/// Text deltas are joined; tool calls come from `ToolCallDone` events, or, for calls that were
/// started but never completed, from their deltas (kept as [`ToolArguments::Malformed`] unless
/// they parse). When tool calls are present the finish reason is
/// [`FinishReason::ToolCalls`] whatever the provider said; the raw reason is kept.
#[derive(Debug, Default, Clone)]
pub struct StreamAssembler {
    text: String,
    reasoning: Vec<Reasoning>,
    pending_reasoning: String,
    calls: Vec<(usize, ToolCall)>,
    open: Vec<(usize, String, String, String)>,
    usage: Option<Usage>,
    finish: Option<(FinishReason, Option<String>)>,
    id: Option<String>,
    model: Option<String>,
}

impl StreamAssembler {
    /// An empty assembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one event the caller keeps (a tool call is cloned). Prefer
    /// [`push_owned`](Self::push_owned) when the event is not needed afterwards.
    pub fn push(&mut self, event: &ChatEvent) {
        match event {
            ChatEvent::TextDelta { text } => self.text.push_str(text),
            ChatEvent::ReasoningDelta { text } => self.pending_reasoning.push_str(text),
            ChatEvent::ToolCallDelta { index, arguments } => self.call_delta(*index, arguments),
            ChatEvent::Usage { usage } => self.usage = Some(*usage),
            other => self.push_owned(other.clone()),
        }
    }

    /// Feeds one event, taking it (nothing is copied but text appended to the response).
    pub fn push_owned(&mut self, event: ChatEvent) {
        match event {
            ChatEvent::TextDelta { text } => self.text.push_str(&text),
            ChatEvent::ReasoningDelta { text } => self.pending_reasoning.push_str(&text),
            ChatEvent::ReasoningDone { reasoning } => {
                self.pending_reasoning.clear();
                self.reasoning.push(reasoning);
            }
            ChatEvent::ToolCallStart { index, id, name } => {
                self.open.push((index, id, name, String::new()));
            }
            ChatEvent::ToolCallDelta { index, arguments } => self.call_delta(index, &arguments),
            ChatEvent::ToolCallDone { index, call } => {
                if !self.open.is_empty() {
                    self.open.retain(|o| o.0 != index);
                }
                self.calls.push((index, call));
            }
            ChatEvent::Usage { usage } => self.usage = Some(usage),
            ChatEvent::ResponseMetadata { id, model } => {
                if id.is_some() {
                    self.id = id;
                }
                if model.is_some() {
                    self.model = model;
                }
            }
            ChatEvent::Finish { reason, raw } => self.finish = Some((reason, raw)),
        }
    }

    fn call_delta(&mut self, index: usize, arguments: &str) {
        if let Some(open) = self.open.iter_mut().rev().find(|o| o.0 == index) {
            open.3.push_str(arguments);
        }
    }

    /// Whether a `Finish` event was seen.
    pub fn is_finished(&self) -> bool {
        self.finish.is_some()
    }

    /// Text assembled so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Builds the response from what was seen, finished or not. Calls that were started but
    /// never completed are included with whatever argument text arrived.
    pub fn snapshot(&self) -> ChatResponse {
        self.clone().into_response()
    }

    /// Like [`snapshot`](Self::snapshot), consuming the assembler (nothing is copied).
    pub fn into_response(self) -> ChatResponse {
        let mut calls = self.calls;
        for (index, id, name, args) in self.open {
            let arguments = match ToolArguments::parse(&args) {
                ToolArguments::Json(v) if !args.trim().is_empty() => ToolArguments::Json(v),
                _ => ToolArguments::Malformed {
                    raw: args,
                    error: "tool call was never completed".into(),
                },
            };
            calls.push((
                index,
                ToolCall {
                    id,
                    name,
                    arguments,
                    provider_data: None,
                },
            ));
        }
        // Stable: calls completed under one index keep their order.
        calls.sort_by_key(|(i, _)| *i);
        let mut reasoning = self.reasoning;
        if !self.pending_reasoning.is_empty() {
            reasoning.push(Reasoning {
                text: self.pending_reasoning,
                ..Default::default()
            });
        }
        let tool_calls: Vec<ToolCall> = calls.into_iter().map(|(_, c)| c).collect();
        let (reason, raw) = self
            .finish
            .unwrap_or((FinishReason::Other("incomplete".into()), None));
        let reason = if tool_calls.is_empty() {
            reason
        } else {
            FinishReason::ToolCalls
        };
        ChatResponse {
            message: AssistantMessage {
                content: if self.text.is_empty() {
                    Vec::new()
                } else {
                    vec![ContentPart::text(self.text)]
                },
                reasoning,
                tool_calls,
            },
            finish_reason: reason,
            raw_finish_reason: raw,
            usage: self.usage,
            model: self.model,
            id: self.id,
        }
    }

    /// Finishes assembly: the response if a `Finish` event was seen.
    pub fn finish(self, provider: &str) -> Result<ChatResponse, ProviderError> {
        if self.finish.is_none() {
            return Err(ProviderError::TruncatedStream {
                provider: provider.to_owned(),
                reason: "no finish event".into(),
                partial: Box::new(self.into_response()),
            });
        }
        Ok(self.into_response())
    }
}

/// Drains a stream into a response. A stream that ends without a `Finish` event is a
/// [`ProviderError::TruncatedStream`] carrying the partial output.
pub async fn collect_stream(
    provider: &str,
    mut stream: ChatStream,
) -> Result<ChatResponse, ProviderError> {
    let mut asm = StreamAssembler::new();
    while let Some(event) = stream.next().await {
        asm.push_owned(event?);
    }
    asm.finish(provider)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn round_trips_a_response() {
        let mut resp = ChatResponse::text("hello");
        resp.message
            .tool_calls
            .push(ToolCall::new("1", "t", json!({"a": 1})));
        resp.finish_reason = FinishReason::ToolCalls;
        resp.usage = Some(Usage {
            input_tokens: 3,
            output_tokens: 4,
            ..Default::default()
        });
        let back = collect_stream("p", single_response_stream(resp.clone()))
            .await
            .unwrap();
        assert_eq!(back, resp);
    }

    #[test]
    fn tool_calls_win_over_a_stop_reason() {
        let mut a = StreamAssembler::new();
        a.push(&ChatEvent::ToolCallDone {
            index: 0,
            call: ToolCall::new("1", "t", json!({})),
        });
        a.push(&ChatEvent::Finish {
            reason: FinishReason::Stop,
            raw: Some("stop".into()),
        });
        let r = a.finish("p").unwrap();
        assert_eq!(r.finish_reason, FinishReason::ToolCalls);
        assert_eq!(r.raw_finish_reason.as_deref(), Some("stop"));
    }

    #[test]
    fn missing_finish_is_truncation_with_partial_output() {
        let mut a = StreamAssembler::new();
        a.push(&ChatEvent::TextDelta { text: "par".into() });
        a.push(&ChatEvent::ToolCallStart {
            index: 0,
            id: "c".into(),
            name: "t".into(),
        });
        a.push(&ChatEvent::ToolCallDelta {
            index: 0,
            arguments: "{\"a\":".into(),
        });
        match a.finish("p") {
            Err(ProviderError::TruncatedStream { partial, .. }) => {
                assert_eq!(partial.message.text_content(), "par");
                assert!(matches!(
                    partial.message.tool_calls[0].arguments,
                    ToolArguments::Malformed { .. }
                ));
            }
            other => panic!("expected truncation, got {other:?}"),
        }
    }

    #[test]
    fn borrowed_and_owned_pushes_assemble_the_same_response() {
        let events = vec![
            ChatEvent::ResponseMetadata {
                id: Some("r1".into()),
                model: Some("m".into()),
            },
            ChatEvent::ReasoningDelta {
                text: "think".into(),
            },
            ChatEvent::TextDelta { text: "a".into() },
            ChatEvent::ToolCallStart {
                index: 1,
                id: "c1".into(),
                name: "t".into(),
            },
            ChatEvent::ToolCallDelta {
                index: 1,
                arguments: "{\"x\":".into(),
            },
            ChatEvent::ToolCallDone {
                index: 0,
                call: ToolCall::new("c0", "t", json!({"y": [1, 2]})),
            },
            ChatEvent::TextDelta { text: "b".into() },
            ChatEvent::Usage {
                usage: Usage {
                    input_tokens: 1,
                    output_tokens: 2,
                    ..Default::default()
                },
            },
        ];
        let mut borrowed = StreamAssembler::new();
        let mut owned = StreamAssembler::new();
        for ev in &events {
            borrowed.push(ev);
            owned.push_owned(ev.clone());
        }
        // Unfinished: the snapshot keeps the open call (by index order) and the pending
        // reasoning, and does not consume the assembler.
        let snap = owned.snapshot();
        assert_eq!(snap, borrowed.snapshot());
        assert_eq!(snap.message.text_content(), "ab");
        assert_eq!(snap.message.tool_calls.len(), 2);
        assert_eq!(snap.message.tool_calls[0].id, "c0");
        assert!(snap.message.tool_calls[1].arguments.as_json().is_none());
        assert_eq!(snap.message.reasoning[0].text, "think");
        let finish = ChatEvent::Finish {
            reason: FinishReason::Stop,
            raw: Some("stop".into()),
        };
        borrowed.push(&finish);
        owned.push_owned(finish);
        let a = borrowed.finish("p").unwrap();
        assert_eq!(a, owned.finish("p").unwrap());
        assert_eq!(a.finish_reason, FinishReason::ToolCalls);
        assert_eq!(a.id.as_deref(), Some("r1"));
    }
}
