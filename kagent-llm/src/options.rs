//! What every provider takes: [`ProviderOptions`] (credentials, endpoint, default headers,
//! timeouts, sampling defaults, output token limit), and the errors of building a provider.
//!
//! Every provider is built the same way, `Provider::new(client, model, options)` (or a named
//! constructor for another endpoint of the same API, such as `::azure` or `::vertex`, which
//! takes that endpoint before the model), and provider-specific settings come after it as
//! `with_*` calls:
//!
//! ```
//! use kagent_llm::{ProviderOptions, Timeouts};
//! use kagent_llm::anthropic::AnthropicProvider;
//! use kagent_llm::openai::OpenAIProvider;
//! use std::time::Duration;
//!
//! let options = ProviderOptions::new()
//!     .with_api_key("sk-...")
//!     .with_temperature(0.2)
//!     .with_max_output_tokens(2048)
//!     .with_timeouts(Timeouts::default().with_stream_idle(Duration::from_secs(60)));
//! let openai = OpenAIProvider::new(reqwest::Client::new(), "gpt-4.1-mini", options.clone())?;
//! let claude = AnthropicProvider::new(reqwest::Client::new(), "claude-sonnet-4-5", options)?
//!     .with_thinking_budget(1024);
//! # let _ = (openai, claude);
//! # Ok::<(), kagent_llm::ConfigError>(())
//! ```
//!
//! How each provider uses the shared fields:
//!
//! | field | OpenAI / compatible | Azure OpenAI | Anthropic | Gemini | Ollama | Bedrock |
//! | --- | --- | --- | --- | --- | --- | --- |
//! | `auth` | `ApiKey` / `BearerToken`: `Authorization: Bearer` | `ApiKey`: `api-key`; `BearerToken`: Entra ID token | `ApiKey`: `x-api-key`; on Vertex AI `Google` / `BearerToken` | `ApiKey`: `x-goog-api-key`; on Vertex AI `Google` / `BearerToken` | `ApiKey` / `BearerToken`: `Authorization: Bearer` | `Aws`: SigV4; `ApiKey` / `BearerToken`: `Authorization: Bearer` |
//! | `base_url` | default `https://api.openai.com/v1` | the resource endpoint (required) | default `https://api.anthropic.com`; on Vertex AI the host | default `https://generativelanguage.googleapis.com`; on Vertex AI the host | default `http://localhost:11434` | default `https://bedrock-runtime.{region}.amazonaws.com` |
//! | `temperature`, `top_p` | sent | sent | sent | sent | `options` | `inferenceConfig` |
//! | `top_k` | sent as `top_k` (vLLM, llama.cpp; OpenAI itself rejects it with a 400) | sent | sent | sent | `options` | not in the Converse API: a configuration error (use `additionalModelRequestFields`) |
//! | `stop_sequences` | `stop` (Chat Completions; the Responses API has none) | `stop` | `stop_sequences` | `stopSequences` | `options.stop` | `stopSequences` |
//! | `max_output_tokens` | `max_tokens` / `max_completion_tokens` / `max_output_tokens` | same | `max_tokens` (default 4096: required) | `maxOutputTokens` | `options.num_predict` | `maxTokens` |
//!
//! A request's own `temperature`, `top_p`, `max_tokens` and `stop` win over these defaults.
//! `Auth::None` sends no credential (a gateway in front of the provider may add one); a
//! credential a provider cannot use is a [`ConfigError::Unsupported`] when the provider is
//! built.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use aws_credential_types::Credentials;
use http::{HeaderMap, HeaderName, HeaderValue};
use kagent_core::ChatRequest;
use secrecy::SecretString;

use crate::vertex::GoogleAuth;

/// Why a configuration cannot be turned into a provider.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required field is missing.
    #[error("{provider}: missing required field `{field}`")]
    MissingField {
        /// The provider.
        provider: ProviderKind,
        /// The field (kagent spelling, e.g. `azureOpenAI.azureEndpoint`).
        field: String,
    },
    /// A field has a value that cannot be used.
    #[error("invalid value for `{field}`: {message}")]
    InvalidValue {
        /// The field.
        field: String,
        /// What is wrong (never contains a secret).
        message: String,
    },
    /// TLS material could not be used.
    #[error("TLS configuration: {message}")]
    Tls {
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// A file named in the configuration could not be read.
    #[error("could not read {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The provider cannot do what the configuration asks (a credential it cannot use, a
    /// setting its API does not have).
    #[error("{provider}: {message}")]
    Unsupported {
        /// The provider.
        provider: ProviderKind,
        /// Why, and what to use instead.
        message: String,
    },
}

