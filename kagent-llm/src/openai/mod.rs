//! OpenAI Chat Completions and Responses API, OpenAI-compatible servers, and Azure OpenAI.
//!
//! - OpenAI: `POST {baseUrl}/chat/completions` or `{baseUrl}/responses` (kagent's
//!   `apiFormat`), `Authorization: Bearer`, optional `OpenAI-Organization`; models from
//!   `GET {baseUrl}/models`. Any OpenAI-compatible server (vLLM, LiteLLM, llama.cpp, LM Studio,
//!   Ollama's `/v1`) works through `baseUrl`.
//! - Azure classic: `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=V`
//!   with an `api-key` header or an Entra ID bearer token; Azure v1 (`apiVersion` empty or
//!   `v1`): `{endpoint}/openai/v1/chat/completions` without `api-version`, the model in the body.

pub(crate) mod chat;
pub(crate) mod responses;

use std::fmt;

use async_trait::async_trait;
use http::{HeaderMap, HeaderName, HeaderValue};
use kagent_core::{
    Capabilities, ChatRequest, ChatResponse, ChatStream, ModelInfo, ModelProvider, ModelSummary,
    ProviderError,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tracing::Instrument;

use crate::config::{ApiFormat, ConfigError, MaxTokensField, ModelConfig, SystemRole};
use crate::driver::drive;
use crate::framing::{ByteStream, sse_events};
use crate::http::{self as h, Timeouts};
use crate::telemetry;

pub use chat::ChatStreamMachine;
pub use responses::ResponsesStreamMachine;

/// The default OpenAI base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Request settings that do not change per call.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OpenAISettings {
    /// Chat Completions or Responses.
    pub api_format: ApiFormat,
    /// Role of the system prompt in Chat Completions.
    pub system_role: SystemRole,
    /// `max_tokens` or `max_completion_tokens`.
    pub max_tokens_field: MaxTokensField,
    /// Default output token limit (the request's wins).
    pub max_tokens: Option<u32>,
    /// Default temperature (the request's wins).
    pub temperature: Option<f32>,
    /// Default nucleus sampling (the request's wins).
    pub top_p: Option<f32>,
    /// Frequency penalty.
    pub frequency_penalty: Option<f32>,
    /// Presence penalty.
    pub presence_penalty: Option<f32>,
    /// Seed.
    pub seed: Option<i64>,
    /// Number of choices (only the first is used).
    pub n: Option<u32>,
    /// Reasoning effort (`none`, `minimal`, `low`, `medium`, `high`).
    pub reasoning_effort: Option<String>,
    /// Ask for usage in streams (`stream_options.include_usage`; default on).
    pub stream_usage: bool,
}

/// How to reach the API.
#[derive(Clone)]
enum Target {
    OpenAI {
        base_url: String,
    },
    AzureClassic {
        endpoint: String,
        deployment: String,
        api_version: String,
    },
    AzureV1 {
        endpoint: String,
    },
}

#[derive(Clone)]
enum Auth {
    None,
    Bearer(SecretString),
    ApiKeyHeader(SecretString),
}

/// Azure OpenAI settings.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct AzureOptions {
    /// `https://{resource}.openai.azure.com`.
    pub endpoint: String,
    /// Deployment name.
    pub deployment: String,
    /// `api-version`; `None`, empty or `v1` selects the v1 API.
    pub api_version: Option<String>,
    /// API key (`api-key` header).
    pub api_key: Option<SecretString>,
    /// Entra ID bearer token (used instead of the API key).
    pub ad_token: Option<SecretString>,
}

impl fmt::Debug for AzureOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureOptions")
            .field("endpoint", &self.endpoint)
            .field("deployment", &self.deployment)
            .field("api_version", &self.api_version)
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("ad_token", &self.ad_token.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// A [`ModelProvider`] for OpenAI, OpenAI-compatible servers and Azure OpenAI.
///
/// ```no_run
/// use kagent_core::{ChatRequest, Message, ModelProvider};
/// use kagent_llm::openai::OpenAIProvider;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let provider = OpenAIProvider::new(reqwest::Client::new(), "gpt-4.1-mini")
///     .with_api_key("sk-...")
///     .with_base_url("http://litellm.kagent:4000/v1"); // any OpenAI-compatible server
/// let response = provider.chat(&ChatRequest::new(vec![Message::user("hi")])).await?;
/// println!("{}", response.message.text_content());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OpenAIProvider {
    info: ModelInfo,
    client: reqwest::Client,
    target: Target,
    auth: Auth,
    organization: Option<String>,
    headers: HeaderMap,
    timeouts: Timeouts,
    settings: OpenAISettings,
}

