//! kagent-rs's own tools (kagent-k8s, kagent-tools) served in-process in place of kagent's tool
//! server, under the same names, decided by the same policy.

use std::path::PathBuf;
use std::sync::Arc;

use kagent_core::{ModelProvider, Toolset, ToolsetError};
use kagent_k8s::K8sTools;
use kagent_tools::{ArgoTools, HelmTools};

/// The name kagent gives its own tool server's RemoteMCPServer (`kagent-tool-server`, in
/// kagent's namespace).
pub const KAGENT_TOOL_SERVER: &str = "kagent-tool-server";

/// Which MCP servers the loader serves in-process from [`BuiltinTools`] instead of connecting
/// to them. Everything is off by default: an agent reaches its servers over the network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InProcess {
    /// RemoteMCPServers named `kagent-tool-server` (kagent's own tool server).
    pub kagent_tool_server: bool,
    /// RemoteMCPServers whose `url` is one of these (this workspace's tool server, wherever it
    /// is deployed), compared without a trailing `/`.
    pub tool_server_urls: Vec<String>,
    /// RemoteMCPServers that are not declared at all, when every tool the agent lists from
    /// them exists in-process (`kagent-run --builtin-tools`).
    pub missing_servers: bool,
}

impl InProcess {
    /// Serves nothing in-process.
    pub fn none() -> Self {
        Self::default()
    }

    /// Serves `kagent-tool-server` and undeclared servers in-process (what
    /// `kagent-run --builtin-tools` does).
    pub fn builtin() -> Self {
        InProcess {
            kagent_tool_server: true,
            tool_server_urls: Vec::new(),
            missing_servers: true,
        }
    }

    /// Also serves the RemoteMCPServers pointing at `url` in-process.
    #[must_use]
    pub fn with_tool_server_url(mut self, url: impl Into<String>) -> Self {
        self.tool_server_urls.push(url.into());
        self
    }

    pub(crate) fn serves_declared(&self, name: &str, url: &str) -> bool {
        (self.kagent_tool_server && name == KAGENT_TOOL_SERVER)
            || self
                .tool_server_urls
                .iter()
                .any(|u| u.trim_end_matches('/') == url.trim_end_matches('/'))
    }
}

/// How to build the in-process tools: the Kubernetes client they use and their options.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let tools = kagent_runtime::BuiltinTools::new(kube::Client::try_default().await?)
///     .default_namespace("shop");
/// assert!(kagent_runtime::BuiltinTools::published_names().contains(&"k8s_get_pod_logs"));
/// # let _ = tools; Ok(()) }
/// ```
#[derive(Clone)]
pub struct BuiltinTools {
    client: kube::Client,
    default_namespace: Option<String>,
    helm_kubeconfig: Option<PathBuf>,
    helm_binary: Option<PathBuf>,
}

impl std::fmt::Debug for BuiltinTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinTools")
            .field("default_namespace", &self.default_namespace)
            .field("helm_kubeconfig", &self.helm_kubeconfig)
            .field("helm_binary", &self.helm_binary)
            .finish_non_exhaustive()
    }
}

impl BuiltinTools {
    /// The Kubernetes, Helm and Argo Rollouts tools on `client`.
    pub fn new(client: kube::Client) -> Self {
        BuiltinTools {
            client,
            default_namespace: None,
            helm_kubeconfig: None,
            helm_binary: None,
        }
    }

    /// The namespace used when a call names none (default: the client's).
    #[must_use]
    pub fn default_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.default_namespace = Some(namespace.into());
        self
    }

    /// The kubeconfig Helm's writes use; without it the Helm write tools are not registered
    /// (see kagent-tools).
    #[must_use]
    pub fn helm_kubeconfig(mut self, path: impl Into<PathBuf>) -> Self {
        self.helm_kubeconfig = Some(path.into());
        self
    }

    /// The helm binary (default `helm` on `PATH`).
    #[must_use]
    pub fn helm_binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.helm_binary = Some(path.into());
        self
    }

    /// The names of every tool the workspace's tool families publish (whether or not they are
    /// registered with this configuration): kagent-k8s's `k8s_*`, kagent-tools' `helm_*` and
    /// `argo_*`.
    pub fn published_names() -> Vec<&'static str> {
        K8sTools::tool_names()
            .chain(HelmTools::tool_names())
            .chain(ArgoTools::tool_names())
            .collect()
    }

    /// Builds the tools; `model` is the agent's own model, which `k8s_generate_resource` writes
    /// with.
    pub fn toolset(&self, model: Option<Arc<dyn ModelProvider>>) -> Result<Toolset, ToolsetError> {
        let mut k8s = K8sTools::builder(self.client.clone());
        let mut helm = HelmTools::builder(self.client.clone());
        let mut argo = ArgoTools::builder(self.client.clone());
        if let Some(ns) = &self.default_namespace {
            k8s = k8s.default_namespace(ns);
            helm = helm.default_namespace(ns);
            argo = argo.default_namespace(ns);
        }
        if let Some(model) = model {
            k8s = k8s.model(model);
        }
        if let Some(path) = &self.helm_kubeconfig {
            helm = helm.kubeconfig(path);
        }
        if let Some(path) = &self.helm_binary {
            helm = helm.helm_binary(path);
        }
        let mut tools = k8s.build()?;
        tools.extend(helm.build()?)?;
        tools.extend(argo.build()?)?;
        Ok(tools)
    }
}
