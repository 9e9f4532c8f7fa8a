//! The optional LLM judge: grades a free-text answer against the scenario's true root cause with
//! a fixed rubric, recorded in the report next to the model that applied it.

use std::sync::Arc;

use kagent_core::{ChatRequest, Message, ModelProvider};
use serde::Deserialize;

use crate::agent::AgentAnswer;
use crate::error::{EvalError, Result};
use crate::report::JudgeGrade;
use crate::scenario::Scenario;
use crate::score::Verdict;

/// The rubric the judge grades with (recorded in every report it graded).
pub const RUBRIC: &str = "You grade the answer of a Kubernetes troubleshooting agent.
You get: the operator's task, the TRUE ROOT CAUSE, the items a correct answer must name, the objects that are really affected, and the agent's ANSWER.
Verdict:
- found: the answer states the true root cause as the cause (not merely as one possibility among equals, and not only quoted in evidence), naming every required item or an unambiguous equivalent.
- partly: the answer identifies the broken object or part of the cause (a symptom, a generic cause such as 'crash loop', or the right area without the decisive fact).
- missed: the answer does not identify the cause or the broken object, or states a different cause as the root cause.
False alarms: count the objects the answer reports as broken or misconfigured that are not among the affected objects (objects mentioned as healthy do not count).
Reply with one JSON object and nothing else: {\"verdict\": \"found|partly|missed\", \"false_alarms\": <integer>, \"rationale\": \"<one or two sentences>\"}";

/// An LLM judge.
#[derive(Clone)]
pub struct Judge {
    provider: Arc<dyn ModelProvider>,
    label: String,
}

impl std::fmt::Debug for Judge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judge").field("model", &self.label).finish()
    }
}

#[derive(Deserialize)]
struct Reply {
    verdict: String,
    #[serde(default)]
    false_alarms: u32,
    #[serde(default)]
    rationale: String,
}

impl Judge {
    /// A judge on `provider`; `label` names the model in reports.
    pub fn new(provider: Arc<dyn ModelProvider>, label: impl Into<String>) -> Self {
        Judge {
            provider,
            label: label.into(),
        }
    }

    /// The model's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Grades `answer`.
    pub async fn grade(&self, scenario: &Scenario, answer: &AgentAnswer) -> Result<JudgeGrade> {
        let must: Vec<String> = scenario
            .spec
            .expect
            .root_cause
            .iter()
            .map(|g| g.any_of.join(" | "))
            .collect();
        let prompt = format!(
            "TASK:\n{}\n\nTRUE ROOT CAUSE:\n{}\n\nMUST NAME (each line: any of these regular expressions):\n- {}\n\nAFFECTED OBJECTS:\n{}\n\nANSWER:\n{}",
            scenario.spec.task,
            scenario.spec.root_cause,
            must.join("\n- "),
            scenario.spec.expect.affected.join(", "),
            answer.text
        );
        let mut request = ChatRequest::new(vec![Message::user(prompt)]);
        request.system = Some(RUBRIC.to_owned());
        request.temperature = Some(0.0);
        let response = self
            .provider
            .chat(&request)
            .await
            .map_err(|e| EvalError::Agent {
                agent: format!("judge {}", self.label),
                message: e.to_string(),
            })?;
        parse_reply(&response.message.text_content()).ok_or_else(|| EvalError::Agent {
            agent: format!("judge {}", self.label),
            message: "the judge's reply is not the requested JSON object".to_owned(),
        })
    }
}

fn parse_reply(text: &str) -> Option<JudgeGrade> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    let reply: Reply = serde_json::from_str(text.get(start..=end)?).ok()?;
    let verdict = match reply.verdict.trim().to_ascii_lowercase().as_str() {
        "found" => Verdict::Found,
        "partly" | "partial" => Verdict::Partly,
        "missed" => Verdict::Missed,
        _ => return None,
    };
    Some(JudgeGrade {
        verdict,
        false_alarms: reply.false_alarms,
        rationale: reply.rationale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kagent_core::testing::ScriptedProvider;

    const SCENARIO: &str = "apiVersion: eval.kagent.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\nspec:\n  category: jobs\n  difficulty: easy\n  task: t\n  rootCause: r\n  expect:\n    rootCause: [{anyOf: [x]}]\n    affected: [Job/a]\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n";

    #[test]
    fn replies() {
        assert_eq!(
            parse_reply(
                "Sure: {\"verdict\": \"Found\", \"false_alarms\": 1, \"rationale\": \"ok\"} done"
            )
            .map(|g| (g.verdict, g.false_alarms)),
            Some((Verdict::Found, 1))
        );
        assert_eq!(parse_reply("{\"verdict\": \"maybe\"}"), None);
        assert_eq!(parse_reply("no json"), None);
    }

    #[tokio::test]
    async fn grades_with_a_model() {
        let s = Scenario::from_yaml("s.yaml", SCENARIO).unwrap();
        let provider = ScriptedProvider::new()
            .text("{\"verdict\": \"partly\", \"false_alarms\": 0, \"rationale\": \"generic\"}")
            .text("I think it is fine.");
        let judge = Judge::new(Arc::new(provider), "scripted");
        let g = judge.grade(&s, &AgentAnswer::default()).await.unwrap();
        assert_eq!(g.verdict, Verdict::Partly);
        let e = judge.grade(&s, &AgentAnswer::default()).await.unwrap_err();
        assert!(e.to_string().contains("not the requested JSON"), "{e}");
    }
}
