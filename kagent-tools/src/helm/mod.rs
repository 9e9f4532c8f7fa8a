//! Helm tools (kagent's `helm_*` names and arguments).
//!
//! Reads need no helm binary: releases are decoded from Helm's release Secrets through the
//! embedder's `kube::Client` ([`release`]). Writes (upgrade/install, uninstall, rollback, repo
//! add/update) run the helm CLI configured on the builder, with the kubeconfig and namespace
//! passed explicitly, output captured and bounded, a time limit, and arguments as a vector
//! (never a shell).

mod cli;
mod error;
mod read;
pub mod release;
mod store;
mod write;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kagent_core::{IntoTool, ToolEffect, Toolset, ToolsetError};
use kube::Client;

pub use error::HelmError;
pub use read::{
    GetRelease, GetReleaseArgs, History, HistoryArgs, ListReleases, ListReleasesArgs, Status,
    StatusArgs,
};
pub use write::{
    RepoAdd, RepoAddArgs, RepoUpdate, RepoUpdateArgs, Rollback, RollbackArgs, Uninstall,
    UninstallArgs, Upgrade, UpgradeArgs,
};

use cli::HelmCli;

/// Every Helm tool, with its effect, in registration order.
pub const TOOLS: &[(&str, ToolEffect)] = &[
    ("helm_list_releases", ToolEffect::ReadOnly),
    ("helm_get_release", ToolEffect::ReadOnly),
    ("helm_status", ToolEffect::ReadOnly),
    ("helm_history", ToolEffect::ReadOnly),
    ("helm_upgrade", ToolEffect::Mutating),
    ("helm_rollback", ToolEffect::Mutating),
    ("helm_repo_add", ToolEffect::Mutating),
    ("helm_repo_update", ToolEffect::Mutating),
    ("helm_uninstall", ToolEffect::Destructive),
];

/// Settings shared by the Helm tools.
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) default_namespace: String,
    pub(crate) max_output_chars: usize,
    pub(crate) max_releases: usize,
    pub(crate) allow_secret_values: bool,
    pub(crate) cli: Option<HelmCli>,
    pub(crate) values_dirs: Vec<PathBuf>,
}

impl Shared {
    pub(crate) fn ns<'a>(&'a self, given: &'a Option<String>) -> &'a str {
        crate::family::non_empty(given).unwrap_or(&self.default_namespace)
    }

    pub(crate) fn bound(&self, text: String, how: &str) -> String {
        kagent_k8s::render::bound_text(text, self.max_output_chars, how)
    }
}

/// Entry point: `HelmTools::builder(client)...build()` gives a [`Toolset`].
#[derive(Debug, Clone, Copy)]
pub struct HelmTools;

impl HelmTools {
    /// A builder for the Helm tools, reading releases through `client`.
    pub fn builder(client: Client) -> HelmToolsBuilder {
        HelmToolsBuilder {
            default_namespace: client.default_namespace().to_owned(),
            client,
            read_only: false,
            max_output_chars: 40_000,
            max_releases: 200,
            allow_secret_values: false,
            helm_binary: PathBuf::from("helm"),
            kubeconfig: None,
            kube_context: None,
            env: Vec::new(),
            timeout: Duration::from_secs(300),
            values_dirs: Vec::new(),
        }
    }

    /// The names of every tool, in registration order.
    pub fn tool_names() -> impl Iterator<Item = &'static str> {
        TOOLS.iter().map(|(n, _)| *n)
    }
}

/// Configures the Helm tools. See [`HelmTools::builder`].
pub struct HelmToolsBuilder {
    client: Client,
    default_namespace: String,
    read_only: bool,
    max_output_chars: usize,
    max_releases: usize,
    allow_secret_values: bool,
    helm_binary: PathBuf,
    kubeconfig: Option<PathBuf>,
    kube_context: Option<String>,
    env: Vec<(String, String)>,
    timeout: Duration,
    values_dirs: Vec<PathBuf>,
}

