//! Istio tools on the kube API, no istioctl: Istio's configuration read through discovery,
//! `istioctl analyze` done natively with evidence per finding, a sidecar's Envoy configuration
//! read through the API server, zero-trust and canary manifests validated by a server-side dry
//! run, and traffic shifting.
//!
//! ```rust,no_run
//! use kagent_core::ToolContext;
//! use kagent_tools::istio::IstioTools;
//! use serde_json::json;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = kube::Client::try_default().await?;
//! let tools = IstioTools::builder(client).default_namespace("shop").build()?;
//! let out = tools
//!     .call("istio_analyze_cluster_configuration", json!({}), ToolContext::detached("1"))
//!     .await?;
//! println!("{}", kagent_core::message::render_tool_content(&out.content));
//! # Ok(()) }
//! ```

mod analyze;
pub mod envoy;
mod error;
mod generate;
mod proxy;
mod resources;
mod tools;

use std::sync::Arc;
use std::time::Duration;

use kagent_core::{IntoTool, ToolEffect, Toolset, ToolsetError};
use kagent_k8s::ResourceCatalog;
use kube::Client;

pub use analyze::{AnalyzeOptions, analyze};
pub use error::{IstioError, Result};
pub use generate::{
    CanarySpec, Generated, authorization_policies, canary, new_findings, peer_authentication,
};
pub use proxy::EnvoyAdminAccess;
pub use resources::{IstioKind, MeshSnapshot};
use tools::{
    AnalyzeClusterConfiguration, GenerateAuthorizationPolicies, GenerateCanary,
    GeneratePeerAuthentication, GetResources, ProxyConfig, ProxyStatus, SetRouteWeights,
};

/// Every Istio tool, with its effect, in registration order.
pub const TOOLS: &[(&str, ToolEffect)] = &[
    ("istio_get_resources", ToolEffect::ReadOnly),
    ("istio_analyze_cluster_configuration", ToolEffect::ReadOnly),
    ("istio_proxy_config", ToolEffect::ReadOnly),
    ("istio_proxy_status", ToolEffect::ReadOnly),
    ("istio_generate_peer_authentication", ToolEffect::ReadOnly),
    (
        "istio_generate_authorization_policies",
        ToolEffect::ReadOnly,
    ),
    ("istio_generate_canary", ToolEffect::ReadOnly),
    ("istio_set_route_weights", ToolEffect::Mutating),
];

/// Settings shared by the Istio tools.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) catalog: ResourceCatalog,
    pub(crate) default_namespace: String,
    pub(crate) root_namespace: String,
    pub(crate) cluster_domain: String,
    pub(crate) trust_domain: String,
    pub(crate) istiod_namespace: String,
    pub(crate) max_output_chars: usize,
    pub(crate) field_manager: String,
    pub(crate) admin_access: EnvoyAdminAccess,
    pub(crate) admin_port: u16,
    pub(crate) istiod_debug_port: u16,
    pub(crate) proxy_timeout: Duration,
    pub(crate) max_proxies: usize,
}

impl Shared {
    /// The namespace a call names, or the default one; checked to be a valid namespace.
    pub(crate) fn ns<'a>(&'a self, given: &'a Option<String>) -> Result<&'a str> {
        let ns = crate::family::non_empty(given).unwrap_or(&self.default_namespace);
        crate::family::check_namespace(ns).map_err(|m| IstioError::invalid("namespace", m))?;
        Ok(ns)
    }

    pub(crate) fn bound(&self, text: String, how: &str) -> String {
        kagent_k8s::render::bound_text(text, self.max_output_chars, how)
    }

    pub(crate) fn analyze_options(&self, namespace: Option<&str>) -> AnalyzeOptions {
        AnalyzeOptions {
            namespace: namespace.map(str::to_owned),
            root_namespace: self.root_namespace.clone(),
            cluster_domain: self.cluster_domain.clone(),
        }
    }
}

/// Entry point: `IstioTools::builder(client)...build()` gives a [`Toolset`].
#[derive(Debug, Clone, Copy)]
pub struct IstioTools;

impl IstioTools {
    /// A builder for the Istio tools, talking to the cluster through `client`.
    pub fn builder(client: Client) -> IstioToolsBuilder {
        IstioToolsBuilder {
            shared: Shared {
                catalog: ResourceCatalog::new(client.clone()),
                default_namespace: client.default_namespace().to_owned(),
                client,
                root_namespace: "istio-system".to_owned(),
                cluster_domain: "cluster.local".to_owned(),
                trust_domain: "cluster.local".to_owned(),
                istiod_namespace: "istio-system".to_owned(),
                max_output_chars: 40_000,
                field_manager: "kagent".to_owned(),
                admin_access: EnvoyAdminAccess::default(),
                admin_port: 15000,
                istiod_debug_port: 15014,
                proxy_timeout: Duration::from_secs(15),
                max_proxies: 30,
            },
            read_only: false,
        }
    }

