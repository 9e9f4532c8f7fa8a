//! The one path from a [`ModelConfig`] to a provider: the shared [`ProviderOptions`] first,
//! then the provider's own constructor and settings, all through the providers' public API.

use std::sync::Arc;

use aws_credential_types::Credentials;
use kagent_core::ModelProvider;
use secrecy::{ExposeSecret, SecretString};

use super::{ModelConfig, VertexBaseConfig};
use crate::anthropic::AnthropicProvider;
use crate::bedrock::BedrockProvider;
use crate::gemini::GeminiProvider;
use crate::ollama::OllamaProvider;
use crate::openai::{AzureApi, MaxTokensField, OpenAIProvider, OpenAISettings};
use crate::options::{Auth, ConfigError, ProviderKind, ProviderOptions};
use crate::vertex::{GoogleAuth, ServiceAccountKey, VertexLocation};

/// Builds the provider a configuration describes, using the given (injected) client, as the
/// `Arc<dyn ModelProvider>` that `LlmAgentBuilder::provider` takes.
///
/// ```
/// use kagent_llm::config::{ModelConfig, build_provider};
///
/// let config: ModelConfig = serde_json::from_value(serde_json::json!({
///     "provider": "OpenAI",
///     "model": "gpt-4.1-mini",
///     "apiKey": "sk-test",
///     "openAI": {"temperature": "0.2", "maxTokens": 1024}
/// }))?;
/// let client = config.build_client()?;
/// let provider = build_provider(&config, client)?;
/// assert_eq!(provider.info().model, "gpt-4.1-mini");
/// assert!(!format!("{config:?}").contains("sk-test"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn build_provider(
    config: &ModelConfig,
    client: reqwest::Client,
) -> Result<Arc<dyn ModelProvider>, ConfigError> {
    if config.model.trim().is_empty() {
        return Err(config.missing("model"));
    }
    let options = shared_options(config, &client)?;
    let model = config.model.clone();
    Ok(match config.provider {
        ProviderKind::OpenAI => Arc::new(openai(config, client, options)?),
        ProviderKind::AzureOpenAI => Arc::new(azure(config, client, options)?),
        ProviderKind::Ollama => {
            let mut p = OllamaProvider::new(client, model, options)?;
            for (name, value) in config.ollama.iter().flat_map(|o| &o.options) {
                p = p.with_option(name.clone(), value.clone());
            }
            Arc::new(p)
        }
        ProviderKind::Anthropic => Arc::new(AnthropicProvider::new(client, model, options)?),
        ProviderKind::AnthropicVertexAI => {
            let block = config.anthropic_vertex_ai.clone().unwrap_or_default();
            let location = vertex_location(config, &block.base, "anthropicVertexAI")?;
            Arc::new(AnthropicProvider::vertex(client, location, model, options)?)
        }
        ProviderKind::Gemini => Arc::new(GeminiProvider::new(client, model, options)?),
        ProviderKind::GeminiVertexAI => {
            let block = config.gemini_vertex_ai.clone().unwrap_or_default();
            let location = vertex_location(config, &block.base, "geminiVertexAI")?;
            let mut p = GeminiProvider::vertex(client, location, model, options)?;
            if let Some(mime) = block.response_mime_type.filter(|m| !m.is_empty()) {
                p = p.with_response_mime_type(mime);
            }
            Arc::new(p)
        }
        ProviderKind::Bedrock => Arc::new(bedrock(config, client, options)?),
    })
}

