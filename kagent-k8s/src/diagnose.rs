//! Deterministic diagnosis in the spirit of k8sgpt's analyzers: a [`Snapshot`] of the cluster
//! (one list call per kind) goes through pure analyzers that return [`Finding`]s with evidence;
//! failing containers' logs are then read as further evidence.
//!
//! Usable three ways: [`diagnose`] (a plain async function, for playbooks), [`analyze`] (pure,
//! on a snapshot you built), and the `k8s_diagnose` tool.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use kube::Client;
use kube::api::{ListParams, LogParams};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::ResourceCatalog;
use crate::error::Result;
use crate::kapi;
use crate::render::table::{one_line, pod_status};
use crate::render::{arr, i, s};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Something is broken: a workload does not run or serve.
    Critical,
    /// Degraded or at risk.
    Warning,
}

/// One problem found, with the evidence for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Kind of the object (`Pod`, `Service`, ...).
    pub kind: String,
    /// Namespace, for namespaced objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Object name.
    pub name: String,
    /// The top-level owner (`Deployment/web`) when the object belongs to a workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// How bad it is.
    pub severity: Severity,
    /// Short machine-readable cause (`CrashLoopBackOff`, `OOMKilled`, `SelectorMatchesNothing`).
    pub reason: String,
    /// The root cause in a sentence.
    pub message: String,
    /// Facts that support it: conditions, events, related log lines.
    pub evidence: Vec<String>,
}

impl Finding {
    fn new(kind: &str, obj: &Value, severity: Severity, reason: &str, message: String) -> Self {
        let ns = s(obj, "/metadata/namespace");
        Finding {
            kind: kind.to_owned(),
            namespace: (!ns.is_empty()).then(|| ns.to_owned()),
            name: s(obj, "/metadata/name").to_owned(),
            workload: None,
            severity,
            reason: reason.to_owned(),
            message,
            evidence: Vec::new(),
        }
    }

    /// `Kind/name` (with `namespace/` in front for namespaced objects).
    pub fn object(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", ns, self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// The objects the analyzers look at. Build it with [`Snapshot::gather`] or by hand (tests).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Objects by kind (`Pod`, `Deployment`, ...), with `apiVersion`/`kind` set.
    pub objects: BTreeMap<String, Vec<Value>>,
    /// Kinds that could not be listed, with why.
    pub skipped: Vec<String>,
}

/// The kinds a snapshot lists: (resource type to resolve, kind key).
const KINDS: &[(&str, &str)] = &[
    ("pods", "Pod"),
    ("deployments.apps", "Deployment"),
    ("replicasets.apps", "ReplicaSet"),
    ("statefulsets.apps", "StatefulSet"),
    ("daemonsets.apps", "DaemonSet"),
    ("jobs.batch", "Job"),
    ("cronjobs.batch", "CronJob"),
    ("services", "Service"),
    ("ingresses.networking.k8s.io", "Ingress"),
    ("ingressclasses.networking.k8s.io", "IngressClass"),
    ("persistentvolumeclaims", "PersistentVolumeClaim"),
    ("storageclasses.storage.k8s.io", "StorageClass"),
    ("nodes", "Node"),
    (
        "horizontalpodautoscalers.autoscaling",
        "HorizontalPodAutoscaler",
    ),
    ("poddisruptionbudgets.policy", "PodDisruptionBudget"),
    ("networkpolicies.networking.k8s.io", "NetworkPolicy"),
    ("events", "Event"),
];

impl Snapshot {
    /// Lists every analyzed kind in `namespace` (all namespaces when `None`). Kinds the cluster
    /// does not serve or the caller may not list are recorded in `skipped`, not fatal.
    pub async fn gather(
        client: &Client,
        catalog: &ResourceCatalog,
        namespace: Option<&str>,
    ) -> Result<Snapshot> {
        let mut snap = Snapshot::default();
        let futs = KINDS.iter().map(|(ty, kind)| async move {
            let res = match catalog.resolve(ty).await {
                Ok(info) => {
                    kapi::list_all(client, &info, namespace, &ListParams::default(), 20_000).await
                }
                Err(e) => Err(e),
            };
            (*kind, res)
        });
        for (kind, res) in futures::future::join_all(futs).await {
            match res {
                Ok(items) => {
                    snap.objects.insert(kind.to_owned(), items);
                }
                Err(e) => snap.skipped.push(format!("{kind}: {e}")),
            }
        }
        Ok(snap)
    }

    /// The objects of one kind.
    pub fn of(&self, kind: &str) -> &[Value] {
        self.objects.get(kind).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Options of [`diagnose`]: [`DiagnoseOptions::default`] and the setters.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DiagnoseOptions {
    /// Namespace to look in; `None` for all.
    pub namespace: Option<String>,
    /// Read failing containers' logs as evidence.
    pub include_logs: bool,
    /// Log lines kept per container.
    pub log_lines: usize,
}

impl Default for DiagnoseOptions {
    fn default() -> Self {
        DiagnoseOptions {
            namespace: None,
            include_logs: true,
            log_lines: 5,
        }
    }
}

impl DiagnoseOptions {
    /// Looks in one namespace (`None`: all).
    pub fn namespace(mut self, namespace: Option<String>) -> Self {
        self.namespace = namespace;
        self
    }

    /// Reads failing containers' logs as evidence (default on).
    pub fn include_logs(mut self, include: bool) -> Self {
        self.include_logs = include;
        self
    }

    /// Log lines kept per container (default 5).
    pub fn log_lines(mut self, lines: usize) -> Self {
        self.log_lines = lines;
        self
    }
}

/// The result of a diagnosis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// Findings, critical first.
    pub findings: Vec<Finding>,
    /// Kinds that could not be analyzed, with why.
    pub skipped: Vec<String>,
}

impl Diagnosis {
    /// A report for a model or a person: findings grouped by workload, with evidence.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.findings.is_empty() {
            out.push_str("No problems found.\n");
        } else {
            let critical = self
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Critical)
                .count();
            let _ = writeln!(
                out,
                "{} findings ({critical} critical, {} warnings):",
                self.findings.len(),
                self.findings.len() - critical
            );
            for (n, f) in self.findings.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{}. [{}] {} {}{}: {}",
                    n + 1,
                    match f.severity {
                        Severity::Critical => "critical",
                        Severity::Warning => "warning",
                    },
                    f.object(),
                    f.reason,
                    f.workload
                        .as_ref()
                        .map(|w| format!(" (workload {w})"))
                        .unwrap_or_default(),
                    f.message
                );
                for e in &f.evidence {
                    let _ = writeln!(out, "   - {e}");
                }
            }
        }
        if !self.skipped.is_empty() {
            let _ = writeln!(out, "Not analyzed: {}", self.skipped.join("; "));
        }
        out
    }
}

