//! Fidelity of the fake API server against the real kubectl 1.31 binary (installed by
//! `bash scripts/setup/kubectl.sh`): get, describe, logs, apply, label, delete.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::PathBuf;
use std::process::Command;

use kagent_fake_apiserver::FakeCluster;
use serde_json::{Value, json};

fn kubectl_path() -> PathBuf {
    let base = std::env::var_os("KAGENT_TEST_COMPONENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(".test-components")
        });
    let path = base.join("bin").join("kubectl");
    assert!(
        path.is_file(),
        "kubectl 1.31 is not installed at {}: run `bash scripts/setup/kubectl.sh` from the workspace root",
        path.display()
    );
    path
}

/// A fake cluster with the scenario plus a kubeconfig and cache dir for kubectl.
struct Kubectl {
    fake: FakeCluster,
    dir: tempfile::TempDir,
    bin: PathBuf,
}

struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Kubectl {
    fn new() -> Self {
        let bin = kubectl_path();
        let fake = FakeCluster::start_with_scenario().unwrap();
        let dir = tempfile::tempdir().unwrap();
        fake.write_kubeconfig(dir.path().join("kubeconfig"))
            .unwrap();
        Self { fake, dir, bin }
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_stdin(args, None)
    }

    fn run_stdin(&self, args: &[&str], stdin: Option<&str>) -> Out {
        use std::io::Write;
        let mut cmd = Command::new(&self.bin);
        cmd.env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .env("HOME", self.dir.path())
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .arg("--request-timeout=20s")
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .stdin(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        } else {
            drop(child.stdin.take());
        }
        let out = child.wait_with_output().unwrap();
        Out {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.ok,
            "kubectl {args:?} failed:\n{}\n{}",
            out.stdout, out.stderr
        );
        out.stdout
    }
}

fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row {name} in\n{table}"))
        .split_whitespace()
        .collect()
}

#[test]
fn get_pods_prints_failure_reasons() {
    let k = Kubectl::new();
    let version = k.ok(&["version", "-o", "json"]);
    let v: Value = serde_json::from_str(&version).unwrap();
    assert_eq!(v["clientVersion"]["minor"], "31");
    assert_eq!(v["serverVersion"]["minor"], "31");

    let table = k.ok(&["get", "pods", "-n", "shop"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    let crash = row(&table, "checkout-6d8f7b9c5d-x7k2p");
    assert_eq!(&crash[1..4], ["0/1", "CrashLoopBackOff", "7"]);
    assert_eq!(
        row(&table, "frontend-7b9c6d5f8-q2w8r")[2],
        "ImagePullBackOff"
    );
    assert_eq!(row(&table, "model-training-x8k2l")[2], "Pending");
    assert_eq!(
        row(&table, "api-gateway-7d4c9b6f8-p5rxd")[2],
        "CreateContainerConfigError"
    );
    let oom = row(&table, "report-worker-5c7d9f8b6-m4n7t");
    assert_eq!(&oom[1..4], ["1/1", "Running", "6"]);
    assert_eq!(
        &row(&table, "search-7f8d6c5b9-z3v6n")[1..3],
        ["0/1", "Running"]
    );

    let wide = k.ok(&["get", "pods", "-n", "shop", "-o", "wide", "-l", "app=web"]);
    assert_eq!(wide.lines().count(), 6, "{wide}");
    assert!(wide.lines().next().unwrap().contains("NODE"));
    assert!(wide.contains("worker-1"));

    let json_out = k.ok(&["get", "pods", "-A", "-o", "json"]);
    let list: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().unwrap().len(), 21);

    let pending = k.ok(&[
        "get",
        "pods",
        "-A",
        "--field-selector",
        "status.phase=Pending",
        "-o",
        "name",
    ]);
    let mut names: Vec<&str> = pending.lines().collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "pod/api-gateway-7d4c9b6f8-p5rxd",
            "pod/frontend-7b9c6d5f8-q2w8r",
            "pod/model-training-x8k2l"
        ]
    );

    let deploys = k.ok(&["get", "deploy", "-n", "shop"]);
    assert_eq!(&row(&deploys, "api-gateway")[1..4], ["3/3", "1", "3"]);
    let hpa = k.ok(&["get", "hpa", "-n", "shop"]);
    assert_eq!(
        &row(&hpa, "web")[1..],
        ["Deployment/web", "cpu:", "96%/70%", "2", "5", "5", "3d"]
    );
    let pvc = k.ok(&["get", "pvc", "-n", "shop"]);
    assert_eq!(row(&pvc, "uploads")[1], "Pending");
    let events = k.ok(&[
        "get",
        "events",
        "-n",
        "shop",
        "--field-selector",
        "type=Warning",
    ]);
    assert!(events.contains("Readiness probe failed: HTTP probe failed with statuscode: 503"));
    assert!(!events.contains("Normal"));

    let missing = k.run(&["get", "pod", "nope", "-n", "shop"]);
    assert!(!missing.ok);
    assert_eq!(
        missing.stderr.trim(),
        "Error from server (NotFound): pods \"nope\" not found"
    );
}

