//! The Gemini stream state machine: `streamGenerateContent?alt=sse` chunks in, [`ChatEvent`]s
//! out. A non-streamed `generateContent` answer is the same object, fed as one chunk.
//!
//! Gemini has no terminal event: a stream is complete when the connection closes after a
//! candidate with a `finishReason`. The `Finish` event is therefore produced at the end of the
//! input ([`StreamMachine::end`]), after any late usage chunk.

use std::collections::VecDeque;

use kagent_core::{
    ApiErrorDetails, ApiErrorKind, ChatEvent, FinishReason, ProviderError, Reasoning,
    ToolArguments, ToolCall, Usage,
};
use serde_json::{Map, Value, json};

use super::wire::{FunctionCall, GenerateContentResponse, PartialArg, UsageMetadata};
use super::{ReplayData, SYNTHETIC_ID_PREFIX};
use crate::driver::{End, Flow, StreamMachine};
use crate::framing::SseEvent;

/// A function call whose arguments are still streaming (`willContinue: true`).
#[derive(Debug)]
struct PendingCall {
    position: usize,
    id: String,
    synthetic: bool,
    name: String,
    args: Value,
    /// String fragments per `jsonPath`, concatenated while `willContinue` is set.
    strings: Vec<(String, String)>,
    signature: Option<String>,
}

/// Assembles one Gemini response.
#[derive(Debug)]
pub(crate) struct GeminiStreamState {
    provider: String,
    id_prefix: String,
    calls: usize,
    pending: Option<PendingCall>,
    thought_text: String,
    thought_signature: Option<String>,
    text_signature: Option<String>,
    finish: Option<String>,
    blocked: Option<(String, Option<String>)>,
    metadata_sent: bool,
    chunks: usize,
}

impl GeminiStreamState {
    /// A fresh state. Synthetic call ids are `{SYNTHETIC_ID_PREFIX}{id_nonce}_{n}`.
    pub(crate) fn new(provider: impl Into<String>, id_nonce: &str) -> Self {
        GeminiStreamState {
            provider: provider.into(),
            id_prefix: format!("{SYNTHETIC_ID_PREFIX}{id_nonce}_"),
            calls: 0,
            pending: None,
            thought_text: String::new(),
            thought_signature: None,
            text_signature: None,
            finish: None,
            blocked: None,
            metadata_sent: false,
            chunks: 0,
        }
    }

    /// Feeds one chunk (an SSE `data:` payload). A chunk that is an error object (raw or
    /// array-wrapped) becomes its typed error.
    pub(crate) fn on_chunk(
        &mut self,
        data: &str,
        out: &mut VecDeque<ChatEvent>,
    ) -> Result<(), ProviderError> {
        let data = data.trim();
        if data.is_empty() {
            return Ok(());
        }
        let value: Value = serde_json::from_str(data).map_err(|e| {
            ProviderError::decode(
                self.provider.clone(),
                format!("invalid Gemini chunk: {e}"),
                Some(Box::new(e)),
            )
        })?;
        self.on_value(value, out)
    }

    /// Feeds one parsed chunk (or a whole `generateContent` body).
    pub(crate) fn on_value(
        &mut self,
        value: Value,
        out: &mut VecDeque<ChatEvent>,
    ) -> Result<(), ProviderError> {
        let items = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        for item in items {
            if item.get("error").is_some() {
                return Err(crate::vertex::google_rate_limit(
                    crate::error::from_in_band(&self.provider, &item),
                ));
            }
            let chunk: GenerateContentResponse = serde_json::from_value(item).map_err(|e| {
                ProviderError::decode(
                    self.provider.clone(),
                    format!("invalid Gemini chunk: {e}"),
                    Some(Box::new(e)),
                )
            })?;
            self.on_response(chunk, out);
        }
        Ok(())
    }

