//! `describe`: an object's essentials, its conditions, owner chain and recent events.

use std::fmt::Write as _;

use serde_json::Value;

use super::table::{event_time, one_line, pod_last_exit, pod_ready, pod_status};
use super::{age, arr, dash, i, oi, s, sanitize};

/// What `describe` shows besides the object itself.
#[derive(Debug, Clone, Default)]
pub struct DescribeContext {
    /// The owner chain, nearest first, as `Kind/name`.
    pub owners: Vec<String>,
    /// Events about the object.
    pub events: Vec<Value>,
    /// For a Service: its endpoints as `ip:port (pod) ready|not-ready` lines.
    pub endpoints: Option<Vec<String>>,
    /// For a workload: its pods as `name status ready restarts` lines.
    pub pods: Option<Vec<String>>,
    /// Maximum events to show (newest kept).
    pub max_events: usize,
    /// Whether Secret values may be shown.
    pub allow_secret_values: bool,
}

/// Renders an object for a model: header, kind-specific essentials, conditions, owners, events.
pub fn describe_object(obj: &Value, ctx: &DescribeContext, now: jiff::Timestamp) -> String {
    let mut obj = obj.clone();
    sanitize(&mut obj, ctx.allow_secret_values);
    let mut out = String::new();
    let kind = s(&obj, "/kind");
    let _ = writeln!(out, "Kind: {kind} ({})", s(&obj, "/apiVersion"));
    let _ = writeln!(out, "Name: {}", s(&obj, "/metadata/name"));
    let ns = s(&obj, "/metadata/namespace");
    if !ns.is_empty() {
        let _ = writeln!(out, "Namespace: {ns}");
    }
    let created = s(&obj, "/metadata/creationTimestamp");
    if !created.is_empty() {
        let _ = writeln!(out, "Created: {created} ({} ago)", age(created, now));
    }
    if let Some(del) = obj
        .pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
    {
        let _ = writeln!(out, "Deleting since: {del}");
    }
    write_map(&mut out, "Labels", &obj, "/metadata/labels", 200);
    write_map(&mut out, "Annotations", &obj, "/metadata/annotations", 160);
    if !ctx.owners.is_empty() {
        let _ = writeln!(out, "Owned by: {}", ctx.owners.join(" <- "));
    }
    match kind {
        "Pod" => describe_pod(&mut out, &obj, now),
        "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet" => {
            describe_workload(&mut out, &obj)
        }
        "Service" => describe_service(&mut out, &obj, ctx),
        "Node" => describe_node(&mut out, &obj),
        "Secret" | "ConfigMap" => describe_data(&mut out, &obj),
        _ => describe_generic(&mut out, &obj),
    }
    if let Some(pods) = &ctx.pods {
        let _ = writeln!(out, "Pods ({}):", pods.len());
        for p in pods.iter().take(20) {
            let _ = writeln!(out, "  {p}");
        }
        if pods.len() > 20 {
            let _ = writeln!(out, "  ... {} more", pods.len() - 20);
        }
    }
    let conds = arr(&obj, "/status/conditions");
    if !conds.is_empty() {
        let _ = writeln!(out, "Conditions:");
        for c in conds {
            let when = match s(c, "/lastTransitionTime") {
                "" => String::new(),
                t => format!(" ({} ago)", age(t, now)),
            };
            let _ = writeln!(
                out,
                "  {}={}{}{}{when}",
                s(c, "/type"),
                s(c, "/status"),
                match s(c, "/reason") {
                    "" => String::new(),
                    r => format!(" {r}"),
                },
                match s(c, "/message") {
                    "" => String::new(),
                    m => format!(": {}", one_line(m, 300)),
                },
            );
        }
    }
    let mut events: Vec<&Value> = ctx.events.iter().collect();
    events.sort_by_key(|e| event_time(e).to_owned());
    let max = if ctx.max_events == 0 {
        15
    } else {
        ctx.max_events
    };
    let skipped = events.len().saturating_sub(max);
    if events.is_empty() {
        let _ = writeln!(out, "Events: <none>");
    } else {
        let _ = writeln!(
            out,
            "Events (oldest first{}):",
            if skipped > 0 {
                format!(", {skipped} older not shown")
            } else {
                String::new()
            }
        );
        for e in events.into_iter().skip(skipped) {
            let _ = writeln!(
                out,
                "  {} ago {} {} x{}: {}",
                age(event_time(e), now),
                s(e, "/type"),
                s(e, "/reason"),
                oi(e, "/count").unwrap_or(1),
                one_line(s(e, "/message"), 300)
            );
        }
    }
    out
}

