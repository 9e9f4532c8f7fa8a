//! The analyzers, one file per concern, and what they share: label selection, conditions,
//! the pods of a workload, the owner chain.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Finding, Snapshot};
use crate::labels::{Selector, label_selector, selects};
use crate::render::table::pod_status;
use crate::render::{arr, s};

mod autoscaling;
mod events;
mod nodes;
mod pods;
mod policy;
mod services;
mod storage;
mod workloads;

use autoscaling::analyze_hpas;
use events::{analyze_events, attach_events};
use nodes::analyze_nodes;
use pods::analyze_pods;
use policy::{analyze_netpols, analyze_pdbs};
use services::{analyze_ingresses, analyze_services};
use storage::analyze_pvcs;
use workloads::{
    analyze_cronjobs, analyze_daemonsets, analyze_deployments, analyze_jobs, analyze_replicasets,
    analyze_statefulsets,
};

/// Pods in `obj`'s namespace that `selector` selects.
fn pods_selected<'a>(
    snap: &'a Snapshot,
    obj: &Value,
    selector: &Selector,
) -> impl Iterator<Item = &'a Value> {
    snap.of("Pod")
        .iter()
        .filter(move |p| same_ns(p, obj) && selects(selector, p))
}

/// Whether a reference to the cluster-scoped `kind` named `name` points at nothing: the kind was
/// listed (so absence means something) and no object has that name.
fn names_missing_object(snap: &Snapshot, kind: &str, name: &str) -> bool {
    snap.objects.contains_key(kind) && !snap.of(kind).iter().any(|o| s(o, "/metadata/name") == name)
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

/// Pods owned (through a ReplicaSet or directly) by a workload.
fn pods_of<'a>(snap: &'a Snapshot, workload: &Value) -> Vec<&'a Value> {
    // A workload without a selector, or with one the API server would have refused, selects
    // nothing.
    let Some(Ok(sel)) = workload.pointer("/spec/selector").map(label_selector) else {
        return Vec::new();
    };
    pods_selected(snap, workload, &sel).collect()
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

#[cfg(test)]
pub(super) mod fixtures {
    use serde_json::{Value, json};

    use crate::diagnose::Snapshot;

    pub(crate) fn now() -> jiff::Timestamp {
        "2026-01-10T12:00:00Z".parse().unwrap()
    }

