//! OpenAI Chat Completions and Responses API, OpenAI-compatible servers, and Azure OpenAI.
//!
//! - OpenAI: `POST {baseUrl}/chat/completions` or `{baseUrl}/responses` (kagent's
//!   `apiFormat`), `Authorization: Bearer`, optional `OpenAI-Organization`; models from
//!   `GET {baseUrl}/models`. Any OpenAI-compatible server (vLLM, LiteLLM, llama.cpp, LM Studio,
//!   Ollama's `/v1`) works through `baseUrl`.
//! - Azure classic: `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=V`
//!   with an `api-key` header or an Entra ID bearer token; Azure v1 (`apiVersion` empty or
//!   `v1`): `{endpoint}/openai/v1/chat/completions` without `api-version`, the model in the body.
//! - Endpoint-specific request adaptations (a server that reads another field name, or lacks
//!   a parameter) belong in [`OpenAIProvider`]'s `Target` and its `body` step, which every
//!   request passes through, not in the shared body builders.

pub(crate) mod chat;
mod compat;
pub(crate) mod responses;

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;
use http::{HeaderMap, HeaderName, HeaderValue};
use kagent_core::{
    Capabilities, ChatRequest, ChatResponse, ChatStream, ModelInfo, ModelProvider, ModelSummary,
    ProviderError,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use tracing::Instrument;

use crate::driver::drive;
use crate::framing::{ByteStream, sse_events};
use crate::http as h;
use crate::options::{Auth, ConfigError, ProviderKind, ProviderOptions};
use crate::telemetry;

use chat::ChatStreamMachine;
use responses::ResponsesStreamMachine;

/// The default OpenAI base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Which OpenAI API to call (kagent's `apiFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ApiFormat {
    /// `POST /chat/completions`.
    #[default]
    ChatCompletions,
    /// `POST /responses`.
    Responses,
}

impl<'de> Deserialize<'de> for ApiFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.to_ascii_lowercase().replace(['_', '-'], "").as_str() {
            "chat" | "chatcompletions" | "completions" => Ok(ApiFormat::ChatCompletions),
            "responses" | "response" => Ok(ApiFormat::Responses),
            _ => Err(serde::de::Error::custom(format!(
                "unknown apiFormat {s:?} (expected chat or responses)"
            ))),
        }
    }
}

/// The role that carries the system prompt in OpenAI chat requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SystemRole {
    /// `role: "system"` (every compatible server understands it).
    #[default]
    System,
    /// `role: "developer"` (OpenAI reasoning models).
    Developer,
}

/// The request field that carries the output token limit in Chat Completions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MaxTokensField {
    /// `max_tokens` (classic; what most compatible servers read).
    #[default]
    MaxTokens,
    /// `max_completion_tokens` (OpenAI's current field, required by reasoning models).
    MaxCompletionTokens,
}

/// OpenAI-specific request settings (the shared ones, such as sampling and the token limit,
/// are in [`ProviderOptions`]).
///
/// ```
/// use kagent_llm::openai::{ApiFormat, OpenAISettings};
/// let settings = OpenAISettings::default()
///     .with_api_format(ApiFormat::Responses)
///     .with_reasoning_effort("low");
/// assert!(settings.stream_usage);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OpenAISettings {
    /// Chat Completions or Responses.
    pub api_format: ApiFormat,
    /// Role of the system prompt in Chat Completions.
    pub system_role: SystemRole,
    /// `max_tokens` or `max_completion_tokens`.
    pub max_tokens_field: MaxTokensField,
    /// `OpenAI-Organization` header.
    pub organization: Option<String>,
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
    /// Ask for usage in streams (`stream_options.include_usage`; default on). A server that
    /// sends none anyway gets its tokens counted locally, marked estimated.
    pub stream_usage: bool,
    /// `parallel_tool_calls` (sent only with tools; `None` leaves it to the server).
    pub parallel_tool_calls: Option<bool>,
}

impl Default for OpenAISettings {
    fn default() -> Self {
        OpenAISettings {
            api_format: ApiFormat::default(),
            system_role: SystemRole::default(),
            max_tokens_field: MaxTokensField::default(),
            organization: None,
            frequency_penalty: None,
            presence_penalty: None,
            seed: None,
            n: None,
            reasoning_effort: None,
            stream_usage: true,
            parallel_tool_calls: None,
        }
    }
}

impl OpenAISettings {
    /// Selects Chat Completions or Responses.
    #[must_use]
    pub fn with_api_format(mut self, format: ApiFormat) -> Self {
        self.api_format = format;
        self
    }

    /// Sets the role of the system prompt (Chat Completions).
    #[must_use]
    pub fn with_system_role(mut self, role: SystemRole) -> Self {
        self.system_role = role;
        self
    }

