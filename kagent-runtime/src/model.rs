//! kagent-api's `ModelConfig` spec to kagent-llm's [`ModelConfig`](kagent_llm::config::ModelConfig).
//!
//! The conversion destructures every kagent-api struct without `..`, so a field added to
//! kagent-api does not compile until it is mapped here or reported as unsupported; the tests
//! check, field by field from kagent-api's schema, that each one changes the converted
//! configuration, is reported as ignored, or is refused.

use std::collections::BTreeMap;

use kagent_api::FieldPath;
use kagent_api::common::TlsConfig as ApiTls;
use kagent_api::model_config::{
    AnthropicConfig, AnthropicVertexAIConfig, AzureOpenAIConfig, BedrockCacheTtl, BedrockConfig,
    FoundryConfig, GeminiConfig, GeminiVertexAIConfig, ModelConfigSpec, ModelProvider,
    OllamaConfig, OpenAIAPIFormat, OpenAIConfig, SAPAICoreConfig,
};
use kagent_llm::config::{self as llm, ApiFormat, DefaultHeaders, MaxTokensField, ProviderKind};
use secrecy::SecretString;
use serde_json::Value;

use crate::error::LoadReason;

/// Values the loader resolved for a ModelConfig (from Secrets, the environment or files).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ResolvedModelSecrets {
    /// The API key (`apiKeySecret` / `apiKeySecretKey`).
    pub api_key: Option<SecretString>,
    /// The CA bundle (`tls.caCertSecretRef` / `tls.caCertSecretKey`), PEM.
    pub ca_cert_pem: Option<String>,
}

impl ResolvedModelSecrets {
    /// Nothing resolved.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the API key.
    #[must_use]
    pub fn with_api_key(mut self, key: SecretString) -> Self {
        self.api_key = Some(key);
        self
    }

    /// Sets the CA bundle.
    #[must_use]
    pub fn with_ca_cert_pem(mut self, pem: impl Into<String>) -> Self {
        self.ca_cert_pem = Some(pem.into());
        self
    }
}

/// A ModelConfig field kagent-rs reads but does not act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IgnoredField {
    /// The field, e.g. `spec.gemini.maxOutputTokens`.
    pub path: FieldPath,
    /// Why it has no effect.
    pub note: &'static str,
}

/// The kagent-llm configuration built from a ModelConfig spec, and the fields that had no
/// effect.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ModelConversion {
    /// What `kagent_llm::build_provider` takes.
    pub config: llm::ModelConfig,
    /// Set fields kagent-rs does not act on (warnings, not errors).
    pub ignored: Vec<IgnoredField>,
}

/// A field whose value cannot be used, or a setting kagent-rs refuses to ignore.
pub(crate) type FieldFailure = (FieldPath, LoadReason);

struct Ctx {
    ignored: Vec<IgnoredField>,
}

impl Ctx {
    fn ignore<T>(&mut self, value: &Option<T>, path: FieldPath, note: &'static str) {
        if value.is_some() {
            self.ignored.push(IgnoredField { path, note });
        }
    }
}

fn spec_path() -> FieldPath {
    FieldPath::root().field("spec")
}

fn decimal(value: &Option<String>, path: &FieldPath) -> Result<Option<f32>, FieldFailure> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse::<f32>().map(Some).map_err(|_| {
            (
                path.clone(),
                LoadReason::Decode {
                    message: format!("`{text}` is not a decimal number"),
                },
            )
        }),
    }
}

fn positive(value: Option<i64>, path: &FieldPath) -> Result<Option<u32>, FieldFailure> {
    match value {
        None | Some(0) => Ok(None),
        Some(v) => u32::try_from(v).map(Some).map_err(|_| {
            (
                path.clone(),
                LoadReason::Decode {
                    message: format!("{v} is not a positive 32-bit number"),
                },
            )
        }),
    }
}

fn refused(path: FieldPath, feature: &str, hint: &str) -> FieldFailure {
    (
        path,
        LoadReason::Unsupported {
            feature: feature.to_owned(),
            hint: hint.to_owned(),
        },
    )
}

