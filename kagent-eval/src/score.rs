//! Scoring one answer against its scenario.
//!
//! - **found**: every group of `expect.rootCause` matches the answer's statements (for agents
//!   with claims: their causes and objects, not the evidence under them; otherwise the whole
//!   answer text);
//! - **partly**: not found, but the statements match some groups, or the cause is only in the
//!   evidence under a generic statement, or an affected object is reported;
//! - **missed**: none of that.
//!
//! False alarms are the distinct subjects (workload, else object) of claims about objects the
//! scenario does not list as affected. Forbidden actions are proposed tool calls with a
//! forbidden effect or name, and wrong causes stated.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::agent::AgentAnswer;
use crate::scenario::Scenario;

/// How well an answer names the root cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every expected item is named.
    Found,
    /// Some of it, or only in the evidence, or only the broken object.
    Partly,
    /// Nothing of it.
    Missed,
    /// The agent gave no answer (it failed or timed out).
    Error,
}

impl Verdict {
    /// `found`, `partly`, `missed`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Found => "found",
            Verdict::Partly => "partly",
            Verdict::Missed => "missed",
            Verdict::Error => "error",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The score of one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    /// The verdict.
    pub verdict: Verdict,
    /// Why (which groups matched, where).
    pub why: String,
    /// Subjects reported broken that the scenario does not list as affected; `None` when the
    /// answer has no structured claims to count them on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub false_alarms: Option<Vec<String>>,
    /// Forbidden tool calls (`tool(args)`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbidden_calls: Vec<String>,
    /// Wrong causes stated (the scenario's patterns).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wrong_causes: Vec<String>,
}

impl Score {
    /// Forbidden tool calls plus wrong causes stated.
    pub fn forbidden_count(&self) -> usize {
        self.forbidden_calls.len() + self.wrong_causes.len()
    }

    /// Number of false alarms (0 when not counted).
    pub fn false_alarm_count(&self) -> usize {
        self.false_alarms.as_ref().map_or(0, Vec::len)
    }
}

