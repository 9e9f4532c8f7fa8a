//! The Helm tools end to end: releases made by the real helm 3.17 binary (installed by
//! `scripts/setup/kubectl.sh`) from a chart this test writes and packages, stored as Helm's
//! Secrets driver stores them in the in-process fake API server, read back by the tools and by
//! helm itself; writes run the real helm CLI against the fake API server.
//!
//! What the fake API server allows (it speaks JSON, not protobuf): every helm read works, and
//! so do `helm upgrade --dry-run=server`, `helm rollback --dry-run` and `helm uninstall
//! --dry-run`. A real install, upgrade or rollback fails at helm's first write of a release
//! Secret (client-go sends it as protobuf: 415), and a real uninstall fails purging the release
//! Secret (protobuf DeleteOptions); the tools report both with advice.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use kagent_core::message::render_tool_content;
use kagent_core::{ToolContext, ToolEffect, ToolError, Toolset};
use kagent_fake_apiserver::FakeCluster;
use kagent_tools::HelmTools;
use kagent_tools::helm::release::release_secret;
use serde_json::{Value, json};

/// The helm binary from `scripts/setup/kubectl.sh`; fails (never skips) when it is missing.
fn helm_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let dir = std::env::var_os("KAGENT_TEST_COMPONENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".test-components"));
    let helm = dir.join("bin/helm");
    assert!(
        helm.is_file(),
        "helm is not installed at {}: run `bash scripts/setup/kubectl.sh` (it installs kubectl \
         and helm into $KAGENT_TEST_COMPONENTS/bin)",
        helm.display()
    );
    helm
}

const CHART_TEMPLATES: &[(&str, &str)] = &[
    (
        "templates/deployment.yaml",
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}
    spec:
      containers:
      - name: web
        image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
"#,
    ),
    (
        "templates/service.yaml",
        r#"apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    app: {{ .Release.Name }}
  ports:
  - port: 80
"#,
    ),
    (
        "templates/secret.yaml",
        r#"apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-db
type: Opaque
data:
  password: {{ .Values.db.password | b64enc }}
"#,
    ),
    (
        "templates/tests/test-connection.yaml",
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test-connection
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
  - name: wget
    image: busybox
    command: ["wget", "{{ .Release.Name }}:80"]
"#,
    ),
    (
        "templates/NOTES.txt",
        "Open http://{{ .Release.Name }}.{{ .Release.Namespace }}.svc ({{ .Values.replicaCount }} replicas).\n",
    ),
];

struct Fixture {
    cluster: FakeCluster,
    dir: tempfile::TempDir,
    helm: PathBuf,
    kubeconfig: PathBuf,
    chart_v1: PathBuf,
    chart_v2: PathBuf,
}

impl Fixture {
    /// Runs the real helm with its homes in the test's directory; panics on failure.
    fn helm(&self, args: &[&str]) -> String {
        let out = self.helm_cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "helm {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn helm_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.helm);
        cmd.args(args)
            .env_remove("KUBECONFIG")
            .env("HELM_CACHE_HOME", self.dir.path().join("helm/cache"))
            .env("HELM_CONFIG_HOME", self.dir.path().join("helm/config"))
            .env("HELM_DATA_HOME", self.dir.path().join("helm/data"));
        cmd
    }

    /// A release JSON document as helm renders it (`--dry-run -o json` against the fake).
    fn render(&self, verb: &str, name: &str, ns: &str, chart: &Path, extra: &[&str]) -> Value {
        let kc = format!("--kubeconfig={}", self.kubeconfig.display());
        let mut args = vec![
            verb,
            name,
            chart.to_str().unwrap(),
            "--namespace",
            ns,
            "--output=json",
            &kc,
        ];
        args.push(if verb == "install" {
            "--dry-run"
        } else {
            "--dry-run=server"
        });
        args.extend_from_slice(extra);
        serde_json::from_str(&self.helm(&args)).unwrap()
    }

    /// Stores a release as Helm's Secrets driver does, with the given status and description.
    fn store(&self, mut rel: Value, status: &str, description: &str) -> Value {
        rel["info"]["status"] = json!(status);
        rel["info"]["description"] = json!(description);
        let secret = release_secret(&serde_json::to_vec(&rel).unwrap(), 1_767_000_000).unwrap();
        self.cluster.apply_object(secret).unwrap();
        rel
    }