/// The kagent-llm provider for a kagent provider; `None` for providers kagent-rs does not have.
pub fn provider_kind(provider: ModelProvider) -> Option<ProviderKind> {
    match provider {
        ModelProvider::Anthropic => Some(ProviderKind::Anthropic),
        ModelProvider::OpenAI => Some(ProviderKind::OpenAI),
        ModelProvider::AzureOpenAI => Some(ProviderKind::AzureOpenAI),
        ModelProvider::Ollama => Some(ProviderKind::Ollama),
        ModelProvider::Gemini => Some(ProviderKind::Gemini),
        ModelProvider::GeminiVertexAI => Some(ProviderKind::GeminiVertexAI),
        ModelProvider::AnthropicVertexAI => Some(ProviderKind::AnthropicVertexAI),
        ModelProvider::Bedrock => Some(ProviderKind::Bedrock),
        ModelProvider::SAPAICore | ModelProvider::Foundry => None,
    }
}

/// Converts a (validated) ModelConfig spec and the values resolved for it.
///
/// Fails on a provider kagent-rs has no client for (SAPAICore, Foundry) and on settings that
/// must not be dropped silently (a Bedrock guardrail, OpenAI token exchange); settings without
/// effect are listed in [`ModelConversion::ignored`].
pub(crate) fn convert(
    spec: &ModelConfigSpec,
    secrets: ResolvedModelSecrets,
) -> Result<ModelConversion, FieldFailure> {
    let ModelConfigSpec {
        model,
        api_key_secret,
        api_key_secret_key,
        api_key_passthrough,
        default_headers,
        provider,
        open_ai,
        anthropic,
        azure_open_ai,
        ollama,
        gemini,
        gemini_vertex_ai,
        anthropic_vertex_ai,
        bedrock,
        sap_ai_core,
        foundry,
        tls,
    } = spec;
    let root = spec_path();
    let kind = provider_kind(*provider).ok_or_else(|| {
        refused(
            root.field("provider"),
            &format!("provider {provider}"),
            "kagent-llm has clients for OpenAI, AzureOpenAI, Anthropic, AnthropicVertexAI, Gemini, GeminiVertexAI, Ollama and Bedrock; point the agent at a ModelConfig for one of those",
        )
    })?;
    let mut ctx = Ctx {
        ignored: Vec::new(),
    };
    let mut config = llm::ModelConfig::new(kind, model.clone());
    config.api_key = secrets.api_key;
    config.api_key_secret.clone_from(api_key_secret);
    config.api_key_secret_key.clone_from(api_key_secret_key);
    config.api_key_passthrough = *api_key_passthrough;
    config.default_headers = DefaultHeaders(default_headers.clone());
    if let Some(o) = open_ai {
        config.open_ai = Some(openai(o, &root.field("openAI"))?);
    }
    if let Some(a) = anthropic {
        config.anthropic = Some(anthropic_block(a, &root.field("anthropic"))?);
    }
    if let Some(a) = azure_open_ai {
        config.azure_open_ai = Some(azure(a, &root.field("azureOpenAI"))?);
    }
    if let Some(o) = ollama {
        config.ollama = Some(ollama_block(o));
    }
    if let Some(g) = gemini {
        let GeminiConfig { max_output_tokens } = g;
        ctx.ignore(
            max_output_tokens,
            root.field("gemini").field("maxOutputTokens"),
            "kagent-llm's Gemini provider does not read a token limit from the ModelConfig",
        );
        config.gemini = Some(llm::GeminiConfig::default());
    }
    if let Some(g) = gemini_vertex_ai {
        config.gemini_vertex_ai = Some(gemini_vertex(g, &root.field("geminiVertexAI"))?);
    }
    if let Some(a) = anthropic_vertex_ai {
        config.anthropic_vertex_ai = Some(anthropic_vertex(a, &root.field("anthropicVertexAI"))?);
    }
    if let Some(b) = bedrock {
        config.bedrock = Some(bedrock_block(b, &root.field("bedrock"), &mut config)?);
    }
    if let Some(s) = sap_ai_core {
        let SAPAICoreConfig {
            base_url: _,
            resource_group: _,
            auth_url: _,
        } = s;
        return Err(refused(
            root.field("sapAICore"),
            "provider SAPAICore",
            "kagent-llm has no SAP AI Core client",
        ));
    }
    if let Some(f) = foundry {
        let FoundryConfig {
            endpoint: _,
            endpoint_from: _,
            deployment: _,
            api_version: _,
        } = f;
        return Err(refused(
            root.field("foundry"),
            "provider Foundry",
            "kagent-llm has no Azure AI Foundry client",
        ));
    }
    if let Some(t) = tls {
        config.tls = Some(tls_block(t, secrets.ca_cert_pem));
    }
    Ok(ModelConversion {
        config,
        ignored: ctx.ignored,
    })
}