    /// Sets the field that carries the output token limit (Chat Completions).
    #[must_use]
    pub fn with_max_tokens_field(mut self, field: MaxTokensField) -> Self {
        self.max_tokens_field = field;
        self
    }

    /// Sets the `OpenAI-Organization` header.
    #[must_use]
    pub fn with_organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// Sets the frequency penalty.
    #[must_use]
    pub fn with_frequency_penalty(mut self, penalty: f32) -> Self {
        self.frequency_penalty = Some(penalty);
        self
    }

    /// Sets the presence penalty.
    #[must_use]
    pub fn with_presence_penalty(mut self, penalty: f32) -> Self {
        self.presence_penalty = Some(penalty);
        self
    }

    /// Sets the seed.
    #[must_use]
    pub fn with_seed(mut self, seed: i64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets the number of choices (only the first is used).
    #[must_use]
    pub fn with_n(mut self, n: u32) -> Self {
        self.n = Some(n);
        self
    }

    /// Sets the reasoning effort (`none`, `minimal`, `low`, `medium`, `high`).
    #[must_use]
    pub fn with_reasoning_effort(mut self, effort: impl Into<String>) -> Self {
        self.reasoning_effort = Some(effort.into());
        self
    }

    /// Asks for usage in streams (`stream_options.include_usage`) when `on`.
    #[must_use]
    pub fn with_stream_usage(mut self, on: bool) -> Self {
        self.stream_usage = on;
        self
    }

    /// Allows (`true`) or forbids (`false`) several tool calls in one answer
    /// (`parallel_tool_calls`, sent with tools only).
    #[must_use]
    pub fn with_parallel_tool_calls(mut self, on: bool) -> Self {
        self.parallel_tool_calls = Some(on);
        self
    }
}

/// Which Azure OpenAI API a provider calls.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AzureApi {
    /// The v1 API: `{endpoint}/openai/v1/...`, no `api-version`, the deployment as `model`.
    V1,
    /// The classic API: `{endpoint}/openai/deployments/{deployment}/...?api-version=V`.
    Classic {
        /// The `api-version` query value (e.g. `2024-10-21`).
        api_version: String,
    },
}

impl AzureApi {
    /// kagent's `apiVersion`: empty, absent or `v1` selects the v1 API, anything else the
    /// classic API with that version.
    pub fn from_version(api_version: Option<&str>) -> Self {
        match api_version
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "v1")
        {
            Some(v) => AzureApi::Classic {
                api_version: v.to_owned(),
            },
            None => AzureApi::V1,
        }
    }
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

/// The credential header.
#[derive(Clone)]
enum Credential {
    None,
    Bearer(SecretString),
    ApiKeyHeader(SecretString),
}

/// A [`ModelProvider`] for OpenAI, OpenAI-compatible servers and Azure OpenAI.
///
/// ```no_run
/// use kagent_core::{ChatRequest, Message, ModelProvider};
/// use kagent_llm::ProviderOptions;
/// use kagent_llm::openai::OpenAIProvider;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let provider = OpenAIProvider::new(
///     reqwest::Client::new(),
///     "gpt-4.1-mini",
///     ProviderOptions::new()
///         .with_api_key("sk-...")
///         .with_base_url("http://litellm.kagent:4000/v1"), // any OpenAI-compatible server
/// )?;
/// let response = provider.chat(&ChatRequest::new(vec![Message::user("hi")])).await?;
/// println!("{}", response.message.text_content());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OpenAIProvider {
    info: ModelInfo,
    client: reqwest::Client,
    target: Target,
    credential: Credential,
    options: ProviderOptions,
    settings: OpenAISettings,
    /// What this endpoint rejected, learned from its 400s (shared with clones).
    adaptations: compat::Adaptations,
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
            .field("options", &self.options)
            .field("settings", &self.settings)
            .field("adaptations", &self.adaptations.learned())
            .finish_non_exhaustive()
    }
}

impl OpenAIProvider {
    /// OpenAI, or any OpenAI-compatible server at `options.base_url` (default
    /// [`DEFAULT_BASE_URL`]). Authenticates with `Auth::ApiKey` or `Auth::BearerToken` (both
    /// `Authorization: Bearer`), or not at all.
    pub fn new(
        client: reqwest::Client,
        model: impl Into<String>,
        options: ProviderOptions,
    ) -> Result<Self, ConfigError> {
        let credential = match &options.auth {
            Auth::None => Credential::None,
            Auth::ApiKey(k) | Auth::BearerToken(k) => Credential::Bearer(k.clone()),
            _ => {
                return Err(options.unsupported_auth(
                    ProviderKind::OpenAI,
                    "OpenAI takes an API key or a bearer token",
                ));
            }
        };
        Ok(OpenAIProvider {
            info: ModelInfo::new("openai", model)
                .with_capabilities(Capabilities::default().with_vision(true)),
            client,
            target: Target::OpenAI {
                base_url: options.base_url_or(DEFAULT_BASE_URL),
            },
            credential,
            options,
            settings: OpenAISettings::default(),
            adaptations: compat::Adaptations::default(),
        })
    }

