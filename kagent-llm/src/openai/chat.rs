//! Chat Completions wire types, the request body, the response parser and the streaming state
//! machine.

use std::borrow::Cow;
use std::collections::VecDeque;

use kagent_core::ProviderError;
use kagent_core::{
    AssistantMessage, ChatEvent, ChatRequest, ChatResponse, ContentPart, FinishReason, Message,
    Reasoning, ToolArguments, ToolCall, ToolChoice, Usage,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{MaxTokensField, OpenAISettings, SystemRole};
use crate::driver::{End, Flow, StreamMachine};
use crate::framing::SseEvent;
use crate::options::ProviderOptions;
use crate::wire::{finish_reason, json_f32, synthetic_call_id};

/// Maps a Chat Completions `finish_reason`.
pub(crate) fn map_finish(raw: &str) -> FinishReason {
    match raw {
        "stop" | "end_turn" => FinishReason::Stop,
        "length" | "max_tokens" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

pub(crate) fn image_url(media_type: &str, data: &str) -> String {
    format!("data:{media_type};base64,{data}")
}

fn user_content(parts: &[ContentPart]) -> Value {
    let only_text = parts.iter().all(|p| matches!(p, ContentPart::Text { .. }));
    if only_text {
        let mut s = String::new();
        for p in parts {
            if let ContentPart::Text { text } = p {
                s.push_str(text);
            }
        }
        return Value::String(s);
    }
    Value::Array(
        parts
            .iter()
            .filter_map(|p| match p {
                ContentPart::Text { text } => Some(json!({"type": "text", "text": text})),
                ContentPart::Image { media_type, data } => Some(json!({
                    "type": "image_url",
                    "image_url": {"url": image_url(media_type, data)}
                })),
                _ => None,
            })
            .collect(),
    )
}

/// The request body of `POST /chat/completions`.
pub(crate) fn build_body(
    s: &OpenAISettings,
    o: &ProviderOptions,
    req: &ChatRequest,
    model: Option<&str>,
    stream: bool,
) -> Value {
    let sampling = o.sampling(req);
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        let role = match s.system_role {
            SystemRole::System => "system",
            SystemRole::Developer => "developer",
        };
        messages.push(json!({"role": role, "content": system}));
    }
    for m in &req.messages {
        match m {
            Message::User { content } => {
                messages.push(json!({"role": "user", "content": user_content(content)}));
            }
            Message::Assistant(a) => {
                let mut obj = Map::new();
                obj.insert("role".into(), "assistant".into());
                // Always a string, `""` next to tool calls: OpenAI accepts it, and servers
                // that validate `content` as a string (llama-cpp-python: HTTP 500 "Input
                // should be a valid string") reject the `null` the reference also allows.
                obj.insert("content".into(), Value::String(a.text_content()));
                if !a.tool_calls.is_empty() {
                    let calls: Vec<Value> = a
                        .tool_calls
                        .iter()
                        .map(|c| {
                            json!({
                                "id": c.id,
                                "type": "function",
                                "function": {"name": c.name, "arguments": c.arguments.to_json_string()}
                            })
                        })
                        .collect();
                    obj.insert("tool_calls".into(), Value::Array(calls));
                }
                messages.push(Value::Object(obj));
            }
            Message::Tool(r) => {
                messages
                    .push(json!({"role": "tool", "tool_call_id": r.call_id, "content": r.text()}));
            }
            _ => {}
        }
    }
    let mut body = Map::new();
    if let Some(model) = model {
        body.insert("model".into(), model.into());
    }
    body.insert("messages".into(), Value::Array(messages));
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.input_schema}})
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
        let choice = match &req.tool_choice {
            ToolChoice::Auto => None,
            ToolChoice::None => Some(json!("none")),
            ToolChoice::Required => Some(json!("required")),
            ToolChoice::Tool(name) => Some(json!({"type": "function", "function": {"name": name}})),
            // A choice this provider does not know: the model decides (see `ToolChoice`).
            _ => None,
        };
        if let Some(c) = choice {
            body.insert("tool_choice".into(), c);
        }
        if let Some(p) = s.parallel_tool_calls {
            body.insert("parallel_tool_calls".into(), p.into());
        }
    }
    if let Some(max) = sampling.max_output_tokens {
        let field = match s.max_tokens_field {
            MaxTokensField::MaxTokens => "max_tokens",
            MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
        };
        body.insert(field.into(), max.into());
    }
    if let Some(t) = sampling.temperature {
        body.insert("temperature".into(), json_f32(t));
    }
    if let Some(p) = sampling.top_p {
        body.insert("top_p".into(), json_f32(p));
    }
    if let Some(k) = sampling.top_k {
        // Not an OpenAI parameter (OpenAI answers 400); vLLM and llama.cpp read it.
        body.insert("top_k".into(), k.into());
    }
    if !sampling.stop.is_empty() {
        body.insert("stop".into(), json!(sampling.stop));
    }
    if let Some(v) = s.frequency_penalty {
        body.insert("frequency_penalty".into(), json_f32(v));
    }
    if let Some(v) = s.presence_penalty {
        body.insert("presence_penalty".into(), json_f32(v));
    }
    if let Some(v) = s.seed {
        body.insert("seed".into(), v.into());
    }
    if let Some(v) = s.n {
        body.insert("n".into(), v.into());
    }
    if let Some(e) = &s.reasoning_effort {
        body.insert("reasoning_effort".into(), e.as_str().into());
    }
    if stream {
        body.insert("stream".into(), true.into());
        if s.stream_usage {
            body.insert("stream_options".into(), json!({"include_usage": true}));
        }
    }
    Value::Object(body)
}

