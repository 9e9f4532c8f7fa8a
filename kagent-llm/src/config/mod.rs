//! One configuration type for every provider, mirroring kagent's `ModelConfig` spec
//! (`kagent.dev/v1alpha2`, `go/api/v1alpha2/modelconfig_types.go`), and the factory
//! [`build_provider`] that turns it into the `Arc<dyn ModelProvider>` an agent takes.
//!
//! [`build_provider`] is the one path from a configuration to a provider: it reads the shared
//! [`ProviderOptions`](crate::ProviderOptions) (key, endpoint, headers, timeouts, sampling,
//! token limit) from the configuration, then calls the provider's public constructor.
//!
//! Field names are kagent's (camelCase, `openAI`, `azureOpenAI`, `geminiVertexAI`, ...), so a
//! `ModelConfig.spec` deserializes as it is. Sampling numbers that kagent stores as strings
//! (`temperature: "0.2"`) are accepted as strings or numbers. Fields kagent resolves from
//! Kubernetes Secrets (`apiKeySecret`, `tls.caCertSecretRef`) are kept as names; the resolved
//! values go in the kagent-rs extensions `apiKey` and `tls.caCertPem` (kagent-k8s fills them
//! from the cluster). Other kagent-rs extensions are marked as such below.
//!
//! Secrets ([`SecretString`]) never show in `Debug`, `Display` or errors.

mod build;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use kagent_core::TlsOptions;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

pub use crate::openai::{ApiFormat, MaxTokensField, SystemRole};
pub use crate::options::{ConfigError, ProviderKind};
pub use build::build_provider;

use crate::options::{Timeouts, header_map};

/// Headers sent with every request (kagent's `defaultHeaders`). Values of credential-like
/// headers (`Authorization`, `*api-key*`, `*token*`, ...) are redacted in `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DefaultHeaders(pub BTreeMap<String, String>);

impl fmt::Debug for DefaultHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.0 {
            if crate::options::is_sensitive_header(k) {
                m.entry(k, &"[REDACTED]");
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

/// kagent's `ModelConfig.spec`, plus a few kagent-rs extensions (marked).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ModelConfig {
    /// The provider (default `OpenAI`, as in kagent).
    #[serde(default)]
    pub provider: ProviderKind,
    /// Model name, or the Azure deployment when `azureOpenAI.azureDeployment` is not set.
    pub model: String,
    /// kagent-rs extension: the resolved API key (from `apiKeySecret`, an environment variable
    /// or a file). Redacted in `Debug`.
    #[serde(default)]
    pub api_key: Option<SecretString>,
    /// Name of the Kubernetes Secret holding the API key (resolved by kagent-k8s).
    #[serde(default)]
    pub api_key_secret: Option<String>,
    /// Key inside `apiKeySecret`.
    #[serde(default)]
    pub api_key_secret_key: Option<String>,
    /// Forward the caller's bearer token as the API key (kagent A2A feature; the caller sets
    /// `apiKey` per request scope).
    #[serde(default)]
    pub api_key_passthrough: bool,
    /// Headers sent with every request.
    #[serde(default)]
    pub default_headers: DefaultHeaders,
    /// kagent-rs extension: overrides the provider's default endpoint for providers whose block
    /// has no base URL of its own (Gemini, Vertex, Bedrock); a block's `baseUrl`/`host`/
    /// `azureEndpoint` wins.
    #[serde(default)]
    pub base_url: Option<String>,
    /// TLS settings for the provider connection.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// kagent-rs extension: timeouts.
    #[serde(default)]
    pub timeouts: Option<TimeoutsConfig>,
    /// OpenAI (and OpenAI-compatible) settings.
    #[serde(default, rename = "openAI")]
    pub open_ai: Option<OpenAIConfig>,
    /// Azure OpenAI settings.
    #[serde(default, rename = "azureOpenAI")]
    pub azure_open_ai: Option<AzureOpenAIConfig>,
    /// Anthropic settings.
    #[serde(default)]
    pub anthropic: Option<AnthropicConfig>,
    /// Anthropic on Vertex AI settings.
    #[serde(default, rename = "anthropicVertexAI")]
    pub anthropic_vertex_ai: Option<AnthropicVertexAIConfig>,
    /// Gemini settings.
    #[serde(default)]
    pub gemini: Option<GeminiConfig>,
    /// Gemini on Vertex AI settings.
    #[serde(default, rename = "geminiVertexAI")]
    pub gemini_vertex_ai: Option<GeminiVertexAIConfig>,
    /// Ollama settings.
    #[serde(default)]
    pub ollama: Option<OllamaConfig>,
    /// Bedrock settings.
    #[serde(default)]
    pub bedrock: Option<BedrockConfig>,
}

impl ModelConfig {
    /// A configuration for `provider` and `model` with everything else unset.
    pub fn new(provider: ProviderKind, model: impl Into<String>) -> Self {
        ModelConfig {
            provider,
            model: model.into(),
            ..Default::default()
        }
    }