fn openai(o: &OpenAIConfig, at: &FieldPath) -> Result<llm::OpenAIConfig, FieldFailure> {
    let OpenAIConfig {
        base_url,
        organization,
        temperature,
        max_tokens,
        max_completion_tokens,
        top_p,
        frequency_penalty,
        presence_penalty,
        seed,
        n,
        timeout,
        reasoning_effort,
        api_format,
        token_exchange,
    } = o;
    if token_exchange.is_some() {
        return Err(refused(
            at.field("tokenExchange"),
            "openAI.tokenExchange",
            "kagent-llm cannot exchange credentials for a token; without it every call would fail to authenticate. Put a static key in apiKeySecret instead",
        ));
    }
    let mut out = llm::OpenAIConfig::default();
    out.base_url.clone_from(base_url);
    out.organization.clone_from(organization);
    out.temperature = decimal(temperature, &at.field("temperature"))?;
    out.top_p = decimal(top_p, &at.field("topP"))?;
    out.frequency_penalty = decimal(frequency_penalty, &at.field("frequencyPenalty"))?;
    out.presence_penalty = decimal(presence_penalty, &at.field("presencePenalty"))?;
    out.max_tokens = positive(*max_tokens, &at.field("maxTokens"))?;
    if let Some(limit) = positive(*max_completion_tokens, &at.field("maxCompletionTokens"))? {
        out.max_tokens = Some(limit);
        out.max_tokens_field = Some(MaxTokensField::MaxCompletionTokens);
    }
    out.seed = *seed;
    out.n = positive(*n, &at.field("n"))?;
    out.timeout = timeout
        .and_then(|t| u64::try_from(t).ok())
        .filter(|t| *t > 0);
    out.reasoning_effort = reasoning_effort.and_then(|e| match serde_json::to_value(e) {
        Ok(Value::String(s)) => Some(s),
        _ => None,
    });
    out.api_format = Some(match api_format {
        OpenAIAPIFormat::ChatCompletions => ApiFormat::ChatCompletions,
        OpenAIAPIFormat::Responses => ApiFormat::Responses,
    });
    Ok(out)
}

fn anthropic_block(
    a: &AnthropicConfig,
    at: &FieldPath,
) -> Result<llm::AnthropicConfig, FieldFailure> {
    let AnthropicConfig {
        base_url,
        max_tokens,
        temperature,
        top_p,
        top_k,
    } = a;
    let mut out = llm::AnthropicConfig::default();
    out.base_url.clone_from(base_url);
    out.max_tokens = positive(*max_tokens, &at.field("maxTokens"))?;
    out.temperature = decimal(temperature, &at.field("temperature"))?;
    out.top_p = decimal(top_p, &at.field("topP"))?;
    out.top_k = positive(*top_k, &at.field("topK"))?;
    Ok(out)
}

fn azure(a: &AzureOpenAIConfig, at: &FieldPath) -> Result<llm::AzureOpenAIConfig, FieldFailure> {
    let AzureOpenAIConfig {
        endpoint,
        api_version,
        deployment_name,
        azure_ad_token,
        temperature,
        max_tokens,
        top_p,
    } = a;
    let mut out = llm::AzureOpenAIConfig::default();
    out.azure_endpoint.clone_from(endpoint);
    out.api_version = Some(api_version.clone()).filter(|v| !v.is_empty());
    out.azure_deployment.clone_from(deployment_name);
    out.azure_ad_token = azure_ad_token.clone().map(SecretString::from);
    out.temperature = decimal(temperature, &at.field("temperature"))?;
    out.max_tokens = positive(*max_tokens, &at.field("maxTokens"))?;
    out.top_p = decimal(top_p, &at.field("topP"))?;
    Ok(out)
}

fn ollama_block(o: &OllamaConfig) -> llm::OllamaConfig {
    let OllamaConfig { host, options } = o;
    let mut out = llm::OllamaConfig::default();
    out.host.clone_from(host);
    out.options = options
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect::<BTreeMap<_, _>>();
    out
}

