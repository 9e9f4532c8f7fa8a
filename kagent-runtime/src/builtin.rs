//! kagent-rs's own tools (kagent-k8s, kagent-tools) served in-process in place of kagent's tool
//! server, under the same names, decided by the same policy.

use std::path::PathBuf;
use std::sync::Arc;

use kagent_core::{ModelProvider, ToolEffect, Toolset, ToolsetError};
use kagent_k8s::K8sTools;
use kagent_tools::{
    AlertmanagerTools, ArgoTools, BuildError, GrafanaTools, HelmTools, IstioTools,
    NetworkPolicyTools, PrometheusTools,
};
use secrecy::SecretString;

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

/// An HTTP backend of a tool family: its base URL and an optional bearer token.
#[derive(Clone)]
struct HttpBackend {
    url: String,
    token: Option<SecretString>,
}

impl HttpBackend {
    fn new(url: String) -> Self {
        HttpBackend { url, token: None }
    }
}

impl std::fmt::Debug for HttpBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpBackend")
            .field("url", &redact_userinfo(&self.url))
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The URL without credentials (`https://user:pw@host` -> `https://host`), for `Debug`.
fn redact_userinfo(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            if !u.username().is_empty() || u.password().is_some() {
                let _ = u.set_username("");
                let _ = u.set_password(None);
            }
            u.to_string()
        }
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

/// The tool families [`BuiltinTools`] assembles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Kubernetes,
    Helm,
    Argo,
    Istio,
    NetworkPolicy,
    Prometheus,
    Alertmanager,
    Grafana,
}

/// Every published tool with its effect and family, in registration order.
fn published() -> impl Iterator<Item = (&'static str, ToolEffect, Family)> {
    let fam = |tools: &'static [(&'static str, ToolEffect)], family: Family| {
        tools.iter().map(move |(n, e)| (*n, *e, family))
    };
    fam(kagent_k8s::tools::TOOLS, Family::Kubernetes)
        .chain(fam(kagent_tools::helm::TOOLS, Family::Helm))
        .chain(fam(kagent_tools::argo::TOOLS, Family::Argo))
        .chain(fam(kagent_tools::istio::TOOLS, Family::Istio))
        .chain(fam(kagent_tools::netpol::TOOLS, Family::NetworkPolicy))
        .chain(fam(kagent_tools::prometheus::TOOLS, Family::Prometheus))
        .chain(fam(kagent_tools::alertmanager::TOOLS, Family::Alertmanager))
        .chain(fam(kagent_tools::grafana::TOOLS, Family::Grafana))
}

/// Why [`BuiltinTools::toolset`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuiltinToolsError {
    /// A Kubernetes-backed family could not be built or combined with the others (an invalid
    /// tool definition, two tools with one name).
    #[error("the {family} tools could not be built: {source}")]
    Toolset {
        /// The family (`Kubernetes`, `Helm`, `Istio`, ...).
        family: &'static str,
        /// The toolset's error.
        #[source]
        source: ToolsetError,
    },
    /// An HTTP-backed family could not be built: its URL is not an absolute `http(s)` URL, a
    /// header is invalid, or the HTTP client could not be made. Fix the configured URL or
    /// token.
    #[error("the {family} tools could not be built: {source}")]
    Http {
        /// The family (`Prometheus`, `Alertmanager`, `Grafana`).
        family: &'static str,
        /// kagent-tools' builder error.
        #[source]
        source: BuildError,
    },
}

fn toolset_err(family: &'static str) -> impl FnOnce(ToolsetError) -> BuiltinToolsError {
    move |source| BuiltinToolsError::Toolset { family, source }
}

fn http_err(family: &'static str) -> impl FnOnce(BuildError) -> BuiltinToolsError {
    move |source| BuiltinToolsError::Http { family, source }
}

