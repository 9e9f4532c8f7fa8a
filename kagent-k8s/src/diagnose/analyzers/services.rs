//! Services (selectors, ready endpoints, target ports) and Ingresses (class, backends).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{cond, names_missing_object, pod_problem_summary, pods_selected, same_ns};
use crate::diagnose::{Finding, Severity, Snapshot};
use crate::labels::{labels_of, map_selector};
use crate::render::{arr, i, s};

pub(super) fn analyze_services(snap: &Snapshot, out: &mut Vec<Finding>) {
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
        // A selector with a value that is not a string selects nothing.
        let matching: Vec<&Value> = match map_selector(sel) {
            Ok(selector) => pods_selected(snap, svc, &selector).collect(),
            Err(_) => Vec::new(),
        };
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
            // Nearest candidates first: pods sharing a selector key, by common prefix.
            let mut near: BTreeMap<String, usize> = BTreeMap::new();
            for p in snap.of("Pod").iter().filter(|p| same_ns(p, svc)) {
                let l = labels_of(p);
                for (k, want) in sel {
                    if let Some(v) = l.get(k) {
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
        // Numeric target ports (and ports without a targetPort) must be ports the selected
        // pods declare, when they declare their ports: otherwise connections are refused while
        // the endpoints look healthy.
        for (port, target, declared) in crate::diagnose::causes::unexposed_target_ports(snap, svc) {
            if target.parse::<i64>().is_err() {
                continue;
            }
            let mut f = Finding::new(
                "Service",
                svc,
                Severity::Critical,
                "TargetPortNotExposed",
                format!(
                    "port {port} forwards to targetPort {target}, but the selected pods listen on {declared}: connections to the Service are refused"
                ),
            );
            f.evidence.push(format!(
                "selector {sel_text} selects {} pod(s)",
                matching.len()
            ));
            out.push(f);
        }
    }
}

pub(super) fn analyze_ingresses(snap: &Snapshot, out: &mut Vec<Finding>) {
    for ing in snap.of("Ingress") {
        let class = s(ing, "/spec/ingressClassName");
        if !class.is_empty() && names_missing_object(snap, "IngressClass", class) {
            out.push(Finding::new(
                "Ingress",
                ing,
                Severity::Critical,
                "IngressClassNotFound",
                format!("ingressClassName {class:?} does not exist, so no controller serves it"),
            ));
        }
        let mut backends: Vec<&Value> = Vec::new();
        if let Some(b) = ing.pointer("/spec/defaultBackend/service") {
            backends.push(b);
        }
        for r in arr(ing, "/spec/rules") {
            for p in arr(r, "/http/paths") {
                if let Some(b) = p.pointer("/backend/service") {
                    backends.push(b);
                }
            }
        }
        for b in backends {
            let name = s(b, "/name");
            let Some(svc) = snap
                .of("Service")
                .iter()
                .find(|svc| s(svc, "/metadata/name") == name && same_ns(svc, ing))
            else {
                out.push(Finding::new(
                    "Ingress",
                    ing,
                    Severity::Critical,
                    "BackendServiceNotFound",
                    format!("backend Service {name:?} does not exist"),
                ));
                continue;
            };
            // The backend's port must be a port of the Service (by number or name).
            let ports = arr(svc, "/spec/ports");
            let wanted = b
                .pointer("/port/number")
                .and_then(Value::as_i64)
                .map(|n| {
                    (
                        n.to_string(),
                        ports
                            .iter()
                            .any(|p| p.get("port").and_then(Value::as_i64) == Some(n)),
                    )
                })
                .or_else(|| {
                    let n = b.pointer("/port/name").and_then(Value::as_str)?;
                    Some((format!("{n:?}"), ports.iter().any(|p| s(p, "/name") == n)))
                });
            if let Some((port, false)) = wanted {
                let have: Vec<String> = ports
                    .iter()
                    .map(|p| match s(p, "/name") {
                        "" => i(p, "/port").to_string(),
                        n => format!("{n}:{}", i(p, "/port")),
                    })
                    .collect();
                out.push(Finding::new(
                    "Ingress",
                    ing,
                    Severity::Critical,
                    "BackendPortNotFound",
                    format!(
                        "backend Service {name:?} has no port {port} (its ports: {}), so the ingress controller has no endpoints for it",
                        have.join(", ")
                    ),
                ));
            }
        }
    }
}
