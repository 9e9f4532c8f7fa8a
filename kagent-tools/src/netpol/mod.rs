//! NetworkPolicy and Cilium tools on the kube API, no cilium CLI: the three policy kinds read
//! through discovery, analyzed together (coverage, default deny, over-broad rules), Cilium
//! policies checked structurally, and a default-deny writer.
//!
//! ```rust,no_run
//! use kagent_core::ToolContext;
//! use kagent_tools::netpol::NetworkPolicyTools;
//! use serde_json::json;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = kube::Client::try_default().await?;
//! let tools = NetworkPolicyTools::builder(client).read_only(true).build()?;
//! let out = tools
//!     .call("network_policy_analyze", json!({"namespace": "shop"}), ToolContext::detached("1"))
//!     .await?;
//! println!("{}", kagent_core::message::render_tool_content(&out.content));
//! # Ok(()) }
//! ```

mod analyze;
pub mod cilium;
mod error;
mod model;
mod tools;

use std::sync::Arc;

use kagent_core::{IntoTool, ToolEffect, Toolset, ToolsetError};
use kagent_k8s::ResourceCatalog;
use kube::Client;

pub use analyze::{NetpolAnalyzeOptions, analyze};
pub use error::{NetworkPolicyError, Result};
pub use model::{PolicyKind, PolicySnapshot};
use tools::{AnalyzePolicies, CreateDefaultDeny, ListPolicies, ValidateCiliumPolicies};

/// Every NetworkPolicy / Cilium tool, with its effect, in registration order.
pub const TOOLS: &[(&str, ToolEffect)] = &[
    ("network_policy_list", ToolEffect::ReadOnly),
    ("network_policy_analyze", ToolEffect::ReadOnly),
    (
        "cilium_validate_cilium_network_policies",
        ToolEffect::ReadOnly,
    ),
    ("network_policy_create_default_deny", ToolEffect::Mutating),
];

/// Settings shared by the tools.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) catalog: ResourceCatalog,
    pub(crate) default_namespace: String,
    pub(crate) max_output_chars: usize,
    pub(crate) field_manager: String,
}

impl Shared {
    /// The namespace a call names, or the default one; checked to be a valid namespace.
    pub(crate) fn ns<'a>(&'a self, given: &'a Option<String>) -> Result<&'a str> {
        let ns = crate::family::non_empty(given).unwrap_or(&self.default_namespace);
        crate::family::check_namespace(ns)
            .map_err(|m| NetworkPolicyError::invalid("namespace", m))?;
        Ok(ns)
    }

    pub(crate) fn bound(&self, text: String, how: &str) -> String {
        kagent_k8s::render::bound_text(text, self.max_output_chars, how)
    }
}

/// Entry point: `NetworkPolicyTools::builder(client)...build()` gives a [`Toolset`].
#[derive(Debug, Clone, Copy)]
pub struct NetworkPolicyTools;

impl NetworkPolicyTools {
    /// A builder for the tools, talking to the cluster through `client`.
    pub fn builder(client: Client) -> NetworkPolicyToolsBuilder {
        NetworkPolicyToolsBuilder {
            shared: Shared {
                catalog: ResourceCatalog::new(client.clone()),
                default_namespace: client.default_namespace().to_owned(),
                client,
                max_output_chars: 40_000,
                field_manager: "kagent".to_owned(),
            },
            read_only: false,
        }
    }

    /// The names of every tool, in registration order.
    pub fn tool_names() -> impl Iterator<Item = &'static str> {
        TOOLS.iter().map(|(n, _)| *n)
    }
}

/// Configures the NetworkPolicy / Cilium tools. See [`NetworkPolicyTools::builder`].
pub struct NetworkPolicyToolsBuilder {
    shared: Shared,
    read_only: bool,
}

impl std::fmt::Debug for NetworkPolicyToolsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkPolicyToolsBuilder")
            .field("read_only", &self.read_only)
            .field("default_namespace", &self.shared.default_namespace)
            .finish_non_exhaustive()
    }
}

impl NetworkPolicyToolsBuilder {
    /// Registers only read-only tools (leaves out `network_policy_create_default_deny`).
    /// Default: false.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Namespace used when a call gives none. Default: the client's default namespace.
    pub fn default_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.shared.default_namespace = namespace.into();
        self
    }

    /// Upper bound on the characters of one tool result; longer output is cut with a note of
    /// what was left out. Default: 40 000.
    pub fn max_output_chars(mut self, max: usize) -> Self {
        self.shared.max_output_chars = max.max(1_000);
        self
    }

    /// Field manager of writes. Default: `kagent`.
    pub fn field_manager(mut self, name: impl Into<String>) -> Self {
        self.shared.field_manager = name.into();
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
        set.add(ListPolicies(s.clone()).into_tool()?)?;
        set.add(AnalyzePolicies(s.clone()).into_tool()?)?;
        set.add(ValidateCiliumPolicies(s.clone()).into_tool()?)?;
        if !self.read_only {
            set.add(CreateDefaultDeny(s).into_tool()?)?;
        }
        Ok(set)
    }
}

/// Checks an object name argument (a DNS-1123 subdomain) before it goes into a URL.
pub(crate) fn check_name(argument: &'static str, name: &str) -> Result<()> {
    crate::family::check_name(name).map_err(|m| NetworkPolicyError::invalid(argument, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_are_unique_and_valid() {
        let mut names: Vec<&str> = NetworkPolicyTools::tool_names().collect();
        for n in &names {
            kagent_core::validate_tool_name(n).unwrap();
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len());
    }
}