/// How to build the in-process tools: the Kubernetes client they use, the HTTP backends
/// (Prometheus, Alertmanager, Grafana) and their options.
///
/// Always registered: kagent-k8s's Kubernetes tools and kagent-tools' Helm (reads; writes need
/// [`helm_kubeconfig`](Self::helm_kubeconfig)), Argo Rollouts, Istio and NetworkPolicy /
/// Cilium tools, all on the one kube `Client`. Registered only when configured: the
/// Prometheus tools ([`prometheus_url`](Self::prometheus_url)), Alertmanager
/// ([`alertmanager_url`](Self::alertmanager_url)) and Grafana
/// ([`grafana_url`](Self::grafana_url)). A name [`published_names`](Self::published_names)
/// lists that this configuration does not register is explained by
/// [`unavailable_reason`](Self::unavailable_reason).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let tools = kagent_runtime::BuiltinTools::new(kube::Client::try_default().await?)
///     .default_namespace("shop")
///     .prometheus_url("http://prometheus.monitoring:9090");
/// assert!(kagent_runtime::BuiltinTools::published_names().contains(&"prometheus_query"));
/// assert!(tools.toolset(None)?.contains("prometheus_query"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BuiltinTools {
    client: kube::Client,
    default_namespace: Option<String>,
    helm_kubeconfig: Option<PathBuf>,
    helm_binary: Option<PathBuf>,
    prometheus: Option<HttpBackend>,
    alertmanager: Option<HttpBackend>,
    grafana: Option<HttpBackend>,
    read_only: bool,
}

impl std::fmt::Debug for BuiltinTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinTools")
            .field("default_namespace", &self.default_namespace)
            .field("helm_kubeconfig", &self.helm_kubeconfig)
            .field("helm_binary", &self.helm_binary)
            .field("prometheus", &self.prometheus)
            .field("alertmanager", &self.alertmanager)
            .field("grafana", &self.grafana)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