/// The provider of a model (kagent's `spec.provider`). Lower-case and snake/kebab spellings
/// are accepted too (`openai`, `azure_openai`, `gemini-vertex-ai`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProviderKind {
    /// OpenAI, or any OpenAI-compatible server via `openAI.baseUrl` (kagent's default).
    #[default]
    OpenAI,
    /// Azure OpenAI.
    AzureOpenAI,
    /// Anthropic Messages API.
    Anthropic,
    /// Anthropic models on Google Vertex AI.
    AnthropicVertexAI,
    /// Gemini API (Google AI Studio).
    Gemini,
    /// Gemini on Google Vertex AI.
    GeminiVertexAI,
    /// Ollama's native API.
    Ollama,
    /// Amazon Bedrock Converse.
    Bedrock,
}

impl ProviderKind {
    /// kagent's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAI => "OpenAI",
            ProviderKind::AzureOpenAI => "AzureOpenAI",
            ProviderKind::Anthropic => "Anthropic",
            ProviderKind::AnthropicVertexAI => "AnthropicVertexAI",
            ProviderKind::Gemini => "Gemini",
            ProviderKind::GeminiVertexAI => "GeminiVertexAI",
            ProviderKind::Ollama => "Ollama",
            ProviderKind::Bedrock => "Bedrock",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ProviderKind {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        Ok(match norm.as_str() {
            "openai" => ProviderKind::OpenAI,
            "azureopenai" | "azure" => ProviderKind::AzureOpenAI,
            "anthropic" => ProviderKind::Anthropic,
            "anthropicvertexai" | "anthropicvertex" => ProviderKind::AnthropicVertexAI,
            "gemini" => ProviderKind::Gemini,
            "geminivertexai" | "geminivertex" | "vertexai" => ProviderKind::GeminiVertexAI,
            "ollama" => ProviderKind::Ollama,
            "bedrock" | "awsbedrock" => ProviderKind::Bedrock,
            _ => {
                return Err(ConfigError::InvalidValue {
                    field: "provider".into(),
                    message: format!(
                        "unknown provider {s:?} (expected OpenAI, AzureOpenAI, Anthropic, \
                         AnthropicVertexAI, Gemini, GeminiVertexAI, Ollama or Bedrock)"
                    ),
                });
            }
        })
    }
}

impl<'de> serde::Deserialize<'de> for ProviderKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Timeouts of a provider.
///
/// [`Timeouts::default`] is connect 10 s, request 600 s (long reasoning calls), stream idle
/// 120 s; [`Timeouts::NONE`] waits forever. `None` in a field disables that timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// TCP + TLS connect. A provider cannot change the connect timeout of the client it is
    /// given: this one is applied by [`ModelConfig::build_client`](crate::ModelConfig::build_client).
    pub connect: Option<Duration>,
    /// Until the response headers arrive, and for a non-streamed call the whole response.
    pub request: Option<Duration>,
    /// The longest gap between two chunks of a streamed response.
    pub stream_idle: Option<Duration>,
}

impl Timeouts {
    /// Connect 10 s, request 600 s, stream idle 120 s.
    pub const DEFAULT: Timeouts = Timeouts {
        connect: Some(Duration::from_secs(10)),
        request: Some(Duration::from_secs(600)),
        stream_idle: Some(Duration::from_secs(120)),
    };

    /// No timeout at all.
    pub const NONE: Timeouts = Timeouts {
        connect: None,
        request: None,
        stream_idle: None,
    };

    /// Sets the connect timeout (`None` disables it).
    #[must_use]
    pub fn with_connect(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect = timeout.into();
        self
    }

    /// Sets the request timeout (`None` disables it).
    #[must_use]
    pub fn with_request(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.request = timeout.into();
        self
    }

    /// Sets the stream idle timeout (`None` disables it).
    #[must_use]
    pub fn with_stream_idle(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.stream_idle = timeout.into();
        self
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::DEFAULT
    }
}