#[test]
fn describe_shows_conditions_and_events() {
    let k = Kubectl::new();
    let pod = k.ok(&["describe", "pod", "-n", "shop", "checkout-6d8f7b9c5d-x7k2p"]);
    for needle in [
        "Reason:       CrashLoopBackOff",
        "Last State:     Terminated",
        "Exit Code:    1",
        "Restart Count:  7",
        "Back-off restarting failed container checkout",
    ] {
        assert!(pod.contains(needle), "missing {needle:?} in\n{pod}");
    }
    let unsched = k.ok(&["describe", "pod", "-n", "shop", "model-training-x8k2l"]);
    assert!(unsched.contains("FailedScheduling"), "{unsched}");
    assert!(unsched.contains("3 Insufficient cpu"));
    let deploy = k.ok(&["describe", "deployment", "-n", "shop", "api-gateway"]);
    assert!(deploy.contains("ProgressDeadlineExceeded"), "{deploy}");
    assert!(
        deploy.contains("NewReplicaSet:   api-gateway-7d4c9b6f8 (1/1 replicas created)"),
        "{deploy}"
    );
    let svc = k.ok(&["describe", "service", "-n", "shop", "payments"]);
    assert!(svc.contains("app=payments-api"), "{svc}");
    let node = k.ok(&["describe", "node", "worker-1"]);
    assert!(node.contains("OOMKilling"), "{node}");
    assert!(node.contains("report-worker-5c7d9f8b6-m4n7t"), "{node}");
}

#[test]
fn logs_with_tail_previous_and_errors() {
    let k = Kubectl::new();
    let pod = "checkout-6d8f7b9c5d-x7k2p";
    let tail = k.ok(&["logs", "-n", "shop", pod, "--tail", "1"]);
    assert_eq!(tail.lines().count(), 1);
    assert!(tail.contains("shutting down (exit code 1)"));
    // kubectl finds the pod through the Deployment's selector
    let via_deploy = k.ok(&["logs", "-n", "shop", "deployment/checkout", "--tail=1"]);
    assert_eq!(via_deploy, tail);
    let prev = k.ok(&["logs", "-n", "shop", pod, "-c", "checkout", "--previous"]);
    assert!(prev.contains("fatal: could not connect to database"));
    let waiting = k.run(&["logs", "-n", "shop", "frontend-7b9c6d5f8-q2w8r"]);
    assert!(!waiting.ok);
    assert!(
        waiting
            .stderr
            .contains("is waiting to start: trying and failing to pull image"),
        "{}",
        waiting.stderr
    );
    let bad = k.run(&["logs", "-n", "shop", pod, "-c", "nope"]);
    assert!(!bad.ok);
    assert!(
        bad.stderr.contains("container nope is not valid for pod"),
        "{}",
        bad.stderr
    );

    k.fake
        .set_pod_log("shop", "cart-66b8d7c9f5-5mzsq", "cart", "a\nb\nc\n");
    assert_eq!(
        k.ok(&["logs", "-n", "shop", "cart-66b8d7c9f5-5mzsq", "--tail=2"]),
        "b\nc\n"
    );
}