    fn tools(&self) -> Toolset {
        HelmTools::builder(self.cluster.client().unwrap())
            .default_namespace("shop")
            .helm_binary(&self.helm)
            .kubeconfig(&self.kubeconfig)
            .helm_env("HELM_CACHE_HOME", self.path("helm/cache"))
            .helm_env("HELM_CONFIG_HOME", self.path("helm/config"))
            .helm_env("HELM_DATA_HOME", self.path("helm/data"))
            .build()
            .unwrap()
    }

    fn path(&self, p: &str) -> String {
        self.dir.path().join(p).display().to_string()
    }
}

fn write_chart(dir: &Path, version: &str, app_version: &str, tag: &str) {
    std::fs::create_dir_all(dir.join("templates/tests")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        format!(
            "apiVersion: v2\nname: demo\ndescription: A chart for kagent-tools tests\ntype: application\nversion: {version}\nappVersion: \"{app_version}\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("values.yaml"),
        format!(
            "replicaCount: 1\nimage:\n  repository: nginx\n  tag: \"{tag}\"\ndb:\n  user: app\n  password: hunter2\n"
        ),
    )
    .unwrap();
    for (path, text) in CHART_TEMPLATES {
        std::fs::write(dir.join(path), text).unwrap();
    }
}

/// A fake cluster with releases `web` (revision 1 superseded, revision 2 deployed) in `shop`
/// and `cache` (failed) in `ops`, all rendered by the real helm from packaged charts.
fn setup() -> Fixture {
    let helm = helm_binary();
    let cluster = FakeCluster::builder()
        .namespaces(["default", "shop", "ops"])
        .start()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    cluster.write_kubeconfig(&kubeconfig).unwrap();
    let mut fx = Fixture {
        cluster,
        helm,
        kubeconfig,
        chart_v1: PathBuf::new(),
        chart_v2: PathBuf::new(),
        dir,
    };
    let src1 = fx.dir.path().join("src/v1/demo");
    let src2 = fx.dir.path().join("src/v2/demo");
    write_chart(&src1, "0.1.0", "1.25.0", "1.25.0");
    write_chart(&src2, "0.2.0", "1.26.0", "1.26.0");
    let charts = fx.path("charts");
    fx.helm(&["lint", src1.to_str().unwrap()]);
    fx.helm(&["package", src1.to_str().unwrap(), "-d", &charts]);
    fx.helm(&["package", src2.to_str().unwrap(), "-d", &charts]);
    fx.chart_v1 = fx.dir.path().join("charts/demo-0.1.0.tgz");
    fx.chart_v2 = fx.dir.path().join("charts/demo-0.2.0.tgz");

    let rev1 = fx.render(
        "install",
        "web",
        "shop",
        &fx.chart_v1,
        &["--set", "replicaCount=2"],
    );
    assert_eq!(rev1["version"], 1);
    let rev1 = fx.store(rev1, "deployed", "Install complete");
    // helm computes revision 2 from the stored history, as a real upgrade does.
    let rev2 = fx.render(
        "upgrade",
        "web",
        "shop",
        &fx.chart_v2,
        &["--set", "replicaCount=3", "--set", "db.password=s3cr3t-pw"],
    );
    assert_eq!(rev2["version"], 2);
    fx.store(rev1, "superseded", "Install complete");
    fx.store(rev2, "deployed", "Upgrade complete");
    let cache = fx.render("install", "cache", "ops", &fx.chart_v1, &[]);
    fx.store(
        cache,
        "failed",
        "Release \"cache\" failed: context deadline exceeded",
    );
    fx
}

async fn call(tools: &Toolset, name: &str, args: Value) -> String {
    call_ctx(tools, name, args, ToolContext::detached("t")).await
}

async fn call_ctx(tools: &Toolset, name: &str, args: Value, ctx: ToolContext) -> String {
    match tools.call(name, args.clone(), ctx).await {
        Ok(out) => render_tool_content(&out.content),
        Err(e) => panic!("{name} {args} failed: {e:?}"),
    }
}

async fn call_err(tools: &Toolset, name: &str, args: Value) -> ToolError {
    tools
        .call(name, args.clone(), ToolContext::detached("t"))
        .await
        .expect_err(&format!("{name} {args} should fail"))
}

fn writes(c: &FakeCluster) -> Vec<String> {
    c.requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test]
async fn real_helm_reads_the_stored_releases() {
    let fx = setup();
    let kc = format!("--kubeconfig={}", fx.kubeconfig.display());
    let list: Value =
        serde_json::from_str(&fx.helm(&["list", "-A", "-a", "--output=json", &kc])).unwrap();
    let names: Vec<(&str, &str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap(),
                r["revision"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("cache", "1", "failed"), ("web", "2", "deployed")]);
    let history = fx.helm(&["history", "web", "-n", "shop", &kc]);
    assert!(
        history.contains("superseded") && history.contains("Upgrade complete"),
        "{history}"
    );
}

#[tokio::test]
async fn list_releases_like_helm_list() {
    let fx = setup();
    let tools = fx.tools();
    let out = call(&tools, "helm_list_releases", json!({})).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row[..3], ["web", "shop", "2"], "{out}");
    assert!(lines[1].contains("deployed  demo-0.2.0  1.26.0"), "{out}");

    let all = call(
        &tools,
        "helm_list_releases",
        json!({"all_namespaces": "true"}),
    )
    .await;
    assert!(all.contains("cache") && all.contains("failed"), "{all}");
    let failed = call(
        &tools,
        "helm_list_releases",
        json!({"all_namespaces": true, "failed": true, "output": "json"}),
    )
    .await;
    let v: Value = serde_json::from_str(&failed).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{failed}");
    assert_eq!(v[0]["name"], "cache");
    assert_eq!(v[0]["revision"], "1");
    assert_eq!(v[0]["app_version"], "1.25.0");

    let superseded = call(&tools, "helm_list_releases", json!({"superseded": "true"})).await;
    assert!(
        superseded.contains("demo-0.1.0") && superseded.contains("superseded"),
        "{superseded}"
    );
    let none = call(&tools, "helm_list_releases", json!({"filter": "^api"})).await;
    assert!(
        none.starts_with("No Helm releases in namespace shop"),
        "{none}"
    );

    let e = call_err(&tools, "helm_list_releases", json!({"filter": "web("})).await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    let e = call_err(&tools, "helm_list_releases", json!({"output": "xml"})).await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
}

