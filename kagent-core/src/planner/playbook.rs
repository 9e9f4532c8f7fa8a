use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::{
    Observation, Plan, PlanStepStatus, PlanStepView, PlanView, Planner, PlannerError, Step,
    describe,
};
use crate::message::{ToolCall, ToolResult};

/// The outcome of one playbook step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepResult {
    /// The step name.
    pub step: String,
    /// The results of its calls, in call order.
    pub results: Vec<ToolResult>,
}

/// The results of the steps run so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlaybookResults {
    /// Step results in order.
    pub steps: Vec<StepResult>,
}

impl PlaybookResults {
    /// Results of the named step.
    pub fn step(&self, name: &str) -> Option<&StepResult> {
        self.steps.iter().find(|s| s.step == name)
    }
}

type DynamicCalls = Arc<dyn Fn(&PlaybookResults) -> Vec<(String, Value)> + Send + Sync>;
type Render = Arc<dyn Fn(&PlaybookResults) -> String + Send + Sync>;

#[derive(Clone)]
enum Calls {
    Fixed(Vec<(String, Value)>),
    Dynamic {
        tools: Vec<String>,
        make: DynamicCalls,
    },
}

/// One step of a playbook: fixed calls, or calls computed from earlier results (for example
/// "read the logs of every pod the diagnosis found crash-looping").
#[derive(Clone)]
pub struct PlaybookStep {
    name: String,
    calls: Calls,
}

impl fmt::Debug for PlaybookStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let calls = match &self.calls {
            Calls::Fixed(c) => format!("{} fixed call(s)", c.len()),
            Calls::Dynamic { tools, .. } => format!("dynamic calls of {tools:?}"),
        };
        f.debug_struct("PlaybookStep")
            .field("name", &self.name)
            .field("calls", &calls)
            .finish()
    }
}

impl PlaybookStep {
    /// A step with one fixed call.
    pub fn call(name: impl Into<String>, tool: impl Into<String>, arguments: Value) -> Self {
        PlaybookStep {
            name: name.into(),
            calls: Calls::Fixed(vec![(tool.into(), arguments)]),
        }
    }

    /// A step with several fixed calls (run in parallel when they are read-only).
    pub fn calls(name: impl Into<String>, calls: Vec<(String, Value)>) -> Self {
        PlaybookStep {
            name: name.into(),
            calls: Calls::Fixed(calls),
        }
    }

    /// A step whose calls are computed from earlier results. `tools` names every tool it may
    /// call, so the agent can check them when it is built. A step that computes no calls is
    /// skipped.
    pub fn dynamic<I, S>(
        name: impl Into<String>,
        tools: I,
        make: impl Fn(&PlaybookResults) -> Vec<(String, Value)> + Send + Sync + 'static,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PlaybookStep {
            name: name.into(),
            calls: Calls::Dynamic {
                tools: tools.into_iter().map(Into::into).collect(),
                make: Arc::new(make),
            },
        }
    }
}

/// A deterministic planner: a fixed sequence of tool calls and an answer rendered from their
/// results. It never calls a model, so it runs offline and costs nothing; tool calls still go
/// through the policy, approvals and the audit like any other.
///
/// ```
/// use kagent_core::planner::{PlaybookPlanner, PlaybookStep};
/// use serde_json::json;
///
/// let playbook = PlaybookPlanner::new("pod-triage")
///     .step(PlaybookStep::call("pods", "k8s_get_resources", json!({"resource_type": "pods"})))
///     .render(|results| format!("{} steps ran", results.steps.len()));
/// ```
#[derive(Clone)]
pub struct PlaybookPlanner {
    name: String,
    steps: Vec<PlaybookStep>,
    render: Render,
}

impl fmt::Debug for PlaybookPlanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlaybookPlanner")
            .field("name", &self.name)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

impl PlaybookPlanner {
    /// An empty playbook whose answer lists every step's output.
    pub fn new(name: impl Into<String>) -> Self {
        PlaybookPlanner {
            name: name.into(),
            steps: Vec::new(),
            render: Arc::new(default_render),
        }
    }

    /// Appends a step.
    pub fn step(mut self, step: PlaybookStep) -> Self {
        self.steps.push(step);
        self
    }

    /// Sets how the answer is rendered from the results.
    pub fn render(
        mut self,
        render: impl Fn(&PlaybookResults) -> String + Send + Sync + 'static,
    ) -> Self {
        self.render = Arc::new(render);
        self
    }
}

fn default_render(results: &PlaybookResults) -> String {
    let mut out = String::new();
    for step in &results.steps {
        out.push_str(&format!("## {}\n", step.step));
        for r in &step.results {
            if r.is_error {
                out.push_str(&format!("{} failed: {}\n", r.name, r.text()));
            } else {
                out.push_str(&r.text());
                out.push('\n');
            }
        }
        out.push('\n');
    }
    out
}

impl Planner for PlaybookPlanner {
    fn name(&self) -> &str {
        &self.name
    }

    fn start(&self) -> Box<dyn Plan> {
        Box::new(PlaybookPlan {
            playbook: self.clone(),
            next_step: 0,
            running: None,
            results: PlaybookResults::default(),
            status: vec![PlanStepStatus::Pending; self.steps.len()],
            revision: 0,
        })
    }

    fn needs_model(&self) -> bool {
        false
    }