fn write_map(out: &mut String, title: &str, obj: &Value, ptr: &str, max_value: usize) {
    let Some(map) = obj.pointer(ptr).and_then(Value::as_object) else {
        return;
    };
    if map.is_empty() {
        return;
    }
    let parts: Vec<String> = map
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{k}={}", one_line(&v, max_value))
        })
        .collect();
    let _ = writeln!(out, "{title}: {}", parts.join(", "));
}

/// How a probe checks (`http-get HTTP:8080/ready`, `tcp :5432`, `exec [cat /tmp/ok]`,
/// `grpc :9000`).
pub(crate) fn probe_action(p: &Value) -> String {
    if let Some(h) = p.get("httpGet") {
        format!(
            "http-get {}:{}{}",
            match s(h, "/scheme") {
                "" => "HTTP",
                sc => sc,
            },
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
        let cmd: Vec<&str> = arr(e, "/command")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        format!("exec [{}]", cmd.join(" "))
    } else if p.get("grpc").is_some() {
        format!("grpc :{}", i(p, "/grpc/port"))
    } else {
        "?".to_owned()
    }
}

fn probe(p: Option<&Value>) -> Option<String> {
    let p = p?;
    Some(format!(
        "{} delay={}s timeout={}s period={}s failure-threshold={}",
        probe_action(p),
        i(p, "/initialDelaySeconds"),
        oi(p, "/timeoutSeconds").unwrap_or(1),
        oi(p, "/periodSeconds").unwrap_or(10),
        oi(p, "/failureThreshold").unwrap_or(3)
    ))
}

fn state_text(state: Option<&Value>, now: jiff::Timestamp) -> String {
    let Some(state) = state.and_then(Value::as_object) else {
        return "-".to_owned();
    };
    if let Some(w) = state.get("waiting") {
        return format!(
            "Waiting: {}{}",
            dash(s(w, "/reason")),
            match s(w, "/message") {
                "" => String::new(),
                m => format!(" ({})", one_line(m, 300)),
            }
        );
    }
    if let Some(r) = state.get("running") {
        return format!("Running since {} ago", age(s(r, "/startedAt"), now));
    }
    if let Some(t) = state.get("terminated") {
        return format!(
            "Terminated: {} exit={}{}{}",
            dash(s(t, "/reason")),
            i(t, "/exitCode"),
            match s(t, "/finishedAt") {
                "" => String::new(),
                f => format!(" {} ago", age(f, now)),
            },
            match s(t, "/message") {
                "" => String::new(),
                m => format!(" ({})", one_line(m, 300)),
            }
        );
    }
    "-".to_owned()
}

fn resources(c: &Value) -> Option<String> {
    let mut parts = Vec::new();
    for kind in ["requests", "limits"] {
        if let Some(m) = c
            .pointer(&format!("/resources/{kind}"))
            .and_then(Value::as_object)
        {
            let vals: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect();
            if !vals.is_empty() {
                parts.push(format!("{kind} {}", vals.join(",")));
            }
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("; "))
    }
}

fn describe_pod(out: &mut String, pod: &Value, now: jiff::Timestamp) {
    let _ = writeln!(
        out,
        "Status: {} (phase {}), ready {}, node {}, IP {}, QoS {}",
        pod_status(pod),
        dash(s(pod, "/status/phase")),
        pod_ready(pod),
        dash(s(pod, "/spec/nodeName")),
        dash(s(pod, "/status/podIP")),
        dash(s(pod, "/status/qosClass"))
    );
    let last = pod_last_exit(pod, now);
    if last != "-" {
        let _ = writeln!(out, "Last exit: {last} ago");
    }
    if let Some(msg) = pod.pointer("/status/message").and_then(Value::as_str) {
        let _ = writeln!(out, "Message: {}", one_line(msg, 400));
    }
    let statuses = arr(pod, "/status/containerStatuses");
    let init_statuses = arr(pod, "/status/initContainerStatuses");
    for (section, ptr, st) in [
        ("Init containers", "/spec/initContainers", init_statuses),
        ("Containers", "/spec/containers", statuses),
    ] {
        let specs = arr(pod, ptr);
        if specs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{section}:");
        for c in specs {
            let name = s(c, "/name");
            let status = st.iter().find(|x| s(x, "/name") == name);
            let _ = writeln!(out, "  {name}: image {}", s(c, "/image"));
            if let Some(status) = status {
                let _ = writeln!(
                    out,
                    "    state: {}; ready={} restarts={}",
                    state_text(status.get("state"), now),
                    status
                        .get("ready")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    i(status, "/restartCount")
                );
                let last = state_text(status.get("lastState"), now);
                if last != "-" {
                    let _ = writeln!(out, "    last state: {last}");
                }
            }
            let cmd: Vec<&str> = arr(c, "/command")
                .iter()
                .chain(arr(c, "/args"))
                .filter_map(Value::as_str)
                .collect();
            if !cmd.is_empty() {
                let _ = writeln!(out, "    command: {}", one_line(&cmd.join(" "), 200));
            }
            let ports: Vec<String> = arr(c, "/ports")
                .iter()
                .map(|p| i(p, "/containerPort").to_string())
                .collect();
            if !ports.is_empty() {
                let _ = writeln!(out, "    ports: {}", ports.join(","));
            }
            if let Some(r) = resources(c) {
                let _ = writeln!(out, "    resources: {r}");
            }
            for (label, key) in [
                ("liveness", "livenessProbe"),
                ("readiness", "readinessProbe"),
                ("startup", "startupProbe"),
            ] {
                if let Some(p) = probe(c.get(key)) {
                    let _ = writeln!(out, "    {label}: {p}");
                }
            }
        }
    }
    let claims: Vec<&str> = arr(pod, "/spec/volumes")
        .iter()
        .filter_map(|v| v.pointer("/persistentVolumeClaim/claimName"))
        .filter_map(Value::as_str)
        .collect();
    if !claims.is_empty() {
        let _ = writeln!(out, "Volume claims: {}", claims.join(", "));
    }
    if let Some(sel) = pod.pointer("/spec/nodeSelector").and_then(Value::as_object) {
        let parts: Vec<String> = sel
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        let _ = writeln!(out, "Node selector: {}", parts.join(","));
    }
}

fn describe_workload(out: &mut String, w: &Value) {
    let desired = oi(w, "/spec/replicas");
    if s(w, "/kind") == "DaemonSet" {
        let _ = writeln!(
            out,
            "Pods: desired {} current {} ready {} updated {} available {}",
            i(w, "/status/desiredNumberScheduled"),
            i(w, "/status/currentNumberScheduled"),
            i(w, "/status/numberReady"),
            i(w, "/status/updatedNumberScheduled"),
            i(w, "/status/numberAvailable")
        );
    } else {
        let _ = writeln!(
            out,
            "Replicas: desired {} current {} updated {} ready {} available {} unavailable {}",
            desired.unwrap_or(1),
            i(w, "/status/replicas"),
            i(w, "/status/updatedReplicas"),
            i(w, "/status/readyReplicas"),
            i(w, "/status/availableReplicas"),
            i(w, "/status/unavailableReplicas")
        );
    }
    if w.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        let _ = writeln!(out, "Paused: true (rollouts are stopped)");
    }
    let gen_ = i(w, "/metadata/generation");
    let observed = i(w, "/status/observedGeneration");
    if gen_ > 0 && observed < gen_ {
        let _ = writeln!(
            out,
            "Generation: {gen_}, observed {observed} (controller has not caught up)"
        );
    }
    let strategy = match s(w, "/spec/strategy/type") {
        "" => s(w, "/spec/updateStrategy/type"),
        t => t,
    };
    if !strategy.is_empty() {
        let _ = writeln!(out, "Strategy: {strategy}");
    }
    // The whole selector (matchLabels and matchExpressions) in kubectl's syntax.
    if let Some(sel) = w.pointer("/spec/selector") {
        let text = match crate::labels::label_selector(sel) {
            Ok(sel) => sel.to_string(),
            Err(_) => sel.to_string(),
        };
        let _ = writeln!(out, "Selector: {text}");
    }
    let _ = writeln!(out, "Pod template:");
    for c in arr(w, "/spec/template/spec/containers") {
        let _ = writeln!(out, "  {}: image {}", s(c, "/name"), s(c, "/image"));
        if let Some(r) = resources(c) {
            let _ = writeln!(out, "    resources: {r}");
        }
        if let Some(p) = probe(c.get("readinessProbe")) {
            let _ = writeln!(out, "    readiness: {p}");
        }
        if let Some(p) = probe(c.get("livenessProbe")) {
            let _ = writeln!(out, "    liveness: {p}");
        }
    }
}

