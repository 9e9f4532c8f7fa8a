//! The Anthropic stream state machine: decoded SSE events in, [`ChatEvent`]s out.
//!
//! Pure (no I/O), so every wire scenario is unit-testable. The shared stream driver
//! ([`crate::driver`]) feeds it one SSE event at a time; `message_stop` ends the answer.

use std::collections::{HashMap, VecDeque};

use kagent_core::{
    ChatEvent, ChatResponse, ContentPart, FinishReason, ProviderError, Reasoning, ToolArguments,
    ToolCall, Usage,
};

use super::wire::{ContentBlock, Delta, MessagesResponse, StartBlock, StreamEvent, WireUsage};
use crate::driver::{End, Flow, StreamMachine};
use crate::framing::SseEvent;

/// An open content block.
#[derive(Debug)]
enum Block {
    Text,
    Tool {
        position: usize,
        id: String,
        name: String,
        json: String,
    },
    Thinking {
        text: String,
        signature: String,
    },
    Redacted {
        data: String,
    },
    /// `server_tool_use` and `*_tool_result` blocks: executed by Anthropic, not us.
    Ignored,
}

/// Assembles one streamed Messages response.
#[derive(Debug)]
pub(crate) struct AnthropicStreamState {
    provider: String,
    open: HashMap<usize, Block>,
    tool_positions: usize,
    raw_usage: WireUsage,
    usage: Option<Usage>,
    stop_reason: Option<String>,
    finished: bool,
}

impl AnthropicStreamState {
    /// A fresh state for one response.
    pub(crate) fn new(provider: impl Into<String>) -> Self {
        AnthropicStreamState {
            provider: provider.into(),
            open: HashMap::new(),
            tool_positions: 0,
            raw_usage: WireUsage::default(),
            usage: None,
            stop_reason: None,
            finished: false,
        }
    }

