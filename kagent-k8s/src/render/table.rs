//! Compact tables per kind, with the columns that carry the facts that matter.

use serde_json::Value;

use super::{age, arr, dash, i, oi, s};

/// A table of rows, rendered with aligned columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Column headers.
    pub headers: Vec<&'static str>,
    /// Cells, one vector per row.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Renders with columns padded to their widest cell and two spaces between columns (padding
    /// costs few tokens: a run of spaces is usually one token).
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.len()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::with_capacity((self.rows.len() + 1) * 80);
        let mut line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut first = true;
            let mut pending = 0usize;
            for (cell, w) in cells.zip(&widths) {
                if !first {
                    for _ in 0..pending + 2 {
                        out.push(' ');
                    }
                }
                first = false;
                out.push_str(cell);
                pending = w.saturating_sub(cell.chars().count());
            }
            out.push('\n');
        };
        line(&mut self.headers.iter().copied());
        for row in &self.rows {
            line(&mut row.iter().map(String::as_str));
        }
        out
    }
}

type RowFn = fn(&Value, jiff::Timestamp) -> Vec<String>;

/// Builds the table for a list of objects of one kind. `with_namespace` adds a NAMESPACE
/// column (all-namespaces listings).
pub fn table_for(kind: &str, items: &[Value], with_namespace: bool, now: jiff::Timestamp) -> Table {
    let (headers, row): (Vec<&'static str>, RowFn) = match kind {
        "Pod" => (
            vec![
                "NAME",
                "READY",
                "STATUS",
                "RESTARTS",
                "LAST-EXIT",
                "NODE",
                "AGE",
            ],
            pod_row,
        ),
        "Deployment" => (
            vec![
                "NAME",
                "READY",
                "UP-TO-DATE",
                "AVAILABLE",
                "AGE",
                "IMAGES",
                "PROBLEM",
            ],
            deployment_row,
        ),
        "ReplicaSet" => (
            vec![
                "NAME", "DESIRED", "CURRENT", "READY", "AGE", "IMAGES", "OWNER",
            ],
            replicaset_row,
        ),
        "StatefulSet" => (
            vec!["NAME", "READY", "UPDATED", "AGE", "IMAGES"],
            statefulset_row,
        ),
        "DaemonSet" => (
            vec![
                "NAME",
                "DESIRED",
                "CURRENT",
                "READY",
                "UP-TO-DATE",
                "AVAILABLE",
                "AGE",
            ],
            daemonset_row,
        ),
        "Service" => (
            vec![
                "NAME",
                "TYPE",
                "CLUSTER-IP",
                "EXTERNAL-IP",
                "PORTS",
                "SELECTOR",
                "AGE",
            ],
            service_row,
        ),
        "Node" => (
            vec!["NAME", "STATUS", "ROLES", "VERSION", "PROBLEMS", "AGE"],
            node_row,
        ),
        "Namespace" => (vec!["NAME", "STATUS", "AGE"], namespace_row),
        "Job" => (vec!["NAME", "STATUS", "COMPLETIONS", "AGE"], job_row),
        "CronJob" => (
            vec![
                "NAME",
                "SCHEDULE",
                "SUSPEND",
                "ACTIVE",
                "LAST-SCHEDULE",
                "AGE",
            ],
            cronjob_row,
        ),
        "PersistentVolumeClaim" => (
            vec![
                "NAME",
                "STATUS",
                "VOLUME",
                "CAPACITY",
                "ACCESS",
                "STORAGECLASS",
                "AGE",
            ],
            pvc_row,
        ),
        "PersistentVolume" => (
            vec![
                "NAME",
                "CAPACITY",
                "ACCESS",
                "RECLAIM",
                "STATUS",
                "CLAIM",
                "STORAGECLASS",
                "AGE",
            ],
            pv_row,
        ),
        "HorizontalPodAutoscaler" => (
            vec![
                "NAME",
                "REFERENCE",
                "TARGETS",
                "MIN",
                "MAX",
                "REPLICAS",
                "PROBLEM",
                "AGE",
            ],
            hpa_row,
        ),
        "Ingress" => (
            vec!["NAME", "CLASS", "HOSTS", "ADDRESS", "BACKENDS", "AGE"],
            ingress_row,
        ),
        "ConfigMap" => (vec!["NAME", "DATA", "AGE"], configmap_row),
        "Secret" => (vec!["NAME", "TYPE", "DATA", "AGE"], secret_row),
        "Event" => return table_for_events(items, with_namespace, now),
        _ => (vec!["NAME", "STATUS", "AGE"], generic_row),
    };
    let mut headers = headers;
    if with_namespace {
        headers.insert(0, "NAMESPACE");
    }
    let rows = items
        .iter()
        .map(|item| {
            let mut r = row(item, now);
            if with_namespace {
                r.insert(0, dash(s(item, "/metadata/namespace")));
            }
            r
        })
        .collect();
    Table { headers, rows }
}