    pub(crate) fn snap(items: Vec<Value>) -> Snapshot {
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

    pub(crate) fn pod(name: &str, labels: Value, status: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "labels": labels,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-7d9", "controller": true}]},
            "spec": {"containers": [{"name": "app", "image": "api:2", "resources": {"limits": {"memory": "64Mi"}},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}}]},
            "status": status})
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{now, pod, snap};
    use super::*;
    use crate::diagnose::{Diagnosis, Severity};
    use serde_json::json;

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
    fn history_is_not_reported_as_a_current_problem() {
        let old_oom = json!({"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-08T12:00:00Z"}],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 1,
                "state": {"running": {"startedAt": "2026-01-08T12:00:00Z"}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": "2026-01-08T11:59:58Z"}}}]});
        let recent_oom = json!({"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-10T11:56:00Z"}],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 6,
                "state": {"running": {"startedAt": "2026-01-10T11:56:00Z"}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": "2026-01-10T11:55:58Z"}}}]});
        let s = snap(vec![
            pod("old", json!({"app": "a"}), old_oom),
            pod("flapping", json!({"app": "b"}), recent_oom.clone()),
            pod("probed", json!({"app": "c"}), recent_oom),
            // a readiness failure while the pod started, before it became ready
            json!({"apiVersion": "v1", "kind": "Event", "metadata": {"namespace": "shop"}, "type": "Warning", "reason": "Unhealthy",
                "lastTimestamp": "2026-01-10T11:55:30Z", "involvedObject": {"kind": "Pod", "name": "probed", "namespace": "shop"},
                "message": "Readiness probe failed: connection refused"}),
            // a CronJob whose failed run of two days ago was followed by successful ones
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "warm", "namespace": "shop"},
                "spec": {"schedule": "0 * * * *"}, "status": {"lastSuccessfulTime": "2026-01-10T11:00:00Z"}}),
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "warm-1", "namespace": "shop",
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "warm", "controller": true}]},
                "status": {"failed": 3, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                    "lastTransitionTime": "2026-01-08T10:00:00Z", "message": "Job has reached the specified backoff limit"}]}}),
            json!({"apiVersion": "v1", "kind": "Event", "metadata": {"namespace": "shop"}, "type": "Warning", "reason": "BackoffLimitExceeded",
                "lastTimestamp": "2026-01-08T10:00:00Z", "involvedObject": {"kind": "Job", "name": "warm-1", "namespace": "shop"},
                "message": "Job has reached the specified backoff limit"}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "warm-1-x", "namespace": "shop",
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "warm-1", "controller": true}]},
                "spec": {"containers": [{"name": "w", "image": "w"}]},
                "status": {"phase": "Failed", "containerStatuses": [{"name": "w", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}}),
        ]);
        let f = analyze(&s, now());
        let names: Vec<&str> = f.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["flapping", "probed"], "{f:#?}");
    }

    #[test]
    fn ports_paused_rollouts_and_failed_jobs() {
        let mut web = pod(
            "web-1",
            json!({"app": "web"}),
            json!({"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}}]}),
        );
        web["spec"]["containers"][0]["ports"] = json!([{"name": "http", "containerPort": 3000}]);
        let s = snap(vec![
            web,
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}),
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"rules": [{"http": {"paths": [{"backend": {"service": {"name": "web", "port": {"number": 8080}}}}]}}]}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "recs", "namespace": "shop"},
                "spec": {"replicas": 2, "paused": true, "selector": {"matchLabels": {"app": "recs"}},
                    "template": {"spec": {"containers": [{"name": "r", "image": "recs:1.8"}]}}},
                "status": {"replicas": 2, "updatedReplicas": 0, "readyReplicas": 2,
                    "conditions": [{"type": "Progressing", "status": "Unknown", "reason": "DeploymentPaused"}]}}),
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "report", "namespace": "shop"},
                "status": {"failed": 3, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit"}]}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "report-x", "namespace": "shop",
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "report", "controller": true}]},
                "spec": {"containers": [{"name": "r", "image": "r"}]},
                "status": {"phase": "Failed", "containerStatuses": [{"name": "r", "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}]}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "lonely", "namespace": "shop"},
                "spec": {"containers": [{"name": "l", "image": "l"}]},
                "status": {"phase": "Failed", "containerStatuses": [{"name": "l", "state": {"terminated": {"exitCode": 137, "reason": "Error"}}}]}}),
        ]);
        let f = analyze(&s, now());
        let by = |n: &str, r: &str| {
            f.iter()
                .find(|x| x.name == n && x.reason == r)
                .unwrap_or_else(|| panic!("{n} {r}: {f:#?}"))
        };
        assert!(
            by("web", "TargetPortNotExposed")
                .message
                .contains("targetPort 8080, but the selected pods listen on http:3000")
        );
        assert!(
            by("web", "BackendPortNotFound")
                .message
                .contains("no port 8080 (its ports: http:80)")
        );
        assert!(by("recs", "RolloutPaused").message.contains("0/2"));
        by("report", "BackoffLimitExceeded");
        // the Job's attempt is not a finding of its own; a standalone failed pod says why
        assert!(!f.iter().any(|x| x.name == "report-x"), "{f:#?}");
        assert!(
            by("lonely", "Failed")
                .message
                .contains("container l exited with Error (code 137)")
        );
    }

    #[test]
    fn scheduler_messages_are_made_concrete() {
        let node = |name: &str, cordoned: bool, zone: &str| {
            json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"topology.kubernetes.io/zone": zone, "disktype": "hdd"}},
            "spec": {"unschedulable": cordoned}, "status": {"allocatable": {"cpu": "3920m"}}})
        };
        let mut big = pod(
            "big",
            json!({"app": "big"}),
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled",
            "status": "False", "message": "0/2 nodes are available: 2 Insufficient cpu."}]}),
        );
        big["spec"]["containers"][0]["resources"]["requests"] = json!({"cpu": "6"});
        let mut picky = pod(
            "picky",
            json!({"app": "p"}),
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled",
            "status": "False", "message": "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."}]}),
        );
        picky["spec"]["nodeSelector"] = json!({"disktype": "ssd"});
        let s = snap(vec![
            node("n1", false, "a"),
            node("n2", true, "b"),
            big,
            picky,
            pod(
                "stuck",
                json!({"app": "s"}),
                json!({"phase": "Pending", "conditions": [{"type": "PodScheduled",
                "status": "False", "message": "0/2 nodes are available: 1 node(s) were unschedulable."}]}),
            ),
        ]);
        let f = analyze(&s, now());
        let msg = |n: &str| f.iter().find(|x| x.name == n).unwrap().message.clone();
        assert!(
            msg("big").contains(
                "app requests cpu 6 — more than any node can offer (largest allocatable cpu: 3920m)"
            ),
            "{}",
            msg("big")
        );
        assert!(
            msg("picky")
                .contains("nodeSelector disktype=ssd matches no node (nodes have disktype=hdd)"),
            "{}",
            msg("picky")
        );
        assert!(
            msg("stuck").contains("cordoned (unschedulable): n2"),
            "{}",
            msg("stuck")
        );
    }

    #[test]
    fn liveness_kills_and_readiness_failures_name_the_probe() {
        let mut p = pod(
            "slow",
            json!({"app": "s"}),
            json!({"phase": "Running", "containerStatuses": [{"name": "app", "ready": false,
            "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"reason": "Error", "exitCode": 143}}}]}),
        );
        p["spec"]["containers"][0]["livenessProbe"] = json!({"httpGet": {"path": "/health", "port": 8080}, "initialDelaySeconds": 10, "periodSeconds": 5, "failureThreshold": 2});
        let ev = |pod: &str, reason: &str, msg: &str| {
            json!({"apiVersion": "v1", "kind": "Event", "metadata": {"namespace": "shop"},
            "type": "Warning", "reason": reason, "lastTimestamp": "2026-01-10T11:59:00Z",
            "involvedObject": {"kind": "Pod", "name": pod, "namespace": "shop"}, "message": msg})
        };
        let s = snap(vec![
            p,
            ev(
                "slow",
                "Killing",
                "Container app failed liveness probe, will be restarted",
            ),
            ev(
                "slow",
                "Unhealthy",
                "Liveness probe failed: connection refused",
            ),
            pod(
                "unready",
                json!({"app": "u"}),
                json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0, "state": {"running": {}}}]}),
            ),
            ev(
                "unready",
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 404",
            ),
        ]);
        let f = analyze(&s, now());
        let msg = |n: &str| f.iter().find(|x| x.name == n).unwrap().message.clone();
        let slow = msg("slow");
        assert!(
            slow.contains("restarted by its liveness probe")
                && slow.contains("within about 20 s")
                && slow.contains("no startupProbe"),
            "{slow}"
        );
        assert!(
            msg("unready").contains("(http-get HTTP:8080/ready) fails")
                && msg("unready").contains("statuscode: 404"),
            "{}",
            msg("unready")
        );
    }
}
