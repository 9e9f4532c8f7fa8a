//! Ollama's native chat API: `POST {host}/api/chat`, streamed as NDJSON (one JSON object a
//! line, the last with `"done": true`); models from `GET {host}/api/tags`.
//!
//! Tool calls arrive whole (arguments are a JSON object), usually in a `done:false` object,
//! sometimes on the `done:true` object itself, one object per parallel call; ids are
//! synthesized when Ollama sends none. Tool results are sent with `tool_name` (and the call id
//! as `tool_call_id`).

use std::collections::VecDeque;
use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;
use http::HeaderMap;
use kagent_core::{
    AssistantMessage, ChatEvent, ChatRequest, ChatResponse, ChatStream, ContentPart, FinishReason,
    Message, ModelInfo, ModelProvider, ModelSummary, ProviderError, Reasoning, ToolArguments,
    ToolCall, Usage,
};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tracing::Instrument;

use crate::driver::{End, Flow, StreamMachine, drive};
use crate::framing::{ByteStream, ndjson_lines};
use crate::http as h;
use crate::options::{Auth, ConfigError, ProviderKind, ProviderOptions};
use crate::telemetry;
use crate::wire::{finish_reason, json_f32, synthetic_call_id};

/// The default Ollama host.
pub const DEFAULT_HOST: &str = "http://localhost:11434";

/// A [`ModelProvider`] for Ollama's native API.
///
/// ```no_run
/// use kagent_core::{ChatRequest, Message, ModelProvider};
/// use kagent_llm::ProviderOptions;
/// use kagent_llm::ollama::OllamaProvider;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let provider = OllamaProvider::new(
///     reqwest::Client::new(),
///     "llama3.2",
///     ProviderOptions::new().with_base_url("http://ollama.kagent:11434"),
/// )?
/// .with_option("num_ctx", serde_json::json!(8192));
/// let response = provider.chat(&ChatRequest::new(vec![Message::user("hi")])).await?;
/// # let _ = response; Ok(()) }
/// ```
#[derive(Clone)]
pub struct OllamaProvider {
    info: ModelInfo,
    client: reqwest::Client,
    host: String,
    token: Option<SecretString>,
    model_options: Map<String, Value>,
    options: ProviderOptions,
}

impl fmt::Debug for OllamaProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OllamaProvider")
            .field("info", &self.info)
            .field("host", &self.host)
            .field("model_options", &self.model_options)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// kagent stores options as strings: send numbers and booleans as such.
fn option_value(v: &Value) -> Value {
    match v {
        Value::String(s) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                return i.into();
            }
            if let Ok(f) = t.parse::<f64>()
                && let Some(n) = serde_json::Number::from_f64(f)
            {
                return Value::Number(n);
            }
            match t {
                "true" => true.into(),
                "false" => false.into(),
                _ => v.clone(),
            }
        }
        other => other.clone(),
    }
}

impl OllamaProvider {
    /// Ollama at `options.base_url` (default [`DEFAULT_HOST`]). `Auth::ApiKey` or
    /// `Auth::BearerToken` is sent as `Authorization: Bearer` (Ollama behind an authenticating
    /// proxy, or ollama.com). The shared sampling defaults go into `options` (`temperature`,
    /// `top_p`, `top_k`, `num_predict`, `stop`).
    pub fn new(
        client: reqwest::Client,
        model: impl Into<String>,
        options: ProviderOptions,
    ) -> Result<Self, ConfigError> {
        let token = match &options.auth {
            Auth::None => None,
            Auth::ApiKey(k) | Auth::BearerToken(k) => Some(k.clone()),
            _ => {
                return Err(options.unsupported_auth(
                    ProviderKind::Ollama,
                    "Ollama takes an API key or a bearer token",
                ));
            }
        };
        Ok(OllamaProvider {
            info: ModelInfo::new("ollama", model),
            client,
            host: options.base_url_or(DEFAULT_HOST),
            token,
            model_options: Map::new(),
            options,
        })
    }

    /// Sets one model option (`num_ctx`, `temperature`, `num_predict`, ...); it wins over the
    /// shared defaults of [`ProviderOptions`], a request's own values win over it. kagent
    /// stores options as strings: numeric and boolean strings are sent as numbers and booleans.
    #[must_use]
    pub fn with_option(mut self, name: impl Into<String>, value: Value) -> Self {
        self.model_options.insert(name.into(), option_value(&value));
        self
    }