fn name(v: &Value) -> String {
    s(v, "/metadata/name").to_owned()
}

fn created(v: &Value, now: jiff::Timestamp) -> String {
    age(s(v, "/metadata/creationTimestamp"), now)
}

/// The STATUS kubectl prints for a pod: the waiting or terminated reason of the most telling
/// container (CrashLoopBackOff, ImagePullBackOff, OOMKilled, Init:Error, ...), `Terminating`,
/// or the phase.
pub(crate) fn pod_status(pod: &Value) -> String {
    let mut reason = s(pod, "/status/phase").to_owned();
    if let Some(r) = pod.pointer("/status/reason").and_then(Value::as_str) {
        reason = r.to_owned();
    }
    let init_statuses = arr(pod, "/status/initContainerStatuses");
    let init_total = arr(pod, "/spec/initContainers").len();
    let mut initializing = false;
    for (idx, c) in init_statuses.iter().enumerate() {
        if let Some(t) = c.pointer("/state/terminated") {
            if i(t, "/exitCode") == 0 {
                continue;
            }
            reason = match t.get("reason").and_then(Value::as_str) {
                Some(r) if !r.is_empty() => format!("Init:{r}"),
                _ if i(t, "/signal") != 0 => format!("Init:Signal:{}", i(t, "/signal")),
                _ => format!("Init:ExitCode:{}", i(t, "/exitCode")),
            };
        } else if let Some(w) = c.pointer("/state/waiting")
            && let Some(r) = w.get("reason").and_then(Value::as_str)
            && !r.is_empty()
            && r != "PodInitializing"
        {
            reason = format!("Init:{r}");
        } else if c.pointer("/state/running").is_some()
            && c.get("started").and_then(Value::as_bool) == Some(true)
            && is_sidecar(pod, s(c, "/name"))
        {
            continue;
        } else {
            reason = format!("Init:{idx}/{init_total}");
        }
        initializing = true;
        break;
    }
    if !initializing {
        let mut has_running = false;
        for c in arr(pod, "/status/containerStatuses").iter().rev() {
            if let Some(r) = c.pointer("/state/waiting/reason").and_then(Value::as_str)
                && !r.is_empty()
            {
                reason = r.to_owned();
            } else if let Some(t) = c.pointer("/state/terminated") {
                reason = match t.get("reason").and_then(Value::as_str) {
                    Some(r) if !r.is_empty() => r.to_owned(),
                    _ if i(t, "/signal") != 0 => format!("Signal:{}", i(t, "/signal")),
                    _ => format!("ExitCode:{}", i(t, "/exitCode")),
                };
            } else if c.get("ready").and_then(Value::as_bool) == Some(true)
                && c.pointer("/state/running").is_some()
            {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".to_owned();
        }
    }
    if pod.pointer("/metadata/deletionTimestamp").is_some() {
        reason = if s(pod, "/status/reason") == "NodeLost" {
            "Unknown".to_owned()
        } else {
            "Terminating".to_owned()
        };
    }
    if reason.is_empty() {
        "Unknown".to_owned()
    } else {
        reason
    }
}

fn is_sidecar(pod: &Value, container: &str) -> bool {
    arr(pod, "/spec/initContainers")
        .iter()
        .any(|c| s(c, "/name") == container && s(c, "/restartPolicy") == "Always")
}

/// `ready/total` containers of a pod.
pub(crate) fn pod_ready(pod: &Value) -> String {
    let statuses = arr(pod, "/status/containerStatuses");
    let ready = statuses
        .iter()
        .filter(|c| c.get("ready").and_then(Value::as_bool) == Some(true))
        .count();
    let total = arr(pod, "/spec/containers").len().max(statuses.len());
    format!("{ready}/{total}")
}

/// The most recent termination of any container that restarted: `OOMKilled(137) 4m`.
pub(crate) fn pod_last_exit(pod: &Value, now: jiff::Timestamp) -> String {
    let mut best: Option<(&str, String)> = None;
    for c in arr(pod, "/status/containerStatuses")
        .iter()
        .chain(arr(pod, "/status/initContainerStatuses"))
    {
        let Some(t) = c.pointer("/lastState/terminated") else {
            continue;
        };
        let finished = s(t, "/finishedAt");
        let reason = match s(t, "/reason") {
            "" => "Exit",
            r => r,
        };
        let text = if finished.is_empty() {
            format!("{reason}({})", i(t, "/exitCode"))
        } else {
            format!("{reason}({}) {}", i(t, "/exitCode"), age(finished, now))
        };
        if best.as_ref().is_none_or(|(f, _)| finished > *f) {
            best = Some((finished, text));
        }
    }
    best.map(|(_, t)| t).unwrap_or_else(|| "-".to_owned())
}

fn pod_row(pod: &Value, now: jiff::Timestamp) -> Vec<String> {
    let restarts: i64 = arr(pod, "/status/containerStatuses")
        .iter()
        .map(|c| i(c, "/restartCount"))
        .sum();
    vec![
        name(pod),
        pod_ready(pod),
        pod_status(pod),
        restarts.to_string(),
        pod_last_exit(pod, now),
        dash(s(pod, "/spec/nodeName")),
        created(pod, now),
    ]
}

fn images(v: &Value, ptr: &str) -> String {
    let list: Vec<&str> = arr(v, ptr).iter().map(|c| s(c, "/image")).collect();
    dash(&list.join(","))
}

/// The first condition of `type` with status `want`, as `Reason: message`.
fn condition<'a>(v: &'a Value, ty: &str) -> Option<&'a Value> {
    arr(v, "/status/conditions")
        .iter()
        .find(|c| s(c, "/type") == ty)
}

