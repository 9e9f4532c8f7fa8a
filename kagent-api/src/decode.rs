//! Decoding one object (a JSON value, e.g. one YAML document) into a typed kagent resource:
//! tolerant forms are normalised, unknown fields become warnings with their path, and every
//! broken rule is collected.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::agent::Agent;
use crate::error::{FieldError, ObjectRef, Reason, ValidationErrors, Warning, WarningKind};
use crate::model_config::ModelConfig;
use crate::model_provider_config::ModelProviderConfig;
use crate::normalize::Normalizer;
use crate::path::{self, FieldPath};
use crate::remote_mcp_server::RemoteMCPServer;
use crate::validate::{Unreadable, Validate};

/// The API group of kagent's resources.
pub const GROUP: &str = "kagent.dev";
/// The version this crate models.
pub const VERSION: &str = "v1alpha2";
/// `kagent.dev/v1alpha2`.
pub const API_VERSION: &str = "kagent.dev/v1alpha2";

/// One of the four kagent resources this crate models.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum KagentResource {
    /// An Agent.
    Agent(Box<Agent>),
    /// A ModelConfig.
    ModelConfig(Box<ModelConfig>),
    /// A RemoteMCPServer.
    RemoteMCPServer(Box<RemoteMCPServer>),
    /// A ModelProviderConfig.
    ModelProviderConfig(Box<ModelProviderConfig>),
}

impl KagentResource {
    /// The kind (`Agent`, `ModelConfig`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            KagentResource::Agent(_) => "Agent",
            KagentResource::ModelConfig(_) => "ModelConfig",
            KagentResource::RemoteMCPServer(_) => "RemoteMCPServer",
            KagentResource::ModelProviderConfig(_) => "ModelProviderConfig",
        }
    }

    fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        match self {
            KagentResource::Agent(r) => &r.metadata,
            KagentResource::ModelConfig(r) => &r.metadata,
            KagentResource::RemoteMCPServer(r) => &r.metadata,
            KagentResource::ModelProviderConfig(r) => &r.metadata,
        }
    }

    /// `metadata.name`.
    pub fn name(&self) -> Option<&str> {
        self.meta().name.as_deref()
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.meta().namespace.as_deref()
    }

    /// Which object this is, for messages.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::new(
            API_VERSION,
            self.kind(),
            self.namespace().map(str::to_string),
            self.name().map(str::to_string),
        )
    }

    /// Checks the resource against kagent's rules.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        match self {
            KagentResource::Agent(r) => r.validate(),
            KagentResource::ModelConfig(r) => r.validate(),
            KagentResource::RemoteMCPServer(r) => r.validate(),
            KagentResource::ModelProviderConfig(r) => r.validate(),
        }
    }

    /// The Agent, if this is one.
    pub fn as_agent(&self) -> Option<&Agent> {
        match self {
            KagentResource::Agent(a) => Some(a),
            _ => None,
        }
    }

    /// The ModelConfig, if this is one.
    pub fn as_model_config(&self) -> Option<&ModelConfig> {
        match self {
            KagentResource::ModelConfig(m) => Some(m),
            _ => None,
        }
    }

    /// The RemoteMCPServer, if this is one.
    pub fn as_remote_mcp_server(&self) -> Option<&RemoteMCPServer> {
        match self {
            KagentResource::RemoteMCPServer(r) => Some(r),
            _ => None,
        }
    }

    /// The ModelProviderConfig, if this is one.
    pub fn as_model_provider_config(&self) -> Option<&ModelProviderConfig> {
        match self {
            KagentResource::ModelProviderConfig(r) => Some(r),
            _ => None,
        }
    }
}

/// A decoded, valid object and what is worth telling its author about it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Decoded<T> {
    /// The object, in kagent's v1alpha2 shape.
    pub object: T,
    /// Unknown fields, rewritten forms and likely mistakes.
    pub warnings: Vec<Warning>,
}

