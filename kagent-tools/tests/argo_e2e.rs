//! The Argo Rollouts tools end to end against the in-process fake API server with the Argo
//! Rollouts CRDs loaded (`fixtures/argo-rollouts-crds.yaml`) and rollouts in four states
//! (`fixtures/argo-rollouts.yaml`): a real `kube::Client` over HTTP, no mocks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use kagent_core::message::render_tool_content;
use kagent_core::{ToolContext, ToolError, Toolset};
use kagent_fake_apiserver::FakeCluster;
use kagent_tools::ArgoTools;
use serde_json::{Value, json};

const CRDS: &str = include_str!("fixtures/argo-rollouts-crds.yaml");
const ROLLOUTS: &str = include_str!("fixtures/argo-rollouts.yaml");
const FIXTURE_NOW: &str = "2026-01-10T12:00:00Z";

fn setup() -> (FakeCluster, Toolset) {
    let cluster = FakeCluster::start().expect("fake cluster");
    cluster.load_yaml(CRDS).expect("CRDs");
    cluster
        .load_yaml_relative(ROLLOUTS, FIXTURE_NOW)
        .expect("rollouts");
    let tools = ArgoTools::builder(cluster.client().unwrap())
        .default_namespace("shop")
        .build()
        .unwrap();
    (cluster, tools)
}