#[test]
fn apply_label_and_delete() {
    let k = Kubectl::new();
    let manifest = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: hello}
  template:
    metadata:
      labels: {app: hello}
    spec:
      containers:
      - name: hello
        image: nginx:1.27
      - name: sidecar
        image: envoy:1.31
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: hello-config
  namespace: default
data:
  greeting: hi
"#;
    let out = k.run_stdin(&["apply", "-f", "-"], Some(manifest));
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        [
            "deployment.apps/hello created",
            "configmap/hello-config created"
        ]
    );
    let d = k
        .fake
        .get_object("apps/v1", "Deployment", "default", "hello")
        .unwrap();
    assert!(
        d["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .is_string()
    );

    // a second client-side apply computes a strategic merge patch
    let changed = manifest
        .replace("replicas: 2", "replicas: 3")
        .replace("nginx:1.27", "nginx:1.28");
    let out = k.run_stdin(&["apply", "-f", "-"], Some(&changed));
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stdout.contains("deployment.apps/hello configured"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("configmap/hello-config unchanged"),
        "{}",
        out.stdout
    );
    let d = k
        .fake
        .get_object("apps/v1", "Deployment", "default", "hello")
        .unwrap();
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(d["metadata"]["generation"], 2);
    let containers = d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 2);
    assert_eq!(containers[0]["image"], "nginx:1.28");

    // server-side apply
    let out = k.run_stdin(
        &["apply", "--server-side", "-f", "-"],
        Some(&changed.replace("greeting: hi", "greeting: hello")),
    );
    assert!(out.ok, "{}", out.stderr);
    let cm = k
        .fake
        .get_object("v1", "ConfigMap", "default", "hello-config")
        .unwrap();
    assert_eq!(cm["data"]["greeting"], "hello");

    // kubectl diff: a server-side dry-run patch, then a local diff (exit code 1 = differences)
    let diff = k.run_stdin(
        &["diff", "-f", "-"],
        Some(&changed.replace("replicas: 3", "replicas: 4")),
    );
    assert!(
        diff.stdout.contains("-  replicas: 3") && diff.stdout.contains("+  replicas: 4"),
        "{}\n{}",
        diff.stdout,
        diff.stderr
    );

    // dry run leaves the cluster alone
    let out = k.run_stdin(
        &["apply", "--dry-run=server", "-f", "-"],
        Some(&manifest.replace("replicas: 2", "replicas: 9")),
    );
    assert!(out.ok, "{}", out.stderr);
    let d = k
        .fake
        .get_object("apps/v1", "Deployment", "default", "hello")
        .unwrap();
    assert_eq!(d["spec"]["replicas"], 3);

    // label and unlabel
    k.ok(&["label", "deployment", "hello", "team=payments"]);
    let shown = k.ok(&["get", "deploy", "-l", "team=payments", "-o", "name"]);
    assert_eq!(shown.trim(), "deployment.apps/hello");
    let again = k.run(&["label", "deployment", "hello", "team=other"]);
    assert!(!again.ok, "relabel without --overwrite must fail");
    k.ok(&["label", "deployment", "hello", "team-"]);
    let d = k
        .fake
        .get_object("apps/v1", "Deployment", "default", "hello")
        .unwrap();
    assert!(d["metadata"]["labels"].get("team").is_none());

    // scale through the scale subresource
    k.ok(&["scale", "deployment", "hello", "--replicas=5"]);
    let d = k
        .fake
        .get_object("apps/v1", "Deployment", "default", "hello")
        .unwrap();
    assert_eq!(d["spec"]["replicas"], 5);

    // delete
    let out = k.run_stdin(&["delete", "-f", "-"], Some(manifest));
    assert!(out.ok, "{}", out.stderr);
    assert!(
        k.fake
            .get_object("apps/v1", "Deployment", "default", "hello")
            .is_none()
    );
    let gone = k.run(&["delete", "configmap", "hello-config"]);
    assert!(!gone.ok);
    assert!(gone.stderr.contains("NotFound"), "{}", gone.stderr);
}