    /// Azure OpenAI: `options.base_url` is the resource endpoint
    /// (`https://{resource}.openai.azure.com`, required), `deployment` the deployment name
    /// (also reported as the model). Authenticates with `Auth::ApiKey` (the `api-key` header)
    /// or `Auth::BearerToken` (an Entra ID token).
    pub fn azure(
        client: reqwest::Client,
        api: AzureApi,
        deployment: impl Into<String>,
        options: ProviderOptions,
    ) -> Result<Self, ConfigError> {
        let deployment = deployment.into();
        let endpoint = options.base_url_or("");
        if endpoint.is_empty() {
            return Err(ConfigError::MissingField {
                provider: ProviderKind::AzureOpenAI,
                field: "azureOpenAI.azureEndpoint".into(),
            });
        }
        let target = match api {
            AzureApi::Classic { api_version } => {
                if deployment.is_empty() {
                    return Err(ConfigError::MissingField {
                        provider: ProviderKind::AzureOpenAI,
                        field: "azureOpenAI.azureDeployment".into(),
                    });
                }
                Target::AzureClassic {
                    endpoint,
                    deployment: deployment.clone(),
                    api_version,
                }
            }
            AzureApi::V1 => Target::AzureV1 { endpoint },
        };
        let credential = match &options.auth {
            Auth::None => Credential::None,
            Auth::ApiKey(k) => Credential::ApiKeyHeader(k.clone()),
            Auth::BearerToken(t) => Credential::Bearer(t.clone()),
            _ => {
                return Err(options.unsupported_auth(
                    ProviderKind::AzureOpenAI,
                    "Azure OpenAI takes an API key or an Entra ID bearer token",
                ));
            }
        };
        Ok(OpenAIProvider {
            info: ModelInfo::new("azure.ai.openai", deployment)
                .with_capabilities(Capabilities::default().with_vision(true)),
            client,
            target,
            credential,
            options,
            settings: OpenAISettings::default(),
            adaptations: compat::Adaptations::default(),
        })
    }

    /// Sets the OpenAI-specific request settings.
    #[must_use]
    pub fn with_settings(mut self, settings: OpenAISettings) -> Self {
        self.settings = settings;
        self
    }

    /// The OpenAI-specific request settings.
    pub fn settings(&self) -> &OpenAISettings {
        &self.settings
    }

    /// The shared options the provider was built with.
    pub fn options(&self) -> &ProviderOptions {
        &self.options
    }

    /// Sets the provider name reported in spans and errors (default `openai`, Azure
    /// `azure.ai.openai`); useful for OpenAI-compatible servers (`vllm`, `litellm`, ...).
    #[must_use]
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
        let mut headers = self.options.default_headers.clone();
        match &self.credential {
            Credential::None => {}
            Credential::Bearer(t) => {
                headers.insert(http::header::AUTHORIZATION, h::bearer(self.provider(), t)?);
            }
            Credential::ApiKeyHeader(k) => {
                let v = h::secret_header(self.provider(), k.expose_secret())?;
                headers.insert(HeaderName::from_static("api-key"), v);
            }
        }
        if let Some(org) = self
            .settings
            .organization
            .as_deref()
            .filter(|o| !o.is_empty())
        {
            let v = HeaderValue::from_str(org).map_err(|_| {
                ProviderError::configuration(
                    self.provider(),
                    "the organization contains characters not allowed in an HTTP header",
                )
            })?;
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

    /// The request body. Every request passes here: endpoint-specific adaptations of the body
    /// go after the shared builders, keyed on the target. Chat Completions bodies get the
    /// adaptations this endpoint has asked for so far ([`compat`]).
    fn body(&self, request: &ChatRequest, stream: bool) -> Value {
        let (s, o) = (&self.settings, &self.options);
        match s.api_format {
            ApiFormat::ChatCompletions => {
                let mut body = chat::build_body(s, o, request, self.body_model(), stream);
                let applied = self.adaptations.apply(&mut body);
                if !applied.is_empty() {
                    tracing::debug!(
                        provider = %self.provider(),
                        adaptations = ?applied.iter().map(|a| a.describe()).collect::<Vec<_>>(),
                        "request adapted to what this endpoint accepts"
                    );
                }
                body
            }
            ApiFormat::Responses => responses::build_body(s, o, request, &self.info.model, stream),
        }
    }

    /// POSTs a body. A Chat Completions request the server rejects with a 400 naming a field
    /// it carried is sent once more without that field, and the adaptation is remembered for
    /// this endpoint ([`compat`]); `body` is left as it was last sent.
    async fn send(&self, body: &mut Value) -> Result<reqwest::Response, ProviderError> {
        let url = self.url(self.op());
        let first = self.post(&url, body).await;
        let err = match first {
            Ok(r) => return Ok(r),
            Err(e) => e,
        };
        if self.settings.api_format != ApiFormat::ChatCompletions {
            return Err(err);
        }
        let fixes = self.adaptations.for_rejection(&err, body);
        if fixes.is_empty() {
            return Err(err);
        }
        self.adaptations.learn(&fixes);
        for f in &fixes {
            f.apply(body);
        }
        tracing::debug!(
            provider = %self.provider(),
            url = %url,
            error = %err,
            adaptations = ?fixes.iter().map(|a| a.describe()).collect::<Vec<_>>(),
            "the server rejected part of the request: retrying once adapted, and adapting \
             every later request to this endpoint"
        );
        self.post(&url, body).await
    }

    async fn post(&self, url: &str, body: &Value) -> Result<reqwest::Response, ProviderError> {
        h::post_json(
            &self.client,
            self.provider(),
            url,
            self.request_headers()?,
            body,
            self.options.timeouts.request,
        )
        .await
    }

    fn op(&self) -> &'static str {
        match self.settings.api_format {
            ApiFormat::ChatCompletions => "chat/completions",
            ApiFormat::Responses => "responses",
        }
    }

