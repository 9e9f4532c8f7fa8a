//! Amazon Bedrock Converse and ConverseStream.
//!
//! `POST {base}/model/{modelId}/converse` and `…/converse-stream` on
//! `bedrock-runtime.{region}.amazonaws.com`, signed with AWS Signature Version 4 by the
//! `aws-sigv4` crate (service `bedrock`), or authenticated with a Bedrock API key
//! (`Authorization: Bearer`). ConverseStream answers in the AWS event-stream binary framing,
//! decoded by `aws-smithy-eventstream`.

mod request;
mod stream;

use std::fmt;
use std::time::SystemTime;

use async_trait::async_trait;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use http::{HeaderMap, HeaderName, HeaderValue};
use kagent_core::{
    Capabilities, ChatEvent, ChatRequest, ChatResponse, ChatStream, ModelInfo, ModelProvider,
    ModelSummary, ProviderError,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tracing::Instrument;

use crate::anthropic::machine::{Machine, drive};
use crate::http::{self as h, Timeouts};
use crate::telemetry::{chat_span, list_span, record_error, record_response};

use request::{BodyOptions, build_request};
use stream::{BedrockStreamState, response_from_wire};

/// The SigV4 service name of Bedrock Runtime.
pub const SIGNING_SERVICE: &str = "bedrock";

/// How Bedrock requests are authenticated.
#[derive(Clone)]
#[non_exhaustive]
pub enum BedrockAuth {
    /// AWS credentials (access key, secret key, optional session token), signed with SigV4.
    SigV4(Credentials),
    /// A Bedrock API key, sent as `Authorization: Bearer` (`AWS_BEARER_TOKEN_BEDROCK`).
    ApiKey(SecretString),
}

impl fmt::Debug for BedrockAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // `Credentials`' own Debug redacts the secret key; we show only the key id.
            BedrockAuth::SigV4(c) => f
                .debug_struct("SigV4")
                .field("access_key_id", &c.access_key_id())
                .field("secret_access_key", &"[redacted]")
                .field("session_token", &c.session_token().map(|_| "[redacted]"))
                .finish(),
            BedrockAuth::ApiKey(_) => f.write_str("ApiKey([redacted])"),
        }
    }
}

/// A [`ModelProvider`] for Bedrock's Converse API.
///
/// ```no_run
/// # async fn run() -> Result<(), kagent_core::ProviderError> {
/// use aws_credential_types::Credentials;
/// use kagent_core::{ChatRequest, Message, ModelProvider};
/// use kagent_llm::bedrock::{BedrockAuth, BedrockProvider};
///
/// let creds = Credentials::new("AKIA...", "secret", None, None, "config");
/// let provider = BedrockProvider::new(
///     reqwest::Client::new(),
///     "us-east-1",
///     BedrockAuth::SigV4(creds),
///     "anthropic.claude-3-5-sonnet-20240620-v1:0",
/// );
/// let answer = provider.chat(&ChatRequest::new(vec![Message::user("Hello")])).await?;
/// println!("{}", answer.message.text_content());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BedrockProvider {
    client: reqwest::Client,
    region: String,
    base_url: String,
    control_url: String,
    auth: BedrockAuth,
    model: String,
    info: ModelInfo,
    options: BodyOptions,
    timeouts: Timeouts,
    headers: HeaderMap,
    signing_time: Option<SystemTime>,
}