fn describe_service(out: &mut String, svc: &Value, ctx: &DescribeContext) {
    let ports: Vec<String> = arr(svc, "/spec/ports")
        .iter()
        .map(|p| {
            format!(
                "{}{}->{}",
                match s(p, "/name") {
                    "" => String::new(),
                    n => format!("{n}:"),
                },
                i(p, "/port"),
                p.get("targetPort")
                    .map(|t| t.to_string().replace('"', ""))
                    .unwrap_or_else(|| i(p, "/port").to_string())
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "Type: {}, ClusterIP: {}, ports: {}",
        match s(svc, "/spec/type") {
            "" => "ClusterIP",
            t => t,
        },
        dash(s(svc, "/spec/clusterIP")),
        dash(&ports.join(", "))
    );
    match svc.pointer("/spec/selector").and_then(Value::as_object) {
        Some(sel) if !sel.is_empty() => {
            let parts: Vec<String> = sel
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect();
            let _ = writeln!(out, "Selector: {}", parts.join(","));
        }
        _ => {
            let _ = writeln!(out, "Selector: <none> (endpoints are managed by hand)");
        }
    }
    if let Some(eps) = &ctx.endpoints {
        if eps.is_empty() {
            let _ = writeln!(out, "Endpoints: <none> (no ready pod backs this Service)");
        } else {
            let _ = writeln!(out, "Endpoints: {}", eps.join(", "));
        }
    }
}

fn describe_node(out: &mut String, n: &Value) {
    let _ = writeln!(
        out,
        "Kubelet: {}, OS: {}, runtime: {}",
        dash(s(n, "/status/nodeInfo/kubeletVersion")),
        dash(s(n, "/status/nodeInfo/osImage")),
        dash(s(n, "/status/nodeInfo/containerRuntimeVersion"))
    );
    for key in ["capacity", "allocatable"] {
        if let Some(m) = n
            .pointer(&format!("/status/{key}"))
            .and_then(Value::as_object)
        {
            let parts: Vec<String> = m
                .iter()
                .filter(|(k, _)| {
                    matches!(k.as_str(), "cpu" | "memory" | "pods" | "ephemeral-storage")
                })
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect();
            let _ = writeln!(out, "{key}: {}", parts.join(", "));
        }
    }
    let taints: Vec<String> = arr(n, "/spec/taints")
        .iter()
        .map(|t| format!("{}={}:{}", s(t, "/key"), s(t, "/value"), s(t, "/effect")))
        .collect();
    let _ = writeln!(
        out,
        "Taints: {}",
        if taints.is_empty() {
            "<none>".to_owned()
        } else {
            taints.join(", ")
        }
    );
    if n.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        let _ = writeln!(out, "Unschedulable: true (cordoned)");
    }
}

fn describe_data(out: &mut String, obj: &Value) {
    let _ = writeln!(out, "Type: {}", dash(s(obj, "/type")));
    for field in ["data", "stringData", "binaryData"] {
        if let Some(m) = obj.get(field).and_then(Value::as_object) {
            let _ = writeln!(out, "{field}:");
            for (k, v) in m {
                let _ = writeln!(out, "  {k}: {}", one_line(v.as_str().unwrap_or(""), 200));
            }
        }
    }
}

fn describe_generic(out: &mut String, obj: &Value) {
    for field in ["spec", "status"] {
        let Some(v) = obj.get(field) else { continue };
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.remove("conditions");
            if m.is_empty() {
                continue;
            }
        }
        let yaml = serde_yaml::to_string(&v).unwrap_or_default();
        let lines: Vec<&str> = yaml.lines().collect();
        let _ = writeln!(out, "{}:", if field == "spec" { "Spec" } else { "Status" });
        for l in lines.iter().take(60) {
            let _ = writeln!(out, "  {l}");
        }
        if lines.len() > 60 {
            let _ = writeln!(
                out,
                "  ... {} more lines (k8s_get_resource_yaml shows all)",
                lines.len() - 60
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pod_description_has_states_probes_owners_and_events() {
        let now: jiff::Timestamp = "2026-01-10T12:00:00Z".parse().unwrap();
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "api-1", "namespace": "shop", "creationTimestamp": "2026-01-10T11:00:00Z",
                "labels": {"app": "api"}},
            "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "api:2",
                "resources": {"limits": {"memory": "64Mi"}},
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}}}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "app", "ready": false, "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": "2026-01-10T11:58:00Z"}}}],
                "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}]}
        });
        let ctx = DescribeContext {
            owners: vec!["ReplicaSet/api-7d9".into(), "Deployment/api".into()],
            events: vec![json!({"type": "Warning", "reason": "BackOff", "count": 12,
                "lastTimestamp": "2026-01-10T11:59:00Z", "message": "Back-off restarting failed container"})],
            ..Default::default()
        };
        let text = describe_object(&pod, &ctx, now);
        for needle in [
            "Status: CrashLoopBackOff",
            "Owned by: ReplicaSet/api-7d9 <- Deployment/api",
            "last state: Terminated: OOMKilled exit=137",
            "readiness: http-get HTTP:8080/healthz",
            "limits memory=64Mi",
            "Ready=False ContainersNotReady",
            "Warning BackOff x12: Back-off restarting failed container",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
    }

    #[test]
    fn secret_description_never_shows_values() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
            "type": "Opaque", "data": {"password": "c3VwZXJzZWNyZXQ="}});
        let text = describe_object(&secret, &DescribeContext::default(), jiff::Timestamp::now());
        assert!(!text.contains("c3VwZXJzZWNyZXQ"), "{text}");
        assert!(text.contains("password: <redacted"), "{text}");
    }

    #[test]
    fn service_without_endpoints_says_so() {
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "wbe"}, "ports": [{"port": 80, "targetPort": 8080}]}});
        let ctx = DescribeContext {
            endpoints: Some(vec![]),
            ..Default::default()
        };
        let text = describe_object(&svc, &ctx, jiff::Timestamp::now());
        assert!(text.contains("Selector: app=wbe"), "{text}");
        assert!(text.contains("Endpoints: <none>"), "{text}");
        assert!(text.contains("80->8080"), "{text}");
    }
}