/// Why an object could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The document is not a mapping.
    #[error("not an object: a Kubernetes resource is a mapping with apiVersion, kind and metadata")]
    NotAnObject,
    /// `apiVersion` or `kind` is missing.
    #[error("apiVersion and kind are required (e.g. apiVersion: kagent.dev/v1alpha2, kind: Agent)")]
    MissingTypeMeta,
    /// Not a `kagent.dev` object (RBAC, Deployments, ... in the same stream).
    #[error("{api_version} {kind} is not a kagent.dev resource")]
    NotKagent {
        /// apiVersion as written.
        api_version: String,
        /// kind as written.
        kind: String,
    },
    /// A `kagent.dev` kind this crate does not model (kmcp's MCPServer, SandboxAgent, ...).
    #[error(
        "{api_version} {kind} is a kagent resource kagent-api does not model (it handles Agent, ModelConfig, RemoteMCPServer, ModelProviderConfig)"
    )]
    UnsupportedKind {
        /// apiVersion as written.
        api_version: String,
        /// kind as written.
        kind: String,
    },
    /// A kagent kind in a version this crate does not read.
    #[error("{api_version} {kind} is not supported: {hint}")]
    UnsupportedVersion {
        /// apiVersion as written.
        api_version: String,
        /// kind as written.
        kind: String,
        /// How to migrate.
        hint: String,
    },
    /// The object breaks rules (all of them are listed).
    #[error("{errors}")]
    Invalid {
        /// Every broken rule.
        errors: ValidationErrors,
        /// The warnings found on the way.
        warnings: Vec<Warning>,
    },
}

/// The four kinds, for [`decode_as`].
pub trait KagentKind:
    Validate + DeserializeOwned + Into<KagentResource> + Sized + sealed::Sealed
{
    #[doc(hidden)]
    fn normalize(n: &mut Normalizer, obj: &mut Map<String, Value>);
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Agent {}
    impl Sealed for super::ModelConfig {}
    impl Sealed for super::RemoteMCPServer {}
    impl Sealed for super::ModelProviderConfig {}
}

macro_rules! kind {
    ($ty:ident, $norm:ident) => {
        impl KagentKind for $ty {
            fn normalize(n: &mut Normalizer, obj: &mut Map<String, Value>) {
                n.$norm(obj)
            }
        }
        impl From<$ty> for KagentResource {
            fn from(r: $ty) -> Self {
                KagentResource::$ty(Box::new(r))
            }
        }
    };
}

kind!(Agent, agent);
kind!(ModelConfig, model_config);
kind!(RemoteMCPServer, remote_mcp_server);
kind!(ModelProviderConfig, model_provider_config);

/// Decodes any of the four kinds, chosen by `apiVersion` and `kind`.
///
/// ```
/// let yaml = "apiVersion: kagent.dev/v1alpha2\nkind: ModelConfig\nmetadata: {name: m, namespace: kagent}\nspec: {provider: anthropic, model: claude-sonnet-4-20250514, apiKeySecretRef: {name: s, key: k}}\n";
/// let value: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
/// let decoded = kagent_api::decode(value).unwrap();
/// let mc = decoded.object.as_model_config().unwrap();
/// assert_eq!(mc.spec.provider, kagent_api::model_config::ModelProvider::Anthropic);
/// assert_eq!(mc.spec.api_key_secret.as_deref(), Some("s"));
/// assert_eq!(decoded.warnings.len(), 3); // provider spelling, apiKeySecret, apiKeySecretKey
/// ```
pub fn decode(value: Value) -> Result<Decoded<KagentResource>, DecodeError> {
    let (api_version, kind) = type_meta(&value)?;
    let (group, version) = api_version.split_once('/').unwrap_or(("", &api_version));
    if group != GROUP {
        return Err(DecodeError::NotKagent { api_version, kind });
    }
    let known = matches!(
        kind.as_str(),
        "Agent" | "ModelConfig" | "RemoteMCPServer" | "ModelProviderConfig"
    );
    if !known {
        return Err(DecodeError::UnsupportedKind { api_version, kind });
    }
    let mut value = value;
    let mut pre = Vec::new();
    if version != VERSION {
        if version == "v1alpha1" && kind == "ModelConfig" {
            pre.push(Warning::normalized(
                FieldPath::root().field("apiVersion"),
                api_version.clone(),
                API_VERSION,
                "a v1alpha1 ModelConfig has the v1alpha2 fields except apiKeySecretRef and modelInfo, which are converted",
            ));
            if let Some(obj) = value.as_object_mut() {
                obj.insert("apiVersion".into(), Value::String(API_VERSION.into()));
            }
        } else {
            let hint = if version == "v1alpha1" && kind == "Agent" {
                "v1alpha2 moves a v1alpha1 Agent's systemMessage, modelConfig, stream, tools, a2aConfig and deployment under spec.declarative (with spec.type: Declarative), and a tool's mcpServer.toolServer becomes mcpServer: {name, kind: RemoteMCPServer, apiGroup: kagent.dev}".to_string()
            } else {
                format!("kagent-api reads {API_VERSION}; write apiVersion: {API_VERSION}")
            };
            return Err(DecodeError::UnsupportedVersion {
                api_version,
                kind,
                hint,
            });
        }
    }
    let mut result = match kind.as_str() {
        "Agent" => decode_as::<Agent>(value).map(into_resource),
        "ModelConfig" => decode_as::<ModelConfig>(value).map(into_resource),
        "RemoteMCPServer" => decode_as::<RemoteMCPServer>(value).map(into_resource),
        _ => decode_as::<ModelProviderConfig>(value).map(into_resource),
    };
    match &mut result {
        Ok(d) => prepend(&mut d.warnings, pre),
        Err(DecodeError::Invalid { warnings, .. }) => prepend(warnings, pre),
        Err(_) => {}
    }
    result
}