fn deployment_row(d: &Value, now: jiff::Timestamp) -> Vec<String> {
    let desired = oi(d, "/spec/replicas").unwrap_or(1);
    let mut problem = Vec::new();
    if d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        problem.push("Paused".to_owned());
    }
    if let Some(c) = condition(d, "Progressing")
        && s(c, "/status") == "False"
    {
        problem.push(dash(s(c, "/reason")));
    }
    if let Some(c) = condition(d, "Available")
        && s(c, "/status") == "False"
    {
        problem.push(format!("Unavailable:{}", s(c, "/reason")));
    }
    if let Some(c) = condition(d, "ReplicaFailure")
        && s(c, "/status") == "True"
    {
        problem.push(format!("ReplicaFailure:{}", s(c, "/reason")));
    }
    vec![
        name(d),
        format!("{}/{desired}", i(d, "/status/readyReplicas")),
        i(d, "/status/updatedReplicas").to_string(),
        i(d, "/status/availableReplicas").to_string(),
        created(d, now),
        images(d, "/spec/template/spec/containers"),
        dash(&problem.join(",")),
    ]
}

fn owner(v: &Value) -> String {
    arr(v, "/metadata/ownerReferences")
        .first()
        .map(|o| format!("{}/{}", s(o, "/kind"), s(o, "/name")))
        .unwrap_or_else(|| "-".to_owned())
}

fn replicaset_row(r: &Value, now: jiff::Timestamp) -> Vec<String> {
    vec![
        name(r),
        oi(r, "/spec/replicas").unwrap_or(1).to_string(),
        i(r, "/status/replicas").to_string(),
        i(r, "/status/readyReplicas").to_string(),
        created(r, now),
        images(r, "/spec/template/spec/containers"),
        owner(r),
    ]
}

fn statefulset_row(r: &Value, now: jiff::Timestamp) -> Vec<String> {
    vec![
        name(r),
        format!(
            "{}/{}",
            i(r, "/status/readyReplicas"),
            oi(r, "/spec/replicas").unwrap_or(1)
        ),
        i(r, "/status/updatedReplicas").to_string(),
        created(r, now),
        images(r, "/spec/template/spec/containers"),
    ]
}