    /// Sets the resolved API key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Sets the kagent-rs `baseUrl` extension.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The API key, if any (callers must not log it).
    pub fn api_key(&self) -> Option<&str> {
        self.api_key.as_ref().map(|k| k.expose_secret())
    }

    /// The effective timeouts: configured values over [`Timeouts::DEFAULT`]; `openAI.timeout`
    /// (seconds) sets the request timeout as in kagent.
    pub fn effective_timeouts(&self) -> Timeouts {
        let mut t = Timeouts::DEFAULT;
        if let Some(secs) = self.open_ai.as_ref().and_then(|o| o.timeout) {
            t.request = Some(Duration::from_secs(secs));
        }
        if let Some(c) = &self.timeouts {
            if let Some(s) = c.connect_seconds {
                t.connect = secs(s);
            }
            if let Some(s) = c.request_seconds {
                t.request = secs(s);
            }
            if let Some(s) = c.stream_idle_seconds {
                t.stream_idle = secs(s);
            }
        }
        t
    }

    /// The default headers as a header map (credential-like values marked sensitive).
    pub fn header_map(&self) -> Result<http::HeaderMap, ConfigError> {
        header_map(
            self.default_headers
                .0
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
    }

    /// The TLS settings of the configuration, the CA read from `tls.caCertFile` when set.
    pub fn tls_options(&self) -> Result<TlsOptions, ConfigError> {
        let mut tls = TlsOptions::default();
        if let Some(c) = &self.tls {
            tls.insecure_skip_verify = c.disable_verify;
            tls.disable_system_cas = c.disable_system_cas;
            if let Some(pem) = &c.ca_cert_pem {
                tls.ca_cert_pem = Some(pem.clone());
            } else if let Some(path) = &c.ca_cert_file {
                let pem = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
                    path: path.clone(),
                    source,
                })?;
                tls.ca_cert_pem = Some(pem);
            } else if c.ca_cert_secret_ref.is_some() {
                return Err(ConfigError::InvalidValue {
                    field: "tls.caCertSecretRef".into(),
                    message: "the CA Secret has not been resolved into tls.caCertPem".into(),
                });
            }
        }
        Ok(tls)
    }

    /// Builds a `reqwest::Client` for this configuration: the TLS settings (through
    /// kagent-core's shared [`client_builder`](kagent_core::http::client_builder)) and the
    /// connect timeout. Request and stream timeouts are applied per call by the provider (a
    /// client-wide total timeout would also cut long streams).
    pub fn build_client(&self) -> Result<reqwest::Client, ConfigError> {
        let tls = self.tls_options()?;
        let mut builder =
            kagent_core::http::client_builder(&tls).map_err(|e| ConfigError::Tls {
                message: e.to_string(),
                source: Some(Box::new(e)),
            })?;
        if let Some(connect) = self.effective_timeouts().connect {
            builder = builder.connect_timeout(connect);
        }
        builder.build().map_err(|e| ConfigError::Tls {
            message: "could not build the HTTP client".into(),
            source: Some(Box::new(e)),
        })
    }

