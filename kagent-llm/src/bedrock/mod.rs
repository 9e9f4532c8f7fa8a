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
    Capabilities, ChatRequest, ChatResponse, ChatStream, ModelInfo, ModelProvider, ModelSummary,
    ProviderError,
};
use secrecy::SecretString;
use serde_json::Value;
use tracing::Instrument;

use crate::driver::drive;
use crate::http as h;
use crate::options::{Auth, ConfigError, ProviderKind, ProviderOptions};
use crate::telemetry::{chat_span, list_span, record_error, record_response};
use crate::wire::percent_encode;

use request::{BodyOptions, build_request};
use stream::{BedrockStreamState, response_from_wire};

/// The SigV4 service name of Bedrock Runtime.
pub const SIGNING_SERVICE: &str = "bedrock";

/// How requests are authenticated.
#[derive(Clone)]
enum Signer {
    None,
    SigV4(Credentials),
    Bearer(SecretString),
}

/// A [`ModelProvider`] for Bedrock's Converse API.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use aws_credential_types::Credentials;
/// use kagent_core::{ChatRequest, Message, ModelProvider};
/// use kagent_llm::{Auth, ProviderOptions};
/// use kagent_llm::bedrock::BedrockProvider;
///
/// let creds = Credentials::new("AKIA...", "secret", None, None, "config");
/// let provider = BedrockProvider::new(
///     reqwest::Client::new(),
///     "us-east-1",
///     "anthropic.claude-3-5-sonnet-20240620-v1:0",
///     ProviderOptions::new().with_auth(Auth::Aws(creds)),
/// )?;
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
    signer: Signer,
    model: String,
    info: ModelInfo,
    body: BodyOptions,
    options: ProviderOptions,
    signing_time: Option<SystemTime>,
}

impl fmt::Debug for BedrockProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BedrockProvider")
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl BedrockProvider {
    /// Bedrock Runtime in `region`, at `options.base_url` (default
    /// `https://bedrock-runtime.{region}.amazonaws.com`; SigV4 signs for `region` whatever the
    /// host). `model` is a model id, an inference profile id (`us.anthropic.claude-…`) or an
    /// ARN. Authenticates with `Auth::Aws` (SigV4, service `bedrock`) or a Bedrock API key
    /// (`Auth::ApiKey` / `Auth::BearerToken`, sent as `Authorization: Bearer`).
    ///
    /// `options.top_k` is an error: the Converse API has no top-k; send the model's own field
    /// with [`with_additional_model_request_fields`](Self::with_additional_model_request_fields).
    pub fn new(
        client: reqwest::Client,
        region: impl Into<String>,
        model: impl Into<String>,
        options: ProviderOptions,
    ) -> Result<Self, ConfigError> {
        let region = region.into();
        let model = model.into();
        if region.trim().is_empty() {
            return Err(ConfigError::MissingField {
                provider: ProviderKind::Bedrock,
                field: "bedrock.region".into(),
            });
        }
        if options.top_k.is_some() {
            return Err(ConfigError::Unsupported {
                provider: ProviderKind::Bedrock,
                message: "the Converse API has no top_k; send the model's own field (e.g. \
                          {\"top_k\": 40} for Claude) with additionalModelRequestFields"
                    .into(),
            });
        }
        let signer = match &options.auth {
            Auth::None => Signer::None,
            Auth::Aws(c) => Signer::SigV4(c.clone()),
            Auth::ApiKey(k) | Auth::BearerToken(k) => Signer::Bearer(k.clone()),
            _ => {
                return Err(options.unsupported_auth(
                    ProviderKind::Bedrock,
                    "Bedrock takes AWS credentials or a Bedrock API key",
                ));
            }
        };
        Ok(BedrockProvider {
            client,
            base_url: options
                .base_url_or(&format!("https://bedrock-runtime.{region}.amazonaws.com")),
            control_url: format!("https://bedrock.{region}.amazonaws.com"),
            region,
            signer,
            info: ModelInfo::new("aws.bedrock", model.clone())
                .with_capabilities(Capabilities::default().with_vision(true)),
            model,
            body: BodyOptions::default(),
            options,
            signing_time: None,
        })
    }

    /// Another endpoint for the control plane (default `https://bedrock.{region}.amazonaws.com`),
    /// used by [`ModelProvider::list_models`].
    #[must_use]
    pub fn with_control_plane_url(mut self, url: impl Into<String>) -> Self {
        self.control_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// `additionalModelRequestFields`, sent as given (e.g. Claude's
    /// `{"thinking": {"type": "enabled", "budget_tokens": 2048}}`).
    #[must_use]
    pub fn with_additional_model_request_fields(mut self, fields: Value) -> Self {
        self.body.additional_fields = Some(fields);
        self
    }

    /// Adds `cachePoint` blocks after the system prompt and the tool list, so Bedrock caches
    /// that prefix (models that support prompt caching).
    #[must_use]
    pub fn with_prompt_caching(mut self, on: bool) -> Self {
        self.body.prompt_caching = on;
        self
    }

    /// The shared options the provider was built with.
    pub fn options(&self) -> &ProviderOptions {
        &self.options
    }

    /// Signs every request as if it were this time (for reproducible signatures in tests).
    #[must_use]
    pub fn with_signing_time(mut self, time: SystemTime) -> Self {
        self.signing_time = Some(time);
        self
    }

    /// The URL of an operation (`converse` or `converse-stream`); the model id is
    /// percent-encoded as one path segment (ARNs and ids contain `:` and `/`).
    fn operation_url(&self, operation: &str) -> String {
        format!(
            "{}/model/{}/{operation}",
            self.base_url,
            percent_encode(&self.model)
        )
    }

    fn signed_headers(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
    ) -> Result<HeaderMap, ProviderError> {
        let provider = &self.info.provider;
        let mut headers = self.options.default_headers.clone();
        match &self.signer {
            Signer::None => {}
            Signer::Bearer(key) => {
                headers.insert(http::header::AUTHORIZATION, h::bearer(provider, key)?);
            }
            Signer::SigV4(creds) => {
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
        let body =
            serde_json::to_vec(&build_request(req, &self.body, &self.options)).map_err(|e| {
                ProviderError::decode(
                    provider.clone(),
                    "could not encode the request body",
                    Some(Box::new(e)),
                )
            })?;
        let url = self.operation_url(operation);
        let headers = self.signed_headers("POST", &url, &body)?;
        let request = self
            .client
            .post(&url)
            .headers(headers)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body);
        h::send(provider, request, self.options.timeouts.request).await
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
                h::read_json(&self.info.provider, response, self.options.timeouts.request).await?;
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
        let credentials = h::credentials_of(&response);
        let bytes = h::byte_stream(&provider, response, self.options.timeouts.stream_idle);
        let messages = stream::messages(&provider, bytes);
        Ok(drive(
            &provider,
            messages,
            BedrockStreamState::new(provider.clone()),
            span,
            credentials,
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
            let response = h::get(
                &self.client,
                provider,
                &url,
                headers,
                self.options.timeouts.request,
            )
            .await?;
            let v: Value = h::read_json(provider, response, self.options.timeouts.request).await?;
            Ok(v.get("modelSummaries")
                .and_then(Value::as_array)
                .map(|models| {
                    models
                        .iter()
                        .filter_map(|m| {
                            let mut summary = ModelSummary::new(m.get("modelId")?.as_str()?);
                            summary.display_name = m
                                .get("modelName")
                                .and_then(Value::as_str)
                                .map(str::to_owned);
                            Some(summary)
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