    fn on_response(&mut self, chunk: GenerateContentResponse, out: &mut VecDeque<ChatEvent>) {
        self.chunks += 1;
        if !self.metadata_sent && (chunk.response_id.is_some() || chunk.model_version.is_some()) {
            self.metadata_sent = true;
            out.push_back(ChatEvent::ResponseMetadata {
                id: chunk.response_id.clone(),
                model: chunk.model_version.clone(),
            });
        }
        if chunk.candidates.is_empty()
            && let Some(reason) = chunk
                .prompt_feedback
                .and_then(|f| f.block_reason.map(|r| (r, f.block_reason_message.clone())))
        {
            self.blocked = Some(reason);
        }
        // We ask for one candidate; take index 0 (or the first).
        let candidate = chunk
            .candidates
            .into_iter()
            .find(|c| c.index.unwrap_or(0) == 0);
        if let Some(candidate) = candidate {
            if let Some(content) = candidate.content {
                for part in content.parts {
                    if let Some(fc) = part.function_call {
                        self.on_function_call(fc, part.thought_signature, out);
                        continue;
                    }
                    if let Some(text) = part.text {
                        if part.thought == Some(true) {
                            if !text.is_empty() {
                                self.thought_text.push_str(&text);
                                out.push_back(ChatEvent::ReasoningDelta { text });
                            }
                            if part.thought_signature.is_some() {
                                self.thought_signature = part.thought_signature;
                            }
                        } else {
                            if !text.is_empty() {
                                out.push_back(ChatEvent::TextDelta { text });
                            }
                            if part.thought_signature.is_some() {
                                self.text_signature = part.thought_signature;
                            }
                        }
                    } else if part.thought_signature.is_some() {
                        // A signature on an otherwise empty part: keep it with the text.
                        self.text_signature = part.thought_signature;
                    }
                }
            }
            if let Some(reason) = candidate.finish_reason {
                if let Some(msg) = &candidate.finish_message {
                    tracing::debug!(finish_reason = %reason, finish_message = %msg, "Gemini finish message");
                }
                self.finish = Some(reason);
            }
        }
        if let Some(u) = chunk.usage_metadata {
            out.push_back(ChatEvent::Usage {
                usage: to_usage(&u),
            });
        }
    }

    fn on_function_call(
        &mut self,
        fc: FunctionCall,
        signature: Option<String>,
        out: &mut VecDeque<ChatEvent>,
    ) {
        let streaming = fc.will_continue == Some(true) || !fc.partial_args.is_empty();
        if !streaming && self.pending.is_none() {
            // A whole call in one part (the normal case).
            let (id, synthetic) = self.call_id(fc.id);
            let position = self.calls;
            self.calls += 1;
            let name = fc.name.unwrap_or_default();
            out.push_back(ChatEvent::ToolCallStart {
                index: position,
                id: id.clone(),
                name: name.clone(),
            });
            out.push_back(ChatEvent::ToolCallDone {
                index: position,
                call: {
                    let mut call = ToolCall::new(
                        id,
                        name,
                        match fc.args {
                            Some(Value::Null) | None => json!({}),
                            Some(v) => v,
                        },
                    );
                    call.provider_data = ReplayData {
                        synthetic_id: synthetic,
                        thought_signature: signature,
                    }
                    .to_value();
                    call
                },
            });
            return;
        }
        // Streamed arguments (Vertex AI `streamFunctionCallArguments`). The exact chunking is
        // not verified against a live endpoint here; this follows the documented
        // `FunctionCall.partialArgs` / `PartialArg.{jsonPath, *Value, willContinue}` shape.
        if self.pending.is_none() {
            let (id, synthetic) = self.call_id(fc.id.clone());
            let position = self.calls;
            self.calls += 1;
            let name = fc.name.clone().unwrap_or_default();
            out.push_back(ChatEvent::ToolCallStart {
                index: position,
                id: id.clone(),
                name: name.clone(),
            });
            self.pending = Some(PendingCall {
                position,
                id,
                synthetic,
                name,
                args: match &fc.args {
                    Some(v @ Value::Object(_)) => v.clone(),
                    _ => Value::Object(Map::new()),
                },
                strings: Vec::new(),
                signature: None,
            });
        }
        if let Some(p) = self.pending.as_mut() {
            if p.name.is_empty()
                && let Some(n) = &fc.name
            {
                p.name.clone_from(n);
            }
            if signature.is_some() {
                p.signature = signature;
            }
            for arg in &fc.partial_args {
                apply_partial(p, arg);
            }
        }
        if fc.will_continue != Some(true)
            && let Some(p) = self.pending.take()
        {
            out.push_back(ChatEvent::ToolCallDone {
                index: p.position,
                call: {
                    let mut call = ToolCall::new(p.id, p.name, p.args);
                    call.provider_data = ReplayData {
                        synthetic_id: p.synthetic,
                        thought_signature: p.signature,
                    }
                    .to_value();
                    call
                },
            });
        }
    }

