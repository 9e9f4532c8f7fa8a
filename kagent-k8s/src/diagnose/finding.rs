//! Findings, their evidence, and the report a model or a person reads.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::render::s;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// Something is broken: a workload does not run or serve.
    Critical,
    /// Degraded or at risk.
    Warning,
}

/// One problem found, with the evidence for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finding {
    /// Kind of the object (`Pod`, `Service`, ...).
    pub kind: String,
    /// Namespace, for namespaced objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Object name.
    pub name: String,
    /// The top-level owner (`Deployment/web`) when the object belongs to a workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// How bad it is.
    pub severity: Severity,
    /// Short machine-readable cause (`CrashLoopBackOff`, `OOMKilled`, `SelectorMatchesNothing`).
    pub reason: String,
    /// The root cause in a sentence.
    pub message: String,
    /// Facts that support it: conditions, events, related log lines.
    pub evidence: Vec<String>,
}

impl Finding {
    /// A finding about `obj` (a Kubernetes object as JSON; its name and namespace are taken
    /// from its metadata), without workload or evidence: assign `workload` and push to
    /// `evidence` as needed. For analyzers of your own, next to [`crate::diagnose::analyze`].
    pub fn new(kind: &str, obj: &Value, severity: Severity, reason: &str, message: String) -> Self {
        let ns = s(obj, "/metadata/namespace");
        Finding {
            kind: kind.to_owned(),
            namespace: (!ns.is_empty()).then(|| ns.to_owned()),
            name: s(obj, "/metadata/name").to_owned(),
            workload: None,
            severity,
            reason: reason.to_owned(),
            message,
            evidence: Vec::new(),
        }
    }

    /// `Kind/name` (with `namespace/` in front for namespaced objects).
    pub fn object(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", ns, self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// The result of a diagnosis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Diagnosis {
    /// Findings, critical first.
    pub findings: Vec<Finding>,
    /// Kinds that could not be analyzed, with why.
    pub skipped: Vec<String>,
}

impl Diagnosis {
    /// A report for a model or a person: findings grouped by workload, with evidence.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.findings.is_empty() {
            out.push_str("No problems found.\n");
        } else {
            let critical = self
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Critical)
                .count();
            let _ = writeln!(
                out,
                "{} findings ({critical} critical, {} warnings):",
                self.findings.len(),
                self.findings.len() - critical
            );
            for (n, f) in self.findings.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{}. [{}] {} {}{}: {}",
                    n + 1,
                    match f.severity {
                        Severity::Critical => "critical",
                        Severity::Warning => "warning",
                    },
                    f.object(),
                    f.reason,
                    f.workload
                        .as_ref()
                        .map(|w| format!(" (workload {w})"))
                        .unwrap_or_default(),
                    f.message
                );
                for e in &f.evidence {
                    let _ = writeln!(out, "   - {e}");
                }
            }
        }
        if !self.skipped.is_empty() {
            let _ = writeln!(out, "Not analyzed: {}", self.skipped.join("; "));
        }
        out
    }
}
