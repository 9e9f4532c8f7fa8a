//! Kubernetes tools: list and render 5,000 pods, and what a pod listing costs a model in tokens.
//!
//! - `render_5000_pods`: the pod table for 5,000 pods already in memory (no I/O).
//! - `list_and_render_5000_pods`: `k8s_get_resources` end to end (HTTP list from the in-process
//!   fake API server, parse, render) for 5,000 pods.
//! - Before the timed benches, token counts (o200k, tiktoken-rs) for 500 pods: our table vs
//!   `kubectl get pods -o wide` and `-o json` on the same fake cluster (kubectl 1.31 from
//!   `scripts/setup/kubectl.sh`).
//!
//! Run: `cargo bench -p kagent-benches --bench k8s_render`.

use std::path::PathBuf;
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};
use kagent_core::ToolContext;
use kagent_core::message::render_tool_content;
use kagent_fake_apiserver::FakeCluster;
use kagent_k8s::K8sTools;
use kagent_k8s::render::table_for;
use serde_json::{Value, json};

/// A deterministic pseudo-random sequence.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn suffix(&mut self, n: usize) -> String {
        const A: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..n)
            .map(|_| A[(self.next() as usize) % A.len()] as char)
            .collect()
    }
}

/// A realistic pod as the API server returns it: most running, some failing in the usual ways.
fn pod(ns: &str, i: usize, rng: &mut Lcg, now: jiff::Timestamp) -> Value {
    let apps = [
        "web", "cart", "checkout", "payments", "search", "frontend", "worker", "api",
    ];
    let app = apps[i % apps.len()];
    let rs_hash = format!("{}{}", 5 + (i % 4), rng.suffix(8));
    let name = format!("{app}-{rs_hash}-{}", rng.suffix(5));
    let created = now - jiff::SignedDuration::from_secs(3600 * (1 + (rng.next() % 200) as i64));
    let started = created + jiff::SignedDuration::from_secs(20);
    let node = format!(
        "ip-10-0-{}-{}.eu-west-1.compute.internal",
        rng.next() % 8,
        rng.next() % 250
    );
    let image = format!(
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/{app}:1.{}.{}",
        i % 7,
        i % 3
    );
    let kind = rng.next() % 100;
    let restarts = if kind < 90 { 0 } else { 3 + (rng.next() % 40) };
    let (ready, state, last) = match kind {
        0..=89 => (
            true,
            json!({"running": {"startedAt": started.to_string()}}),
            json!({}),
        ),
        90..=93 => (
            false,
            json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 5m0s restarting failed container={app} pod={name}_{ns}(8d9c1f0e-1b7a-4c3e-9f2d-6a5b4c3d2e1f)")}}),
            json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": started.to_string(), "finishedAt": (now - jiff::SignedDuration::from_secs(120)).to_string(), "containerID": "containerd://4f1c0e8b7a6d5c4b3a29180716f5e4d3c2b1a09f8e7d6c5b4a3928170615f4e3"}}),
        ),
        94..=95 => (
            false,
            json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s restarting failed container"}}),
            json!({"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": started.to_string(), "finishedAt": (now - jiff::SignedDuration::from_secs(300)).to_string(), "containerID": "containerd://9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"}}),
        ),
        96..=97 => (
            false,
            json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}-rc1\"")}}),
            json!({}),
        ),
        _ => (
            false,
            json!({"running": {"startedAt": started.to_string()}}),
            json!({}),
        ),
    };
    let pending = matches!(kind, 96..=97);
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": format!("{app}-{rs_hash}-"),
            "namespace": ns,
            "uid": format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", rng.next(), rng.next() % 65536, rng.next() % 4096, rng.next() % 4096, rng.next()),
            "resourceVersion": format!("{}", 100000 + i),
            "creationTimestamp": created.to_string(),
            "labels": {"app": app, "pod-template-hash": rs_hash, "app.kubernetes.io/part-of": "shop"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": created.to_string()},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{app}-{rs_hash}"), "uid": "7c6b5a49-3827-4161-9e5d-4c3b2a190807", "controller": true, "blockOwnerDeletion": true}]
        },
        "spec": {
            "containers": [{
                "name": app,
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "DB_HOST", "value": "postgres.shop.svc.cluster.local"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
                "volumeMounts": [{"name": "kube-api-access-x7k2p", "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File"
            }],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "serviceAccount": "default",
            "nodeName": node,
            "securityContext": {},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ],
            "volumes": [{"name": "kube-api-access-x7k2p", "projected": {"sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
            ], "defaultMode": 420}}],
            "priority": 0,
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority"
        },
        "status": {
            "phase": if pending { "Pending" } else { "Running" },
            "conditions": [
                {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": started.to_string()},
                {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": created.to_string()},
                {"type": "Ready", "status": if ready { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": started.to_string()},
                {"type": "ContainersReady", "status": if ready { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": started.to_string()},
                {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": created.to_string()}
            ],
            "hostIP": format!("10.0.{}.{}", rng.next() % 8, rng.next() % 250),
            "hostIPs": [{"ip": "10.0.3.17"}],
            "podIP": format!("10.244.{}.{}", rng.next() % 64, rng.next() % 250),
            "podIPs": [{"ip": "10.244.1.23"}],
            "startTime": created.to_string(),
            "containerStatuses": [{
                "name": app,
                "state": state,
                "lastState": last,
                "ready": ready,
                "restartCount": restarts,
                "image": image,
                "imageID": format!("{image}@sha256:3b1f9a0c2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a"),
                "containerID": "containerd://0e1d2c3b4a5968778695a4b3c2d1e0f9e8d7c6b5a4938271605f4e3d2c1b0a9",
                "started": ready
            }],
            "qosClass": "Burstable"
        }
    })
}

fn load_pods(cluster: &FakeCluster, ns: &str, n: usize) {
    let now = jiff::Timestamp::now();
    let mut rng = Lcg(42);
    cluster
        .apply_object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
        .unwrap();
    for i in 0..n {
        cluster.apply_object(pod(ns, i, &mut rng, now)).unwrap();
    }
}

fn kubectl() -> PathBuf {
    let root = std::env::var_os("KAGENT_TEST_COMPONENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.test-components"));
    let bin = root.join("bin/kubectl");
    assert!(
        bin.exists(),
        "kubectl 1.31 is missing at {}: run scripts/setup/kubectl.sh",
        bin.display()
    );
    bin
}

fn token_report(rt: &tokio::runtime::Runtime) {
    let cluster = FakeCluster::start().unwrap();
    load_pods(&cluster, "tokens", 500);
    let dir = std::env::temp_dir().join(format!("k8s-render-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    cluster.write_kubeconfig(&kubeconfig).unwrap();
    let run = |fmt: &str| -> String {
        let out = Command::new(kubectl())
            .args(["get", "pods", "-n", "tokens", "-o", fmt])
            .env("KUBECONFIG", &kubeconfig)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubectl -o {fmt}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let wide = run("wide");
    let json_out = run("json");
    let ours = rt.block_on(async {
        let tools = K8sTools::builder(cluster.client().unwrap())
            .default_namespace("tokens")
            .max_output_chars(10_000_000)
            .build()
            .unwrap();
        let out = tools
            .call(
                "k8s_get_resources",
                json!({"resource_type": "pods", "limit": 0}),
                ToolContext::detached("bench"),
            )
            .await
            .unwrap();
        render_tool_content(&out.content)
    });
    let bpe = tiktoken_rs::o200k_base().unwrap();
    let count = |s: &str| bpe.encode_with_special_tokens(s).len();
    let (t_ours, t_wide, t_json) = (count(&ours), count(&wide), count(&json_out));
    let failing_rows = ours
        .lines()
        .filter(|l| l.contains("CrashLoopBackOff") || l.contains("ImagePullBackOff"))
        .count();
    let oom_rows = ours
        .lines()
        .filter(|l| l.contains("OOMKilled(137)"))
        .count();
    println!("token counts for 500 pods (o200k):");
    println!(
        "  k8s_get_resources: {t_ours} tokens, {} bytes ({failing_rows} failing rows, {oom_rows} showing OOMKilled(137))",
        ours.len()
    );
    println!("  kubectl -o wide:   {t_wide} tokens, {} bytes", wide.len());
    println!(
        "  kubectl -o json:   {t_json} tokens, {} bytes",
        json_out.len()
    );
    println!(
        "  ratio vs -o wide: {:.3}x (target <= 1.0); vs -o json: {:.4}x (target <= 0.1)",
        t_ours as f64 / t_wide as f64,
        t_ours as f64 / t_json as f64
    );
    println!(
        "  first lines of ours:\n{}",
        ours.lines().take(4).collect::<Vec<_>>().join("\n")
    );
    println!(
        "  first lines of -o wide:\n{}",
        wide.lines().take(4).collect::<Vec<_>>().join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    token_report(&rt);

    let now = jiff::Timestamp::now();
    let mut rng = Lcg(7);
    let pods: Vec<Value> = (0..5_000).map(|i| pod("bench", i, &mut rng, now)).collect();
    c.bench_function("render_5000_pods", |b| {
        b.iter(|| table_for("Pod", &pods, false, now).render().len())
    });

    let cluster = FakeCluster::start().unwrap();
    load_pods(&cluster, "bench", 5_000);
    let tools = rt.block_on(async {
        K8sTools::builder(cluster.client().unwrap())
            .default_namespace("bench")
            .max_output_chars(100_000_000)
            .build()
            .unwrap()
    });
    let mut group = c.benchmark_group("k8s");
    group.sample_size(10);
    group.bench_function("list_and_render_5000_pods", |b| {
        b.to_async(&rt).iter(|| async {
            let out = tools
                .call(
                    "k8s_get_resources",
                    json!({"resource_type": "pods", "limit": 0}),
                    ToolContext::detached("bench"),
                )
                .await
                .unwrap();
            assert!(render_tool_content(&out.content).lines().count() > 5_000);
        })
    });
    group.finish();
}

criterion_group!(k8s_render, benches);
criterion_main!(k8s_render);
