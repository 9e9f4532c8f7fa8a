//! Services (selectors, ready endpoints, target ports) and Ingresses (class, backends).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{cond, names_missing_object, pod_problem_summary, pods_selected, same_ns};
use crate::diagnose::{Finding, Severity, Snapshot};
use crate::labels::{labels_of, map_selector};
use crate::render::{arr, s};

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
