use super::{
    ModelCall, Observation, Plan, PlanStepStatus, PlanStepView, PlanView, Planner, PlannerError,
    Step, ToolSelection, describe,
};

/// Plan-and-execute: the model first writes a numbered plan (published as a
/// [`PlanUpdated`](crate::AgentEvent::PlanUpdated) event), then carries it out one step at a
/// time with tools. When a tool call fails, the model is asked to revise the remaining steps.
/// After the last step it writes the final answer.
#[derive(Debug, Clone)]
pub struct PlanAndExecutePlanner {
    max_revisions: u32,
    max_steps: usize,
}

impl Default for PlanAndExecutePlanner {
    fn default() -> Self {
        PlanAndExecutePlanner {
            max_revisions: 3,
            max_steps: 12,
        }
    }
}

impl PlanAndExecutePlanner {
    /// The planner with default limits (3 revisions, 12 steps).
    pub fn new() -> Self {
        Self::default()
    }

    /// How many times the plan may be revised after failures.
    pub fn max_revisions(mut self, n: u32) -> Self {
        self.max_revisions = n;
        self
    }

    /// The most steps a plan may have; longer plans are cut.
    pub fn max_steps(mut self, n: usize) -> Self {
        self.max_steps = n.max(1);
        self
    }
}

impl Planner for PlanAndExecutePlanner {
    fn name(&self) -> &str {
        "plan-and-execute"
    }
    fn start(&self) -> Box<dyn Plan> {
        Box::new(PlanExecutePlan {
            config: self.clone(),
            state: State::Init,
            steps: Vec::new(),
            current: 0,
            revision: 0,
            revisions_used: 0,
            step_failed: false,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Init,
    Planning,
    Executing,
    Revising,
    Summarizing,
}

struct PlanExecutePlan {
    config: PlanAndExecutePlanner,
    state: State,
    steps: Vec<PlanStepView>,
    current: usize,
    revision: u32,
    revisions_used: u32,
    step_failed: bool,
}

const PLAN_PROMPT: &str = "Before doing anything, write a short numbered plan (1., 2., 3., ...) of \
the steps needed to complete the task with the available tools. One step per line. Do not call \
any tool yet; reply with the plan only.";

/// Parses `1. do x` / `2) do y` / `- do z` lines into step descriptions.
pub(crate) fn parse_plan(text: &str) -> Vec<String> {
    let mut steps = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let rest = line.trim_start_matches(|c: char| c.is_ascii_digit());
        let numbered = rest.len() < line.len()
            && (rest.starts_with(". ") || rest.starts_with(") ") || rest.starts_with(": "));
        let step = if numbered {
            rest.get(2..).unwrap_or_default()
        } else if let Some(s) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            s
        } else {
            continue;
        };
        let step = step.trim().trim_matches('*').trim();
        if !step.is_empty() {
            steps.push(step.to_owned());
        }
    }
    steps
}

impl PlanExecutePlan {
    fn set_plan(&mut self, descriptions: Vec<String>, keep_done: bool) {
        let mut steps: Vec<PlanStepView> = if keep_done {
            self.steps
                .iter()
                .filter(|s| s.status == PlanStepStatus::Done)
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let first_new = steps.len();
        steps.extend(descriptions.into_iter().map(|description| PlanStepView {
            description,
            status: PlanStepStatus::Pending,
        }));
        steps.truncate(self.config.max_steps);
        self.steps = steps;
        self.current = first_new;
        self.revision += 1;
    }

    fn set_status(&mut self, status: PlanStepStatus) {
        if let Some(step) = self.steps.get_mut(self.current) {
            step.status = status;
        }
        self.revision += 1;
    }

    fn execute_current(&mut self) -> Step {
        match self.steps.get(self.current) {
            Some(step) => {
                let description = step.description.clone();
                let number = self.current + 1;
                let total = self.steps.len();
                self.state = State::Executing;
                self.step_failed = false;
                self.set_status(PlanStepStatus::InProgress);
                Step::CallModel(ModelCall::instructed(
                    format!(
                        "Carry out step {number} of {total} of the plan: {description}\nUse the tools as needed. When this step is done, reply with a short summary of its result and do not start the next step."
                    ),
                    ToolSelection::All,
                ))
            }
            None => {
                self.state = State::Summarizing;
                Step::CallModel(ModelCall::instructed(
                    "All steps of the plan are done. Write the final answer to the task, based on what the steps found.",
                    ToolSelection::None,
                ))
            }
        }
    }

    fn unexpected(&self, observation: &Observation<'_>) -> PlannerError {
        PlannerError::UnexpectedObservation {
            planner: "plan-and-execute".into(),
            observation: describe(observation),
            state: format!("{:?}", self.state),
        }
    }
}

impl Plan for PlanExecutePlan {
    fn next(&mut self, observation: Observation<'_>) -> Result<Step, PlannerError> {
        match (self.state, observation) {
            (State::Init, Observation::Start { .. }) => {
                self.state = State::Planning;
                Ok(Step::CallModel(ModelCall::instructed(
                    PLAN_PROMPT,
                    ToolSelection::None,
                )))
            }
            (State::Planning, Observation::ModelResponse(response)) => {
                let text = response.message.text_content();
                let mut steps = parse_plan(&text);
                if steps.is_empty() {
                    // The model did not number its plan: treat the whole answer as one step.
                    steps.push(text.trim().to_owned());
                }
                self.set_plan(steps, false);
                Ok(self.execute_current())
            }
            (State::Executing, Observation::ModelResponse(response)) => {
                if !response.message.tool_calls.is_empty() {
                    return Ok(Step::RunTools(response.message.tool_calls.clone()));
                }
                if self.step_failed && self.revisions_used < self.config.max_revisions {
                    self.revisions_used += 1;
                    self.set_status(PlanStepStatus::Failed);
                    self.state = State::Revising;
                    return Ok(Step::CallModel(ModelCall::instructed(
                        "A tool call in this step failed. Revise the plan: reply with a numbered list of the steps that remain, starting with how to recover from the failure. Do not call tools yet.",
                        ToolSelection::None,
                    )));
                }
                self.set_status(PlanStepStatus::Done);
                self.current += 1;
                Ok(self.execute_current())
            }
            (State::Executing, Observation::ToolResults(results)) => {
                if results.iter().any(|r| r.is_error) {
                    self.step_failed = true;
                }
                Ok(Step::CallModel(ModelCall::with_tools()))
            }
            (State::Revising, Observation::ModelResponse(response)) => {
                let steps = parse_plan(&response.message.text_content());
                if steps.is_empty() {
                    // No usable revision: move on with the rest of the old plan.
                    self.current += 1;
                } else {
                    self.set_plan(steps, true);
                }
                Ok(self.execute_current())
            }
            (State::Summarizing, Observation::ModelResponse(response)) => Ok(Step::Finish {
                answer: response.message.text_content(),
            }),
            (_, other) => Err(self.unexpected(&other)),
        }
    }

