//! Typed events of an agent run, and the [`EventSink`] the engine sends them to.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::message::{ToolCall, Usage};
use crate::planner::PlanView;
use crate::policy::ApprovalDecision;
use crate::tool::ToolEffect;

/// Something that happened during a run. Events arrive in order; every run ends with exactly one
/// of [`AgentEvent::Finished`], [`AgentEvent::InputRequired`] or [`AgentEvent::Failed`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AgentEvent {
    /// The run began.
    RunStarted {
        /// Run id.
        run_id: String,
        /// Session id.
        session_id: String,
        /// Agent name.
        agent: String,
    },
    /// The engine is about to call the model.
    ModelRequest {
        /// Step number, from 1.
        step: u32,
        /// Messages in the request.
        messages: usize,
        /// Tools offered.
        tools: usize,
    },
    /// A piece of model text.
    TextDelta {
        /// The text.
        text: String,
    },
    /// The planner's plan changed.
    PlanUpdated {
        /// The plan now.
        plan: PlanView,
    },
    /// The model (or a playbook) proposed a tool call.
    ToolCallProposed {
        /// The call.
        call: ToolCall,
    },
    /// The policy denied a call outright.
    ToolCallDenied {
        /// Call id.
        call_id: String,
        /// Tool name.
        tool: String,
        /// Why.
        reason: String,
    },
    /// A call needs a human's approval.
    ApprovalRequested {
        /// The call.
        call: ToolCall,
        /// The tool's effect.
        effect: ToolEffect,
        /// Why approval is needed.
        reason: String,
    },
    /// The approver answered.
    ApprovalDecided {
        /// Call id.
        call_id: String,
        /// The decision.
        decision: ApprovalDecision,
    },
    /// A tool started running.
    ToolStarted {
        /// Call id.
        call_id: String,
        /// Tool name.
        tool: String,
    },
    /// A tool finished (or was not run; then `duration` is zero and `is_error` true).
    ToolFinished {
        /// Call id.
        call_id: String,
        /// Tool name.
        tool: String,
        /// How long it ran.
        #[serde(with = "duration_ms")]
        duration: Duration,
        /// Whether the result reports an error.
        is_error: bool,
        /// Whether the output was cut before it reached the model.
        truncated: bool,
    },
    /// The engine retries a failed model call.
    Retrying {
        /// Attempt about to be made, from 2.
        attempt: u32,
        /// How long it waits first.
        #[serde(with = "duration_ms")]
        delay: Duration,
        /// The error that caused the retry.
        error: String,
    },
    /// Token usage of one model call, and the run's total so far. [`Usage::estimated`] says
    /// the counts were estimated locally because the provider reported none (the total is
    /// estimated when any call's usage was).
    Usage {
        /// This call.
        usage: Usage,
        /// The run so far.
        total: Usage,
    },
    /// The run produced its answer.
    Finished {
        /// The answer.
        answer: String,
        /// Token usage of the run.
        usage: Usage,
    },
    /// The planner needs input from a human to go on; run again on the same session with the
    /// answer.
    InputRequired {
        /// The question.
        question: String,
    },
    /// The run failed.
    Failed {
        /// The error, rendered.
        error: String,
    },
}

mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// Where a run sends its events: a bounded channel (slow consumers slow the run down rather
/// than buffer without limit), or nowhere.
#[derive(Debug, Clone, Default)]
pub struct EventSink {
    tx: Option<mpsc::Sender<AgentEvent>>,
}

impl EventSink {
    /// A sink that drops every event.
    pub fn discard() -> Self {
        EventSink { tx: None }
    }

    /// A sink and the receiving end of its channel.
    pub fn channel(capacity: usize) -> (Self, mpsc::Receiver<AgentEvent>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (EventSink { tx: Some(tx) }, rx)
    }

    /// Sends an event. A receiver that went away is not an error: the run goes on.
    pub async fn emit(&self, event: AgentEvent) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(event).await;
        }
    }

    /// Whether anyone listens.
    pub fn is_active(&self) -> bool {
        self.tx.as_ref().is_some_and(|t| !t.is_closed())
    }
}
