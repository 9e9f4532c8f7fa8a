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
            let why = scheduling_causes(snap, pod, s(c, "/message"));
            if !why.is_empty() {
                f.message.push_str(" — ");
                f.message.push_str(&why.join("; "));
            }
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
            // A Job's failed pods are its attempts: the Job's finding reports them (with the
            // last attempt's log), not one finding per attempt.
            if owner_kind(pod) == Some("Job") {
                continue;
            }
            out.push(Finding::new(
                "Pod",
                pod,
                Severity::Warning,
                match s(pod, "/status/reason") {
                    "" => "Failed",
                    r => r,
                },
                format!("pod failed: {}", failed_pod_cause(pod)),
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
            if recovered(c, now) {
                // Terminated long ago, running and ready since: history, not a current problem.
                continue;
            }
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
                if let Some(e) = latest_event(snap, pod, |e| {
                    s(e, "/message").starts_with("Failed to pull image")
                }) {
                    f.message
                        .push_str(&format!(" — {}", pull_failure(s(e, "/message"))));
                }
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
                if let Some(kill) = liveness_kill(snap, pod, cname) {
                    f.message = format!("container {cname} {kill} (restarted {restarts} times)");
                }
                if let Some(t) = last {
                    let msg = s(t, "/message");
                    if !msg.is_empty() {
                        f.evidence
                            .push(format!("termination message: {}", one_line(msg, 300)));
                        f.message.push_str(&format!(
                            ": {}",
                            crate::diagnose::causes::cause_line(msg)
                                .unwrap_or_else(|| one_line(msg, 300))
                        ));
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
                        "container {cname} exited with {} (code {}){}",
                        s(t, "/reason"),
                        i(t, "/exitCode"),
                        match s(t, "/message") {
                            "" => String::new(),
                            m => format!(": {}", one_line(m, 300)),
                        }
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
                    f.message = format!(
                        "container {cname} runs but its readiness probe ({}) fails, so it receives no Service traffic",
                        probe_action(p)
                    );
                }
                if let Some(e) = latest_event(snap, pod, |e| {
                    s(e, "/message").starts_with("Readiness probe failed")
                }) {
                    f.message
                        .push_str(&format!(": {}", one_line(s(e, "/message"), 300)));
                }
                out.push(f);
            }
        }
    }
}

/// A container that is running and ready now, whose last termination ended more than an hour
/// ago: the termination is history.
fn recovered(c: &Value, now: jiff::Timestamp) -> bool {
    let running_ready = c.pointer("/state/running").is_some()
        && c.get("ready").and_then(Value::as_bool) == Some(true);
    let finished = c
        .pointer("/lastState/terminated/finishedAt")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    running_ready
        && finished.is_some_and(|t| now.as_second().saturating_sub(t.as_second()) > HISTORY_SECONDS)
}

/// How old a termination of a container that runs and is ready since must be to be history.
const HISTORY_SECONDS: i64 = 3600;

fn owner_kind(obj: &Value) -> Option<&str> {
    arr(obj, "/metadata/ownerReferences")
        .iter()
        .find(|o| o.get("controller").and_then(Value::as_bool) != Some(false))
        .map(|o| s(o, "/kind"))
}

/// Why a pod failed: its status message, else its containers' terminations.
fn failed_pod_cause(pod: &Value) -> String {
    let msg = s(pod, "/status/message");
    if !msg.is_empty() {
        return one_line(msg, 300);
    }
    let terms: Vec<String> = arr(pod, "/status/containerStatuses")
        .iter()
        .filter_map(|c| {
            let t = c.pointer("/state/terminated")?;
            (i(t, "/exitCode") != 0).then(|| {
                format!(
                    "container {} exited with {} (code {}){}",
                    s(c, "/name"),
                    either(s(t, "/reason"), "Error"),
                    i(t, "/exitCode"),
                    match s(t, "/message") {
                        "" => String::new(),
                        m => format!(": {}", one_line(m, 200)),
                    }
                )
            })
        })
        .collect();
    if terms.is_empty() {
        either(s(pod, "/status/reason"), "no reason recorded").to_owned()
    } else {
        terms.join("; ")
    }
}

fn either<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

