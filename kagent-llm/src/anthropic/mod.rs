//! Anthropic Messages API, direct (`api.anthropic.com`) and on Google Vertex AI.
//!
//! - Direct: `POST {base}/v1/messages` with `x-api-key` and `anthropic-version: 2023-06-01`;
//!   model listing from `GET {base}/v1/models`.
//! - Vertex AI: `POST …/publishers/anthropic/models/{model}:streamRawPredict` (`:rawPredict`
//!   without streaming) with a Google bearer token; the body carries
//!   `anthropic_version: "vertex-2023-10-16"` and no `model`.
//!
//! Thinking blocks (with their `signature`) and `redacted_thinking` blocks are kept in
//! [`Reasoning`](kagent_core::Reasoning) and replayed verbatim. `server_tool_use` and
//! `*_tool_result` blocks (tools Anthropic runs itself) are never turned into client calls.

pub(crate) mod machine;
mod request;
mod stream;
mod wire;

use std::fmt;

use async_trait::async_trait;
use http::{HeaderMap, HeaderValue};
use kagent_core::{
    Capabilities, ChatRequest, ChatResponse, ChatStream, ModelInfo, ModelProvider, ModelSummary,
    ProviderError,
};
use secrecy::{ExposeSecret, SecretString};
use tracing::Instrument;

use crate::framing::SseEvent;
use crate::http::{self as h, Timeouts};
use crate::vertex::{GoogleAuth, VertexLocation};

use crate::telemetry::{chat_span, list_span, record_error, record_response};
use machine::{Machine, drive};
use request::{BodyOptions, build_request};
use stream::{AnthropicStreamState, response_from_wire};

/// The `anthropic-version` header of the direct API.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
/// The `anthropic_version` body field on Vertex AI.
pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";
/// The default base URL of the direct API.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// `max_tokens` sent when neither the request nor the configuration sets one (the API
/// requires the field).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Where the Messages API is and how to authenticate.
#[derive(Clone)]
enum Endpoint {
    Direct {
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
            Endpoint::Direct { base_url, .. } => f
                .debug_struct("Direct")
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

/// A [`ModelProvider`] for Anthropic's Messages API.
///
/// ```no_run
/// # async fn run() -> Result<(), kagent_core::ProviderError> {
/// use kagent_core::{ChatRequest, Message, ModelProvider};
/// use kagent_llm::anthropic::AnthropicProvider;
///
/// let provider = AnthropicProvider::new(reqwest::Client::new(), "sk-ant-...", "claude-sonnet-4-5")
///     .with_max_tokens(2048);
/// let answer = provider.chat(&ChatRequest::new(vec![Message::user("Hello")])).await?;
/// println!("{}", answer.message.text_content());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AnthropicProvider {
    client: reqwest::Client,
    endpoint: Endpoint,
    model: String,
    info: ModelInfo,
    max_tokens: u32,
    thinking_budget_tokens: Option<u32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    top_k: Option<u32>,
    beta: Vec<String>,
    headers: HeaderMap,
    timeouts: Timeouts,
}

impl fmt::Debug for AnthropicProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicProvider")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("max_tokens", &self.max_tokens)
            .field("thinking_budget_tokens", &self.thinking_budget_tokens)
            .finish_non_exhaustive()
    }
}

impl AnthropicProvider {
    /// The direct API at [`DEFAULT_BASE_URL`] with an API key.
    pub fn new(
        client: reqwest::Client,
        api_key: impl Into<SecretString>,
        model: impl Into<String>,
    ) -> Self {
        Self::with_endpoint(
            client,
            Endpoint::Direct {
                base_url: DEFAULT_BASE_URL.to_owned(),
                api_key: api_key.into(),
            },
            model.into(),
            "anthropic",
        )
    }