impl BuiltinTools {
    /// The Kubernetes, Helm, Argo Rollouts, Istio and NetworkPolicy / Cilium tools on
    /// `client`; the HTTP-backed families are added by their setters.
    pub fn new(client: kube::Client) -> Self {
        BuiltinTools {
            client,
            default_namespace: None,
            helm_kubeconfig: None,
            helm_binary: None,
            prometheus: None,
            alertmanager: None,
            grafana: None,
            read_only: false,
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

    /// Registers the Prometheus tools (kagent's `prometheus_*_tool` names and the
    /// `prometheus_query` alias) for the Prometheus API at `url` (`http://prometheus:9090`,
    /// or a path prefix such as `https://thanos.example/prometheus`). The URL is checked when
    /// [`toolset`](Self::toolset) builds the tools.
    #[must_use]
    pub fn prometheus_url(mut self, url: impl Into<String>) -> Self {
        let token = self.prometheus.take().and_then(|b| b.token);
        self.prometheus = Some(HttpBackend {
            token,
            ..HttpBackend::new(url.into())
        });
        self
    }

    /// `Authorization: Bearer <token>` on every Prometheus request (has an effect only with
    /// [`prometheus_url`](Self::prometheus_url), in either order).
    #[must_use]
    pub fn prometheus_bearer_token(mut self, token: impl Into<SecretString>) -> Self {
        let backend = self
            .prometheus
            .get_or_insert_with(|| HttpBackend::new(String::new()));
        backend.token = Some(token.into());
        self
    }

    /// Registers the Alertmanager tools for the Alertmanager API at `url`
    /// (`http://alertmanager:9093`).
    #[must_use]
    pub fn alertmanager_url(mut self, url: impl Into<String>) -> Self {
        let token = self.alertmanager.take().and_then(|b| b.token);
        self.alertmanager = Some(HttpBackend {
            token,
            ..HttpBackend::new(url.into())
        });
        self
    }

    /// `Authorization: Bearer <token>` on every Alertmanager request.
    #[must_use]
    pub fn alertmanager_bearer_token(mut self, token: impl Into<SecretString>) -> Self {
        let backend = self
            .alertmanager
            .get_or_insert_with(|| HttpBackend::new(String::new()));
        backend.token = Some(token.into());
        self
    }

    /// Registers the Grafana tools (the names of grafana's MCP server) for the Grafana at
    /// `url` (`http://grafana:3000`).
    #[must_use]
    pub fn grafana_url(mut self, url: impl Into<String>) -> Self {
        let token = self.grafana.take().and_then(|b| b.token);
        self.grafana = Some(HttpBackend {
            token,
            ..HttpBackend::new(url.into())
        });
        self
    }

    /// The Grafana service-account token sent on every Grafana request.
    #[must_use]
    pub fn grafana_token(mut self, token: impl Into<SecretString>) -> Self {
        let backend = self
            .grafana
            .get_or_insert_with(|| HttpBackend::new(String::new()));
        backend.token = Some(token.into());
        self
    }

    /// Registers only tools whose effect is read-only (every family's builder is told, and
    /// anything else is dropped). Default: false.
    #[must_use]
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// The names of every tool the workspace's tool families publish (whether or not they are
    /// registered with this configuration): kagent-k8s's `k8s_*`; kagent-tools' `helm_*`,
    /// `argo_*`, `istio_*`, network policy and Cilium, `prometheus_*` (with the
    /// `prometheus_query` alias), `alertmanager_*` and Grafana tools.
    pub fn published_names() -> Vec<&'static str> {
        published().map(|(n, _, _)| n).collect()
    }

    /// Why `name`, a [published](Self::published_names) tool, is not registered with this
    /// configuration, in words that say what to configure (`prometheus_query needs a
    /// Prometheus URL ...`); `None` when it is registered or is no published tool.
    pub fn unavailable_reason(&self, name: &str) -> Option<String> {
        let (_, effect, family) = published().find(|(n, _, _)| *n == name)?;
        if self.read_only && !effect.is_read_only() {
            return Some(format!(
                "{name} is {}, and the in-process tools are read-only",
                effect.as_str()
            ));
        }
        let configured = |b: &Option<HttpBackend>| b.as_ref().is_some_and(|b| !b.url.is_empty());
        let missing = match family {
            Family::Prometheus if !configured(&self.prometheus) => {
                "a Prometheus URL (BuiltinTools::prometheus_url; kagent-run --prometheus-url or PROMETHEUS_URL)"
            }
            Family::Alertmanager if !configured(&self.alertmanager) => {
                "an Alertmanager URL (BuiltinTools::alertmanager_url; kagent-run --alertmanager-url or ALERTMANAGER_URL)"
            }
            Family::Grafana if !configured(&self.grafana) => {
                "a Grafana URL (BuiltinTools::grafana_url; kagent-run --grafana-url or GRAFANA_URL)"
            }
            Family::Helm if !effect.is_read_only() && self.helm_kubeconfig.is_none() => {
                "a kubeconfig file for the helm binary (BuiltinTools::helm_kubeconfig)"
            }
            _ => return None,
        };
        Some(format!("{name} needs {missing}"))
    }

    /// Builds the tools; `model` is the agent's own model, which `k8s_generate_resource` and
    /// `prometheus_promql_tool` write with.
    pub fn toolset(
        &self,
        model: Option<Arc<dyn ModelProvider>>,
    ) -> Result<Toolset, BuiltinToolsError> {
        let ro = self.read_only;
        let mut k8s = K8sTools::builder(self.client.clone()).read_only(ro);
        let mut helm = HelmTools::builder(self.client.clone()).read_only(ro);
        let mut argo = ArgoTools::builder(self.client.clone()).read_only(ro);
        let mut istio = IstioTools::builder(self.client.clone()).read_only(ro);
        let mut netpol = NetworkPolicyTools::builder(self.client.clone()).read_only(ro);
        if let Some(ns) = &self.default_namespace {
            k8s = k8s.default_namespace(ns);
            helm = helm.default_namespace(ns);
            argo = argo.default_namespace(ns);
            istio = istio.default_namespace(ns);
            netpol = netpol.default_namespace(ns);
        }
        if let Some(model) = &model {
            k8s = k8s.model(model.clone());
        }
        if let Some(path) = &self.helm_kubeconfig {
            helm = helm.kubeconfig(path);
        }
        if let Some(path) = &self.helm_binary {
            helm = helm.helm_binary(path);
        }
        let mut tools = k8s.build().map_err(toolset_err("Kubernetes"))?;
        let mut add =
            |family: &'static str, set: Toolset| tools.extend(set).map_err(toolset_err(family));
        add("Helm", helm.build().map_err(toolset_err("Helm"))?)?;
        add(
            "Argo Rollouts",
            argo.build().map_err(toolset_err("Argo Rollouts"))?,
        )?;
        add("Istio", istio.build().map_err(toolset_err("Istio"))?)?;
        add(
            "NetworkPolicy",
            netpol.build().map_err(toolset_err("NetworkPolicy"))?,
        )?;
        if let Some(b) = self.prometheus.as_ref().filter(|b| !b.url.is_empty()) {
            let mut p = PrometheusTools::builder(&b.url).read_only(ro);
            if let Some(token) = &b.token {
                p = p.bearer_token(token.clone());
            }
            if let Some(model) = &model {
                p = p.model(model.clone());
            }
            add("Prometheus", p.build().map_err(http_err("Prometheus"))?)?;
        }
        if let Some(b) = self.alertmanager.as_ref().filter(|b| !b.url.is_empty()) {
            let mut a = AlertmanagerTools::builder(&b.url).read_only(ro);
            if let Some(token) = &b.token {
                a = a.bearer_token(token.clone());
            }
            add("Alertmanager", a.build().map_err(http_err("Alertmanager"))?)?;
        }
        if let Some(b) = self.grafana.as_ref().filter(|b| !b.url.is_empty()) {
            let mut g = GrafanaTools::builder(&b.url).read_only(ro);
            if let Some(token) = &b.token {
                g = g.service_account_token(token.clone());
            }
            add("Grafana", g.build().map_err(http_err("Grafana"))?)?;
        }
        if ro {
            tools.retain(|spec| spec.effect.is_read_only());
        }
        Ok(tools)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::collections::BTreeSet;

    use kagent_fake_apiserver::FakeCluster;

    use super::*;

    fn tools(cluster: &FakeCluster) -> BuiltinTools {
        BuiltinTools::new(cluster.client().unwrap())
    }

    #[test]
    fn published_names_cover_every_family_once() {
        let names = BuiltinTools::published_names();
        let unique: BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "a name is published twice");
        for name in [
            "k8s_get_resources",
            "helm_list_releases",
            "argo_rollouts_list",
            "istio_analyze_cluster_configuration",
            "network_policy_analyze",
            "prometheus_query_tool",
            "prometheus_query",
            "alertmanager_list_alerts",
            "search_dashboards",
        ] {
            assert!(names.contains(&name), "{name} not published");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn http_families_are_registered_only_when_configured() {
        let cluster = FakeCluster::start().unwrap();
        let bare = tools(&cluster).toolset(None).unwrap();
        assert!(bare.contains("k8s_get_resources"));
        assert!(bare.contains("istio_analyze_cluster_configuration"));
        assert!(bare.contains("network_policy_analyze"));
        assert!(bare.contains("argo_rollouts_list"));
        assert!(bare.contains("helm_list_releases"));
        for absent in [
            "prometheus_query",
            "alertmanager_list_alerts",
            "search_dashboards",
            "helm_upgrade",
        ] {
            assert!(!bare.contains(absent), "{absent} registered unconfigured");
        }

        let full = tools(&cluster)
            .prometheus_bearer_token("tok")
            .prometheus_url("http://127.0.0.1:9090")
            .alertmanager_url("http://127.0.0.1:9093")
            .grafana_url("http://127.0.0.1:3000")
            .grafana_token("glsa_x")
            .helm_kubeconfig("/nonexistent/kubeconfig")
            .toolset(None)
            .unwrap();
        for name in BuiltinTools::published_names() {
            assert!(full.contains(name), "{name} not registered when configured");
        }
        assert_eq!(full.len(), BuiltinTools::published_names().len());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn read_only_registers_only_read_only_tools() {
        let cluster = FakeCluster::start().unwrap();
        let set = tools(&cluster)
            .prometheus_url("http://127.0.0.1:9090")
            .alertmanager_url("http://127.0.0.1:9093")
            .helm_kubeconfig("/nonexistent/kubeconfig")
            .read_only(true)
            .toolset(None)
            .unwrap();
        assert!(set.contains("k8s_get_resources"));
        assert!(set.contains("prometheus_query"));
        assert!(set.contains("alertmanager_list_silences"));
        for spec in set.specs() {
            assert!(
                spec.effect.is_read_only(),
                "{} is {:?}",
                spec.name,
                spec.effect
            );
        }
        for name in [
            "k8s_delete_resource",
            "helm_upgrade",
            "alertmanager_create_silence",
        ] {
            assert!(!set.contains(name), "{name} registered read-only");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unavailable_reasons_name_what_to_configure() {
        let cluster = FakeCluster::start().unwrap();
        let t = tools(&cluster);
        let why = t.unavailable_reason("prometheus_query").unwrap();
        assert!(
            why.contains("prometheus_query needs a Prometheus URL"),
            "{why}"
        );
        assert!(why.contains("--prometheus-url"), "{why}");
        let why = t.unavailable_reason("alertmanager_create_silence").unwrap();
        assert!(why.contains("Alertmanager URL"), "{why}");
        let why = t.unavailable_reason("get_dashboard_by_uid").unwrap();
        assert!(why.contains("Grafana URL"), "{why}");
        let why = t.unavailable_reason("helm_upgrade").unwrap();
        assert!(why.contains("kubeconfig"), "{why}");
        assert_eq!(t.unavailable_reason("helm_list_releases"), None);
        assert_eq!(t.unavailable_reason("no_such_tool"), None);
        // A token alone does not configure Prometheus.
        let t = tools(&cluster).prometheus_bearer_token("x");
        assert!(t.unavailable_reason("prometheus_query").is_some());
        assert!(!t.toolset(None).unwrap().contains("prometheus_query"));
        let ro = tools(&cluster)
            .prometheus_url("http://p:9090")
            .read_only(true);
        let why = ro.unavailable_reason("k8s_delete_resource").unwrap();
        assert!(why.contains("read-only"), "{why}");
        assert_eq!(ro.unavailable_reason("prometheus_query"), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bad_url_is_a_typed_error_naming_the_family() {
        let cluster = FakeCluster::start().unwrap();
        let err = tools(&cluster)
            .prometheus_url("prometheus:9090")
            .toolset(None)
            .unwrap_err();
        match &err {
            BuiltinToolsError::Http { family, source } => {
                assert_eq!(*family, "Prometheus");
                assert!(
                    matches!(source, BuildError::InvalidUrl { .. }),
                    "{source:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("Prometheus"), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn debug_shows_no_credentials() {
        let cluster = FakeCluster::start().unwrap();
        let t = tools(&cluster)
            .prometheus_url("https://user:canary-pw@prom.example:9090/")
            .prometheus_bearer_token("canary-token")
            .grafana_url("http://grafana:3000")
            .grafana_token("canary-glsa");
        let shown = format!("{t:?}");
        assert!(!shown.contains("canary"), "{shown}");
        assert!(shown.contains("prom.example"), "{shown}");
    }
}
