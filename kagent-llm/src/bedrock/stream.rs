//! Bedrock ConverseStream: AWS event-stream frames (decoded by `aws-smithy-eventstream`) in,
//! [`ChatEvent`]s out; and the mapping of a complete Converse response.

use std::collections::{HashMap, VecDeque};

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::Message;
use bytes::BytesMut;
use futures::StreamExt;
use kagent_core::{
    ApiErrorDetails, ApiErrorKind, AssistantMessage, ChatEvent, ChatResponse, ContentPart,
    FinishReason, ProviderError, Reasoning, ToolArguments, ToolCall, Usage,
};
use serde_json::Value;

use crate::driver::{End, Flow, StreamMachine};
use crate::error::ParsedErrorBody;
use crate::framing::ByteStream;

/// Largest event-stream message we buffer (Bedrock's are far smaller).
const MAX_FRAME: usize = 16 * 1024 * 1024;

/// A stream of decoded event-stream messages.
pub(crate) type MessageStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<Message, ProviderError>> + Send>>;

/// Splits a byte stream into event-stream messages (prelude and message CRCs checked by
/// `aws-smithy-eventstream`). Bytes left over at the end (a cut frame) are dropped: the state
/// machine then reports the stream as truncated.
pub(crate) fn messages(provider: &str, bytes: ByteStream) -> MessageStream {
    struct St {
        bytes: ByteStream,
        buf: BytesMut,
        decoder: MessageFrameDecoder,
        provider: String,
        done: bool,
    }
    let st = St {
        bytes,
        buf: BytesMut::new(),
        decoder: MessageFrameDecoder::new(),
        provider: provider.to_owned(),
        done: false,
    };
    Box::pin(futures::stream::unfold(st, |mut st| async move {
        if st.done {
            return None;
        }
        loop {
            match st.decoder.decode_frame(&mut st.buf) {
                Ok(DecodedFrame::Complete(m)) => return Some((Ok(m), st)),
                Ok(DecodedFrame::Incomplete) => {}
                Err(e) => {
                    st.done = true;
                    let err = ProviderError::decode(
                        st.provider.clone(),
                        format!("invalid event-stream frame: {e}"),
                        Some(Box::new(e)),
                    );
                    return Some((Err(err), st));
                }
            }
            if st.buf.len() > MAX_FRAME {
                st.done = true;
                let err = ProviderError::decode(
                    st.provider.clone(),
                    "event-stream frame larger than 16 MiB",
                    None,
                );
                return Some((Err(err), st));
            }
            match st.bytes.next().await {
                Some(Ok(chunk)) => st.buf.extend_from_slice(&chunk),
                Some(Err(e)) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
                None => return None,
            }
        }
    }))
}

fn header<'a>(m: &'a Message, name: &str) -> Option<&'a str> {
    m.headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| h.value().as_string().ok())
        .map(|s| s.as_str())
}

#[derive(Debug)]
enum Block {
    Text,
    Tool {
        position: usize,
        id: String,
        name: String,
        json: String,
    },
    Reasoning {
        text: String,
        signature: String,
    },
    Redacted {
        data: String,
    },
}

/// Assembles one ConverseStream response.
#[derive(Debug)]
pub(crate) struct BedrockStreamState {
    provider: String,
    open: HashMap<u64, Block>,
    tools: usize,
    stop_reason: Option<String>,
    finished: bool,
}

impl BedrockStreamState {
    pub(crate) fn new(provider: impl Into<String>) -> Self {
        BedrockStreamState {
            provider: provider.into(),
            open: HashMap::new(),
            tools: 0,
            stop_reason: None,
            finished: false,
        }
    }

