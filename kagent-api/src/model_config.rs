//! `ModelConfig` (kagent's `modelconfig_types.go`): which model an agent uses, with which
//! provider, credentials and settings.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::ConfigMapKeySelector;
use kube_derive::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Condition, TlsConfig};

/// The model providers kagent knows (`spec.provider` of a ModelConfig, `spec.type` of a
/// ModelProviderConfig).
///
/// Decoding (`kagent_api::decode`) also accepts other spellings (`anthropic`, `azure-openai`)
/// and rewrites them with a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub enum ModelProvider {
    /// Anthropic's API.
    Anthropic,
    /// OpenAI's API, or an OpenAI-compatible server (`openAI.baseUrl`). kagent's default.
    #[default]
    OpenAI,
    /// Azure OpenAI.
    AzureOpenAI,
    /// Ollama.
    Ollama,
    /// Gemini on Google AI Studio (API key).
    Gemini,
    /// Gemini on Vertex AI.
    GeminiVertexAI,
    /// Anthropic models on Vertex AI.
    AnthropicVertexAI,
    /// AWS Bedrock.
    Bedrock,
    /// SAP AI Core.
    SAPAICore,
    /// Azure AI Foundry.
    Foundry,
}

impl ModelProvider {
    /// Every provider, in kagent's enum order.
    pub const ALL: [ModelProvider; 10] = [
        ModelProvider::Anthropic,
        ModelProvider::OpenAI,
        ModelProvider::AzureOpenAI,
        ModelProvider::Ollama,
        ModelProvider::Gemini,
        ModelProvider::GeminiVertexAI,
        ModelProvider::AnthropicVertexAI,
        ModelProvider::Bedrock,
        ModelProvider::SAPAICore,
        ModelProvider::Foundry,
    ];

    /// The spelling in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelProvider::Anthropic => "Anthropic",
            ModelProvider::OpenAI => "OpenAI",
            ModelProvider::AzureOpenAI => "AzureOpenAI",
            ModelProvider::Ollama => "Ollama",
            ModelProvider::Gemini => "Gemini",
            ModelProvider::GeminiVertexAI => "GeminiVertexAI",
            ModelProvider::AnthropicVertexAI => "AnthropicVertexAI",
            ModelProvider::Bedrock => "Bedrock",
            ModelProvider::SAPAICore => "SAPAICore",
            ModelProvider::Foundry => "Foundry",
        }
    }

    /// The YAML name of this provider's settings block in a ModelConfig spec (`openAI`,
    /// `sapAICore`, ...).
    pub fn block_name(self) -> &'static str {
        match self {
            ModelProvider::Anthropic => "anthropic",
            ModelProvider::OpenAI => "openAI",
            ModelProvider::AzureOpenAI => "azureOpenAI",
            ModelProvider::Ollama => "ollama",
            ModelProvider::Gemini => "gemini",
            ModelProvider::GeminiVertexAI => "geminiVertexAI",
            ModelProvider::AnthropicVertexAI => "anthropicVertexAI",
            ModelProvider::Bedrock => "bedrock",
            ModelProvider::SAPAICore => "sapAICore",
            ModelProvider::Foundry => "foundry",
        }
    }

    /// Whether kagent's controller fails without this provider's block (its required fields:
    /// endpoint, project, region, deployment).
    pub fn requires_block(self) -> bool {
        matches!(
            self,
            ModelProvider::AzureOpenAI
                | ModelProvider::GeminiVertexAI
                | ModelProvider::AnthropicVertexAI
                | ModelProvider::Bedrock
                | ModelProvider::SAPAICore
                | ModelProvider::Foundry
        )
    }

    /// kagent's default API endpoint for the provider (`DefaultModelProviderEndpoint`); `None`
    /// where the endpoint is per user (Azure, Vertex, Bedrock, SAP AI Core, Foundry).
    pub fn default_endpoint(self) -> Option<&'static str> {
        match self {
            ModelProvider::OpenAI => Some("https://api.openai.com/v1"),
            ModelProvider::Anthropic => Some("https://api.anthropic.com"),
            ModelProvider::Gemini => Some("https://generativelanguage.googleapis.com"),
            ModelProvider::Ollama => Some("http://localhost:11434"),
            _ => None,
        }
    }
}

