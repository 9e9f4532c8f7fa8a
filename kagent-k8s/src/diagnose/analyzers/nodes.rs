//! Nodes: readiness, pressure conditions, cordons.

use serde_json::Value;

use super::cond;
use crate::diagnose::{Finding, Severity, Snapshot};
use crate::render::table::one_line;
use crate::render::{arr, s};

pub(super) fn analyze_nodes(snap: &Snapshot, out: &mut Vec<Finding>) {
    for n in snap.of("Node") {
        match cond(n, "Ready") {
            Some(c) if s(c, "/status") != "True" => {
                let mut f = Finding::new(
                    "Node",
                    n,
                    Severity::Critical,
                    "NodeNotReady",
                    format!("node is not ready: {}", one_line(s(c, "/message"), 300)),
                );
                f.evidence
                    .push(format!("Ready={} {}", s(c, "/status"), s(c, "/reason")));
                out.push(f);
            }
            _ => {}
        }
        for c in arr(n, "/status/conditions") {
            let ty = s(c, "/type");
            if ty != "Ready" && s(c, "/status") == "True" {
                out.push(Finding::new(
                    "Node",
                    n,
                    Severity::Warning,
                    ty,
                    format!("node reports {ty}: {}", one_line(s(c, "/message"), 300)),
                ));
            }
        }
        if n.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
            out.push(Finding::new(
                "Node",
                n,
                Severity::Warning,
                "Cordoned",
                "node is cordoned (unschedulable)".to_owned(),
            ));
        }
    }
}