#[test]
fn custom_resources_added_at_run_time() {
    let k = Kubectl::new();
    // discovery is cached by kubectl: prime it before the CRD exists
    k.ok(&["get", "pods"]);
    k.fake
        .apply_object(json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "agents.kagent.dev"},
            "spec": {
                "group": "kagent.dev", "scope": "Namespaced",
                "names": {"plural": "agents", "singular": "agent", "kind": "Agent", "shortNames": ["ag"]},
                "versions": [{
                    "name": "v1alpha2", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                    "additionalPrinterColumns": [{"name": "Type", "type": "string", "jsonPath": ".spec.type"},
                        {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}
                    ]
                }]
            }
        }))
        .unwrap();
    let out = k.run_stdin(
        &["apply", "-f", "-"],
        Some("apiVersion: kagent.dev/v1alpha2\nkind: Agent\nmetadata:\n  name: k8s-agent\nspec:\n  type: Declarative\nstatus:\n  conditions:\n  - {type: Accepted, status: \"True\"}\n  - {type: Ready, status: \"False\"}\n"),
    );
    assert!(out.ok, "{}", out.stderr);
    let table = k.ok(&["get", "ag"]);
    assert_eq!(
        &row(&table, "k8s-agent")[..3],
        ["k8s-agent", "Declarative", "False"]
    );
    let res = k.ok(&["api-resources", "--api-group=kagent.dev", "-o", "name"]);
    assert_eq!(res.trim(), "agents.kagent.dev");
    k.ok(&["delete", "agent", "k8s-agent"]);
    assert!(k.ok(&["get", "agents", "-o", "name"]).trim().is_empty());
}

#[test]
fn exec_runs_the_handler() {
    let k = Kubectl::new();
    let out = k.ok(&[
        "exec",
        "-n",
        "shop",
        "cart-66b8d7c9f5-5mzsq",
        "--",
        "printenv",
    ]);
    assert!(
        out.contains("REDIS_ADDR=redis.shop.svc.cluster.local:6379"),
        "{out}"
    );
    let failed = k.run(&["exec", "-n", "shop", "cart-66b8d7c9f5-5mzsq", "--", "false"]);
    assert!(!failed.ok);
    assert!(
        failed
            .stderr
            .contains("command terminated with exit code 1"),
        "{}",
        failed.stderr
    );
}

#[test]
fn rollout_history_restart_and_undo() {
    let k = Kubectl::new();
    let history = k.ok(&["rollout", "history", "deployment/api-gateway", "-n", "shop"]);
    let revisions: Vec<&str> = history
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|t| t.chars().all(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(revisions, ["1", "2"], "{history}");

    k.ok(&["rollout", "restart", "deployment/web", "-n", "shop"]);
    let web = k
        .fake
        .get_object("apps/v1", "Deployment", "shop", "web")
        .unwrap();
    assert!(
        web["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_string(),
        "{web}"
    );

    // undo goes back to revision 1's template (no controller runs, so only the spec changes)
    k.ok(&["rollout", "undo", "deployment/api-gateway", "-n", "shop"]);
    let gw = k
        .fake
        .get_object("apps/v1", "Deployment", "shop", "api-gateway")
        .unwrap();
    assert_eq!(
        gw["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/example-shop/api-gateway:5.1.0"
    );
}

#[test]
fn wait_and_auth_can_i() {
    let k = Kubectl::new();
    let out = k.ok(&[
        "wait",
        "--for=condition=Available",
        "deployment/web",
        "-n",
        "shop",
        "--timeout=10s",
    ]);
    assert_eq!(out.trim(), "deployment.apps/web condition met");
    let stuck = k.run(&[
        "wait",
        "--for=condition=Available",
        "deployment/checkout",
        "-n",
        "shop",
        "--timeout=1s",
    ]);
    assert!(!stuck.ok, "checkout never becomes available");
    assert!(stuck.stderr.contains("timed out"), "{}", stuck.stderr);
    assert_eq!(k.ok(&["auth", "can-i", "delete", "pods"]).trim(), "yes");
}