    pub(crate) fn missing(&self, field: &str) -> ConfigError {
        ConfigError::MissingField {
            provider: self.provider,
            field: field.to_owned(),
        }
    }
}

fn secs(s: f64) -> Option<Duration> {
    if s <= 0.0 {
        None
    } else {
        Duration::try_from_secs_f64(s).ok()
    }
}

/// kagent's `TLSConfig`, plus the resolved CA.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TlsConfig {
    /// Accept any certificate. Development only.
    #[serde(default)]
    pub disable_verify: bool,
    /// Name of the Secret holding the CA PEM (resolved by kagent-k8s into `caCertPem`).
    #[serde(default)]
    pub ca_cert_secret_ref: Option<String>,
    /// Key inside `caCertSecretRef`.
    #[serde(default)]
    pub ca_cert_secret_key: Option<String>,
    /// Trust only the configured CA.
    #[serde(default, rename = "disableSystemCAs")]
    pub disable_system_cas: bool,
    /// kagent-rs extension: the CA certificate(s), PEM.
    #[serde(default)]
    pub ca_cert_pem: Option<String>,
    /// kagent-rs extension: a file holding the CA certificate(s), PEM.
    #[serde(default)]
    pub ca_cert_file: Option<PathBuf>,
}

/// kagent-rs extension: timeouts in seconds (`0` disables one).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TimeoutsConfig {
    /// TCP + TLS connect.
    #[serde(default, deserialize_with = "de::opt_f64")]
    pub connect_seconds: Option<f64>,
    /// Until response headers; for non-streamed calls, the whole response.
    #[serde(default, deserialize_with = "de::opt_f64")]
    pub request_seconds: Option<f64>,
    /// Longest gap between two chunks of a stream.
    #[serde(default, deserialize_with = "de::opt_f64")]
    pub stream_idle_seconds: Option<f64>,
}

/// kagent's `openAI` block.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OpenAIConfig {
    /// Base URL (default `https://api.openai.com/v1`); any OpenAI-compatible server.
    #[serde(default)]
    pub base_url: Option<String>,
    /// `OpenAI-Organization` header.
    #[serde(default)]
    pub organization: Option<String>,
    /// Sampling temperature.
    #[serde(default, deserialize_with = "de::opt_f32")]
    pub temperature: Option<f32>,
    /// Output token limit.
    #[serde(default, deserialize_with = "de::opt_u32")]
    pub max_tokens: Option<u32>,
    /// Nucleus sampling.
    #[serde(default, deserialize_with = "de::opt_f32")]
    pub top_p: Option<f32>,
    /// Frequency penalty.
    #[serde(default, deserialize_with = "de::opt_f32")]
    pub frequency_penalty: Option<f32>,
    /// Presence penalty.
    #[serde(default, deserialize_with = "de::opt_f32")]
    pub presence_penalty: Option<f32>,
    /// Seed.
    #[serde(default)]
    pub seed: Option<i64>,
    /// Number of choices (only the first is used).
    #[serde(default, deserialize_with = "de::opt_u32")]
    pub n: Option<u32>,
    /// Request timeout in seconds.
    #[serde(default)]
    pub timeout: Option<u64>,
    /// `none`, `minimal`, `low`, `medium`, `high`.
    #[serde(default)]
    pub reasoning_effort: Option<String>,
    /// `chat` (default) or `responses`.
    #[serde(default)]
    pub api_format: Option<ApiFormat>,
    /// kagent-rs extension: `system` (default) or `developer`.
    #[serde(default)]
    pub system_role: Option<SystemRole>,
    /// kagent-rs extension: `max_tokens` (default) or `max_completion_tokens`.
    #[serde(default)]
    pub max_tokens_field: Option<MaxTokensField>,
}

