//! Google Gemini, on AI Studio (the Gemini API) and on Vertex AI.
//!
//! - AI Studio: `POST {base}/v1beta/models/{model}:generateContent` and
//!   `:streamGenerateContent?alt=sse` with `x-goog-api-key`; model listing from
//!   `GET {base}/v1beta/models`.
//! - Vertex AI: `POST …/projects/{p}/locations/{l}/publishers/google/models/{model}:…` with a
//!   Google bearer token ([`GoogleAuth`]).
//!
//! Streams always use `alt=sse` (without it Gemini streams one incrementally written JSON
//! array). Each part's `thoughtSignature` is kept and replayed unchanged; function calls without
//! an `id` get a local synthetic id that is never sent back; `functionResponse.response` is
//! always an object.

mod request;
mod stream;
mod wire;

pub use request::sanitize_schema;

use std::fmt;

use async_trait::async_trait;
use http::HeaderMap;
use kagent_core::{
    Capabilities, ChatEvent, ChatRequest, ChatResponse, ChatStream, ModelInfo, ModelProvider,
    ModelSummary, ProviderError, StreamAssembler, ToolCall,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tracing::Instrument;

use crate::anthropic::machine::{Machine, drive};
use crate::framing::SseEvent;
use crate::http::{self as h, Timeouts};
use crate::telemetry::{chat_span, list_span, record_error, record_response};
use crate::vertex::{GoogleAuth, VertexLocation};

use request::{BodyOptions, build_request};
use stream::GeminiStreamState;

/// The default base URL of the Gemini API.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// Prefix of the call ids we make up for function calls that came without an id.
pub const SYNTHETIC_ID_PREFIX: &str = "gemini_synth_";

/// How tool input schemas are sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum GeminiToolSchema {
    /// As full JSON Schema in `parametersJsonSchema` (the default).
    #[default]
    ParametersJsonSchema,
    /// Rewritten by [`sanitize_schema`] into the OpenAPI subset of `parameters` (for endpoints
    /// or models that do not accept `parametersJsonSchema`).
    SanitizedParameters,
}

/// What a Gemini tool call or reasoning entry needs to be replayed (kept in `provider_data`
/// under the `gemini` key).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ReplayData {
    /// The id was made up locally: do not send it back.
    pub synthetic_id: bool,
    /// The part's `thoughtSignature`.
    pub thought_signature: Option<String>,
}

impl ReplayData {
    pub(crate) fn of_call(call: &ToolCall) -> Self {
        let g = call.provider_data.as_ref().and_then(|d| d.get("gemini"));
        ReplayData {
            synthetic_id: g
                .and_then(|g| g.get("synthetic_id"))
                .and_then(Value::as_bool)
                .unwrap_or_else(|| call.id.starts_with(SYNTHETIC_ID_PREFIX)),
            thought_signature: g
                .and_then(|g| g.get("thought_signature"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }

    pub(crate) fn to_value(&self) -> Option<Value> {
        if !self.synthetic_id && self.thought_signature.is_none() {
            return None;
        }
        let mut g = serde_json::Map::new();
        if self.synthetic_id {
            g.insert("synthetic_id".into(), Value::Bool(true));
        }
        if let Some(s) = &self.thought_signature {
            g.insert("thought_signature".into(), Value::String(s.clone()));
        }
        Some(json!({ "gemini": g }))
    }
}

#[derive(Clone)]
enum Endpoint {
    AiStudio {
        base_url: String,
        api_key: SecretString,
    },
    Vertex {
        location: VertexLocation,
        auth: GoogleAuth,
    },
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::AiStudio { base_url, .. } => f
                .debug_struct("AiStudio")
                .field("base_url", base_url)
                .field("api_key", &"[redacted]")
                .finish(),
            Endpoint::Vertex { location, auth } => f
                .debug_struct("Vertex")
                .field("location", location)
                .field("auth", auth)
                .finish(),
        }
    }
}

/// A [`ModelProvider`] for Gemini.
///
/// ```no_run
/// # async fn run() -> Result<(), kagent_core::ProviderError> {
/// use kagent_core::{ChatRequest, Message, ModelProvider};
/// use kagent_llm::gemini::GeminiProvider;
///
/// let provider = GeminiProvider::new(reqwest::Client::new(), "AIza...", "gemini-2.5-flash");
/// let answer = provider.chat(&ChatRequest::new(vec![Message::user("Hello")])).await?;
/// println!("{}", answer.message.text_content());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct GeminiProvider {
    client: reqwest::Client,
    endpoint: Endpoint,
    model: String,
    info: ModelInfo,
    options: BodyOptions,
    headers: HeaderMap,
    timeouts: Timeouts,
}

impl fmt::Debug for GeminiProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiProvider")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("schema", &self.options.schema)
            .finish_non_exhaustive()
    }
}