/// How a provider authenticates. See the [module docs](self) for which provider takes which.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Auth {
    /// No credential (a local server, or a gateway that adds its own).
    #[default]
    None,
    /// The provider's API key, sent the way the provider expects it (`Authorization: Bearer`,
    /// `x-api-key`, `api-key`, `x-goog-api-key`).
    ApiKey(SecretString),
    /// An OAuth / Entra ID bearer token (`Authorization: Bearer`): Azure OpenAI's
    /// `azureAdToken`, a Vertex AI access token, a gateway token.
    BearerToken(SecretString),
    /// Google credentials for Vertex AI (service account, metadata server, fixed token).
    Google(GoogleAuth),
    /// AWS credentials for Bedrock, signed with SigV4.
    Aws(Credentials),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::ApiKey(_) => f.write_str("ApiKey([REDACTED])"),
            Auth::BearerToken(_) => f.write_str("BearerToken([REDACTED])"),
            Auth::Google(g) => f.debug_tuple("Google").field(g).finish(),
            // `Credentials`' own Debug redacts the secret key; we show only the key id.
            Auth::Aws(c) => f
                .debug_struct("Aws")
                .field("access_key_id", &c.access_key_id())
                .field("secret_access_key", &"[REDACTED]")
                .field("session_token", &c.session_token().map(|_| "[REDACTED]"))
                .finish(),
        }
    }
}

impl Auth {
    /// The name used in errors.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Auth::None => "no credential",
            Auth::ApiKey(_) => "an API key",
            Auth::BearerToken(_) => "a bearer token",
            Auth::Google(_) => "Google credentials",
            Auth::Aws(_) => "AWS credentials",
        }
    }
}

/// The options every provider takes: credentials, endpoint, default headers, timeouts,
/// sampling defaults and the output token limit. See the [module docs](self).
///
/// Built with [`ProviderOptions::new`] and the `with_*` setters (or by assigning the public
/// fields of a value); it may grow, so it cannot be written as a literal outside this crate.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ProviderOptions {
    /// How requests are authenticated.
    pub auth: Auth,
    /// Where requests go; `None` uses the provider's public endpoint.
    pub base_url: Option<String>,
    /// Headers sent with every request (kagent's `defaultHeaders`). Credentials the provider
    /// sets itself win over a header of the same name here.
    pub default_headers: HeaderMap,
    /// Request and stream timeouts.
    pub timeouts: Timeouts,
    /// Default sampling temperature.
    pub temperature: Option<f32>,
    /// Default nucleus sampling.
    pub top_p: Option<f32>,
    /// Top-k sampling.
    pub top_k: Option<u32>,
    /// Default stop sequences.
    pub stop_sequences: Vec<String>,
    /// Default output token limit.
    pub max_output_tokens: Option<u32>,
}

impl fmt::Debug for ProviderOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values marked sensitive print as `Sensitive`.
        f.debug_struct("ProviderOptions")
            .field("auth", &self.auth)
            .field("base_url", &self.base_url)
            .field("default_headers", &self.default_headers)
            .field("timeouts", &self.timeouts)
            .field("temperature", &self.temperature)
            .field("top_p", &self.top_p)
            .field("top_k", &self.top_k)
            .field("stop_sequences", &self.stop_sequences)
            .field("max_output_tokens", &self.max_output_tokens)
            .finish()
    }
}

impl ProviderOptions {
    /// No credential, the provider's public endpoint, default timeouts, no sampling defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Authenticates with the provider's API key.
    #[must_use]
    pub fn with_api_key(mut self, key: impl Into<SecretString>) -> Self {
        self.auth = Auth::ApiKey(key.into());
        self
    }

    /// Authenticates with a bearer token (`Authorization: Bearer`).
    #[must_use]
    pub fn with_bearer_token(mut self, token: impl Into<SecretString>) -> Self {
        self.auth = Auth::BearerToken(token.into());
        self
    }