    /// The names of every tool, in registration order.
    pub fn tool_names() -> impl Iterator<Item = &'static str> {
        TOOLS.iter().map(|(n, _)| *n)
    }
}

/// Configures the Istio tools. See [`IstioTools::builder`].
pub struct IstioToolsBuilder {
    shared: Shared,
    read_only: bool,
}

impl std::fmt::Debug for IstioToolsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IstioToolsBuilder")
            .field("read_only", &self.read_only)
            .field("default_namespace", &self.shared.default_namespace)
            .field("root_namespace", &self.shared.root_namespace)
            .field("admin_access", &self.shared.admin_access)
            .finish_non_exhaustive()
    }
}

impl IstioToolsBuilder {
    /// Registers only read-only tools (leaves out `istio_set_route_weights`). Default: false.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Namespace used when a call gives none. Default: the client's default namespace.
    pub fn default_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.shared.default_namespace = namespace.into();
        self
    }

    /// Istio's root namespace, where mesh-wide policies live. Default: `istio-system`.
    pub fn root_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.shared.root_namespace = namespace.into();
        self
    }

    /// Namespace of istiod, whose `/debug/syncz` `istio_proxy_status` reads. Default:
    /// `istio-system`.
    pub fn istiod_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.shared.istiod_namespace = namespace.into();
        self
    }

    /// The cluster's DNS domain. Default: `cluster.local`.
    pub fn cluster_domain(mut self, domain: impl Into<String>) -> Self {
        self.shared.cluster_domain = domain.into();
        self
    }

    /// The mesh's trust domain (in principals `<td>/ns/<ns>/sa/<sa>`). Default: `cluster.local`.
    pub fn trust_domain(mut self, domain: impl Into<String>) -> Self {
        self.shared.trust_domain = domain.into();
        self
    }

    /// Upper bound on the characters of one tool result; longer output is cut with a note of
    /// what was left out. Default: 40 000.
    pub fn max_output_chars(mut self, max: usize) -> Self {
        self.shared.max_output_chars = max.max(1_000);
        self
    }

    /// Field manager of writes and dry runs. Default: `kagent`.
    pub fn field_manager(mut self, name: impl Into<String>) -> Self {
        self.shared.field_manager = name.into();
        self
    }

    /// How Envoy admin and istiod debug ports are reached. Default:
    /// [`EnvoyAdminAccess::PortForward`], which works with Istio's default sidecar (admin on
    /// localhost only).
    pub fn envoy_admin_access(mut self, access: EnvoyAdminAccess) -> Self {
        self.shared.admin_access = access;
        self
    }

    /// The sidecar's Envoy admin port. Default: 15000.
    pub fn envoy_admin_port(mut self, port: u16) -> Self {
        self.shared.admin_port = port;
        self
    }

    /// istiod's debug (monitoring) port. Default: 15014.
    pub fn istiod_debug_port(mut self, port: u16) -> Self {
        self.shared.istiod_debug_port = port;
        self
    }

    /// Time limit of one admin request. Default: 15 s.
    pub fn proxy_timeout(mut self, timeout: Duration) -> Self {
        self.shared.proxy_timeout = timeout;
        self
    }

    /// Most sidecars `istio_proxy_status` asks one by one when istiod cannot be asked.
    /// Default: 30.
    pub fn max_proxies(mut self, max: usize) -> Self {
        self.shared.max_proxies = max.max(1);
        self
    }

    /// A shared resource catalog (one discovery cache for several toolsets).
    pub fn catalog(mut self, catalog: ResourceCatalog) -> Self {
        self.shared.catalog = catalog;
        self
    }

    /// Builds the toolset.
    pub fn build(self) -> std::result::Result<Toolset, ToolsetError> {
        let s = Arc::new(self.shared);
        let mut set = Toolset::new();
        set.add(GetResources(s.clone()).into_tool()?)?;
        set.add(AnalyzeClusterConfiguration(s.clone()).into_tool()?)?;
        set.add(ProxyConfig(s.clone()).into_tool()?)?;
        set.add(ProxyStatus(s.clone()).into_tool()?)?;
        set.add(GeneratePeerAuthentication(s.clone()).into_tool()?)?;
        set.add(GenerateAuthorizationPolicies(s.clone()).into_tool()?)?;
        set.add(GenerateCanary(s.clone()).into_tool()?)?;
        if !self.read_only {
            set.add(SetRouteWeights(s).into_tool()?)?;
        }
        Ok(set)
    }
}

/// Checks an object name argument (a DNS-1123 subdomain) before it goes into a URL.
pub(crate) fn check_name(argument: &'static str, name: &str) -> Result<()> {
    crate::family::check_name(name).map_err(|m| IstioError::invalid(argument, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_are_unique_and_valid() {
        let mut names: Vec<&str> = IstioTools::tool_names().collect();
        for n in &names {
            kagent_core::validate_tool_name(n).unwrap();
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len());
    }
}