impl GeminiProvider {
    /// The Gemini API (AI Studio) at [`DEFAULT_BASE_URL`] with an API key.
    pub fn new(
        client: reqwest::Client,
        api_key: impl Into<SecretString>,
        model: impl Into<String>,
    ) -> Self {
        Self::with_endpoint(
            client,
            Endpoint::AiStudio {
                base_url: DEFAULT_BASE_URL.to_owned(),
                api_key: api_key.into(),
            },
            model.into(),
            "gcp.gemini",
        )
    }

    /// Gemini on Vertex AI.
    pub fn vertex(
        client: reqwest::Client,
        location: VertexLocation,
        auth: GoogleAuth,
        model: impl Into<String>,
    ) -> Self {
        Self::with_endpoint(
            client,
            Endpoint::Vertex { location, auth },
            model.into(),
            "gcp.vertex_ai",
        )
    }

    fn with_endpoint(
        client: reqwest::Client,
        endpoint: Endpoint,
        model: String,
        provider: &str,
    ) -> Self {
        let model = model
            .strip_prefix("models/")
            .map(str::to_owned)
            .unwrap_or(model);
        GeminiProvider {
            client,
            endpoint,
            info: ModelInfo {
                provider: provider.to_owned(),
                model: model.clone(),
                capabilities: Capabilities {
                    vision: true,
                    reasoning: true,
                    ..Capabilities::default()
                },
            },
            model,
            options: BodyOptions::default(),
            headers: HeaderMap::new(),
            timeouts: Timeouts::DEFAULT,
        }
    }

    /// Another base URL for the Gemini API (a proxy, a test server). Ignored on Vertex AI (use
    /// [`VertexLocation::with_base_url`]).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        if let Endpoint::AiStudio { base_url, .. } = &mut self.endpoint {
            *base_url = url.into();
        }
        self
    }

    /// How tool schemas are sent (default [`GeminiToolSchema::ParametersJsonSchema`]).
    pub fn with_tool_schema(mut self, schema: GeminiToolSchema) -> Self {
        self.options.schema = schema;
        self
    }

    /// `maxOutputTokens` when a request sets none.
    pub fn with_max_output_tokens(mut self, n: u32) -> Self {
        self.options.max_output_tokens = Some(n);
        self
    }

    /// Default temperature (a request's own value wins).
    pub fn with_temperature(mut self, t: f32) -> Self {
        self.options.temperature = Some(t);
        self
    }

    /// Default nucleus sampling (a request's own value wins).
    pub fn with_top_p(mut self, p: f32) -> Self {
        self.options.top_p = Some(p);
        self
    }

    /// Top-k sampling.
    pub fn with_top_k(mut self, k: u32) -> Self {
        self.options.top_k = Some(k);
        self
    }

    /// `generationConfig.thinkingConfig`, sent as given (e.g.
    /// `{"thinkingBudget": 1024, "includeThoughts": true}`).
    pub fn with_thinking_config(mut self, config: Value) -> Self {
        self.options.thinking_config = Some(config);
        self
    }

    /// Request and stream-idle timeouts.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Headers sent with every request (kagent's `defaultHeaders`); credentials set by the
    /// provider win.
    pub fn with_default_headers(mut self, headers: HeaderMap) -> Self {
        self.headers = headers;
        self
    }

    /// Builds the provider from a kagent `ModelConfig` (`provider: Gemini` with the API key, or
    /// `GeminiVertexAI` with a Vertex block).
    pub fn from_config(
        config: &crate::config::ModelConfig,
        client: reqwest::Client,
    ) -> Result<Self, crate::config::ConfigError> {
        use crate::config::ProviderKind;
        if config.model.is_empty() {
            return Err(config.missing("model"));
        }
        let mut p = if config.provider == ProviderKind::GeminiVertexAI {
            let block = config.gemini_vertex_ai.clone().unwrap_or_default();
            let (location, auth) =
                crate::vertex::from_config(config, &block.base, "geminiVertexAI", &client)?;
            let mut p = GeminiProvider::vertex(client, location, auth, config.model.clone());
            p.options.max_output_tokens = block.max_output_tokens;
            p.options.stop_sequences = block.base.stop_sequences.clone();
            p.options.response_mime_type = block.response_mime_type.clone();
            p.options.temperature = block.base.temperature;
            p.options.top_p = block.base.top_p;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            {
                p.options.top_k = block.base.top_k.map(|k| k.max(0.0) as u32);
            }
            p
        } else {
            let key = config.api_key().ok_or_else(|| config.missing("apiKey"))?;
            let mut p = GeminiProvider::new(client, key.to_owned(), config.model.clone());
            if let Some(url) = config.base_url.clone().filter(|u| !u.is_empty()) {
                p = p.with_base_url(url);
            }
            p
        };
        p.headers = config.header_map()?;
        p.timeouts = config.effective_timeouts();
        Ok(p)
    }

    fn provider_name(&self) -> &str {
        &self.info.provider
    }

    async fn target(&self, stream: bool) -> Result<(String, HeaderMap), ProviderError> {
        let provider = self.provider_name();
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        let mut headers = self.headers.clone();
        match &self.endpoint {
            Endpoint::AiStudio { base_url, api_key } => {
                headers.insert(
                    "x-goog-api-key",
                    h::secret_header(provider, api_key.expose_secret())?,
                );
                let path = format!("v1beta/models/{}:{method}", self.model);
                Ok((h::join_url(base_url, &path), headers))
            }
            Endpoint::Vertex { location, auth } => {
                let token = auth.access_token().await?;
                headers.insert(
                    http::header::AUTHORIZATION,
                    h::secret_header(provider, &format!("Bearer {}", token.expose_secret()))?,
                );
                Ok((location.model_url("google", &self.model, method), headers))
            }
        }
    }

    fn new_state(&self) -> GeminiStreamState {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        GeminiStreamState::new(self.provider_name(), nonce.get(..12).unwrap_or(&nonce))
    }
}