    fn provider(&self) -> &str {
        &self.info.provider
    }

    fn request_headers(&self) -> Result<HeaderMap, ProviderError> {
        let mut headers = self.options.default_headers.clone();
        if let Some(k) = &self.token {
            headers.insert(http::header::AUTHORIZATION, h::bearer(self.provider(), k)?);
        }
        Ok(headers)
    }

    /// The request body of `POST /api/chat`.
    pub(crate) fn body(&self, req: &ChatRequest, stream: bool) -> Value {
        let mut messages = Vec::new();
        if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
            messages.push(json!({"role": "system", "content": system}));
        }
        for m in &req.messages {
            match m {
                Message::User { content } => {
                    let mut text = String::new();
                    let mut images = Vec::new();
                    for p in content {
                        match p {
                            ContentPart::Text { text: t } => text.push_str(t),
                            ContentPart::Image { data, .. } => images.push(Value::String(data.clone())),
                            _ => {}
                        }
                    }
                    let mut msg = Map::new();
                    msg.insert("role".into(), "user".into());
                    msg.insert("content".into(), text.into());
                    if !images.is_empty() {
                        msg.insert("images".into(), Value::Array(images));
                    }
                    messages.push(Value::Object(msg));
                }
                Message::Assistant(a) => {
                    let mut msg = Map::new();
                    msg.insert("role".into(), "assistant".into());
                    msg.insert("content".into(), a.text_content().into());
                    let thinking: String = a.reasoning.iter().map(|r| r.text.as_str()).collect();
                    if !thinking.is_empty() {
                        msg.insert("thinking".into(), thinking.into());
                    }
                    if !a.tool_calls.is_empty() {
                        let calls: Vec<Value> = a
                            .tool_calls
                            .iter()
                            .map(|c| {
                                let args = match &c.arguments {
                                    ToolArguments::Json(v) => v.clone(),
                                    // Ollama wants an object; a malformed call is replayed as
                                    // its raw text so the model sees what it wrote.
                                    ToolArguments::Malformed { raw, .. } => json!({"_raw": raw}),
                                };
                                json!({"function": {"name": c.name, "arguments": args}})
                            })
                            .collect();
                        msg.insert("tool_calls".into(), Value::Array(calls));
                    }
                    messages.push(Value::Object(msg));
                }
                Message::Tool(r) => messages.push(json!({
                    "role": "tool", "content": r.text(), "tool_name": r.name, "tool_call_id": r.call_id,
                })),
                _ => {}
            }
        }
        let mut body = Map::new();
        body.insert("model".into(), self.info.model.clone().into());
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
        }
        // Shared defaults, then this provider's own options, then the request's values.
        let mut options = Map::new();
        let o = &self.options;
        if let Some(t) = o.temperature {
            options.insert("temperature".into(), json_f32(t));
        }
        if let Some(p) = o.top_p {
            options.insert("top_p".into(), json_f32(p));
        }
        if let Some(k) = o.top_k {
            options.insert("top_k".into(), k.into());
        }
        if let Some(m) = o.max_output_tokens {
            options.insert("num_predict".into(), m.into());
        }
        if !o.stop_sequences.is_empty() {
            options.insert("stop".into(), json!(o.stop_sequences));
        }
        options.extend(
            self.model_options
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        if let Some(t) = req.temperature {
            options.insert("temperature".into(), json_f32(t));
        }
        if let Some(p) = req.top_p {
            options.insert("top_p".into(), json_f32(p));
        }
        if let Some(m) = req.max_tokens {
            options.insert("num_predict".into(), m.into());
        }
        if !req.stop.is_empty() {
            options.insert("stop".into(), json!(req.stop));
        }
        if !options.is_empty() {
            body.insert("options".into(), Value::Object(options));
        }
        body.insert("stream".into(), stream.into());
        Value::Object(body)
    }
}

#[derive(Debug, Deserialize)]
struct WireChunk<'a> {
    // Borrowed: repeated on every line, used once.
    #[serde(default, borrow)]
    model: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    message: Option<WireMessage<'a>>,
    #[serde(default)]
    done: bool,
    #[serde(default, borrow)]
    done_reason: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    prompt_eval_count: Option<u64>,
    #[serde(default)]
    eval_count: Option<u64>,
    #[serde(default)]
    error: Option<Value>,
}

