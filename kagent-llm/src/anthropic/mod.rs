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

use crate::driver::drive;
use crate::http as h;
use crate::options::{Auth, ConfigError, ProviderKind, ProviderOptions};
use crate::telemetry::{chat_span, list_span, record_error, record_response};
use crate::vertex::{GoogleAuth, VertexLocation};
use crate::wire::percent_encode;

use request::{BodyOptions, build_request};
use stream::{AnthropicStreamState, response_from_wire};

/// The `anthropic-version` header of the direct API.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
/// The `anthropic_version` body field on Vertex AI.
pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";
/// The default base URL of the direct API.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// `max_tokens` sent when neither the request nor the options set one (the API requires the
/// field).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Where the Messages API is and how to authenticate.
#[derive(Clone)]
enum Endpoint {
    Direct {
        base_url: String,
        api_key: Option<SecretString>,
    },
    Vertex {
        location: VertexLocation,
        auth: Option<GoogleAuth>,
    },
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Direct { base_url, api_key } => f
                .debug_struct("Direct")
                .field("base_url", base_url)
                .field("api_key", &api_key.as_ref().map(|_| "[redacted]"))
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
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use kagent_core::{ChatRequest, Message, ModelProvider};
/// use kagent_llm::ProviderOptions;
/// use kagent_llm::anthropic::AnthropicProvider;
///
/// let provider = AnthropicProvider::new(
///     reqwest::Client::new(),
///     "claude-sonnet-4-5",
///     ProviderOptions::new().with_api_key("sk-ant-...").with_max_output_tokens(2048),
/// )?;
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
    thinking_budget_tokens: Option<u32>,
    beta: Vec<String>,
    options: ProviderOptions,
}