    /// Sets how requests are authenticated.
    #[must_use]
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Sends requests to this base URL (an OpenAI-compatible server, a gateway, a test server,
    /// a private endpoint) instead of the provider's public endpoint.
    #[must_use]
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// Adds one header sent with every request (a header of the same name is replaced).
    /// Values of credential-like headers (`Authorization`, `*api-key*`, `*token*`, ...) are
    /// marked sensitive, so they never show in `Debug`.
    #[must_use]
    pub fn with_default_header(mut self, name: HeaderName, mut value: HeaderValue) -> Self {
        if is_sensitive_header(name.as_str()) {
            value.set_sensitive(true);
        }
        self.default_headers.insert(name, value);
        self
    }

    /// Adds headers sent with every request (a header already set is replaced), marking
    /// credential-like values sensitive. [`header_map`] parses `name: value` strings.
    #[must_use]
    pub fn with_default_headers(mut self, headers: HeaderMap) -> Self {
        let mut name = None;
        let mut replaced = std::collections::HashSet::new();
        for (n, mut value) in headers {
            if let Some(n) = n {
                name = Some(n);
            }
            let Some(n) = name.clone() else { continue };
            if is_sensitive_header(n.as_str()) {
                value.set_sensitive(true);
            }
            // The first value of a name replaces what was set before; more values append.
            if replaced.insert(n.clone()) {
                self.default_headers.insert(n, value);
            } else {
                self.default_headers.append(n, value);
            }
        }
        self
    }

    /// Sets the timeouts.
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Default sampling temperature.
    #[must_use]
    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Default nucleus sampling.
    #[must_use]
    pub fn with_top_p(mut self, top_p: f32) -> Self {
        self.top_p = Some(top_p);
        self
    }

    /// Top-k sampling.
    #[must_use]
    pub fn with_top_k(mut self, top_k: u32) -> Self {
        self.top_k = Some(top_k);
        self
    }

    /// Default stop sequences.
    #[must_use]
    pub fn with_stop_sequences<S: Into<String>>(
        mut self,
        stop: impl IntoIterator<Item = S>,
    ) -> Self {
        self.stop_sequences = stop.into_iter().map(Into::into).collect();
        self
    }

    /// Default output token limit.
    #[must_use]
    pub fn with_max_output_tokens(mut self, max: u32) -> Self {
        self.max_output_tokens = Some(max);
        self
    }

    /// The base URL, or `default`.
    pub(crate) fn base_url_or(&self, default: &str) -> String {
        self.base_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .unwrap_or(default)
            .trim_end_matches('/')
            .to_owned()
    }

    /// The sampling values for one request: the request's own values win.
    pub(crate) fn sampling<'a>(&'a self, req: &'a ChatRequest) -> Sampling<'a> {
        Sampling {
            temperature: req.temperature.or(self.temperature),
            top_p: req.top_p.or(self.top_p),
            top_k: self.top_k,
            max_output_tokens: req.max_tokens.or(self.max_output_tokens),
            stop: if req.stop.is_empty() {
                &self.stop_sequences
            } else {
                &req.stop
            },
        }
    }

    /// Vertex AI credentials: Google credentials, an access token, or none.
    pub(crate) fn vertex_auth(
        &self,
        kind: ProviderKind,
    ) -> Result<Option<GoogleAuth>, ConfigError> {
        match &self.auth {
            Auth::None => Ok(None),
            Auth::Google(g) => Ok(Some(g.clone())),
            Auth::BearerToken(t) => Ok(Some(GoogleAuth::token(t.clone()))),
            _ => Err(self.unsupported_auth(
                kind,
                "Vertex AI takes Google credentials or an access token",
            )),
        }
    }

    /// The error for a credential `kind` cannot use.
    pub(crate) fn unsupported_auth(&self, kind: ProviderKind, expected: &str) -> ConfigError {
        ConfigError::Unsupported {
            provider: kind,
            message: format!("cannot authenticate with {}: {expected}", self.auth.name()),
        }
    }
}

/// The effective sampling values of one request (see [`ProviderOptions::sampling`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sampling<'a> {
    pub(crate) temperature: Option<f32>,
    pub(crate) top_p: Option<f32>,
    pub(crate) top_k: Option<u32>,
    pub(crate) max_output_tokens: Option<u32>,
    pub(crate) stop: &'a [String],
}

