//! Pods and their containers: scheduling, crashes, OOM kills, image pulls, config errors,
//! failing readiness probes.

use serde_json::Value;

use super::{cond, same_ns};
use crate::diagnose::{Finding, Severity, Snapshot};
use crate::render::probe_action;
use crate::render::table::one_line;
use crate::render::{arr, i, s};

pub(super) fn analyze_pods(snap: &Snapshot, now: jiff::Timestamp, out: &mut Vec<Finding>) {
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
                        .push(format!("readinessProbe: {}", probe_action(p)));
                }
                out.push(f);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::super::analyze;
    use super::super::fixtures::{now, pod, snap};
    use serde_json::json;

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
}