impl fmt::Debug for OpenAIProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = match &self.target {
            Target::OpenAI { base_url } => format!("openai {base_url}"),
            Target::AzureClassic {
                endpoint,
                deployment,
                api_version,
            } => format!("azure {endpoint} deployment={deployment} api-version={api_version}"),
            Target::AzureV1 { endpoint } => format!("azure v1 {endpoint}"),
        };
        f.debug_struct("OpenAIProvider")
            .field("info", &self.info)
            .field("target", &target)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl OpenAIProvider {
    /// A provider for `model` at `api.openai.com` with no key; set one with
    /// [`with_api_key`](Self::with_api_key).
    pub fn new(client: reqwest::Client, model: impl Into<String>) -> Self {
        OpenAIProvider {
            info: ModelInfo {
                provider: "openai".into(),
                model: model.into(),
                capabilities: Capabilities {
                    vision: true,
                    ..Capabilities::default()
                },
            },
            client,
            target: Target::OpenAI {
                base_url: DEFAULT_BASE_URL.into(),
            },
            auth: Auth::None,
            organization: None,
            headers: HeaderMap::new(),
            timeouts: Timeouts::DEFAULT,
            settings: OpenAISettings {
                stream_usage: true,
                ..Default::default()
            },
        }
    }

    /// An Azure OpenAI provider.
    pub fn azure(client: reqwest::Client, options: AzureOptions) -> Result<Self, ConfigError> {
        let endpoint = options.endpoint.trim_end_matches('/').to_owned();
        if endpoint.is_empty() {
            return Err(ConfigError::MissingField {
                provider: crate::ProviderKind::AzureOpenAI,
                field: "azureOpenAI.azureEndpoint".into(),
            });
        }
        let version = options
            .api_version
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "v1");
        let target = match version {
            Some(v) => {
                if options.deployment.is_empty() {
                    return Err(ConfigError::MissingField {
                        provider: crate::ProviderKind::AzureOpenAI,
                        field: "azureOpenAI.azureDeployment".into(),
                    });
                }
                Target::AzureClassic {
                    endpoint,
                    deployment: options.deployment.clone(),
                    api_version: v.to_owned(),
                }
            }
            None => Target::AzureV1 { endpoint },
        };
        let auth = match (options.ad_token, options.api_key) {
            (Some(t), _) => Auth::Bearer(t),
            (None, Some(k)) => Auth::ApiKeyHeader(k),
            (None, None) => {
                return Err(ConfigError::MissingField {
                    provider: crate::ProviderKind::AzureOpenAI,
                    field: "apiKey or azureOpenAI.azureAdToken".into(),
                });
            }
        };
        let mut p = OpenAIProvider::new(client, options.deployment);
        p.info.provider = "azure.ai.openai".into();
        p.target = target;
        p.auth = auth;
        Ok(p)
    }

    /// Builds the provider from a [`ModelConfig`] (`OpenAI` or `AzureOpenAI`).
    pub fn from_config(config: &ModelConfig, client: reqwest::Client) -> Result<Self, ConfigError> {
        let mut p = match config.provider {
            crate::ProviderKind::AzureOpenAI => {
                let a = config
                    .azure_open_ai
                    .as_ref()
                    .ok_or_else(|| config.missing("azureOpenAI"))?;
                let deployment = a
                    .azure_deployment
                    .clone()
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| config.model.clone());
                let mut p = OpenAIProvider::azure(
                    client,
                    AzureOptions {
                        endpoint: a.azure_endpoint.clone(),
                        deployment,
                        api_version: a.api_version.clone(),
                        api_key: config.api_key.clone(),
                        ad_token: a.azure_ad_token.clone(),
                    },
                )?;
                p.settings.temperature = a.temperature;
                p.settings.max_tokens = a.max_tokens;
                p.settings.top_p = a.top_p;
                // The v1 API takes the deployment as `model` in the body; keep the model name
                // for reporting when no deployment was given.
                p
            }
            _ => {
                let mut p = OpenAIProvider::new(client, config.model.clone());
                if let Some(k) = &config.api_key {
                    p.auth = Auth::Bearer(k.clone());
                }
                let o = config.open_ai.clone().unwrap_or_default();
                if let Some(base) = o.base_url.clone().or_else(|| config.base_url.clone()) {
                    p = p.with_base_url(base);
                }
                p.organization = o.organization.clone().filter(|s| !s.is_empty());
                p.settings = OpenAISettings {
                    api_format: o.api_format.unwrap_or_default(),
                    system_role: o.system_role.unwrap_or_default(),
                    // Reasoning models take only max_completion_tokens (API reference: max_tokens
                    // "is not compatible with o1 series models").
                    max_tokens_field: o.max_tokens_field.unwrap_or(
                        if o.reasoning_effort.as_deref().is_some_and(|e| !e.is_empty()) {
                            MaxTokensField::MaxCompletionTokens
                        } else {
                            MaxTokensField::MaxTokens
                        },
                    ),
                    max_tokens: o.max_tokens,
                    temperature: o.temperature,
                    top_p: o.top_p,
                    frequency_penalty: o.frequency_penalty,
                    presence_penalty: o.presence_penalty,
                    seed: o.seed,
                    n: o.n,
                    reasoning_effort: o.reasoning_effort.clone().filter(|s| !s.is_empty()),
                    stream_usage: true,
                };
                p
            }
        };
        p.headers = config.header_map()?;
        p.timeouts = config.effective_timeouts();
        Ok(p)
    }

    /// Sets the API key (`Authorization: Bearer`; Azure: the `api-key` header).
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        let key = SecretString::from(key.into());
        self.auth = match (&self.target, &self.auth) {
            (Target::OpenAI { .. }, _) => Auth::Bearer(key),
            (_, Auth::Bearer(t)) => Auth::Bearer(t.clone()),
            _ => Auth::ApiKeyHeader(key),
        };
        self
    }

    /// Sets the base URL (OpenAI-compatible servers). No effect on Azure providers.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        if let Target::OpenAI { base_url: b } = &mut self.target {
            *b = base_url.into().trim_end_matches('/').to_owned();
        }
        self
    }

    /// Sets the `OpenAI-Organization` header.
    pub fn with_organization(mut self, org: impl Into<String>) -> Self {
        self.organization = Some(org.into());
        self
    }

    /// Replaces the request settings.
    pub fn with_settings(mut self, settings: OpenAISettings) -> Self {
        self.settings = settings;
        self
    }

    /// The request settings.
    pub fn settings(&self) -> &OpenAISettings {
        &self.settings
    }

    /// Selects Chat Completions or Responses.
    pub fn with_api_format(mut self, format: ApiFormat) -> Self {
        self.settings.api_format = format;
        self
    }

    /// Adds headers sent with every request.
    pub fn with_headers(mut self, headers: HeaderMap) -> Self {
        self.headers.extend(headers);
        self
    }

    /// Sets the timeouts.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets the provider name reported in spans and errors (default `openai`, Azure
    /// `azure.ai.openai`).
    pub fn with_provider_name(mut self, name: impl Into<String>) -> Self {
        self.info.provider = name.into();
        self
    }

    fn provider(&self) -> &str {
        &self.info.provider
    }

    fn url(&self, op: &str) -> String {
        match &self.target {
            Target::OpenAI { base_url } => h::join_url(base_url, op),
            Target::AzureClassic {
                endpoint,
                deployment,
                api_version,
            } => {
                if op == "models" {
                    format!("{endpoint}/openai/models?api-version={api_version}")
                } else {
                    format!(
                        "{endpoint}/openai/deployments/{deployment}/{op}?api-version={api_version}"
                    )
                }
            }
            Target::AzureV1 { endpoint } => format!("{endpoint}/openai/v1/{op}"),
        }
    }

    fn request_headers(&self) -> Result<HeaderMap, ProviderError> {
        let mut headers = self.headers.clone();
        match &self.auth {
            Auth::None => {}
            Auth::Bearer(t) => {
                let v =
                    h::secret_header(self.provider(), &format!("Bearer {}", t.expose_secret()))?;
                headers.insert(http::header::AUTHORIZATION, v);
            }
            Auth::ApiKeyHeader(k) => {
                let v = h::secret_header(self.provider(), k.expose_secret())?;
                headers.insert(HeaderName::from_static("api-key"), v);
            }
        }
        if let Some(org) = &self.organization
            && let Ok(v) = HeaderValue::from_str(org)
        {
            headers.insert(HeaderName::from_static("openai-organization"), v);
        }
        Ok(headers)
    }

    /// The `model` body field: classic Azure takes the deployment from the path.
    fn body_model(&self) -> Option<&str> {
        match self.target {
            Target::AzureClassic { .. } => None,
            _ => Some(&self.info.model),
        }
    }

    fn body(&self, request: &ChatRequest, stream: bool) -> Value {
        match self.settings.api_format {
            ApiFormat::ChatCompletions => {
                chat::build_body(&self.settings, request, self.body_model(), stream)
            }
            ApiFormat::Responses => {
                responses::build_body(&self.settings, request, &self.info.model, stream)
            }
        }
    }

    fn op(&self) -> &'static str {
        match self.settings.api_format {
            ApiFormat::ChatCompletions => "chat/completions",
            ApiFormat::Responses => "responses",
        }
    }

    async fn chat_inner(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let body = self.body(request, false);
        let resp = h::post_json(
            &self.client,
            self.provider(),
            &self.url(self.op()),
            self.request_headers()?,
            &body,
            self.timeouts.request,
        )
        .await?;
        match self.settings.api_format {
            ApiFormat::ChatCompletions => {
                let c: chat::Completion =
                    h::read_json(self.provider(), resp, self.timeouts.request).await?;
                Ok(chat::parse_completion(c))
            }
            ApiFormat::Responses => {
                let v: Value = h::read_json(self.provider(), resp, self.timeouts.request).await?;
                responses::parse_response(self.provider(), &v)
            }
        }
    }
}