    async fn chat_inner(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let mut body = self.body(request, false);
        let resp = self.send(&mut body).await?;
        match self.settings.api_format {
            ApiFormat::ChatCompletions => {
                let c: chat::Completion =
                    h::read_json(self.provider(), resp, self.options.timeouts.request).await?;
                let mut response = chat::parse_completion(c);
                if response.usage.is_none() {
                    // The server reported none: count locally, marked estimated.
                    let model = &self.info.model;
                    response.usage = Some(crate::estimate::usage(
                        crate::estimate::chat_body_input(model, &body),
                        crate::estimate::output_of(model, &response.message),
                    ));
                }
                Ok(response)
            }
            ApiFormat::Responses => {
                let v: Value =
                    h::read_json(self.provider(), resp, self.options.timeouts.request).await?;
                responses::parse_response(self.provider(), &v)
            }
        }
    }
}

/// Decodes a Chat Completions SSE body (a recording, or any stream of byte chunks) into chat
/// events, exactly as [`OpenAIProvider::chat_stream`] does after the HTTP exchange.
///
/// ```
/// use bytes::Bytes;
/// use kagent_core::collect_stream;
///
/// let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
/// let chunks = futures::stream::iter([Ok(Bytes::from(body))]);
/// let stream = kagent_llm::openai::decode_chat_stream("openai", chunks);
/// let answer = futures::executor::block_on(collect_stream("openai", stream))?;
/// assert_eq!(answer.message.text_content(), "hi");
/// # Ok::<(), kagent_core::ProviderError>(())
/// ```
pub fn decode_chat_stream<S>(provider: &str, bytes: S) -> ChatStream
where
    S: Stream<Item = Result<Bytes, ProviderError>> + Send + 'static,
{
    let bytes: ByteStream = Box::pin(bytes);
    drive(
        provider,
        sse_events(provider, bytes),
        ChatStreamMachine::new(provider),
        tracing::Span::none(),
        kagent_core::SecretValues::new(),
    )
}

/// Decodes a Responses API SSE body (a recording, or any stream of byte chunks) into chat
/// events.
pub fn decode_responses_stream<S>(provider: &str, bytes: S) -> ChatStream
where
    S: Stream<Item = Result<Bytes, ProviderError>> + Send + 'static,
{
    let bytes: ByteStream = Box::pin(bytes);
    drive(
        provider,
        sse_events(provider, bytes),
        ResponsesStreamMachine::new(provider),
        tracing::Span::none(),
        kagent_core::SecretValues::new(),
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
        let mut body = self.body(request, true);
        let sent = self.send(&mut body).instrument(span.clone()).await;
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
        let events = sse_events(provider, bytes);
        Ok(match self.settings.api_format {
            ApiFormat::ChatCompletions => {
                let machine = ChatStreamMachine::new(provider)
                    .with_estimate(chat::UsageEstimate::new(&self.info.model, body));
                drive(provider, events, machine, span, credentials)
            }
            ApiFormat::Responses => drive(
                provider,
                events,
                ResponsesStreamMachine::new(provider),
                span,
                credentials,
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
                self.options.timeouts.request,
            )
            .await?;
            let v: Value =
                h::read_json(self.provider(), resp, self.options.timeouts.request).await?;
            Ok(v.get("data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|m| m.get("id").and_then(Value::as_str))
                .map(ModelSummary::new)
                .collect())
        }
        .instrument(span)
        .await
    }
}