    fn view(&self) -> Option<PlanView> {
        (self.revision > 0).then(|| PlanView {
            revision: self.revision,
            steps: self.steps.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{ChatResponse, ToolCall, ToolResult};
    use serde_json::json;

    #[test]
    fn parses_numbered_and_bulleted_plans() {
        let text =
            "Plan:\n1. List pods\n2) Read logs of **failing** pods\n- Summarize\n\nnot a step";
        assert_eq!(
            parse_plan(text),
            ["List pods", "Read logs of **failing** pods", "Summarize"]
        );
        assert!(parse_plan("2024 was a year").is_empty());
    }

    fn text(t: &str) -> ChatResponse {
        ChatResponse::text(t)
    }

    #[test]
    fn plans_executes_revises_and_summarizes() {
        let mut plan = PlanAndExecutePlanner::new().start();
        assert!(plan.view().is_none());
        let s = plan
            .next(Observation::Start {
                task: "t",
                tools: &[],
            })
            .unwrap();
        assert!(matches!(
            s,
            Step::CallModel(ModelCall {
                tools: ToolSelection::None,
                ..
            })
        ));

        let s = plan
            .next(Observation::ModelResponse(&text(
                "1. get pods\n2. get logs",
            )))
            .unwrap();
        let Step::CallModel(call) = s else {
            panic!("{s:?}")
        };
        assert!(
            call.instruction
                .unwrap()
                .contains("step 1 of 2 of the plan: get pods")
        );
        let view = plan.view().unwrap();
        assert_eq!(view.steps[0].status, PlanStepStatus::InProgress);

        // step 1 calls a tool that fails
        let mut with_call = text("");
        with_call
            .message
            .tool_calls
            .push(ToolCall::new("c1", "get", json!({})));
        assert!(matches!(
            plan.next(Observation::ModelResponse(&with_call)).unwrap(),
            Step::RunTools(_)
        ));
        plan.next(Observation::ToolResults(&[ToolResult::error(
            "c1",
            "get",
            "forbidden",
        )]))
        .unwrap();
        // the model gives up on the step: the plan is revised
        let s = plan
            .next(Observation::ModelResponse(&text("could not list pods")))
            .unwrap();
        let Step::CallModel(call) = s else { panic!() };
        assert!(call.instruction.unwrap().contains("Revise the plan"));
        assert_eq!(plan.view().unwrap().steps[0].status, PlanStepStatus::Failed);

        let s = plan
            .next(Observation::ModelResponse(&text(
                "1. get pods in kube-system\n2. get logs",
            )))
            .unwrap();
        let Step::CallModel(call) = s else { panic!() };
        assert!(
            call.instruction
                .unwrap()
                .contains("step 1 of 2 of the plan: get pods in kube-system")
        );

        plan.next(Observation::ModelResponse(&text("found 3 pods")))
            .unwrap();
        let s = plan
            .next(Observation::ModelResponse(&text("logs read")))
            .unwrap();
        let Step::CallModel(call) = s else { panic!() };
        assert_eq!(call.tools, ToolSelection::None);
        assert!(
            plan.view()
                .unwrap()
                .steps
                .iter()
                .all(|s| s.status == PlanStepStatus::Done)
        );
        assert_eq!(
            plan.next(Observation::ModelResponse(&text("final")))
                .unwrap(),
            Step::Finish {
                answer: "final".into()
            }
        );
    }

    #[test]
    fn unnumbered_plan_is_one_step_and_wrong_observation_is_an_error() {
        let mut plan = PlanAndExecutePlanner::new().start();
        plan.next(Observation::Start {
            task: "t",
            tools: &[],
        })
        .unwrap();
        plan.next(Observation::ModelResponse(&text("just look around")))
            .unwrap();
        assert_eq!(plan.view().unwrap().steps.len(), 1);
        let mut fresh = PlanAndExecutePlanner::new().start();
        assert!(fresh.next(Observation::ToolResults(&[])).is_err());
    }
}
