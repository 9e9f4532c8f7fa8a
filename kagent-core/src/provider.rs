//! The [`ModelProvider`] contract and its typed errors.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::message::{ChatRequest, ChatResponse};
use crate::stream::{ChatStream, single_response_stream};

/// What a model endpoint can do.
///
/// Built from [`Capabilities::default`] (streaming, tool calling and parallel tool calls on;
/// vision and reasoning off) and the `with_*` setters; new capabilities may be added, so the
/// struct cannot be written as a literal outside this crate.
///
/// ```
/// use kagent_core::Capabilities;
/// let caps = Capabilities::default().with_vision(true).with_reasoning(true);
/// assert!(caps.vision && caps.streaming);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Capabilities {
    /// Streams its answers.
    pub streaming: bool,
    /// Calls tools.
    pub tool_calling: bool,
    /// Makes several tool calls in one turn.
    pub parallel_tool_calls: bool,
    /// Accepts images.
    pub vision: bool,
    /// Produces reasoning that must be replayed.
    pub reasoning: bool,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            streaming: true,
            tool_calling: true,
            parallel_tool_calls: true,
            vision: false,
            reasoning: false,
        }
    }
}

impl Capabilities {
    /// Sets [`streaming`](Self::streaming).
    #[must_use]
    pub const fn with_streaming(mut self, on: bool) -> Self {
        self.streaming = on;
        self
    }

    /// Sets [`tool_calling`](Self::tool_calling).
    #[must_use]
    pub const fn with_tool_calling(mut self, on: bool) -> Self {
        self.tool_calling = on;
        self
    }

    /// Sets [`parallel_tool_calls`](Self::parallel_tool_calls).
    #[must_use]
    pub const fn with_parallel_tool_calls(mut self, on: bool) -> Self {
        self.parallel_tool_calls = on;
        self
    }

    /// Sets [`vision`](Self::vision).
    #[must_use]
    pub const fn with_vision(mut self, on: bool) -> Self {
        self.vision = on;
        self
    }

    /// Sets [`reasoning`](Self::reasoning).
    #[must_use]
    pub const fn with_reasoning(mut self, on: bool) -> Self {
        self.reasoning = on;
        self
    }
}

/// Identity of a provider instance, used in spans, events and errors.
///
/// ```
/// use kagent_core::{Capabilities, ModelInfo};
/// let info = ModelInfo::new("openai", "gpt-4.1-mini")
///     .with_capabilities(Capabilities::default().with_vision(true));
/// assert_eq!(info.provider, "openai");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelInfo {
    /// Provider name as in OpenTelemetry's `gen_ai.provider.name` (`openai`, `anthropic`,
    /// `gcp.gemini`, `aws.bedrock`, `ollama`, ...).
    pub provider: String,
    /// The model or deployment name.
    pub model: String,
    /// What it can do.
    #[serde(default)]
    pub capabilities: Capabilities,
}

impl ModelInfo {
    /// A provider name and a model, with [`Capabilities::default`].
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        ModelInfo {
            provider: provider.into(),
            model: model.into(),
            capabilities: Capabilities::default(),
        }
    }

    /// Sets what the model can do.
    #[must_use]
    pub fn with_capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }
}

/// A model the endpoint offers, from its model listing.
///
/// ```
/// use kagent_core::ModelSummary;
/// let m = ModelSummary::new("gemini-2.5-pro").with_display_name("Gemini 2.5 Pro");
/// assert_eq!(m.display_name.as_deref(), Some("Gemini 2.5 Pro"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelSummary {
    /// Model id to put in a configuration.
    pub id: String,
    /// Display name, when different.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl ModelSummary {
    /// A model id without a display name.
    pub fn new(id: impl Into<String>) -> Self {
        ModelSummary {
            id: id.into(),
            display_name: None,
        }
    }

    /// Sets the display name.
    #[must_use]
    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }
}

/// One LLM endpoint.
///
/// Implementations live in `kagent-llm`. [`ModelProvider::chat_stream`] has a default that
/// calls [`ModelProvider::chat`] and replays the response as one burst of events, so a provider
/// without streaming only implements `chat`.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait ModelProvider: Send + Sync {
    /// Who this is.
    fn info(&self) -> &ModelInfo;

    /// One complete chat call.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError>;

    /// A streamed chat call. Errors before the first event come back here; errors after it
    /// come through the stream.
    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let response = self.chat(request).await?;
        Ok(single_response_stream(response))
    }

    /// Models the endpoint offers.
    async fn list_models(&self) -> Result<Vec<ModelSummary>, ProviderError> {
        Err(ProviderError::unsupported(
            self.info().provider.clone(),
            "model listing",
        ))
    }
}