impl fmt::Debug for AnthropicProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicProvider")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("thinking_budget_tokens", &self.thinking_budget_tokens)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl AnthropicProvider {
    /// The direct API at `options.base_url` (default [`DEFAULT_BASE_URL`]), authenticated
    /// with `Auth::ApiKey` (`x-api-key`).
    pub fn new(
        client: reqwest::Client,
        model: impl Into<String>,
        options: ProviderOptions,
    ) -> Result<Self, ConfigError> {
        let api_key = match &options.auth {
            Auth::None => None,
            Auth::ApiKey(k) => Some(k.clone()),
            _ => {
                return Err(options.unsupported_auth(
                    ProviderKind::Anthropic,
                    "Anthropic's API takes an API key (x-api-key)",
                ));
            }
        };
        let endpoint = Endpoint::Direct {
            base_url: options.base_url_or(DEFAULT_BASE_URL),
            api_key,
        };
        Ok(Self::with_endpoint(
            client,
            endpoint,
            model.into(),
            "anthropic",
            options,
        ))
    }

    /// Claude on Vertex AI: `model` is the Vertex model id (e.g. `claude-sonnet-4-5@20250929`),
    /// authenticated with `Auth::Google` or `Auth::BearerToken` (an access token);
    /// `options.base_url` replaces the location's host (private endpoints, tests).
    pub fn vertex(
        client: reqwest::Client,
        location: VertexLocation,
        model: impl Into<String>,
        options: ProviderOptions,
    ) -> Result<Self, ConfigError> {
        let auth = options.vertex_auth(ProviderKind::AnthropicVertexAI)?;
        let location = match &options.base_url {
            Some(url) if !url.is_empty() => location.with_base_url(url.clone()),
            _ => location,
        };
        let endpoint = Endpoint::Vertex { location, auth };
        Ok(Self::with_endpoint(
            client,
            endpoint,
            model.into(),
            "gcp.vertex_ai",
            options,
        ))
    }

    fn with_endpoint(
        client: reqwest::Client,
        endpoint: Endpoint,
        model: String,
        provider: &str,
        options: ProviderOptions,
    ) -> Self {
        AnthropicProvider {
            client,
            endpoint,
            info: ModelInfo::new(provider, model.clone()).with_capabilities(
                Capabilities::default()
                    .with_vision(true)
                    .with_reasoning(true),
            ),
            model,
            thinking_budget_tokens: None,
            beta: Vec::new(),
            options,
        }
    }

    /// Turns on extended thinking with this token budget.
    #[must_use]
    pub fn with_thinking_budget(mut self, budget_tokens: u32) -> Self {
        self.thinking_budget_tokens = Some(budget_tokens);
        self
    }

    /// Adds an `anthropic-beta` flag (direct API only).
    #[must_use]
    pub fn with_beta(mut self, flag: impl Into<String>) -> Self {
        self.beta.push(flag.into());
        self
    }

    /// The shared options the provider was built with.
    pub fn options(&self) -> &ProviderOptions {
        &self.options
    }

    fn provider_name(&self) -> &str {
        &self.info.provider
    }

    fn body_options(&self) -> BodyOptions {
        let vertex = matches!(self.endpoint, Endpoint::Vertex { .. });
        BodyOptions {
            model: (!vertex).then(|| self.model.clone()),
            anthropic_version: vertex.then(|| VERTEX_ANTHROPIC_VERSION.to_owned()),
            default_max_tokens: DEFAULT_MAX_TOKENS,
            thinking_budget_tokens: self.thinking_budget_tokens,
        }
    }

    /// `x-api-key` and `anthropic-version` for the direct API.
    fn direct_headers(&self, api_key: Option<&SecretString>) -> Result<HeaderMap, ProviderError> {
        let provider = self.provider_name();
        let mut headers = self.options.default_headers.clone();
        if let Some(key) = api_key {
            headers.insert(
                "x-api-key",
                h::secret_header(provider, key.expose_secret())?,
            );
        }
        headers.insert(
            "anthropic-version",
            HeaderValue::from_static(ANTHROPIC_VERSION),
        );
        Ok(headers)
    }

    /// URL and auth headers for a messages call.
    async fn target(&self, stream: bool) -> Result<(String, HeaderMap), ProviderError> {
        let provider = self.provider_name();
        match &self.endpoint {
            Endpoint::Direct { base_url, api_key } => {
                let mut headers = self.direct_headers(api_key.as_ref())?;
                if !self.beta.is_empty() {
                    let v = HeaderValue::from_str(&self.beta.join(",")).map_err(|_| {
                        ProviderError::configuration(provider, "invalid anthropic-beta flag")
                    })?;
                    headers.insert("anthropic-beta", v);
                }
                Ok((h::join_url(base_url, "v1/messages"), headers))
            }
            Endpoint::Vertex { location, auth } => {
                let mut headers = self.options.default_headers.clone();
                if let Some(auth) = auth {
                    let token = auth.access_token().await?;
                    headers.insert(http::header::AUTHORIZATION, h::bearer(provider, &token)?);
                }
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

#[async_trait]
impl ModelProvider for AnthropicProvider {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let span = chat_span(&self.info, false);
        async {
            let body = build_request(request, &self.body_options(), &self.options, false);
            let (url, headers) = self.target(false).await?;
            let provider = self.provider_name();
            let response = h::post_json(
                &self.client,
                provider,
                &url,
                headers,
                &body,
                self.options.timeouts.request,
            )
            .await?;
            let wire: wire::MessagesResponse =
                h::read_json(provider, response, self.options.timeouts.request).await?;
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
            let body = build_request(request, &self.body_options(), &self.options, true);
            let (url, headers) = self.target(true).await?;
            h::post_json(
                &self.client,
                &provider,
                &url,
                headers,
                &body,
                self.options.timeouts.request,
            )
            .await
        }
        .instrument(span.clone())
        .await
        .map_err(crate::vertex::google_rate_limit)
        .inspect_err(|e| record_error(&span, e))?;
        let credentials = h::credentials_of(&response);
        let bytes = h::byte_stream(&provider, response, self.options.timeouts.stream_idle);
        let events = crate::framing::sse_events(&provider, bytes);
        Ok(drive(
            &provider,
            events,
            AnthropicStreamState::new(provider.clone()),
            span,
            credentials,
        ))
    }

    /// `GET /v1/models`, following pages (direct API only; Vertex AI has no listing for
    /// partner models).
    async fn list_models(&self) -> Result<Vec<ModelSummary>, ProviderError> {
        let span = list_span(&self.info);
        async {
            let Endpoint::Direct { base_url, api_key } = &self.endpoint else {
                return Err(ProviderError::unsupported(
                    self.provider_name(),
                    "model listing on Vertex AI",
                ));
            };
            let provider = self.provider_name();
            let mut out = Vec::new();
            let mut after: Option<String> = None;
            // Bounded: a misbehaving server cannot make us loop forever.
            for _ in 0..100 {
                let mut url = h::join_url(base_url, "v1/models?limit=1000");
                if let Some(a) = &after {
                    url.push_str("&after_id=");
                    url.push_str(&percent_encode(a));
                }
                let headers = self.direct_headers(api_key.as_ref())?;
                let response = h::get(
                    &self.client,
                    provider,
                    &url,
                    headers,
                    self.options.timeouts.request,
                )
                .await?;
                let page: wire::ModelsPage =
                    h::read_json(provider, response, self.options.timeouts.request).await?;
                out.extend(page.data.into_iter().map(|m| {
                    let mut summary = ModelSummary::new(m.id);
                    summary.display_name = m.display_name;
                    summary
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