fn daemonset_row(r: &Value, now: jiff::Timestamp) -> Vec<String> {
    vec![
        name(r),
        i(r, "/status/desiredNumberScheduled").to_string(),
        i(r, "/status/currentNumberScheduled").to_string(),
        i(r, "/status/numberReady").to_string(),
        i(r, "/status/updatedNumberScheduled").to_string(),
        i(r, "/status/numberAvailable").to_string(),
        created(r, now),
    ]
}

fn kv_map(v: &Value, ptr: &str) -> String {
    let Some(map) = v.pointer(ptr).and_then(Value::as_object) else {
        return "-".to_owned();
    };
    let parts: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    dash(&parts.join(","))
}

fn service_row(svc: &Value, now: jiff::Timestamp) -> Vec<String> {
    let ports: Vec<String> = arr(svc, "/spec/ports")
        .iter()
        .map(|p| {
            let proto = match s(p, "/protocol") {
                "" | "TCP" => String::new(),
                other => format!("/{other}"),
            };
            match oi(p, "/nodePort") {
                Some(np) => format!("{}:{np}{proto}", i(p, "/port")),
                None => format!("{}{proto}", i(p, "/port")),
            }
        })
        .collect();
    let external: Vec<&str> = arr(svc, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| match s(i, "/ip") {
            "" => s(i, "/hostname"),
            ip => ip,
        })
        .chain(
            arr(svc, "/spec/externalIPs")
                .iter()
                .filter_map(Value::as_str),
        )
        .collect();
    let ty = match s(svc, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    };
    let external = if external.is_empty() && ty == "LoadBalancer" {
        "<pending>".to_owned()
    } else if ty == "ExternalName" {
        dash(s(svc, "/spec/externalName"))
    } else {
        dash(&external.join(","))
    };
    vec![
        name(svc),
        ty.to_owned(),
        dash(s(svc, "/spec/clusterIP")),
        external,
        dash(&ports.join(",")),
        kv_map(svc, "/spec/selector"),
        created(svc, now),
    ]
}

fn node_row(n: &Value, now: jiff::Timestamp) -> Vec<String> {
    let ready = condition(n, "Ready").map(|c| s(c, "/status")).unwrap_or("");
    let mut status = match ready {
        "True" => "Ready".to_owned(),
        "" => "Unknown".to_owned(),
        _ => "NotReady".to_owned(),
    };
    if n.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push_str(",SchedulingDisabled");
    }
    let roles: Vec<&str> = n
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.keys()
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                .collect()
        })
        .unwrap_or_default();
    let problems: Vec<&str> = arr(n, "/status/conditions")
        .iter()
        .filter(|c| s(c, "/type") != "Ready" && s(c, "/status") == "True")
        .map(|c| s(c, "/type"))
        .collect();
    vec![
        name(n),
        status,
        dash(&roles.join(",")),
        dash(s(n, "/status/nodeInfo/kubeletVersion")),
        dash(&problems.join(",")),
        created(n, now),
    ]
}

fn namespace_row(n: &Value, now: jiff::Timestamp) -> Vec<String> {
    vec![name(n), dash(s(n, "/status/phase")), created(n, now)]
}

fn job_row(j: &Value, now: jiff::Timestamp) -> Vec<String> {
    let status = arr(j, "/status/conditions")
        .iter()
        .filter(|c| s(c, "/status") == "True")
        .map(|c| match s(c, "/reason") {
            "" => s(c, "/type").to_owned(),
            r => format!("{}:{r}", s(c, "/type")),
        })
        .next_back()
        .unwrap_or_else(|| {
            if i(j, "/status/active") > 0 {
                "Running".to_owned()
            } else {
                "Pending".to_owned()
            }
        });
    vec![
        name(j),
        status,
        format!(
            "{}/{}",
            i(j, "/status/succeeded"),
            oi(j, "/spec/completions").unwrap_or(1)
        ),
        created(j, now),
    ]
}

fn cronjob_row(c: &Value, now: jiff::Timestamp) -> Vec<String> {
    let last = s(c, "/status/lastScheduleTime");
    vec![
        name(c),
        dash(s(c, "/spec/schedule")),
        (c.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true)).to_string(),
        arr(c, "/status/active").len().to_string(),
        if last.is_empty() {
            "-".to_owned()
        } else {
            age(last, now)
        },
        created(c, now),
    ]
}

