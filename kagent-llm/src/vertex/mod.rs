//! Google Cloud Vertex AI: where a model lives (project, location, host) and how requests are
//! authenticated ([`GoogleAuth`]).
//!
//! Used by [`AnthropicProvider::vertex`](crate::anthropic::AnthropicProvider::vertex) (Claude on
//! Vertex AI, publisher `anthropic`) and
//! [`GeminiProvider::vertex`](crate::gemini::GeminiProvider::vertex) (publisher `google`).

mod auth;

pub use auth::{GoogleAuth, ServiceAccountKey, TokenSource};

use kagent_core::{ApiErrorKind, ProviderError};

/// A Vertex AI project and location.
///
/// The host follows the location: `global` uses `aiplatform.googleapis.com`, the multi-regions
/// `us` and `eu` use `aiplatform.{us,eu}.rep.googleapis.com`, and any other location
/// `{location}-aiplatform.googleapis.com`. [`VertexLocation::with_base_url`] overrides the host
/// (private endpoints, tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VertexLocation {
    project: String,
    location: String,
    base_url: Option<String>,
}

impl VertexLocation {
    /// A project and a location (`global`, `us`, `eu`, `us-east5`, `europe-west1`, ...).
    pub fn new(project: impl Into<String>, location: impl Into<String>) -> Self {
        VertexLocation {
            project: project.into(),
            location: location.into(),
            base_url: None,
        }
    }

    /// Uses this base URL (scheme and host, e.g. `http://127.0.0.1:8080`) instead of the
    /// location's public host.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The project id.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The location.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> String {
        if let Some(b) = &self.base_url {
            return b.trim_end_matches('/').to_owned();
        }
        match self.location.as_str() {
            "global" => "https://aiplatform.googleapis.com".to_owned(),
            "us" | "eu" => format!("https://aiplatform.{}.rep.googleapis.com", self.location),
            region => format!("https://{region}-aiplatform.googleapis.com"),
        }
    }

    /// `{base}/v1/projects/{p}/locations/{l}/publishers/{publisher}/models/{model}:{method}`.
    pub fn model_url(&self, publisher: &str, model: &str, method: &str) -> String {
        format!(
            "{}/v1/projects/{}/locations/{}/publishers/{publisher}/models/{model}:{method}",
            self.base_url(),
            self.project,
            self.location
        )
    }
}

/// Google reports per-minute quotas as `429 RESOURCE_EXHAUSTED` with messages that mention
/// "quota" ("Resource has been exhausted (e.g. check quota).", "Quota exceeded for
/// aiplatform.googleapis.com/..._per_minute_..."). Google documents these as retryable with
/// backoff, so for Google endpoints they are rate limits, not spent quota.
pub(crate) fn google_rate_limit(e: ProviderError) -> ProviderError {
    match e {
        ProviderError::Api {
            provider,
            kind: ApiErrorKind::QuotaExceeded,
            details,
        } if details.error_type.as_deref() == Some("RESOURCE_EXHAUSTED") => {
            ProviderError::api(provider, ApiErrorKind::RateLimited, details)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_follow_the_location() {
        let m = |l: &str| {
            VertexLocation::new("p", l).model_url("google", "gemini-2.5-pro", "generateContent")
        };
        assert_eq!(
            m("global"),
            "https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/google/models/gemini-2.5-pro:generateContent"
        );
        assert!(
            m("us").starts_with(
                "https://aiplatform.us.rep.googleapis.com/v1/projects/p/locations/us/"
            )
        );
        assert!(
            m("eu").starts_with(
                "https://aiplatform.eu.rep.googleapis.com/v1/projects/p/locations/eu/"
            )
        );
        assert!(m("us-east5").starts_with(
            "https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/"
        ));
        let local = VertexLocation::new("p", "us-east5").with_base_url("http://127.0.0.1:9/");
        assert_eq!(
            local.model_url("anthropic", "claude", "rawPredict"),
            "http://127.0.0.1:9/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude:rawPredict"
        );
    }
}
