//! A real Prometheus and Alertmanager for tests and benches (feature `testing`).
//!
//! [`PromStack::start`] starts Debian's `prometheus` and `prometheus-alertmanager` (installed by
//! `scripts/setup/prometheus.sh` into `$KAGENT_TEST_COMPONENTS/bin`, default
//! `<workspace>/.test-components/bin`) on free loopback ports, with configurations written into
//! a temporary directory:
//!
//! - Prometheus scrapes, every second, a text-format metrics endpoint served in process
//!   ([`MetricsServer`]): `kagent_test_cpu_usage_seconds_total` (a counter per pod), `kagent_test_memory_working_set_bytes` (a gauge per pod) and
//!   `kagent_test_queue_depth{queue="orders"}` (150), plus a job whose target is down;
//! - a rule group evaluated every second: the alert `KagentTestQueueBacklog`
//!   (`kagent_test_queue_depth > 100`, severity critical), which reaches the Alertmanager, and a
//!   recording rule;
//! - the Alertmanager groups by `alertname` and sends nowhere (a receiver without configs).
//!
//! - with [`StackOptions::prometheus_tls`], Prometheus serves HTTPS (its `--web.config.file`),
//!   optionally requiring a client certificate.
//!
//! Dropping the stack kills both servers and stops the metrics endpoint. A missing binary is an
//! error naming the setup script.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Errors starting the test stack.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// A component is not installed.
    #[error(
        "{binary} is not installed (looked for {path}): run `bash scripts/setup/prometheus.sh`"
    )]
    NotInstalled {
        /// The binary.
        binary: &'static str,
        /// Where it was looked for.
        path: String,
    },
    /// A server did not become ready.
    #[error("{what} did not become ready at {url} within {secs} s; its log ends with:\n{log}")]
    NotReady {
        /// Which server.
        what: &'static str,
        /// Its URL.
        url: String,
        /// How long we waited.
        secs: u64,
        /// The end of its log.
        log: String,
    },
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// `promtool` failed to create blocks.
    #[error("promtool tsdb create-blocks-from openmetrics failed: {0}")]
    Backfill(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let what = what.into();
    move |source| HarnessError::Io { what, source }
}

/// The directory the setup scripts install into.
pub fn components_dir() -> PathBuf {
    match std::env::var_os("KAGENT_TEST_COMPONENTS") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or(Path::new("."))
            .join(".test-components"),
    }
}

/// The path of an installed component binary, or [`HarnessError::NotInstalled`].
pub fn component(binary: &'static str) -> Result<PathBuf, HarnessError> {
    let path = components_dir().join("bin").join(binary);
    if path.exists() {
        Ok(path)
    } else {
        Err(HarnessError::NotInstalled {
            binary,
            path: path.display().to_string(),
        })
    }
}

/// A free loopback port (bound, then released).
pub fn free_port() -> Result<u16, HarnessError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(io("binding a free port"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(io("reading the bound port"))
}

/// `GET path` over plain HTTP/1.0; the status code, or `None` when nothing answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut buf = [0u8; 32];
    let n = s.read(&mut buf).ok()?;
    let head = std::str::from_utf8(buf.get(..n)?).ok()?;
    head.split_whitespace().nth(1)?.parse().ok()
}

/// The text-format exposition the test serves at `elapsed` seconds after start.
pub fn exposition(pods: usize, elapsed: f64) -> String {
    let mut out = String::with_capacity(pods * 160 + 512);
    out.push_str("# HELP kagent_test_cpu_usage_seconds_total CPU time used by the pod.\n");
    out.push_str("# TYPE kagent_test_cpu_usage_seconds_total counter\n");
    for i in 0..pods {
        let rate = 0.01 * ((i % 50) + 1) as f64;
        out.push_str(&format!(
            "kagent_test_cpu_usage_seconds_total{{namespace=\"shop\",pod=\"web-{i}\",container=\"app\"}} {:.3}\n",
            100.0 + rate * elapsed
        ));
    }
    out.push_str("# HELP kagent_test_memory_working_set_bytes Working set of the pod.\n");
    out.push_str("# TYPE kagent_test_memory_working_set_bytes gauge\n");
    for i in 0..pods {
        let base = 100.0e6 + (i as f64) * 1.0e6;
        out.push_str(&format!(
            "kagent_test_memory_working_set_bytes{{namespace=\"shop\",pod=\"web-{i}\",container=\"app\"}} {:.0}\n",
            base + 5.0e5 * (elapsed / 7.0 + i as f64).sin()
        ));
    }
    out.push_str("# HELP kagent_test_queue_depth Items waiting in the queue.\n");
    out.push_str("# TYPE kagent_test_queue_depth gauge\n");
    out.push_str("kagent_test_queue_depth{queue=\"orders\"} 150\n");
    out.push_str("kagent_test_queue_depth{queue=\"refunds\"} 3\n");
    out
}