    /// Feeds one SSE event. `event` is the `event:` name (may be empty), `data` its payload.
    /// Pushes the events to hand to the caller, or fails with the typed error of an in-band
    /// `error` event.
    pub(crate) fn on_event(
        &mut self,
        event: &str,
        data: &str,
        out: &mut VecDeque<ChatEvent>,
    ) -> Result<Flow, ProviderError> {
        if self.finished {
            return Ok(Flow::Done);
        }
        if data.trim().is_empty() {
            return Ok(Flow::Continue);
        }
        let parsed: StreamEvent = match serde_json::from_str(data) {
            Ok(e) => e,
            Err(e) => {
                // `ping` and unknown events may carry anything; only known events must parse.
                if matches!(
                    event,
                    "message_start"
                        | "content_block_start"
                        | "content_block_delta"
                        | "content_block_stop"
                        | "message_delta"
                        | "error"
                ) {
                    return Err(ProviderError::decode(
                        self.provider.clone(),
                        format!("invalid `{event}` event: {e}"),
                        Some(Box::new(e)),
                    ));
                }
                return Ok(Flow::Continue);
            }
        };
        match parsed {
            StreamEvent::MessageStart { message } => {
                out.push_back(ChatEvent::ResponseMetadata {
                    id: message.id,
                    model: message.model,
                });
                if let Some(u) = message.usage {
                    self.merge_usage(&u);
                    if let Some(usage) = self.usage {
                        out.push_back(ChatEvent::Usage { usage });
                    }
                }
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                let block = match content_block {
                    StartBlock::Text { text } => {
                        if !text.is_empty() {
                            out.push_back(ChatEvent::TextDelta { text });
                        }
                        Block::Text
                    }
                    // `input` in the start block is always an `{}` placeholder: ignored.
                    StartBlock::ToolUse { id, name } => {
                        let position = self.tool_positions;
                        self.tool_positions += 1;
                        out.push_back(ChatEvent::ToolCallStart {
                            index: position,
                            id: id.clone(),
                            name: name.clone(),
                        });
                        Block::Tool {
                            position,
                            id,
                            name,
                            json: String::new(),
                        }
                    }
                    StartBlock::Thinking {
                        thinking,
                        signature,
                    } => {
                        if !thinking.is_empty() {
                            out.push_back(ChatEvent::ReasoningDelta {
                                text: thinking.clone(),
                            });
                        }
                        Block::Thinking {
                            text: thinking,
                            signature,
                        }
                    }
                    StartBlock::RedactedThinking { data } => Block::Redacted { data },
                    StartBlock::Other => Block::Ignored,
                };
                self.open.insert(index, block);
            }
            StreamEvent::ContentBlockDelta { index, delta } => {
                match (self.open.get_mut(&index), delta) {
                    (Some(Block::Text), Delta::TextDelta { text }) if !text.is_empty() => {
                        out.push_back(ChatEvent::TextDelta { text });
                    }
                    // A text delta for a block whose start we never saw: keep the text.
                    (None, Delta::TextDelta { text }) => {
                        self.open.insert(index, Block::Text);
                        if !text.is_empty() {
                            out.push_back(ChatEvent::TextDelta { text });
                        }
                    }
                    (
                        Some(Block::Tool { position, json, .. }),
                        Delta::InputJsonDelta { partial_json },
                    ) => {
                        json.push_str(&partial_json);
                        if !partial_json.is_empty() {
                            out.push_back(ChatEvent::ToolCallDelta {
                                index: *position,
                                arguments: partial_json,
                            });
                        }
                    }
                    (Some(Block::Thinking { text, .. }), Delta::ThinkingDelta { thinking }) => {
                        text.push_str(&thinking);
                        if !thinking.is_empty() {
                            out.push_back(ChatEvent::ReasoningDelta { text: thinking });
                        }
                    }
                    (
                        Some(Block::Thinking { signature, .. }),
                        Delta::SignatureDelta { signature: s },
                    ) => signature.push_str(&s),
                    // Unknown delta types (citations, ...), deltas of ignored blocks.
                    _ => {}
                }
            }
            StreamEvent::ContentBlockStop { index } => {
                if let Some(block) = self.open.remove(&index) {
                    out.extend(close_block(block, None));
                }
            }
            StreamEvent::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.stop_reason {
                    self.stop_reason = Some(reason);
                }
                if let Some(u) = usage {
                    self.merge_usage(&u);
                    if let Some(usage) = self.usage {
                        out.push_back(ChatEvent::Usage { usage });
                    }
                }
            }
            StreamEvent::MessageStop => {
                // Blocks never stopped (e.g. `max_tokens` inside tool JSON) are reported as
                // incomplete calls that must not run.
                let mut rest: Vec<(usize, Block)> = self.open.drain().collect();
                rest.sort_by_key(|(i, _)| *i);
                let why = format!(
                    "tool call cut off before its end (stop_reason {})",
                    self.stop_reason.as_deref().unwrap_or("unknown")
                );
                for (_, block) in rest {
                    out.extend(close_block(block, Some(&why)));
                }
                let raw = self.stop_reason.clone();
                out.push_back(ChatEvent::Finish {
                    reason: finish_reason(raw.as_deref()),
                    raw,
                });
                self.finished = true;
                return Ok(Flow::Done);
            }
            StreamEvent::Error { .. } => {
                let value: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
                return Err(crate::error::from_in_band(&self.provider, &value));
            }
            StreamEvent::Ping | StreamEvent::Unknown => {}
        }
        Ok(Flow::Continue)
    }

    /// `message_delta.usage` is cumulative: each field present overwrites, absent fields keep
    /// what `message_start` said (gateways may send input counts only at the end).
    fn merge_usage(&mut self, u: &WireUsage) {
        let mut raw = self.raw_usage.clone();
        overwrite(&mut raw.input_tokens, u.input_tokens);
        overwrite(&mut raw.output_tokens, u.output_tokens);
        overwrite(&mut raw.cache_read_input_tokens, u.cache_read_input_tokens);
        overwrite(
            &mut raw.cache_creation_input_tokens,
            u.cache_creation_input_tokens,
        );
        self.usage = Some(to_usage(&raw));
        self.raw_usage = raw;
    }
}