impl fmt::Debug for BedrockProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BedrockProvider")
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("auth", &self.auth)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl BedrockProvider {
    /// Bedrock Runtime in `region`. `model` is a model id, an inference profile id
    /// (`us.anthropic.claude-…`) or an ARN.
    pub fn new(
        client: reqwest::Client,
        region: impl Into<String>,
        auth: BedrockAuth,
        model: impl Into<String>,
    ) -> Self {
        let region = region.into();
        let model = model.into();
        BedrockProvider {
            client,
            base_url: format!("https://bedrock-runtime.{region}.amazonaws.com"),
            control_url: format!("https://bedrock.{region}.amazonaws.com"),
            region,
            auth,
            info: ModelInfo {
                provider: "aws.bedrock".into(),
                model: model.clone(),
                capabilities: Capabilities {
                    vision: true,
                    ..Capabilities::default()
                },
            },
            model,
            options: BodyOptions::default(),
            timeouts: Timeouts::DEFAULT,
            headers: HeaderMap::new(),
            signing_time: None,
        }
    }

    /// Another endpoint (VPC endpoint, FIPS endpoint, a test server). SigV4 signs for the
    /// configured region whatever the host.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Another endpoint for the control plane (`bedrock.{region}.amazonaws.com`), used by
    /// [`ModelProvider::list_models`].
    pub fn with_control_plane_url(mut self, url: impl Into<String>) -> Self {
        self.control_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// `inferenceConfig.maxTokens` when a request sets none.
    pub fn with_max_tokens(mut self, n: u32) -> Self {
        self.options.max_tokens = Some(n);
        self
    }

    /// Default temperature (a request's own value wins).
    pub fn with_temperature(mut self, t: f32) -> Self {
        self.options.temperature = Some(t);
        self
    }

    /// Default nucleus sampling (a request's own value wins).
    pub fn with_top_p(mut self, p: f32) -> Self {
        self.options.top_p = Some(p);
        self
    }

    /// `additionalModelRequestFields`, sent as given (e.g. Claude's
    /// `{"thinking": {"type": "enabled", "budget_tokens": 2048}}`).
    pub fn with_additional_model_request_fields(mut self, fields: Value) -> Self {
        self.options.additional_fields = Some(fields);
        self
    }

    /// Adds `cachePoint` blocks after the system prompt and the tool list, so Bedrock caches
    /// that prefix (models that support prompt caching).
    pub fn with_prompt_caching(mut self, on: bool) -> Self {
        self.options.prompt_caching = on;
        self
    }

    /// Request and stream-idle timeouts.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Headers sent with every request (kagent's `defaultHeaders`; not signed).
    pub fn with_default_headers(mut self, headers: HeaderMap) -> Self {
        self.headers = headers;
        self
    }

    /// Builds the provider from a kagent `ModelConfig` (`provider: Bedrock`). Credentials:
    /// `bedrock.accessKeyID`/`secretAccessKey`/`sessionToken`, else the environment's
    /// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, else an API key
    /// (`apiKey` or `AWS_BEARER_TOKEN_BEDROCK`). The region comes from `bedrock.region`, else
    /// `AWS_REGION`/`AWS_DEFAULT_REGION`.
    pub fn from_config(
        config: &crate::config::ModelConfig,
        client: reqwest::Client,
    ) -> Result<Self, crate::config::ConfigError> {
        if config.model.is_empty() {
            return Err(config.missing("model"));
        }
        let block = config.bedrock.clone().unwrap_or_default();
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let region = Some(block.region.clone())
            .filter(|r| !r.is_empty())
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .ok_or_else(|| config.missing("bedrock.region"))?;
        let auth = match (&block.access_key_id, &block.secret_access_key) {
            (Some(id), Some(secret)) => BedrockAuth::SigV4(Credentials::new(
                id.clone(),
                secret.expose_secret().to_owned(),
                block
                    .session_token
                    .as_ref()
                    .map(|t| t.expose_secret().to_owned()),
                None,
                "kagent-modelconfig",
            )),
            _ => match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
                (Some(id), Some(secret)) => BedrockAuth::SigV4(Credentials::new(
                    id,
                    secret,
                    env("AWS_SESSION_TOKEN"),
                    None,
                    "environment",
                )),
                _ => match config
                    .api_key()
                    .map(str::to_owned)
                    .or_else(|| env("AWS_BEARER_TOKEN_BEDROCK"))
                {
                    Some(key) => BedrockAuth::ApiKey(key.into()),
                    None => return Err(config.missing("bedrock.accessKeyID")),
                },
            },
        };
        let mut p = BedrockProvider::new(client, region, auth, config.model.clone());
        if let Some(url) = config.base_url.clone().filter(|u| !u.is_empty()) {
            p = p.with_base_url(url.clone()).with_control_plane_url(url);
        }
        p.options.additional_fields = block.additional_model_request_fields.clone();
        p.options.prompt_caching = block.prompt_caching;
        p.headers = config.header_map()?;
        p.timeouts = config.effective_timeouts();
        Ok(p)
    }

    /// Signs every request as if it were this time (for reproducible signatures in tests).
    pub fn with_signing_time(mut self, time: SystemTime) -> Self {
        self.signing_time = Some(time);
        self
    }

    /// The URL of an operation (`converse` or `converse-stream`); the model id is
    /// percent-encoded as one path segment (ARNs and ids contain `:` and `/`).
    pub fn operation_url(&self, operation: &str) -> String {
        format!(
            "{}/model/{}/{operation}",
            self.base_url,
            crate::anthropic::percent_encode_query(&self.model)
        )
    }

    /// Authentication headers for a POST of `body` to `url`: SigV4 (`authorization`,
    /// `x-amz-date`, `x-amz-security-token`) or the API key bearer.
    pub fn auth_headers(&self, url: &str, body: &[u8]) -> Result<HeaderMap, ProviderError> {
        self.signed_headers("POST", url, body)
    }

    fn signed_headers(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
    ) -> Result<HeaderMap, ProviderError> {
        let provider = &self.info.provider;
        let mut headers = self.headers.clone();
        match &self.auth {
            BedrockAuth::ApiKey(key) => {
                headers.insert(
                    http::header::AUTHORIZATION,
                    h::secret_header(provider, &format!("Bearer {}", key.expose_secret()))?,
                );
            }
            BedrockAuth::SigV4(creds) => {
                let identity = creds.clone().into();
                let params = v4::SigningParams::builder()
                    .identity(&identity)
                    .region(&self.region)
                    .name(SIGNING_SERVICE)
                    .time(self.signing_time.unwrap_or_else(SystemTime::now))
                    .settings(SigningSettings::default())
                    .build()
                    .map_err(|e| ProviderError::Configuration {
                        provider: provider.clone(),
                        message: format!("SigV4 parameters: {e}"),
                    })?
                    .into();
                let content_type: &[(&str, &str)] = if method == "POST" {
                    &[("content-type", "application/json")]
                } else {
                    &[]
                };
                let signable = SignableRequest::new(
                    method,
                    url,
                    content_type.iter().copied(),
                    SignableBody::Bytes(body),
                )
                .map_err(|e| ProviderError::Configuration {
                    provider: provider.clone(),
                    message: format!("cannot sign request URL: {e}"),
                })?;
                let (instructions, _signature) = sign(signable, &params)
                    .map_err(|e| ProviderError::Configuration {
                        provider: provider.clone(),
                        message: format!("SigV4 signing failed: {e}"),
                    })?
                    .into_parts();
                for (name, value) in instructions.headers() {
                    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                        ProviderError::Configuration {
                            provider: provider.clone(),
                            message: "SigV4 produced an invalid header name".into(),
                        }
                    })?;
                    let mut v =
                        HeaderValue::from_str(value).map_err(|_| ProviderError::Configuration {
                            provider: provider.clone(),
                            message: "SigV4 produced an invalid header value".into(),
                        })?;
                    if name == http::header::AUTHORIZATION
                        || name.as_str() == "x-amz-security-token"
                    {
                        v.set_sensitive(true);
                    }
                    headers.insert(name, v);
                }
            }
        }
        Ok(headers)
    }

    async fn post(
        &self,
        operation: &str,
        req: &ChatRequest,
    ) -> Result<reqwest::Response, ProviderError> {
        let provider = &self.info.provider;
        let body = serde_json::to_vec(&build_request(req, &self.options)).map_err(|e| {
            ProviderError::Decode {
                provider: provider.clone(),
                message: "could not encode the request body".into(),
                source: Some(Box::new(e)),
            }
        })?;
        let url = self.operation_url(operation);
        let headers = self.auth_headers(&url, &body)?;
        let request = self
            .client
            .post(&url)
            .headers(headers)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body);
        h::send(provider, request, self.timeouts.request).await
    }
}