    /// One event-stream message.
    pub(crate) fn on_message(&mut self, m: &Message) -> Result<Vec<ChatEvent>, ProviderError> {
        match header(m, ":message-type") {
            Some("event") => {}
            Some("exception") => {
                let kind = header(m, ":exception-type").unwrap_or("unknownException");
                let payload: Value = serde_json::from_slice(m.payload()).unwrap_or_default();
                return Err(exception(&self.provider, kind, &payload));
            }
            Some("error") => {
                let code = header(m, ":error-code").unwrap_or("InternalServerException");
                let message = header(m, ":error-message").unwrap_or("stream error");
                return Err(exception(
                    &self.provider,
                    code,
                    &serde_json::json!({ "message": message }),
                ));
            }
            // Unknown message types are ignored.
            _ => return Ok(Vec::new()),
        }
        let event_type = header(m, ":event-type").unwrap_or_default().to_owned();
        let payload: Value = if m.payload().is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(m.payload()).map_err(|e| {
                ProviderError::decode(
                    self.provider.clone(),
                    format!("invalid `{event_type}` payload: {e}"),
                    Some(Box::new(e)),
                )
            })?
        };
        Ok(self.on_event(&event_type, &payload))
    }

    fn on_event(&mut self, event_type: &str, p: &Value) -> Vec<ChatEvent> {
        let mut out = Vec::new();
        if self.finished && event_type != "metadata" {
            return out;
        }
        let index = p
            .get("contentBlockIndex")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        match event_type {
            "messageStart" => {}
            "contentBlockStart" => {
                if let Some(tu) = p.pointer("/start/toolUse") {
                    let id = str_at(tu, "toolUseId");
                    let name = str_at(tu, "name");
                    let position = self.tools;
                    self.tools += 1;
                    out.push(ChatEvent::ToolCallStart {
                        index: position,
                        id: id.clone(),
                        name: name.clone(),
                    });
                    self.open.insert(
                        index,
                        Block::Tool {
                            position,
                            id,
                            name,
                            json: String::new(),
                        },
                    );
                }
            }
            "contentBlockDelta" => {
                let Some(delta) = p.get("delta") else {
                    return out;
                };
                if let Some(text) = delta.get("text").and_then(Value::as_str) {
                    self.open.entry(index).or_insert(Block::Text);
                    if !text.is_empty() {
                        out.push(ChatEvent::TextDelta {
                            text: text.to_owned(),
                        });
                    }
                } else if let Some(input) = delta.pointer("/toolUse/input").and_then(Value::as_str)
                {
                    if let Some(Block::Tool { position, json, .. }) = self.open.get_mut(&index) {
                        json.push_str(input);
                        if !input.is_empty() {
                            out.push(ChatEvent::ToolCallDelta {
                                index: *position,
                                arguments: input.to_owned(),
                            });
                        }
                    }
                } else if let Some(rc) = delta.get("reasoningContent") {
                    if let Some(data) = rc.get("redactedContent").and_then(Value::as_str) {
                        self.open.insert(
                            index,
                            Block::Redacted {
                                data: data.to_owned(),
                            },
                        );
                    } else {
                        let block = self.open.entry(index).or_insert(Block::Reasoning {
                            text: String::new(),
                            signature: String::new(),
                        });
                        if let Block::Reasoning { text, signature } = block {
                            if let Some(t) = rc.get("text").and_then(Value::as_str) {
                                text.push_str(t);
                                if !t.is_empty() {
                                    out.push(ChatEvent::ReasoningDelta { text: t.to_owned() });
                                }
                            }
                            if let Some(s) = rc.get("signature").and_then(Value::as_str) {
                                signature.push_str(s);
                            }
                        }
                    }
                }
                // Other delta kinds (citations, images, ...) are ignored.
            }
            "contentBlockStop" => {
                if let Some(block) = self.open.remove(&index) {
                    out.extend(close(block, None));
                }
            }
            "messageStop" => {
                self.stop_reason = p
                    .get("stopReason")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let mut rest: Vec<(u64, Block)> = self.open.drain().collect();
                rest.sort_by_key(|(i, _)| *i);
                let why = format!(
                    "tool call cut off before its end (stopReason {})",
                    self.stop_reason.as_deref().unwrap_or("unknown")
                );
                for (_, b) in rest {
                    out.extend(close(b, Some(&why)));
                }
                self.finished = true;
            }
            "metadata" => {
                if let Some(u) = p.get("usage") {
                    out.push(ChatEvent::Usage { usage: usage(u) });
                }
            }
            _ => {}
        }
        out
    }
}