fn prepend(list: &mut Vec<Warning>, mut first: Vec<Warning>) {
    if !first.is_empty() {
        first.append(list);
        *list = first;
    }
}

fn into_resource<K: KagentKind>(d: Decoded<K>) -> Decoded<KagentResource> {
    Decoded {
        object: d.object.into(),
        warnings: d.warnings,
    }
}

fn type_meta(value: &Value) -> Result<(String, String), DecodeError> {
    let obj = value.as_object().ok_or(DecodeError::NotAnObject)?;
    let get = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    match (get("apiVersion"), get("kind")) {
        (Some(a), Some(k)) => Ok((a, k)),
        _ => Err(DecodeError::MissingTypeMeta),
    }
}

/// Decodes one kind (the `apiVersion` and `kind` of the value are not checked beyond being
/// removed): normalises tolerant forms, decodes, validates.
pub fn decode_as<K: KagentKind>(value: Value) -> Result<Decoded<K>, DecodeError> {
    let Value::Object(mut obj) = value else {
        return Err(DecodeError::NotAnObject);
    };
    let meta = obj.get("metadata");
    let object = ObjectRef::new(
        obj.get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or(API_VERSION),
        obj.get("kind").and_then(Value::as_str).unwrap_or(""),
        meta.and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .map(str::to_string),
        meta.and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string),
    );
    let mut n = Normalizer::default();
    K::normalize(&mut n, &mut obj);
    obj.remove("apiVersion");
    obj.remove("kind");
    obj.entry("spec")
        .or_insert_with(|| Value::Object(Map::new()));
    if obj.get("metadata").is_none_or(Value::is_null) {
        obj.insert("metadata".into(), Value::Object(Map::new()));
    }
    let mut warnings = n.warnings;
    let mut errors = n.errors;
    let mut ignored = Vec::new();
    let decoded: Result<K, _> = {
        let mut on_ignored = |p: serde_ignored::Path<'_>| ignored.push(path::from_ignored(&p));
        let de = serde_ignored::Deserializer::new(Value::Object(obj), &mut on_ignored);
        serde_path_to_error::deserialize(de)
    };
    warnings.extend(
        ignored
            .into_iter()
            .map(|p| Warning::new(p, WarningKind::UnknownField)),
    );
    let object_value = match decoded {
        Ok(v) => v,
        Err(e) => {
            errors.push(decode_error(&e));
            return Err(DecodeError::Invalid {
                errors: ValidationErrors { object, errors },
                warnings,
            });
        }
    };
    let unreadable = Unreadable::from_errors(&errors);
    errors.extend(object_value.field_errors_with(&unreadable));
    warnings.extend(object_value.advice());
    if errors.is_empty() {
        Ok(Decoded {
            object: object_value,
            warnings,
        })
    } else {
        Err(DecodeError::Invalid {
            errors: ValidationErrors { object, errors },
            warnings,
        })
    }
}

fn decode_error(e: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let at = path::from_track(e.path());
    let message = e.inner().to_string();
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(field) = rest.split('`').next()
    {
        return FieldError::new(
            at.field(field),
            Reason::Required {
                hint: format!("the `{field}` field is missing"),
            },
        );
    }
    FieldError::new(at, Reason::Decode { message })
}
