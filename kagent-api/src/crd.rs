//! CustomResourceDefinitions for the four kinds, generated from the types.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube_core::CustomResourceExt;

use crate::agent::Agent;
use crate::model_config::ModelConfig;
use crate::model_provider_config::ModelProviderConfig;
use crate::remote_mcp_server::RemoteMCPServer;

/// The CRDs of Agent, ModelConfig, RemoteMCPServer and ModelProviderConfig (version
/// `v1alpha2` only, served and stored), with kagent's printer columns, short names,
/// categories, defaults and CEL validation rules.
///
/// Install them on a cluster without kagent (or a test API server). On a cluster that runs
/// kagent, keep kagent's own CRDs: they also serve v1alpha1 (and newer versions), which these
/// do not.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        Agent::crd(),
        ModelConfig::crd(),
        RemoteMCPServer::crd(),
        ModelProviderConfig::crd(),
    ]
}

/// [`crds`] as one multi-document YAML stream, ready for `kubectl apply -f -`.
pub fn crds_yaml() -> Result<String, serde_yaml::Error> {
    let mut out = String::new();
    for crd in crds() {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&crd)?);
    }
    Ok(out)
}
