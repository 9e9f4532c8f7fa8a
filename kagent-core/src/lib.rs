#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod agent;
pub mod audit;
mod engine;
pub mod event;
pub mod framing;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
pub mod message;
pub mod planner;
pub mod policy;
pub mod provider;
pub mod redact;
pub mod session;
pub mod source;
pub mod stream;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;
pub mod tool;
pub mod toolset;
pub mod truncate;

pub use agent::{
    Agent, AgentCard, AgentError, AgentTool, AgentToolArgs, BuildError, LimitKind, Limits,
    LlmAgent, LlmAgentBuilder, RunHandle, RunOutcome, RunOutput, RunRequest, Sampling,
    agent_as_tool, spawn_run,
};
pub use audit::{
    AuditDecision, AuditError, AuditOutcome, AuditRecord, AuditSink, JsonlAuditSink,
    MemoryAuditSink,
};
pub use event::{AgentEvent, EventSink};
pub use message::{
    AssistantMessage, ChatRequest, ChatResponse, ContentPart, FinishReason, Message, Reasoning,
    Role, ToolArguments, ToolCall, ToolChoice, ToolContent, ToolResult, Usage,
};
pub use planner::{
    ModelCall, Observation, Plan, PlanAndExecutePlanner, PlanStepStatus, PlanStepView, PlanView,
    Planner, PlannerError, PlaybookPlanner, PlaybookResults, PlaybookStep, ReactPlanner, Step,
    StepResult, ToolSelection,
};
pub use policy::{
    ApprovalDecision, ApprovalRequest, Approver, ChannelApprover, PendingApproval, PolicyDecision,
    Rule, StandardPolicy, ToolPolicy,
};
pub use provider::{
    ApiErrorDetails, ApiErrorKind, Capabilities, ModelInfo, ModelProvider, ModelSummary,
    ProviderError, TimeoutPhase,
};
pub use redact::{SecretValues, StreamRedactor};
pub use session::{InMemorySessionStore, Session, SessionError, SessionStore};
pub use source::{Renamed, ToolSource, ToolSourceExt};
pub use stream::{ChatEvent, ChatStream, StreamAssembler, collect_stream};
pub use tls::TlsOptions;
pub use tool::{
    IntoTool, MAX_TOOL_NAME_LEN, Tool, ToolContext, ToolEffect, ToolError, ToolOutput, ToolSpec,
    ToolSpecError, TypedTool, TypedToolAdapter, schema_for, validate_tool_name,
};
pub use toolset::{Toolset, ToolsetError};

// Re-exported so that tool authors use the same versions as the SDK.
pub use async_trait::async_trait;
pub use schemars;
pub use serde_json;
pub use tokio_util::sync::CancellationToken;