struct FrameMachine(BedrockStreamState);

impl Machine<aws_smithy_types::event_stream::Message> for FrameMachine {
    fn on_item(
        &mut self,
        m: aws_smithy_types::event_stream::Message,
    ) -> Result<Vec<ChatEvent>, ProviderError> {
        self.0.on_message(&m)
    }
    fn on_end(&mut self) -> Result<Vec<ChatEvent>, ProviderError> {
        self.0.finish()
    }
}

#[async_trait]
impl ModelProvider for BedrockProvider {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let span = chat_span(&self.info, false);
        async {
            let response = self.post("converse", request).await?;
            let v: Value =
                h::read_json(&self.info.provider, response, self.timeouts.request).await?;
            let out = response_from_wire(&v);
            record_response(&tracing::Span::current(), &out);
            Ok(out)
        }
        .instrument(span.clone())
        .await
        .inspect_err(|e| record_error(&span, e))
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let span = chat_span(&self.info, true);
        let response = self
            .post("converse-stream", request)
            .instrument(span.clone())
            .await
            .inspect_err(|e| record_error(&span, e))?;
        let provider = self.info.provider.clone();
        let bytes = h::byte_stream(&provider, response, self.timeouts.stream_idle);
        let messages = stream::messages(&provider, bytes);
        Ok(drive(
            messages,
            FrameMachine(BedrockStreamState::new(provider)),
            span,
        ))
    }

    /// `GET {control plane}/foundation-models` (ListFoundationModels). Inference profiles
    /// (`us.anthropic.…`) are not listed there.
    async fn list_models(&self) -> Result<Vec<ModelSummary>, ProviderError> {
        let span = list_span(&self.info);
        async {
            let provider = &self.info.provider;
            let url = format!("{}/foundation-models", self.control_url);
            let headers = self.signed_headers("GET", &url, &[])?;
            let response =
                h::get(&self.client, provider, &url, headers, self.timeouts.request).await?;
            let v: Value = h::read_json(provider, response, self.timeouts.request).await?;
            Ok(v.get("modelSummaries")
                .and_then(Value::as_array)
                .map(|models| {
                    models
                        .iter()
                        .filter_map(|m| {
                            Some(ModelSummary {
                                id: m.get("modelId")?.as_str()?.to_owned(),
                                display_name: m
                                    .get("modelName")
                                    .and_then(Value::as_str)
                                    .map(str::to_owned),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default())
        }
        .instrument(span.clone())
        .await
        .inspect_err(|e| record_error(&span, e))
    }
}
