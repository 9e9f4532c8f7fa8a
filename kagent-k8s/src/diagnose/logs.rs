//! Failing containers' and failed Jobs' logs as evidence, and their decisive line as the cause.

use kube::Client;
use kube::api::LogParams;
use serde_json::Value;

use super::causes::{cause_line, decisive_line, follow};
use super::{Finding, Snapshot};
use crate::kapi;
use crate::render::table::one_line;
use crate::render::{arr, i, s};

const LOG_REASONS: &[&str] = &[
    "CrashLoopBackOff",
    "OOMKilled",
    "Error",
    "ContainerFailed",
    "ReadinessProbeFailing",
];

/// Whether a container is failing in a way its log may explain.
fn failing(c: &Value) -> bool {
    let waiting = s(c, "/state/waiting/reason");
    let waiting_failure =
        !waiting.is_empty() && !matches!(waiting, "PodInitializing" | "ContainerCreating");
    let terminated_badly = c
        .pointer("/state/terminated")
        .is_some_and(|t| i(t, "/exitCode") != 0);
    let crashed_before = i(c, "/restartCount") > 0
        && c.pointer("/lastState/terminated")
            .is_some_and(|t| i(t, "/exitCode") != 0);
    let unready = c.pointer("/state/running").is_some()
        && c.get("ready").and_then(Value::as_bool) == Some(false);
    waiting_failure || terminated_badly || crashed_before || unready
}

async fn read_log(client: &Client, ns: &str, pod: &str, c: &Value) -> String {
    let container = s(c, "/name");
    let previous = i(c, "/restartCount") > 0 && c.pointer("/state/terminated").is_none();
    let lp = LogParams {
        container: Some(container.to_owned()),
        tail_lines: Some(50),
        previous,
        limit_bytes: Some(64 * 1024),
        ..LogParams::default()
    };
    match kapi::logs(client, ns, pod, &lp).await {
        Ok(t) => t,
        Err(_) if previous => {
            let lp = LogParams {
                previous: false,
                ..lp
            };
            kapi::logs(client, ns, pod, &lp).await.unwrap_or_default()
        }
        Err(_) => String::new(),
    }
}

/// Reads the logs of `pod`'s failing containers (init containers first) into `f`'s evidence;
/// the first decisive line (and what it points at) goes into the message, unless the cause is
/// already certain from the status (an OOM kill).
async fn explain_with_logs(
    client: &Client,
    snap: &Snapshot,
    f: &mut Finding,
    pod: &Value,
    keep: usize,
) {
    let ns = s(pod, "/metadata/namespace");
    let name = s(pod, "/metadata/name");
    let mut explained = f.reason == "OOMKilled";
    let statuses: Vec<&Value> = arr(pod, "/status/initContainerStatuses")
        .iter()
        .chain(arr(pod, "/status/containerStatuses"))
        .filter(|c| failing(c))
        .collect();
    for c in statuses {
        let container = s(c, "/name");
        let text = read_log(client, ns, name, c).await;
        for line in telling_log_lines(&text, keep) {
            f.evidence.push(format!("log {container}: {line}"));
        }
        if explained {
            continue;
        }
        if let (Some(line), Some(cause)) = (decisive_line(&text), cause_line(&text)) {
            let notes = follow(snap, Some(pod), container, line);
            f.message
                .push_str(&format!(" — log of {container}: {cause}"));
            if !notes.is_empty() {
                f.message.push_str(&format!(" — {}", notes.join("; ")));
            }
            explained = true;
        }
    }
}

/// The pods a Job created, newest first.
fn job_pods<'a>(snap: &'a Snapshot, job: &Finding) -> Vec<&'a Value> {
    let ns = job.namespace.as_deref().unwrap_or("");
    let mut pods: Vec<&Value> = snap
        .of("Pod")
        .iter()
        .filter(|p| {
            s(p, "/metadata/namespace") == ns
                && arr(p, "/metadata/ownerReferences")
                    .iter()
                    .any(|o| s(o, "/kind") == "Job" && s(o, "/name") == job.name)
        })
        .collect();
    pods.sort_by(|a, b| {
        s(b, "/metadata/creationTimestamp").cmp(s(a, "/metadata/creationTimestamp"))
    });
    pods
}

pub(super) async fn add_log_evidence(
    client: &Client,
    snap: &Snapshot,
    findings: &mut [Finding],
    keep: usize,
) {
    for f in findings.iter_mut() {
        let Some(ns) = f.namespace.clone() else {
            continue;
        };
        if f.kind == "Job" {
            // The last failed attempt tells why the Job failed.
            let pods = job_pods(snap, f);
            let Some(pod) = pods
                .iter()
                .copied()
                .find(|p| s(p, "/status/phase") == "Failed")
                .or_else(|| pods.first().copied())
            else {
                continue;
            };
            f.evidence.push(format!(
                "last attempt: pod {} ({})",
                s(pod, "/metadata/name"),
                crate::render::table::pod_status(pod)
            ));
            explain_with_logs(client, snap, f, pod, keep).await;
            continue;
        }
        if f.kind != "Pod" || !LOG_REASONS.contains(&f.reason.as_str()) {
            continue;
        }
        let Some(pod) = snap
            .of("Pod")
            .iter()
            .find(|p| s(p, "/metadata/name") == f.name && s(p, "/metadata/namespace") == ns)
        else {
            continue;
        };
        explain_with_logs(client, snap, f, pod, keep).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telling_log_lines_prefer_errors() {
        let log = "starting\nlistening on :8080\nERROR: connect to db:5432: connection refused\nexiting\n";
        let lines = telling_log_lines(log, 5);
        assert_eq!(
            lines,
            vec!["ERROR: connect to db:5432: connection refused", "exiting"]
        );
        assert_eq!(telling_log_lines("a\nb\nc\n", 2), vec!["b", "c"]);
        assert!(telling_log_lines("", 3).is_empty());
    }
}