struct SseMachine(GeminiStreamState);

impl Machine<SseEvent> for SseMachine {
    fn on_item(&mut self, ev: SseEvent) -> Result<Vec<ChatEvent>, ProviderError> {
        self.0.on_chunk(ev.data())
    }
    fn on_end(&mut self) -> Result<Vec<ChatEvent>, ProviderError> {
        self.0.finish()
    }
}

#[async_trait]
impl ModelProvider for GeminiProvider {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let span = chat_span(&self.info, false);
        async {
            let provider = self.provider_name();
            let body = build_request(request, &self.options);
            let (url, headers) = self.target(false).await?;
            let response = h::post_json(
                &self.client,
                provider,
                &url,
                headers,
                &body,
                self.timeouts.request,
            )
            .await?;
            let raw: Value = h::read_json(provider, response, self.timeouts.request).await?;
            let mut state = self.new_state();
            let mut asm = StreamAssembler::new();
            for ev in state.on_chunk(&raw.to_string())? {
                asm.push(&ev);
            }
            for ev in state.finish()? {
                asm.push(&ev);
            }
            let out = asm.finish(provider)?;
            record_response(&tracing::Span::current(), &out);
            Ok(out)
        }
        .instrument(span.clone())
        .await
        .map_err(crate::vertex::google_rate_limit)
        .inspect_err(|e| record_error(&span, e))
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let span = chat_span(&self.info, true);
        let provider = self.provider_name().to_owned();
        let response = async {
            let body = build_request(request, &self.options);
            let (url, headers) = self.target(true).await?;
            h::post_json(
                &self.client,
                &provider,
                &url,
                headers,
                &body,
                self.timeouts.request,
            )
            .await
        }
        .instrument(span.clone())
        .await
        .map_err(crate::vertex::google_rate_limit)
        .inspect_err(|e| record_error(&span, e))?;
        let bytes = h::byte_stream(&provider, response, self.timeouts.stream_idle);
        let events = crate::framing::sse_events(&provider, bytes);
        Ok(drive(events, SseMachine(self.new_state()), span))
    }

    /// `GET /v1beta/models`, following pages (AI Studio only).
    async fn list_models(&self) -> Result<Vec<ModelSummary>, ProviderError> {
        let span = list_span(&self.info);
        async {
            let Endpoint::AiStudio { base_url, api_key } = &self.endpoint else {
                return Err(ProviderError::Unsupported {
                    provider: self.provider_name().to_owned(),
                    feature: "model listing on Vertex AI".into(),
                });
            };
            let provider = self.provider_name();
            let mut out = Vec::new();
            let mut token: Option<String> = None;
            for _ in 0..100 {
                let mut url = h::join_url(base_url, "v1beta/models?pageSize=1000");
                if let Some(t) = &token {
                    url.push_str("&pageToken=");
                    url.push_str(&crate::anthropic::percent_encode_query(t));
                }
                let mut headers = self.headers.clone();
                headers.insert(
                    "x-goog-api-key",
                    h::secret_header(provider, api_key.expose_secret())?,
                );
                let response =
                    h::get(&self.client, provider, &url, headers, self.timeouts.request).await?;
                let page: wire::ModelsPage =
                    h::read_json(provider, response, self.timeouts.request).await?;
                out.extend(page.models.into_iter().map(|m| {
                    ModelSummary {
                        id: m
                            .name
                            .strip_prefix("models/")
                            .map(str::to_owned)
                            .unwrap_or(m.name),
                        display_name: m.display_name,
                    }
                }));
                match page.next_page_token.filter(|t| !t.is_empty()) {
                    Some(t) => token = Some(t),
                    None => break,
                }
            }
            Ok(out)
        }
        .instrument(span.clone())
        .await
        .map_err(crate::vertex::google_rate_limit)
        .inspect_err(|e| record_error(&span, e))
    }
}