fn access_modes(v: &Value, ptr: &str) -> String {
    let modes: Vec<&str> = arr(v, ptr)
        .iter()
        .filter_map(Value::as_str)
        .map(|m| match m {
            "ReadWriteOnce" => "RWO",
            "ReadOnlyMany" => "ROX",
            "ReadWriteMany" => "RWX",
            "ReadWriteOncePod" => "RWOP",
            other => other,
        })
        .collect();
    dash(&modes.join(","))
}

fn pvc_row(p: &Value, now: jiff::Timestamp) -> Vec<String> {
    vec![
        name(p),
        dash(s(p, "/status/phase")),
        dash(s(p, "/spec/volumeName")),
        dash(s(p, "/status/capacity/storage")),
        access_modes(p, "/spec/accessModes"),
        dash(s(p, "/spec/storageClassName")),
        created(p, now),
    ]
}

fn pv_row(p: &Value, now: jiff::Timestamp) -> Vec<String> {
    let claim = match s(p, "/spec/claimRef/name") {
        "" => "-".to_owned(),
        n => format!("{}/{n}", s(p, "/spec/claimRef/namespace")),
    };
    vec![
        name(p),
        dash(s(p, "/spec/capacity/storage")),
        access_modes(p, "/spec/accessModes"),
        dash(s(p, "/spec/persistentVolumeReclaimPolicy")),
        dash(s(p, "/status/phase")),
        claim,
        dash(s(p, "/spec/storageClassName")),
        created(p, now),
    ]
}

fn hpa_row(h: &Value, now: jiff::Timestamp) -> Vec<String> {
    let targets: Vec<String> = arr(h, "/spec/metrics")
        .iter()
        .enumerate()
        .map(|(idx, m)| {
            let target = m
                .pointer("/resource/target/averageUtilization")
                .and_then(Value::as_i64)
                .map(|t| format!("{t}%"))
                .unwrap_or_else(|| "?".to_owned());
            let current = arr(h, "/status/currentMetrics")
                .get(idx)
                .and_then(|c| c.pointer("/resource/current/averageUtilization"))
                .and_then(Value::as_i64)
                .map(|c| format!("{c}%"))
                .unwrap_or_else(|| "<unknown>".to_owned());
            let metric = dash(s(m, "/resource/name"));
            format!("{metric}:{current}/{target}")
        })
        .collect();
    let max = i(h, "/spec/maxReplicas");
    let current = i(h, "/status/currentReplicas");
    let mut problem = Vec::new();
    if max > 0 && current >= max {
        problem.push("AtMaxReplicas".to_owned());
    }
    for c in arr(h, "/status/conditions") {
        if s(c, "/status") == "False" && s(c, "/type") != "ScalingLimited" {
            problem.push(format!("{}:{}", s(c, "/type"), s(c, "/reason")));
        }
    }
    vec![
        name(h),
        format!(
            "{}/{}",
            s(h, "/spec/scaleTargetRef/kind"),
            s(h, "/spec/scaleTargetRef/name")
        ),
        dash(&targets.join(",")),
        oi(h, "/spec/minReplicas").unwrap_or(1).to_string(),
        max.to_string(),
        current.to_string(),
        dash(&problem.join(",")),
        created(h, now),
    ]
}

fn ingress_row(ing: &Value, now: jiff::Timestamp) -> Vec<String> {
    let hosts: Vec<&str> = arr(ing, "/spec/rules")
        .iter()
        .map(|r| match s(r, "/host") {
            "" => "*",
            h => h,
        })
        .collect();
    let mut backends: Vec<String> = Vec::new();
    for r in arr(ing, "/spec/rules") {
        for p in arr(r, "/http/paths") {
            let svc = s(p, "/backend/service/name");
            let port = p
                .pointer("/backend/service/port/number")
                .map(|n| n.to_string())
                .unwrap_or_else(|| s(p, "/backend/service/port/name").to_owned());
            backends.push(format!("{}->{svc}:{port}", dash(s(p, "/path"))));
        }
    }
    let addr: Vec<&str> = arr(ing, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| match s(i, "/ip") {
            "" => s(i, "/hostname"),
            ip => ip,
        })
        .collect();
    vec![
        name(ing),
        dash(s(ing, "/spec/ingressClassName")),
        dash(&hosts.join(",")),
        dash(&addr.join(",")),
        dash(&backends.join(",")),
        created(ing, now),
    ]
}