/// The latest event about `pod` that `pred` accepts.
fn latest_event<'a>(
    snap: &'a Snapshot,
    pod: &Value,
    pred: impl Fn(&Value) -> bool,
) -> Option<&'a Value> {
    let (ns, name) = (s(pod, "/metadata/namespace"), s(pod, "/metadata/name"));
    snap.of("Event")
        .iter()
        .filter(|e| {
            s(e, "/involvedObject/kind") == "Pod"
                && s(e, "/involvedObject/name") == name
                && (s(e, "/involvedObject/namespace") == ns || s(e, "/metadata/namespace") == ns)
                && pred(e)
        })
        .max_by(|a, b| crate::render::table::event_time(a).cmp(crate::render::table::event_time(b)))
}

/// The registry's answer in a `Failed to pull image` event, without the repeated image name.
fn pull_failure(message: &str) -> String {
    let low = message.to_ascii_lowercase();
    for (needle, say) in [
        (
            "401 unauthorized",
            "the registry answers 401 Unauthorized: the pull credentials (imagePullSecrets) are missing, wrong or expired",
        ),
        (
            "403 forbidden",
            "the registry answers 403 Forbidden: the pull credentials may not read this repository",
        ),
        (
            "manifest unknown",
            "the registry has no such image or tag (manifest unknown)",
        ),
        (
            ": not found",
            "the registry has no such image or tag (not found)",
        ),
        (
            "notfound",
            "the registry has no such image or tag (not found)",
        ),
        (
            "no such host",
            "the registry's host name does not resolve (no such host)",
        ),
        (
            "toomanyrequests",
            "the registry rate-limits pulls (toomanyrequests)",
        ),
    ] {
        if low.contains(needle) {
            return format!("{say}; {}", one_line(message, 300));
        }
    }
    one_line(message, 300)
}

/// `is restarted by its liveness probe ...` when the kubelet kills `container` for failing its
/// liveness probe, with the probe's timing (how long the app has to start) and the latest
/// failure.
fn liveness_kill(snap: &Snapshot, pod: &Value, container: &str) -> Option<String> {
    let kill = format!("Container {container} failed liveness probe");
    latest_event(snap, pod, |e| {
        s(e, "/reason") == "Killing" && s(e, "/message").starts_with(&kill)
    })?;
    let spec = container_spec(pod, container)?;
    let probe = spec.get("livenessProbe")?;
    let delay = probe
        .get("initialDelaySeconds")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let period = probe
        .get("periodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(10);
    let failures = probe
        .get("failureThreshold")
        .and_then(Value::as_i64)
        .unwrap_or(3);
    let window = delay + period * failures;
    let mut out = format!(
        "is restarted by its liveness probe ({}, initialDelaySeconds {delay}, periodSeconds {period}, failureThreshold {failures}): it is killed unless it answers within about {window} s of starting",
        probe_action(probe)
    );
    if spec.get("startupProbe").is_none() {
        out.push_str(", and it has no startupProbe to give a slow start more time");
    }
    if let Some(e) = latest_event(snap, pod, |e| {
        s(e, "/message").starts_with("Liveness probe failed")
    }) {
        out.push_str(&format!("; latest: {}", one_line(s(e, "/message"), 200)));
    }
    Some(out)
}

/// Quantities as numbers in base units (cores for cpu, bytes for memory).
fn quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit {
        "" => 1.0,
        "m" => 0.001,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0_f64.powi(4),
        _ => return None,
    };
    Some(n * mult)
}