/// kagent's `azureOpenAI` block.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AzureOpenAIConfig {
    /// `https://{resource}.openai.azure.com`.
    #[serde(default)]
    pub azure_endpoint: String,
    /// `api-version` query value; empty or `v1` selects the v1 API (`/openai/v1/...`).
    #[serde(default)]
    pub api_version: Option<String>,
    /// Deployment name (defaults to `model`).
    #[serde(default)]
    pub azure_deployment: Option<String>,
    /// Entra ID (Azure AD) bearer token, used instead of the API key. Redacted in `Debug`.
    #[serde(default)]
    pub azure_ad_token: Option<SecretString>,
    /// Sampling temperature.
    #[serde(default, deserialize_with = "de::opt_f32")]
    pub temperature: Option<f32>,
    /// Output token limit.
    #[serde(default, deserialize_with = "de::opt_u32")]
    pub max_tokens: Option<u32>,
    /// Nucleus sampling.
    #[serde(default, deserialize_with = "de::opt_f32")]
    pub top_p: Option<f32>,
}

/// kagent's `ollama` block.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OllamaConfig {
    /// `http://host:11434` (default `http://localhost:11434`).
    #[serde(default)]
    pub host: Option<String>,
    /// Model options (`num_ctx`, `temperature`, ...). kagent stores strings; numeric and
    /// boolean strings are sent as numbers and booleans.
    #[serde(default)]
    pub options: BTreeMap<String, Value>,
}

/// kagent's `anthropic` block.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AnthropicConfig {
    /// Base URL (default `https://api.anthropic.com`).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Output token limit (Anthropic requires one).
    #[serde(default, deserialize_with = "de::opt_u32")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, deserialize_with = "de::opt_f32")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, deserialize_with = "de::opt_f32")]
    pub top_p: Option<f32>,
    /// Top-k sampling.
    #[serde(default, deserialize_with = "de::opt_u32")]
    pub top_k: Option<u32>,
}

/// kagent's `BaseVertexAIConfig` fields plus the credential extensions.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VertexBaseConfig {
    /// Google Cloud project.
    #[serde(default, rename = "projectID")]
    pub project_id: String,
    /// Location (`us-central1`, `global`, `us`, `eu`, ...).
    #[serde(default)]
    pub location: String,
    /// Sampling temperature.
    #[serde(default, deserialize_with = "de::opt_f32")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, deserialize_with = "de::opt_f32")]
    pub top_p: Option<f32>,
    /// Top-k sampling.
    #[serde(default, deserialize_with = "de::opt_f32")]
    pub top_k: Option<f32>,
    /// Stop sequences.
    #[serde(default)]
    pub stop_sequences: Vec<String>,
    /// kagent-rs extension: service-account JSON key. Redacted in `Debug`.
    #[serde(default)]
    pub credentials_json: Option<SecretString>,
    /// kagent-rs extension: an explicit OAuth access token. Redacted in `Debug`.
    #[serde(default)]
    pub access_token: Option<SecretString>,
}

/// kagent's `geminiVertexAI` block.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GeminiVertexAIConfig {
    /// Project, location, sampling, credentials.
    #[serde(flatten)]
    pub base: VertexBaseConfig,
    /// Output token limit.
    #[serde(default, deserialize_with = "de::opt_u32")]
    pub max_output_tokens: Option<u32>,
    /// Candidate count.
    #[serde(default, deserialize_with = "de::opt_u32")]
    pub candidate_count: Option<u32>,
    /// Response MIME type.
    #[serde(default)]
    pub response_mime_type: Option<String>,
}

/// kagent's `anthropicVertexAI` block.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AnthropicVertexAIConfig {
    /// Project, location, sampling, credentials.
    #[serde(flatten)]
    pub base: VertexBaseConfig,
    /// Output token limit.
    #[serde(default, deserialize_with = "de::opt_u32")]
    pub max_tokens: Option<u32>,
}

/// kagent's `gemini` block (empty in kagent; the key is `apiKey`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GeminiConfig {}