#[async_trait]
impl<P: ModelProvider + ?Sized> ModelProvider for std::sync::Arc<P> {
    fn info(&self) -> &ModelInfo {
        (**self).info()
    }
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        (**self).chat(request).await
    }
    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        (**self).chat_stream(request).await
    }
    async fn list_models(&self) -> Result<Vec<ModelSummary>, ProviderError> {
        (**self).list_models().await
    }
}

/// Details of an error the provider's API reported.
///
/// Built with [`ApiErrorDetails::new`] and the `with_*` setters (or by assigning the public
/// fields of a value); new details may be added, so it cannot be written as a literal outside
/// this crate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiErrorDetails {
    /// HTTP status, when the error came with one (in-band stream errors have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Provider error type (`rate_limit_error`, `RESOURCE_EXHAUSTED`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// Provider error code (`insufficient_quota`, `context_length_exceeded`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The provider's message.
    pub message: String,
    /// Request id for support tickets (`x-request-id`, `request-id`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// How long the provider asked us to wait (`retry-after-ms`, `retry-after`, `RetryInfo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<Duration>,
    /// An explicit retry verdict from the provider (Anthropic's `x-should-retry`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub should_retry: Option<bool>,
}

impl ApiErrorDetails {
    /// Details carrying only the provider's message.
    pub fn new(message: impl Into<String>) -> Self {
        ApiErrorDetails {
            message: message.into(),
            ..Default::default()
        }
    }

    /// Sets the HTTP status.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the provider's error type.
    #[must_use]
    pub fn with_error_type(mut self, error_type: impl Into<String>) -> Self {
        self.error_type = Some(error_type.into());
        self
    }

    /// Sets the provider's error code.
    #[must_use]
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Sets the request id.
    #[must_use]
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// Sets the retry hint.
    #[must_use]
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// Sets the provider's explicit retry verdict.
    #[must_use]
    pub fn with_should_retry(mut self, verdict: bool) -> Self {
        self.should_retry = Some(verdict);
        self
    }
}

impl std::fmt::Display for ApiErrorDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(s) = self.status {
            write!(f, "HTTP {s}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(t) = self.error_type.as_deref().or(self.code.as_deref()) {
            write!(f, " ({t})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

/// What an error reported by a provider's API is about.
///
/// Decided from the HTTP status and the provider's error type and code (see kagent-llm's
/// error mapping); the same kinds come from every provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 429 or an in-band rate-limit error. Retryable; the details' `retry_after` says how
    /// long to wait.
    RateLimited,
    /// The account is out of quota or over a spend cap. Not retryable.
    QuotaExceeded,
    /// 529 / 503 or an in-band overloaded error. Retryable.
    Overloaded,
    /// 401: missing or wrong credentials. Not retryable.
    Authentication,
    /// 403: the credentials may not do this. Not retryable.
    PermissionDenied,
    /// 404: unknown model, deployment or path. Not retryable.
    NotFound,
    /// 400 / 422: the request was rejected. Not retryable.
    InvalidRequest,
    /// The conversation does not fit the model's context window. Not retryable as it is.
    ContextLengthExceeded,
    /// Input or output was blocked by a content filter. Not retryable.
    ContentFiltered,
    /// 5xx (and 408 / 409) or an in-band server error. Retryable.
    Server,
}

impl ApiErrorKind {
    /// Whether an error of this kind is worth retrying (unless the provider said otherwise).
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            ApiErrorKind::RateLimited | ApiErrorKind::Overloaded | ApiErrorKind::Server
        )
    }

    /// A stable `snake_case` name (`rate_limited`, `server_error`, ...), as used for
    /// OpenTelemetry's `error.type`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ApiErrorKind::RateLimited => "rate_limited",
            ApiErrorKind::QuotaExceeded => "quota_exceeded",
            ApiErrorKind::Overloaded => "overloaded",
            ApiErrorKind::Authentication => "authentication",
            ApiErrorKind::PermissionDenied => "permission_denied",
            ApiErrorKind::NotFound => "not_found",
            ApiErrorKind::InvalidRequest => "invalid_request",
            ApiErrorKind::ContextLengthExceeded => "context_length_exceeded",
            ApiErrorKind::ContentFiltered => "content_filtered",
            ApiErrorKind::Server => "server_error",
        }
    }
}

impl std::fmt::Display for ApiErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ApiErrorKind::RateLimited => "rate limited",
            ApiErrorKind::QuotaExceeded => "quota exceeded",
            ApiErrorKind::Overloaded => "overloaded",
            ApiErrorKind::Authentication => "authentication failed",
            ApiErrorKind::PermissionDenied => "permission denied",
            ApiErrorKind::NotFound => "not found",
            ApiErrorKind::InvalidRequest => "invalid request",
            ApiErrorKind::ContextLengthExceeded => "context length exceeded",
            ApiErrorKind::ContentFiltered => "content filtered",
            ApiErrorKind::Server => "server error",
        })
    }
}