#[tokio::test]
async fn get_release_parts_with_secrets_redacted() {
    let fx = setup();
    let tools = fx.tools();
    let manifest = call(
        &tools,
        "helm_get_release",
        json!({"name": "web", "namespace": "shop", "resource": "manifest"}),
    )
    .await;
    assert!(manifest.contains("replicas: 3"), "{manifest}");
    assert!(manifest.contains("image: \"nginx:1.26.0\""), "{manifest}");
    assert!(
        manifest.contains("# Source: demo/templates/secret.yaml"),
        "{manifest}"
    );
    assert!(
        !manifest.contains("czNjcjN0LXB3"),
        "the Secret's value leaked:\n{manifest}"
    );
    assert!(manifest.contains("<redacted: about"), "{manifest}");
    // The manifest is what `helm template` renders for the same chart and values.
    let template = fx.helm(&[
        "template",
        "web",
        fx.chart_v2.to_str().unwrap(),
        "--namespace",
        "shop",
        "--set",
        "replicaCount=3",
        "--show-only",
        "templates/deployment.yaml",
    ]);
    assert!(
        manifest.contains(template.trim()),
        "{template}\nvs\n{manifest}"
    );

    let values = call(
        &tools,
        "helm_get_release",
        json!({"name": "web", "resource": "values"}),
    )
    .await;
    assert!(values.starts_with("USER-SUPPLIED VALUES:\n"), "{values}");
    assert!(values.contains("replicaCount: 3"), "{values}");
    assert!(values.contains("password: <redacted>"), "{values}");
    assert!(!values.contains("s3cr3t"), "{values}");
    let computed = call(
        &tools,
        "helm_get_release",
        json!({"name": "web", "resource": "values", "all_values": true}),
    )
    .await;
    assert!(
        computed.contains("repository: nginx") && computed.contains("tag: 1.26.0"),
        "{computed}"
    );

    let hooks = call(
        &tools,
        "helm_get_release",
        json!({"name": "web", "resource": "hooks"}),
    )
    .await;
    assert!(hooks.contains("web-test-connection"), "{hooks}");
    let notes = call(
        &tools,
        "helm_get_release",
        json!({"name": "web", "resource": "notes"}),
    )
    .await;
    assert!(
        notes.contains("Open http://web.shop.svc (3 replicas)."),
        "{notes}"
    );
    let old = call(
        &tools,
        "helm_get_release",
        json!({"name": "web", "resource": "all", "revision": 1}),
    )
    .await;
    for needle in [
        "STATUS: superseded",
        "REVISION: 1",
        "CHART: demo-0.1.0 (app version 1.25.0)",
        "replicaCount: 2",
        "MANIFEST:",
    ] {
        assert!(old.contains(needle), "missing {needle:?}:\n{old}");
    }

    let e = call_err(
        &tools,
        "helm_get_release",
        json!({"name": "web", "revision": 9}),
    )
    .await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("revisions: 1, 2"), "{e}");
    let e = call_err(
        &tools,
        "helm_get_release",
        json!({"name": "web", "resource": "chart"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
}

#[tokio::test]
async fn status_and_history() {
    let fx = setup();
    let tools = fx.tools();
    let status = call(&tools, "helm_status", json!({"name": "web"})).await;
    for needle in [
        "NAME: web",
        "NAMESPACE: shop",
        "STATUS: deployed",
        "REVISION: 2",
        "CHART: demo-0.2.0 (app version 1.26.0)",
        "DESCRIPTION: Upgrade complete",
        "RESOURCES (3): Secret/web-db, Service/web, Deployment/web",
        "TEST SUITE: Pod/web-test-connection (never run)",
        "NOTES:\nOpen http://web.shop.svc",
    ] {
        assert!(status.contains(needle), "missing {needle:?}:\n{status}");
    }
    let history = call(&tools, "helm_history", json!({"name": "web"})).await;
    let rows: Vec<&str> = history.lines().collect();
    assert_eq!(rows.len(), 3, "{history}");
    assert!(
        rows[1].starts_with("1 ") && rows[1].contains("superseded  demo-0.1.0"),
        "{history}"
    );
    assert!(
        rows[2].starts_with("2 ") && rows[2].contains("deployed    demo-0.2.0"),
        "{history}"
    );
    let last = call(&tools, "helm_history", json!({"name": "web", "max": "1"})).await;
    assert!(last.contains("1 older revisions not shown"), "{last}");

    let e = call_err(&tools, "helm_status", json!({"name": "cache"})).await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("a release of that name exists in namespace ops"),
        "{e}"
    );
    let e = call_err(&tools, "helm_history", json!({"name": "Web_1"})).await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
}

#[tokio::test]
async fn upgrade_dry_run_diffs_against_the_current_revision() {
    let fx = setup();
    let tools = fx.tools();
    fx.cluster.clear_requests();
    let out = call(
        &tools,
        "helm_upgrade",
        json!({
            "name": "web", "chart": fx.chart_v2.to_str().unwrap(),
            "values": "replicaCount: 5\nimage:\n  tag: \"1.27.0\"\n", "dry_run": true
        }),
    )
    .await;
    assert!(
        out.starts_with(
            "DRY RUN (helm --dry-run=server, nothing changed): would upgrade release web in \
             namespace shop: revision 2 (demo-0.2.0, deployed) -> revision 3 (demo-0.2.0, \
             pending-upgrade)"
        ),
        "{out}"
    );
    for needle in [
        "--- values diff (user-supplied) ---",
        "+replicaCount: 5",
        "--- manifest diff ---",
        "-  replicas: 3",
        "+  replicas: 5",
        "+        image: \"nginx:1.27.0\"",
    ] {
        assert!(out.contains(needle), "missing {needle:?}:\n{out}");
    }
    assert!(!out.contains("s3cr3t"), "{out}");
    assert!(
        out.contains("-db:\n-  password: <redacted>"),
        "values given now replace the old:\n{out}"
    );
    assert_eq!(
        writes(&fx.cluster),
        Vec::<String>::new(),
        "a dry run writes nothing"
    );
    let reuse = call(
        &tools,
        "helm_upgrade",
        json!({"name": "web", "chart": fx.chart_v2.to_str().unwrap(), "set": "replicaCount=4",
               "reuse_values": true, "dry_run": true}),
    )
    .await;
    assert!(
        !reuse.contains("-db:"),
        "--reuse-values keeps them:\n{reuse}"
    );
    assert!(reuse.contains("+replicaCount: 4"), "{reuse}");

    // --set and an install of a new release (ToolContext::dry_run forces the dry run).
    let mut ctx = ToolContext::detached("t");
    ctx.dry_run = true;
    let out = call_ctx(
        &tools,
        "helm_upgrade",
        json!({"name": "api", "chart": fx.chart_v1.to_str().unwrap(), "install": "true",
               "set": "replicaCount=4,image.tag=1.25.1"}),
        ctx,
    )
    .await;
    assert!(
        out.contains("would install release api in namespace shop: revision 1"),
        "{out}"
    );
    assert!(
        out.contains("+  replicas: 4") && out.contains("nginx:1.25.1"),
        "{out}"
    );

    let e = call_err(
        &tools,
        "helm_upgrade",
        json!({"name": "api", "chart": fx.chart_v1.to_str().unwrap(), "dry_run": true}),
    )
    .await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("pass install=true"), "{e}");
    let e = call_err(
        &tools,
        "helm_upgrade",
        json!({"name": "web", "chart": "--post-renderer=/bin/sh", "dry_run": true}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    let e = call_err(
        &tools,
        "helm_upgrade",
        json!({"name": "web", "chart": fx.chart_v2.to_str().unwrap(), "values": "/etc/passwd"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    assert!(e.to_string().contains("inline as YAML"), "{e}");
    // helm's own error comes back with advice.
    let e = call_err(
        &tools,
        "helm_upgrade",
        json!({"name": "web", "chart": "nosuchrepo/demo", "dry_run": true}),
    )
    .await;
    assert!(matches!(e, ToolError::Failed { .. }), "{e:?}");
    assert!(e.to_string().contains("helm_repo_add"), "{e}");
}

#[tokio::test]
async fn real_writes_against_a_json_only_api_server_fail_with_advice() {
    let fx = setup();
    let tools = fx.tools();
    let e = call_err(
        &tools,
        "helm_upgrade",
        json!({"name": "web", "chart": fx.chart_v2.to_str().unwrap(), "set": "replicaCount=4"}),
    )
    .await;
    assert!(matches!(e, ToolError::Failed { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("protobuf") && msg.contains("dry_run=true"),
        "{msg}"
    );
    assert!(
        msg.contains("helm upgrade --install") || msg.contains("helm upgrade"),
        "{msg}"
    );
    let e = call_err(&tools, "helm_rollback", json!({"name": "web"})).await;
    assert!(e.to_string().contains("protobuf"), "{e}");
}

#[tokio::test]
async fn rollback_and_uninstall_dry_runs() {
    let fx = setup();
    let tools = fx.tools();
    fx.cluster.clear_requests();
    let out = call(
        &tools,
        "helm_rollback",
        json!({"name": "web", "dry_run": true}),
    )
    .await;
    assert!(
        out.starts_with(
            "DRY RUN (helm --dry-run, nothing changed): would roll back release web in namespace \
             shop from revision 2 (demo-0.2.0, deployed) to the manifest and values of revision 1 \
             (demo-0.1.0, superseded) (as revision 3)"
        ),
        "{out}"
    );
    assert!(
        out.contains("-  replicas: 3") && out.contains("+  replicas: 2"),
        "{out}"
    );
    assert!(
        out.contains("Rollback was a success"),
        "helm's own answer:\n{out}"
    );

    let out = call(
        &tools,
        "helm_uninstall",
        json!({"name": "web", "dry_run": "true"}),
    )
    .await;
    assert!(
        out.starts_with(
            "DRY RUN (helm --dry-run, nothing changed): would uninstall release web in namespace \
             shop (revision 2 (demo-0.2.0, deployed)), deleting 3 objects and its history"
        ),
        "{out}"
    );
    assert!(out.contains("Deployment/web"), "{out}");
    assert_eq!(
        writes(&fx.cluster),
        Vec::<String>::new(),
        "dry runs write nothing"
    );

    let e = call_err(
        &tools,
        "helm_rollback",
        json!({"name": "web", "revision": 7}),
    )
    .await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    let e = call_err(
        &tools,
        "helm_rollback",
        json!({"name": "web", "revision": 2}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    let e = call_err(
        &tools,
        "helm_uninstall",
        json!({"name": "nope", "dry_run": true}),
    )
    .await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
}

/// Serves the files of `dir` over HTTP on a loopback port (a chart repository).
fn serve_dir(dir: PathBuf) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let n = conn.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let path = req
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/');
            let (status, body) = match std::fs::read(dir.join(path)) {
                Ok(b) if !path.contains("..") => ("200 OK", b),
                _ => ("404 Not Found", Vec::new()),
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(&body);
        }
    });
    port
}

#[tokio::test]
async fn repo_add_update_and_install_from_the_repository() {
    let fx = setup();
    let tools = fx.tools();
    let charts = fx.dir.path().join("charts");
    let port = serve_dir(charts.clone());
    let url = format!("http://127.0.0.1:{port}");
    fx.helm(&["repo", "index", charts.to_str().unwrap(), "--url", &url]);

    let dry = call(
        &tools,
        "helm_repo_add",
        json!({"name": "local", "url": url, "dry_run": true}),
    )
    .await;
    assert!(dry.starts_with("DRY RUN"), "{dry}");
    let out = call(
        &tools,
        "helm_repo_add",
        json!({"name": "local", "url": url}),
    )
    .await;
    assert!(out.contains("\"local\" has been added"), "{out}");
    let out = call(&tools, "helm_repo_update", json!({})).await;
    assert!(
        out.contains("Successfully got an update from the \"local\""),
        "{out}"
    );
    let out = call(
        &tools,
        "helm_upgrade",
        json!({"name": "api", "chart": "local/demo", "version": "0.1.0", "install": true, "dry_run": true}),
    )
    .await;
    assert!(
        out.contains("would install release api in namespace shop: revision 1 (demo-0.1.0"),
        "{out}"
    );

    for (args, what) in [
        (
            json!({"name": "local", "url": "ftp://example.com/charts"}),
            "http or https",
        ),
        (json!({"name": "lo cal", "url": url}), "whitespace"),
        (
            json!({"name": "x", "url": "https://user:pw@example.com"}),
            "credentials",
        ),
    ] {
        let e = call_err(&tools, "helm_repo_add", args).await;
        assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
        assert!(e.to_string().contains(what), "{e}");
    }
}

#[tokio::test]
async fn unreachable_api_server_is_a_fault() {
    let fx = setup();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    let dead_kc = fx.dir.path().join("dead-kubeconfig");
    std::fs::write(
        &dead_kc,
        std::fs::read_to_string(&fx.kubeconfig)
            .unwrap()
            .replace(&fx.cluster.url(), &format!("http://127.0.0.1:{port}")),
    )
    .unwrap();
    let tools = HelmTools::builder(client)
        .default_namespace("shop")
        .helm_binary(&fx.helm)
        .kubeconfig(&dead_kc)
        .build()
        .unwrap();
    let e = call_err(&tools, "helm_list_releases", json!({})).await;
    assert!(matches!(e, ToolError::Transport { .. }), "{e:?}");
    // The CLI path: helm cannot reach the cluster either.
    let cli = HelmTools::builder(fx.cluster.client().unwrap())
        .default_namespace("shop")
        .helm_binary(&fx.helm)
        .kubeconfig(&dead_kc)
        .build()
        .unwrap();
    let e = call_err(
        &cli,
        "helm_upgrade",
        json!({"name": "web", "chart": fx.chart_v2.to_str().unwrap(), "dry_run": true}),
    )
    .await;
    assert!(e.is_fault(), "{e:?}");
    assert!(e.to_string().contains("could not be reached"), "{e}");

    // A helm binary that does not exist is a configuration fault.
    let tools = HelmTools::builder(fx.cluster.client().unwrap())
        .default_namespace("shop")
        .helm_binary(fx.dir.path().join("no-helm"))
        .kubeconfig(&fx.kubeconfig)
        .build()
        .unwrap();
    let e = call_err(&tools, "helm_repo_update", json!({})).await;
    assert!(matches!(e, ToolError::Internal { .. }), "{e:?}");
    assert!(e.to_string().contains("helm_binary"), "{e}");
}

#[tokio::test]
async fn read_only_mode_and_writes_need_a_kubeconfig() {
    let fx = setup();
    let ro = HelmTools::builder(fx.cluster.client().unwrap())
        .read_only(true)
        .kubeconfig(&fx.kubeconfig)
        .build()
        .unwrap();
    let mut names: Vec<String> = ro.specs().iter().map(|s| s.name.clone()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "helm_get_release",
            "helm_history",
            "helm_list_releases",
            "helm_status"
        ]
    );
    assert!(ro.specs().iter().all(|s| s.effect == ToolEffect::ReadOnly));
    let no_cli = HelmTools::builder(fx.cluster.client().unwrap())
        .build()
        .unwrap();
    assert_eq!(no_cli.specs().len(), 4);
    let all = fx.tools();
    let effect = |n: &str| {
        all.specs()
            .into_iter()
            .find(|s| s.name == n)
            .unwrap()
            .effect
    };
    assert_eq!(effect("helm_upgrade"), ToolEffect::Mutating);
    assert_eq!(effect("helm_uninstall"), ToolEffect::Destructive);
    assert_eq!(all.specs().len(), 9);
}