/// Parses `name: value` pairs into a header map; values of headers whose name suggests a
/// credential are marked sensitive (kept out of `Debug`). Errors never echo a value.
pub fn header_map<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<HeaderMap, ConfigError> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let header =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| ConfigError::InvalidValue {
                field: "defaultHeaders".into(),
                message: format!("invalid header name {name:?}"),
            })?;
        let mut v = HeaderValue::from_str(value).map_err(|_| ConfigError::InvalidValue {
            field: "defaultHeaders".into(),
            // The value may be a credential: never echo it.
            message: format!("invalid value for header {name:?}"),
        })?;
        if is_sensitive_header(header.as_str()) {
            v.set_sensitive(true);
        }
        map.append(header, v);
    }
    Ok(map)
}

/// Whether a header name usually carries a credential.
pub(crate) fn is_sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n == "proxy-authorization"
        || n.contains("api-key")
        || n.contains("apikey")
        || n.contains("token")
        || n.contains("secret")
        || n == "cookie"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_headers_are_hidden_in_debug() {
        let map = header_map([("Authorization", "Bearer sk-secret"), ("x-trace", "1")]).unwrap();
        let dbg = format!("{map:?}");
        assert!(!dbg.contains("sk-secret"), "{dbg}");
        assert!(dbg.contains("x-trace"));
        let err = header_map([("x-api-key", "bad\nvalue-secret")]).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        let err = header_map([("bad name", "v")]).unwrap_err();
        assert!(matches!(err, ConfigError::InvalidValue { .. }), "{err}");
    }

    #[test]
    fn default_headers_are_added_and_replace_by_name() {
        let o = ProviderOptions::new()
            .with_default_headers(header_map([("x-team", "a"), ("x-other", "1")]).unwrap())
            .with_default_headers(header_map([("x-team", "b"), ("x-team", "c")]).unwrap())
            .with_default_header(
                HeaderName::from_static("x-goog-api-key"),
                HeaderValue::from_static("SECRET-1"),
            );
        let team: Vec<_> = o.default_headers.get_all("x-team").iter().collect();
        assert_eq!(team, ["b", "c"]);
        assert_eq!(o.default_headers["x-other"], "1");
        assert!(o.default_headers["x-goog-api-key"].is_sensitive());
        let dbg = format!("{o:?}");
        assert!(!dbg.contains("SECRET-1"), "{dbg}");
    }

    #[test]
    fn secrets_never_print() {
        let o = ProviderOptions::new().with_api_key("sk-SECRET");
        assert!(!format!("{o:?}").contains("SECRET"));
        let o = ProviderOptions::new().with_bearer_token("tok-SECRET");
        assert!(!format!("{o:?}").contains("SECRET"));
        let o = ProviderOptions::new().with_auth(Auth::Aws(Credentials::new(
            "AKID", "SECRET", None, None, "test",
        )));
        let dbg = format!("{o:?}");
        assert!(dbg.contains("AKID") && !dbg.contains("SECRET"), "{dbg}");
    }

    #[test]
    fn the_request_wins_over_sampling_defaults() {
        let o = ProviderOptions::new()
            .with_temperature(0.5)
            .with_top_p(0.9)
            .with_top_k(40)
            .with_max_output_tokens(100)
            .with_stop_sequences(["END"]);
        let plain = ChatRequest::new(vec![]);
        let s = o.sampling(&plain);
        assert_eq!(
            (
                s.temperature,
                s.top_p,
                s.top_k,
                s.max_output_tokens,
                s.stop.len()
            ),
            (Some(0.5), Some(0.9), Some(40), Some(100), 1)
        );
        let mut own = ChatRequest::new(vec![]);
        own.temperature = Some(0.0);
        own.max_tokens = Some(7);
        own.stop = vec!["A".into(), "B".into()];
        let s = o.sampling(&own);
        assert_eq!(s.temperature, Some(0.0));
        assert_eq!(s.max_output_tokens, Some(7));
        assert_eq!(s.stop, ["A", "B"]);
    }

    #[test]
    fn timeouts_default_is_the_documented_default() {
        assert_eq!(Timeouts::default(), Timeouts::DEFAULT);
        let t = Timeouts::NONE.with_request(Duration::from_secs(3));
        assert_eq!(t.request, Some(Duration::from_secs(3)));
        assert_eq!(t.stream_idle, None);
        assert_eq!(
            ProviderOptions::new()
                .with_base_url("http://x/v1/")
                .base_url_or("d"),
            "http://x/v1"
        );
        assert_eq!(ProviderOptions::new().base_url_or("http://d/"), "http://d");
    }
}
