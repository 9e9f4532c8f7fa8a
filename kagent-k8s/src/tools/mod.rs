//! The Kubernetes tools (kagent's tool server names and arguments) and their builder.

mod connectivity;
mod diagnose;
mod exec;
mod from_url;
mod generate;
#[cfg(test)]
mod properties;
mod read;
mod rollout;
mod write;

use std::sync::Arc;
use std::time::Duration;

use kagent_core::{IntoTool, ModelProvider, ToolEffect, Toolset, ToolsetError};
use kube::Client;
use kube::api::PatchParams;
use kube::config::Kubeconfig;

use crate::catalog::ResourceCatalog;
use crate::error::{K8sError, Result};

use connectivity::CheckServiceConnectivity;
use diagnose::Diagnose;
use exec::ExecuteCommand;
use from_url::CreateResourceFromUrl;
use generate::GenerateResource;
use read::{
    DescribeResource, GetApiResources, GetClusterConfiguration, GetEvents, GetPodLogs,
    GetResourceYaml, GetResources,
};
use rollout::Rollout;
use write::{
    AnnotateResource, ApplyManifest, CreateResource, DeleteResource, LabelResource, PatchResource,
    PatchStatus, RemoveAnnotation, RemoveLabel, Scale,
};

/// Every tool this crate provides, with its effect, in registration order.
pub const TOOLS: &[(&str, ToolEffect)] = &[
    ("k8s_get_resources", ToolEffect::ReadOnly),
    ("k8s_get_pod_logs", ToolEffect::ReadOnly),
    ("k8s_get_events", ToolEffect::ReadOnly),
    ("k8s_get_available_api_resources", ToolEffect::ReadOnly),
    ("k8s_get_cluster_configuration", ToolEffect::ReadOnly),
    ("k8s_get_resource_yaml", ToolEffect::ReadOnly),
    ("k8s_describe_resource", ToolEffect::ReadOnly),
    ("k8s_check_service_connectivity", ToolEffect::ReadOnly),
    ("k8s_generate_resource", ToolEffect::ReadOnly),
    ("k8s_diagnose", ToolEffect::ReadOnly),
    ("k8s_scale", ToolEffect::Mutating),
    ("k8s_patch_resource", ToolEffect::Mutating),
    ("k8s_patch_status", ToolEffect::Mutating),
    ("k8s_apply_manifest", ToolEffect::Mutating),
    ("k8s_create_resource", ToolEffect::Mutating),
    ("k8s_create_resource_from_url", ToolEffect::Mutating),
    ("k8s_rollout", ToolEffect::Mutating),
    ("k8s_label_resource", ToolEffect::Mutating),
    ("k8s_remove_label", ToolEffect::Mutating),
    ("k8s_annotate_resource", ToolEffect::Mutating),
    ("k8s_remove_annotation", ToolEffect::Mutating),
    ("k8s_delete_resource", ToolEffect::Destructive),
    ("k8s_execute_command", ToolEffect::Destructive),
];

/// Settings shared by the tools.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) catalog: ResourceCatalog,
    pub(crate) default_namespace: String,
    pub(crate) allow_secret_values: bool,
    pub(crate) max_output_chars: usize,
    pub(crate) default_limit: u64,
    pub(crate) field_manager: String,
    pub(crate) url_allow_list: Vec<String>,
    pub(crate) http: Option<reqwest::Client>,
    pub(crate) model: Option<Arc<dyn ModelProvider>>,
    pub(crate) model_name: Option<String>,
    pub(crate) kubeconfig: Option<Kubeconfig>,
    pub(crate) exec_timeout: Duration,
    pub(crate) diagnose_logs: bool,
}

impl Shared {
    /// The namespace to use: the given one, else the configured default.
    pub(crate) fn ns<'a>(&'a self, given: &'a Option<String>) -> &'a str {
        crate::args::non_empty(given).unwrap_or(&self.default_namespace)
    }

    pub(crate) fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }

    pub(crate) fn bound(&self, text: String, how: &str) -> String {
        crate::render::bound_text(text, self.max_output_chars, how)
    }

    /// Parameters of a PATCH by this toolset's field manager, as a server-side dry run when
    /// `dry_run`.
    pub(crate) fn patch_params(&self, dry_run: bool) -> PatchParams {
        PatchParams {
            dry_run,
            field_manager: Some(self.field_manager.clone()),
            ..PatchParams::default()
        }
    }
}

/// Whether a call runs as a dry run: asked by its `dry_run` argument or by the call's context.
pub(crate) fn is_dry(flag: crate::args::Flag, ctx: &kagent_core::ToolContext) -> bool {
    flag.0 || ctx.dry_run
}

/// Entry point: `K8sTools::builder(client)...build()` gives a [`Toolset`].
#[derive(Debug, Clone, Copy)]
pub struct K8sTools;