impl StreamMachine<Message> for BedrockStreamState {
    fn feed(&mut self, m: Message, out: &mut VecDeque<ChatEvent>) -> Result<Flow, ProviderError> {
        out.extend(self.on_message(&m)?);
        // The `metadata` event with usage comes after `messageStop`: read to the end.
        Ok(Flow::Continue)
    }

    /// The body ended: `Finish` after `messageStop`, otherwise a truncated answer.
    fn end(&mut self, out: &mut VecDeque<ChatEvent>) -> Result<End, ProviderError> {
        if !self.finished {
            return Ok(End::Truncated(
                "the stream closed before `messageStop`".into(),
            ));
        }
        let raw = self.stop_reason.clone();
        out.push_back(ChatEvent::Finish {
            reason: finish_reason(raw.as_deref()),
            raw,
        });
        Ok(End::Complete)
    }
}

fn str_at(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn close(block: Block, cut_off: Option<&str>) -> Vec<ChatEvent> {
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
                None => ToolArguments::parse(&json),
            };
            vec![ChatEvent::ToolCallDone {
                index: position,
                call: ToolCall::new(id, name, arguments),
            }]
        }
        Block::Reasoning { text, signature } => vec![ChatEvent::ReasoningDone {
            reasoning: {
                let mut r = Reasoning::new(text);
                r.signature = (!signature.is_empty()).then_some(signature);
                r
            },
        }],
        Block::Redacted { data } => vec![ChatEvent::ReasoningDone {
            reasoning: Reasoning::default().with_redacted(data),
        }],
        Block::Text => Vec::new(),
    }
}

/// Maps `stopReason`.
pub(crate) fn finish_reason(raw: Option<&str>) -> FinishReason {
    match raw {
        Some("end_turn") | Some("stop_sequence") => FinishReason::Stop,
        Some("max_tokens") | Some("model_context_window_exceeded") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some("guardrail_intervened") | Some("content_filtered") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_owned()),
        None => FinishReason::Other("unknown".into()),
    }
}

/// Bedrock usage. `inputTokens` excludes cache reads and writes (as Anthropic's does; our
/// `input_tokens` includes them).
pub(crate) fn usage(u: &Value) -> Usage {
    let n = |k: &str| u.get(k).and_then(Value::as_u64);
    let read = n("cacheReadInputTokens");
    let write = n("cacheWriteInputTokens");
    let mut usage = Usage::new(
        n("inputTokens")
            .unwrap_or(0)
            .saturating_add(read.unwrap_or(0))
            .saturating_add(write.unwrap_or(0)),
        n("outputTokens").unwrap_or(0),
    );
    usage.cached_input_tokens = read;
    usage.cache_creation_input_tokens = write;
    usage
}