/// Serves [`exposition`] at `http://127.0.0.1:<port>/metrics` on its own thread and runtime.
#[derive(Debug)]
pub struct MetricsServer {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MetricsServer {
    /// Starts serving `pods` pods' metrics.
    pub fn start(pods: usize) -> Result<Self, HarnessError> {
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(io("binding the metrics server"))?;
        listener
            .set_nonblocking(true)
            .map_err(io("configuring the metrics listener"))?;
        let port = listener
            .local_addr()
            .map_err(io("reading the metrics port"))?
            .port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let started = Instant::now();
        let thread = std::thread::Builder::new()
            .name("kagent-test-metrics".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let app = axum::Router::new().route(
                        "/metrics",
                        axum::routing::get(move || async move {
                            (
                                [("content-type", "text/plain; version=0.0.4")],
                                exposition(pods, started.elapsed().as_secs_f64()),
                            )
                        }),
                    );
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = stopped.await;
                        })
                        .await;
                });
            })
            .map_err(io("spawning the metrics thread"))?;
        Ok(MetricsServer {
            port,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// TLS for Prometheus's web server (written into its `--web.config.file`), PEM.
#[derive(Clone)]
pub struct ServerTls {
    /// The server certificate (with any intermediates).
    pub cert_pem: String,
    /// Its private key.
    pub key_pem: String,
    /// When set, clients must present a certificate signed by one of these CAs
    /// (`client_auth_type: RequireAndVerifyClientCert`).
    pub client_ca_pem: Option<String>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("cert_pem_len", &self.cert_pem.len())
            .field("key_pem", &"<redacted>")
            .field("client_ca", &self.client_ca_pem.is_some())
            .finish()
    }
}

/// What to start.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Pods whose metrics the endpoint serves (two series each). Default 250 (500 series).
    pub pods: usize,
    /// Whether to start an Alertmanager and send Prometheus's alerts to it. Default true.
    pub alertmanager: bool,
    /// OpenMetrics text to backfill into Prometheus's storage before it starts (with
    /// `promtool tsdb create-blocks-from openmetrics`), for realistic history.
    pub backfill_openmetrics: Option<String>,
    /// Serve Prometheus over HTTPS with this certificate. Readiness is then only "the port
    /// answers" (the plain-HTTP probe cannot ask `/-/ready`): callers retry until their first
    /// query succeeds.
    pub prometheus_tls: Option<ServerTls>,
}

impl Default for StackOptions {
    fn default() -> Self {
        StackOptions {
            pods: 250,
            alertmanager: true,
            backfill_openmetrics: None,
            prometheus_tls: None,
        }
    }
}

/// A running Prometheus (and Alertmanager) with the metrics endpoint it scrapes.
#[derive(Debug)]
pub struct PromStack {
    prometheus: Child,
    alertmanager: Option<Child>,
    prometheus_port: u16,
    prometheus_https: bool,
    alertmanager_port: Option<u16>,
    metrics: MetricsServer,
    dir: tempfile::TempDir,
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines
        .get(lines.len().saturating_sub(15)..)
        .unwrap_or(&[])
        .join("\n")
}

