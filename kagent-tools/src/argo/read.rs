//! Read-only Argo Rollouts tools: list, get (steps, weights, analysis runs), verify the
//! controller.

use std::fmt::Write as _;

use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use kagent_k8s::render::{Table, one_line};
use kagent_k8s::{Flag, kapi};
use kube::api::ListParams;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ArgoError, Result};
use super::rollout::{
    actual_weight, current_step, describe_step, phase, set_weight, step_label, steps, strategy,
};
use super::{Shared, check_name, check_namespace};
use crate::family::{family_tool, non_empty};

/// Most objects one listing reads.
const MAX_LIST: usize = 500;
/// Analysis runs shown by `argo_get_rollout`, newest first.
const MAX_ANALYSIS_RUNS: usize = 5;
/// Measurements shown per metric, newest last.
const MAX_MEASUREMENTS: usize = 3;

fn sv<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn n(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

fn arr<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_owned()
    } else {
        s.to_owned()
    }
}

fn age(v: &Value) -> String {
    kagent_k8s::render::age(sv(v, "/metadata/creationTimestamp"), jiff::Timestamp::now())
}

/// Arguments of `argo_rollouts_list`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListRolloutsArgs {
    /// The namespace of the rollouts (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// What to list: rollouts (default) or experiments.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// List from all namespaces.
    #[serde(default)]
    pub all_namespaces: Flag,
}

family_tool!(
    /// `argo_rollouts_list`: rollouts (strategy, status, step, weight, replicas) or experiments.
    ListRollouts,
    Shared,
    "argo_rollouts_list",
    ToolEffect::ReadOnly,
    ListRolloutsArgs,
    "List Argo Rollouts (strategy, status, canary step, set weight, replicas, message) or \
     experiments (type=experiments) in a namespace or all namespaces."
);

impl ListRollouts {
    async fn exec(&self, args: ListRolloutsArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let kind = non_empty(&args.kind)
            .unwrap_or("rollouts")
            .to_ascii_lowercase();
        let experiments = match kind.as_str() {
            "rollouts" | "rollout" | "ro" => false,
            "experiments" | "experiment" | "exp" => true,
            other => {
                return Err(ArgoError::invalid(
                    "type",
                    format!("{other:?}: use rollouts or experiments"),
                ));
            }
        };
        let ns = if args.all_namespaces.0 {
            None
        } else {
            let ns = s.ns(&args.namespace);
            check_namespace(ns)?;
            Some(ns)
        };
        let info = s
            .resolve(if experiments {
                "experiments"
            } else {
                "rollouts"
            })
            .await?;
        let items = kapi::list_all(&s.client, &info, ns, &ListParams::default(), MAX_LIST).await?;
        let where_ = ns
            .map(|n| format!("in namespace {n}"))
            .unwrap_or_else(|| "in any namespace".into());
        if items.is_empty() {
            return Ok(ToolOutput::text(format!(
                "No {} found {where_}.",
                if experiments {
                    "experiments"
                } else {
                    "rollouts"
                }
            )));
        }
        let with_ns = ns.is_none();
        let mut table = if experiments {
            Table {
                headers: vec!["NAME", "STATUS", "DURATION", "MESSAGE", "AGE"],
                rows: items
                    .iter()
                    .map(|e| {
                        vec![
                            sv(e, "/metadata/name").to_owned(),
                            dash(sv(e, "/status/phase")),
                            dash(&duration_text(e.pointer("/spec/duration"))),
                            dash(&one_line(sv(e, "/status/message"), 80)),
                            age(e),
                        ]
                    })
                    .collect(),
            }
        } else {
            Table {
                headers: vec![
                    "NAME",
                    "STRATEGY",
                    "STATUS",
                    "STEP",
                    "SET-WEIGHT",
                    "READY",
                    "DESIRED",
                    "UP-TO-DATE",
                    "AVAILABLE",
                    "MESSAGE",
                ],
                rows: items
                    .iter()
                    .map(|ro| {
                        let (ph, msg) = phase(ro);
                        let canary = strategy(ro) == "Canary";
                        vec![
                            sv(ro, "/metadata/name").to_owned(),
                            strategy(ro).to_owned(),
                            ph,
                            step_label(ro),
                            if canary {
                                set_weight(ro).to_string()
                            } else {
                                "-".to_owned()
                            },
                            format!(
                                "{}/{}",
                                n(ro, "/status/readyReplicas"),
                                n(ro, "/status/replicas")
                            ),
                            ro.pointer("/spec/replicas")
                                .and_then(Value::as_i64)
                                .unwrap_or(1)
                                .to_string(),
                            n(ro, "/status/updatedReplicas").to_string(),
                            n(ro, "/status/availableReplicas").to_string(),
                            dash(&one_line(&msg, 80)),
                        ]
                    })
                    .collect(),
            }
        };
        if with_ns {
            table.headers.insert(0, "NAMESPACE");
            for (row, item) in table.rows.iter_mut().zip(&items) {
                row.insert(0, sv(item, "/metadata/namespace").to_owned());
            }
        }
        let mut text = table.render();
        if items.len() >= MAX_LIST {
            let _ = writeln!(
                text,
                "... only the first {MAX_LIST} are shown: name a namespace to narrow the list."
            );
        }
        Ok(ToolOutput::text(
            s.bound(text, "Name a namespace to narrow the list."),
        ))
    }
}

