//! [`Planner`]s decide the next step of a run. They are state machines without I/O: the engine
//! feeds them [`Observation`]s and executes the [`Step`]s they return, so a planner is tested by
//! feeding it observations by hand.

mod plan_execute;
mod playbook;
mod react;

pub use plan_execute::PlanAndExecutePlanner;
pub use playbook::{PlaybookPlanner, PlaybookResults, PlaybookStep, StepResult};
pub use react::ReactPlanner;

use serde::{Deserialize, Serialize};

use crate::message::{ChatResponse, ToolCall, ToolChoice, ToolResult};
use crate::tool::ToolSpec;

/// What the engine tells the planner.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Observation<'a> {
    /// The run begins.
    Start {
        /// The task.
        task: &'a str,
        /// The tools the agent has.
        tools: &'a [ToolSpec],
    },
    /// The model answered the last [`Step::CallModel`].
    ModelResponse(&'a ChatResponse),
    /// The calls of the last [`Step::RunTools`] finished (denied calls included, as errors).
    ToolResults(&'a [ToolResult]),
}

/// Which tools a model call offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolSelection {
    /// All of the agent's tools.
    All,
    /// None (the model must answer in text).
    None,
}

/// A model call the planner asks for. Built with [`ModelCall::with_tools`] or
/// [`ModelCall::instructed`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ModelCall {
    /// A user message appended to the conversation before the call (a planner's instruction).
    pub instruction: Option<String>,
    /// Tools offered.
    pub tools: ToolSelection,
    /// How the model may use them.
    pub tool_choice: ToolChoice,
}

impl ModelCall {
    /// A call offering all tools, no instruction.
    pub fn with_tools() -> Self {
        ModelCall {
            instruction: None,
            tools: ToolSelection::All,
            tool_choice: ToolChoice::Auto,
        }
    }

    /// A call with an instruction.
    pub fn instructed(instruction: impl Into<String>, tools: ToolSelection) -> Self {
        ModelCall {
            instruction: Some(instruction.into()),
            tools,
            tool_choice: match tools {
                ToolSelection::All => ToolChoice::Auto,
                ToolSelection::None => ToolChoice::None,
            },
        }
    }

    /// Sets how the model may use the tools.
    pub fn with_tool_choice(mut self, tool_choice: ToolChoice) -> Self {
        self.tool_choice = tool_choice;
        self
    }
}

/// What the engine should do next.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Step {
    /// Call the model.
    CallModel(ModelCall),
    /// Run these tool calls (subject to policy and approval).
    RunTools(Vec<ToolCall>),
    /// Stop and ask a human; the run ends with [`crate::RunOutcome::InputRequired`].
    AskHuman {
        /// The question.
        question: String,
    },
    /// The run is done.
    Finish {
        /// The answer.
        answer: String,
    },
}

/// Status of one plan step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStepStatus {
    /// Not started.
    Pending,
    /// Being worked on.
    InProgress,
    /// Done.
    Done,
    /// Failed (the plan may be revised).
    Failed,
}

/// One step of a visible plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStepView {
    /// What the step does.
    pub description: String,
    /// Where it stands.
    pub status: PlanStepStatus,
}

/// A plan as users see it. Built with [`PlanView::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlanView {
    /// Increases with every change.
    pub revision: u32,
    /// The steps.
    pub steps: Vec<PlanStepView>,
}

impl PlanView {
    /// Revision `revision` of a plan with these steps.
    pub fn new(revision: u32, steps: Vec<PlanStepView>) -> Self {
        PlanView { revision, steps }
    }
}

/// Errors of a planner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlannerError {
    /// The planner got an observation it cannot handle in its state (an engine bug).
    #[error("planner {planner} got {observation} in state {state}")]
    UnexpectedObservation {
        /// The planner.
        planner: String,
        /// What it got.
        observation: String,
        /// Its state.
        state: String,
    },
    /// The planner cannot go on.
    #[error("planner {planner} failed: {message}")]
    Failed {
        /// The planner.
        planner: String,
        /// Why.
        message: String,
    },
}

/// A factory of per-run plans.
pub trait Planner: Send + Sync {
    /// Planner name, for events and errors.
    fn name(&self) -> &str;
    /// A fresh state machine for one run.
    fn start(&self) -> Box<dyn Plan>;
    /// Whether this planner calls the model (a playbook does not).
    fn needs_model(&self) -> bool {
        true
    }
    /// Tool names the planner will call itself (checked against the toolset when the agent is
    /// built).
    fn required_tools(&self) -> Vec<String> {
        Vec::new()
    }
}

impl<P: Planner + ?Sized> Planner for std::sync::Arc<P> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn start(&self) -> Box<dyn Plan> {
        (**self).start()
    }
    fn needs_model(&self) -> bool {
        (**self).needs_model()
    }
    fn required_tools(&self) -> Vec<String> {
        (**self).required_tools()
    }
}

/// The state machine of one run.
pub trait Plan: Send {
    /// The next step given what just happened.
    fn next(&mut self, observation: Observation<'_>) -> Result<Step, PlannerError>;
    /// The visible plan, if the planner keeps one.
    fn view(&self) -> Option<PlanView> {
        None
    }
}

pub(crate) fn describe(observation: &Observation<'_>) -> String {
    match observation {
        Observation::Start { .. } => "start".into(),
        Observation::ModelResponse(_) => "a model response".into(),
        Observation::ToolResults(r) => format!("{} tool results", r.len()),
    }
}