/// Waits until `/-/ready` answers 200, or, for a TLS listener (`any_answer`), until the port
/// answers at all (Go's TLS server answers plain HTTP with 400).
fn wait_ready(
    what: &'static str,
    port: u16,
    any_answer: bool,
    child: &mut Child,
    log: &Path,
) -> Result<(), HarnessError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match http_status(port, "/-/ready") {
            Some(200) => return Ok(()),
            Some(_) if any_answer => return Ok(()),
            _ => {}
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(HarnessError::NotReady {
                what,
                url: format!("http://127.0.0.1:{port}"),
                secs: 0,
                log: format!("(exited: {status})\n{}", log_tail(log)),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(HarnessError::NotReady {
        what,
        url: format!("http://127.0.0.1:{port}"),
        secs: 30,
        log: log_tail(log),
    })
}

fn spawn(bin: &Path, args: &[String], log: &Path) -> Result<Child, HarnessError> {
    let out = std::fs::File::create(log).map_err(io(format!("creating {}", log.display())))?;
    let err = out.try_clone().map_err(io("duplicating the log handle"))?;
    Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(io(format!("starting {}", bin.display())))
}

impl PromStack {
    /// Starts the stack and waits until both servers are ready.
    pub fn start(opts: StackOptions) -> Result<Self, HarnessError> {
        let prometheus_bin = component("prometheus")?;
        let alertmanager_bin = if opts.alertmanager {
            Some(component("prometheus-alertmanager")?)
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("kagent-prom-")
            .tempdir()
            .map_err(io("creating a temporary directory"))?;
        let d = dir.path();
        let metrics = MetricsServer::start(opts.pods)?;
        let down_port = free_port()?;
        let prometheus_port = free_port()?;

        let mut alertmanager = None;
        let mut alertmanager_port = None;
        if let Some(bin) = &alertmanager_bin {
            let port = free_port()?;
            let config = d.join("alertmanager.yml");
            std::fs::write(
                &config,
                "route:\n  receiver: blackhole\n  group_by: [alertname]\n  group_wait: 1s\n  \
                 group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n- name: blackhole\n",
            )
            .map_err(io("writing alertmanager.yml"))?;
            let log = d.join("alertmanager.log");
            let mut child = spawn(
                bin,
                &[
                    format!("--config.file={}", config.display()),
                    format!("--storage.path={}", d.join("am-data").display()),
                    format!("--web.listen-address=127.0.0.1:{port}"),
                    "--cluster.listen-address=".to_owned(),
                    "--log.level=warn".to_owned(),
                ],
                &log,
            )?;
            if let Err(e) = wait_ready("alertmanager", port, false, &mut child, &log) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
            alertmanager = Some(child);
            alertmanager_port = Some(port);
        }

        let rules = d.join("rules.yml");
        std::fs::write(
            &rules,
            r#"groups:
- name: kagent-test
  interval: 1s
  rules:
  - alert: KagentTestQueueBacklog
    expr: kagent_test_queue_depth > 100
    for: 0s
    labels:
      severity: critical
      team: shop
    annotations:
      summary: "Queue {{ $labels.queue }} has {{ $value }} items waiting"
  - record: namespace:kagent_test_cpu_usage:rate1m
    expr: sum by (namespace) (rate(kagent_test_cpu_usage_seconds_total[1m]))
"#,
        )
        .map_err(io("writing rules.yml"))?;
        let alerting = match alertmanager_port {
            Some(p) => format!(
                "alerting:\n  alertmanagers:\n  - static_configs:\n    - targets: ['127.0.0.1:{p}']\n"
            ),
            None => String::new(),
        };
        let config = d.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ['{rules}']\n\
                 {alerting}scrape_configs:\n- job_name: shop\n  static_configs:\n  - targets: \
                 ['127.0.0.1:{mp}']\n    labels:\n      env: test\n- job_name: checkout-legacy\n  \
                 static_configs:\n  - targets: ['127.0.0.1:{down_port}']\n",
                rules = rules.display(),
                mp = metrics.port(),
            ),
        )
        .map_err(io("writing prometheus.yml"))?;
        let data = d.join("prom-data");
        if let Some(om) = &opts.backfill_openmetrics {
            let promtool = component("promtool")?;
            let file = d.join("backfill.om");
            std::fs::write(&file, om).map_err(io("writing the backfill file"))?;
            let out = Command::new(promtool)
                .args(["tsdb", "create-blocks-from", "openmetrics"])
                .arg(&file)
                .arg(&data)
                .output()
                .map_err(io("running promtool"))?;
            if !out.status.success() {
                return Err(HarnessError::Backfill(
                    String::from_utf8_lossy(&out.stderr).into_owned(),
                ));
            }
        }
        let mut args = vec![
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", data.display()),
            format!("--web.listen-address=127.0.0.1:{prometheus_port}"),
            "--rules.alert.resend-delay=1s".to_owned(),
            "--log.level=warn".to_owned(),
        ];
        if let Some(tls) = &opts.prometheus_tls {
            args.push(format!(
                "--web.config.file={}",
                write_web_config(d, tls)?.display()
            ));
        }
        let log = d.join("prometheus.log");
        let mut child = spawn(&prometheus_bin, &args, &log)?;
        let https = opts.prometheus_tls.is_some();
        if let Err(e) = wait_ready("prometheus", prometheus_port, https, &mut child, &log) {
            let _ = child.kill();
            let _ = child.wait();
            if let Some(mut am) = alertmanager {
                let _ = am.kill();
                let _ = am.wait();
            }
            return Err(e);
        }
        Ok(PromStack {
            prometheus: child,
            alertmanager,
            prometheus_port,
            prometheus_https: https,
            alertmanager_port,
            metrics,
            dir,
        })
    }

    /// `http://127.0.0.1:<port>` of Prometheus (`https://` with
    /// [`StackOptions::prometheus_tls`]).
    pub fn prometheus_url(&self) -> String {
        let scheme = if self.prometheus_https {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.prometheus_port)
    }

    /// `http://127.0.0.1:<port>` of the Alertmanager, when one was started.
    pub fn alertmanager_url(&self) -> Option<String> {
        self.alertmanager_port
            .map(|p| format!("http://127.0.0.1:{p}"))
    }

    /// The port of the metrics endpoint Prometheus scrapes.
    pub fn metrics_port(&self) -> u16 {
        self.metrics.port()
    }

    /// The temporary directory holding configurations, data and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Writes the certificate files and Prometheus's web configuration; returns its path.
fn write_web_config(dir: &Path, tls: &ServerTls) -> Result<PathBuf, HarnessError> {
    let write = |name: &str, text: &str| -> Result<PathBuf, HarnessError> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(io(format!("writing {name}")))?;
        Ok(path)
    };
    let cert = write("server.crt", &tls.cert_pem)?;
    let key = write("server.key", &tls.key_pem)?;
    let mut yaml = format!(
        "tls_server_config:\n  cert_file: {}\n  key_file: {}\n",
        cert.display(),
        key.display()
    );
    if let Some(ca) = &tls.client_ca_pem {
        let ca = write("client-ca.crt", ca)?;
        yaml.push_str(&format!(
            "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}\n",
            ca.display()
        ));
    }
    write("web.yml", &yaml)
}

impl Drop for PromStack {
    fn drop(&mut self) {
        let _ = self.prometheus.kill();
        let _ = self.prometheus.wait();
        if let Some(am) = &mut self.alertmanager {
            let _ = am.kill();
            let _ = am.wait();
        }
    }
}

/// OpenMetrics text with `pods` gauge series `kagent_bench_cpu_usage_cores` (namespace
/// `shop`, pod `web-<i>`, container `app`, node `node-<i % 12>`) sampled every `step`
/// seconds from `end - range` to `end` (Unix seconds), for
/// [`StackOptions::backfill_openmetrics`]: a realistic history for range queries.
pub fn history_openmetrics(pods: usize, end: f64, range: f64, step: f64) -> String {
    let points = (range / step).floor() as usize;
    let start = end - points as f64 * step;
    let mut out = String::with_capacity(pods * points * 90);
    out.push_str("# HELP kagent_bench_cpu_usage_cores CPU cores used by the pod.\n");
    out.push_str("# TYPE kagent_bench_cpu_usage_cores gauge\n");
    for i in 0..pods {
        let base = 0.05 + (i % 40) as f64 * 0.02;
        let slope = ((i % 7) as f64 - 3.0) * 0.0002;
        for k in 0..=points {
            let t = start + k as f64 * step;
            let v = (base + slope * k as f64 + 0.01 * ((k as f64 / 5.0) + i as f64).sin()).max(0.0);
            out.push_str(&format!(
                "kagent_bench_cpu_usage_cores{{namespace=\"shop\",pod=\"web-{i}\",container=\"app\",node=\"node-{}\"}} {v:.4} {t:.0}\n",
                i % 12
            ));
        }
    }
    out.push_str("# EOF\n");
    out
}
