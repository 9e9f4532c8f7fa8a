//! OpenAI Responses API: request body, response parser and streaming state machine
//! (see PROVIDER-WIRE.md §R).

use std::collections::VecDeque;

use kagent_core::{
    AssistantMessage, ChatEvent, ChatRequest, ChatResponse, ContentPart, FinishReason, Message,
    ProviderError, Reasoning, ToolArguments, ToolCall, ToolChoice, Usage,
};
use serde_json::{Map, Value, json};

use super::OpenAISettings;
use super::chat::image_url;
use crate::driver::{End, Flow, StreamMachine};
use crate::framing::SseEvent;
use crate::options::ProviderOptions;
use crate::wire::json_f32;

fn user_content(parts: &[ContentPart]) -> Value {
    Value::Array(
        parts
            .iter()
            .filter_map(|p| match p {
                ContentPart::Text { text } => Some(json!({"type": "input_text", "text": text})),
                ContentPart::Image { media_type, data } => Some(json!({
                    "type": "input_image", "image_url": image_url(media_type, data)})),
                _ => None,
            })
            .collect(),
    )
}

/// The request body of `POST /responses`.
pub(crate) fn build_body(
    s: &OpenAISettings,
    o: &ProviderOptions,
    req: &ChatRequest,
    model: &str,
    stream: bool,
) -> Value {
    let sampling = o.sampling(req);
    let mut input = Vec::new();
    for m in &req.messages {
        match m {
            Message::User { content } => {
                input.push(json!({"role": "user", "content": user_content(content)}));
            }
            Message::Assistant(a) => {
                // Reasoning items first, replayed verbatim.
                for r in &a.reasoning {
                    if let Some(item) = &r.provider_data
                        && item.get("type").and_then(Value::as_str) == Some("reasoning")
                    {
                        input.push(item.clone());
                    }
                }
                let text = a.text_content();
                if !text.is_empty() {
                    input.push(json!({"role": "assistant", "content": text}));
                }
                for c in &a.tool_calls {
                    input.push(json!({
                        "type": "function_call",
                        "call_id": c.id,
                        "name": c.name,
                        "arguments": c.arguments.to_json_string(),
                    }));
                }
            }
            Message::Tool(r) => {
                input.push(json!({"type": "function_call_output", "call_id": r.call_id, "output": r.text()}));
            }
            _ => {}
        }
    }
    let mut body = Map::new();
    body.insert("model".into(), model.into());
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        body.insert("instructions".into(), system.into());
    }
    body.insert("input".into(), Value::Array(input));
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function", "name": t.name, "description": t.description,
                       "parameters": t.input_schema, "strict": false})
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
        let choice = match &req.tool_choice {
            ToolChoice::Auto => None,
            ToolChoice::None => Some(json!("none")),
            ToolChoice::Required => Some(json!("required")),
            ToolChoice::Tool(name) => Some(json!({"type": "function", "name": name})),
            // A choice this provider does not know: the model decides (see `ToolChoice`).
            _ => None,
        };
        if let Some(c) = choice {
            body.insert("tool_choice".into(), c);
        }
    }
    if let Some(max) = sampling.max_output_tokens {
        body.insert("max_output_tokens".into(), max.into());
    }
    if let Some(t) = sampling.temperature {
        body.insert("temperature".into(), json_f32(t));
    }
    if let Some(p) = sampling.top_p {
        body.insert("top_p".into(), json_f32(p));
    }
    if let Some(k) = sampling.top_k {
        body.insert("top_k".into(), k.into());
    }
    // The Responses API has no stop sequences: neither the request's nor the defaults are sent.
    if let Some(e) = s.reasoning_effort.as_deref() {
        body.insert("reasoning".into(), json!({"effort": e}));
        if e != "none" {
            // Stateless replay of reasoning needs the encrypted content.
            body.insert("include".into(), json!(["reasoning.encrypted_content"]));
        }
    }
    // The conversation is sent whole every time; nothing needs to be stored server-side.
    body.insert("store".into(), false.into());
    if stream {
        body.insert("stream".into(), true.into());
    }
    Value::Object(body)
}