impl StreamMachine<SseEvent> for AnthropicStreamState {
    fn feed(&mut self, ev: SseEvent, out: &mut VecDeque<ChatEvent>) -> Result<Flow, ProviderError> {
        self.on_event(ev.event(), ev.data(), out)
    }

    /// The body ended before `message_stop`: a truncated answer.
    fn end(&mut self, _out: &mut VecDeque<ChatEvent>) -> Result<End, ProviderError> {
        Ok(End::Truncated(
            "the stream closed before `message_stop`".into(),
        ))
    }
}

fn overwrite(slot: &mut Option<u64>, value: Option<u64>) {
    if value.is_some() {
        *slot = value;
    }
}

/// Anthropic's `input_tokens` excludes cache reads and writes; ours includes them.
pub(crate) fn to_usage(u: &WireUsage) -> Usage {
    let read = u.cache_read_input_tokens;
    let created = u.cache_creation_input_tokens;
    let mut usage = Usage::new(
        u.input_tokens
            .unwrap_or(0)
            .saturating_add(read.unwrap_or(0))
            .saturating_add(created.unwrap_or(0)),
        u.output_tokens.unwrap_or(0),
    );
    usage.cached_input_tokens = read;
    usage.cache_creation_input_tokens = created;
    usage
}

fn close_block(block: Block, cut_off: Option<&str>) -> Vec<ChatEvent> {
    match block {
        Block::Tool {
            position,
            id,
            name,
            json,
        } => {
            let arguments = match cut_off {
                Some(why) => ToolArguments::Malformed {
                    raw: json,
                    error: why.to_owned(),
                },
                // A zero-argument tool sends one `partial_json: ""`: that is `{}`.
                None => ToolArguments::parse(&json),
            };
            vec![ChatEvent::ToolCallDone {
                index: position,
                call: ToolCall::new(id, name, arguments),
            }]
        }
        Block::Thinking { text, signature } => vec![ChatEvent::ReasoningDone {
            reasoning: {
                let mut r = Reasoning::new(text);
                r.signature = (!signature.is_empty()).then_some(signature);
                r
            },
        }],
        Block::Redacted { data } => vec![ChatEvent::ReasoningDone {
            reasoning: Reasoning::default().with_redacted(data),
        }],
        Block::Text | Block::Ignored => Vec::new(),
    }
}

/// Maps `stop_reason`.
pub(crate) fn finish_reason(raw: Option<&str>) -> FinishReason {
    match raw {
        Some("end_turn") | Some("stop_sequence") => FinishReason::Stop,
        Some("max_tokens") | Some("model_context_window_exceeded") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some("refusal") => FinishReason::ContentFilter,
        // `pause_turn`: a server-tool loop paused; the caller may send the turn back to resume.
        Some(other) => FinishReason::Other(other.to_owned()),
        None => FinishReason::Other("unknown".into()),
    }
}