impl K8sTools {
    /// A builder for the tools, talking to the cluster through `client`.
    pub fn builder(client: Client) -> K8sToolsBuilder {
        K8sToolsBuilder {
            shared: Shared {
                catalog: ResourceCatalog::new(client.clone()),
                default_namespace: client.default_namespace().to_owned(),
                client,
                allow_secret_values: false,
                max_output_chars: 40_000,
                default_limit: 200,
                field_manager: "kagent".to_owned(),
                url_allow_list: Vec::new(),
                http: None,
                model: None,
                model_name: None,
                kubeconfig: None,
                exec_timeout: Duration::from_secs(30),
                diagnose_logs: true,
            },
            read_only: false,
        }
    }

    /// The names of every tool, in registration order.
    pub fn tool_names() -> impl Iterator<Item = &'static str> {
        TOOLS.iter().map(|(n, _)| *n)
    }
}

/// Configures the Kubernetes tools. See [`K8sTools::builder`].
pub struct K8sToolsBuilder {
    shared: Shared,
    read_only: bool,
}

impl std::fmt::Debug for K8sToolsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("K8sToolsBuilder")
            .field("read_only", &self.read_only)
            .field("default_namespace", &self.shared.default_namespace)
            .field("allow_secret_values", &self.shared.allow_secret_values)
            .field("url_allow_list", &self.shared.url_allow_list)
            .field("has_model", &self.shared.model.is_some())
            .finish_non_exhaustive()
    }
}

impl K8sToolsBuilder {
    /// Registers only read-only tools (no scale, patch, apply, create, delete, rollout, label,
    /// annotate, exec). Default: false.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Lets Secret values (`data`, `stringData`) reach the model. Default: false (redacted).
    pub fn allow_secret_values(mut self, allow: bool) -> Self {
        self.shared.allow_secret_values = allow;
        self
    }

    /// Hosts `k8s_create_resource_from_url` may fetch from (`raw.githubusercontent.com`, or
    /// `*.example.com` for subdomains). Empty (the default) turns the tool off.
    pub fn url_allow_list<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.shared.url_allow_list = hosts
            .into_iter()
            .map(|h| h.into().trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        self
    }

    /// The HTTP client `k8s_create_resource_from_url` fetches with.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.shared.http = Some(client);
        self
    }

    /// The model `k8s_generate_resource` writes manifests with (normally the agent's own).
    ///
    /// Takes what `LlmAgentBuilder::provider` takes: a provider value, or the
    /// `Arc<dyn ModelProvider>` the agent already holds (kept as it is, not wrapped again), so
    /// one provider can serve both.
    pub fn model(mut self, provider: impl ModelProvider + 'static) -> Self {
        let mut slot = Some(provider);
        let shared = (&mut slot as &mut dyn std::any::Any)
            .downcast_mut::<Option<Arc<dyn ModelProvider>>>()
            .and_then(Option::take);
        self.shared.model = shared.or_else(|| slot.map(|p| Arc::new(p) as Arc<dyn ModelProvider>));
        self
    }

    /// Model name recorded on generation requests' spans.
    pub fn model_name(mut self, name: impl Into<String>) -> Self {
        self.shared.model_name = Some(name.into());
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

    /// Default number of objects `k8s_get_resources` returns per page. Default: 200.
    pub fn default_limit(mut self, limit: u64) -> Self {
        self.shared.default_limit = limit;
        self
    }

    /// Field manager for server-side apply and other writes. Default: `kagent`.
    pub fn field_manager(mut self, name: impl Into<String>) -> Self {
        self.shared.field_manager = name.into();
        self
    }

    /// The kubeconfig `k8s_get_cluster_configuration` describes (credentials are never shown).
    /// Default: read from `KUBECONFIG` / `~/.kube/config` when called.
    pub fn kubeconfig(mut self, config: Kubeconfig) -> Self {
        self.shared.kubeconfig = Some(config);
        self
    }

    /// A shared resource catalog (so several toolsets reuse one discovery cache).
    pub fn catalog(mut self, catalog: ResourceCatalog) -> Self {
        self.shared.catalog = catalog;
        self
    }

    /// Time limit of `k8s_execute_command`. Default: 30 s.
    pub fn exec_timeout(mut self, timeout: Duration) -> Self {
        self.shared.exec_timeout = timeout;
        self
    }

    /// Whether `k8s_diagnose` reads logs of failing containers as evidence. Default: true.
    pub fn diagnose_logs(mut self, enabled: bool) -> Self {
        self.shared.diagnose_logs = enabled;
        self
    }

    /// Builds the toolset.
    pub fn build(self) -> Result<Toolset, ToolsetError> {
        let s = Arc::new(self.shared);
        let mut set = Toolset::new();
        set.add(GetResources(s.clone()).into_tool()?)?;
        set.add(GetPodLogs(s.clone()).into_tool()?)?;
        set.add(GetEvents(s.clone()).into_tool()?)?;
        set.add(GetApiResources(s.clone()).into_tool()?)?;
        set.add(GetClusterConfiguration(s.clone()).into_tool()?)?;
        set.add(GetResourceYaml(s.clone()).into_tool()?)?;
        set.add(DescribeResource(s.clone()).into_tool()?)?;
        set.add(CheckServiceConnectivity(s.clone()).into_tool()?)?;
        set.add(GenerateResource(s.clone()).into_tool()?)?;
        set.add(Diagnose(s.clone()).into_tool()?)?;
        if !self.read_only {
            set.add(Scale(s.clone()).into_tool()?)?;
            set.add(PatchResource(s.clone()).into_tool()?)?;
            set.add(PatchStatus(s.clone()).into_tool()?)?;
            set.add(ApplyManifest(s.clone()).into_tool()?)?;
            set.add(CreateResource(s.clone()).into_tool()?)?;
            set.add(CreateResourceFromUrl(s.clone()).into_tool()?)?;
            set.add(Rollout(s.clone()).into_tool()?)?;
            set.add(LabelResource(s.clone()).into_tool()?)?;
            set.add(RemoveLabel(s.clone()).into_tool()?)?;
            set.add(AnnotateResource(s.clone()).into_tool()?)?;
            set.add(RemoveAnnotation(s.clone()).into_tool()?)?;
            set.add(DeleteResource(s.clone()).into_tool()?)?;
            set.add(ExecuteCommand(s).into_tool()?)?;
        }
        Ok(set)
    }
}