/// What every provider shares: headers, timeouts, the endpoint, the credential and the
/// sampling defaults of the provider's block.
fn shared_options(
    config: &ModelConfig,
    client: &reqwest::Client,
) -> Result<ProviderOptions, ConfigError> {
    let mut o = ProviderOptions::new()
        .with_default_headers(config.header_map()?)
        .with_timeouts(config.effective_timeouts());
    if let Some(url) = config.base_url.as_deref().filter(|u| !u.is_empty()) {
        o = o.with_base_url(url);
    }
    if let Some(key) = &config.api_key {
        o.auth = Auth::ApiKey(key.clone());
    }
    match config.provider {
        ProviderKind::OpenAI => {
            if let Some(b) = &config.open_ai {
                if let Some(url) = b.base_url.as_deref().filter(|u| !u.is_empty()) {
                    o = o.with_base_url(url);
                }
                sampling(&mut o, b.temperature, b.top_p, None, b.max_tokens);
            }
        }
        ProviderKind::AzureOpenAI => {
            let b = config
                .azure_open_ai
                .as_ref()
                .ok_or_else(|| config.missing("azureOpenAI"))?;
            if !b.azure_endpoint.is_empty() {
                o = o.with_base_url(&b.azure_endpoint);
            }
            o.auth = match (&b.azure_ad_token, &config.api_key) {
                (Some(t), _) => Auth::BearerToken(t.clone()),
                (None, Some(k)) => Auth::ApiKey(k.clone()),
                (None, None) => return Err(config.missing("apiKey or azureOpenAI.azureAdToken")),
            };
            sampling(&mut o, b.temperature, b.top_p, None, b.max_tokens);
        }
        ProviderKind::Anthropic => {
            if config.api_key.is_none() {
                return Err(config.missing("apiKey"));
            }
            if let Some(b) = &config.anthropic {
                if let Some(url) = b.base_url.as_deref().filter(|u| !u.is_empty()) {
                    o = o.with_base_url(url);
                }
                sampling(&mut o, b.temperature, b.top_p, b.top_k, b.max_tokens);
            }
        }
        ProviderKind::Gemini => {
            if config.api_key.is_none() {
                return Err(config.missing("apiKey"));
            }
        }
        ProviderKind::AnthropicVertexAI => {
            let b = config.anthropic_vertex_ai.clone().unwrap_or_default();
            vertex_location(config, &b.base, "anthropicVertexAI")?;
            vertex_sampling(&mut o, &b.base, b.max_tokens);
            o.auth = vertex_auth(config, &b.base, "anthropicVertexAI", client)?;
        }
        ProviderKind::GeminiVertexAI => {
            let b = config.gemini_vertex_ai.clone().unwrap_or_default();
            vertex_location(config, &b.base, "geminiVertexAI")?;
            vertex_sampling(&mut o, &b.base, b.max_output_tokens);
            o.stop_sequences.clone_from(&b.base.stop_sequences);
            o.auth = vertex_auth(config, &b.base, "geminiVertexAI", client)?;
        }
        ProviderKind::Ollama => {
            if let Some(host) = config
                .ollama
                .as_ref()
                .and_then(|b| b.host.as_deref())
                .filter(|h| !h.is_empty())
            {
                o = o.with_base_url(host);
            }
        }
        ProviderKind::Bedrock => o.auth = bedrock_auth(config)?,
    }
    Ok(o)
}

fn sampling(
    o: &mut ProviderOptions,
    temperature: Option<f32>,
    top_p: Option<f32>,
    top_k: Option<u32>,
    max_tokens: Option<u32>,
) {
    o.temperature = temperature;
    o.top_p = top_p;
    o.top_k = top_k;
    o.max_output_tokens = max_tokens;
}

fn vertex_sampling(o: &mut ProviderOptions, base: &VertexBaseConfig, max_tokens: Option<u32>) {
    // kagent stores topK as a number that may have a fraction; Vertex takes an integer.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let top_k = base.top_k.map(|k| k.max(0.0) as u32);
    sampling(o, base.temperature, base.top_p, top_k, max_tokens);
}

fn openai(
    config: &ModelConfig,
    client: reqwest::Client,
    options: ProviderOptions,
) -> Result<OpenAIProvider, ConfigError> {
    let b = config.open_ai.clone().unwrap_or_default();
    let reasoning_effort = b.reasoning_effort.filter(|e| !e.is_empty());
    let mut settings = OpenAISettings::default()
        .with_api_format(b.api_format.unwrap_or_default())
        .with_system_role(b.system_role.unwrap_or_default())
        // Reasoning models take only max_completion_tokens (API reference: max_tokens "is not
        // compatible with o1 series models").
        .with_max_tokens_field(b.max_tokens_field.unwrap_or(if reasoning_effort.is_some() {
            MaxTokensField::MaxCompletionTokens
        } else {
            MaxTokensField::MaxTokens
        }));
    settings.organization = b.organization.filter(|o| !o.is_empty());
    settings.frequency_penalty = b.frequency_penalty;
    settings.presence_penalty = b.presence_penalty;
    settings.seed = b.seed;
    settings.n = b.n;
    settings.reasoning_effort = reasoning_effort;
    Ok(OpenAIProvider::new(client, config.model.clone(), options)?.with_settings(settings))
}

fn azure(
    config: &ModelConfig,
    client: reqwest::Client,
    options: ProviderOptions,
) -> Result<OpenAIProvider, ConfigError> {
    let b = config
        .azure_open_ai
        .as_ref()
        .ok_or_else(|| config.missing("azureOpenAI"))?;
    // The deployment defaults to the model name.
    let deployment = b
        .azure_deployment
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| config.model.clone());
    OpenAIProvider::azure(
        client,
        AzureApi::from_version(b.api_version.as_deref()),
        deployment,
        options,
    )
}

