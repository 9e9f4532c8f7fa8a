use super::{ModelCall, Observation, Plan, Planner, PlannerError, Step};

/// ReAct: each turn the model reads the conversation and either calls tools or answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReactPlanner;

impl ReactPlanner {
    /// The planner.
    pub fn new() -> Self {
        ReactPlanner
    }
}

impl Planner for ReactPlanner {
    fn name(&self) -> &str {
        "react"
    }
    fn start(&self) -> Box<dyn Plan> {
        Box::new(ReactPlan)
    }
}

struct ReactPlan;

impl Plan for ReactPlan {
    fn next(&mut self, observation: Observation<'_>) -> Result<Step, PlannerError> {
        Ok(match observation {
            Observation::Start { .. } | Observation::ToolResults(_) => {
                Step::CallModel(ModelCall::with_tools())
            }
            Observation::ModelResponse(response) => {
                if response.message.tool_calls.is_empty() {
                    Step::Finish {
                        answer: response.message.text_content(),
                    }
                } else {
                    Step::RunTools(response.message.tool_calls.clone())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{ChatResponse, ToolCall, ToolResult};
    use serde_json::json;

    #[test]
    fn loops_until_the_model_answers() {
        let mut plan = ReactPlanner.start();
        assert_eq!(
            plan.next(Observation::Start {
                task: "t",
                tools: &[]
            })
            .unwrap(),
            Step::CallModel(ModelCall::with_tools())
        );
        let mut resp = ChatResponse::text("");
        resp.message
            .tool_calls
            .push(ToolCall::new("1", "get", json!({})));
        assert!(
            matches!(plan.next(Observation::ModelResponse(&resp)).unwrap(), Step::RunTools(c) if c.len() == 1)
        );
        assert!(matches!(
            plan.next(Observation::ToolResults(&[ToolResult::ok("1", "get", "x")]))
                .unwrap(),
            Step::CallModel(_)
        ));
        assert_eq!(
            plan.next(Observation::ModelResponse(&ChatResponse::text("done")))
                .unwrap(),
            Step::Finish {
                answer: "done".into()
            }
        );
    }
}