/// The typed error of a stream exception (`throttlingException`, `modelStreamErrorException`,
/// `validationException`, `serviceUnavailableException`, ...).
pub(crate) fn exception(provider: &str, kind: &str, payload: &Value) -> ProviderError {
    let mut chars = kind.chars();
    let type_name = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    let message = payload
        .get("message")
        .or_else(|| payload.get("Message"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    // The exception type is authoritative for these (Bedrock's throttling message says "Too
    // many tokens", which must not read as a context-length error).
    let details = ApiErrorDetails::new(message.clone().unwrap_or_else(|| type_name.clone()))
        .with_error_type(type_name.clone());
    match type_name.as_str() {
        "ThrottlingException" => ProviderError::api(provider, ApiErrorKind::RateLimited, details),
        "ServiceUnavailableException" => {
            ProviderError::api(provider, ApiErrorKind::Overloaded, details)
        }
        "InternalServerException" | "ModelStreamErrorException" | "ModelTimeoutException" => {
            ProviderError::api(provider, ApiErrorKind::Server, details)
        }
        _ => crate::error::from_parsed_in_band(
            provider,
            ParsedErrorBody {
                message,
                error_type: Some(type_name),
                ..Default::default()
            },
        ),
    }
}

/// Converts a complete Converse response.
pub(crate) fn response_from_wire(v: &Value) -> ChatResponse {
    let mut text = String::new();
    let mut reasoning = Vec::new();
    let mut tool_calls = Vec::new();
    if let Some(blocks) = v
        .pointer("/output/message/content")
        .and_then(Value::as_array)
    {
        for b in blocks {
            if let Some(t) = b.get("text").and_then(Value::as_str) {
                text.push_str(t);
            } else if let Some(tu) = b.get("toolUse") {
                tool_calls.push(ToolCall::new(
                    str_at(tu, "toolUseId"),
                    str_at(tu, "name"),
                    match tu.get("input") {
                        Some(Value::Null) | None => serde_json::json!({}),
                        Some(i) => i.clone(),
                    },
                ));
            } else if let Some(rc) = b.get("reasoningContent") {
                if let Some(rt) = rc.get("reasoningText") {
                    let mut r = Reasoning::new(str_at(rt, "text"));
                    r.signature = rt
                        .get("signature")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    reasoning.push(r);
                } else if let Some(data) = rc.get("redactedContent").and_then(Value::as_str) {
                    reasoning.push(Reasoning::default().with_redacted(data));
                }
            }
        }
    }
    let raw = v
        .get("stopReason")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut finish = finish_reason(raw.as_deref());
    if !tool_calls.is_empty() {
        finish = FinishReason::ToolCalls;
    }
    let content = if text.is_empty() {
        Vec::new()
    } else {
        vec![ContentPart::text(text)]
    };
    let message = AssistantMessage::default()
        .with_content(content)
        .with_reasoning(reasoning)
        .with_tool_calls(tool_calls);
    let mut response = ChatResponse::new(message, finish);
    response.raw_finish_reason = raw;
    response.usage = v.get("usage").map(usage);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::event_stream::{Header, HeaderValue};

    fn msg(headers: &[(&str, &str)], payload: &str) -> Message {
        let mut m = Message::new(bytes::Bytes::from(payload.to_owned()));
        for (k, v) in headers {
            m = m.add_header(Header::new(
                k.to_string(),
                HeaderValue::String(v.to_string().into()),
            ));
        }
        m
    }

    #[test]
    fn exception_types_map_to_typed_errors() {
        let cases = [
            ("throttlingException", ApiErrorKind::RateLimited),
            ("serviceUnavailableException", ApiErrorKind::Overloaded),
            ("modelStreamErrorException", ApiErrorKind::Server),
            ("internalServerException", ApiErrorKind::Server),
            ("validationException", ApiErrorKind::InvalidRequest),
            ("accessDeniedException", ApiErrorKind::PermissionDenied),
        ];
        for (kind, want) in cases {
            let mut st = BedrockStreamState::new("aws.bedrock");
            let e = st
                .on_message(&msg(
                    &[(":message-type", "exception"), (":exception-type", kind)],
                    r#"{"message":"boom"}"#,
                ))
                .unwrap_err();
            assert_eq!(e.api_kind(), Some(want), "{kind}: {e:?}");
        }
    }

    #[test]
    fn error_messages_and_unknown_message_types() {
        let mut st = BedrockStreamState::new("aws.bedrock");
        let e = st
            .on_message(&msg(
                &[
                    (":message-type", "error"),
                    (":error-code", "InternalServerException"),
                    (":error-message", "oops"),
                ],
                "",
            ))
            .unwrap_err();
        assert!(
            matches!(
                e,
                ProviderError::Api {
                    kind: ApiErrorKind::Server,
                    ..
                }
            ),
            "{e:?}"
        );
        let mut st = BedrockStreamState::new("aws.bedrock");
        assert!(
            st.on_message(&msg(&[(":message-type", "future")], "x"))
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            st.on_message(&msg(
                &[
                    (":message-type", "event"),
                    (":event-type", "contentBlockDelta")
                ],
                "{oops"
            )),
            Err(ProviderError::Decode { .. })
        ));
    }

    #[test]
    fn finish_reason_and_usage_mapping() {
        assert_eq!(
            finish_reason(Some("guardrail_intervened")),
            FinishReason::ContentFilter
        );
        assert_eq!(finish_reason(Some("max_tokens")), FinishReason::Length);
        let u = usage(
            &serde_json::json!({"inputTokens": 3, "outputTokens": 4, "cacheWriteInputTokens": 2}),
        );
        assert_eq!(
            (
                u.input_tokens,
                u.output_tokens,
                u.cache_creation_input_tokens
            ),
            (5, 4, Some(2))
        );
    }
}