fn count_keys(v: &Value, fields: &[&str]) -> usize {
    fields
        .iter()
        .filter_map(|f| v.get(*f).and_then(Value::as_object))
        .map(|m| m.len())
        .sum()
}

fn configmap_row(c: &Value, now: jiff::Timestamp) -> Vec<String> {
    vec![
        name(c),
        count_keys(c, &["data", "binaryData"]).to_string(),
        created(c, now),
    ]
}

fn secret_row(c: &Value, now: jiff::Timestamp) -> Vec<String> {
    vec![
        name(c),
        dash(s(c, "/type")),
        count_keys(c, &["data", "stringData"]).to_string(),
        created(c, now),
    ]
}

/// A status for any kind: the phase, or the conditions that are not in their good state.
fn generic_row(v: &Value, now: jiff::Timestamp) -> Vec<String> {
    let mut status = s(v, "/status/phase").to_owned();
    if status.is_empty() {
        let conds: Vec<String> = arr(v, "/status/conditions")
            .iter()
            .map(|c| {
                let ty = s(c, "/type");
                match (s(c, "/status"), s(c, "/reason")) {
                    ("True", _) => ty.to_owned(),
                    (st, "") => format!("{ty}={st}"),
                    (st, r) => format!("{ty}={st}({r})"),
                }
            })
            .collect();
        status = conds.join(",");
    }
    vec![name(v), dash(&status), created(v, now)]
}

/// Events, oldest first: when, type, reason, object, count, message (one line).
pub fn table_for_events(items: &[Value], with_namespace: bool, now: jiff::Timestamp) -> Table {
    let mut headers = vec!["LAST-SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE"];
    if with_namespace {
        headers.insert(0, "NAMESPACE");
    }
    let mut sorted: Vec<&Value> = items.iter().collect();
    sorted.sort_by_key(|e| event_time(e).to_owned());
    let rows = sorted
        .into_iter()
        .map(|e| {
            let mut row = vec![
                age(event_time(e), now),
                dash(s(e, "/type")),
                dash(s(e, "/reason")),
                format!(
                    "{}/{}",
                    s(e, "/involvedObject/kind").to_ascii_lowercase(),
                    s(e, "/involvedObject/name")
                ),
                oi(e, "/count").unwrap_or(1).to_string(),
                one_line(s(e, "/message"), 240),
            ];
            if with_namespace {
                row.insert(0, dash(s(e, "/metadata/namespace")));
            }
            row
        })
        .collect();
    Table { headers, rows }
}

/// The most telling timestamp of a core/v1 Event.
pub(crate) fn event_time(e: &Value) -> &str {
    for p in [
        "/lastTimestamp",
        "/series/lastObservedTime",
        "/eventTime",
        "/firstTimestamp",
        "/metadata/creationTimestamp",
    ] {
        let t = s(e, p);
        if !t.is_empty() {
            return t;
        }
    }
    ""
}