    /// Claude on Vertex AI: `model` is the Vertex model id (e.g. `claude-sonnet-4-5@20250929`).
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
        AnthropicProvider {
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
            max_tokens: DEFAULT_MAX_TOKENS,
            thinking_budget_tokens: None,
            temperature: None,
            top_p: None,
            top_k: None,
            beta: Vec::new(),
            headers: HeaderMap::new(),
            timeouts: Timeouts::DEFAULT,
        }
    }

    /// Another base URL for the direct API (a proxy, a gateway, a test server). Ignored on
    /// Vertex AI (use [`VertexLocation::with_base_url`]).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        if let Endpoint::Direct { base_url, .. } = &mut self.endpoint {
            *base_url = url.into();
        }
        self
    }

    /// `max_tokens` when a request sets none (default [`DEFAULT_MAX_TOKENS`]).
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// Turns on extended thinking with this token budget.
    pub fn with_thinking_budget(mut self, budget_tokens: u32) -> Self {
        self.thinking_budget_tokens = Some(budget_tokens);
        self
    }

    /// Default temperature (a request's own value wins).
    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Default nucleus sampling (a request's own value wins).
    pub fn with_top_p(mut self, top_p: f32) -> Self {
        self.top_p = Some(top_p);
        self
    }

    /// Top-k sampling.
    pub fn with_top_k(mut self, top_k: u32) -> Self {
        self.top_k = Some(top_k);
        self
    }

    /// Adds an `anthropic-beta` flag (direct API only).
    pub fn with_beta(mut self, flag: impl Into<String>) -> Self {
        self.beta.push(flag.into());
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

    /// Builds the provider from a kagent `ModelConfig` (`provider: Anthropic` with the API key,
    /// or `AnthropicVertexAI` with a Vertex block).
    pub fn from_config(
        config: &crate::config::ModelConfig,
        client: reqwest::Client,
    ) -> Result<Self, crate::config::ConfigError> {
        use crate::config::ProviderKind;
        if config.model.is_empty() {
            return Err(config.missing("model"));
        }
        let mut p = if config.provider == ProviderKind::AnthropicVertexAI {
            let block = config.anthropic_vertex_ai.clone().unwrap_or_default();
            let (location, auth) =
                crate::vertex::from_config(config, &block.base, "anthropicVertexAI", &client)?;
            let mut p = AnthropicProvider::vertex(client, location, auth, config.model.clone());
            if let Some(m) = block.max_tokens {
                p = p.with_max_tokens(m);
            }
            p.temperature = block.base.temperature;
            p.top_p = block.base.top_p;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            {
                p.top_k = block.base.top_k.map(|k| k.max(0.0) as u32);
            }
            p
        } else {
            let key = config.api_key().ok_or_else(|| config.missing("apiKey"))?;
            let block = config.anthropic.clone().unwrap_or_default();
            let mut p = AnthropicProvider::new(client, key.to_owned(), config.model.clone());
            if let Some(url) = block
                .base_url
                .or_else(|| config.base_url.clone())
                .filter(|u| !u.is_empty())
            {
                p = p.with_base_url(url);
            }
            if let Some(m) = block.max_tokens {
                p = p.with_max_tokens(m);
            }
            p.temperature = block.temperature;
            p.top_p = block.top_p;
            p.top_k = block.top_k;
            p
        };
        p.headers = config.header_map()?;
        p.timeouts = config.effective_timeouts();
        Ok(p)
    }

    fn provider_name(&self) -> &str {
        &self.info.provider
    }

    fn body_options(&self) -> BodyOptions {
        let vertex = matches!(self.endpoint, Endpoint::Vertex { .. });
        BodyOptions {
            model: (!vertex).then(|| self.model.clone()),
            anthropic_version: vertex.then(|| VERTEX_ANTHROPIC_VERSION.to_owned()),
            default_max_tokens: self.max_tokens,
            thinking_budget_tokens: self.thinking_budget_tokens,
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: self.top_k,
        }
    }

    /// URL and auth headers for a messages call.
    async fn target(&self, stream: bool) -> Result<(String, HeaderMap), ProviderError> {
        let provider = self.provider_name();
        let mut headers = self.headers.clone();
        match &self.endpoint {
            Endpoint::Direct { base_url, api_key } => {
                headers.insert(
                    "x-api-key",
                    h::secret_header(provider, api_key.expose_secret())?,
                );
                headers.insert(
                    "anthropic-version",
                    HeaderValue::from_static(ANTHROPIC_VERSION),
                );
                if !self.beta.is_empty() {
                    let v = HeaderValue::from_str(&self.beta.join(",")).map_err(|_| {
                        ProviderError::Configuration {
                            provider: provider.to_owned(),
                            message: "invalid anthropic-beta flag".into(),
                        }
                    })?;
                    headers.insert("anthropic-beta", v);
                }
                Ok((h::join_url(base_url, "v1/messages"), headers))
            }
            Endpoint::Vertex { location, auth } => {
                let token = auth.access_token().await?;
                headers.insert(
                    http::header::AUTHORIZATION,
                    h::secret_header(provider, &format!("Bearer {}", token.expose_secret()))?,
                );
                let method = if stream {
                    "streamRawPredict"
                } else {
                    "rawPredict"
                };
                Ok((
                    location.model_url("anthropic", &self.model, method),
                    headers,
                ))
            }
        }
    }
}

struct SseMachine(AnthropicStreamState);

impl Machine<SseEvent> for SseMachine {
    fn on_item(&mut self, ev: SseEvent) -> Result<Vec<kagent_core::ChatEvent>, ProviderError> {
        self.0.on_event(ev.event(), ev.data())
    }
    fn on_end(&mut self) -> Result<Vec<kagent_core::ChatEvent>, ProviderError> {
        self.0.finish().map(|()| Vec::new())
    }
}

#[async_trait]
impl ModelProvider for AnthropicProvider {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let span = chat_span(&self.info, false);
        async {
            let body = build_request(request, &self.body_options(), false);
            let (url, headers) = self.target(false).await?;
            let provider = self.provider_name();
            let response = h::post_json(
                &self.client,
                provider,
                &url,
                headers,
                &body,
                self.timeouts.request,
            )
            .await?;
            let wire: wire::MessagesResponse =
                h::read_json(provider, response, self.timeouts.request).await?;
            let out = response_from_wire(wire);
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
            let body = build_request(request, &self.body_options(), true);
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
        Ok(drive(
            events,
            SseMachine(AnthropicStreamState::new(provider)),
            span,
        ))
    }

    /// `GET /v1/models`, following pages (direct API only; Vertex AI has no listing for
    /// partner models).
    async fn list_models(&self) -> Result<Vec<ModelSummary>, ProviderError> {
        let span = list_span(&self.info);
        async {
            let Endpoint::Direct { base_url, api_key } = &self.endpoint else {
                return Err(ProviderError::Unsupported {
                    provider: self.provider_name().to_owned(),
                    feature: "model listing on Vertex AI".into(),
                });
            };
            let provider = self.provider_name();
            let mut out = Vec::new();
            let mut after: Option<String> = None;
            // Bounded: a misbehaving server cannot make us loop forever.
            for _ in 0..100 {
                let mut url = h::join_url(base_url, "v1/models?limit=1000");
                if let Some(a) = &after {
                    url.push_str("&after_id=");
                    url.push_str(&percent_encode_query(a));
                }
                let mut headers = self.headers.clone();
                headers.insert(
                    "x-api-key",
                    h::secret_header(provider, api_key.expose_secret())?,
                );
                headers.insert(
                    "anthropic-version",
                    HeaderValue::from_static(ANTHROPIC_VERSION),
                );
                let response =
                    h::get(&self.client, provider, &url, headers, self.timeouts.request).await?;
                let page: wire::ModelsPage =
                    h::read_json(provider, response, self.timeouts.request).await?;
                out.extend(page.data.into_iter().map(|m| ModelSummary {
                    id: m.id,
                    display_name: m.display_name,
                }));
                match (page.has_more, page.last_id) {
                    (true, Some(last)) => after = Some(last),
                    _ => break,
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

/// Percent-encodes a query value (ids are plain ASCII in practice).
pub(crate) fn percent_encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