impl std::fmt::Debug for HelmToolsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelmToolsBuilder")
            .field("read_only", &self.read_only)
            .field("default_namespace", &self.default_namespace)
            .field("helm_binary", &self.helm_binary)
            .field("kubeconfig", &self.kubeconfig)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl HelmToolsBuilder {
    /// Registers only the read-only tools (list, get, status, history). Default: false.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Namespace used when a call names none. Default: the client's default namespace.
    pub fn default_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.default_namespace = namespace.into();
        self
    }

    /// Upper bound on the characters of one tool result; longer output is cut with a note of
    /// what was left out. Default: 40 000 (at least 1 000).
    pub fn max_output_chars(mut self, max: usize) -> Self {
        self.max_output_chars = max.max(1_000);
        self
    }

    /// Most releases `helm_list_releases` decodes and shows in one call. Default: 200.
    pub fn max_releases(mut self, max: usize) -> Self {
        self.max_releases = max.max(1);
        self
    }

    /// Lets Secret values in manifests and secret-looking values (keys containing `password`,
    /// `secret`, `token`, ...) reach the model. Default: false (redacted).
    pub fn allow_secret_values(mut self, allow: bool) -> Self {
        self.allow_secret_values = allow;
        self
    }

    /// The helm binary writes run: helm 3.13 or later (upgrade dry runs use
    /// `--dry-run=server`). Default: `helm` (looked up on `PATH`).
    pub fn helm_binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.helm_binary = path.into();
        self
    }

    /// The kubeconfig file helm writes use (passed as `--kubeconfig`; `KUBECONFIG` and helm's
    /// `HELM_KUBE*` variables are removed from helm's environment). Without it the write tools
    /// are not registered: they would otherwise act on whatever cluster helm's environment
    /// points at, which need not be the one `client` talks to.
    pub fn kubeconfig(mut self, path: impl Into<PathBuf>) -> Self {
        self.kubeconfig = Some(path.into());
        self
    }

    /// The kubeconfig context helm writes use (`--kube-context`). Default: the kubeconfig's
    /// current context.
    pub fn kube_context(mut self, context: impl Into<String>) -> Self {
        self.kube_context = Some(context.into());
        self
    }

    /// An environment variable for helm (for example `HELM_CACHE_HOME`, `HELM_CONFIG_HOME`,
    /// `HELM_DATA_HOME` to keep repositories and caches in a directory of the embedder's).
    pub fn helm_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Time limit of one helm command (also passed as helm's `--timeout` for `wait`); helm is
    /// killed when it is exceeded. Default: 300 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Directories `helm_upgrade` may read values files from (`values` given as a path). Inline
    /// YAML values need no directory. Default: none (paths are refused).
    pub fn values_dirs<I, P>(mut self, dirs: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        self.values_dirs = dirs.into_iter().map(Into::into).collect();
        self
    }

    /// Builds the toolset.
    pub fn build(self) -> Result<Toolset, ToolsetError> {
        let cli = self.kubeconfig.map(|kubeconfig| HelmCli {
            binary: self.helm_binary,
            kubeconfig,
            kube_context: self.kube_context,
            env: self.env,
            timeout: self.timeout,
            max_capture: 8 * 1024 * 1024,
        });
        let writes = !self.read_only && cli.is_some();
        let s = Arc::new(Shared {
            client: self.client,
            default_namespace: self.default_namespace,
            max_output_chars: self.max_output_chars,
            max_releases: self.max_releases,
            allow_secret_values: self.allow_secret_values,
            cli,
            values_dirs: self.values_dirs,
        });
        let mut set = Toolset::new();
        set.add(ListReleases(s.clone()).into_tool()?)?;
        set.add(GetRelease(s.clone()).into_tool()?)?;
        set.add(Status(s.clone()).into_tool()?)?;
        set.add(History(s.clone()).into_tool()?)?;
        if writes {
            set.add(Upgrade(s.clone()).into_tool()?)?;
            set.add(Rollback(s.clone()).into_tool()?)?;
            set.add(RepoAdd(s.clone()).into_tool()?)?;
            set.add(RepoUpdate(s.clone()).into_tool()?)?;
            set.add(Uninstall(s).into_tool()?)?;
        }
        Ok(set)
    }
}

/// Validates a release name as Helm does (a DNS-1123 subdomain of at most 53 characters).
pub(crate) fn check_release_name(name: &str) -> Result<(), HelmError> {
    if name.len() <= 53 && crate::family::is_dns_subdomain(name) {
        Ok(())
    } else {
        Err(HelmError::invalid(
            "name",
            format!(
                "{name:?} is not a valid release name (lowercase letters, digits, '-' and '.', \
                 starting and ending alphanumeric, at most 53 characters)"
            ),
        ))
    }
}

/// Validates a namespace (a DNS-1123 label).
pub(crate) fn check_namespace(ns: &str) -> Result<(), HelmError> {
    if crate::family::is_dns_label(ns) {
        Ok(())
    } else {
        Err(HelmError::invalid(
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
        let mut names: Vec<&str> = HelmTools::tool_names().collect();
        for n in &names {
            kagent_core::validate_tool_name(n).unwrap();
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len());
    }

    #[test]
    fn names_are_checked() {
        assert!(check_release_name("web").is_ok());
        assert!(check_release_name("web.v2").is_ok());
        assert!(check_release_name("Web").is_err());
        assert!(check_release_name("-rf").is_err());
        assert!(check_release_name(&"a".repeat(54)).is_err());
        assert!(check_release_name("a,owner!=helm").is_err());
        assert!(check_namespace("shop").is_ok());
        assert!(check_namespace("shop/x").is_err());
    }
}