// Text borrowed from the line: copied once, into the event that carries it.
#[derive(Debug, Deserialize)]
struct WireMessage<'a> {
    #[serde(default, borrow)]
    content: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    thinking: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    tool_calls: Option<Vec<WireToolCall>>,
}

#[derive(Debug, Deserialize)]
struct WireToolCall {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<WireFunction>,
}

#[derive(Debug, Deserialize)]
struct WireFunction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<Value>,
}

fn map_finish(raw: &str) -> FinishReason {
    match raw {
        "stop" => FinishReason::Stop,
        "length" => FinishReason::Length,
        other => FinishReason::Other(other.to_owned()),
    }
}

fn to_call(tc: WireToolCall) -> ToolCall {
    let id = tc.id.filter(|i| !i.is_empty());
    let synthetic = id.is_none();
    let (name, args) = match tc.function {
        Some(f) => (f.name.unwrap_or_default(), f.arguments),
        None => (String::new(), None),
    };
    let arguments = match args {
        None | Some(Value::Null) => ToolArguments::Json(json!({})),
        Some(Value::String(s)) => ToolArguments::parse(&s),
        Some(v) => ToolArguments::Json(v),
    };
    let mut call = ToolCall::new(id.unwrap_or_else(synthetic_call_id), name, arguments);
    call.provider_data = synthetic.then(|| json!({"synthetic_id": true}));
    call
}

fn usage_of(c: &WireChunk<'_>) -> Option<Usage> {
    if c.prompt_eval_count.is_none() && c.eval_count.is_none() {
        return None;
    }
    Some(Usage::new(
        c.prompt_eval_count.unwrap_or(0),
        c.eval_count.unwrap_or(0),
    ))
}

/// The Ollama NDJSON state machine.
#[derive(Debug)]
pub(crate) struct OllamaStreamMachine {
    provider: String,
    calls: usize,
    meta_sent: bool,
}

impl OllamaStreamMachine {
    /// A machine for one response.
    pub(crate) fn new(provider: &str) -> Self {
        OllamaStreamMachine {
            provider: provider.to_owned(),
            calls: 0,
            meta_sent: false,
        }
    }
}

impl StreamMachine<bytes::Bytes> for OllamaStreamMachine {
    fn feed(
        &mut self,
        line: bytes::Bytes,
        out: &mut VecDeque<ChatEvent>,
    ) -> Result<Flow, ProviderError> {
        let chunk: WireChunk<'_> = serde_json::from_slice(&line).map_err(|e| {
            ProviderError::decode(
                self.provider.clone(),
                format!("invalid Ollama stream line: {e}"),
                Some(Box::new(e)),
            )
        })?;
        if let Some(err) = &chunk.error {
            return Err(crate::error::from_in_band(
                &self.provider,
                &json!({"error": err}),
            ));
        }
        if !self.meta_sent
            && let Some(m) = chunk.model.clone().map(std::borrow::Cow::into_owned)
        {
            self.meta_sent = true;
            out.push_back(ChatEvent::ResponseMetadata {
                id: None,
                model: Some(m),
            });
        }
        let usage = usage_of(&chunk);
        if let Some(msg) = chunk.message {
            if let Some(t) = msg.thinking.filter(|t| !t.is_empty()) {
                out.push_back(ChatEvent::ReasoningDelta {
                    text: t.into_owned(),
                });
            }
            if let Some(t) = msg.content.filter(|t| !t.is_empty()) {
                out.push_back(ChatEvent::TextDelta {
                    text: t.into_owned(),
                });
            }
            for tc in msg.tool_calls.unwrap_or_default() {
                let call = to_call(tc);
                let index = self.calls;
                self.calls += 1;
                out.push_back(ChatEvent::ToolCallDone { index, call });
            }
        }
        if chunk.done {
            if let Some(usage) = usage {
                out.push_back(ChatEvent::Usage { usage });
            }
            let raw = chunk
                .done_reason
                .filter(|r| !r.is_empty())
                .map(std::borrow::Cow::into_owned);
            let reason = finish_reason(raw.as_deref(), self.calls > 0, map_finish);
            out.push_back(ChatEvent::Finish { reason, raw });
            return Ok(Flow::Done);
        }
        Ok(Flow::Continue)
    }

    fn end(&mut self, _out: &mut VecDeque<ChatEvent>) -> Result<End, ProviderError> {
        Ok(End::Truncated(
            "stream closed before the \"done\": true object".into(),
        ))
    }
}