impl fmt::Display for ModelProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Fields shared by the two Vertex AI blocks (`BaseVertexAIConfig`); written out in each.
macro_rules! vertex_fields {
    ($(#[$meta:meta])* pub struct $name:ident { $($extra:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "camelCase")]
        #[schemars(transform = crate::schema::Required(&["projectID", "location"]))]
        pub struct $name {
            /// The Google Cloud project ID.
            #[serde(default, rename = "projectID")]
                    pub project_id: String,
            /// The Google Cloud location (region).
            #[serde(default)]
                    pub location: String,
            /// Sampling temperature, as a decimal string.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub temperature: Option<String>,
            /// Top-p sampling, as a decimal string.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub top_p: Option<String>,
            /// Top-k sampling, as a decimal string (a string here, unlike `anthropic.topK`).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub top_k: Option<String>,
            /// Stop sequences.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub stop_sequences: Vec<String>,
            $($extra)*
        }
    };
}

vertex_fields! {
    /// Gemini on Vertex AI.
    pub struct GeminiVertexAIConfig {
        /// Maximum output tokens.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(range(min = 1))]
        pub max_output_tokens: Option<i64>,
        /// Candidate count.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub candidate_count: Option<i64>,
        /// Response MIME type.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub response_mime_type: Option<String>,
    }
}

vertex_fields! {
    /// Anthropic models on Vertex AI.
    pub struct AnthropicVertexAIConfig {
        /// Maximum tokens to generate.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_tokens: Option<i64>,
    }
}

/// Anthropic settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnthropicConfig {
    /// Base URL of the Anthropic API (overrides the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Maximum tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
    /// Sampling temperature, as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<String>,
    /// Top-p sampling, as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<String>,
    /// Top-k sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<i64>,
}

/// Token exchange mechanisms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum TokenExchangeType {
    /// Google Distributed Cloud Hosted service account.
    GDCHServiceAccount,
}

/// GDCH token exchange parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["audience"]))]
pub struct GdchServiceAccountConfig {
    /// Token exchange audience (the GDC inference gateway base URL).
    #[serde(default)]
    pub audience: String,
}

/// Acquires a bearer token by credential exchange before model calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenExchangeConfig {
    /// The mechanism.
    #[serde(rename = "type")]
    pub type_: TokenExchangeType,
    /// GDCH parameters (required for GDCHServiceAccount).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gdch_service_account: Option<GdchServiceAccountConfig>,
}

/// Which OpenAI HTTP API to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub enum OpenAIAPIFormat {
    /// `/v1/chat/completions` (the default).
    #[default]
    #[serde(rename = "chatCompletions")]
    ChatCompletions,
    /// `/v1/responses`.
    #[serde(rename = "responses")]
    Responses,
}

/// How many reasoning tokens the model generates before answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum OpenAIReasoningEffort {
    None,
    Minimal,
    Low,
    Medium,
    High,
    Xhigh,
    Max,
}

/// OpenAI (and OpenAI-compatible) settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    crates(kube_core = "::kube_core"),
    validation = Rule::new("!(has(self.maxTokens) && has(self.maxCompletionTokens))").message("maxTokens and maxCompletionTokens are mutually exclusive")
)]
pub struct OpenAIConfig {
    /// Base URL of the API (overrides the default; for OpenAI-compatible servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// OpenAI organization ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Sampling temperature, as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<String>,
    /// `max_tokens` (rejected by reasoning models; use `maxCompletionTokens` there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_tokens: Option<i64>,
    /// `max_completion_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_completion_tokens: Option<i64>,
    /// Top-p sampling, as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<String>,
    /// Frequency penalty, as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<String>,
    /// Presence penalty, as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<String>,
    /// Seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Number of choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<i64>,
    /// Request timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Reasoning effort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<OpenAIReasoningEffort>,
    /// Which HTTP API to call (default chatCompletions).
    #[serde(default)]
    pub api_format: OpenAIAPIFormat,
    /// Dynamic bearer token acquisition (needs `apiKeySecret`; excludes `apiKeyPassthrough`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_exchange: Option<TokenExchangeConfig>,
}