/// Gathers a snapshot, analyzes it and (optionally) reads failing containers' logs.
pub async fn diagnose(
    client: &Client,
    catalog: &ResourceCatalog,
    options: &DiagnoseOptions,
) -> Result<Diagnosis> {
    let snap = Snapshot::gather(client, catalog, options.namespace.as_deref()).await?;
    let now = jiff::Timestamp::now();
    let mut findings = analyze(&snap, now);
    if options.include_logs {
        add_log_evidence(client, &snap, &mut findings, options.log_lines).await;
    }
    Ok(Diagnosis {
        findings,
        skipped: snap.skipped,
    })
}

const LOG_REASONS: &[&str] = &["CrashLoopBackOff", "OOMKilled", "Error", "ContainerFailed"];

async fn add_log_evidence(client: &Client, snap: &Snapshot, findings: &mut [Finding], keep: usize) {
    for f in findings.iter_mut() {
        if f.kind != "Pod" || !LOG_REASONS.contains(&f.reason.as_str()) {
            continue;
        }
        let Some(ns) = f.namespace.clone() else {
            continue;
        };
        let Some(pod) = snap
            .of("Pod")
            .iter()
            .find(|p| s(p, "/metadata/name") == f.name && s(p, "/metadata/namespace") == ns)
        else {
            continue;
        };
        for c in arr(pod, "/status/containerStatuses") {
            let failing = c.pointer("/state/waiting").is_some()
                || c.pointer("/state/terminated").is_some()
                || c.get("ready").and_then(Value::as_bool) == Some(false);
            if !failing {
                continue;
            }
            let container = s(c, "/name");
            let previous = i(c, "/restartCount") > 0 && c.pointer("/state/terminated").is_none();
            let lp = LogParams {
                container: Some(container.to_owned()),
                tail_lines: Some(50),
                previous,
                limit_bytes: Some(64 * 1024),
                ..LogParams::default()
            };
            let text = match kapi::logs(client, &ns, &f.name, &lp).await {
                Ok(t) => t,
                Err(_) if previous => {
                    let lp = LogParams {
                        previous: false,
                        ..lp
                    };
                    kapi::logs(client, &ns, &f.name, &lp)
                        .await
                        .unwrap_or_default()
                }
                Err(_) => String::new(),
            };
            for line in telling_log_lines(&text, keep) {
                f.evidence.push(format!("log {container}: {line}"));
            }
        }
    }
}

/// The log lines most likely to explain a failure: error-looking lines (last ones first kept
/// in order), else the last lines.
pub fn telling_log_lines(text: &str, keep: usize) -> Vec<String> {
    const MARKERS: &[&str] = &[
        "error",
        "fatal",
        "panic",
        "exception",
        "fail",
        "refused",
        "denied",
        "not found",
        "no such",
        "cannot",
        "can't",
        "unable",
        "timeout",
        "killed",
        "oom",
        "exit",
    ];
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let telling: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| {
            let low = l.to_ascii_lowercase();
            MARKERS.iter().any(|m| low.contains(m))
        })
        .collect();
    let chosen = if telling.is_empty() { &lines } else { &telling };
    chosen
        .iter()
        .skip(chosen.len().saturating_sub(keep))
        .map(|l| one_line(l, 300))
        .collect()
}

/// Whether `labels` (an object's labels) satisfy a LabelSelector (`matchLabels` and
/// `matchExpressions`). An empty selector matches everything.
pub fn selector_matches(selector: &Value, labels: Option<&serde_json::Map<String, Value>>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    if let Some(ml) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in ml {
            if get(k) != v.as_str() {
                return false;
            }
        }
    }
    for e in arr(selector, "/matchExpressions") {
        let key = s(e, "/key");
        let values: Vec<&str> = arr(e, "/values").iter().filter_map(Value::as_str).collect();
        let ok = match s(e, "/operator") {
            "In" => get(key).is_some_and(|v| values.contains(&v)),
            "NotIn" => get(key).is_none_or(|v| !values.contains(&v)),
            "Exists" => get(key).is_some(),
            "DoesNotExist" => get(key).is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Whether a plain `key: value` map (a Service selector) selects `labels`.
fn map_selects(
    selector: &serde_json::Map<String, Value>,
    labels: Option<&serde_json::Map<String, Value>>,
) -> bool {
    selector
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)).and_then(Value::as_str) == v.as_str())
}

fn labels(v: &Value) -> Option<&serde_json::Map<String, Value>> {
    v.pointer("/metadata/labels").and_then(Value::as_object)
}

fn same_ns(a: &Value, b: &Value) -> bool {
    s(a, "/metadata/namespace") == s(b, "/metadata/namespace")
}

fn cond<'a>(v: &'a Value, ty: &str) -> Option<&'a Value> {
    arr(v, "/status/conditions")
        .iter()
        .find(|c| s(c, "/type") == ty)
}

/// Runs every analyzer on a snapshot. Pure: no I/O.
pub fn analyze(snap: &Snapshot, now: jiff::Timestamp) -> Vec<Finding> {
    let mut out = Vec::new();
    analyze_pods(snap, now, &mut out);
    analyze_deployments(snap, &mut out);
    analyze_replicasets(snap, &mut out);
    analyze_statefulsets(snap, &mut out);
    analyze_daemonsets(snap, &mut out);
    analyze_jobs(snap, &mut out);
    analyze_cronjobs(snap, &mut out);
    analyze_services(snap, &mut out);
    analyze_ingresses(snap, &mut out);
    analyze_pvcs(snap, &mut out);
    analyze_nodes(snap, &mut out);
    analyze_hpas(snap, &mut out);
    analyze_pdbs(snap, &mut out);
    analyze_netpols(snap, &mut out);
    attach_events(snap, &mut out);
    analyze_events(snap, &mut out);
    for f in &mut out {
        if f.workload.is_none() {
            f.workload = top_owner(snap, &f.kind, f.namespace.as_deref(), &f.name);
        }
    }
    out.sort_by(|a, b| {
        (a.severity, &a.namespace, &a.workload, &a.kind, &a.name).cmp(&(
            b.severity,
            &b.namespace,
            &b.workload,
            &b.kind,
            &b.name,
        ))
    });
    out
}

