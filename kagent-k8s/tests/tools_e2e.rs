//! The tools end to end against the in-process fake API server loaded with the broken-workloads
//! scenario: a real `kube::Client` over HTTP, no mocks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::Arc;

use kagent_core::message::render_tool_content;
use kagent_core::{ToolContext, ToolEffect, ToolError, Toolset};
use kagent_fake_apiserver::FakeCluster;
use kagent_k8s::{DiagnoseOptions, K8sTools, ResourceCatalog, diagnose};
use serde_json::{Value, json};

fn setup() -> (FakeCluster, Toolset) {
    let cluster = FakeCluster::start_with_scenario().expect("fake cluster");
    let tools = K8sTools::builder(cluster.client().unwrap())
        .default_namespace("shop")
        .build()
        .unwrap();
    (cluster, tools)
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

fn dry_ctx() -> ToolContext {
    let mut ctx = ToolContext::detached("t");
    ctx.dry_run = true;
    ctx
}

#[tokio::test]
async fn pod_table_carries_failure_reasons() {
    let (_c, tools) = setup();
    let out = call(&tools, "k8s_get_resources", json!({"resource_type": "po"})).await;
    for needle in [
        "NAME",
        "LAST-EXIT",
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "OOMKilled(137)",
        "CreateContainerConfigError",
        "Pending",
        "worker-2",
    ] {
        assert!(out.contains(needle), "missing {needle}:\n{out}");
    }
    assert!(
        !out.contains("NAMESPACE"),
        "single namespace has no column:\n{out}"
    );
    assert!(
        !out.contains("coredns"),
        "other namespaces must not leak:\n{out}"
    );

    let all = call(
        &tools,
        "k8s_get_resources",
        json!({"resource_type": "pods", "all_namespaces": "true"}),
    )
    .await;
    assert!(all.starts_with("NAMESPACE"), "{all}");
    assert!(all.contains("kube-system"), "{all}");
}

#[tokio::test]
async fn selectors_names_formats_and_paging() {
    let (_c, tools) = setup();
    let web = call(
        &tools,
        "k8s_get_resources",
        json!({"resource_type": "pods", "label_selector": "app=web", "output": "name"}),
    )
    .await;
    assert_eq!(web.lines().count(), 5, "{web}");
    assert!(web.lines().all(|l| l.starts_with("pod/web-")), "{web}");

    let limited = call(
        &tools,
        "k8s_get_resources",
        json!({"resource_type": "pods", "limit": 2}),
    )
    .await;
    assert_eq!(
        limited
            .lines()
            .filter(|l| l.contains("Running")
                || l.contains("Back")
                || l.contains("Pending")
                || l.contains("Error"))
            .count(),
        2,
        "{limited}"
    );
    assert!(
        limited.contains("continue_token") || limited.contains("truncated"),
        "paging note missing:\n{limited}"
    );

    let one = call(
        &tools,
        "k8s_get_resources",
        json!({"resource_type": "deployment/web", "output": "json"}),
    )
    .await;
    let v: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(v["kind"], "Deployment");
    assert!(v["metadata"].get("managedFields").is_none());

    let nodes = call(&tools, "k8s_get_resources", json!({"resource_type": "no"})).await;
    assert!(
        nodes.contains("worker-3") && nodes.contains("Ready"),
        "{nodes}"
    );

    let none = call(
        &tools,
        "k8s_get_resources",
        json!({"resource_type": "pods", "namespace": "empty-ns"}),
    )
    .await;
    assert_eq!(none, "No pods found in namespace empty-ns.");
}

#[tokio::test]
async fn unknown_types_and_missing_objects_are_data_for_the_model() {
    let (_c, tools) = setup();
    let e = call_err(
        &tools,
        "k8s_get_resources",
        json!({"resource_type": "deploymentz"}),
    )
    .await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("deployments.apps"), "{e}");
    assert!(!e.is_fault());

    let e = call_err(
        &tools,
        "k8s_describe_resource",
        json!({"resource_type": "pod", "resource_name": "nope"}),
    )
    .await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");

    // Schema validation happens before the tool runs.
    let e = call_err(&tools, "k8s_get_resources", json!({"resource_name": "x"})).await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    let e = call_err(
        &tools,
        "k8s_scale",
        json!({"name": "web", "replicas": "lots"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
}

#[tokio::test]
async fn logs_describe_and_events() {
    let (_c, tools) = setup();
    let logs = call(
        &tools,
        "k8s_get_pod_logs",
        json!({"pod_name": "checkout-6d8f7b9c5d-x7k2p", "tail_lines": 2, "previous": true}),
    )
    .await;
    assert_eq!(logs.lines().count(), 2, "{logs}");
    assert!(
        logs.contains("exit code 1") || logs.contains("fatal"),
        "{logs}"
    );

    let d = call(
        &tools,
        "k8s_describe_resource",
        json!({"resource_type": "pod", "resource_name": "checkout-6d8f7b9c5d-x7k2p", "namespace": "shop"}),
    )
    .await;
    for needle in [
        "Owned by: ReplicaSet/checkout-6d8f7b9c5d <- Deployment/checkout",
        "Waiting: CrashLoopBackOff",
        "last state: Terminated: Error exit=1",
        "Warning BackOff",
        "Ready=False",
    ] {
        assert!(d.contains(needle), "missing {needle}:\n{d}");
    }

    let svc = call(
        &tools,
        "k8s_describe_resource",
        json!({"resource_type": "svc", "resource_name": "payments"}),
    )
    .await;
    assert!(svc.contains("Selector: app=payments-api"), "{svc}");

    let ev = call(
        &tools,
        "k8s_get_events",
        json!({"namespace": "shop", "type": "Warning"}),
    )
    .await;
    assert!(
        ev.contains("FailedScheduling") && !ev.contains(" Normal "),
        "{ev}"
    );
    let all = call(&tools, "k8s_get_events", json!({})).await;
    assert!(all.starts_with("NAMESPACE"), "{all}");
}

#[tokio::test]
async fn diagnose_finds_every_broken_workload_with_evidence() {
    let (cluster, tools) = setup();
    let client = cluster.client().unwrap();
    let catalog = ResourceCatalog::new(client.clone());
    let d = diagnose(
        &client,
        &catalog,
        &DiagnoseOptions::default().namespace(Some("shop".into())),
    )
    .await
    .unwrap();
    let has = |name_prefix: &str, reason: &str| {
        d.findings
            .iter()
            .find(|f| f.name.starts_with(name_prefix) && f.reason == reason)
            .unwrap_or_else(|| panic!("no {reason} on {name_prefix}:\n{}", d.render()))
    };
    let crash = has("checkout-", "CrashLoopBackOff");
    assert!(
        crash
            .evidence
            .iter()
            .any(|e| e.starts_with("log checkout:") && e.contains("connection refused")),
        "{crash:?}"
    );
    assert_eq!(crash.workload.as_deref(), Some("Deployment/checkout"));
    has("frontend-", "ImagePullBackOff");
    has("report-worker-", "OOMKilled");
    has("model-training-", "Unschedulable");
    has("payments", "SelectorMatchesNothing");
    has("uploads", "PvcPending");
    has("search-", "ReadinessProbeFailing");
    has("api-gateway", "RolloutStuck");
    has("web", "HpaAtMaxReplicas");
    // Healthy workloads are not reported.
    assert!(
        !d.findings.iter().any(|f| f.name.starts_with("cart")),
        "{}",
        d.render()
    );

    let text = call(&tools, "k8s_diagnose", json!({"namespace": "shop"})).await;
    assert!(text.contains("critical"), "{text}");
}

/// A Deployment whose selector excludes the canary pod that carries its `app` label.
const SET_BASED: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: ledger, namespace: shop, uid: ledger-uid, generation: 1}
spec:
  replicas: 2
  selector:
    matchLabels: {app: ledger}
    matchExpressions:
    - {key: track, operator: NotIn, values: [canary]}
    - {key: tier, operator: Exists}
  template:
    metadata: {labels: {app: ledger, track: stable, tier: be}}
    spec: {containers: [{name: app, image: ledger:1}]}
status: {observedGeneration: 1, replicas: 1, readyReplicas: 0, updatedReplicas: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: ledger-stable, namespace: shop, labels: {app: ledger, track: stable, tier: be}}
spec: {containers: [{name: app, image: ledger:1}]}
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses: [{name: app, ready: false, restartCount: 0, state: {running: {}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: ledger-canary, namespace: shop, labels: {app: ledger, track: canary, tier: be}}
spec: {containers: [{name: app, image: ledger:2}]}
status: {phase: Pending}
---
apiVersion: v1
kind: Pod
metadata: {name: ledger-untiered, namespace: shop, labels: {app: ledger, track: stable}}
spec: {containers: [{name: app, image: ledger:1}]}
status: {phase: Pending}
"#;

#[tokio::test]
async fn set_based_selectors_select_exactly_their_pods() {
    let (cluster, tools) = setup();
    cluster.load_yaml(SET_BASED).unwrap();
    cluster.clear_requests();

    // describe lists the pods the API server returns for the whole selector.
    let d = call(
        &tools,
        "k8s_describe_resource",
        json!({"resource_type": "deployment", "resource_name": "ledger"}),
    )
    .await;
    assert!(
        d.contains("Selector: app=ledger,track notin (canary),tier"),
        "{d}"
    );
    assert!(d.contains("Pods (1):"), "{d}");
    assert!(d.contains("ledger-stable"), "{d}");
    assert!(
        !d.contains("ledger-canary") && !d.contains("ledger-untiered"),
        "{d}"
    );
    let sent: Vec<String> = cluster
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/pods"))
        .map(|r| r.query)
        .collect();
    assert!(
        sent.iter()
            .any(|q| q.contains("notin") && q.contains("tier")),
        "the set-based selector reaches the server: {sent:?}"
    );

    // diagnose selects the same pod in the snapshot.
    let client = cluster.client().unwrap();
    let catalog = ResourceCatalog::new(client.clone());
    let report = diagnose(
        &client,
        &catalog,
        &DiagnoseOptions::default()
            .namespace(Some("shop".into()))
            .include_logs(false),
    )
    .await
    .unwrap();
    let ledger = report
        .findings
        .iter()
        .find(|f| f.kind == "Deployment" && f.name == "ledger")
        .unwrap_or_else(|| panic!("{}", report.render()));
    assert_eq!(ledger.reason, "ReplicasUnavailable");
    assert!(
        ledger
            .evidence
            .contains(&"pods: 1 pod(s) Running but not ready".to_owned()),
        "{ledger:?}"
    );
}

#[tokio::test]
async fn scale_dry_run_changes_nothing_and_shows_the_diff() {
    let (cluster, tools) = setup();
    let out = call_ctx(
        &tools,
        "k8s_scale",
        json!({"name": "cart", "replicas": 4}),
        dry_ctx(),
    )
    .await;
    assert!(out.starts_with("DRY RUN"), "{out}");
    assert!(
        out.contains("-  replicas: 2") && out.contains("+  replicas: 4"),
        "{out}"
    );
    let cart = cluster
        .get_object("apps/v1", "Deployment", "shop", "cart")
        .unwrap();
    assert_eq!(cart["spec"]["replicas"], 2);

    let out = call(
        &tools,
        "k8s_scale",
        json!({"name": "cart", "replicas": "3"}),
    )
    .await;
    assert!(out.contains("from 2 to 3"), "{out}");
    let cart = cluster
        .get_object("apps/v1", "Deployment", "shop", "cart")
        .unwrap();
    assert_eq!(cart["spec"]["replicas"], 3);
}

#[tokio::test]
async fn patches_labels_and_annotations() {
    let (cluster, tools) = setup();
    let out = call(
        &tools,
        "k8s_patch_resource",
        json!({"resource_type": "deployment", "resource_name": "cart", "patch": "{\"spec\":{\"minReadySeconds\":5}}", "dry_run": true}),
    )
    .await;
    assert!(out.contains("+  minReadySeconds: 5"), "{out}");
    let cart = cluster
        .get_object("apps/v1", "Deployment", "shop", "cart")
        .unwrap();
    assert!(cart["spec"].get("minReadySeconds").is_none());

    call(
        &tools,
        "k8s_patch_resource",
        json!({"resource_type": "deployment", "resource_name": "cart", "patch_type": "json",
               "patch": "[{\"op\":\"add\",\"path\":\"/spec/minReadySeconds\",\"value\":7}]"}),
    )
    .await;
    let cart = cluster
        .get_object("apps/v1", "Deployment", "shop", "cart")
        .unwrap();
    assert_eq!(cart["spec"]["minReadySeconds"], 7);

    let e = call_err(
        &tools,
        "k8s_patch_resource",
        json!({"resource_type": "deployment", "resource_name": "cart", "patch": "{", "patch_type": "merge"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");

    call(
        &tools,
        "k8s_label_resource",
        json!({"resource_type": "svc", "resource_name": "cart", "labels": "team=payments tier=backend"}),
    )
    .await;
    let svc = cluster.get_object("v1", "Service", "shop", "cart").unwrap();
    assert_eq!(svc["metadata"]["labels"]["team"], "payments");
    let out = call(
        &tools,
        "k8s_remove_label",
        json!({"resource_type": "svc", "resource_name": "cart", "label_key": "team"}),
    )
    .await;
    assert!(out.contains("-    team: payments"), "{out}");
    let svc = cluster.get_object("v1", "Service", "shop", "cart").unwrap();
    assert!(svc["metadata"]["labels"].get("team").is_none());

    call(
        &tools,
        "k8s_annotate_resource",
        json!({"resource_type": "deploy", "resource_name": "cart", "annotations": "note='checked by kagent'"}),
    )
    .await;
    let cart = cluster
        .get_object("apps/v1", "Deployment", "shop", "cart")
        .unwrap();
    assert_eq!(cart["metadata"]["annotations"]["note"], "checked by kagent");
    call(
        &tools,
        "k8s_remove_annotation",
        json!({"resource_type": "deploy", "resource_name": "cart", "annotation_key": "note"}),
    )
    .await;
    let cart = cluster
        .get_object("apps/v1", "Deployment", "shop", "cart")
        .unwrap();
    assert!(cart["metadata"]["annotations"].get("note").is_none());

    let e = call_err(
        &tools,
        "k8s_label_resource",
        json!({"resource_type": "svc", "resource_name": "cart", "labels": "no-equals-sign"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: feature-flags\ndata:\n  checkout_v2: \"false\"\n";

#[tokio::test]
async fn apply_create_and_delete() {
    let (cluster, tools) = setup();
    let out = call_ctx(
        &tools,
        "k8s_apply_manifest",
        json!({"manifest": CM}),
        dry_ctx(),
    )
    .await;
    assert!(
        out.contains("would be configmap/feature-flags created"),
        "{out}"
    );
    assert!(
        cluster
            .get_object("v1", "ConfigMap", "shop", "feature-flags")
            .is_none()
    );

    let out = call(&tools, "k8s_apply_manifest", json!({"manifest": CM})).await;
    assert!(
        out.contains("configmap/feature-flags created in namespace shop"),
        "{out}"
    );
    let changed = CM.replace("\"false\"", "\"true\"");
    let out = call(&tools, "k8s_apply_manifest", json!({"manifest": changed})).await;
    assert!(
        out.contains("configured") && out.contains("+  checkout_v2: 'true'"),
        "{out}"
    );
    let cm = cluster
        .get_object("v1", "ConfigMap", "shop", "feature-flags")
        .unwrap();
    assert_eq!(cm["data"]["checkout_v2"], "true");

    // create refuses what exists.
    let e = call_err(&tools, "k8s_create_resource", json!({"yaml_content": CM})).await;
    assert!(e.to_string().contains("AlreadyExists"), "{e}");
    let e = call_err(
        &tools,
        "k8s_create_resource",
        json!({"yaml_content": "kind: ConfigMap"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");

    let out = call_ctx(
        &tools,
        "k8s_delete_resource",
        json!({"resource_type": "cm", "resource_name": "feature-flags"}),
        dry_ctx(),
    )
    .await;
    assert!(
        out.starts_with("DRY RUN") && out.contains("-kind: ConfigMap"),
        "{out}"
    );
    assert!(
        cluster
            .get_object("v1", "ConfigMap", "shop", "feature-flags")
            .is_some()
    );
    call(
        &tools,
        "k8s_delete_resource",
        json!({"resource_type": "cm", "resource_name": "feature-flags"}),
    )
    .await;
    assert!(
        cluster
            .get_object("v1", "ConfigMap", "shop", "feature-flags")
            .is_none()
    );
}

#[tokio::test]
async fn rollout_actions() {
    let (cluster, tools) = setup();
    let st = call(
        &tools,
        "k8s_rollout",
        json!({"action": "status", "resource_type": "deployment", "resource_name": "api-gateway"}),
    )
    .await;
    assert!(st.contains("exceeded its progress deadline"), "{st}");
    let hist = call(
        &tools,
        "k8s_rollout",
        json!({"action": "history", "resource_type": "deployment", "resource_name": "api-gateway"}),
    )
    .await;
    assert!(
        hist.contains("REVISION") && hist.contains("api-gateway-"),
        "{hist}"
    );

    call(
        &tools,
        "k8s_rollout",
        json!({"action": "restart", "resource_type": "deployment", "resource_name": "cart"}),
    )
    .await;
    let cart = cluster
        .get_object("apps/v1", "Deployment", "shop", "cart")
        .unwrap();
    assert!(
        cart["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_string()
    );

    call(
        &tools,
        "k8s_rollout",
        json!({"action": "pause", "resource_type": "deployment", "resource_name": "cart"}),
    )
    .await;
    let cart = cluster
        .get_object("apps/v1", "Deployment", "shop", "cart")
        .unwrap();
    assert_eq!(cart["spec"]["paused"], true);

    let undo = call_ctx(
        &tools,
        "k8s_rollout",
        json!({"action": "undo", "resource_type": "deployment", "resource_name": "api-gateway"}),
        dry_ctx(),
    )
    .await;
    assert!(
        undo.starts_with("DRY RUN") && undo.contains("roll back"),
        "{undo}"
    );

    let e = call_err(
        &tools,
        "k8s_rollout",
        json!({"action": "explode", "resource_type": "deployment", "resource_name": "cart"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    let e = call_err(
        &tools,
        "k8s_rollout",
        json!({"action": "status", "resource_type": "service", "resource_name": "cart"}),
    )
    .await;
    assert!(e.to_string().contains("rollout works on"), "{e}");
}

#[tokio::test]
async fn read_only_mode_registers_no_mutating_tool() {
    let cluster = FakeCluster::start().unwrap();
    let tools = K8sTools::builder(cluster.client().unwrap())
        .read_only(true)
        .build()
        .unwrap();
    assert!(
        tools
            .specs()
            .iter()
            .all(|s| s.effect == ToolEffect::ReadOnly)
    );
    assert!(tools.get("k8s_get_resources").is_some());
    assert!(tools.get("k8s_delete_resource").is_none());
    assert!(tools.get("k8s_execute_command").is_none());

    let full = K8sTools::builder(cluster.client().unwrap())
        .build()
        .unwrap();
    assert_eq!(full.names().count(), 23);
    assert_eq!(
        full.get("k8s_delete_resource").unwrap().spec().effect,
        ToolEffect::Destructive
    );
    assert_eq!(
        full.get("k8s_scale").unwrap().spec().effect,
        ToolEffect::Mutating
    );
    // kagent's argument names.
    let spec = full
        .get("k8s_get_resources")
        .unwrap()
        .spec()
        .input_schema
        .clone();
    for arg in [
        "resource_type",
        "resource_name",
        "namespace",
        "all_namespaces",
        "output",
        "limit",
    ] {
        assert!(spec["properties"].get(arg).is_some(), "{arg} missing");
    }
    assert_eq!(spec["required"], json!(["resource_type"]));
}

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-creds\n  namespace: shop\ntype: Opaque\ndata:\n  password: aHVudGVyMg==\n";

#[tokio::test]
async fn secret_values_never_reach_the_model_unless_allowed() {
    let (cluster, tools) = setup();
    cluster.load_yaml(SECRET).unwrap();
    for (name, args) in [
        (
            "k8s_get_resource_yaml",
            json!({"resource_type": "secret", "resource_name": "db-creds"}),
        ),
        (
            "k8s_get_resources",
            json!({"resource_type": "secrets", "output": "json"}),
        ),
        (
            "k8s_get_resources",
            json!({"resource_type": "secrets", "output": "yaml"}),
        ),
        (
            "k8s_describe_resource",
            json!({"resource_type": "secret", "resource_name": "db-creds"}),
        ),
    ] {
        let out = call(&tools, name, args).await;
        assert!(!out.contains("aHVudGVyMg"), "{name} leaked:\n{out}");
        assert!(out.contains("redacted"), "{name}:\n{out}");
    }
    // A diff of a change to a Secret is redacted too.
    let out = call_ctx(
        &tools,
        "k8s_delete_resource",
        json!({"resource_type": "secret", "resource_name": "db-creds"}),
        dry_ctx(),
    )
    .await;
    assert!(!out.contains("aHVudGVyMg"), "{out}");

    let open = K8sTools::builder(cluster.client().unwrap())
        .default_namespace("shop")
        .allow_secret_values(true)
        .build()
        .unwrap();
    let out = call(
        &open,
        "k8s_get_resource_yaml",
        json!({"resource_type": "secret", "resource_name": "db-creds"}),
    )
    .await;
    assert!(out.contains("aHVudGVyMg=="), "{out}");
}

#[tokio::test]
async fn cluster_configuration_has_no_credentials() {
    let cluster = FakeCluster::start().unwrap();
    let mut kc = cluster.kubeconfig();
    for u in &mut kc.auth_infos {
        if let Some(a) = &mut u.auth_info {
            a.token = Some("super-secret-token".to_owned().into());
        }
    }
    let tools = K8sTools::builder(cluster.client().unwrap())
        .kubeconfig(kc)
        .build()
        .unwrap();
    let out = call(&tools, "k8s_get_cluster_configuration", json!({})).await;
    assert!(!out.contains("super-secret-token"), "{out}");
    assert!(out.contains("token (REDACTED)"), "{out}");
    assert!(out.contains(&cluster.url()), "{out}");
    assert!(out.contains("server-version"), "{out}");
}

#[tokio::test]
async fn service_connectivity_names_the_broken_link() {
    let (_c, tools) = setup();
    let out = call(
        &tools,
        "k8s_check_service_connectivity",
        json!({"service_name": "payments.shop.svc.cluster.local:443"}),
    )
    .await;
    assert!(out.starts_with("PROBLEMS"), "{out}");
    assert!(
        out.contains("selector app=payments-api matches no pod"),
        "{out}"
    );
    let out = call(
        &tools,
        "k8s_check_service_connectivity",
        json!({"service_name": "search"}),
    )
    .await;
    assert!(out.contains("no selected pod is ready"), "{out}");
    // A healthy Service: selector, ready pods and ports line up, and the proxy GET answers.
    let out = call(
        &tools,
        "k8s_check_service_connectivity",
        json!({"service_name": "cart:7070"}),
    )
    .await;
    assert!(out.starts_with("REACHABLE"), "{out}");
    assert!(out.contains("matches 2 pod(s), 2 ready"), "{out}");
    assert!(
        out.contains("HTTP GET via API server proxy succeeded"),
        "{out}"
    );
}

#[tokio::test]
async fn create_from_url_is_off_without_an_allow_list() {
    let (_c, tools) = setup();
    let e = call_err(
        &tools,
        "k8s_create_resource_from_url",
        json!({"url": "https://raw.githubusercontent.com/x/y/main/cm.yaml"}),
    )
    .await;
    assert!(matches!(e, ToolError::Forbidden { .. }), "{e:?}");
}

/// Serves one HTTP response with `body` on a loopback port.
async fn serve_once(body: &'static str) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/yaml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    addr
}

#[tokio::test]
async fn create_from_url_fetches_only_from_allowed_hosts() {
    let cluster = FakeCluster::start_with_scenario().unwrap();
    let addr = serve_once(CM).await;
    let tools = K8sTools::builder(cluster.client().unwrap())
        .default_namespace("shop")
        .url_allow_list(["127.0.0.1"])
        .http_client(reqwest::Client::new())
        .build()
        .unwrap();
    let e = call_err(
        &tools,
        "k8s_create_resource_from_url",
        json!({"url": "https://evil.example/cm.yaml"}),
    )
    .await;
    assert!(matches!(e, ToolError::Forbidden { .. }), "{e:?}");
    let e = call_err(
        &tools,
        "k8s_create_resource_from_url",
        json!({"url": format!("http://user:pw@{addr}/cm.yaml")}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");

    let out = call(
        &tools,
        "k8s_create_resource_from_url",
        json!({"url": format!("http://{addr}/cm.yaml")}),
    )
    .await;
    assert!(out.contains("configmap/feature-flags created"), "{out}");
    assert!(
        cluster
            .get_object("v1", "ConfigMap", "shop", "feature-flags")
            .is_some()
    );
}

#[tokio::test]
async fn generate_resource_uses_the_injected_model() {
    let cluster = FakeCluster::start().unwrap();
    let model = Arc::new(kagent_core::testing::ScriptedProvider::new().text(
        "Here you go:\n```yaml\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n```\n",
    ));
    let tools = K8sTools::builder(cluster.client().unwrap())
        .model(model.clone())
        .build()
        .unwrap();
    let out = call(
        &tools,
        "k8s_generate_resource",
        json!({"resource_type": "istio_virtual_service", "resource_description": "route all reviews traffic to v2"}),
    )
    .await;
    assert!(
        out.starts_with("apiVersion: networking.istio.io/v1"),
        "{out}"
    );
    assert!(out.contains("1 object(s)"), "{out}");
    let reqs = model.requests();
    assert_eq!(reqs.len(), 1);
    assert!(
        reqs[0]
            .system
            .as_deref()
            .unwrap()
            .contains("VirtualService")
    );

    let no_model = K8sTools::builder(cluster.client().unwrap())
        .build()
        .unwrap();
    let e = call_err(
        &no_model,
        "k8s_generate_resource",
        json!({"resource_type": "argo_rollout", "resource_description": "canary"}),
    )
    .await;
    assert!(e.to_string().contains("no model"), "{e}");
}

/// `.model(..)` takes what the agent builder's `.provider(..)` takes: the agent's own
/// `Arc<dyn ModelProvider>` (shared, so both see the same provider) or a provider by value.
#[tokio::test]
async fn the_model_is_given_as_the_agent_builder_takes_it() {
    let cluster = FakeCluster::start().unwrap();
    let manifest = "```yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\n```\n";
    let args = json!({"resource_type": "istio_virtual_service", "resource_description": "flags"});

    let scripted = Arc::new(kagent_core::testing::ScriptedProvider::new().text(manifest));
    let shared: Arc<dyn kagent_core::ModelProvider> = scripted.clone();
    let tools = K8sTools::builder(cluster.client().unwrap())
        .model(Arc::clone(&shared))
        .build()
        .unwrap();
    let out = call(&tools, "k8s_generate_resource", args.clone()).await;
    assert!(out.contains("kind: ConfigMap"), "{out}");
    assert_eq!(
        scripted.requests().len(),
        1,
        "the agent's provider was used"
    );

    let tools = K8sTools::builder(cluster.client().unwrap())
        .model(kagent_core::testing::ScriptedProvider::new().text(manifest))
        .build()
        .unwrap();
    let out = call(&tools, "k8s_generate_resource", args).await;
    assert!(out.contains("kind: ConfigMap"), "{out}");
}

#[tokio::test]
async fn exec_dry_run_runs_nothing_and_errors_are_reported() {
    let (_c, tools) = setup();
    let out = call_ctx(
        &tools,
        "k8s_execute_command",
        json!({"pod_name": "web-5d8c7b9f4-2kq8n", "command": "ls -la /tmp"}),
        dry_ctx(),
    )
    .await;
    assert!(
        out.contains("[\"ls\", \"-la\", \"/tmp\"]") && out.contains("nothing was run"),
        "{out}"
    );
    let e = call_err(
        &tools,
        "k8s_execute_command",
        json!({"pod_name": "web-5d8c7b9f4-2kq8n", "command": "sh -c 'unbalanced"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
}

#[tokio::test]
async fn api_resources_include_crds_added_at_run_time() {
    let (cluster, tools) = setup();
    cluster
        .load_yaml(
            r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"#,
        )
        .unwrap();
    // The catalog was filled before the CRD existed: an unknown name triggers a refresh.
    let _ = call(
        &tools,
        "k8s_get_resources",
        json!({"resource_type": "pods"}),
    )
    .await;
    cluster
        .load_yaml("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: shop}\nstatus:\n  conditions: [{type: Ready, status: \"False\", reason: Broken}]\n")
        .unwrap();
    let out = call(&tools, "k8s_get_resources", json!({"resource_type": "wd"})).await;
    assert!(
        out.contains("w1") && out.contains("Ready=False(Broken)"),
        "{out}"
    );
    let api = call(&tools, "k8s_get_available_api_resources", json!({})).await;
    assert!(
        api.contains("widgets") && api.contains("example.com/v1"),
        "{api}"
    );
}

#[tokio::test]
async fn execute_command_runs_over_websocket_and_reports_exit_codes() {
    let (cluster, tools) = setup();
    cluster.set_exec_handler(|req: &kagent_fake_apiserver::ExecRequest| {
        match req
            .command
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["cat", "/etc/app/config.yaml"] => {
                kagent_fake_apiserver::ExecResult::ok("db_port: 5433\n")
            }
            ["sh", "-c", "nc -z postgres 5433"] => kagent_fake_apiserver::ExecResult::failed(
                "nc: connect to postgres port 5433 (tcp) failed: Connection refused\n",
                1,
            ),
            other => {
                kagent_fake_apiserver::ExecResult::failed(format!("unexpected {other:?}"), 127)
            }
        }
    });
    let out = call(
        &tools,
        "k8s_execute_command",
        json!({"pod_name": "web-5d8c7b9f4-2kq8n", "command": "cat /etc/app/config.yaml"}),
    )
    .await;
    assert!(out.starts_with("exit code: 0"), "{out}");
    assert!(out.contains("db_port: 5433"), "{out}");

    let out = call(
        &tools,
        "k8s_execute_command",
        json!({"pod_name": "web-5d8c7b9f4-2kq8n", "command": "sh -c 'nc -z postgres 5433'"}),
    )
    .await;
    assert!(out.starts_with("exit code: 1"), "{out}");
    assert!(
        out.contains("stderr:") && out.contains("Connection refused"),
        "{out}"
    );

    // A container that is not running cannot exec.
    let e = call_err(
        &tools,
        "k8s_execute_command",
        json!({"pod_name": "frontend-7b9c6d5f8-q2w8r", "command": "true"}),
    )
    .await;
    assert!(!e.is_fault(), "{e:?}");
    assert!(e.to_string().contains("container not found"), "{e}");
}