/// Azure OpenAI settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["azureEndpoint", "apiVersion"]))]
pub struct AzureOpenAIConfig {
    /// Endpoint, e.g. `https://my-resource.openai.azure.com/`.
    #[serde(default, rename = "azureEndpoint")]
    pub endpoint: String,
    /// API version, e.g. `2024-10-21`.
    #[serde(default)]
    pub api_version: String,
    /// Deployment name.
    #[serde(
        default,
        rename = "azureDeployment",
        skip_serializing_if = "Option::is_none"
    )]
    pub deployment_name: Option<String>,
    /// Azure AD token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_ad_token: Option<String>,
    /// Sampling temperature, as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<String>,
    /// Maximum tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
    /// Top-p sampling, as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<String>,
}

/// Ollama settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OllamaConfig {
    /// Host of the Ollama API, e.g. `http://ollama:11434`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Ollama options (`num_ctx`, ...), values as strings.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// Gemini (AI Studio, API key) settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GeminiConfig {
    /// Maximum output tokens per response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_output_tokens: Option<i64>,
}

/// How long Bedrock keeps a cached prompt prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub enum BedrockCacheTtl {
    /// Five minutes, refreshed on each hit (the default).
    #[default]
    #[serde(rename = "5m")]
    FiveMinutes,
    /// One hour (higher write price, fewer models).
    #[serde(rename = "1h")]
    OneHour,
}

/// Bedrock guardrail tracing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BedrockGuardrailTrace {
    /// No trace (the default).
    #[default]
    Disabled,
    /// Trace.
    Enabled,
    /// Full trace.
    EnabledFull,
}

/// A Bedrock guardrail.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["identifier", "version"]))]
pub struct BedrockGuardrailConfig {
    /// Guardrail ID or ARN.
    #[serde(default)]
    #[schemars(length(min = 1, max = 2048))]
    pub identifier: String,
    /// Guardrail version (`1`, `DRAFT`).
    #[serde(default)]
    #[schemars(length(min = 1, max = 8))]
    pub version: String,
    /// Tracing.
    #[serde(default)]
    pub trace: BedrockGuardrailTrace,
}

/// AWS Bedrock settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["region"]))]
pub struct BedrockConfig {
    /// AWS region, e.g. `us-east-1`.
    #[serde(default)]
    pub region: String,
    /// Model-specific Converse `additionalModelRequestFields`, passed as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::preserve_unknown_fields")]
    pub additional_model_request_fields: Option<serde_json::Value>,
    /// Appends cache points to the system prompt and tool list.
    #[serde(default)]
    pub prompt_caching: bool,
    /// Cache lifetime when `promptCaching` is on.
    #[serde(default, rename = "cacheTTL")]
    pub cache_ttl: BedrockCacheTtl,
    /// A guardrail to apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<BedrockGuardrailConfig>,
    /// HTTP read timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub read_timeout: Option<i64>,
    /// Connection timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub connect_timeout: Option<i64>,
}

fn default_resource_group() -> String {
    "default".to_string()
}

/// SAP AI Core settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["baseUrl"]))]
pub struct SAPAICoreConfig {
    /// Base URL of the SAP AI Core API.
    #[serde(default)]
    pub base_url: String,
    /// Resource group (default `default`).
    #[serde(default = "default_resource_group")]
    pub resource_group: String,
    /// OAuth2 token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_url: Option<String>,
}

impl Default for SAPAICoreConfig {
    fn default() -> Self {
        SAPAICoreConfig {
            base_url: String::new(),
            resource_group: default_resource_group(),
            auth_url: None,
        }
    }
}

fn default_foundry_api_version() -> String {
    "2024-10-21".to_string()
}

/// Azure AI Foundry settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    crates(kube_core = "::kube_core"),
    validation = Rule::new("!(has(self.endpoint) && size(self.endpoint) > 0 && has(self.endpointFrom))").message("foundry.endpoint and foundry.endpointFrom are mutually exclusive"),
    validation = Rule::new("(has(self.endpoint) && size(self.endpoint) > 0) || has(self.endpointFrom)").message("foundry.endpoint or foundry.endpointFrom is required")
)]
#[schemars(transform = crate::schema::Required(&["deployment"]))]
pub struct FoundryConfig {
    /// Account endpoint, e.g. `https://my-account.cognitiveservices.azure.com/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Reads the endpoint from a ConfigMap key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_from: Option<ConfigMapKeySelector>,
    /// Model deployment name.
    #[serde(default)]
    pub deployment: String,
    /// Data-plane API version (default `2024-10-21`).
    #[serde(default = "default_foundry_api_version")]
    pub api_version: String,
}