/// Follows controller owner references through the snapshot to the top (`Deployment/web`).
fn top_owner(snap: &Snapshot, kind: &str, ns: Option<&str>, name: &str) -> Option<String> {
    let mut current = snap.of(kind).iter().find(|o| {
        s(o, "/metadata/name") == name && ns.is_none_or(|n| s(o, "/metadata/namespace") == n)
    })?;
    let mut top = None;
    for _ in 0..4 {
        let Some(owner) = arr(current, "/metadata/ownerReferences")
            .iter()
            .find(|o| o.get("controller").and_then(Value::as_bool) != Some(false))
        else {
            break;
        };
        let (okind, oname) = (s(owner, "/kind"), s(owner, "/name"));
        top = Some(format!("{okind}/{oname}"));
        match snap.of(okind).iter().find(|o| {
            s(o, "/metadata/name") == oname
                && s(o, "/metadata/namespace") == s(current, "/metadata/namespace")
        }) {
            Some(next) => current = next,
            None => break,
        }
    }
    top
}

fn analyze_pods(snap: &Snapshot, now: jiff::Timestamp, out: &mut Vec<Finding>) {
    for pod in snap.of("Pod") {
        if pod.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let phase = s(pod, "/status/phase");
        if phase == "Succeeded" {
            continue;
        }
        let mut found = false;
        // Scheduling.
        if let Some(c) = cond(pod, "PodScheduled")
            && s(c, "/status") == "False"
        {
            let mut f = Finding::new(
                "Pod",
                pod,
                Severity::Critical,
                "Unschedulable",
                format!(
                    "the scheduler cannot place the pod: {}",
                    one_line(s(c, "/message"), 400)
                ),
            );
            let req = requests(pod);
            if !req.is_empty() {
                f.evidence.push(format!("requests: {req}"));
            }
            if let Some(sel) = pod.pointer("/spec/nodeSelector").and_then(Value::as_object) {
                f.evidence
                    .push(format!("nodeSelector: {}", Value::Object(sel.clone())));
            }
            for v in arr(pod, "/spec/volumes") {
                if let Some(claim) = v
                    .pointer("/persistentVolumeClaim/claimName")
                    .and_then(Value::as_str)
                    && let Some(pvc) = snap
                        .of("PersistentVolumeClaim")
                        .iter()
                        .find(|p| s(p, "/metadata/name") == claim && same_ns(p, pod))
                    && s(pvc, "/status/phase") != "Bound"
                {
                    f.evidence.push(format!(
                        "uses PersistentVolumeClaim {claim}, which is {}",
                        s(pvc, "/status/phase")
                    ));
                }
            }
            out.push(f);
            continue;
        }
        if phase == "Failed" {
            out.push(Finding::new(
                "Pod",
                pod,
                Severity::Warning,
                match s(pod, "/status/reason") {
                    "" => "Failed",
                    r => r,
                },
                format!("pod failed: {}", one_line(s(pod, "/status/message"), 300)),
            ));
            continue;
        }
        let statuses: Vec<&Value> = arr(pod, "/status/initContainerStatuses")
            .iter()
            .chain(arr(pod, "/status/containerStatuses"))
            .collect();
        for c in statuses {
            let cname = s(c, "/name");
            let restarts = i(c, "/restartCount");
            let waiting = s(c, "/state/waiting/reason");
            let wmsg = one_line(s(c, "/state/waiting/message"), 300);
            let term = c.pointer("/state/terminated");
            let last = c.pointer("/lastState/terminated");
            let last_reason = last.map(|t| s(t, "/reason")).unwrap_or("");
            let last_code = last.map(|t| i(t, "/exitCode")).unwrap_or(0);
            let limit = container_spec(pod, cname)
                .map(|cs| s(cs, "/resources/limits/memory").to_owned())
                .unwrap_or_default();
            let image = container_spec(pod, cname)
                .map(|cs| s(cs, "/image").to_owned())
                .unwrap_or_default();
            let oom =
                last_reason == "OOMKilled" || term.is_some_and(|t| s(t, "/reason") == "OOMKilled");
            if oom {
                let mut f = Finding::new(
                    "Pod",
                    pod,
                    Severity::Critical,
                    "OOMKilled",
                    format!(
                        "container {cname} is killed for exceeding its memory limit{} (exit 137), restarted {restarts} times",
                        if limit.is_empty() {
                            String::new()
                        } else {
                            format!(" of {limit}")
                        }
                    ),
                );
                f.evidence.push(format!(
                    "last termination: OOMKilled exit={last_code}{}",
                    if waiting.is_empty() {
                        String::new()
                    } else {
                        format!("; now {waiting}")
                    }
                ));
                if !limit.is_empty() {
                    f.evidence.push(format!("resources.limits.memory: {limit}"));
                }
                out.push(f);
                found = true;
            } else if matches!(
                waiting,
                "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" | "ErrImageNeverPull"
            ) {
                let mut f = Finding::new(
                    "Pod",
                    pod,
                    Severity::Critical,
                    "ImagePullBackOff",
                    format!("container {cname} cannot pull image {image:?}: {waiting}"),
                );
                if !wmsg.is_empty() {
                    f.evidence.push(format!("waiting: {wmsg}"));
                }
                out.push(f);
                found = true;
            } else if waiting == "CrashLoopBackOff"
                || (restarts > 0 && last_code != 0 && !waiting.is_empty())
            {
                let mut f = Finding::new(
                    "Pod",
                    pod,
                    Severity::Critical,
                    "CrashLoopBackOff",
                    format!(
                        "container {cname} keeps crashing: last exit {}{}, restarted {restarts} times",
                        if last_reason.is_empty() {
                            "Error"
                        } else {
                            last_reason
                        },
                        format_args!(" (code {last_code})")
                    ),
                );
                if let Some(t) = last {
                    let msg = s(t, "/message");
                    if !msg.is_empty() {
                        f.evidence
                            .push(format!("termination message: {}", one_line(msg, 300)));
                    }
                    let fin = s(t, "/finishedAt");
                    if !fin.is_empty() {
                        f.evidence
                            .push(format!("last crash {} ago", crate::render::age(fin, now)));
                    }
                }
                out.push(f);
                found = true;
            } else if matches!(
                waiting,
                "CreateContainerConfigError" | "CreateContainerError" | "RunContainerError"
            ) {
                let mut f = Finding::new(
                    "Pod",
                    pod,
                    Severity::Critical,
                    waiting,
                    format!("container {cname} cannot start: {wmsg}"),
                );
                f.evidence.push(format!("waiting: {waiting}"));
                out.push(f);
                found = true;
            } else if let Some(t) = term
                && i(t, "/exitCode") != 0
                && s(pod, "/spec/restartPolicy") == "Never"
            {
                out.push(Finding::new(
                    "Pod",
                    pod,
                    Severity::Critical,
                    "ContainerFailed",
                    format!(
                        "container {cname} exited with {} (code {})",
                        s(t, "/reason"),
                        i(t, "/exitCode")
                    ),
                ));
                found = true;
            }
        }
        if found || phase != "Running" {
            continue;
        }
        // Running but not ready: a failing readiness probe.
        for c in arr(pod, "/status/containerStatuses") {
            if c.get("ready").and_then(Value::as_bool) == Some(false)
                && c.pointer("/state/running").is_some()
            {
                let cname = s(c, "/name");
                let mut f = Finding::new(
                    "Pod",
                    pod,
                    Severity::Critical,
                    "ReadinessProbeFailing",
                    format!(
                        "container {cname} runs but is not ready, so it receives no Service traffic"
                    ),
                );
                if let Some(p) = container_spec(pod, cname).and_then(|cs| cs.get("readinessProbe"))
                {
                    f.evidence
                        .push(format!("readinessProbe: {}", probe_text(p)));
                }
                out.push(f);
            }
        }
    }
}

