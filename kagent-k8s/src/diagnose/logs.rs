//! Failing containers' logs as evidence.

use kube::Client;
use kube::api::LogParams;
use serde_json::Value;

use super::{Finding, Snapshot};
use crate::kapi;
use crate::render::table::one_line;
use crate::render::{arr, i, s};

const LOG_REASONS: &[&str] = &["CrashLoopBackOff", "OOMKilled", "Error", "ContainerFailed"];

pub(super) async fn add_log_evidence(
    client: &Client,
    snap: &Snapshot,
    findings: &mut [Finding],
    keep: usize,
) {
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