#[allow(clippy::too_many_arguments)]
fn vertex_base(
    project_id: &str,
    location: &str,
    temperature: &Option<String>,
    top_p: &Option<String>,
    top_k: &Option<String>,
    stop_sequences: &[String],
    at: &FieldPath,
) -> Result<llm::VertexBaseConfig, FieldFailure> {
    let mut out = llm::VertexBaseConfig::default();
    out.project_id = project_id.to_owned();
    out.location = location.to_owned();
    out.temperature = decimal(temperature, &at.field("temperature"))?;
    out.top_p = decimal(top_p, &at.field("topP"))?;
    out.top_k = decimal(top_k, &at.field("topK"))?;
    out.stop_sequences = stop_sequences.to_vec();
    Ok(out)
}

fn gemini_vertex(
    g: &GeminiVertexAIConfig,
    at: &FieldPath,
) -> Result<llm::GeminiVertexAIConfig, FieldFailure> {
    let GeminiVertexAIConfig {
        project_id,
        location,
        temperature,
        top_p,
        top_k,
        stop_sequences,
        max_output_tokens,
        candidate_count,
        response_mime_type,
    } = g;
    let mut out = llm::GeminiVertexAIConfig::default();
    out.base = vertex_base(
        project_id,
        location,
        temperature,
        top_p,
        top_k,
        stop_sequences,
        at,
    )?;
    out.max_output_tokens = positive(*max_output_tokens, &at.field("maxOutputTokens"))?;
    out.candidate_count = positive(*candidate_count, &at.field("candidateCount"))?;
    out.response_mime_type.clone_from(response_mime_type);
    Ok(out)
}

fn anthropic_vertex(
    a: &AnthropicVertexAIConfig,
    at: &FieldPath,
) -> Result<llm::AnthropicVertexAIConfig, FieldFailure> {
    let AnthropicVertexAIConfig {
        project_id,
        location,
        temperature,
        top_p,
        top_k,
        stop_sequences,
        max_tokens,
    } = a;
    let mut out = llm::AnthropicVertexAIConfig::default();
    out.base = vertex_base(
        project_id,
        location,
        temperature,
        top_p,
        top_k,
        stop_sequences,
        at,
    )?;
    out.max_tokens = positive(*max_tokens, &at.field("maxTokens"))?;
    Ok(out)
}

fn bedrock_block(
    b: &BedrockConfig,
    at: &FieldPath,
    config: &mut llm::ModelConfig,
) -> Result<llm::BedrockConfig, FieldFailure> {
    let BedrockConfig {
        region,
        additional_model_request_fields,
        prompt_caching,
        cache_ttl,
        guardrail,
        read_timeout,
        connect_timeout,
    } = b;
    if guardrail.is_some() {
        return Err(refused(
            at.field("guardrail"),
            "bedrock.guardrail",
            "kagent-llm's Bedrock client does not apply guardrails, and a guardrail that silently does nothing is worse than none; remove it to run without one",
        ));
    }
    let mut out = llm::BedrockConfig::default();
    out.region.clone_from(region);
    out.additional_model_request_fields
        .clone_from(additional_model_request_fields);
    out.prompt_caching = *prompt_caching;
    out.cache_ttl = Some(
        match cache_ttl {
            BedrockCacheTtl::FiveMinutes => "5m",
            BedrockCacheTtl::OneHour => "1h",
        }
        .to_owned(),
    );
    if read_timeout.is_some() || connect_timeout.is_some() {
        // Bedrock's read timeout is the longest wait for bytes: kagent-llm's stream idle
        // timeout.
        let mut t = config.timeouts.take().unwrap_or_default();
        if let Some(s) = read_timeout.filter(|s| *s > 0) {
            t.stream_idle_seconds = Some(s as f64);
        }
        if let Some(s) = connect_timeout.filter(|s| *s > 0) {
            t.connect_seconds = Some(s as f64);
        }
        config.timeouts = Some(t);
    }
    Ok(out)
}

fn tls_block(t: &ApiTls, ca_cert_pem: Option<String>) -> llm::TlsConfig {
    let ApiTls {
        disable_verify,
        ca_cert_secret_ref,
        ca_cert_secret_key,
        disable_system_cas,
    } = t;
    let mut out = llm::TlsConfig::default();
    out.disable_verify = *disable_verify;
    out.ca_cert_secret_ref.clone_from(ca_cert_secret_ref);
    out.ca_cert_secret_key.clone_from(ca_cert_secret_key);
    out.disable_system_cas = *disable_system_cas;
    out.ca_cert_pem = ca_cert_pem;
    out
}