fn probe_text(p: &Value) -> String {
    if let Some(h) = p.get("httpGet") {
        format!(
            "http-get :{}{}",
            h.get("port")
                .map(|v| v.to_string().replace('"', ""))
                .unwrap_or_default(),
            s(h, "/path")
        )
    } else if let Some(t) = p.get("tcpSocket") {
        format!(
            "tcp :{}",
            t.get("port")
                .map(|v| v.to_string().replace('"', ""))
                .unwrap_or_default()
        )
    } else if let Some(e) = p.get("exec") {
        format!(
            "exec {}",
            arr(e, "/command")
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        )
    } else {
        p.to_string()
    }
}

fn container_spec<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    arr(pod, "/spec/containers")
        .iter()
        .chain(arr(pod, "/spec/initContainers"))
        .find(|c| s(c, "/name") == name)
}

fn requests(pod: &Value) -> String {
    arr(pod, "/spec/containers")
        .iter()
        .filter_map(|c| c.pointer("/resources/requests").and_then(Value::as_object))
        .flat_map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Pods owned (through a ReplicaSet or directly) by a workload.
fn pods_of<'a>(snap: &'a Snapshot, workload: &Value) -> Vec<&'a Value> {
    let Some(sel) = workload.pointer("/spec/selector") else {
        return Vec::new();
    };
    snap.of("Pod")
        .iter()
        .filter(|p| same_ns(p, workload) && selector_matches(sel, labels(p)))
        .collect()
}

fn pod_problem_summary(pods: &[&Value]) -> Option<String> {
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for p in pods {
        let st = pod_status(p);
        let ready = arr(p, "/status/containerStatuses")
            .iter()
            .all(|c| c.get("ready").and_then(Value::as_bool) == Some(true));
        if st != "Running" || !ready {
            let key = if st == "Running" {
                "Running but not ready".to_owned()
            } else {
                st
            };
            *by_status.entry(key).or_default() += 1;
        }
    }
    if by_status.is_empty() {
        None
    } else {
        Some(
            by_status
                .iter()
                .map(|(k, n)| format!("{n} pod(s) {k}"))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

fn analyze_deployments(snap: &Snapshot, out: &mut Vec<Finding>) {
    for d in snap.of("Deployment") {
        let desired = d
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let ready = i(d, "/status/readyReplicas");
        let updated = i(d, "/status/updatedReplicas");
        let stuck = cond(d, "Progressing").filter(|c| s(c, "/status") == "False");
        let pods = pods_of(snap, d);
        let pod_summary = pod_problem_summary(&pods);
        if let Some(c) = stuck {
            let mut f = Finding::new(
                "Deployment",
                d,
                Severity::Critical,
                "RolloutStuck",
                format!(
                    "rollout is stuck ({}): {updated}/{desired} replicas updated, {ready} ready",
                    s(c, "/reason")
                ),
            );
            f.evidence.push(format!(
                "Progressing=False: {}",
                one_line(s(c, "/message"), 300)
            ));
            if let Some(p) = &pod_summary {
                f.evidence.push(format!("pods: {p}"));
            }
            out.push(f);
        } else if desired > 0 && ready < desired {
            let mut f = Finding::new(
                "Deployment",
                d,
                Severity::Critical,
                "ReplicasUnavailable",
                format!("only {ready}/{desired} replicas are ready"),
            );
            if let Some(p) = &pod_summary {
                f.evidence.push(format!("pods: {p}"));
            }
            if d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
                f.evidence.push("the deployment is paused".to_owned());
            }
            out.push(f);
        }
    }
}

fn analyze_replicasets(snap: &Snapshot, out: &mut Vec<Finding>) {
    for rs in snap.of("ReplicaSet") {
        if let Some(c) = cond(rs, "ReplicaFailure").filter(|c| s(c, "/status") == "True") {
            out.push(Finding::new(
                "ReplicaSet",
                rs,
                Severity::Critical,
                match s(c, "/reason") {
                    "" => "ReplicaFailure",
                    r => r,
                },
                format!("cannot create pods: {}", one_line(s(c, "/message"), 300)),
            ));
        }
    }
}

fn analyze_statefulsets(snap: &Snapshot, out: &mut Vec<Finding>) {
    for st in snap.of("StatefulSet") {
        let desired = st
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let ready = i(st, "/status/readyReplicas");
        if desired > 0 && ready < desired {
            let mut f = Finding::new(
                "StatefulSet",
                st,
                Severity::Critical,
                "ReplicasUnavailable",
                format!("only {ready}/{desired} replicas are ready"),
            );
            if let Some(p) = pod_problem_summary(&pods_of(snap, st)) {
                f.evidence.push(format!("pods: {p}"));
            }
            for t in arr(st, "/spec/volumeClaimTemplates") {
                let sc = s(t, "/spec/storageClassName");
                if !sc.is_empty()
                    && snap.objects.contains_key("StorageClass")
                    && !snap
                        .of("StorageClass")
                        .iter()
                        .any(|c| s(c, "/metadata/name") == sc)
                {
                    f.evidence.push(format!(
                        "volumeClaimTemplate uses StorageClass {sc}, which does not exist"
                    ));
                }
            }
            out.push(f);
        }
    }
}

fn analyze_daemonsets(snap: &Snapshot, out: &mut Vec<Finding>) {
    for ds in snap.of("DaemonSet") {
        let desired = i(ds, "/status/desiredNumberScheduled");
        let ready = i(ds, "/status/numberReady");
        let misscheduled = i(ds, "/status/numberMisscheduled");
        if ready < desired {
            let mut f = Finding::new(
                "DaemonSet",
                ds,
                Severity::Critical,
                "PodsUnavailable",
                format!("only {ready}/{desired} daemon pods are ready"),
            );
            if let Some(p) = pod_problem_summary(&pods_of(snap, ds)) {
                f.evidence.push(format!("pods: {p}"));
            }
            out.push(f);
        }
        if misscheduled > 0 {
            out.push(Finding::new(
                "DaemonSet",
                ds,
                Severity::Warning,
                "Misscheduled",
                format!("{misscheduled} daemon pods run on nodes they should not"),
            ));
        }
    }
}

fn analyze_jobs(snap: &Snapshot, out: &mut Vec<Finding>) {
    for j in snap.of("Job") {
        if let Some(c) = cond(j, "Failed").filter(|c| s(c, "/status") == "True") {
            let mut f = Finding::new(
                "Job",
                j,
                Severity::Critical,
                match s(c, "/reason") {
                    "" => "JobFailed",
                    r => r,
                },
                format!("job failed: {}", one_line(s(c, "/message"), 300)),
            );
            f.evidence.push(format!(
                "succeeded {}, failed {}",
                i(j, "/status/succeeded"),
                i(j, "/status/failed")
            ));
            out.push(f);
        }
    }
}

fn valid_schedule(schedule: &str) -> bool {
    let sched = schedule.trim();
    if sched.starts_with('@') {
        return matches!(
            sched,
            "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly"
        ) || sched.starts_with("@every ");
    }
    let fields: Vec<&str> = sched
        .split_whitespace()
        .filter(|f| !f.starts_with("TZ=") && !f.starts_with("CRON_TZ="))
        .collect();
    fields.len() == 5
        && fields.iter().all(|f| {
            f.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '/' | ',' | '-' | '?'))
        })
}

