#![doc = include_str!("../README.md")]

mod exec;
mod fixtures;
mod patch;
mod podport;
#[cfg(test)]
mod properties;
mod resources;
mod selector;
mod server;
mod store;
mod table;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

pub use kagent_http_limits::ServerLimits;

pub use exec::{ExecRequest, ExecResult};
pub use fixtures::{SCENARIO_NOW, SCENARIO_YAML};
pub use podport::{PodPortRequest, PodPortResponse, PodPortVia};
pub use store::RecordedRequest;

use server::Shared;
use store::{State, WriteOpts};

/// Errors of the fake API server's own API (not the HTTP errors it serves).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FakeError {
    /// Binding the listening socket or starting the server thread failed.
    #[error("failed to start the fake API server: {what}")]
    Start {
        /// What was being done.
        what: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A fixture document is not valid YAML.
    #[error("fixture document {index} is not valid YAML")]
    Yaml {
        /// Zero-based index of the document in the stream.
        index: usize,
        /// The parser error.
        #[source]
        source: serde_yaml::Error,
    },
    /// A fixture document is YAML but not a usable object.
    #[error("fixture document {index}: {message}")]
    Fixture {
        /// Zero-based index of the document in the stream.
        index: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The fake API server refused an object (the same `Status` an HTTP client would get).
    #[error("the fake API server refused {object}: {reason} ({code}): {message}")]
    Rejected {
        /// `Kind namespace/name` of the object.
        object: String,
        /// HTTP status code.
        code: u16,
        /// `Status.reason`, e.g. `Invalid`.
        reason: String,
        /// `Status.message`.
        message: String,
    },
    /// Building a `kube::Client` for the fake failed.
    #[error("failed to build a kube client for the fake API server")]
    Client {
        /// The kube error.
        #[source]
        source: kube::Error,
    },
    /// Writing a kubeconfig file failed.
    #[error("failed to write the kubeconfig to {path}")]
    Kubeconfig {
        /// The destination path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Options for [`FakeCluster`]; start with [`FakeCluster::builder`].
#[derive(Debug, Clone)]
pub struct FakeClusterBuilder {
    bookmark_interval: Duration,
    history_limit: usize,
    namespaces: Vec<String>,
    limits: ServerLimits,
}

impl Default for FakeClusterBuilder {
    fn default() -> Self {
        Self {
            bookmark_interval: Duration::from_secs(1),
            history_limit: 10_000,
            namespaces: ["default", "kube-system", "kube-public", "kube-node-lease"]
                .into_iter()
                .map(str::to_string)
                .collect(),
            limits: FakeClusterBuilder::default_limits(),
        }
    }
}

impl FakeClusterBuilder {
    /// How often watches that asked for bookmarks (`allowWatchBookmarks=true`) get one
    /// (default 1 s; a real API server sends them about once a minute).
    #[must_use]
    pub fn bookmark_interval(mut self, every: Duration) -> Self {
        self.bookmark_interval = every.max(Duration::from_millis(10));
        self
    }

    /// How many changes are kept for watches that resume from a resourceVersion (default
    /// 10,000). Older resourceVersions get `410 Gone`, as after etcd compaction.
    #[must_use]
    pub fn history_limit(mut self, changes: usize) -> Self {
        self.history_limit = changes.max(1);
        self
    }

    /// Namespaces that exist at start (default: `default`, `kube-system`, `kube-public`,
    /// `kube-node-lease`).
    #[must_use]
    pub fn namespaces<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.namespaces = names.into_iter().map(Into::into).collect();
        self
    }

    /// Bounds on what clients can make the server hold (connections, requests in flight per
    /// client, body and header sizes, read and write timeouts); see [`ServerLimits`]. The
    /// default is `ServerLimits::default()` with a 3 MiB body limit (kube-apiserver's); limit
    /// answers are Kubernetes `Status` objects (`429 TooManyRequests`, `413 RequestEntityTooLarge`, ...).
    #[must_use]
    pub fn limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    fn default_limits() -> ServerLimits {
        ServerLimits::default().with_max_request_body_bytes(3 * 1024 * 1024)
    }

    /// Binds `127.0.0.1:0` and starts serving on a dedicated thread.
    pub fn start(self) -> Result<FakeCluster, FakeError> {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").map_err(|source| FakeError::Start {
                what: "binding 127.0.0.1:0",
                source,
            })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| FakeError::Start {
                what: "making the listener non-blocking",
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| FakeError::Start {
            what: "reading the bound address",
            source,
        })?;
        let mut state = State::new(self.history_limit);
        if let Some(ri) = state.find("", "v1", "namespaces") {
            for ns in &self.namespaces {
                let obj = json!({"metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}});
                state
                    .create(&ri, None, obj, &WriteOpts::default())
                    .map_err(|e| FakeError::Rejected {
                        object: format!("Namespace {ns}"),
                        code: e.code,
                        reason: e.reason.to_string(),
                        message: e.message,
                    })?;
            }
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            bookmark_interval: self.bookmark_interval,
            addr: addr.to_string(),
            exec_handler: Mutex::new(None),
            pod_port_handler: Mutex::new(None),
            limits: self.limits.clone(),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kagent-fake-apiserver")
            .enable_all()
            .build()
            .map_err(|source| FakeError::Start {
                what: "building the server runtime",
                source,
            })?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let router = server::router(shared.clone());
        let limits = self.limits;
        let thread = std::thread::Builder::new()
            .name(format!("kagent-fake-apiserver-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!(error = %e, "fake API server could not adopt its listener");
                            return;
                        }
                    };
                    tokio::select! {
                        r = kagent_http_limits::serve(listener, router)
                            .limits(limits)
                            .rejection_format(Arc::new(server::KubeStatusRejections)) => {
                            if let Err(e) = r {
                                tracing::error!(error = %e, "fake API server stopped");
                            }
                        }
                        _ = stop_rx => {}
                    }
                });
                runtime.shutdown_background();
            })
            .map_err(|source| FakeError::Start {
                what: "spawning the server thread",
                source,
            })?;
        tracing::debug!(%addr, "fake API server started");
        Ok(FakeCluster {
            addr,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

/// A running fake API server. Dropping it stops the server (open watches end).
pub struct FakeCluster {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for FakeCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCluster")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeCluster {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl FakeCluster {
    /// Starts an empty cluster (only the default namespaces) with default options.
    pub fn start() -> Result<Self, FakeError> {
        FakeClusterBuilder::default().start()
    }

    /// Options for a cluster.
    pub fn builder() -> FakeClusterBuilder {
        FakeClusterBuilder::default()
    }

    /// Starts a cluster and loads the broken-workloads scenario ([`FakeCluster::load_scenario`]).
    pub fn start_with_scenario() -> Result<Self, FakeError> {
        let c = Self::start()?;
        c.load_scenario()?;
        Ok(c)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A `kube::Config` pointing at the fake (namespace `default`, no credentials).
    pub fn kube_config(&self) -> kube::Config {
        let mut config = kube::Config::new(self.url().parse().unwrap_or_default());
        config.default_namespace = "default".into();
        config.read_timeout = Some(Duration::from_secs(60));
        config
    }

    /// A `kube::Client` for the fake. Call it inside a Tokio runtime.
    pub fn client(&self) -> Result<kube::Client, FakeError> {
        kube::Client::try_from(self.kube_config()).map_err(|source| FakeError::Client { source })
    }

    /// The kubeconfig (cluster, user and context all named `fake`) as a typed value.
    pub fn kubeconfig(&self) -> kube::config::Kubeconfig {
        let yaml = self.kubeconfig_yaml();
        kube::config::Kubeconfig::from_yaml(&yaml).unwrap_or_default()
    }

    /// The kubeconfig as YAML, for kubectl (`KUBECONFIG=<file>` or `--kubeconfig`).
    pub fn kubeconfig_yaml(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {url}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: default\ncurrent-context: fake\nusers:\n- name: fake\n  user: {{}}\npreferences: {{}}\n",
            url = self.url()
        )
    }

    /// Writes [`FakeCluster::kubeconfig_yaml`] to `path`.
    pub fn write_kubeconfig(&self, path: impl AsRef<Path>) -> Result<(), FakeError> {
        let path = path.as_ref();
        std::fs::write(path, self.kubeconfig_yaml()).map_err(|source| FakeError::Kubeconfig {
            path: path.display().to_string(),
            source,
        })
    }

    /// Loads a multi-document YAML stream of objects exactly as written (status, uid and
    /// timestamps kept; existing objects replaced). Namespaces and CRDs are created first, so
    /// documents can come in any order. Documents of kind `PodLogs`
    /// (`apiVersion: testing.kagent.dev/v1`) attach logs instead — see the crate README.
    /// Returns the number of documents applied.
    pub fn load_yaml(&self, yaml: &str) -> Result<usize, FakeError> {
        fixtures::load(&self.shared, yaml, None)
    }

    /// Like [`FakeCluster::load_yaml`], but every `YYYY-MM-DDTHH:MM:SSZ` timestamp is moved
    /// so that `now` (in the fixture's own timeline) becomes the current time: a pod created
    /// at `now - 2h` in the file is 2 hours old whenever the fixture is loaded.
    pub fn load_yaml_relative(&self, yaml: &str, now: &str) -> Result<usize, FakeError> {
        fixtures::load(&self.shared, yaml, Some(now))
    }

    /// Loads the built-in broken-workloads scenario ([`SCENARIO_YAML`], timestamps relative
    /// to [`SCENARIO_NOW`]): namespace `shop` with a crash-looping pod, an image pull failure,
    /// an OOM-killed container, an unschedulable pod, a Service selecting nothing, a pending
    /// PVC, a failing readiness probe, a Deployment stuck in rollout and an HPA at its
    /// maximum, around healthy workloads, with Warning events and container logs.
    pub fn load_scenario(&self) -> Result<usize, FakeError> {
        self.load_yaml_relative(SCENARIO_YAML, SCENARIO_NOW)
    }

    /// Creates or replaces one object as given (status kept).
    pub fn apply_object(&self, obj: Value) -> Result<Value, FakeError> {
        fixtures::upsert(&self.shared, obj, 0)
    }

    /// Sets the current log of a pod's container.
    pub fn set_pod_log(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        text: impl Into<String>,
    ) {
        self.shared
            .lock()
            .set_log(namespace, pod, container, false, text.into());
    }

    /// Sets the log of a container's previous (terminated) instance (`?previous=true`).
    pub fn set_previous_pod_log(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        text: impl Into<String>,
    ) {
        self.shared
            .lock()
            .set_log(namespace, pod, container, true, text.into());
    }

    /// Answers `pods/exec` with `handler` instead of the built-in one. The built-in handler
    /// knows `echo`, `hostname`, `env`/`printenv`, `true`, `false`, `cat /etc/hostname` and
    /// `sh -c 'echo ...'`; anything else fails with exit code 127 like a missing binary.
    pub fn set_exec_handler<F>(&self, handler: F)
    where
        F: Fn(&ExecRequest) -> ExecResult + Send + Sync + 'static,
    {
        *self
            .shared
            .exec_handler
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(handler));
    }

    /// Answers HTTP requests to pods' ports with `handler`, whether they come through the API
    /// server's pod proxy (`/api/v1/namespaces/{ns}/pods/{[scheme:]name[:port]}/proxy/{path}`)
    /// or a port-forward (`pods/{name}/portforward` over WebSocket, one HTTP/1.1 request per
    /// forwarded port). It sees the pod, its IP, the port (named container ports resolved),
    /// method, path, query, body and [`PodPortVia`]; returning `None` means nothing listens on
    /// that port: the pod proxy answers `503 ServiceUnavailable` "connection refused" like a
    /// real API server, a port-forward writes kubelet's "connection refused" on the port's
    /// error channel. Without a handler every port refuses connections. The pod must exist
    /// (404 otherwise); the proxy needs its `status.podIP` (503 otherwise), a port-forward a
    /// `Running` pod (400 otherwise).
    pub fn set_pod_port_handler<F>(&self, handler: F)
    where
        F: Fn(&PodPortRequest) -> Option<PodPortResponse> + Send + Sync + 'static,
    {
        *self
            .shared
            .pod_port_handler
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(handler));
    }

    /// Reads an object directly from the store (`api_version` like `apps/v1`; `namespace`
    /// empty for cluster-scoped kinds).
    pub fn get_object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        let st = self.shared.lock();
        let ri = st.find_kind(api_version, kind)?;
        st.get(&ri, namespace, name).ok()
    }

    /// All stored objects of a kind, in every namespace.
    pub fn objects(&self, api_version: &str, kind: &str) -> Vec<Value> {
        let st = self.shared.lock();
        let Some(ri) = st.find_kind(api_version, kind) else {
            return Vec::new();
        };
        st.objects
            .get(&ri.storage_key())
            .map(|m| m.values().map(|v| State::present(&ri, v)).collect())
            .unwrap_or_default()
    }

    /// The current (latest) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.lock().rv
    }

    /// The requests served so far, in order (the most recent 50,000–100,000 once there
    /// have been more).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn handles_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::FakeCluster>();
        check::<super::FakeError>();
    }
}