fn usage_of(v: &Value) -> Option<Usage> {
    let u = v.get("usage").filter(|u| u.is_object())?;
    let n = |p: &str| u.pointer(p).and_then(Value::as_u64);
    let mut usage = Usage::new(
        n("/input_tokens").unwrap_or(0),
        n("/output_tokens").unwrap_or(0),
    );
    usage.cached_input_tokens = n("/input_tokens_details/cached_tokens");
    usage.reasoning_tokens = n("/output_tokens_details/reasoning_tokens");
    Some(usage)
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn reasoning_of(item: &Value) -> Reasoning {
    let mut text = String::new();
    for key in ["summary", "content"] {
        if let Some(parts) = item.get(key).and_then(Value::as_array) {
            for p in parts {
                if let Some(t) = str_of(p, "text") {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(t);
                }
            }
        }
    }
    let mut reasoning = Reasoning::new(text).with_provider_data(item.clone());
    reasoning.redacted = str_of(item, "encrypted_content").map(str::to_owned);
    reasoning
}

fn call_of(item: &Value, args_override: Option<&str>) -> ToolCall {
    let call_id = str_of(item, "call_id")
        .filter(|s| !s.is_empty())
        .or_else(|| str_of(item, "id"))
        .unwrap_or_default()
        .to_owned();
    let args = args_override
        .or_else(|| str_of(item, "arguments"))
        .unwrap_or("");
    let name = str_of(item, "name").unwrap_or_default().to_owned();
    let mut call = ToolCall::new(call_id, name, ToolArguments::parse(args));
    call.provider_data = str_of(item, "id").map(|id| json!({"item_id": id}));
    call
}

fn finish_of(response: &Value, has_calls: bool) -> (FinishReason, Option<String>) {
    let status = str_of(response, "status").unwrap_or("completed");
    let incomplete = response
        .pointer("/incomplete_details/reason")
        .and_then(Value::as_str);
    let raw = incomplete.unwrap_or(status).to_owned();
    let reason = if has_calls {
        FinishReason::ToolCalls
    } else {
        match (status, incomplete) {
            (_, Some("max_output_tokens")) => FinishReason::Length,
            (_, Some("content_filter")) => FinishReason::ContentFilter,
            ("completed", _) => FinishReason::Stop,
            _ => FinishReason::Other(raw.clone()),
        }
    };
    (reason, Some(raw))
}

/// Parses a non-streamed response object.
pub(crate) fn parse_response(provider: &str, v: &Value) -> Result<ChatResponse, ProviderError> {
    if str_of(v, "status") == Some("failed") {
        let err = v.get("error").cloned().unwrap_or(Value::Null);
        return Err(crate::error::from_in_band(provider, &json!({"error": err})));
    }
    let mut msg = AssistantMessage::default();
    let mut text = String::new();
    for item in v
        .get("output")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match str_of(item, "type") {
            Some("message") => {
                for part in item
                    .get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    match str_of(part, "type") {
                        Some("output_text") => text.push_str(str_of(part, "text").unwrap_or("")),
                        Some("refusal") => text.push_str(str_of(part, "refusal").unwrap_or("")),
                        _ => {}
                    }
                }
            }
            Some("function_call") => msg.tool_calls.push(call_of(item, None)),
            Some("reasoning") => msg.reasoning.push(reasoning_of(item)),
            _ => {}
        }
    }
    if !text.is_empty() {
        msg.content.push(ContentPart::text(text));
    }
    let (reason, raw) = finish_of(v, !msg.tool_calls.is_empty());
    let mut response = ChatResponse::new(msg, reason);
    response.raw_finish_reason = raw;
    response.usage = usage_of(v);
    response.model = str_of(v, "model").map(str::to_owned);
    response.id = str_of(v, "id").map(str::to_owned);
    Ok(response)
}

#[derive(Debug)]
struct CallAcc {
    item_id: String,
    output_index: Option<u64>,
    position: usize,
    call_id: String,
    name: String,
    args: String,
    done: bool,
}

