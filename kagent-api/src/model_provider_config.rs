//! `ModelProviderConfig` (kagent's `modelproviderconfig_types.go`): a provider endpoint and
//! credentials, from which kagent discovers the available models.

use kube_derive::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::Condition;
use crate::model_config::ModelProvider;

/// A Secret in the ModelProviderConfig's namespace with exactly one data key: the API key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["name"]))]
pub struct SecretReference {
    /// Name of the Secret.
    #[serde(default)]
    pub name: String,
}

/// The desired state of a ModelProviderConfig.
// clippy reads the repeated `type_ = ...` of kube's printcolumn(...) entries as duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Debug, Clone, PartialEq, Default, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "kagent.dev",
    version = "v1alpha2",
    kind = "ModelProviderConfig",
    namespaced,
    status = "ModelProviderConfigStatus",
    shortname = "mprov",
    category = "kagent",
    printcolumn(name = "Type", type_ = "string", json_path = ".spec.type"),
    printcolumn(name = "Endpoint", type_ = "string", json_path = ".spec.endpoint"),
    printcolumn(name = "Models", type_ = "integer", json_path = ".status.modelCount"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type=='Ready')].status"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    doc = "ModelProviderConfig is the Schema for the modelproviderconfigs API. It represents a model provider configuration with automatic model discovery.",
    derive = "PartialEq",
    derive = "Default",
    crates(kube_core = "::kube_core")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    crates(kube_core = "::kube_core"),
    validation = Rule::new("!has(self.endpoint) || size(self.endpoint) == 0 || self.endpoint.startsWith('http://') || self.endpoint.startsWith('https://')").message("endpoint must be a valid URL starting with http:// or https://"),
    validation = Rule::new("self.type == 'Ollama' || (has(self.secretRef) && has(self.secretRef.name) && size(self.secretRef.name) > 0)").message("secretRef is required for providers that need authentication (not Ollama)")
)]
pub struct ModelProviderConfigSpec {
    /// The provider type.
    #[serde(rename = "type")]
    pub type_: ModelProvider,
    /// API endpoint (the provider's default when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^https?://.*"))]
    pub endpoint: Option<String>,
    /// The Secret holding the API key (optional for Ollama).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretReference>,
}

impl ModelProviderConfigSpec {
    /// The endpoint, or the provider's default (kagent's `GetEndpoint`).
    pub fn endpoint_or_default(&self) -> Option<&str> {
        match self.endpoint.as_deref() {
            Some(e) if !e.is_empty() => Some(e),
            _ => self.type_.default_endpoint(),
        }
    }

    /// Whether the provider needs a Secret (every provider but Ollama).
    pub fn requires_secret(&self) -> bool {
        self.type_ != ModelProvider::Ollama
    }
}

/// The observed state of a ModelProviderConfig.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelProviderConfigStatus {
    /// The generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions: `Ready`, `SecretResolved`, `ModelsDiscovered`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Model IDs discovered from the provider.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discovered_models: Vec<String>,
    /// Number of discovered models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_count: Option<i64>,
    /// Time of the last successful discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_discovery_time: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
    /// Hash of the Secret data, to notice changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
}
