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
    Capabilities, ChatRequest, ChatResponse, ChatStream, ModelInfo, ModelProvider, ModelSummary,
    ProviderError, ToolCall,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tracing::Instrument;

use crate::driver::{drive, run_to_end};
use crate::http as h;
use crate::options::{Auth, ConfigError, ProviderKind, ProviderOptions};
use crate::telemetry::{chat_span, list_span, record_error, record_response};
use crate::vertex::{GoogleAuth, VertexLocation};
use crate::wire::percent_encode;

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
            Endpoint::AiStudio { base_url, api_key } => f
                .debug_struct("AiStudio")
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

/// A [`ModelProvider`] for Gemini.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use kagent_core::{ChatRequest, Message, ModelProvider};
/// use kagent_llm::ProviderOptions;
/// use kagent_llm::gemini::GeminiProvider;
///
/// let provider = GeminiProvider::new(
///     reqwest::Client::new(),
///     "gemini-2.5-flash",
///     ProviderOptions::new().with_api_key("AIza..."),
/// )?;
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
    body: BodyOptions,
    options: ProviderOptions,
}

impl fmt::Debug for GeminiProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiProvider")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("schema", &self.body.schema)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl GeminiProvider {
    /// The Gemini API (AI Studio) at `options.base_url` (default [`DEFAULT_BASE_URL`]),
    /// authenticated with `Auth::ApiKey` (`x-goog-api-key`).
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
                    ProviderKind::Gemini,
                    "the Gemini API takes an API key (x-goog-api-key)",
                ));
            }
        };
        let endpoint = Endpoint::AiStudio {
            base_url: options.base_url_or(DEFAULT_BASE_URL),
            api_key,
        };
        Ok(Self::with_endpoint(
            client,
            endpoint,
            model.into(),
            "gcp.gemini",
            options,
        ))
    }

    /// Gemini on Vertex AI, authenticated with `Auth::Google` or `Auth::BearerToken` (an
    /// access token); `options.base_url` replaces the location's host (private endpoints,
    /// tests).
    pub fn vertex(
        client: reqwest::Client,
        location: VertexLocation,
        model: impl Into<String>,
        options: ProviderOptions,
    ) -> Result<Self, ConfigError> {
        let auth = options.vertex_auth(ProviderKind::GeminiVertexAI)?;
        let location = match &options.base_url {
            Some(url) if !url.is_empty() => location.with_base_url(url.clone()),
            _ => location,
        };
        Ok(Self::with_endpoint(
            client,
            Endpoint::Vertex { location, auth },
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
        let model = model
            .strip_prefix("models/")
            .map(str::to_owned)
            .unwrap_or(model);
        GeminiProvider {
            client,
            endpoint,
            info: ModelInfo::new(provider, model.clone()).with_capabilities(
                Capabilities::default()
                    .with_vision(true)
                    .with_reasoning(true),
            ),
            model,
            body: BodyOptions::default(),
            options,
        }
    }

    /// How tool schemas are sent (default [`GeminiToolSchema::ParametersJsonSchema`]).
    #[must_use]
    pub fn with_tool_schema(mut self, schema: GeminiToolSchema) -> Self {
        self.body.schema = schema;
        self
    }

    /// `generationConfig.thinkingConfig`, sent as given (e.g.
    /// `{"thinkingBudget": 1024, "includeThoughts": true}`).
    #[must_use]
    pub fn with_thinking_config(mut self, config: Value) -> Self {
        self.body.thinking_config = Some(config);
        self
    }

    /// `generationConfig.responseMimeType` (e.g. `application/json`).
    #[must_use]
    pub fn with_response_mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.body.response_mime_type = Some(mime_type.into());
        self
    }

    /// The shared options the provider was built with.
    pub fn options(&self) -> &ProviderOptions {
        &self.options
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
        let mut headers = self.options.default_headers.clone();
        match &self.endpoint {
            Endpoint::AiStudio { base_url, api_key } => {
                if let Some(key) = api_key {
                    headers.insert(
                        "x-goog-api-key",
                        h::secret_header(provider, key.expose_secret())?,
                    );
                }
                let path = format!("v1beta/models/{}:{method}", self.model);
                Ok((h::join_url(base_url, &path), headers))
            }
            Endpoint::Vertex { location, auth } => {
                if let Some(auth) = auth {
                    let token = auth.access_token().await?;
                    headers.insert(http::header::AUTHORIZATION, h::bearer(provider, &token)?);
                }
                Ok((location.model_url("google", &self.model, method), headers))
            }
        }
    }

    fn new_state(&self) -> GeminiStreamState {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        GeminiStreamState::new(self.provider_name(), nonce.get(..12).unwrap_or(&nonce))
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
            let body = build_request(request, &self.body, &self.options);
            let (url, headers) = self.target(false).await?;
            let response = h::post_json(
                &self.client,
                provider,
                &url,
                headers,
                &body,
                self.options.timeouts.request,
            )
            .await?;
            let raw: Value =
                h::read_json(provider, response, self.options.timeouts.request).await?;
            // The answer is one chunk of the stream format: the same machine reads it.
            let out = run_to_end(provider, [raw], self.new_state())?;
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
            let body = build_request(request, &self.body, &self.options);
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
            self.new_state(),
            span,
            credentials,
        ))
    }

    /// `GET /v1beta/models`, following pages (AI Studio only).
    async fn list_models(&self) -> Result<Vec<ModelSummary>, ProviderError> {
        let span = list_span(&self.info);
        async {
            let Endpoint::AiStudio { base_url, api_key } = &self.endpoint else {
                return Err(ProviderError::unsupported(
                    self.provider_name(),
                    "model listing on Vertex AI",
                ));
            };
            let provider = self.provider_name();
            let mut out = Vec::new();
            let mut token: Option<String> = None;
            for _ in 0..100 {
                let mut url = h::join_url(base_url, "v1beta/models?pageSize=1000");
                if let Some(t) = &token {
                    url.push_str("&pageToken=");
                    url.push_str(&percent_encode(t));
                }
                let mut headers = self.options.default_headers.clone();
                if let Some(key) = api_key {
                    headers.insert(
                        "x-goog-api-key",
                        h::secret_header(provider, key.expose_secret())?,
                    );
                }
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
                out.extend(page.models.into_iter().map(|m| {
                    let id = m
                        .name
                        .strip_prefix("models/")
                        .map(str::to_owned)
                        .unwrap_or(m.name);
                    let mut summary = ModelSummary::new(id);
                    summary.display_name = m.display_name;
                    summary
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