// ---------------------------------------------------------------- wire types

#[derive(Debug, Deserialize, Default)]
pub(crate) struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Deserialize, Default)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

impl WireUsage {
    pub(crate) fn to_usage(&self) -> Usage {
        let mut usage = Usage::new(self.prompt_tokens, self.completion_tokens);
        usage.cached_input_tokens = self
            .prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens);
        usage.reasoning_tokens = self
            .completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens);
        usage
    }
}

// Borrowed where the value is usually dropped (`id`, `model` repeat on every chunk).
#[derive(Debug, Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    choices: Option<Vec<ChunkChoice<'a>>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ChunkChoice<'a> {
    #[serde(default)]
    index: u32,
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    #[serde(default, borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

// Streamed deltas borrow from the event's data: a text or argument fragment without escapes
// is copied once, into the event that carries it.
#[derive(Debug, Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    refusal: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    reasoning: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    tool_calls: Option<Vec<StreamToolCall<'a>>>,
}

#[derive(Debug, Deserialize)]
struct StreamToolCall<'a> {
    #[serde(default)]
    index: Option<u64>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    function: Option<StreamFunction<'a>>,
}

#[derive(Debug, Deserialize)]
struct StreamFunction<'a> {
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    arguments: Option<ArgumentsField<'a>>,
}

/// A streamed `function.arguments`: a fragment of JSON text (the API's form), or a whole JSON
/// value (some OpenAI-compatible servers send the object itself).
#[derive(Debug)]
enum ArgumentsField<'a> {
    Text(Cow<'a, str>),
    Value(Value),
}