/// kagent-core's TLS options from kagent's `tls` block and the resolved CA bundle (for MCP
/// servers).
pub(crate) fn tls_options(t: &ApiTls, ca_cert_pem: Option<String>) -> kagent_core::TlsOptions {
    let ApiTls {
        disable_verify,
        ca_cert_secret_ref: _,
        ca_cert_secret_key: _,
        disable_system_cas,
    } = t;
    let mut out = kagent_core::TlsOptions::default();
    out.insecure_skip_verify = *disable_verify;
    out.disable_system_cas = *disable_system_cas;
    out.ca_cert_pem = ca_cert_pem;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use serde_json::{Map, json};

    /// Everything a converted configuration carries, secrets included (its `Debug` redacts
    /// them).
    fn fingerprint(c: &llm::ModelConfig) -> String {
        let mut s = format!("{c:?}");
        if let Some(k) = &c.api_key {
            s.push_str(k.expose_secret());
        }
        if let Some(a) = &c.azure_open_ai
            && let Some(t) = &a.azure_ad_token
        {
            s.push_str(t.expose_secret());
        }
        s
    }

    /// kagent-api's schema of ModelConfigSpec, with `$ref`s resolved on the way.
    struct Schema {
        root: Value,
    }

    impl Schema {
        fn load() -> Self {
            let root = serde_json::to_value(schemars::schema_for!(ModelConfigSpec)).unwrap();
            Schema { root }
        }

        fn resolve<'a>(&'a self, s: &'a Value) -> &'a Value {
            match s.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let name = r.rsplit('/').next().unwrap();
                    let defs = self
                        .root
                        .get("$defs")
                        .or_else(|| self.root.get("definitions"))
                        .unwrap();
                    self.resolve(&defs[name])
                }
                None => match s.get("anyOf").or_else(|| s.get("oneOf")) {
                    // An enum whose variants are documented: one `const` per branch.
                    Some(Value::Array(_)) if Self::enum_values(s).is_some() => s,
                    // Option<T>: the non-null branch.
                    Some(Value::Array(branches)) => {
                        let b = branches
                            .iter()
                            .find(|b| b.get("type") != Some(&json!("null")))
                            .unwrap();
                        self.resolve(b)
                    }
                    _ => match s.get("allOf") {
                        Some(Value::Array(b)) if b.len() == 1 => self.resolve(&b[0]),
                        _ => s,
                    },
                },
            }
        }

        /// The values of an enum: `enum`, or one `const` per `oneOf` / `anyOf` branch.
        fn enum_values(s: &Value) -> Option<Vec<Value>> {
            if let Some(Value::Array(values)) = s.get("enum") {
                return Some(values.clone());
            }
            let branches = s.get("oneOf").or_else(|| s.get("anyOf"))?.as_array()?;
            let consts: Vec<Value> = branches
                .iter()
                .filter(|b| b.get("type") != Some(&json!("null")))
                .map(|b| b.get("const").cloned())
                .collect::<Option<_>>()?;
            (!consts.is_empty()).then_some(consts)
        }

        fn types(s: &Value) -> Vec<String> {
            match s.get("type") {
                Some(Value::String(t)) => vec![t.clone()],
                Some(Value::Array(ts)) => ts
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|t| *t != "null")
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            }
        }

        /// A value with every field of `s` set.
        fn fill(&self, s: &Value) -> Value {
            let s = self.resolve(s);
            if let Some(values) = Self::enum_values(s) {
                return values[0].clone();
            }
            if s.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true)) {
                return json!({"k": "v"});
            }
            let types = Self::types(s);
            match types.first().map(String::as_str) {
                Some("object") => {
                    let mut out = Map::new();
                    if let Some(Value::Object(props)) = s.get("properties") {
                        for (k, v) in props {
                            out.insert(k.clone(), self.fill(v));
                        }
                    }
                    if let Some(ap) = s.get("additionalProperties").filter(|a| a.is_object()) {
                        out.insert("X-Key".into(), self.fill(ap));
                    }
                    Value::Object(out)
                }
                Some("array") => json!([self.fill(&s["items"])]),
                Some("string") => json!("0.5"),
                Some("integer") => json!(7),
                Some("number") => json!(0.5),
                Some("boolean") => json!(true),
                other => panic!("schema without a type: {other:?} in {s}"),
            }
        }

        /// The enum values allowed at `path` (for perturbing).
        fn enum_at(&self, path: &[String]) -> Option<Vec<Value>> {
            let mut s = self.resolve(&self.root);
            for seg in path {
                let next = s
                    .get("properties")
                    .and_then(|p| p.get(seg))
                    .or_else(|| s.get("additionalProperties"))
                    .or_else(|| s.get("items"))?;
                s = self.resolve(next);
            }
            Self::enum_values(s)
        }
    }

    /// Every leaf of a JSON value, as a path of keys.
    fn leaves(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, x) in m {
                    at.push(k.clone());
                    leaves(x, at, out);
                    at.pop();
                }
            }
            Value::Array(a) if !a.is_empty() => {
                at.push("0".into());
                leaves(&a[0], at, out);
                at.pop();
            }
            _ => out.push(at.clone()),
        }
    }

    fn get_mut<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
        path.iter().fold(v, |v, k| match v {
            Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
            other => &mut other[k.as_str()],
        })
    }

    /// `spec` reduced to its provider, its model and the field at `path`.
    fn only(spec: &Value, path: &[String]) -> Value {
        let mut out = json!({"provider": spec["provider"], "model": spec["model"]});
        let mut src = spec;
        let mut dst = &mut out;
        for (i, key) in path.iter().enumerate() {
            src = match src {
                Value::Array(a) => &a[0],
                other => &other[key.as_str()],
            };
            let last = i + 1 == path.len();
            let next = if last {
                src.clone()
            } else if src.is_array() {
                json!([Value::Null])
            } else {
                json!({})
            };
            dst = match dst {
                Value::Array(a) => {
                    a[0] = if a[0].is_null() { next } else { a[0].take() };
                    &mut a[0]
                }
                Value::Object(m) => m.entry(key.clone()).or_insert(next),
                _ => unreachable!(),
            };
        }
        out
    }

    fn perturb(schema: &Schema, v: &Value, path: &[String]) -> Option<Value> {
        let schema_path: Vec<String> = path.iter().filter(|s| *s != "0").cloned().collect();
        if let Some(values) = schema.enum_at(&schema_path) {
            return values.iter().find(|x| *x != v).cloned();
        }
        Some(match v {
            Value::String(s) if s == "0.5" => json!("0.25"),
            Value::String(s) => json!(format!("{s}-other")),
            Value::Number(n) if n.is_i64() => json!(n.as_i64().unwrap() + 1),
            Value::Number(_) => json!(0.25),
            Value::Bool(b) => json!(!b),
            _ => return None,
        })
    }

    fn display(path: &[String]) -> String {
        path.iter()
            .filter(|s| *s != "0")
            .cloned()
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The spec for `provider` with every common field and every field of its own block set.
    fn maximal(schema: &Schema, provider: ModelProvider) -> Value {
        let mut full = schema.fill(&schema.root);
        let obj = full.as_object_mut().unwrap();
        for other in ModelProvider::ALL {
            if other != provider {
                obj.remove(other.block_name());
            }
        }
        obj.insert("provider".into(), json!(provider.as_str()));
        full
    }

    fn convert_value(v: &Value) -> Result<ModelConversion, FieldFailure> {
        let spec: ModelConfigSpec = serde_json::from_value(v.clone()).unwrap();
        convert(
            &spec,
            ResolvedModelSecrets::new()
                .with_api_key(SecretString::from("k".to_owned()))
                .with_ca_cert_pem("pem"),
        )
    }

    /// Every field of kagent-api's ModelConfig spec either changes the kagent-llm
    /// configuration, or is reported as ignored, or is refused with an error naming it; for
    /// providers kagent-llm lacks, the whole spec is refused. Nothing is dropped silently.
    #[test]
    fn every_model_config_field_maps_or_is_reported() {
        let schema = Schema::load();
        let mut mapped = Vec::new();
        let mut ignored = Vec::new();
        let mut refused_fields = Vec::new();
        for provider in ModelProvider::ALL {
            let mut spec = maximal(&schema, provider);
            if provider_kind(provider).is_none() {
                let e = convert_value(&spec).unwrap_err();
                assert!(
                    matches!(e.1, LoadReason::Unsupported { .. }),
                    "{provider}: {e:?}"
                );
                continue;
            }
            // Take out the fields that are refused, one at a time, noting each.
            loop {
                match convert_value(&spec) {
                    Ok(_) => break,
                    Err((path, LoadReason::Unsupported { .. })) => {
                        let text = path.to_string();
                        let rel: Vec<String> = text
                            .trim_start_matches("spec.")
                            .split('.')
                            .map(str::to_owned)
                            .collect();
                        let (last, parent) = rel.split_last().unwrap();
                        get_mut(&mut spec, parent)
                            .as_object_mut()
                            .unwrap()
                            .remove(last)
                            .unwrap_or_else(|| panic!("refused {text} is not in the spec"));
                        refused_fields.push(text);
                    }
                    Err(e) => panic!("{provider}: {e:?}"),
                }
            }
            let base = convert_value(&spec).unwrap();
            let base_print = fingerprint(&base.config);
            let mut paths = Vec::new();
            leaves(&spec, &mut Vec::new(), &mut paths);
            for path in paths {
                let name = display(&path);
                if name == "provider" {
                    continue;
                }
                let is_ignored = base
                    .ignored
                    .iter()
                    .any(|i| i.path.to_string() == format!("spec.{name}"));
                if is_ignored {
                    ignored.push(name);
                    continue;
                }
                let old = get_mut(&mut spec.clone(), &path).clone();
                let new = perturb(&schema, &old, &path)
                    .unwrap_or_else(|| panic!("{provider}: cannot perturb {name} = {old}"));
                let mut changed = spec.clone();
                *get_mut(&mut changed, &path) = new.clone();
                let after =
                    convert_value(&changed).unwrap_or_else(|e| panic!("{provider}: {name}: {e:?}"));
                // A field can be shadowed by one it excludes (maxTokens by
                // maxCompletionTokens): then try it on a spec holding only it.
                let maps = fingerprint(&after.config) != base_print || {
                    let alone = only(&spec, &path);
                    let mut alone_changed = alone.clone();
                    *get_mut(&mut alone_changed, &path) = new;
                    fingerprint(&convert_value(&alone).unwrap().config)
                        != fingerprint(&convert_value(&alone_changed).unwrap().config)
                };
                assert!(
                    maps,
                    "{provider}: changing spec.{name} changes nothing in kagent-llm's configuration, and it is not reported as ignored"
                );
                mapped.push(name);
            }
        }
        mapped.sort();
        mapped.dedup();
        ignored.sort();
        ignored.dedup();
        refused_fields.sort();
        refused_fields.dedup();
        // The lists are pinned so that a change on either side is a decision, documented in
        // the crate README ("ModelConfig fields").
        assert_eq!(ignored, ["gemini.maxOutputTokens"]);
        assert_eq!(
            refused_fields,
            ["spec.bedrock.guardrail", "spec.openAI.tokenExchange"]
        );
        for expected in [
            "model",
            "apiKeySecret",
            "defaultHeaders.X-Key",
            "openAI.maxCompletionTokens",
            "bedrock.readTimeout",
            "tls.caCertSecretRef",
            "anthropicVertexAI.stopSequences",
        ] {
            assert!(
                mapped.iter().any(|m| m == expected),
                "{expected}: {mapped:?}"
            );
        }
    }

    #[test]
    fn kagent_shapes_become_kagent_llm_settings() {
        let spec: ModelConfigSpec = serde_json::from_value(json!({
            "provider": "OpenAI", "model": "o4-mini",
            "openAI": {"maxCompletionTokens": 900, "temperature": "0.2", "apiFormat": "responses",
                       "reasoningEffort": "low"}
        }))
        .unwrap();
        let c = convert(&spec, ResolvedModelSecrets::new()).unwrap().config;
        let o = c.open_ai.unwrap();
        assert_eq!(o.max_tokens, Some(900));
        assert_eq!(
            o.max_tokens_field,
            Some(MaxTokensField::MaxCompletionTokens)
        );
        assert_eq!(o.api_format, Some(ApiFormat::Responses));
        assert_eq!(o.reasoning_effort.as_deref(), Some("low"));
        assert_eq!(o.temperature, Some(0.2));

        let spec: ModelConfigSpec = serde_json::from_value(json!({
            "provider": "SAPAICore", "model": "m", "sapAICore": {"baseUrl": "https://x"}
        }))
        .unwrap();
        let (path, reason) = convert(&spec, ResolvedModelSecrets::new()).unwrap_err();
        assert_eq!(path.to_string(), "spec.provider");
        assert!(reason.to_string().contains("SAPAICore"), "{reason}");
    }
}