/// Decodes a Chat Completions SSE body (a recording, or any byte stream) into chat events,
/// exactly as [`OpenAIProvider::chat_stream`] does after the HTTP exchange.
pub fn decode_chat_stream(provider: &str, bytes: ByteStream) -> ChatStream {
    drive(
        provider,
        sse_events(provider, bytes),
        ChatStreamMachine::new(provider),
        tracing::Span::none(),
    )
}

/// Decodes a Responses API SSE body into chat events.
pub fn decode_responses_stream(provider: &str, bytes: ByteStream) -> ChatStream {
    drive(
        provider,
        sse_events(provider, bytes),
        ResponsesStreamMachine::new(provider),
        tracing::Span::none(),
    )
}

#[async_trait]
impl ModelProvider for OpenAIProvider {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let span = telemetry::chat_span(&self.info, false);
        let result = self.chat_inner(request).instrument(span.clone()).await;
        match &result {
            Ok(r) => telemetry::record_response(&span, r),
            Err(e) => telemetry::record_error(&span, e),
        }
        result
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let span = telemetry::chat_span(&self.info, true);
        let body = self.body(request, true);
        let sent = async {
            let headers = self.request_headers()?;
            h::post_json(
                &self.client,
                self.provider(),
                &self.url(self.op()),
                headers,
                &body,
                self.timeouts.request,
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
        let bytes = h::byte_stream(provider, resp, self.timeouts.stream_idle);
        let events = sse_events(provider, bytes);
        Ok(match self.settings.api_format {
            ApiFormat::ChatCompletions => {
                drive(provider, events, ChatStreamMachine::new(provider), span)
            }
            ApiFormat::Responses => drive(
                provider,
                events,
                ResponsesStreamMachine::new(provider),
                span,
            ),
        })
    }

    async fn list_models(&self) -> Result<Vec<ModelSummary>, ProviderError> {
        let span = telemetry::list_span(&self.info);
        async {
            let resp = h::get(
                &self.client,
                self.provider(),
                &self.url("models"),
                self.request_headers()?,
                self.timeouts.request,
            )
            .await?;
            let v: Value = h::read_json(self.provider(), resp, self.timeouts.request).await?;
            Ok(v.get("data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|m| m.get("id").and_then(Value::as_str))
                .map(|id| ModelSummary {
                    id: id.to_owned(),
                    display_name: None,
                })
                .collect())
        }
        .instrument(span)
        .await
    }
}