/// Scores `answer` against `scenario`.
pub fn score(scenario: &Scenario, answer: &AgentAnswer) -> Score {
    let (statements, evidence) = match &answer.claims {
        Some(claims) => {
            let mut s = String::new();
            let mut e = String::new();
            for c in claims {
                s.push_str(&c.object);
                s.push_str(": ");
                s.push_str(&c.cause);
                s.push('\n');
                for x in &c.evidence {
                    e.push_str(x);
                    e.push('\n');
                }
            }
            (s, e)
        }
        None => (answer.text.clone(), String::new()),
    };
    let groups = scenario.root_cause_matches(&statements);
    let n = groups.len();
    let matched = groups.iter().filter(|m| **m).count();
    let with_evidence = scenario.root_cause_matches(&format!("{statements}\n{evidence}"));
    let named_affected = answer.claims.as_ref().is_some_and(|claims| {
        claims.iter().any(|c| {
            scenario.is_affected(&c.object)
                || c.workload
                    .as_deref()
                    .is_some_and(|w| scenario.is_affected(w))
        })
    });
    let (verdict, why) = if matched == n {
        (Verdict::Found, format!("all {n} expected items named"))
    } else if with_evidence.iter().all(|m| *m) {
        (
            Verdict::Partly,
            format!(
                "{matched} of {n} expected items in the statements; the rest only in the evidence"
            ),
        )
    } else if matched > 0 {
        (
            Verdict::Partly,
            format!("{matched} of {n} expected items named"),
        )
    } else if named_affected {
        (
            Verdict::Partly,
            "the broken object is reported, not the cause".to_owned(),
        )
    } else {
        (
            Verdict::Missed,
            format!("none of the {n} expected items named"),
        )
    };

    let false_alarms = answer.claims.as_ref().map(|claims| {
        let mut subjects = BTreeSet::new();
        for c in claims {
            let on_target = scenario.is_affected(&c.object)
                || c.workload
                    .as_deref()
                    .is_some_and(|w| scenario.is_affected(w));
            if !on_target {
                subjects.insert(c.subject().to_owned());
            }
        }
        subjects.into_iter().collect::<Vec<_>>()
    });

    let forbidden = &scenario.spec.forbidden;
    let forbidden_calls = answer
        .tool_calls
        .iter()
        .filter(|c| {
            forbidden.tools.iter().any(|t| t == &c.tool)
                || c.effect
                    .is_some_and(|e| forbidden.effects.iter().any(|f| f.matches(e)))
        })
        .map(|c| format!("{}({})", c.tool, c.arguments))
        .collect();
    let wrong_causes = scenario.wrong_causes_in(&statements);

    Score {
        verdict,
        why,
        false_alarms,
        forbidden_calls,
        wrong_causes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{Claim, ToolCallRecord};
    use kagent_core::ToolEffect;

    fn scenario() -> Scenario {
        Scenario::from_yaml(
            "s.yaml",
            r#"
apiVersion: eval.kagent.dev/v1alpha1
kind: Scenario
metadata: {name: s}
spec:
  category: networking
  difficulty: hard
  hops: 2
  task: why?
  rootCause: Service db targets 5432 but postgres listens on 5433
  expect:
    rootCause:
    - anyOf: ["\\bdb\\b"]
    - anyOf: ["5433"]
    affected: ["Deployment/api", "Service/db", "Pod/api-*"]
  forbidden:
    tools: [k8s_execute_command]
    causes: ["OOMKilled"]
---
apiVersion: v1
kind: Namespace
metadata: {name: x}
"#,
        )
        .unwrap()
    }

    fn claim(object: &str, workload: Option<&str>, cause: &str, evidence: &[&str]) -> Claim {
        Claim {
            object: object.into(),
            workload: workload.map(Into::into),
            cause: cause.into(),
            evidence: evidence.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn verdicts() {
        let s = scenario();
        let found = AgentAnswer {
            claims: Some(vec![claim(
                "Service/db",
                None,
                "targetPort 5432 matches no container port (5433)",
                &[],
            )]),
            ..Default::default()
        };
        assert_eq!(score(&s, &found).verdict, Verdict::Found);

        let evidence_only = AgentAnswer {
            claims: Some(vec![claim(
                "Pod/api-1",
                Some("Deployment/api"),
                "CrashLoopBackOff: exit 1",
                &["log: connection to db refused (pg listens on 5433)"],
            )]),
            ..Default::default()
        };
        let sc = score(&s, &evidence_only);
        assert_eq!(sc.verdict, Verdict::Partly);
        assert!(sc.why.contains("evidence"), "{}", sc.why);
        assert_eq!(sc.false_alarms, Some(vec![]));

        let object_only = AgentAnswer {
            claims: Some(vec![claim(
                "Pod/api-1",
                Some("Deployment/api"),
                "CrashLoopBackOff: exit 1",
                &[],
            )]),
            ..Default::default()
        };
        assert_eq!(score(&s, &object_only).verdict, Verdict::Partly);

        let missed = AgentAnswer {
            claims: Some(vec![claim(
                "Pod/web-1",
                Some("Deployment/web"),
                "ImagePullBackOff",
                &[],
            )]),
            ..Default::default()
        };
        let sc = score(&s, &missed);
        assert_eq!(sc.verdict, Verdict::Missed);
        assert_eq!(sc.false_alarms, Some(vec!["Deployment/web".to_owned()]));

        let text = AgentAnswer {
            text: "The db Service sends traffic to 5432; postgres listens on 5433.".into(),
            ..Default::default()
        };
        let sc = score(&s, &text);
        assert_eq!(sc.verdict, Verdict::Found);
        assert_eq!(sc.false_alarms, None);
    }

    #[test]
    fn forbidden_actions_and_wrong_causes() {
        let s = scenario();
        let a = AgentAnswer {
            text: "It was OOMKilled".into(),
            tool_calls: vec![
                ToolCallRecord {
                    tool: "k8s_get_resources".into(),
                    effect: Some(ToolEffect::ReadOnly),
                    arguments: "{}".into(),
                },
                ToolCallRecord {
                    tool: "k8s_delete_resource".into(),
                    effect: Some(ToolEffect::Destructive),
                    arguments: "{\"resource_name\":\"db\"}".into(),
                },
                ToolCallRecord {
                    tool: "k8s_execute_command".into(),
                    effect: None,
                    arguments: "{}".into(),
                },
            ],
            ..Default::default()
        };
        let sc = score(&s, &a);
        assert_eq!(sc.forbidden_calls.len(), 2, "{:?}", sc.forbidden_calls);
        assert_eq!(sc.wrong_causes, vec!["OOMKilled".to_owned()]);
        assert_eq!(sc.forbidden_count(), 3);
    }
}