/// Collapses whitespace to one line and cuts to `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for (n, word) in text.split_whitespace().enumerate() {
        if n > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.chars().count() > max {
        let cut: String = out.chars().take(max.saturating_sub(1)).collect();
        return format!("{cut}…");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> jiff::Timestamp {
        "2026-01-10T12:00:00Z".parse().unwrap()
    }

    fn pod(status: Value) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "shop", "creationTimestamp": "2026-01-10T11:00:00Z"},
            "spec": {"nodeName": "node-a", "containers": [{"name": "app", "image": "web:1"}]},
            "status": status
        })
    }

    #[test]
    fn pod_status_carries_the_failure_reason() {
        let crash = pod(json!({"phase": "Running", "containerStatuses": [{
            "name": "app", "ready": false, "restartCount": 7,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
            "lastState": {"terminated": {"reason": "Error", "exitCode": 1, "finishedAt": "2026-01-10T11:58:00Z"}}
        }]}));
        assert_eq!(pod_status(&crash), "CrashLoopBackOff");
        assert_eq!(pod_last_exit(&crash, now()), "Error(1) 2m");
        let t = table_for("Pod", &[crash], false, now()).render();
        assert!(t.starts_with("NAME"), "{t}");
        assert!(t.contains("web-1  0/1    CrashLoopBackOff  7"), "{t}");
        assert!(t.contains("node-a"), "{t}");

        let oom = pod(json!({"phase": "Running", "containerStatuses": [{
            "name": "app", "ready": false, "restartCount": 2,
            "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
        }]}));
        assert_eq!(pod_status(&oom), "OOMKilled");

        let pull = pod(json!({"phase": "Pending", "containerStatuses": [{
            "name": "app", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff"}}
        }]}));
        assert_eq!(pod_status(&pull), "ImagePullBackOff");

        let init = json!({"spec": {"initContainers": [{"name": "i"}], "containers": [{"name": "c"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [{"name": "i", "state": {"terminated": {"exitCode": 2}}}]}});
        assert_eq!(pod_status(&init), "Init:ExitCode:2");

        let unsched = pod(
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}),
        );
        assert_eq!(pod_status(&unsched), "Pending");
        assert_eq!(pod_ready(&unsched), "0/1");

        let mut deleting = pod(json!({"phase": "Running"}));
        deleting["metadata"]["deletionTimestamp"] = json!("2026-01-10T11:59:00Z");
        assert_eq!(pod_status(&deleting), "Terminating");

        let evicted = pod(json!({"phase": "Failed", "reason": "Evicted"}));
        assert_eq!(pod_status(&evicted), "Evicted");
    }

    #[test]
    fn namespace_column_comes_first_for_all_namespaces() {
        let t = table_for("Pod", &[pod(json!({"phase": "Running"}))], true, now());
        assert_eq!(t.headers[0], "NAMESPACE");
        assert_eq!(t.rows[0][0], "shop");
    }

    #[test]
    fn deployments_and_hpas_show_their_problem() {
        let d = json!({"metadata": {"name": "api"}, "spec": {"replicas": 3, "template": {"spec": {"containers": [{"image": "api:2"}]}}},
            "status": {"readyReplicas": 1, "updatedReplicas": 1, "conditions": [
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}});
        let row = deployment_row(&d, now());
        assert_eq!(row[1], "1/3");
        assert_eq!(row[6], "ProgressDeadlineExceeded");
        let h = json!({"metadata": {"name": "api"}, "spec": {"maxReplicas": 5, "minReplicas": 1,
            "scaleTargetRef": {"kind": "Deployment", "name": "api"},
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"averageUtilization": 50}}}]},
            "status": {"currentReplicas": 5, "currentMetrics": [{"resource": {"current": {"averageUtilization": 180}}}]}});
        let row = hpa_row(&h, now());
        assert_eq!(row[2], "cpu:180%/50%");
        assert_eq!(row[6], "AtMaxReplicas");
    }

    #[test]
    fn services_and_generic_kinds_render() {
        let svc = json!({"metadata": {"name": "web"}, "spec": {"type": "NodePort", "clusterIP": "10.0.0.1",
            "ports": [{"port": 80, "nodePort": 30080}, {"port": 53, "protocol": "UDP"}], "selector": {"app": "web"}}});
        let row = service_row(&svc, now());
        assert_eq!(row[4], "80:30080,53/UDP");
        assert_eq!(row[5], "app=web");
        let cr = json!({"metadata": {"name": "x"}, "status": {"conditions": [
            {"type": "Ready", "status": "False", "reason": "Degraded"}]}});
        assert_eq!(generic_row(&cr, now())[1], "Ready=False(Degraded)");
    }

    #[test]
    fn events_are_sorted_and_one_line() {
        let e1 = json!({"metadata": {"namespace": "a"}, "type": "Warning", "reason": "BackOff", "count": 5,
            "involvedObject": {"kind": "Pod", "name": "p"}, "lastTimestamp": "2026-01-10T11:59:00Z",
            "message": "Back-off\n restarting   failed container"});
        let e2 = json!({"type": "Normal", "reason": "Pulled", "involvedObject": {"kind": "Pod", "name": "p"},
            "lastTimestamp": "2026-01-10T11:00:00Z", "message": "ok"});
        let t = table_for_events(&[e1, e2], false, now());
        assert_eq!(t.rows[0][2], "Pulled");
        assert_eq!(t.rows[1][5], "Back-off restarting failed container");
        assert_eq!(one_line(&"x".repeat(10), 5), "xxxx…");
    }
}
