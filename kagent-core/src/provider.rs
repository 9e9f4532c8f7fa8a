//! The [`ModelProvider`] contract and its typed errors.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::message::{ChatRequest, ChatResponse};
use crate::stream::{ChatStream, single_response_stream};

/// What a model endpoint can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// Identity of a provider instance, used in spans, events and errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Provider name as in OpenTelemetry's `gen_ai.provider.name` (`openai`, `anthropic`,
    /// `gcp.gemini`, `aws.bedrock`, `ollama`, ...).
    pub provider: String,
    /// The model or deployment name.
    pub model: String,
    /// What it can do.
    pub capabilities: Capabilities,
}

/// A model the endpoint offers, from its model listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// Model id to put in a configuration.
    pub id: String,
    /// Display name, when different.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
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
        Err(ProviderError::Unsupported {
            provider: self.info().provider.clone(),
            feature: "model listing".into(),
        })
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a model call failed.
///
/// Errors never contain API keys or request bodies.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// 429 or an in-band rate-limit error. Retryable; `retry_after` says how long to wait.
    #[error("{provider}: rate limited: {details}")]
    RateLimited {
        /// Provider name.
        provider: String,
        /// What the API said.
        details: ApiErrorDetails,
    },
    /// The account is out of quota or over a spend cap. Not retryable.
    #[error("{provider}: quota exceeded: {details}")]
    QuotaExceeded {
        /// Provider name.
        provider: String,
        /// What the API said.
        details: ApiErrorDetails,
    },
    /// 529 / 503 or an in-band overloaded error. Retryable.
    #[error("{provider}: overloaded: {details}")]
    Overloaded {
        /// Provider name.
        provider: String,
        /// What the API said.
        details: ApiErrorDetails,
    },
    /// 401: missing or wrong credentials. Not retryable.
    #[error("{provider}: authentication failed: {details}")]
    Authentication {
        /// Provider name.
        provider: String,
        /// What the API said.
        details: ApiErrorDetails,
    },
    /// 403: the credentials may not do this. Not retryable.
    #[error("{provider}: permission denied: {details}")]
    PermissionDenied {
        /// Provider name.
        provider: String,
        /// What the API said.
        details: ApiErrorDetails,
    },
    /// 404: unknown model, deployment or path. Not retryable.
    #[error("{provider}: not found: {details}")]
    NotFound {
        /// Provider name.
        provider: String,
        /// What the API said.
        details: ApiErrorDetails,
    },
    /// 400 / 422: the request was rejected. Not retryable.
    #[error("{provider}: invalid request: {details}")]
    InvalidRequest {
        /// Provider name.
        provider: String,
        /// What the API said.
        details: ApiErrorDetails,
    },
    /// The conversation does not fit the model's context window.
    #[error("{provider}: context length exceeded: {details}")]
    ContextLengthExceeded {
        /// Provider name.
        provider: String,
        /// What the API said.
        details: ApiErrorDetails,
    },
    /// Input or output was blocked by a content filter.
    #[error("{provider}: content filtered: {details}")]
    ContentFiltered {
        /// Provider name.
        provider: String,
        /// What the API said.
        details: ApiErrorDetails,
    },
    /// 5xx or an in-band server error. Retryable.
    #[error("{provider}: server error: {details}")]
    Server {
        /// Provider name.
        provider: String,
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
    /// No answer (or no further bytes) within the configured time.
    #[error("{provider}: timed out after {after:?} ({phase})")]
    Timeout {
        /// Provider name.
        provider: String,
        /// `connect`, `first byte`, `idle stream`, `request`.
        phase: String,
        /// The limit that was hit.
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
    /// The API details, for the variants that carry them.
    pub fn details(&self) -> Option<&ApiErrorDetails> {
        match self {
            ProviderError::RateLimited { details, .. }
            | ProviderError::QuotaExceeded { details, .. }
            | ProviderError::Overloaded { details, .. }
            | ProviderError::Authentication { details, .. }
            | ProviderError::PermissionDenied { details, .. }
            | ProviderError::NotFound { details, .. }
            | ProviderError::InvalidRequest { details, .. }
            | ProviderError::ContextLengthExceeded { details, .. }
            | ProviderError::ContentFiltered { details, .. }
            | ProviderError::Server { details, .. } => Some(details),
            _ => None,
        }
    }

    /// Whether retrying the same request may succeed: rate limits, overload, server errors,
    /// transport failures and timeouts, unless the provider said otherwise.
    pub fn is_retryable(&self) -> bool {
        if let Some(verdict) = self.details().and_then(|d| d.should_retry) {
            return verdict;
        }
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Overloaded { .. }
                | ProviderError::Server { .. }
                | ProviderError::Transport { .. }
                | ProviderError::Timeout { .. }
        )
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
        ApiErrorDetails {
            status: Some(429),
            message: "slow down".into(),
            request_id: Some("req_1".into()),
            retry_after: Some(Duration::from_millis(1500)),
            ..Default::default()
        }
    }

    #[test]
    fn retry_classification() {
        let e = ProviderError::RateLimited {
            provider: "openai".into(),
            details: details(),
        };
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_millis(1500)));
        assert_eq!(e.status(), Some(429));
        let q = ProviderError::QuotaExceeded {
            provider: "openai".into(),
            details: details(),
        };
        assert!(!q.is_retryable());
        let no = ProviderError::Server {
            provider: "anthropic".into(),
            details: ApiErrorDetails {
                should_retry: Some(false),
                ..details()
            },
        };
        assert!(!no.is_retryable());
        let auth = ProviderError::Authentication {
            provider: "x".into(),
            details: details(),
        };
        assert!(!auth.is_retryable());
    }

    #[test]
    fn display_carries_status_and_request_id() {
        let e = ProviderError::RateLimited {
            provider: "openai".into(),
            details: details(),
        };
        let s = e.to_string();
        assert!(s.contains("HTTP 429"), "{s}");
        assert!(s.contains("req_1"), "{s}");
    }
}