/// Declares a tool struct holding the shared settings and its [`kagent_core::TypedTool`] impl;
/// the body is `async fn exec(&self, args, ctx) -> Result<ToolOutput>` on the struct.
macro_rules! k8s_tool {
    ($(#[$meta:meta])* $ty:ident, $name:literal, $effect:expr, $args:ty, $desc:expr) => {
        $(#[$meta])*
        pub(crate) struct $ty(pub(crate) std::sync::Arc<crate::tools::Shared>);

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($name)
            }
        }

        #[kagent_core::async_trait]
        impl kagent_core::TypedTool for $ty {
            type Args = $args;
            fn name(&self) -> &str {
                $name
            }
            fn description(&self) -> &str {
                $desc
            }
            fn effect(&self) -> kagent_core::ToolEffect {
                $effect
            }
            async fn run(
                &self,
                args: $args,
                ctx: kagent_core::ToolContext,
            ) -> std::result::Result<kagent_core::ToolOutput, kagent_core::ToolError> {
                use tracing::Instrument as _;
                let span = tracing::info_span!(
                    "execute_tool",
                    "gen_ai.operation.name" = "execute_tool",
                    "gen_ai.tool.name" = $name,
                    "gen_ai.tool.call.id" = %ctx.call_id,
                    "k8s.dry_run" = ctx.dry_run,
                );
                let cancel = ctx.cancellation.clone();
                let work = self.exec(args, &ctx).instrument(span);
                tokio::select! {
                    res = work => res.map_err(|e| e.into_tool_error($name)),
                    () = cancel.cancelled() => Err(kagent_core::ToolError::Cancelled),
                }
            }
        }
    };
}
pub(crate) use k8s_tool;

/// Splits `pod/web` into (`pod`, `web`) when no separate name is given.
pub(crate) fn split_type_and_name(
    resource_type: &str,
    resource_name: Option<&str>,
) -> (String, Option<String>) {
    match (resource_name, resource_type.split_once('/')) {
        (None, Some((t, n))) if !n.is_empty() => (t.to_owned(), Some(n.to_owned())),
        (name, _) => (resource_type.to_owned(), name.map(str::to_owned)),
    }
}

/// Requires a name.
pub(crate) fn need_name(
    resource_type: &str,
    resource_name: &Option<String>,
) -> Result<(String, String)> {
    let (ty, name) = split_type_and_name(resource_type, crate::args::non_empty(resource_name));
    match name {
        Some(n) => Ok((ty, n)),
        None => Err(K8sError::invalid(
            "arguments",
            "resource_name is required (or pass resource_type as type/name)",
        )),
    }
}

/// `kind/name` in lowercase-kind form, as kubectl prints it.
pub(crate) fn obj_ref(info: &crate::catalog::ResourceInfo, name: &str) -> String {
    if info.resource.group.is_empty() {
        format!("{}/{name}", info.resource.kind.to_ascii_lowercase())
    } else {
        format!(
            "{}.{}/{name}",
            info.resource.kind.to_ascii_lowercase(),
            info.resource.group
        )
    }
}

/// `in namespace X` for namespaced kinds.
pub(crate) fn where_(info: &crate::catalog::ResourceInfo, ns: &str) -> String {
    if info.namespaced {
        format!(" in namespace {ns}")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_and_name_split() {
        assert_eq!(
            split_type_and_name("pod/web", None),
            ("pod".to_owned(), Some("web".to_owned()))
        );
        assert_eq!(
            split_type_and_name("pod", Some("web")),
            ("pod".to_owned(), Some("web".to_owned()))
        );
        assert_eq!(split_type_and_name("pods", None), ("pods".to_owned(), None));
        assert!(need_name("pods", &Some(" ".into())).is_err());
    }

    #[test]
    fn every_tool_name_is_unique_and_valid() {
        let mut names: Vec<&str> = K8sTools::tool_names().collect();
        for n in &names {
            kagent_core::validate_tool_name(n).unwrap();
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len());
        assert_eq!(TOOLS.len(), 23, "22 kagent tools + k8s_diagnose");
    }
}
