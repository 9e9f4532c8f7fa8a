//! Events: warning events as evidence of findings, and as findings of their own.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diagnose::{Finding, Severity, Snapshot};
use crate::render::s;
use crate::render::table::one_line;

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
pub(super) fn attach_events(snap: &Snapshot, out: &mut [Finding]) {
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

/// Whether the pod `ns/name` is ready now and `e` last happened no later than it became ready.
fn happened_before_ready(snap: &Snapshot, e: &Value, ns: &str, name: &str) -> bool {
    let Some(pod) = snap
        .of("Pod")
        .iter()
        .find(|p| s(p, "/metadata/name") == name && s(p, "/metadata/namespace") == ns)
    else {
        return false;
    };
    let Some(ready) = crate::render::arr(pod, "/status/conditions")
        .iter()
        .find(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True")
    else {
        return false;
    };
    let (Ok(since), Ok(at)) = (
        s(ready, "/lastTransitionTime").parse::<jiff::Timestamp>(),
        crate::render::table::event_time(e).parse::<jiff::Timestamp>(),
    ) else {
        return false;
    };
    at <= since
}

/// (kind, namespace, name, reason)
type EventKey = (String, String, String, String);

/// Warning events about objects no analyzer flagged (grouped by object and reason).
pub(super) fn analyze_events(snap: &Snapshot, out: &mut Vec<Finding>) {
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
        // Events from before a pod became ready (probe failures while starting, a wait for
        // capacity, a retried pull) are history once it is ready.
        if kind == "Pod" && happened_before_ready(snap, e, &ns, &name) {
            continue;
        }
        // A failed Job (and its pods) that a later run of its CronJob superseded.
        if super::workloads::is_superseded_job_object(snap, &kind, &ns, &name) {
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