/// The Responses stream state machine.
#[derive(Debug)]
pub(crate) struct ResponsesStreamMachine {
    provider: String,
    calls: Vec<CallAcc>,
    next_position: usize,
    meta_sent: bool,
}

impl ResponsesStreamMachine {
    /// A machine for one response.
    pub(crate) fn new(provider: &str) -> Self {
        ResponsesStreamMachine {
            provider: provider.to_owned(),
            calls: Vec::new(),
            next_position: 0,
            meta_sent: false,
        }
    }

    fn find(&self, v: &Value) -> Option<usize> {
        let item_id = str_of(v, "item_id").filter(|s| !s.is_empty());
        let oi = v.get("output_index").and_then(Value::as_u64);
        self.calls.iter().position(|c| match item_id {
            Some(id) if !c.item_id.is_empty() => c.item_id == id,
            _ => oi.is_some() && c.output_index == oi,
        })
    }

    fn start_call(
        &mut self,
        item: &Value,
        output_index: Option<u64>,
        out: &mut VecDeque<ChatEvent>,
    ) -> usize {
        let call = call_of(item, Some(""));
        let position = self.next_position;
        self.next_position += 1;
        out.push_back(ChatEvent::ToolCallStart {
            index: position,
            id: call.id.clone(),
            name: call.name.clone(),
        });
        self.calls.push(CallAcc {
            item_id: str_of(item, "id").unwrap_or_default().to_owned(),
            output_index,
            position,
            call_id: call.id,
            name: call.name,
            args: str_of(item, "arguments").unwrap_or_default().to_owned(),
            done: false,
        });
        self.calls.len() - 1
    }

    fn finish_call(&mut self, slot: usize, item: Option<&Value>, out: &mut VecDeque<ChatEvent>) {
        let Some(c) = self.calls.get_mut(slot) else {
            return;
        };
        if c.done {
            return;
        }
        c.done = true;
        if let Some(item) = item {
            // output_item.done is authoritative.
            if let Some(id) = str_of(item, "call_id").filter(|s| !s.is_empty()) {
                c.call_id = id.to_owned();
            }
            if let Some(n) = str_of(item, "name").filter(|s| !s.is_empty()) {
                c.name = n.to_owned();
            }
            if let Some(a) = str_of(item, "arguments") {
                c.args = a.to_owned();
            }
        }
        let mut call = ToolCall::new(
            c.call_id.clone(),
            c.name.clone(),
            ToolArguments::parse(&c.args),
        );
        call.provider_data = (!c.item_id.is_empty()).then(|| json!({"item_id": c.item_id}));
        out.push_back(ChatEvent::ToolCallDone {
            index: c.position,
            call,
        });
    }