impl<'de: 'a, 'a> Deserialize<'de> for ArgumentsField<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
        use serde::de::{MapAccess, SeqAccess, Visitor};

        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = ArgumentsField<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("tool call arguments: a JSON string or a JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(ArgumentsField::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ArgumentsField::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(ArgumentsField::Text(Cow::Owned(v)))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(ArgumentsField::Value(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(ArgumentsField::Value(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(ArgumentsField::Value(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(ArgumentsField::Value(Value::from(v)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(ArgumentsField::Value(Value::Null))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(MapAccessDeserializer::new(map)).map(ArgumentsField::Value)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(SeqAccessDeserializer::new(seq)).map(ArgumentsField::Value)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A non-streamed tool call.
#[derive(Debug, Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Completion {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<CompletionChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct CompletionChoice {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    message: Option<CompletionMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CompletionMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

/// Arguments as text: a string as it is, an object/array serialized (some servers send
/// objects), anything else empty.
fn arguments_text(v: Option<Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn finish_call(id: String, synthetic: bool, name: String, args: &str) -> ToolCall {
    let mut call = ToolCall::new(id, name, ToolArguments::parse(args));
    call.provider_data = synthetic.then(|| json!({"synthetic_id": true}));
    call
}

/// Parses a non-streamed completion.
pub(crate) fn parse_completion(c: Completion) -> ChatResponse {
    let choice = c.choices.into_iter().find(|ch| ch.index == 0);
    let (message, raw) = match choice {
        Some(ch) => (ch.message, ch.finish_reason.filter(|r| !r.is_empty())),
        None => (None, None),
    };
    let mut msg = AssistantMessage::default();
    if let Some(m) = message {
        let mut text = m.content.unwrap_or_default();
        if let Some(r) = m.refusal {
            text.push_str(&r);
        }
        if !text.is_empty() {
            msg.content.push(ContentPart::text(text));
        }
        if let Some(r) = m
            .reasoning_content
            .or(m.reasoning)
            .filter(|r| !r.is_empty())
        {
            msg.reasoning.push(Reasoning::new(r));
        }
        for call in m.tool_calls.unwrap_or_default() {
            let (name, args) = match call.function {
                Some(f) => (f.name.unwrap_or_default(), arguments_text(f.arguments)),
                None => (String::new(), None),
            };
            let id = call.id.filter(|i| !i.is_empty());
            let synthetic = id.is_none();
            msg.tool_calls.push(finish_call(
                id.unwrap_or_else(synthetic_call_id),
                synthetic,
                name,
                args.as_deref().unwrap_or(""),
            ));
        }
    }
    let reason = finish_reason(raw.as_deref(), !msg.tool_calls.is_empty(), map_finish);
    let mut response = ChatResponse::new(msg, reason);
    response.raw_finish_reason = raw;
    response.usage = c.usage.map(|u| u.to_usage());
    response.model = c.model;
    response.id = c.id.filter(|i| !i.is_empty());
    response
}

// ---------------------------------------------------------------- stream machine

#[derive(Debug)]
struct CallAcc {
    wire_index: Option<u64>,
    id: String,
    synthetic: bool,
    name: String,
    args: String,
}

/// What a stream needs to count its tokens when the server reports no usage: the request
/// body (for the prompt) and the answer's text so far.
#[derive(Debug)]
pub(crate) struct UsageEstimate {
    model: String,
    body: Value,
    output: String,
}

impl UsageEstimate {
    /// Counts for `model`'s answer to the request `body`.
    pub(crate) fn new(model: &str, body: Value) -> Self {
        UsageEstimate {
            model: model.to_owned(),
            body,
            output: String::new(),
        }
    }
}

/// The Chat Completions stream state machine (see PROVIDER-WIRE.md §O).
#[derive(Debug)]
pub(crate) struct ChatStreamMachine {
    provider: String,
    calls: Vec<CallAcc>,
    finish_raw: Option<String>,
    calls_done: bool,
    usage: Option<Usage>,
    meta_sent: bool,
    estimate: Option<UsageEstimate>,
}

impl ChatStreamMachine {
    /// A machine for one response.
    pub(crate) fn new(provider: &str) -> Self {
        ChatStreamMachine {
            provider: provider.to_owned(),
            calls: Vec::new(),
            finish_raw: None,
            calls_done: false,
            usage: None,
            meta_sent: false,
            estimate: None,
        }
    }

    /// Counts the tokens locally, marked estimated, when the stream ends without usage.
    pub(crate) fn with_estimate(mut self, estimate: UsageEstimate) -> Self {
        self.estimate = Some(estimate);
        self
    }

    fn note_output(&mut self, text: &str) {
        if let Some(e) = &mut self.estimate {
            e.output.push_str(text);
        }
    }

    fn slot_for(&mut self, d: &StreamToolCall<'_>, out: &mut VecDeque<ChatEvent>) -> usize {
        let new_id = d.id.as_deref().filter(|i| !i.is_empty());
        let existing = match d.index {
            Some(i) => self
                .calls
                .iter()
                .rposition(|c| c.wire_index == Some(i))
                // Reused index with a new non-empty id: a new call (vLLM, gateways).
                .filter(|&p| {
                    new_id.is_none_or(|id| {
                        self.calls.get(p).is_some_and(|c| c.id == id || c.synthetic)
                    })
                }),
            None => match new_id {
                Some(id) => self.calls.iter().rposition(|c| c.id == id),
                // No index, no id: a continuation of the last call.
                None => self.calls.len().checked_sub(1),
            },
        };
        if let Some(p) = existing {
            if let (Some(id), Some(c)) = (new_id, self.calls.get_mut(p))
                && c.synthetic
            {
                c.id = id.to_owned();
                c.synthetic = false;
            }
            return p;
        }
        let (id, synthetic) = match new_id {
            Some(id) => (id.to_owned(), false),
            None => (synthetic_call_id(), true),
        };
        let name = d
            .function
            .as_ref()
            .and_then(|f| f.name.as_deref())
            .unwrap_or_default()
            .to_owned();
        let position = self.calls.len();
        out.push_back(ChatEvent::ToolCallStart {
            index: position,
            id: id.clone(),
            name: name.clone(),
        });
        self.calls.push(CallAcc {
            wire_index: d.index,
            id,
            synthetic,
            name,
            args: String::new(),
        });
        position
    }

    fn on_tool_delta(&mut self, d: StreamToolCall<'_>, out: &mut VecDeque<ChatEvent>) {
        let position = self.slot_for(&d, out);
        let Some(call) = self.calls.get_mut(position) else {
            return;
        };
        if let Some(f) = d.function {
            if let Some(name) = f.name.filter(|n| !n.is_empty()) {
                // Names come whole; a repeated name is not concatenated.
                if call.name.is_empty() {
                    call.name = name.into_owned();
                }
            }
            match f.arguments {
                Some(ArgumentsField::Text(s)) => {
                    if !s.is_empty() {
                        call.args.push_str(&s);
                        out.push_back(ChatEvent::ToolCallDelta {
                            index: position,
                            arguments: s.into_owned(),
                        });
                    }
                }
                Some(ArgumentsField::Value(Value::Null)) | None => {}
                // Arguments sent as an object: take it whole.
                Some(ArgumentsField::Value(other)) => call.args = other.to_string(),
            }
        }
    }

    fn complete_calls(&mut self, out: &mut VecDeque<ChatEvent>) {
        if self.calls_done {
            return;
        }
        self.calls_done = true;
        for (index, c) in self.calls.iter_mut().enumerate() {
            if let Some(e) = &mut self.estimate {
                e.output.push_str(&c.name);
                e.output.push_str(&c.args);
            }
            let call = finish_call(
                std::mem::take(&mut c.id),
                c.synthetic,
                std::mem::take(&mut c.name),
                &c.args,
            );
            out.push_back(ChatEvent::ToolCallDone { index, call });
        }
    }

    fn on_chunk(
        &mut self,
        chunk: Chunk<'_>,
        out: &mut VecDeque<ChatEvent>,
    ) -> Result<(), ProviderError> {
        if let Some(err) = chunk.error {
            let wrapped = json!({"error": err});
            return Err(crate::error::from_in_band(&self.provider, &wrapped));
        }
        if !self.meta_sent {
            let id = chunk.id.filter(|i| !i.is_empty()).map(Cow::into_owned);
            let model = chunk.model.filter(|m| !m.is_empty()).map(Cow::into_owned);
            if id.is_some() || model.is_some() {
                self.meta_sent = true;
                out.push_back(ChatEvent::ResponseMetadata { id, model });
            }
        }
        if let Some(u) = chunk.usage {
            self.usage = Some(u.to_usage());
        }
        for choice in chunk.choices.unwrap_or_default() {
            // n > 1: only the first choice is used.
            if choice.index != 0 {
                continue;
            }
            if let Some(delta) = choice.delta {
                if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                    self.note_output(&text);
                    out.push_back(ChatEvent::TextDelta {
                        text: text.into_owned(),
                    });
                }
                if let Some(text) = delta.refusal.filter(|t| !t.is_empty()) {
                    self.note_output(&text);
                    out.push_back(ChatEvent::TextDelta {
                        text: text.into_owned(),
                    });
                }
                if let Some(text) = delta
                    .reasoning_content
                    .or(delta.reasoning)
                    .filter(|t| !t.is_empty())
                {
                    self.note_output(&text);
                    out.push_back(ChatEvent::ReasoningDelta {
                        text: text.into_owned(),
                    });
                }
                for d in delta.tool_calls.unwrap_or_default() {
                    self.on_tool_delta(d, out);
                }
            }
            if let Some(raw) = choice.finish_reason.filter(|r| !r.is_empty()) {
                self.finish_raw = Some(raw.into_owned());
                self.complete_calls(out);
            }
        }
        Ok(())
    }

    fn on_done(&mut self, out: &mut VecDeque<ChatEvent>) {
        self.complete_calls(out);
        let usage = self.usage.or_else(|| {
            self.estimate.take().map(|e| {
                crate::estimate::usage(
                    crate::estimate::chat_body_input(&e.model, &e.body),
                    crate::estimate::count_text(&e.model, &e.output),
                )
            })
        });
        if let Some(usage) = usage {
            out.push_back(ChatEvent::Usage { usage });
        }
        let reason = finish_reason(
            self.finish_raw.as_deref(),
            !self.calls.is_empty(),
            map_finish,
        );
        out.push_back(ChatEvent::Finish {
            reason,
            raw: self.finish_raw.take(),
        });
    }
}

impl StreamMachine<SseEvent> for ChatStreamMachine {
    fn feed(
        &mut self,
        frame: SseEvent,
        out: &mut VecDeque<ChatEvent>,
    ) -> Result<Flow, ProviderError> {
        let data = frame.data().trim();
        if data.is_empty() {
            return Ok(Flow::Continue);
        }
        if data == "[DONE]" {
            self.on_done(out);
            return Ok(Flow::Done);
        }
        if frame.event() == "error" {
            let v: Value = serde_json::from_str(data).unwrap_or_else(|_| json!({"error": data}));
            return Err(crate::error::from_in_band(&self.provider, &v));
        }
        let chunk: Chunk<'_> = serde_json::from_str(data).map_err(|e| {
            ProviderError::decode(
                self.provider.clone(),
                format!("invalid chat completion chunk: {e}"),
                Some(Box::new(e)),
            )
        })?;
        self.on_chunk(chunk, out)?;
        Ok(Flow::Continue)
    }

    fn end(&mut self, _out: &mut VecDeque<ChatEvent>) -> Result<End, ProviderError> {
        Ok(End::Truncated(if self.finish_raw.is_some() {
            "stream closed after finish_reason but before data: [DONE]".into()
        } else {
            "stream closed before finish_reason and data: [DONE]".into()
        }))
    }
}