impl Default for FoundryConfig {
    fn default() -> Self {
        FoundryConfig {
            endpoint: None,
            endpoint_from: None,
            deployment: String::new(),
            api_version: default_foundry_api_version(),
        }
    }
}

/// The desired state of a ModelConfig: the model, its provider, credentials and settings.
// clippy reads the repeated `type_ = ...` of kube's printcolumn(...) entries as duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Debug, Clone, PartialEq, Default, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "kagent.dev",
    version = "v1alpha2",
    kind = "ModelConfig",
    namespaced,
    status = "ModelConfigStatus",
    shortname = "mc",
    category = "kagent",
    printcolumn(name = "Provider", type_ = "string", json_path = ".spec.provider"),
    printcolumn(name = "Model", type_ = "string", json_path = ".spec.model"),
    doc = "ModelConfig is the Schema for the modelconfigs API.",
    derive = "PartialEq",
    derive = "Default",
    crates(kube_core = "::kube_core")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    crates(kube_core = "::kube_core"),
    validation = Rule::new("!(has(self.openAI) && self.provider != 'OpenAI')").message("provider.openAI must be nil if the provider is not OpenAI"),
    validation = Rule::new("!(has(self.anthropic) && self.provider != 'Anthropic')").message("provider.anthropic must be nil if the provider is not Anthropic"),
    validation = Rule::new("!(has(self.azureOpenAI) && self.provider != 'AzureOpenAI')").message("provider.azureOpenAI must be nil if the provider is not AzureOpenAI"),
    validation = Rule::new("!(has(self.ollama) && self.provider != 'Ollama')").message("provider.ollama must be nil if the provider is not Ollama"),
    validation = Rule::new("!(has(self.gemini) && self.provider != 'Gemini')").message("provider.gemini must be nil if the provider is not Gemini"),
    validation = Rule::new("!(has(self.geminiVertexAI) && self.provider != 'GeminiVertexAI')").message("provider.geminiVertexAI must be nil if the provider is not GeminiVertexAI"),
    validation = Rule::new("!(has(self.anthropicVertexAI) && self.provider != 'AnthropicVertexAI')").message("provider.anthropicVertexAI must be nil if the provider is not AnthropicVertexAI"),
    validation = Rule::new("!(has(self.bedrock) && self.provider != 'Bedrock')").message("provider.bedrock must be nil if the provider is not Bedrock"),
    validation = Rule::new("!(has(self.sapAICore) && self.provider != 'SAPAICore')").message("provider.sapAICore must be nil if the provider is not SAPAICore"),
    validation = Rule::new("!(has(self.foundry) && self.provider != 'Foundry')").message("provider.foundry must be nil if the provider is not Foundry"),
    validation = Rule::new("!(has(self.apiKeySecretKey) && !has(self.apiKeySecret))").message("apiKeySecret must be set if apiKeySecretKey is set"),
    validation = Rule::new("!(has(self.apiKeySecret) && !has(self.apiKeySecretKey) && self.provider != 'Bedrock' && self.provider != 'SAPAICore')").message("apiKeySecretKey must be set if apiKeySecret is set (except for Bedrock and SAPAICore providers)"),
    validation = Rule::new("!(has(self.apiKeyPassthrough) && self.apiKeyPassthrough && has(self.apiKeySecret) && size(self.apiKeySecret) > 0)").message("apiKeyPassthrough and apiKeySecret are mutually exclusive"),
    validation = Rule::new("!(has(self.apiKeyPassthrough) && self.apiKeyPassthrough && (self.provider == 'Gemini' || self.provider == 'GeminiVertexAI' || self.provider == 'AnthropicVertexAI'))").message("apiKeyPassthrough must be false if provider is Gemini;GeminiVertexAI;AnthropicVertexAI"),
    validation = Rule::new("!(has(self.openAI) && has(self.openAI.tokenExchange) && (!has(self.apiKeySecret) || size(self.apiKeySecret) == 0))").message("openAI.tokenExchange requires apiKeySecret (the service account secret)"),
    validation = Rule::new("!(has(self.openAI) && has(self.openAI.tokenExchange) && has(self.apiKeyPassthrough) && self.apiKeyPassthrough)").message("openAI.tokenExchange and apiKeyPassthrough are mutually exclusive"),
    validation = Rule::new("!(has(self.openAI) && has(self.openAI.tokenExchange) && self.openAI.tokenExchange.type == 'GDCHServiceAccount' && !has(self.openAI.tokenExchange.gdchServiceAccount))").message("openAI.tokenExchange type GDCHServiceAccount requires openAI.tokenExchange.gdchServiceAccount")
)]
#[schemars(transform = crate::schema::Required(&["model"]))]
pub struct ModelConfigSpec {
    /// The model name, e.g. `claude-sonnet-4-20250514` or `gpt-4.1-mini`.
    #[serde(default)]
    pub model: String,
    /// Name of the Secret (same namespace) holding the API key. For SAPAICore the Secret holds
    /// `client_id` and `client_secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_secret: Option<String>,
    /// Key in `apiKeySecret` holding the API key (not used for SAPAICore).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_secret_key: Option<String>,
    /// Forward the bearer token of the incoming A2A request as the API key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub api_key_passthrough: bool,
    /// Headers sent with every model request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub default_headers: BTreeMap<String, String>,
    /// The provider (default OpenAI).
    #[serde(default)]
    pub provider: ModelProvider,
    /// OpenAI settings.
    #[serde(default, rename = "openAI", skip_serializing_if = "Option::is_none")]
    pub open_ai: Option<OpenAIConfig>,
    /// Anthropic settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anthropic: Option<AnthropicConfig>,
    /// Azure OpenAI settings.
    #[serde(
        default,
        rename = "azureOpenAI",
        skip_serializing_if = "Option::is_none"
    )]
    pub azure_open_ai: Option<AzureOpenAIConfig>,
    /// Ollama settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ollama: Option<OllamaConfig>,
    /// Gemini (AI Studio) settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemini: Option<GeminiConfig>,
    /// Gemini on Vertex AI settings.
    #[serde(
        default,
        rename = "geminiVertexAI",
        skip_serializing_if = "Option::is_none"
    )]
    pub gemini_vertex_ai: Option<GeminiVertexAIConfig>,
    /// Anthropic on Vertex AI settings.
    #[serde(
        default,
        rename = "anthropicVertexAI",
        skip_serializing_if = "Option::is_none"
    )]
    pub anthropic_vertex_ai: Option<AnthropicVertexAIConfig>,
    /// AWS Bedrock settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bedrock: Option<BedrockConfig>,
    /// SAP AI Core settings.
    #[serde(default, rename = "sapAICore", skip_serializing_if = "Option::is_none")]
    pub sap_ai_core: Option<SAPAICoreConfig>,
    /// Azure AI Foundry settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foundry: Option<FoundryConfig>,
    /// TLS settings for the provider connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