    fn on_event(
        &mut self,
        ty: &str,
        v: &Value,
        out: &mut VecDeque<ChatEvent>,
    ) -> Result<Flow, ProviderError> {
        match ty {
            "response.created" | "response.in_progress" => {
                if !self.meta_sent
                    && let Some(r) = v.get("response")
                {
                    self.meta_sent = true;
                    out.push_back(ChatEvent::ResponseMetadata {
                        id: str_of(r, "id").map(str::to_owned),
                        model: str_of(r, "model").map(str::to_owned),
                    });
                }
            }
            "response.output_text.delta" | "response.refusal.delta" => {
                if let Some(d) = str_of(v, "delta").filter(|d| !d.is_empty()) {
                    out.push_back(ChatEvent::TextDelta { text: d.to_owned() });
                }
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                if let Some(d) = str_of(v, "delta").filter(|d| !d.is_empty()) {
                    out.push_back(ChatEvent::ReasoningDelta { text: d.to_owned() });
                }
            }
            "response.output_item.added" => {
                if let Some(item) = v.get("item")
                    && str_of(item, "type") == Some("function_call")
                {
                    let oi = v.get("output_index").and_then(Value::as_u64);
                    self.start_call(item, oi, out);
                }
            }
            "response.function_call_arguments.delta" => {
                let delta = str_of(v, "delta").unwrap_or_default();
                let slot = match self.find(v) {
                    Some(s) => s,
                    // A delta for an item we were not told about: start it.
                    None => {
                        let item = json!({"id": str_of(v, "item_id").unwrap_or_default()});
                        let oi = v.get("output_index").and_then(Value::as_u64);
                        self.start_call(&item, oi, out)
                    }
                };
                if let Some(c) = self.calls.get_mut(slot)
                    && !delta.is_empty()
                {
                    c.args.push_str(delta);
                    out.push_back(ChatEvent::ToolCallDelta {
                        index: c.position,
                        arguments: delta.to_owned(),
                    });
                }
            }
            "response.function_call_arguments.done" => {
                if let Some(slot) = self.find(v)
                    && let Some(c) = self.calls.get_mut(slot)
                {
                    if let Some(a) = str_of(v, "arguments") {
                        c.args = a.to_owned();
                    }
                    if let Some(n) = str_of(v, "name").filter(|s| !s.is_empty()) {
                        c.name = n.to_owned();
                    }
                }
            }
            "response.output_item.done" => {
                if let Some(item) = v.get("item") {
                    match str_of(item, "type") {
                        Some("function_call") => {
                            let slot = match self.find(&json!({
                                "item_id": str_of(item, "id").unwrap_or_default(),
                                "output_index": v.get("output_index").cloned().unwrap_or(Value::Null),
                            })) {
                                Some(s) => s,
                                None => {
                                    let oi = v.get("output_index").and_then(Value::as_u64);
                                    self.start_call(item, oi, out)
                                }
                            };
                            self.finish_call(slot, Some(item), out);
                        }
                        Some("reasoning") => out.push_back(ChatEvent::ReasoningDone {
                            reasoning: reasoning_of(item),
                        }),
                        _ => {}
                    }
                }
            }
            "response.completed" | "response.incomplete" => {
                let r = v.get("response").cloned().unwrap_or(Value::Null);
                for slot in 0..self.calls.len() {
                    self.finish_call(slot, None, out);
                }
                if let Some(usage) = usage_of(&r) {
                    out.push_back(ChatEvent::Usage { usage });
                }
                let (reason, raw) = finish_of(&r, !self.calls.is_empty());
                out.push_back(ChatEvent::Finish { reason, raw });
                return Ok(Flow::Done);
            }
            "response.failed" => {
                let err = v
                    .pointer("/response/error")
                    .cloned()
                    .unwrap_or_else(|| json!({"message": "response failed"}));
                return Err(crate::error::from_in_band(
                    &self.provider,
                    &json!({"error": err}),
                ));
            }
            "error" => {
                // `{"type":"error","code":..,"message":..}`, or nested under `error`.
                let err = match v.get("error") {
                    Some(e) if e.is_object() => e.clone(),
                    _ => json!({
                        "message": str_of(v, "message").unwrap_or("error event in stream"),
                        "code": v.get("code").cloned().unwrap_or(Value::Null),
                        "type": str_of(v, "code").unwrap_or("error"),
                    }),
                };
                return Err(crate::error::from_in_band(
                    &self.provider,
                    &json!({"error": err}),
                ));
            }
            // Everything else (web search, MCP, keepalive, content_part, annotations, ...).
            _ => {}
        }
        Ok(Flow::Continue)
    }
}

impl StreamMachine<SseEvent> for ResponsesStreamMachine {
    fn feed(
        &mut self,
        frame: SseEvent,
        out: &mut VecDeque<ChatEvent>,
    ) -> Result<Flow, ProviderError> {
        let data = frame.data().trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(Flow::Continue);
        }
        let v: Value = serde_json::from_str(data).map_err(|e| {
            ProviderError::decode(
                self.provider.clone(),
                format!("invalid Responses event: {e}"),
                Some(Box::new(e)),
            )
        })?;
        // Route on data.type; fall back to the SSE event name.
        let ty = match str_of(&v, "type") {
            Some(t) => t.to_owned(),
            None => frame.event().to_owned(),
        };
        self.on_event(&ty, &v, out)
    }

    fn end(&mut self, _out: &mut VecDeque<ChatEvent>) -> Result<End, ProviderError> {
        Ok(End::Truncated(
            "stream closed before response.completed".into(),
        ))
    }
}