fn analyze_cronjobs(snap: &Snapshot, out: &mut Vec<Finding>) {
    for cj in snap.of("CronJob") {
        let sched = s(cj, "/spec/schedule");
        if !valid_schedule(sched) {
            out.push(Finding::new(
                "CronJob",
                cj,
                Severity::Critical,
                "InvalidSchedule",
                format!("schedule {sched:?} is not a valid cron expression"),
            ));
        }
        if cj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
            out.push(Finding::new(
                "CronJob",
                cj,
                Severity::Warning,
                "Suspended",
                "the cronjob is suspended and starts no jobs".to_owned(),
            ));
        }
    }
}

fn analyze_services(snap: &Snapshot, out: &mut Vec<Finding>) {
    for svc in snap.of("Service") {
        if s(svc, "/spec/type") == "ExternalName" {
            continue;
        }
        let Some(sel) = svc.pointer("/spec/selector").and_then(Value::as_object) else {
            continue;
        };
        if sel.is_empty() {
            continue;
        }
        let matching: Vec<&Value> = snap
            .of("Pod")
            .iter()
            .filter(|p| same_ns(p, svc) && map_selects(sel, labels(p)))
            .collect();
        let sel_text = sel
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect::<Vec<_>>()
            .join(",");
        if matching.is_empty() {
            let mut f = Finding::new(
                "Service",
                svc,
                Severity::Critical,
                "SelectorMatchesNothing",
                format!("selector {sel_text} matches no pod, so the Service has no endpoints"),
            );
            // Nearest candidates: pods sharing a selector key.
            // Nearest candidates first: pods sharing a selector key, by common prefix.
            let mut near: BTreeMap<String, usize> = BTreeMap::new();
            for p in snap.of("Pod").iter().filter(|p| same_ns(p, svc)) {
                if let Some(l) = labels(p) {
                    for (k, want) in sel {
                        if let Some(v) = l.get(k).and_then(Value::as_str) {
                            let want = want.as_str().unwrap_or("");
                            let common = want
                                .chars()
                                .zip(v.chars())
                                .take_while(|(a, b)| a == b)
                                .count();
                            near.insert(format!("{k}={v}"), common);
                        }
                    }
                }
            }
            let mut near: Vec<(String, usize)> = near.into_iter().collect();
            near.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            if !near.is_empty() {
                f.evidence.push(format!(
                    "pods in the namespace carry {}",
                    near.into_iter()
                        .take(5)
                        .map(|(l, _)| l)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            out.push(f);
            continue;
        }
        let ready: Vec<&&Value> = matching
            .iter()
            .filter(|p| cond(p, "Ready").is_some_and(|c| s(c, "/status") == "True"))
            .collect();
        if ready.is_empty() {
            let mut f = Finding::new(
                "Service",
                svc,
                Severity::Critical,
                "NoReadyEndpoints",
                format!(
                    "selector {sel_text} matches {} pod(s) but none is ready, so the Service has no ready endpoints",
                    matching.len()
                ),
            );
            if let Some(p) = pod_problem_summary(&matching) {
                f.evidence.push(format!("pods: {p}"));
            }
            out.push(f);
            continue;
        }
        // Named target ports must exist on the selected pods.
        for port in arr(svc, "/spec/ports") {
            if let Some(tp) = port.get("targetPort").and_then(Value::as_str) {
                let found = matching.iter().any(|p| {
                    arr(p, "/spec/containers")
                        .iter()
                        .flat_map(|c| arr(c, "/ports"))
                        .any(|cp| s(cp, "/name") == tp)
                });
                if !found {
                    out.push(Finding::new(
                        "Service",
                        svc,
                        Severity::Critical,
                        "TargetPortNotFound",
                        format!("targetPort {tp:?} is not a named port of any selected pod"),
                    ));
                }
            }
        }
    }
}

fn analyze_ingresses(snap: &Snapshot, out: &mut Vec<Finding>) {
    for ing in snap.of("Ingress") {
        let class = s(ing, "/spec/ingressClassName");
        if !class.is_empty()
            && snap.objects.contains_key("IngressClass")
            && !snap
                .of("IngressClass")
                .iter()
                .any(|c| s(c, "/metadata/name") == class)
        {
            out.push(Finding::new(
                "Ingress",
                ing,
                Severity::Critical,
                "IngressClassNotFound",
                format!("ingressClassName {class:?} does not exist, so no controller serves it"),
            ));
        }
        let mut backends: Vec<&str> = Vec::new();
        if let Some(b) = ing
            .pointer("/spec/defaultBackend/service/name")
            .and_then(Value::as_str)
        {
            backends.push(b);
        }
        for r in arr(ing, "/spec/rules") {
            for p in arr(r, "/http/paths") {
                if let Some(b) = p.pointer("/backend/service/name").and_then(Value::as_str) {
                    backends.push(b);
                }
            }
        }
        for b in backends {
            if !snap
                .of("Service")
                .iter()
                .any(|svc| s(svc, "/metadata/name") == b && same_ns(svc, ing))
            {
                out.push(Finding::new(
                    "Ingress",
                    ing,
                    Severity::Critical,
                    "BackendServiceNotFound",
                    format!("backend Service {b:?} does not exist"),
                ));
            }
        }
    }
}

fn analyze_pvcs(snap: &Snapshot, out: &mut Vec<Finding>) {
    for pvc in snap.of("PersistentVolumeClaim") {
        match s(pvc, "/status/phase") {
            "Pending" => {
                let sc = s(pvc, "/spec/storageClassName");
                let missing_sc = !sc.is_empty()
                    && snap.objects.contains_key("StorageClass")
                    && !snap
                        .of("StorageClass")
                        .iter()
                        .any(|c| s(c, "/metadata/name") == sc);
                let message = if missing_sc {
                    format!(
                        "claim is Pending: StorageClass {sc:?} does not exist, so no volume can be provisioned"
                    )
                } else {
                    "claim is Pending: no PersistentVolume is bound to it".to_owned()
                };
                let mut f = Finding::new(
                    "PersistentVolumeClaim",
                    pvc,
                    Severity::Critical,
                    "PvcPending",
                    message,
                );
                f.evidence.push(format!(
                    "requests {} {}, storageClassName {}",
                    s(pvc, "/spec/resources/requests/storage"),
                    arr(pvc, "/spec/accessModes")
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                    if sc.is_empty() { "<default>" } else { sc }
                ));
                out.push(f);
            }
            "Lost" => out.push(Finding::new(
                "PersistentVolumeClaim",
                pvc,
                Severity::Critical,
                "PvcLost",
                format!("the bound volume {} is gone", s(pvc, "/spec/volumeName")),
            )),
            _ => {}
        }
    }
}

fn analyze_nodes(snap: &Snapshot, out: &mut Vec<Finding>) {
    for n in snap.of("Node") {
        match cond(n, "Ready") {
            Some(c) if s(c, "/status") != "True" => {
                let mut f = Finding::new(
                    "Node",
                    n,
                    Severity::Critical,
                    "NodeNotReady",
                    format!("node is not ready: {}", one_line(s(c, "/message"), 300)),
                );
                f.evidence
                    .push(format!("Ready={} {}", s(c, "/status"), s(c, "/reason")));
                out.push(f);
            }
            _ => {}
        }
        for c in arr(n, "/status/conditions") {
            let ty = s(c, "/type");
            if ty != "Ready" && s(c, "/status") == "True" {
                out.push(Finding::new(
                    "Node",
                    n,
                    Severity::Warning,
                    ty,
                    format!("node reports {ty}: {}", one_line(s(c, "/message"), 300)),
                ));
            }
        }
        if n.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
            out.push(Finding::new(
                "Node",
                n,
                Severity::Warning,
                "Cordoned",
                "node is cordoned (unschedulable)".to_owned(),
            ));
        }
    }
}

fn analyze_hpas(snap: &Snapshot, out: &mut Vec<Finding>) {
    for h in snap.of("HorizontalPodAutoscaler") {
        let max = i(h, "/spec/maxReplicas");
        let current = i(h, "/status/currentReplicas");
        let desired = i(h, "/status/desiredReplicas");
        let tkind = s(h, "/spec/scaleTargetRef/kind");
        let tname = s(h, "/spec/scaleTargetRef/name");
        if snap.objects.contains_key(tkind)
            && !snap
                .of(tkind)
                .iter()
                .any(|o| s(o, "/metadata/name") == tname && same_ns(o, h))
        {
            out.push(Finding::new(
                "HorizontalPodAutoscaler",
                h,
                Severity::Critical,
                "ScaleTargetNotFound",
                format!("scale target {tkind}/{tname} does not exist"),
            ));
            continue;
        }
        if max > 0 && current >= max {
            let mut f = Finding::new(
                "HorizontalPodAutoscaler",
                h,
                Severity::Warning,
                "HpaAtMaxReplicas",
                format!(
                    "running at its maximum of {max} replicas{}; load may exceed capacity",
                    if desired > max {
                        format!(" (wants {desired})")
                    } else {
                        String::new()
                    }
                ),
            );
            for (idx, m) in arr(h, "/spec/metrics").iter().enumerate() {
                let target = m
                    .pointer("/resource/target/averageUtilization")
                    .and_then(Value::as_i64);
                let cur = arr(h, "/status/currentMetrics")
                    .get(idx)
                    .and_then(|c| c.pointer("/resource/current/averageUtilization"))
                    .and_then(Value::as_i64);
                if let (Some(t), Some(c)) = (target, cur) {
                    f.evidence.push(format!(
                        "{} utilization {c}% vs target {t}%",
                        s(m, "/resource/name")
                    ));
                }
            }
            if let Some(c) = cond(h, "ScalingLimited").filter(|c| s(c, "/status") == "True") {
                f.evidence.push(format!(
                    "ScalingLimited: {}",
                    one_line(s(c, "/message"), 200)
                ));
            }
            f.evidence.push(format!("target {tkind}/{tname}"));
            out.push(f);
        }
        if let Some(c) = cond(h, "ScalingActive").filter(|c| s(c, "/status") == "False") {
            out.push(Finding::new(
                "HorizontalPodAutoscaler",
                h,
                Severity::Warning,
                "ScalingInactive",
                format!(
                    "cannot compute replicas: {}",
                    one_line(s(c, "/message"), 300)
                ),
            ));
        }
    }
}

fn analyze_pdbs(snap: &Snapshot, out: &mut Vec<Finding>) {
    for p in snap.of("PodDisruptionBudget") {
        let expected = i(p, "/status/expectedPods");
        let allowed = i(p, "/status/disruptionsAllowed");
        if expected > 0 && allowed == 0 {
            out.push(Finding::new(
                "PodDisruptionBudget",
                p,
                Severity::Warning,
                "NoDisruptionsAllowed",
                format!(
                    "0 disruptions allowed ({} healthy of {} desired): node drains will block",
                    i(p, "/status/currentHealthy"),
                    i(p, "/status/desiredHealthy")
                ),
            ));
        }
        if let Some(sel) = p.pointer("/spec/selector")
            && snap.objects.contains_key("Pod")
            && !snap
                .of("Pod")
                .iter()
                .any(|pod| same_ns(pod, p) && selector_matches(sel, labels(pod)))
        {
            out.push(Finding::new(
                "PodDisruptionBudget",
                p,
                Severity::Warning,
                "SelectorMatchesNothing",
                "selector matches no pod".to_owned(),
            ));
        }
    }
}

fn analyze_netpols(snap: &Snapshot, out: &mut Vec<Finding>) {
    for np in snap.of("NetworkPolicy") {
        let Some(sel) = np.pointer("/spec/podSelector") else {
            continue;
        };
        let empty = sel.as_object().is_none_or(|m| {
            m.values().all(|v| {
                v.as_object().is_some_and(|o| o.is_empty())
                    || v.as_array().is_some_and(|a| a.is_empty())
            })
        });
        if empty {
            let types: Vec<&str> = arr(np, "/spec/policyTypes")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if (types.contains(&"Ingress") || types.is_empty())
                && arr(np, "/spec/ingress").is_empty()
            {
                out.push(Finding::new(
                    "NetworkPolicy",
                    np,
                    Severity::Warning,
                    "DenyAllIngress",
                    "selects every pod in the namespace and allows no ingress: all inbound traffic is denied".to_owned(),
                ));
            }
        } else if !snap
            .of("Pod")
            .iter()
            .any(|p| same_ns(p, np) && selector_matches(sel, labels(p)))
        {
            out.push(Finding::new(
                "NetworkPolicy",
                np,
                Severity::Warning,
                "SelectorMatchesNothing",
                "podSelector matches no pod; the policy has no effect".to_owned(),
            ));
        }
    }
}

fn either<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

/// Warning events, and Normal events that report a failure (`FailedBinding` is Normal).
fn is_problem_event(e: &Value) -> bool {
    s(e, "/type") == "Warning" || s(e, "/reason").starts_with("Failed")
}

const CLUSTER_KINDS: &[&str] = &[
    "Node",
    "PersistentVolume",
    "Namespace",
    "StorageClass",
    "ClusterRole",
    "IngressClass",
];

/// The namespace an event's object lives in (none for cluster-scoped kinds).
fn event_ns(e: &Value) -> &str {
    if CLUSTER_KINDS.contains(&s(e, "/involvedObject/kind")) {
        ""
    } else {
        either(
            s(e, "/involvedObject/namespace"),
            s(e, "/metadata/namespace"),
        )
    }
}

fn event_matches(e: &Value, f: &Finding) -> bool {
    let ens = event_ns(e);
    s(e, "/involvedObject/kind") == f.kind
        && s(e, "/involvedObject/name") == f.name
        && f.namespace.as_deref().unwrap_or("") == ens
}

/// Adds the latest warning events about each finding's object as evidence.
fn attach_events(snap: &Snapshot, out: &mut [Finding]) {
    let warnings: Vec<&Value> = snap
        .of("Event")
        .iter()
        .filter(|e| is_problem_event(e))
        .collect();
    for f in out.iter_mut() {
        let mut evs: Vec<&&Value> = warnings.iter().filter(|e| event_matches(e, f)).collect();
        evs.sort_by_key(|e| crate::render::table::event_time(e).to_owned());
        let skip = evs.len().saturating_sub(3);
        for e in evs.into_iter().skip(skip) {
            f.evidence.push(format!(
                "event {} x{}: {}",
                s(e, "/reason"),
                e.get("count").and_then(Value::as_i64).unwrap_or(1),
                one_line(s(e, "/message"), 300)
            ));
        }
    }
}

/// (kind, namespace, name, reason)
type EventKey = (String, String, String, String);

/// Warning events about objects no analyzer flagged (grouped by object and reason).
fn analyze_events(snap: &Snapshot, out: &mut Vec<Finding>) {
    let flagged: BTreeSet<(String, String, String)> = out
        .iter()
        .map(|f| {
            (
                f.kind.clone(),
                f.namespace.clone().unwrap_or_default(),
                f.name.clone(),
            )
        })
        .collect();
    let mut groups: BTreeMap<EventKey, (i64, String, String)> = BTreeMap::new();
    for e in snap
        .of("Event")
        .iter()
        .filter(|e| s(e, "/type") == "Warning")
    {
        let kind = s(e, "/involvedObject/kind").to_owned();
        let ns = event_ns(e).to_owned();
        let name = s(e, "/involvedObject/name").to_owned();
        if flagged.contains(&(kind.clone(), ns.clone(), name.clone())) {
            continue;
        }
        // Events about pods that no longer exist are history.
        if kind == "Pod"
            && snap.objects.contains_key("Pod")
            && !snap
                .of("Pod")
                .iter()
                .any(|p| s(p, "/metadata/name") == name && s(p, "/metadata/namespace") == ns)
        {
            continue;
        }
        let entry = groups
            .entry((kind, ns, name, s(e, "/reason").to_owned()))
            .or_insert((0, String::new(), String::new()));
        entry.0 += e.get("count").and_then(Value::as_i64).unwrap_or(1);
        let t = crate::render::table::event_time(e).to_owned();
        if t >= entry.2 {
            entry.1 = one_line(s(e, "/message"), 300);
            entry.2 = t;
        }
    }
    for ((kind, ns, name, reason), (count, message, _)) in groups.into_iter().take(30) {
        out.push(Finding {
            kind,
            namespace: (!ns.is_empty()).then_some(ns),
            name,
            workload: None,
            severity: Severity::Warning,
            reason: reason.clone(),
            message: format!("warning event {reason} seen {count} times: {message}"),
            evidence: Vec::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> jiff::Timestamp {
        "2026-01-10T12:00:00Z".parse().unwrap()
    }

    fn snap(items: Vec<Value>) -> Snapshot {
        let mut s = Snapshot::default();
        for i in items {
            let k = i["kind"].as_str().unwrap().to_owned();
            s.objects.entry(k).or_default().push(i);
        }
        for k in [
            "Pod",
            "Service",
            "StorageClass",
            "Event",
            "Deployment",
            "ReplicaSet",
        ] {
            s.objects.entry(k.into()).or_default();
        }
        s
    }

    fn pod(name: &str, labels: Value, status: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "labels": labels,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-7d9", "controller": true}]},
            "spec": {"containers": [{"name": "app", "image": "api:2", "resources": {"limits": {"memory": "64Mi"}},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}}]},
            "status": status})
    }

    #[test]
    fn crash_loop_oom_and_image_pull_are_root_caused() {
        let s = snap(vec![
            pod(
                "crash",
                json!({"app": "api"}),
                json!({"phase": "Running", "containerStatuses": [{"name": "app", "ready": false, "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"reason": "Error", "exitCode": 1, "finishedAt": "2026-01-10T11:59:00Z"}}}]}),
            ),
            pod(
                "oom",
                json!({"app": "api"}),
                json!({"phase": "Running", "containerStatuses": [{"name": "app", "ready": false, "restartCount": 3,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}),
            ),
            pod(
                "pull",
                json!({"app": "api"}),
                json!({"phase": "Pending", "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"api:nope\""}}}]}),
            ),
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "api-7d9", "namespace": "shop",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "controller": true}]}}),
            json!({"apiVersion": "v1", "kind": "Event", "metadata": {"namespace": "shop"}, "type": "Warning", "reason": "BackOff", "count": 9,
                "involvedObject": {"kind": "Pod", "name": "crash", "namespace": "shop"}, "message": "Back-off restarting failed container"}),
        ]);
        let findings = analyze(&s, now());
        let by = |n: &str| findings.iter().find(|f| f.name == n).unwrap();
        assert_eq!(by("crash").reason, "CrashLoopBackOff");
        assert!(
            by("crash")
                .evidence
                .iter()
                .any(|e| e.contains("BackOff x9")),
            "{:?}",
            by("crash")
        );
        assert_eq!(by("crash").workload.as_deref(), Some("Deployment/api"));
        assert_eq!(by("oom").reason, "OOMKilled");
        assert!(by("oom").message.contains("64Mi"));
        assert_eq!(by("pull").reason, "ImagePullBackOff");
        assert!(by("pull").evidence[0].contains("api:nope"));
        // The event was attached, not reported again on its own.
        assert_eq!(findings.iter().filter(|f| f.name == "crash").count(), 1);
    }

    #[test]
    fn unschedulable_readiness_and_services() {
        let s = snap(vec![
            pod(
                "big",
                json!({"app": "big"}),
                json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient memory."}]}),
            ),
            pod(
                "slow",
                json!({"app": "web"}),
                json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0, "state": {"running": {}}}]}),
            ),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "typo", "namespace": "shop"}, "spec": {"selector": {"app": "wbe"}}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": {"app": "web"}}}),
        ]);
        let f = analyze(&s, now());
        let by = |n: &str| f.iter().find(|x| x.name == n).unwrap();
        assert_eq!(by("big").reason, "Unschedulable");
        assert!(by("big").message.contains("Insufficient memory"));
        assert_eq!(by("slow").reason, "ReadinessProbeFailing");
        assert!(by("slow").evidence[0].contains("/ready"));
        assert_eq!(by("typo").reason, "SelectorMatchesNothing");
        assert!(
            by("typo").evidence[0].contains("app=web"),
            "{:?}",
            by("typo")
        );
        assert_eq!(by("web").reason, "NoReadyEndpoints");
    }

    #[test]
    fn pvc_hpa_deployment_node_analyzers() {
        let s = snap(vec![
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "shop"},
                "spec": {"storageClassName": "fast-ssd", "resources": {"requests": {"storage": "1Gi"}}}, "status": {"phase": "Pending"}}),
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "api", "namespace": "shop"},
                "spec": {"maxReplicas": 5, "scaleTargetRef": {"kind": "Deployment", "name": "api"},
                    "metrics": [{"resource": {"name": "cpu", "target": {"averageUtilization": 50}}}]},
                "status": {"currentReplicas": 5, "desiredReplicas": 9, "currentMetrics": [{"resource": {"current": {"averageUtilization": 190}}}]}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"},
                "spec": {"replicas": 5, "selector": {"matchLabels": {"app": "api"}}},
                "status": {"readyReplicas": 5, "updatedReplicas": 5}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "stuck", "namespace": "shop"},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "stuck"}}},
                "status": {"readyReplicas": 2, "updatedReplicas": 1, "conditions": [{"type": "Progressing", "status": "False",
                    "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"stuck-2\" has timed out progressing."}]}}),
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "status": {"conditions": [
                {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting node status."},
                {"type": "DiskPressure", "status": "True"}]}}),
        ]);
        let f = analyze(&s, now());
        let by = |n: &str, r: &str| {
            f.iter()
                .find(|x| x.name == n && x.reason == r)
                .unwrap_or_else(|| panic!("{n} {r}: {f:#?}"))
        };
        assert!(by("data", "PvcPending").message.contains("fast-ssd"));
        let h = by("api", "HpaAtMaxReplicas");
        assert!(h.message.contains("wants 9"));
        assert!(h.evidence.iter().any(|e| e.contains("190%")));
        assert!(by("stuck", "RolloutStuck").evidence[0].contains("timed out"));
        by("n1", "NodeNotReady");
        by("n1", "DiskPressure");
        // Criticals sort first.
        assert_eq!(f[0].severity, Severity::Critical);
        let text = Diagnosis {
            findings: f.clone(),
            skipped: vec!["Ingress: forbidden".into()],
        }
        .render();
        assert!(text.contains("Not analyzed: Ingress: forbidden"), "{text}");
    }

    #[test]
    fn selectors_and_log_lines() {
        let sel = json!({"matchLabels": {"app": "a"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]},
            {"key": "canary", "operator": "DoesNotExist"}]});
        let l = json!({"app": "a", "tier": "fe"});
        assert!(selector_matches(&sel, l.as_object()));
        let l = json!({"app": "a", "tier": "db"});
        assert!(!selector_matches(&sel, l.as_object()));
        let l = json!({"app": "a", "tier": "fe", "canary": "1"});
        assert!(!selector_matches(&sel, l.as_object()));
        assert!(selector_matches(&json!({}), None));

        let log = "starting\nlistening on :8080\nERROR: connect to db:5432: connection refused\nexiting\n";
        let lines = telling_log_lines(log, 5);
        assert_eq!(
            lines,
            vec!["ERROR: connect to db:5432: connection refused", "exiting"]
        );
        assert_eq!(telling_log_lines("a\nb\nc\n", 2), vec!["b", "c"]);
        assert!(telling_log_lines("", 3).is_empty());
    }

    #[test]
    fn cron_schedules() {
        assert!(valid_schedule("*/5 * * * *"));
        assert!(valid_schedule("@hourly"));
        assert!(valid_schedule("CRON_TZ=UTC 0 3 * * 1-5"));
        assert!(!valid_schedule("every day"));
        assert!(!valid_schedule("* * *"));
    }
}