    fn call_id(&self, id: Option<String>) -> (String, bool) {
        match id.filter(|i| !i.is_empty()) {
            Some(id) => (id, false),
            None => (format!("{}{}", self.id_prefix, self.calls), true),
        }
    }

    /// The body ended. Pushes the closing events (kept reasoning, `Finish`); without any
    /// `finishReason` the answer is truncated (a call whose arguments were still streaming is
    /// pushed as malformed first, so the partial answer shows it). A prompt blocked by
    /// `promptFeedback.blockReason` is [`ApiErrorKind::ContentFiltered`].
    fn on_end(&mut self, out: &mut VecDeque<ChatEvent>) -> Result<End, ProviderError> {
        if let Some((reason, message)) = self.blocked.take()
            && self.finish.is_none()
        {
            return Err(ProviderError::api(
                self.provider.clone(),
                ApiErrorKind::ContentFiltered,
                ApiErrorDetails::new(
                    message.unwrap_or_else(|| format!("prompt blocked ({reason})")),
                )
                .with_error_type(reason),
            ));
        }
        let Some(raw) = self.finish.clone() else {
            if let Some(p) = self.pending.take() {
                out.push_back(ChatEvent::ToolCallDone {
                    index: p.position,
                    call: ToolCall::new(
                        p.id,
                        p.name,
                        ToolArguments::Malformed {
                            raw: p.args.to_string(),
                            error: "streamed arguments never completed".into(),
                        },
                    ),
                });
            }
            return Ok(End::Truncated(if self.chunks == 0 {
                "the stream closed before any chunk".into()
            } else {
                "the stream closed before a candidate with `finishReason`".into()
            }));
        };
        if let Some(p) = self.pending.take() {
            out.push_back(ChatEvent::ToolCallDone {
                index: p.position,
                call: ToolCall::new(
                    p.id,
                    p.name,
                    ToolArguments::Malformed {
                        raw: p.args.to_string(),
                        error: format!("streamed arguments cut off ({raw})"),
                    },
                ),
            });
        }
        if !self.thought_text.is_empty() || self.thought_signature.is_some() {
            out.push_back(ChatEvent::ReasoningDone {
                reasoning: {
                    let mut r = Reasoning::new(std::mem::take(&mut self.thought_text))
                        .with_provider_data(json!({"gemini": {"kind": "thought"}}));
                    r.signature = self.thought_signature.take();
                    r
                },
            });
        }
        if let Some(sig) = self.text_signature.take() {
            out.push_back(ChatEvent::ReasoningDone {
                reasoning: Reasoning::default()
                    .with_signature(sig)
                    .with_provider_data(json!({"gemini": {"kind": "text_signature"}})),
            });
        }
        out.push_back(ChatEvent::Finish {
            reason: finish_reason(&raw),
            raw: Some(raw),
        });
        Ok(End::Complete)
    }
}

impl StreamMachine<SseEvent> for GeminiStreamState {
    fn feed(&mut self, ev: SseEvent, out: &mut VecDeque<ChatEvent>) -> Result<Flow, ProviderError> {
        self.on_chunk(ev.data(), out).map(|()| Flow::Continue)
    }

    fn end(&mut self, out: &mut VecDeque<ChatEvent>) -> Result<End, ProviderError> {
        self.on_end(out)
    }
}