    fn required_tools(&self) -> Vec<String> {
        let mut tools = Vec::new();
        for step in &self.steps {
            match &step.calls {
                Calls::Fixed(calls) => tools.extend(calls.iter().map(|(t, _)| t.clone())),
                Calls::Dynamic { tools: t, .. } => tools.extend(t.iter().cloned()),
            }
        }
        tools.sort();
        tools.dedup();
        tools
    }
}

struct PlaybookPlan {
    playbook: PlaybookPlanner,
    next_step: usize,
    running: Option<usize>,
    results: PlaybookResults,
    status: Vec<PlanStepStatus>,
    revision: u32,
}

impl PlaybookPlan {
    fn set_status(&mut self, index: usize, status: PlanStepStatus) {
        if let Some(s) = self.status.get_mut(index) {
            *s = status;
            self.revision += 1;
        }
    }

    fn advance(&mut self) -> Step {
        while let Some(step) = self.playbook.steps.get(self.next_step).cloned() {
            let index = self.next_step;
            self.next_step += 1;
            let calls = match &step.calls {
                Calls::Fixed(c) => c.clone(),
                Calls::Dynamic { make, .. } => make(&self.results),
            };
            if calls.is_empty() {
                self.set_status(index, PlanStepStatus::Done);
                self.results.steps.push(StepResult {
                    step: step.name.clone(),
                    results: Vec::new(),
                });
                continue;
            }
            let calls = calls
                .into_iter()
                .enumerate()
                .map(|(i, (tool, args))| {
                    ToolCall::new(
                        format!("{}-{}-{}", self.playbook.name, index + 1, i + 1),
                        tool,
                        args,
                    )
                })
                .collect();
            self.running = Some(index);
            self.set_status(index, PlanStepStatus::InProgress);
            return Step::RunTools(calls);
        }
        Step::Finish {
            answer: (self.playbook.render)(&self.results),
        }
    }
}

impl Plan for PlaybookPlan {
    fn next(&mut self, observation: Observation<'_>) -> Result<Step, PlannerError> {
        match (self.running, observation) {
            (None, Observation::Start { .. }) if self.next_step == 0 => Ok(self.advance()),
            (Some(index), Observation::ToolResults(results)) => {
                let failed = results.iter().any(|r| r.is_error);
                self.set_status(
                    index,
                    if failed {
                        PlanStepStatus::Failed
                    } else {
                        PlanStepStatus::Done
                    },
                );
                let name = self
                    .playbook
                    .steps
                    .get(index)
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                self.results.steps.push(StepResult {
                    step: name,
                    results: results.to_vec(),
                });
                self.running = None;
                Ok(self.advance())
            }
            (_, other) => Err(PlannerError::UnexpectedObservation {
                planner: self.playbook.name.clone(),
                observation: describe(&other),
                state: format!("step {}", self.next_step),
            }),
        }
    }

    fn view(&self) -> Option<PlanView> {
        Some(PlanView {
            revision: self.revision,
            steps: self
                .playbook
                .steps
                .iter()
                .zip(&self.status)
                .map(|(s, st)| PlanStepView {
                    description: s.name.clone(),
                    status: *st,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn runs_fixed_and_dynamic_steps_then_renders() {
        let playbook = PlaybookPlanner::new("pb")
            .step(PlaybookStep::call("list", "list_pods", json!({"ns": "a"})))
            .step(PlaybookStep::dynamic("logs", ["get_logs"], |r| {
                let listed = r
                    .step("list")
                    .map(|s| s.results[0].text())
                    .unwrap_or_default();
                listed
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(|p| ("get_logs".to_owned(), json!({"pod": p})))
                    .collect()
            }))
            .step(PlaybookStep::dynamic("nothing", ["x"], |_| Vec::new()))
            .render(|r| {
                r.steps
                    .iter()
                    .map(|s| format!("{}:{}", s.step, s.results.len()))
                    .collect::<Vec<_>>()
                    .join(" ")
            });
        assert!(!playbook.needs_model());
        assert_eq!(playbook.required_tools(), ["get_logs", "list_pods", "x"]);

        let mut plan = playbook.start();
        let Step::RunTools(calls) = plan
            .next(Observation::Start {
                task: "",
                tools: &[],
            })
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(calls[0].name, "list_pods");
        assert_eq!(calls[0].id, "pb-1-1");
        let Step::RunTools(calls) = plan
            .next(Observation::ToolResults(&[ToolResult::ok(
                "pb-1-1",
                "list_pods",
                "web,db",
            )]))
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[1].arguments.as_json().unwrap()["pod"], "db");
        let results = vec![
            ToolResult::ok(&calls[0].id, "get_logs", "l1"),
            ToolResult::error(&calls[1].id, "get_logs", "gone"),
        ];
        let step = plan.next(Observation::ToolResults(&results)).unwrap();
        assert_eq!(
            step,
            Step::Finish {
                answer: "list:1 logs:2 nothing:0".into()
            }
        );
        let view = plan.view().unwrap();
        assert_eq!(
            view.steps.iter().map(|s| s.status).collect::<Vec<_>>(),
            [
                PlanStepStatus::Done,
                PlanStepStatus::Failed,
                PlanStepStatus::Done
            ]
        );
    }

    #[test]
    fn a_model_response_is_unexpected() {
        let mut plan = PlaybookPlanner::new("pb").start();
        let resp = crate::message::ChatResponse::text("x");
        assert!(plan.next(Observation::ModelResponse(&resp)).is_err());
    }
}