/// What the scheduler's message points at, made concrete: the request against the largest
/// node, the node selector no node carries, the cordoned nodes.
fn scheduling_causes(snap: &Snapshot, pod: &Value, message: &str) -> Vec<String> {
    let mut out = Vec::new();
    let nodes = snap.of("Node");
    let mut rest = message;
    while let Some(at) = rest.find("Insufficient ") {
        let after = rest.get(at + "Insufficient ".len()..).unwrap_or("");
        let res: String = after
            .chars()
            .take_while(|c| !matches!(c, ',' | '.' | ' '))
            .collect();
        rest = after;
        let requested: f64 = arr(pod, "/spec/containers")
            .iter()
            .filter_map(|c| c.pointer(&format!("/resources/requests/{}", res.replace('/', "~1"))))
            .filter_map(Value::as_str)
            .filter_map(quantity)
            .sum();
        let largest = nodes
            .iter()
            .filter_map(|n| {
                let q = n
                    .pointer(&format!("/status/allocatable/{}", res.replace('/', "~1")))
                    .and_then(Value::as_str)?;
                Some((quantity(q)?, q.to_owned()))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let req_text: Vec<String> = arr(pod, "/spec/containers")
            .iter()
            .filter_map(|c| {
                c.pointer(&format!("/resources/requests/{}", res.replace('/', "~1")))
                    .and_then(Value::as_str)
                    .map(|q| format!("{} requests {res} {q}", s(c, "/name")))
            })
            .collect();
        match largest {
            Some((cap, text)) if requested > cap => out.push(format!(
                "{} — more than any node can offer (largest allocatable {res}: {text})",
                req_text.join(", ")
            )),
            Some((_, text)) if !req_text.is_empty() => out.push(format!(
                "{} (largest node allocatable {res}: {text}; the others are used by running pods)",
                req_text.join(", ")
            )),
            _ => {}
        }
    }
    if message.contains("didn't match Pod's node affinity/selector")
        && let Some(sel) = pod.pointer("/spec/nodeSelector").and_then(Value::as_object)
    {
        for (k, v) in sel {
            let want = v.as_str().unwrap_or("");
            let matching = nodes.iter().any(|n| {
                n.pointer("/metadata/labels")
                    .and_then(|l| l.get(k))
                    .and_then(Value::as_str)
                    == Some(want)
            });
            if !matching && !nodes.is_empty() {
                let have: std::collections::BTreeSet<&str> = nodes
                    .iter()
                    .filter_map(|n| {
                        n.pointer("/metadata/labels")
                            .and_then(|l| l.get(k))
                            .and_then(Value::as_str)
                    })
                    .collect();
                out.push(format!(
                    "nodeSelector {k}={want} matches no node{}",
                    if have.is_empty() {
                        format!(" (no node has the label {k})")
                    } else {
                        format!(
                            " (nodes have {k}={})",
                            have.into_iter().collect::<Vec<_>>().join(", ")
                        )
                    }
                ));
            }
        }
    }
    if message.contains("were unschedulable")
        || message.contains("node.kubernetes.io/unschedulable")
    {
        let cordoned: Vec<&str> = nodes
            .iter()
            .filter(|n| n.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true))
            .map(|n| s(n, "/metadata/name"))
            .collect();
        if !cordoned.is_empty() {
            out.push(format!("cordoned (unschedulable): {}", cordoned.join(", ")));
        }
    }
    if message.contains("volume node affinity conflict") {
        for zone in volume_zones(snap, pod) {
            let in_zone: Vec<&Value> = nodes
                .iter()
                .filter(|n| {
                    n.pointer("/metadata/labels")
                        .and_then(|l| l.get("topology.kubernetes.io/zone"))
                        .and_then(Value::as_str)
                        == Some(zone.1.as_str())
                })
                .collect();
            let names: Vec<String> = in_zone
                .iter()
                .map(|n| {
                    let cordoned =
                        n.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true);
                    format!(
                        "{}{}",
                        s(n, "/metadata/name"),
                        if cordoned { " (cordoned)" } else { "" }
                    )
                })
                .collect();
            out.push(format!(
                "claim {} is bound to a volume in zone {}, where the nodes are: {}",
                zone.0,
                zone.1,
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ));
        }
    }
    out
}

/// (claim, zone) of the pod's bound volumes that are pinned to a zone.
fn volume_zones(snap: &Snapshot, pod: &Value) -> Vec<(String, String)> {
    let ns = s(pod, "/metadata/namespace");
    let mut out = Vec::new();
    for v in arr(pod, "/spec/volumes") {
        let Some(claim) = v
            .pointer("/persistentVolumeClaim/claimName")
            .and_then(Value::as_str)
        else {
            continue;
        };
        let Some(pv_name) = snap
            .of("PersistentVolumeClaim")
            .iter()
            .find(|p| s(p, "/metadata/name") == claim && s(p, "/metadata/namespace") == ns)
            .map(|p| s(p, "/spec/volumeName"))
        else {
            continue;
        };
        let Some(pv) = snap
            .of("PersistentVolume")
            .iter()
            .find(|p| s(p, "/metadata/name") == pv_name)
        else {
            continue;
        };
        for term in arr(pv, "/spec/nodeAffinity/required/nodeSelectorTerms") {
            for e in arr(term, "/matchExpressions") {
                if s(e, "/key") == "topology.kubernetes.io/zone"
                    || s(e, "/key") == "topology.ebs.csi.aws.com/zone"
                {
                    for z in arr(e, "/values").iter().filter_map(Value::as_str) {
                        out.push((claim.to_owned(), z.to_owned()));
                    }
                }
            }
        }
    }
    out
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