/// A whole `generateContent` answer, fed as one frame.
impl StreamMachine<Value> for GeminiStreamState {
    fn feed(&mut self, v: Value, out: &mut VecDeque<ChatEvent>) -> Result<Flow, ProviderError> {
        self.on_value(v, out).map(|()| Flow::Continue)
    }

    fn end(&mut self, out: &mut VecDeque<ChatEvent>) -> Result<End, ProviderError> {
        self.on_end(out)
    }
}

fn apply_partial(p: &mut PendingCall, arg: &PartialArg) {
    let value = if let Some(s) = &arg.string_value {
        let slot = match p
            .strings
            .iter_mut()
            .find(|(path, _)| path == &arg.json_path)
        {
            Some((_, acc)) => {
                acc.push_str(s);
                acc.clone()
            }
            None => {
                p.strings.push((arg.json_path.clone(), s.clone()));
                s.clone()
            }
        };
        Value::String(slot)
    } else if let Some(n) = arg.number_value {
        serde_json::Number::from_f64(n)
            .map(|n| {
                // Integers stay integers.
                if n.as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                {
                    #[allow(clippy::cast_possible_truncation)]
                    Value::from(n.as_f64().unwrap_or_default() as i64)
                } else {
                    Value::Number(n)
                }
            })
            .unwrap_or(Value::Null)
    } else if let Some(b) = arg.bool_value {
        Value::Bool(b)
    } else {
        Value::Null
    };
    set_json_path(&mut p.args, &arg.json_path, value);
}

/// Sets `value` at an RFC 9535 normalized path such as `$.a.b[0]['c']`, creating objects and
/// arrays on the way. Array indices are capped so that a bad path cannot allocate much.
pub(crate) fn set_json_path(root: &mut Value, path: &str, value: Value) {
    enum Seg {
        Key(String),
        Index(usize),
    }
    let mut segs = Vec::new();
    let mut rest = path.strip_prefix('$').unwrap_or(path);
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let (key, tail) = r.split_at(end);
            segs.push(Seg::Key(key.to_owned()));
            rest = tail;
        } else if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else { return };
            let (inner, tail) = r.split_at(end);
            rest = tail.get(1..).unwrap_or_default();
            let inner = inner.trim();
            if let Some(q) = inner
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
            {
                segs.push(Seg::Key(q.to_owned()));
            } else if let Ok(i) = inner.parse::<usize>() {
                if i > 4096 {
                    return;
                }
                segs.push(Seg::Index(i));
            } else {
                return;
            }
        } else {
            return;
        }
    }
    let mut cur = root;
    for seg in segs {
        cur = match seg {
            Seg::Key(k) => {
                if !cur.is_object() {
                    *cur = Value::Object(Map::new());
                }
                match cur.as_object_mut() {
                    Some(o) => o.entry(k).or_insert(Value::Null),
                    None => return,
                }
            }
            Seg::Index(i) => {
                if !cur.is_array() {
                    *cur = Value::Array(Vec::new());
                }
                match cur.as_array_mut() {
                    Some(a) => {
                        if a.len() <= i {
                            a.resize(i + 1, Value::Null);
                        }
                        match a.get_mut(i) {
                            Some(v) => v,
                            None => return,
                        }
                    }
                    None => return,
                }
            }
        };
    }
    *cur = value;
}

/// Cumulative usage: `thoughtsTokenCount` counts as output.
pub(crate) fn to_usage(u: &UsageMetadata) -> Usage {
    let thoughts = u.thoughts_token_count;
    let mut usage = Usage::new(
        u.prompt_token_count
            .unwrap_or(0)
            .saturating_add(u.tool_use_prompt_token_count.unwrap_or(0)),
        u.candidates_token_count
            .unwrap_or(0)
            .saturating_add(thoughts.unwrap_or(0)),
    );
    usage.cached_input_tokens = u.cached_content_token_count;
    usage.reasoning_tokens = thoughts;
    usage
}

