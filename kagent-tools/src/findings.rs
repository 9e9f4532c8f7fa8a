//! Findings of the policy analyzers (Istio, NetworkPolicy / Cilium): what is wrong, on which
//! object, the evidence for it and how to fix it, rendered compactly for a model.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// How serious a finding is (Istio's analyzer levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Broken: traffic fails or a policy does not do what it says.
    Error,
    /// Probably wrong or risky.
    Warning,
    /// Worth knowing; often intended.
    Info,
}

impl Level {
    /// `Error`, `Warning` or `Info`, as istioctl prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "Error",
            Level::Warning => "Warning",
            Level::Info => "Info",
        }
    }
}

/// One problem found on one object, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finding {
    /// How serious it is.
    pub level: Level,
    /// Istio's message code (`IST0101`) when Istio has one for this problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Machine-readable name (`ReferencedResourceNotFound`, `NoDefaultDeny`).
    pub name: String,
    /// Kind of the object (`VirtualService`, `NetworkPolicy`, `Namespace`).
    pub kind: String,
    /// Namespace of the object (none for cluster-scoped objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the object.
    pub object: String,
    /// Field the finding is about (`spec.http[0].route[1].destination`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What is wrong, in a sentence.
    pub message: String,
    /// The facts that show it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    /// A finding without code, path, evidence or fix.
    pub fn new(
        level: Level,
        name: impl Into<String>,
        kind: impl Into<String>,
        namespace: Option<&str>,
        object: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            level,
            code: None,
            name: name.into(),
            kind: kind.into(),
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_owned),
            object: object.into(),
            path: None,
            message: message.into(),
            evidence: Vec::new(),
            fix: None,
        }
    }

    /// Sets the Istio message code.
    #[must_use]
    pub fn code(mut self, code: &str) -> Self {
        self.code = Some(code.to_owned());
        self
    }

    /// Sets the field path.
    #[must_use]
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Adds one piece of evidence.
    #[must_use]
    pub fn evidence(mut self, fact: impl Into<String>) -> Self {
        self.evidence.push(fact.into());
        self
    }

    /// Adds several pieces of evidence.
    #[must_use]
    pub fn evidences<I, S>(mut self, facts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.evidence.extend(facts.into_iter().map(Into::into));
        self
    }

    /// Sets how to fix it.
    #[must_use]
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// `VirtualService shop/reviews` (`Namespace legacy` for cluster-scoped objects).
    pub fn object_ref(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.object),
            None => format!("{} {}", self.kind, self.object),
        }
    }

    /// The finding as text: a headline like istioctl's
    /// (`Error [IST0101] (VirtualService shop/reviews spec.http[0]) message`), then evidence
    /// and fix on indented lines.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = write!(out, "{}", self.level.as_str());
        match &self.code {
            Some(code) => {
                let _ = write!(out, " [{code} {}]", self.name);
            }
            None => {
                let _ = write!(out, " [{}]", self.name);
            }
        }
        let _ = write!(out, " ({}", self.object_ref());
        if let Some(p) = &self.path {
            let _ = write!(out, " {p}");
        }
        let _ = writeln!(out, ") {}", self.message);
        for e in &self.evidence {
            let _ = writeln!(out, "  - {e}");
        }
        if let Some(f) = &self.fix {
            let _ = writeln!(out, "  fix: {f}");
        }
        out
    }
}

/// Sorts findings: errors first, then warnings, then info; by kind, namespace, name within.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.level, &a.kind, &a.namespace, &a.object, &a.path, &a.name).cmp(&(
            b.level,
            &b.kind,
            &b.namespace,
            &b.object,
            &b.path,
            &b.name,
        ))
    });
}

/// `3 errors, 1 warning, 2 info`.
pub fn count_by_level(findings: &[Finding]) -> String {
    let n = |l: Level| findings.iter().filter(|f| f.level == l).count();
    let (e, w, i) = (n(Level::Error), n(Level::Warning), n(Level::Info));
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!("{}, {}, {i} info", plural(e, "error"), plural(w, "warning"))
}

/// Renders findings (already sorted) after `header`, whole findings only, within `max_chars`;
/// what does not fit is counted by level in a closing note that says `how_to_see_more`.
pub fn render_findings(
    header: &str,
    findings: &[Finding],
    notes: &[String],
    max_chars: usize,
    how_to_see_more: &str,
) -> String {
    let mut out = String::new();
    out.push_str(header);
    if !header.ends_with('\n') {
        out.push('\n');
    }
    let mut tail = String::new();
    for n in notes {
        let _ = writeln!(tail, "note: {n}");
    }
    let budget = max_chars.saturating_sub(tail.len() + 200);
    let mut shown = 0;
    for f in findings {
        let text = f.render();
        if out.len() + text.len() > budget && shown > 0 {
            break;
        }
        out.push_str(&text);
        shown += 1;
    }
    if let Some(rest) = findings.get(shown..)
        && !rest.is_empty()
    {
        let _ = writeln!(
            out,
            "... {} more findings not shown ({}). {how_to_see_more}",
            rest.len(),
            count_by_level(rest)
        );
    }
    out.push_str(&tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(level: Level, name: &str) -> Finding {
        Finding::new(
            level,
            name,
            "VirtualService",
            Some("shop"),
            "reviews",
            "broken",
        )
        .code("IST0101")
        .at("spec.http[0]")
        .evidence("fact one")
        .fix("do this")
    }

    #[test]
    fn renders_like_istioctl_with_evidence_and_fix() {
        let text = f(Level::Error, "ReferencedResourceNotFound").render();
        assert_eq!(
            text,
            "Error [IST0101 ReferencedResourceNotFound] (VirtualService shop/reviews spec.http[0]) broken\n  - fact one\n  fix: do this\n"
        );
        let ns = Finding::new(Level::Info, "X", "Namespace", None, "legacy", "m");
        assert_eq!(ns.object_ref(), "Namespace legacy");
        assert_eq!(ns.render(), "Info [X] (Namespace legacy) m\n");
    }

    #[test]
    fn bounded_rendering_counts_what_was_cut() {
        let mut all: Vec<Finding> = (0..50)
            .map(|i| {
                f(
                    if i % 2 == 0 {
                        Level::Info
                    } else {
                        Level::Error
                    },
                    "N",
                )
            })
            .collect();
        sort_findings(&mut all);
        assert_eq!(all[0].level, Level::Error);
        let out = render_findings(
            "50 findings:",
            &all,
            &["one note".into()],
            1_000,
            "Narrow it.",
        );
        assert!(out.len() < 1_300, "{}", out.len());
        assert!(out.contains("more findings not shown ("), "{out}");
        assert!(out.contains("0 errors") || out.contains("errors"), "{out}");
        assert!(out.ends_with("note: one note\n"), "{out}");
        assert_eq!(count_by_level(&all), "25 errors, 0 warnings, 25 info");
    }
}