fn duration_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => format!("{n}s"),
        _ => String::new(),
    }
}

/// Arguments naming one rollout.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetRolloutArgs {
    /// The name of the rollout.
    pub rollout_name: String,
    /// The namespace of the rollout (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
}

family_tool!(
    /// `argo_get_rollout`: status, step, weights, ReplicaSets and analysis runs of a rollout.
    GetRollout,
    Shared,
    "argo_get_rollout",
    ToolEffect::ReadOnly,
    GetRolloutArgs,
    "Get an Argo Rollout: status and message, strategy, current canary step and the steps, set \
     and actual canary weight (and traffic router weights), replicas, stable and canary \
     ReplicaSets with their images, pause conditions, conditions, and its analysis runs with \
     each metric's result and latest measurements."
);

/// Whether `obj` is owned by the object with `uid`.
fn owned_by(obj: &Value, uid: &str) -> bool {
    !uid.is_empty()
        && arr(obj, "/metadata/ownerReferences")
            .iter()
            .any(|o| sv(o, "/uid") == uid)
}

fn revision(obj: &Value) -> i64 {
    sv(obj, "/metadata/annotations/rollout.argoproj.io~1revision")
        .parse()
        .unwrap_or(0)
}

/// Not found, with the rollouts that do exist in the namespace.
async fn rollout_not_found(s: &Shared, ns: &str, name: &str) -> ArgoError {
    let hint = match s.resolve("rollouts").await {
        Ok(info) => {
            match kapi::list_all(&s.client, &info, Some(ns), &ListParams::default(), 20).await {
                Ok(items) if !items.is_empty() => format!(
                    "; rollouts there: {}",
                    items
                        .iter()
                        .map(|i| s_owned(i, "/metadata/name"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Ok(_) => "; there are no rollouts in that namespace".to_owned(),
                Err(_) => String::new(),
            }
        }
        Err(_) => String::new(),
    };
    ArgoError::NotFound {
        kind: "rollout",
        name: name.to_owned(),
        namespace: ns.to_owned(),
        hint,
    }
}

fn s_owned(v: &Value, ptr: &str) -> String {
    sv(v, ptr).to_owned()
}

/// GETs a Rollout; a 404 becomes [`ArgoError::NotFound`] naming the rollouts that exist.
pub(crate) async fn get_rollout(
    s: &Shared,
    info: &kagent_k8s::ResourceInfo,
    ns: &str,
    name: &str,
) -> Result<Value> {
    match kapi::get_opt(&s.client, info, Some(ns), name).await? {
        Some(v) => Ok(v),
        None => Err(rollout_not_found(s, ns, name).await),
    }
}

impl GetRollout {
    async fn exec(&self, args: GetRolloutArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let name = args.rollout_name.trim();
        check_name("rollout_name", name)?;
        let ns = s.ns(&args.namespace);
        check_namespace(ns)?;
        let info = s.resolve("rollouts").await?;
        let ro = get_rollout(s, &info, ns, name).await?;
        let uid = sv(&ro, "/metadata/uid").to_owned();

        let rs_info = s.catalog.resolve("replicasets.apps").await?;
        let mut replicasets: Vec<Value> = kapi::list_all(
            &s.client,
            &rs_info,
            Some(ns),
            &ListParams::default(),
            MAX_LIST,
        )
        .await?
        .into_iter()
        .filter(|r| owned_by(r, &uid))
        .collect();
        replicasets.sort_by_key(|r| std::cmp::Reverse(revision(r)));

        let runs: Vec<Value> = match s.resolve("analysisruns").await {
            Ok(ar_info) => {
                let mut runs: Vec<Value> = kapi::list_all(
                    &s.client,
                    &ar_info,
                    Some(ns),
                    &ListParams::default(),
                    MAX_LIST,
                )
                .await?
                .into_iter()
                .filter(|r| owned_by(r, &uid))
                .collect();
                runs.sort_by(|a, b| {
                    (revision(b), sv(b, "/metadata/creationTimestamp"))
                        .cmp(&(revision(a), sv(a, "/metadata/creationTimestamp")))
                });
                runs
            }
            Err(ArgoError::NotInstalled { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        let (text, structured) = render_rollout(&ro, &replicasets, &runs);
        Ok(ToolOutput::text(s.bound(
            text,
            "Read single analysis runs with k8s_get_resources (resource_type analysisruns).",
        ))
        .with_structured(structured))
    }
}

/// The rollout as text for the model, and the key facts as JSON.
pub(crate) fn render_rollout(ro: &Value, replicasets: &[Value], runs: &[Value]) -> (String, Value) {
    let mut t = String::new();
    let (ph, msg) = phase(ro);
    let name = sv(ro, "/metadata/name");
    let ns = sv(ro, "/metadata/namespace");
    let _ = writeln!(
        t,
        "Rollout {ns}/{name}: {ph}{}",
        if msg.is_empty() {
            String::new()
        } else {
            format!(" — {msg}")
        }
    );
    let strat = strategy(ro);
    let stable_hash = sv(ro, "/status/stableRS");
    let current_hash = sv(ro, "/status/currentPodHash");
    let canary_rs = replicasets.iter().find(|r| {
        !current_hash.is_empty() && rs_hash(r) == current_hash && current_hash != stable_hash
    });
    let canary_available = canary_rs.map(|r| n(r, "/status/availableReplicas"));
    let mut facts = serde_json::Map::new();
    for (k, v) in [
        ("name", json!(name)),
        ("namespace", json!(ns)),
        ("status", json!(ph)),
        ("message", json!(msg)),
        ("strategy", json!(strat)),
        (
            "aborted",
            json!(
                ro.pointer("/status/abort")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            ),
        ),
        ("stable_hash", json!(stable_hash)),
        ("current_hash", json!(current_hash)),
    ] {
        facts.insert(k.to_owned(), v);
    }
    if strat == "Canary" {
        let (step, idx) = current_step(ro);
        let sw = set_weight(ro);
        let aw = actual_weight(ro, canary_available);
        let _ = writeln!(
            t,
            "Strategy: Canary, step {}{}, set weight {sw}, actual weight {aw}",
            step_label(ro),
            step.map(|st| format!(" ({})", describe_step(st)))
                .unwrap_or_default()
        );
        facts.insert("step".into(), json!(step_label(ro)));
        facts.insert("current_step_index".into(), json!(idx));
        facts.insert("set_weight".into(), json!(sw));
        facts.insert("actual_weight".into(), json!(aw));
        if let Some(w) = ro.pointer("/status/canary/weights") {
            let cw = n(w, "/canary/weight");
            let sw = n(w, "/stable/weight");
            let _ = writeln!(
                t,
                "Traffic (from the traffic router): canary {cw}, stable {sw}{}",
                arr(w, "/additional")
                    .iter()
                    .map(|a| format!(", {} {}", sv(a, "/podTemplateHash"), n(a, "/weight")))
                    .collect::<String>()
            );
            facts.insert("canary_weight".into(), json!(cw));
            facts.insert("stable_weight".into(), json!(sw));
        } else {
            facts.insert("canary_weight".into(), json!(aw));
            facts.insert(
                "stable_weight".into(),
                json!(super::rollout::max_weight(ro) - aw),
            );
        }
    } else if strat == "BlueGreen" {
        let _ = writeln!(
            t,
            "Strategy: BlueGreen, active {}, preview {}",
            dash(sv(ro, "/status/blueGreen/activeSelector")),
            dash(sv(ro, "/status/blueGreen/previewSelector"))
        );
    }
    let _ = writeln!(
        t,
        "Replicas: desired {}, current {}, updated {}, ready {}, available {}",
        ro.pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1),
        n(ro, "/status/replicas"),
        n(ro, "/status/updatedReplicas"),
        n(ro, "/status/readyReplicas"),
        n(ro, "/status/availableReplicas"),
    );
    let containers: Vec<String> = arr(ro, "/spec/template/spec/containers")
        .iter()
        .map(|c| format!("{}={}", sv(c, "/name"), sv(c, "/image")))
        .collect();
    if !containers.is_empty() {
        let _ = writeln!(t, "Desired images: {}", containers.join(", "));
    } else if let Some(w) = ro.pointer("/spec/workloadRef") {
        let _ = writeln!(t, "Pod template from {} {}", sv(w, "/kind"), sv(w, "/name"));
    }
    if ro.pointer("/status/abort").and_then(Value::as_bool) == Some(true) {
        let _ = writeln!(
            t,
            "Aborted: traffic is back on the stable ReplicaSet; argo_retry_rollout retries, or set \
             the image back to the stable one to roll back."
        );
    }
    if !replicasets.is_empty() {
        let _ = writeln!(t, "ReplicaSets (newest first):");
        for r in replicasets.iter().take(6) {
            let hash = rs_hash(r);
            let mut roles = Vec::new();
            if hash == stable_hash {
                roles.push("stable");
            }
            if hash == current_hash && hash != stable_hash {
                roles.push("canary");
            }
            if hash == sv(ro, "/status/blueGreen/activeSelector") {
                roles.push("active");
            }
            if hash == sv(ro, "/status/blueGreen/previewSelector") {
                roles.push("preview");
            }
            let images: Vec<&str> = arr(r, "/spec/template/spec/containers")
                .iter()
                .map(|c| sv(c, "/image"))
                .collect();
            let _ = writeln!(
                t,
                "  revision {}  {}  {}  {}/{} available  {}",
                revision(r),
                sv(r, "/metadata/name"),
                if roles.is_empty() {
                    "old".to_owned()
                } else {
                    roles.join(",")
                },
                n(r, "/status/availableReplicas"),
                n(r, "/spec/replicas"),
                images.join(", ")
            );
        }
    }
    let all_steps = steps(ro);
    if !all_steps.is_empty() {
        let (_, idx) = current_step(ro);
        let _ = writeln!(t, "Steps:");
        for (k, st) in all_steps.iter().enumerate() {
            let mark = if idx == i64::try_from(k).ok() {
                ">"
            } else {
                " "
            };
            let _ = writeln!(t, "  {mark} {k}  {}", describe_step(st));
        }
        if idx.is_some_and(|i| usize::try_from(i).is_ok_and(|i| i >= all_steps.len())) {
            let _ = writeln!(t, "  (all steps complete)");
        }
    }
    let pauses: Vec<String> = arr(ro, "/status/pauseConditions")
        .iter()
        .map(|p| format!("{} since {}", sv(p, "/reason"), dash(sv(p, "/startTime"))))
        .collect();
    if !pauses.is_empty() {
        let _ = writeln!(t, "Pause conditions: {}", pauses.join(", "));
    }
    let conds: Vec<String> = arr(ro, "/status/conditions")
        .iter()
        .map(|c| {
            let mut line = format!("{}={}", sv(c, "/type"), sv(c, "/status"));
            if !sv(c, "/reason").is_empty() {
                let _ = write!(line, " {}", sv(c, "/reason"));
            }
            if !sv(c, "/message").is_empty() && sv(c, "/status") != "True" {
                let _ = write!(line, ": {}", one_line(sv(c, "/message"), 160));
            }
            line
        })
        .collect();
    if !conds.is_empty() {
        let _ = writeln!(t, "Conditions: {}", conds.join("; "));
    }
    for (label, ptr) in [
        (
            "Current step analysis",
            "/status/canary/currentStepAnalysisRunStatus",
        ),
        (
            "Background analysis",
            "/status/canary/currentBackgroundAnalysisRunStatus",
        ),
        (
            "Pre-promotion analysis",
            "/status/blueGreen/prePromotionAnalysisRunStatus",
        ),
        (
            "Post-promotion analysis",
            "/status/blueGreen/postPromotionAnalysisRunStatus",
        ),
    ] {
        if let Some(st) = ro.pointer(ptr) {
            let _ = writeln!(
                t,
                "{label}: {} {}{}",
                sv(st, "/name"),
                dash(sv(st, "/status")),
                if sv(st, "/message").is_empty() {
                    String::new()
                } else {
                    format!(" — {}", one_line(sv(st, "/message"), 200))
                }
            );
        }
    }
    let mut run_facts = Vec::new();
    if !runs.is_empty() {
        let _ = writeln!(
            t,
            "Analysis runs ({}, newest first{}):",
            runs.len(),
            if runs.len() > MAX_ANALYSIS_RUNS {
                format!("; {MAX_ANALYSIS_RUNS} shown")
            } else {
                String::new()
            }
        );
        for run in runs.iter().take(MAX_ANALYSIS_RUNS) {
            let (text, fact) = render_run(run);
            t.push_str(&text);
            run_facts.push(fact);
        }
    }
    facts.insert("analysis_runs".into(), Value::Array(run_facts));
    (t, Value::Object(facts))
}

fn rs_hash(rs: &Value) -> &str {
    sv(rs, "/metadata/labels/rollouts-pod-template-hash")
}

/// One analysis run: phase, message, and each metric's counts, condition and latest values.
fn render_run(run: &Value) -> (String, Value) {
    let mut t = String::new();
    let name = sv(run, "/metadata/name");
    let phase = dash(sv(run, "/status/phase"));
    let _ = writeln!(
        t,
        "  {name}  {phase}  revision {}{}",
        revision(run),
        if sv(run, "/status/message").is_empty() {
            String::new()
        } else {
            format!("  — {}", one_line(sv(run, "/status/message"), 200))
        }
    );
    let specs = arr(run, "/spec/metrics");
    let mut metrics = Vec::new();
    for m in arr(run, "/status/metricResults") {
        let mname = sv(m, "/name");
        let spec = specs.iter().find(|sp| sv(sp, "/name") == mname);
        let cond = spec.map(|sp| sv(sp, "/successCondition")).unwrap_or("");
        let fail_cond = spec.map(|sp| sv(sp, "/failureCondition")).unwrap_or("");
        let measurements = arr(m, "/measurements");
        let last: Vec<String> = measurements
            .iter()
            .rev()
            .take(MAX_MEASUREMENTS)
            .rev()
            .map(|x| {
                let v = sv(x, "/value");
                let ph = sv(x, "/phase");
                if v.is_empty() {
                    ph.to_owned()
                } else {
                    format!("{v} ({ph})")
                }
            })
            .collect();
        let mut line = format!(
            "    {mname}: {}  successful {}, failed {}, inconclusive {}, error {}",
            dash(sv(m, "/phase")),
            n(m, "/successful"),
            n(m, "/failed"),
            n(m, "/inconclusive"),
            n(m, "/error"),
        );
        if !cond.is_empty() {
            let _ = write!(line, "; success when {cond}");
        }
        if !fail_cond.is_empty() {
            let _ = write!(line, "; failure when {fail_cond}");
        }
        if let Some(limit) = spec.and_then(|sp| sp.get("failureLimit")) {
            let _ = write!(line, "; failureLimit {limit}");
        }
        if !last.is_empty() {
            let _ = write!(
                line,
                "; last {} of {} measurements: {}",
                last.len(),
                measurements.len(),
                last.join(", ")
            );
        }
        if !sv(m, "/message").is_empty() {
            let _ = write!(line, "; message: {}", one_line(sv(m, "/message"), 200));
        }
        t.push_str(&line);
        t.push('\n');
        metrics.push(json!({
            "name": mname, "phase": sv(m, "/phase"),
            "successful": n(m, "/successful"), "failed": n(m, "/failed"),
            "inconclusive": n(m, "/inconclusive"), "error": n(m, "/error"),
            "success_condition": cond,
            "last_values": measurements.iter().rev().take(MAX_MEASUREMENTS).rev()
                .map(|x| sv(x, "/value")).collect::<Vec<_>>(),
        }));
    }
    (
        t,
        json!({"name": name, "phase": sv(run, "/status/phase"), "message": sv(run, "/status/message"),
               "revision": revision(run), "metrics": metrics}),
    )
}

/// Arguments of `argo_verify_argo_rollouts_controller_install`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct VerifyControllerInstallArgs {
    /// The namespace where Argo Rollouts is installed (default: argo-rollouts, or as
    /// configured).
    #[serde(default)]
    pub namespace: Option<String>,
    /// The label of the Argo Rollouts controller pods (default:
    /// app.kubernetes.io/component=rollouts-controller).
    #[serde(default)]
    pub label: Option<String>,
}

family_tool!(
    /// `argo_verify_argo_rollouts_controller_install`: controller pods running, CRDs served.
    VerifyControllerInstall,
    Shared,
    "argo_verify_argo_rollouts_controller_install",
    ToolEffect::ReadOnly,
    VerifyControllerInstallArgs,
    "Verify that the Argo Rollouts controller is installed and running: its pods (by label) and \
     their phase and readiness, and whether the cluster serves the Rollout, AnalysisRun, \
     AnalysisTemplate and Experiment resources."
);

const DEFAULT_CONTROLLER_LABEL: &str = "app.kubernetes.io/component=rollouts-controller";

impl VerifyControllerInstall {
    async fn exec(
        &self,
        args: VerifyControllerInstallArgs,
        _ctx: &ToolContext,
    ) -> Result<ToolOutput> {
        let s = &self.0;
        let ns = non_empty(&args.namespace).unwrap_or(&s.controller_namespace);
        check_namespace(ns)?;
        let label = non_empty(&args.label).unwrap_or(DEFAULT_CONTROLLER_LABEL);
        if label.contains(char::is_whitespace)
            && !label.contains(" in ")
            && !label.contains(" notin ")
        {
            return Err(ArgoError::invalid(
                "label",
                format!("{label:?} is not a label selector (key=value, comma-separated)"),
            ));
        }
        let mut missing = Vec::new();
        let mut served = Vec::new();
        for r in [
            "rollouts",
            "analysisruns",
            "analysistemplates",
            "experiments",
        ] {
            match s.resolve(r).await {
                Ok(_) => served.push(r),
                Err(ArgoError::NotInstalled { .. }) => missing.push(r),
                Err(e) => return Err(e),
            }
        }
        let pods_info = s.catalog.resolve("pods").await?;
        let pods = kapi::list_all(
            &s.client,
            &pods_info,
            Some(ns),
            &ListParams::default().labels(label),
            50,
        )
        .await
        .map_err(|e| match e.status_code() {
            Some(400) => {
                ArgoError::invalid("label", format!("the API server refused {label:?}: {e}"))
            }
            _ => e.into(),
        })?;
        let running = pods
            .iter()
            .filter(|p| sv(p, "/status/phase") == "Running")
            .count();
        let ready = |p: &Value| {
            let cs = arr(p, "/status/containerStatuses");
            let r = cs
                .iter()
                .filter(|c| c.get("ready").and_then(Value::as_bool) == Some(true))
                .count();
            format!("{r}/{}", cs.len())
        };
        let ok = !pods.is_empty() && running == pods.len() && missing.is_empty();
        let mut t = String::new();
        let verdict = if pods.is_empty() {
            format!("NOT RUNNING: no pods match {label} in namespace {ns}")
        } else if running < pods.len() {
            format!(
                "NOT HEALTHY: {running} of {} controller pods are Running",
                pods.len()
            )
        } else if !missing.is_empty() {
            "INCOMPLETE: the controller runs but CRDs are missing".to_owned()
        } else {
            format!("OK: all {} controller pods are Running", pods.len())
        };
        let _ = writeln!(t, "{verdict}");
        for p in &pods {
            let images: Vec<&str> = arr(p, "/spec/containers")
                .iter()
                .map(|c| sv(c, "/image"))
                .collect();
            let restarts: i64 = arr(p, "/status/containerStatuses")
                .iter()
                .map(|c| n(c, "/restartCount"))
                .sum();
            let _ = writeln!(
                t,
                "  {}  {}  ready {}  restarts {restarts}  {}",
                sv(p, "/metadata/name"),
                dash(sv(p, "/status/phase")),
                ready(p),
                images.join(", ")
            );
        }
        let _ = writeln!(
            t,
            "CRDs (argoproj.io): served {}{}",
            if served.is_empty() {
                "none".to_owned()
            } else {
                served.join(", ")
            },
            if missing.is_empty() {
                String::new()
            } else {
                format!("; missing {}", missing.join(", "))
            }
        );
        Ok(ToolOutput::text(t).with_structured(json!({
            "ok": ok, "namespace": ns, "label": label, "pods": pods.len(),
            "running": running, "crds_served": served, "crds_missing": missing,
        })))
    }
}