/// Maps `finishReason`. `STOP` with function calls becomes a tool turn in the assembler.
pub(crate) fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT" => FinishReason::ContentFilter,
        // MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, LANGUAGE, OTHER, ...
        other => FinishReason::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_chunk(st: &mut GeminiStreamState, data: &str) -> Result<Vec<ChatEvent>, ProviderError> {
        let mut out = VecDeque::new();
        st.on_chunk(data, &mut out)?;
        Ok(out.into())
    }

    fn finish(st: &mut GeminiStreamState) -> Result<Vec<ChatEvent>, ProviderError> {
        let mut out = VecDeque::new();
        match st.on_end(&mut out)? {
            End::Complete => Ok(out.into()),
            End::Truncated(reason) => panic!("truncated: {reason}"),
        }
    }

    #[test]
    fn json_paths_build_nested_values() {
        let mut v = json!({});
        set_json_path(&mut v, "$.a.b", json!(1));
        set_json_path(&mut v, "$.list[2]", json!("x"));
        set_json_path(&mut v, "$['odd.key'][0].c", json!(true));
        set_json_path(&mut v, "$[\"q\"]", json!(null));
        assert_eq!(
            v,
            json!({"a": {"b": 1}, "list": [null, null, "x"], "odd.key": [{"c": true}], "q": null})
        );
        // Bad paths and huge indices change nothing.
        let before = v.clone();
        set_json_path(&mut v, "$.list[999999]", json!(1));
        set_json_path(&mut v, "$.a[", json!(1));
        set_json_path(&mut v, "$.a[x]", json!(1));
        assert_eq!(v, before);
    }

    #[test]
    fn array_wrapped_chunks_are_all_processed() {
        let mut st = GeminiStreamState::new("gcp.gemini", "n");
        let out = on_chunk(
            &mut st,
            r#"[{"candidates":[{"content":{"parts":[{"text":"a"}]}}]},{"candidates":[{"content":{"parts":[{"text":"b"}]},"finishReason":"STOP"}]}]"#,
        )
        .unwrap();
        let text: String = out
            .iter()
            .filter_map(|e| match e {
                ChatEvent::TextDelta { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "ab");
        assert!(matches!(
            finish(&mut st).unwrap().last(),
            Some(ChatEvent::Finish { .. })
        ));
    }

    #[test]
    fn unfinished_streamed_arguments_are_malformed() {
        let mut st = GeminiStreamState::new("gcp.gemini", "n");
        on_chunk(&mut st, r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","partialArgs":[{"jsonPath":"$.a","stringValue":"x","willContinue":true}],"willContinue":true}}]},"finishReason":"MAX_TOKENS"}]}"#)
            .unwrap();
        let out = finish(&mut st).unwrap();
        assert!(out.iter().any(|e| matches!(
            e,
            ChatEvent::ToolCallDone {
                call: ToolCall {
                    arguments: ToolArguments::Malformed { .. },
                    ..
                },
                ..
            }
        )));
    }

    #[test]
    fn a_stream_cut_while_arguments_stream_keeps_the_call_once_as_malformed() {
        let chunk: Value = serde_json::from_str(r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","partialArgs":[{"jsonPath":"$.a","stringValue":"x","willContinue":true}],"willContinue":true}}]}}]}"#).unwrap();
        match crate::driver::run_to_end(
            "gcp.gemini",
            [chunk],
            GeminiStreamState::new("gcp.gemini", "n"),
        ) {
            Err(ProviderError::TruncatedStream { partial, .. }) => {
                assert_eq!(partial.message.tool_calls.len(), 1, "{partial:?}");
                assert!(matches!(
                    partial.message.tool_calls[0].arguments,
                    ToolArguments::Malformed { .. }
                ));
            }
            other => panic!("expected truncation, got {other:?}"),
        }
    }

    #[test]
    fn invalid_chunk_json_is_a_decode_error() {
        let mut st = GeminiStreamState::new("gcp.gemini", "n");
        assert!(matches!(
            on_chunk(&mut st, "{\"candidates\": ["),
            Err(ProviderError::Decode { .. })
        ));
        assert!(on_chunk(&mut st, "   ").unwrap().is_empty());
    }
}