/// kagent's `bedrock` block plus the credential extensions.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BedrockConfig {
    /// AWS region.
    #[serde(default)]
    pub region: String,
    /// Passed as `additionalModelRequestFields`.
    #[serde(default)]
    pub additional_model_request_fields: Option<Value>,
    /// Add cache points to the system prompt and tools.
    #[serde(default)]
    pub prompt_caching: bool,
    /// `5m` or `1h`.
    #[serde(default, rename = "cacheTTL")]
    pub cache_ttl: Option<String>,
    /// kagent-rs extension: AWS access key id (`accessKeyId` or `accessKeyID`).
    #[serde(default, alias = "accessKeyID")]
    pub access_key_id: Option<String>,
    /// kagent-rs extension: AWS secret access key. Redacted in `Debug`.
    #[serde(default)]
    pub secret_access_key: Option<SecretString>,
    /// kagent-rs extension: AWS session token. Redacted in `Debug`.
    #[serde(default)]
    pub session_token: Option<SecretString>,
}

/// Lenient number parsing: kagent stores several numbers as strings.
pub(crate) mod de {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .map(Some)
                .map_err(|_| serde::de::Error::custom(format!("expected a number, got {s:?}"))),
            Some(other) => Err(serde::de::Error::custom(format!(
                "expected a number, got {other}"
            ))),
        }
    }

    /// A float given as a number or a string.
    pub(crate) fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        number(d)
    }

    /// A float given as a number or a string.
    #[allow(clippy::cast_possible_truncation)]
    pub(crate) fn opt_f32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f32>, D::Error> {
        Ok(number(d)?.map(|v| v as f32))
    }

    /// A non-negative integer given as a number or a string; `0` means unset.
    pub(crate) fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        match number(d)? {
            None => Ok(None),
            Some(v) if v.abs() < f64::EPSILON => Ok(None),
            Some(v) if v.fract() == 0.0 && v > 0.0 && v <= f64::from(u32::MAX) => {
                Ok(u32::try_from(v as u64).ok())
            }
            Some(v) => Err(serde::de::Error::custom(format!(
                "expected a positive integer, got {v}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_kagent_spec() {
        let c: ModelConfig = serde_json::from_value(json!({
            "model": "gpt-4o",
            "apiKeySecret": "kagent-openai",
            "apiKeySecretKey": "OPENAI_API_KEY",
            "defaultHeaders": {"X-Team": "sre", "Authorization": "Bearer hidden-token"},
            "openAI": {"baseUrl": "http://litellm:4000/v1", "temperature": "0.3", "maxTokens": 512,
                       "topP": 0.9, "seed": 7, "n": 1, "timeout": 30, "reasoningEffort": "low",
                       "apiFormat": "responses"},
            "tls": {"disableVerify": false, "caCertSecretRef": "ca", "caCertSecretKey": "ca.crt",
                    "disableSystemCAs": true}
        }))
        .unwrap();
        assert_eq!(c.provider, ProviderKind::OpenAI);
        let o = c.open_ai.as_ref().unwrap();
        assert_eq!(o.temperature, Some(0.3));
        assert_eq!(o.max_tokens, Some(512));
        assert_eq!(o.api_format, Some(ApiFormat::Responses));
        assert_eq!(
            c.effective_timeouts().request,
            Some(Duration::from_secs(30))
        );
        assert!(c.tls.as_ref().unwrap().disable_system_cas);
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hidden-token"), "{dbg}");
        assert!(dbg.contains("sre"));
        // The CA secret was not resolved: building a client says so.
        assert!(matches!(
            c.tls_options(),
            Err(ConfigError::InvalidValue { .. })
        ));
    }

    #[test]
    fn provider_spellings() {
        for (s, k) in [
            ("OpenAI", ProviderKind::OpenAI),
            ("openai", ProviderKind::OpenAI),
            ("AzureOpenAI", ProviderKind::AzureOpenAI),
            ("azure_openai", ProviderKind::AzureOpenAI),
            ("anthropic", ProviderKind::Anthropic),
            ("AnthropicVertexAI", ProviderKind::AnthropicVertexAI),
            ("gemini", ProviderKind::Gemini),
            ("gemini-vertex-ai", ProviderKind::GeminiVertexAI),
            ("ollama", ProviderKind::Ollama),
            ("Bedrock", ProviderKind::Bedrock),
        ] {
            assert_eq!(s.parse::<ProviderKind>().unwrap(), k, "{s}");
        }
        assert!("watsonx".parse::<ProviderKind>().is_err());
    }

    #[test]
    fn secrets_never_print() {
        let c: ModelConfig = serde_json::from_value(json!({
            "provider": "AzureOpenAI", "model": "gpt-4o", "apiKey": "sk-very-secret",
            "azureOpenAI": {"azureEndpoint": "https://x.openai.azure.com", "apiVersion": "2024-10-21",
                            "azureAdToken": "eyJ-secret-token"},
        }))
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("sk-very-secret"), "{dbg}");
        assert!(!dbg.contains("eyJ-secret-token"), "{dbg}");
        assert_eq!(c.api_key(), Some("sk-very-secret"));
    }

    #[test]
    fn bad_numbers_are_rejected() {
        let r: Result<ModelConfig, _> = serde_json::from_value(json!({
            "model": "m", "openAI": {"temperature": "warm"}
        }));
        assert!(r.is_err());
        let r: Result<ModelConfig, _> = serde_json::from_value(json!({
            "model": "m", "openAI": {"maxTokens": -5}
        }));
        assert!(r.is_err());
    }

    #[test]
    fn vertex_and_bedrock_blocks() {
        let c: ModelConfig = serde_json::from_value(json!({
            "provider": "GeminiVertexAI", "model": "gemini-2.5-pro",
            "geminiVertexAI": {"projectID": "p", "location": "us-central1", "temperature": "0.1",
                               "maxOutputTokens": 100, "credentialsJson": "{\"private_key\":\"k\"}"},
        }))
        .unwrap();
        let v = c.gemini_vertex_ai.as_ref().unwrap();
        assert_eq!(v.base.project_id, "p");
        assert_eq!(v.max_output_tokens, Some(100));
        assert!(!format!("{c:?}").contains("private_key"));
        let b: ModelConfig = serde_json::from_value(json!({
            "provider": "Bedrock", "model": "anthropic.claude",
            "bedrock": {"region": "us-east-1", "promptCaching": true, "cacheTTL": "1h"}
        }))
        .unwrap();
        assert_eq!(b.bedrock.as_ref().unwrap().cache_ttl.as_deref(), Some("1h"));
    }

    #[test]
    fn tls_options_are_validated() {
        let tls = |v: serde_json::Value| -> ModelConfig {
            serde_json::from_value(json!({"model": "m", "tls": v})).unwrap()
        };
        // Trusting no CA at all with verification on.
        assert!(matches!(
            tls(json!({"disableSystemCAs": true})).build_client(),
            Err(ConfigError::Tls { .. })
        ));
        assert!(matches!(
            tls(json!({"caCertPem": "not a pem"})).build_client(),
            Err(ConfigError::Tls { .. })
        ));
        assert!(
            ModelConfig::new(ProviderKind::OpenAI, "m")
                .build_client()
                .is_ok()
        );
        assert!(
            tls(json!({"disableVerify": true, "disableSystemCAs": true}))
                .build_client()
                .is_ok()
        );
        let missing = tls(json!({"caCertFile": "/nonexistent/ca.pem"})).build_client();
        assert!(
            matches!(missing, Err(ConfigError::Io { .. })),
            "{missing:?}"
        );
    }

    #[test]
    fn missing_model_is_an_error() {
        let c = ModelConfig::new(ProviderKind::OpenAI, "");
        assert!(matches!(
            build_provider(&c, reqwest::Client::new()),
            Err(ConfigError::MissingField { .. })
        ));
    }
}