async fn call(tools: &Toolset, name: &str, args: Value) -> String {
    match tools
        .call(name, args.clone(), ToolContext::detached("t"))
        .await
    {
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

fn rollout(c: &FakeCluster, name: &str) -> Value {
    c.get_object("argoproj.io/v1alpha1", "Rollout", "shop", name)
        .expect("rollout in the fake")
}

fn writes(c: &FakeCluster) -> Vec<String> {
    c.requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect()
}

#[tokio::test]
async fn list_shows_each_state_like_the_plugin() {
    let (_c, tools) = setup();
    let out = call(&tools, "argo_rollouts_list", json!({})).await;
    let line = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row:\n{out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(out.starts_with("NAME"), "{out}");
    assert!(
        line("checkout").starts_with("checkout Canary Progressing 2/5 40 6/7 5 1 6"),
        "{out}"
    );
    assert!(
        line("frontend").starts_with("frontend Canary Paused 1/4 25 4/4 4 1 4 CanaryPauseStep"),
        "{out}"
    );
    assert!(
        line("payments").starts_with("payments Canary Degraded 0/4 0 3/3 3 0 3 RolloutAborted"),
        "set weight of an aborted rollout is 0:\n{out}"
    );
    assert!(
        line("search").starts_with("search Canary Healthy 2/2 100 2/2 2 2 2 -"),
        "{out}"
    );

    let exps = call(
        &tools,
        "argo_rollouts_list",
        json!({"type": "experiments", "namespace": "shop"}),
    )
    .await;
    assert!(exps.contains("checkout-exp-1"), "{exps}");
    assert!(exps.contains("Failed") && exps.contains("30m"), "{exps}");

    let all = call(
        &tools,
        "argo_rollouts_list",
        json!({"all_namespaces": "true"}),
    )
    .await;
    assert!(all.starts_with("NAMESPACE"), "{all}");

    let none = call(
        &tools,
        "argo_rollouts_list",
        json!({"namespace": "default"}),
    )
    .await;
    assert_eq!(none, "No rollouts found in namespace default.");

    let e = call_err(&tools, "argo_rollouts_list", json!({"type": "deployments"})).await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    assert!(e.to_string().contains("rollouts or experiments"), "{e}");
}

#[tokio::test]
async fn get_shows_step_weights_and_traffic() {
    let (_c, tools) = setup();
    let out = call(
        &tools,
        "argo_get_rollout",
        json!({"rollout_name": "checkout"}),
    )
    .await;
    for needle in [
        "Rollout shop/checkout: Progressing — more replicas need to be updated",
        "Strategy: Canary, step 2/5 (setWeight: 40), set weight 40, actual weight 40",
        "Traffic (from the traffic router): canary 40, stable 60",
        "Replicas: desired 5, current 7, updated 1, ready 6, available 6",
        "revision 7  checkout-7d4b9c8f6  canary  1/2 available  ghcr.io/acme/checkout:2.4.1",
        "revision 6  checkout-5c6d7e8f9  stable  5/5 available  ghcr.io/acme/checkout:2.3.9",
        "  > 2  setWeight: 40",
        "    3  pause: 10m",
        "Background analysis: checkout-7d4b9c8f6-7 Running",
        "error-rate: Running  successful 4, failed 0, inconclusive 0, error 0; success when result[0] <= 0.05",
        "last 3 of 4 measurements: [0.012] (Successful), [0.009] (Successful), [0.014] (Successful)",
    ] {
        assert!(out.contains(needle), "missing {needle:?}:\n{out}");
    }

    // A basic canary: the actual weight is the canary's share of available pods (1 of 4).
    let paused = call(
        &tools,
        "argo_get_rollout",
        json!({"rollout_name": "frontend"}),
    )
    .await;
    for needle in [
        "Rollout shop/frontend: Paused — CanaryPauseStep",
        "step 1/4 (pause: (until promoted)), set weight 25, actual weight 25",
        "Pause conditions: CanaryPauseStep since",
        "Paused=True RolloutPaused",
    ] {
        assert!(paused.contains(needle), "missing {needle:?}:\n{paused}");
    }
    assert!(!paused.contains("Traffic (from"), "{paused}");
}

#[tokio::test]
async fn get_explains_a_degraded_rollout_with_its_failed_analysis() {
    let (_c, tools) = setup();
    let out = tools
        .call(
            "argo_get_rollout",
            json!({"rollout_name": "payments", "namespace": "shop"}),
            ToolContext::detached("t"),
        )
        .await
        .unwrap();
    let text = render_tool_content(&out.content);
    for needle in [
        "Rollout shop/payments: Degraded — RolloutAborted: Rollout aborted update to revision 4",
        "Aborted: traffic is back on the stable ReplicaSet",
        "set weight 0",
        "Current step analysis: payments-9a8b7c6d5-4-1 Failed",
        "Analysis runs (2, newest first):",
        "payments-9a8b7c6d5-4-1  Failed  revision 4",
        "error-rate: Failed  successful 1, failed 3, inconclusive 0, error 0",
        "failureLimit 2",
        "[0.083] (Failed), [0.112] (Failed), [0.127] (Failed)",
        "Progressing=False RolloutAborted",
    ] {
        assert!(text.contains(needle), "missing {needle:?}:\n{text}");
    }
    let newest = text.find("payments-9a8b7c6d5-4-1  Failed").unwrap();
    let older = text.find("payments-4e5f6a7b8-3-1  Successful").unwrap();
    assert!(newest < older, "newest run first:\n{text}");
    let facts = out.structured.unwrap();
    assert_eq!(facts["status"], "Degraded");
    assert_eq!(facts["aborted"], true);
    assert_eq!(facts["analysis_runs"][0]["metrics"][0]["failed"], 3);
    assert_eq!(
        facts["analysis_runs"][0]["metrics"][0]["last_values"][2],
        "[0.127]"
    );

    let healthy = call(
        &tools,
        "argo_get_rollout",
        json!({"rollout_name": "search"}),
    )
    .await;
    assert!(
        healthy.contains("Rollout shop/search: Healthy\n"),
        "{healthy}"
    );
    assert!(healthy.contains("(all steps complete)"), "{healthy}");
    assert!(
        healthy.contains("set weight 100, actual weight 100"),
        "{healthy}"
    );
}

#[tokio::test]
async fn verify_controller_install() {
    let (_c, tools) = setup();
    let out = call(
        &tools,
        "argo_verify_argo_rollouts_controller_install",
        json!({}),
    )
    .await;
    assert!(
        out.starts_with("OK: all 1 controller pods are Running"),
        "{out}"
    );
    assert!(
        out.contains("argo-rollouts-6f9c7d8b5-k2x7p  Running  ready 1/1"),
        "{out}"
    );
    assert!(
        out.contains("served rollouts, analysisruns, analysistemplates, experiments"),
        "{out}"
    );
    let elsewhere = call(
        &tools,
        "argo_verify_argo_rollouts_controller_install",
        json!({"namespace": "default"}),
    )
    .await;
    assert!(
        elsewhere.starts_with("NOT RUNNING: no pods match"),
        "{elsewhere}"
    );
    let e = call_err(
        &tools,
        "argo_verify_argo_rollouts_controller_install",
        json!({"label": "app in (a"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
}

#[tokio::test]
async fn promote_dry_run_previews_then_patches_the_status_subresource() {
    let (c, tools) = setup();
    c.clear_requests();
    let mut ctx = ToolContext::detached("t");
    ctx.dry_run = true;
    let out = tools
        .call(
            "argo_promote_rollout",
            json!({"rollout_name": "frontend"}),
            ctx,
        )
        .await
        .unwrap();
    let text = render_tool_content(&out.content);
    assert!(
        text.starts_with("DRY RUN (server-side, nothing changed): would promote rollout frontend"),
        "{text}"
    );
    assert!(
        text.contains(r#"status subresource {"status":{"pauseConditions":null}}"#),
        "the plugin's patch:\n{text}"
    );
    assert!(text.contains("-  pauseConditions:"), "{text}");
    let w = writes(&c);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with(
            "PATCH /apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/frontend/status?"
        ) && w[0].contains("dryRun=All"),
        "{w:?}"
    );
    assert!(
        rollout(&c, "frontend")["status"]["pauseConditions"].is_array(),
        "a dry run changes nothing"
    );

    let text = call(
        &tools,
        "argo_promote_rollout",
        json!({"rollout_name": "frontend"}),
    )
    .await;
    assert!(text.starts_with("promote rollout frontend"), "{text}");
    assert!(
        rollout(&c, "frontend")["status"]
            .get("pauseConditions")
            .is_none()
    );

    // Not paused: promote skips the running step (currentStepIndex 2 -> 3).
    call(
        &tools,
        "argo_promote_rollout",
        json!({"rollout_name": "checkout"}),
    )
    .await;
    assert_eq!(rollout(&c, "checkout")["status"]["currentStepIndex"], 3);
    // --full
    let full = call(
        &tools,
        "argo_promote_rollout",
        json!({"rollout_name": "checkout", "full": "true"}),
    )
    .await;
    assert!(full.starts_with("fully promote rollout checkout"), "{full}");
    assert_eq!(rollout(&c, "checkout")["status"]["promoteFull"], true);
}

#[tokio::test]
async fn pause_resume_abort_retry() {
    let (c, tools) = setup();
    let e = call_err(
        &tools,
        "argo_resume_rollout",
        json!({"rollout_name": "search"}),
    )
    .await;
    assert!(matches!(e, ToolError::Failed { .. }), "{e:?}");
    assert!(
        e.to_string().contains("is not paused (status Healthy)"),
        "{e}"
    );

    let p = call(
        &tools,
        "argo_pause_rollout",
        json!({"rollout_name": "search", "dry_run": true}),
    )
    .await;
    assert!(p.contains("+  paused: true"), "{p}");
    assert!(rollout(&c, "search")["spec"].get("paused").is_none());
    call(
        &tools,
        "argo_pause_rollout",
        json!({"rollout_name": "search"}),
    )
    .await;
    assert_eq!(rollout(&c, "search")["spec"]["paused"], true);
    let r = call(
        &tools,
        "argo_resume_rollout",
        json!({"rollout_name": "search"}),
    )
    .await;
    assert!(r.contains(r#"rollout {"spec":{"paused":false}}"#), "{r}");
    assert_eq!(rollout(&c, "search")["spec"]["paused"], false);

    // A controller pause: resume clears the pause conditions without advancing a step.
    call(
        &tools,
        "argo_resume_rollout",
        json!({"rollout_name": "frontend"}),
    )
    .await;
    let fe = rollout(&c, "frontend");
    assert!(fe["status"].get("pauseConditions").is_none());
    assert_eq!(fe["status"]["currentStepIndex"], 1);

    let a = call(
        &tools,
        "argo_abort_rollout",
        json!({"rollout_name": "checkout"}),
    )
    .await;
    assert!(a.contains("+  abort: true"), "{a}");
    assert_eq!(rollout(&c, "checkout")["status"]["abort"], true);
    call(
        &tools,
        "argo_retry_rollout",
        json!({"rollout_name": "payments"}),
    )
    .await;
    assert_eq!(rollout(&c, "payments")["status"]["abort"], false);
}

#[tokio::test]
async fn set_image_updates_the_named_container() {
    let (c, tools) = setup();
    let dry = call(
        &tools,
        "argo_set_rollout_image",
        json!({"rollout_name": "frontend", "container_image": "web=nginx:1.28.0", "dry_run": "true"}),
    )
    .await;
    assert!(dry.starts_with("DRY RUN"), "{dry}");
    assert!(dry.contains("-      - image: nginx:1.27.3"), "{dry}");
    assert!(dry.contains("+      - image: nginx:1.28.0"), "{dry}");
    assert_eq!(
        rollout(&c, "frontend")["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27.3"
    );
    call(
        &tools,
        "argo_set_rollout_image",
        json!({"rollout_name": "frontend", "container_image": "web=nginx:1.28.0"}),
    )
    .await;
    let fe = rollout(&c, "frontend");
    assert_eq!(
        fe["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.28.0"
    );
    assert_eq!(
        fe["spec"]["template"]["spec"]["containers"][1]["image"],
        "prom/nginx-exporter:1.3"
    );
    // A bare image is fine for a single-container rollout.
    call(
        &tools,
        "argo_set_rollout_image",
        json!({"rollout_name": "search", "container_image": "ghcr.io/acme/search:2.0.0"}),
    )
    .await;
    assert_eq!(
        rollout(&c, "search")["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/acme/search:2.0.0"
    );

    let e = call_err(
        &tools,
        "argo_set_rollout_image",
        json!({"rollout_name": "frontend", "container_image": "nginx:1.28.0"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    assert!(e.to_string().contains("web, metrics"), "{e}");
    let e = call_err(
        &tools,
        "argo_set_rollout_image",
        json!({"rollout_name": "frontend", "container_image": "api=x:1"}),
    )
    .await;
    assert!(
        e.to_string()
            .contains("unable to find container named \"api\""),
        "{e}"
    );
}

#[tokio::test]
async fn bad_arguments_missing_rollouts_and_missing_crds() {
    let (_c, tools) = setup();
    let e = call_err(&tools, "argo_get_rollout", json!({"rollout_name": "nope"})).await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("rollouts there: checkout, frontend, payments, search"),
        "{e}"
    );
    let e = call_err(
        &tools,
        "argo_pause_rollout",
        json!({"rollout_name": "nope"}),
    )
    .await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    let e = call_err(
        &tools,
        "argo_get_rollout",
        json!({"rollout_name": "Bad Name"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    let e = call_err(&tools, "argo_get_rollout", json!({})).await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    let e = call_err(
        &tools,
        "argo_promote_rollout",
        json!({"rollout_name": "checkout", "full": "maybe"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");

    // A cluster without the Argo Rollouts CRDs.
    let bare = FakeCluster::start().unwrap();
    let tools = ArgoTools::builder(bare.client().unwrap()).build().unwrap();
    let e = call_err(&tools, "argo_rollouts_list", json!({})).await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("CRDs are not installed"), "{e}");
    let out = call(
        &tools,
        "argo_verify_argo_rollouts_controller_install",
        json!({}),
    )
    .await;
    assert!(out.starts_with("NOT RUNNING"), "{out}");
    assert!(out.contains("missing rollouts, analysisruns"), "{out}");
}

#[tokio::test]
async fn unreachable_api_server_is_a_fault() {
    // Bind a port, then close it: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    let tools = ArgoTools::builder(client).build().unwrap();
    let e = call_err(&tools, "argo_rollouts_list", json!({"namespace": "shop"})).await;
    assert!(e.is_fault(), "{e:?}");
    assert!(matches!(e, ToolError::Transport { .. }), "{e:?}");
}

#[tokio::test]
async fn read_only_mode_registers_only_reads() {
    let (c, _) = setup();
    let tools = ArgoTools::builder(c.client().unwrap())
        .read_only(true)
        .build()
        .unwrap();
    let mut names: Vec<String> = tools.specs().iter().map(|s| s.name.clone()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "argo_get_rollout",
            "argo_rollouts_list",
            "argo_verify_argo_rollouts_controller_install"
        ]
    );
    for spec in tools.specs() {
        assert_eq!(
            spec.effect,
            kagent_core::ToolEffect::ReadOnly,
            "{}",
            spec.name
        );
    }
}

#[tokio::test]
async fn without_a_status_subresource_the_plugins_unified_patch_is_sent() {
    // Argo Rollouts <= 0.9 served Rollouts without a status subresource: the plugin's PATCH of
    // `/status` answers 404 and it sends one merge patch of the Rollout with spec and status.
    let cluster = FakeCluster::start().unwrap();
    let crds = CRDS.replacen(
        "    subresources:\n      scale:\n        labelSelectorPath: .status.selector\n        specReplicasPath: .spec.replicas\n        statusReplicasPath: .status.HPAReplicas\n      status: {}\n",
        "",
        1,
    );
    assert_ne!(crds, CRDS, "the Rollout CRD's subresources were removed");
    cluster.load_yaml(&crds).unwrap();
    cluster.load_yaml_relative(ROLLOUTS, FIXTURE_NOW).unwrap();
    let tools = ArgoTools::builder(cluster.client().unwrap())
        .default_namespace("shop")
        .build()
        .unwrap();
    cluster.clear_requests();
    let out = call(
        &tools,
        "argo_promote_rollout",
        json!({"rollout_name": "frontend"}),
    )
    .await;
    assert!(
        out.contains(r#"rollout {"spec":{"paused":false},"status":{"pauseConditions":null}}"#),
        "{out}"
    );
    let w = writes(&cluster);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("/rollouts/frontend/status"), "{w:?}");
    assert!(w[1].contains("/rollouts/frontend?"), "{w:?}");
    assert!(
        rollout(&cluster, "frontend")["status"]
            .get("pauseConditions")
            .is_none()
    );
}