/// Converts a complete (non-streamed) response.
pub(crate) fn response_from_wire(resp: MessagesResponse) -> ChatResponse {
    let mut text = String::new();
    let mut reasoning = Vec::new();
    let mut tool_calls = Vec::new();
    for block in resp.content {
        match block {
            ContentBlock::Text { text: t } => text.push_str(&t),
            ContentBlock::ToolUse { id, name, input } => tool_calls.push(ToolCall::new(
                id,
                name,
                if input.is_null() {
                    serde_json::json!({})
                } else {
                    input
                },
            )),
            ContentBlock::Thinking {
                thinking,
                signature,
            } => {
                let mut r = Reasoning::new(thinking);
                r.signature = (!signature.is_empty()).then_some(signature);
                reasoning.push(r);
            }
            ContentBlock::RedactedThinking { data } => {
                reasoning.push(Reasoning::default().with_redacted(data));
            }
            ContentBlock::Other => {}
        }
    }
    let mut finish = finish_reason(resp.stop_reason.as_deref());
    if !tool_calls.is_empty() {
        finish = FinishReason::ToolCalls;
    }
    let content = if text.is_empty() {
        Vec::new()
    } else {
        vec![ContentPart::text(text)]
    };
    let message = kagent_core::AssistantMessage::default()
        .with_content(content)
        .with_reasoning(reasoning)
        .with_tool_calls(tool_calls);
    let mut response = ChatResponse::new(message, finish);
    response.raw_finish_reason = resp.stop_reason;
    response.usage = resp.usage.as_ref().map(to_usage);
    response.model = resp.model;
    response.id = resp.id;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::run_to_end;

    fn on_event(
        st: &mut AnthropicStreamState,
        event: &str,
        data: &str,
    ) -> Result<Vec<ChatEvent>, ProviderError> {
        let mut out = VecDeque::new();
        st.on_event(event, data, &mut out)?;
        Ok(out.into())
    }

    fn feed(st: &mut AnthropicStreamState, event: &str, data: &str) -> Vec<ChatEvent> {
        on_event(st, event, data).unwrap()
    }

    #[test]
    fn events_after_message_stop_are_ignored() {
        let mut st = AnthropicStreamState::new("anthropic");
        feed(
            &mut st,
            "message_start",
            r#"{"type":"message_start","message":{"id":"m"}}"#,
        );
        feed(
            &mut st,
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"}}"#,
        );
        let done = feed(&mut st, "message_stop", r#"{"type":"message_stop"}"#);
        assert!(matches!(
            done.last(),
            Some(ChatEvent::Finish {
                reason: FinishReason::Stop,
                ..
            })
        ));
        assert!(
            feed(&mut st, "content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"late"}}"#)
                .is_empty()
        );
        assert_eq!(
            st.on_event("ping", "{}", &mut VecDeque::new()).unwrap(),
            Flow::Done
        );
    }

    #[test]
    fn malformed_known_event_is_a_decode_error_but_unknown_garbage_is_ignored() {
        let mut st = AnthropicStreamState::new("anthropic");
        assert!(matches!(
            on_event(&mut st, "content_block_delta", "{not json"),
            Err(ProviderError::Decode { .. })
        ));
        let mut st = AnthropicStreamState::new("anthropic");
        assert!(
            on_event(&mut st, "vendor_extension", "<<binary>>")
                .unwrap()
                .is_empty()
        );
        assert!(on_event(&mut st, "ping", "").unwrap().is_empty());
    }

    #[test]
    fn text_delta_without_block_start_is_kept() {
        let delta =
            r#"{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"hi"}}"#;
        let mut st = AnthropicStreamState::new("anthropic");
        let out = feed(&mut st, "content_block_delta", delta);
        assert_eq!(out, vec![ChatEvent::TextDelta { text: "hi".into() }]);
        let frames = [SseEvent::new("content_block_delta", delta)];
        match run_to_end("anthropic", frames, AnthropicStreamState::new("anthropic")) {
            Err(ProviderError::TruncatedStream { partial, .. }) => {
                assert_eq!(partial.message.text_content(), "hi");
            }
            other => panic!("expected truncation, got {other:?}"),
        }
    }

    #[test]
    fn finish_reason_mapping() {
        assert_eq!(finish_reason(Some("end_turn")), FinishReason::Stop);
        assert_eq!(finish_reason(Some("stop_sequence")), FinishReason::Stop);
        assert_eq!(finish_reason(Some("max_tokens")), FinishReason::Length);
        assert_eq!(finish_reason(Some("refusal")), FinishReason::ContentFilter);
        assert_eq!(
            finish_reason(Some("pause_turn")),
            FinishReason::Other("pause_turn".into())
        );
    }
}