/// Which wait ran out, for [`ProviderError::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Opening the TCP / TLS connection (the HTTP client's connect timeout).
    Connect,
    /// Waiting for the response headers after sending the request.
    FirstByte,
    /// Waiting for the next chunk of a streamed response.
    IdleStream,
    /// The whole exchange: reading a complete (non-streamed) response, or the HTTP client's
    /// own total timeout.
    Request,
    /// Fetching an access token (Vertex AI service account or metadata server).
    TokenExchange,
}

impl std::fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connect",
            TimeoutPhase::FirstByte => "first byte",
            TimeoutPhase::IdleStream => "idle stream",
            TimeoutPhase::Request => "request",
            TimeoutPhase::TokenExchange => "token exchange",
        })
    }
}

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a model call failed.
///
/// Every error the provider's API reports is one variant, [`ProviderError::Api`], whose
/// [`ApiErrorKind`] says what it is about; the other variants are failures on our side of the
/// wire. Match on the kind directly or use [`ProviderError::api_kind`]:
///
/// ```
/// use kagent_core::{ApiErrorDetails, ApiErrorKind, ProviderError};
///
/// let e = ProviderError::api("openai", ApiErrorKind::RateLimited, ApiErrorDetails::new("slow down"));
/// assert!(matches!(e, ProviderError::Api { kind: ApiErrorKind::RateLimited, .. }));
/// assert_eq!(e.api_kind(), Some(ApiErrorKind::RateLimited));
/// assert!(e.is_retryable());
/// ```
///
/// Errors never contain API keys or request bodies.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The provider's API reported an error: an HTTP error status, or an error event inside a
    /// streamed answer.
    #[error("{provider}: {kind}: {details}")]
    Api {
        /// Provider name.
        provider: String,
        /// What the error is about.
        kind: ApiErrorKind,
        /// What the API said.
        details: ApiErrorDetails,
    },
    /// The connection failed or broke. Retryable before any output was delivered.
    #[error("{provider}: transport error: {message}")]
    Transport {
        /// Provider name.
        provider: String,
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// No answer (or no further bytes) within the configured time. Retryable.
    #[error("{provider}: timed out after {after:?} ({phase})")]
    Timeout {
        /// Provider name.
        provider: String,
        /// Which wait ran out.
        phase: TimeoutPhase,
        /// The limit that was hit (zero when the HTTP client's own timeout fired and its
        /// value is not known here).
        after: Duration,
    },
    /// The stream ended before its terminal event. The partial output is kept.
    #[error("{provider}: stream ended before its terminal event ({reason})")]
    TruncatedStream {
        /// Provider name.
        provider: String,
        /// What was missing.
        reason: String,
        /// Everything assembled before the stream broke.
        partial: Box<ChatResponse>,
    },
    /// A response or stream event could not be decoded.
    #[error("{provider}: could not decode response: {message}")]
    Decode {
        /// Provider name.
        provider: String,
        /// What did not decode.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The provider is misconfigured (missing key, bad URL).
    #[error("{provider}: configuration error: {message}")]
    Configuration {
        /// Provider name.
        provider: String,
        /// What is wrong.
        message: String,
    },
    /// The provider does not support this feature.
    #[error("{provider}: {feature} is not supported")]
    Unsupported {
        /// Provider name.
        provider: String,
        /// The feature.
        feature: String,
    },
}

impl ProviderError {
    /// An error the provider's API reported.
    pub fn api(provider: impl Into<String>, kind: ApiErrorKind, details: ApiErrorDetails) -> Self {
        ProviderError::Api {
            provider: provider.into(),
            kind,
            details,
        }
    }

    /// A timeout in `phase` after `after`.
    pub fn timeout(provider: impl Into<String>, phase: TimeoutPhase, after: Duration) -> Self {
        ProviderError::Timeout {
            provider: provider.into(),
            phase,
            after,
        }
    }

    /// A stream that ended early, with what was assembled so far.
    pub fn truncated(
        provider: impl Into<String>,
        reason: impl Into<String>,
        partial: ChatResponse,
    ) -> Self {
        ProviderError::TruncatedStream {
            provider: provider.into(),
            reason: reason.into(),
            partial: Box::new(partial),
        }
    }

    /// A transport failure, with its cause when there is one.
    pub fn transport(
        provider: impl Into<String>,
        message: impl Into<String>,
        source: Option<BoxError>,
    ) -> Self {
        ProviderError::Transport {
            provider: provider.into(),
            message: message.into(),
            source,
        }
    }

    /// An answer that could not be decoded, with its cause when there is one.
    pub fn decode(
        provider: impl Into<String>,
        message: impl Into<String>,
        source: Option<BoxError>,
    ) -> Self {
        ProviderError::Decode {
            provider: provider.into(),
            message: message.into(),
            source,
        }
    }

    /// A configuration error.
    pub fn configuration(provider: impl Into<String>, message: impl Into<String>) -> Self {
        ProviderError::Configuration {
            provider: provider.into(),
            message: message.into(),
        }
    }

    /// A feature the provider does not support.
    pub fn unsupported(provider: impl Into<String>, feature: impl Into<String>) -> Self {
        ProviderError::Unsupported {
            provider: provider.into(),
            feature: feature.into(),
        }
    }

    /// The provider that failed.
    pub fn provider(&self) -> &str {
        match self {
            ProviderError::Api { provider, .. }
            | ProviderError::Transport { provider, .. }
            | ProviderError::Timeout { provider, .. }
            | ProviderError::TruncatedStream { provider, .. }
            | ProviderError::Decode { provider, .. }
            | ProviderError::Configuration { provider, .. }
            | ProviderError::Unsupported { provider, .. } => provider,
        }
    }

    /// What the API error is about, for errors the provider's API reported.
    pub fn api_kind(&self) -> Option<ApiErrorKind> {
        match self {
            ProviderError::Api { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// The API details, for errors the provider's API reported.
    pub fn details(&self) -> Option<&ApiErrorDetails> {
        match self {
            ProviderError::Api { details, .. } => Some(details),
            _ => None,
        }
    }

    /// Whether retrying the same request may succeed: rate limits, overload, server errors,
    /// transport failures and timeouts, unless the provider said otherwise.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::Api { kind, details, .. } => {
                details.should_retry.unwrap_or(kind.is_retryable())
            }
            ProviderError::Transport { .. } | ProviderError::Timeout { .. } => true,
            _ => false,
        }
    }

    /// How long the provider asked us to wait before retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        self.details().and_then(|d| d.retry_after)
    }

    /// The HTTP status, when known.
    pub fn status(&self) -> Option<u16> {
        self.details().and_then(|d| d.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details() -> ApiErrorDetails {
        ApiErrorDetails::new("slow down")
            .with_status(429)
            .with_request_id("req_1")
            .with_retry_after(Duration::from_millis(1500))
    }

    #[test]
    fn retry_classification() {
        let e = ProviderError::api("openai", ApiErrorKind::RateLimited, details());
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_millis(1500)));
        assert_eq!(e.status(), Some(429));
        assert_eq!(e.provider(), "openai");
        let q = ProviderError::api("openai", ApiErrorKind::QuotaExceeded, details());
        assert!(!q.is_retryable());
        let no = ProviderError::api(
            "anthropic",
            ApiErrorKind::Server,
            details().with_should_retry(false),
        );
        assert!(!no.is_retryable());
        let yes = ProviderError::api(
            "anthropic",
            ApiErrorKind::InvalidRequest,
            details().with_should_retry(true),
        );
        assert!(yes.is_retryable());
        let auth = ProviderError::api("x", ApiErrorKind::Authentication, details());
        assert!(!auth.is_retryable());
        let t = ProviderError::timeout("x", TimeoutPhase::IdleStream, Duration::from_secs(3));
        assert!(t.is_retryable());
        assert_eq!(t.api_kind(), None);
        assert!(t.to_string().contains("idle stream"), "{t}");
        assert!(!ProviderError::configuration("x", "no key").is_retryable());
    }

    #[test]
    fn display_carries_kind_status_and_request_id() {
        let e = ProviderError::api("openai", ApiErrorKind::RateLimited, details());
        let s = e.to_string();
        assert!(s.starts_with("openai: rate limited: HTTP 429"), "{s}");
        assert!(s.contains("req_1"), "{s}");
    }

    #[test]
    fn kinds_and_phases_have_stable_names() {
        assert_eq!(ApiErrorKind::Server.as_str(), "server_error");
        assert_eq!(
            serde_json::to_value(ApiErrorKind::ContextLengthExceeded).unwrap(),
            "context_length_exceeded"
        );
        assert_eq!(
            serde_json::to_value(TimeoutPhase::FirstByte).unwrap(),
            "first_byte"
        );
        assert_eq!(TimeoutPhase::FirstByte.to_string(), "first byte");
    }

    #[test]
    fn builders_fill_the_non_exhaustive_types() {
        let caps = Capabilities::default()
            .with_vision(true)
            .with_parallel_tool_calls(false);
        assert!(caps.vision && caps.streaming && !caps.parallel_tool_calls);
        // Older serialized capabilities (fewer fields) still read.
        let read: Capabilities =
            serde_json::from_value(serde_json::json!({"vision": true})).unwrap();
        assert!(read.vision && read.tool_calling);
        let info = ModelInfo::new("p", "m").with_capabilities(caps);
        assert_eq!(info.capabilities, caps);
        let m = ModelSummary::new("id").with_display_name("Name");
        assert_eq!(m.display_name.as_deref(), Some("Name"));
    }
}
