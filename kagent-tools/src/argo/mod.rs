//! Argo Rollouts tools (kagent's `argo_*` names and arguments), on the Kubernetes API: reads of
//! Rollouts, AnalysisRuns and Experiments, and writes that send exactly the patches the
//! `kubectl argo rollouts` plugin sends (status subresource where the plugin uses it), each with
//! a server-side dry-run preview and a diff. Nothing shells out.

mod error;
mod read;
pub mod rollout;
mod write;

use std::sync::Arc;

use kagent_core::{IntoTool, ToolEffect, Toolset, ToolsetError};
use kagent_k8s::{K8sError, ResourceCatalog, ResourceInfo};
use kube::Client;

pub use error::ArgoError;
pub use read::{
    GetRollout, GetRolloutArgs, ListRollouts, ListRolloutsArgs, VerifyControllerInstall,
    VerifyControllerInstallArgs,
};
pub use write::{
    AbortRollout, PauseRollout, PromoteRollout, PromoteRolloutArgs, ResumeRollout, RetryRollout,
    RolloutNameArgs, SetRolloutImage, SetRolloutImageArgs,
};

/// Every Argo Rollouts tool, with its effect, in registration order.
pub const TOOLS: &[(&str, ToolEffect)] = &[
    ("argo_rollouts_list", ToolEffect::ReadOnly),
    ("argo_get_rollout", ToolEffect::ReadOnly),
    (
        "argo_verify_argo_rollouts_controller_install",
        ToolEffect::ReadOnly,
    ),
    ("argo_promote_rollout", ToolEffect::Mutating),
    ("argo_pause_rollout", ToolEffect::Mutating),
    ("argo_resume_rollout", ToolEffect::Mutating),
    ("argo_abort_rollout", ToolEffect::Mutating),
    ("argo_retry_rollout", ToolEffect::Mutating),
    ("argo_set_rollout_image", ToolEffect::Mutating),
];

/// Settings shared by the Argo Rollouts tools.
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) catalog: ResourceCatalog,
    pub(crate) default_namespace: String,
    pub(crate) controller_namespace: String,
    pub(crate) max_output_chars: usize,
    pub(crate) field_manager: String,
}

impl Shared {
    pub(crate) fn ns<'a>(&'a self, given: &'a Option<String>) -> &'a str {
        crate::family::non_empty(given).unwrap_or(&self.default_namespace)
    }

    pub(crate) fn bound(&self, text: String, how: &str) -> String {
        kagent_k8s::render::bound_text(text, self.max_output_chars, how)
    }

    /// Resolves an `argoproj.io` resource through discovery.
    pub(crate) async fn resolve(&self, resource: &'static str) -> Result<ResourceInfo, ArgoError> {
        match self
            .catalog
            .resolve(&format!("{resource}.argoproj.io"))
            .await
        {
            Ok(info) => Ok(info),
            Err(K8sError::UnknownResourceType { .. }) => Err(ArgoError::NotInstalled { resource }),
            Err(e) => Err(e.into()),
        }
    }
}

/// Entry point: `ArgoTools::builder(client)...build()` gives a [`Toolset`].
#[derive(Debug, Clone, Copy)]
pub struct ArgoTools;

impl ArgoTools {
    /// A builder for the Argo Rollouts tools, talking to the cluster through `client`.
    pub fn builder(client: Client) -> ArgoToolsBuilder {
        ArgoToolsBuilder {
            shared: Shared {
                catalog: ResourceCatalog::new(client.clone()),
                default_namespace: client.default_namespace().to_owned(),
                client,
                controller_namespace: "argo-rollouts".to_owned(),
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

/// Configures the Argo Rollouts tools. See [`ArgoTools::builder`].
pub struct ArgoToolsBuilder {
    shared: Shared,
    read_only: bool,
}

impl std::fmt::Debug for ArgoToolsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArgoToolsBuilder")
            .field("read_only", &self.read_only)
            .field("default_namespace", &self.shared.default_namespace)
            .field("controller_namespace", &self.shared.controller_namespace)
            .finish_non_exhaustive()
    }
}

impl ArgoToolsBuilder {
    /// Registers only the read-only tools (list, get, verify). Default: false.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Namespace used when a call names none. Default: the client's default namespace.
    pub fn default_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.shared.default_namespace = namespace.into();
        self
    }

    /// Namespace `argo_verify_argo_rollouts_controller_install` checks when the call names none.
    /// Default: `argo-rollouts`.
    pub fn controller_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.shared.controller_namespace = namespace.into();
        self
    }

    /// Upper bound on the characters of one tool result; longer output is cut with a note of
    /// what was left out. Default: 40 000 (at least 1 000).
    pub fn max_output_chars(mut self, max: usize) -> Self {
        self.shared.max_output_chars = max.max(1_000);
        self
    }

    /// Field manager of the patches and updates. Default: `kagent`.
    pub fn field_manager(mut self, name: impl Into<String>) -> Self {
        self.shared.field_manager = name.into();
        self
    }

    /// A shared resource catalog (so several toolsets reuse one discovery cache).
    pub fn catalog(mut self, catalog: ResourceCatalog) -> Self {
        self.shared.catalog = catalog;
        self
    }

    /// Builds the toolset.
    pub fn build(self) -> Result<Toolset, ToolsetError> {
        let s = Arc::new(self.shared);
        let mut set = Toolset::new();
        set.add(ListRollouts(s.clone()).into_tool()?)?;
        set.add(GetRollout(s.clone()).into_tool()?)?;
        set.add(VerifyControllerInstall(s.clone()).into_tool()?)?;
        if !self.read_only {
            set.add(PromoteRollout(s.clone()).into_tool()?)?;
            set.add(PauseRollout(s.clone()).into_tool()?)?;
            set.add(ResumeRollout(s.clone()).into_tool()?)?;
            set.add(AbortRollout(s.clone()).into_tool()?)?;
            set.add(RetryRollout(s.clone()).into_tool()?)?;
            set.add(SetRolloutImage(s).into_tool()?)?;
        }
        Ok(set)
    }
}

/// Validates an object name (a DNS-1123 subdomain).
pub(crate) fn check_name(argument: &'static str, name: &str) -> Result<(), ArgoError> {
    if crate::family::is_dns_subdomain(name) {
        Ok(())
    } else {
        Err(ArgoError::invalid(
            argument,
            format!("{name:?} is not a valid name (lowercase letters, digits, '-' and '.')"),
        ))
    }
}

/// Validates a namespace (a DNS-1123 label).
pub(crate) fn check_namespace(ns: &str) -> Result<(), ArgoError> {
    if crate::family::is_dns_label(ns) {
        Ok(())
    } else {
        Err(ArgoError::invalid(
            "namespace",
            format!("{ns:?} is not a valid namespace (lowercase letters, digits and '-')"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_name_is_unique_and_valid() {
        let mut names: Vec<&str> = ArgoTools::tool_names().collect();
        for n in &names {
            kagent_core::validate_tool_name(n).unwrap();
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len());
    }
}