/// Decodes an Ollama `/api/chat` NDJSON body (a recording, or any stream of byte chunks) into
/// chat events, exactly as [`OllamaProvider::chat_stream`] does after the HTTP exchange.
pub fn decode_chat_stream<S>(provider: &str, bytes: S) -> ChatStream
where
    S: Stream<Item = Result<Bytes, ProviderError>> + Send + 'static,
{
    let bytes: ByteStream = Box::pin(bytes);
    drive(
        provider,
        ndjson_lines(provider, bytes),
        OllamaStreamMachine::new(provider),
        tracing::Span::none(),
        kagent_core::SecretValues::new(),
    )
}

fn parse_response(provider: &str, v: Value) -> Result<ChatResponse, ProviderError> {
    let text = v.to_string();
    let chunk: WireChunk<'_> = serde_json::from_str(&text).map_err(|e| {
        ProviderError::decode(
            provider,
            format!("invalid Ollama response: {e}"),
            Some(Box::new(e)),
        )
    })?;
    if let Some(err) = &chunk.error {
        return Err(crate::error::from_in_band(provider, &json!({"error": err})));
    }
    let usage = usage_of(&chunk);
    let mut msg = AssistantMessage::default();
    if let Some(m) = chunk.message {
        if let Some(t) = m.content.filter(|t| !t.is_empty()) {
            msg.content.push(ContentPart::text(t.into_owned()));
        }
        if let Some(t) = m.thinking.filter(|t| !t.is_empty()) {
            msg.reasoning.push(Reasoning::new(t.into_owned()));
        }
        msg.tool_calls = m
            .tool_calls
            .unwrap_or_default()
            .into_iter()
            .map(to_call)
            .collect();
    }
    let raw = chunk
        .done_reason
        .filter(|r| !r.is_empty())
        .map(std::borrow::Cow::into_owned);
    let finish = finish_reason(raw.as_deref(), !msg.tool_calls.is_empty(), map_finish);
    let mut response = ChatResponse::new(msg, finish);
    response.raw_finish_reason = raw;
    response.usage = usage;
    response.model = chunk.model.map(std::borrow::Cow::into_owned);
    Ok(response)
}

#[async_trait]
impl ModelProvider for OllamaProvider {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let span = telemetry::chat_span(&self.info, false);
        let result = async {
            let resp = h::post_json(
                &self.client,
                self.provider(),
                &h::join_url(&self.host, "api/chat"),
                self.request_headers()?,
                &self.body(request, false),
                self.options.timeouts.request,
            )
            .await?;
            let v: Value =
                h::read_json(self.provider(), resp, self.options.timeouts.request).await?;
            parse_response(self.provider(), v)
        }
        .instrument(span.clone())
        .await;
        match &result {
            Ok(r) => telemetry::record_response(&span, r),
            Err(e) => telemetry::record_error(&span, e),
        }
        result
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let span = telemetry::chat_span(&self.info, true);
        let sent = async {
            h::post_json(
                &self.client,
                self.provider(),
                &h::join_url(&self.host, "api/chat"),
                self.request_headers()?,
                &self.body(request, true),
                self.options.timeouts.request,
            )
            .await
        }
        .instrument(span.clone())
        .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                telemetry::record_error(&span, &e);
                return Err(e);
            }
        };
        let provider = self.provider();
        let credentials = h::credentials_of(&resp);
        let bytes = h::byte_stream(provider, resp, self.options.timeouts.stream_idle);
        Ok(drive(
            provider,
            ndjson_lines(provider, bytes),
            OllamaStreamMachine::new(provider),
            span,
            credentials,
        ))
    }

    async fn list_models(&self) -> Result<Vec<ModelSummary>, ProviderError> {
        let span = telemetry::list_span(&self.info);
        async {
            let resp = h::get(
                &self.client,
                self.provider(),
                &h::join_url(&self.host, "api/tags"),
                self.request_headers()?,
                self.options.timeouts.request,
            )
            .await?;
            let v: Value =
                h::read_json(self.provider(), resp, self.options.timeouts.request).await?;
            Ok(v.get("models")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|m| {
                    let id = m
                        .get("model")
                        .or_else(|| m.get("name"))
                        .and_then(Value::as_str)?;
                    let mut summary = ModelSummary::new(id);
                    summary.display_name = m.get("name").and_then(Value::as_str).map(str::to_owned);
                    Some(summary)
                })
                .collect())
        }
        .instrument(span)
        .await
    }
}