/// Credentials: `bedrock.accessKeyID`/`secretAccessKey`/`sessionToken`, else the environment's
/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, else an API key (`apiKey`
/// or `AWS_BEARER_TOKEN_BEDROCK`).
fn bedrock_auth(config: &ModelConfig) -> Result<Auth, ConfigError> {
    let block = config.bedrock.clone().unwrap_or_default();
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(id), Some(secret)) = (&block.access_key_id, &block.secret_access_key) {
        return Ok(Auth::Aws(Credentials::new(
            id.clone(),
            secret.expose_secret().to_owned(),
            block
                .session_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            None,
            "kagent-modelconfig",
        )));
    }
    if let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Ok(Auth::Aws(Credentials::new(
            id,
            secret,
            env("AWS_SESSION_TOKEN"),
            None,
            "environment",
        )));
    }
    match config
        .api_key
        .clone()
        .or_else(|| env("AWS_BEARER_TOKEN_BEDROCK").map(SecretString::from))
    {
        Some(key) => Ok(Auth::ApiKey(key)),
        None => Err(config.missing("bedrock.accessKeyID")),
    }
}

/// The region comes from `bedrock.region`, else `AWS_REGION` / `AWS_DEFAULT_REGION`; the
/// kagent-rs `baseUrl` replaces both the runtime and the control-plane endpoint.
fn bedrock(
    config: &ModelConfig,
    client: reqwest::Client,
    options: ProviderOptions,
) -> Result<BedrockProvider, ConfigError> {
    let block = config.bedrock.clone().unwrap_or_default();
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let region = Some(block.region.clone())
        .filter(|r| !r.is_empty())
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .ok_or_else(|| config.missing("bedrock.region"))?;
    let mut p = BedrockProvider::new(client, region, config.model.clone(), options)?
        .with_prompt_caching(block.prompt_caching);
    if let Some(fields) = block.additional_model_request_fields {
        p = p.with_additional_model_request_fields(fields);
    }
    if let Some(url) = config.base_url.as_deref().filter(|u| !u.is_empty()) {
        p = p.with_control_plane_url(url);
    }
    Ok(p)
}

/// The Vertex project and location of a block.
fn vertex_location(
    config: &ModelConfig,
    base: &VertexBaseConfig,
    block: &str,
) -> Result<VertexLocation, ConfigError> {
    if base.project_id.is_empty() {
        return Err(config.missing(&format!("{block}.projectID")));
    }
    if base.location.is_empty() {
        return Err(config.missing(&format!("{block}.location")));
    }
    Ok(VertexLocation::new(
        base.project_id.clone(),
        base.location.clone(),
    ))
}

/// Vertex credentials from a kagent `VertexBaseConfig`: `credentialsJson` (a service-account
/// key), `accessToken`, or the API key field (kagent keeps the service-account JSON in
/// `apiKeySecret`: JSON is used as a key, anything else as an access token); without any of
/// these, application default credentials (`GOOGLE_APPLICATION_CREDENTIALS`, then the metadata
/// server). Token requests go through the injected client.
fn vertex_auth(
    config: &ModelConfig,
    base: &VertexBaseConfig,
    block: &str,
    client: &reqwest::Client,
) -> Result<Auth, ConfigError> {
    let sa = |json: &str| -> Result<GoogleAuth, ConfigError> {
        let invalid = |message: String| ConfigError::InvalidValue {
            field: format!("{block}.credentialsJson"),
            message,
        };
        let key = ServiceAccountKey::from_json(json).map_err(|e| invalid(e.to_string()))?;
        GoogleAuth::service_account(key, client.clone()).map_err(|e| invalid(e.to_string()))
    };
    let auth = if let Some(json) = &base.credentials_json {
        sa(json.expose_secret())?
    } else if let Some(token) = &base.access_token {
        GoogleAuth::token(token.clone())
    } else if let Some(key) = config.api_key() {
        if key.trim_start().starts_with('{') {
            sa(key)?
        } else {
            GoogleAuth::token(key.to_owned())
        }
    } else {
        match std::env::var("GOOGLE_APPLICATION_CREDENTIALS")
            .ok()
            .filter(|p| !p.is_empty())
        {
            Some(path) => {
                let json = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
                    path: path.into(),
                    source,
                })?;
                sa(&json)?
            }
            None => GoogleAuth::metadata_server(client.clone()),
        }
    };
    Ok(Auth::Google(auth))
}