impl ModelConfigSpec {
    /// The providers whose settings block is present, in kagent's enum order.
    pub fn present_blocks(&self) -> Vec<ModelProvider> {
        let present = [
            (ModelProvider::Anthropic, self.anthropic.is_some()),
            (ModelProvider::OpenAI, self.open_ai.is_some()),
            (ModelProvider::AzureOpenAI, self.azure_open_ai.is_some()),
            (ModelProvider::Ollama, self.ollama.is_some()),
            (ModelProvider::Gemini, self.gemini.is_some()),
            (
                ModelProvider::GeminiVertexAI,
                self.gemini_vertex_ai.is_some(),
            ),
            (
                ModelProvider::AnthropicVertexAI,
                self.anthropic_vertex_ai.is_some(),
            ),
            (ModelProvider::Bedrock, self.bedrock.is_some()),
            (ModelProvider::SAPAICore, self.sap_ai_core.is_some()),
            (ModelProvider::Foundry, self.foundry.is_some()),
        ];
        present
            .into_iter()
            .filter_map(|(p, is)| is.then_some(p))
            .collect()
    }
}

/// The observed state of a ModelConfig.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelConfigStatus {
    /// Conditions (`Accepted`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Hash of the secrets the config uses, so agents restart when they change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
}

/// The condition type kagent sets on a ModelConfig.
pub const MODEL_CONFIG_CONDITION_ACCEPTED: &str = "Accepted";
