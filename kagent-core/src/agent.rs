//! The [`Agent`] contract, the standard [`LlmAgent`], and agents as tools.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::audit::{AuditError, AuditSink};
use crate::event::{AgentEvent, EventSink};
use crate::message::Usage;
use crate::planner::{Planner, PlannerError, ReactPlanner};
use crate::policy::{Approver, StandardPolicy, ToolPolicy};
use crate::provider::{ModelProvider, ProviderError};
use crate::redact::SecretValues;
use crate::session::{InMemorySessionStore, SessionError, SessionStore};
use crate::source::{AgentTools, ToolSource};
use crate::tool::{
    IntoTool, Tool, ToolContext, ToolEffect, ToolError, ToolOutput, ToolSpecError, TypedTool,
    TypedToolAdapter,
};
use crate::toolset::{Toolset, ToolsetError};

/// Who an agent is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgentCard {
    /// Name (also its tool name when used as a tool).
    pub name: String,
    /// What it does.
    pub description: String,
    /// The strongest effect any of its tools has (read-only if it has none; destructive when
    /// a tool source can change while the agent runs).
    pub max_effect: ToolEffect,
}

impl AgentCard {
    /// A card.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        max_effect: ToolEffect,
    ) -> Self {
        AgentCard {
            name: name.into(),
            description: description.into(),
            max_effect,
        }
    }
}

/// A task for an agent.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunRequest {
    /// The task, in natural language.
    pub task: String,
    /// Continue this session; a new one is created when absent or unknown.
    pub session_id: Option<String>,
    /// Cancels the run.
    pub cancellation: CancellationToken,
}

impl RunRequest {
    /// A task in a new session.
    pub fn new(task: impl Into<String>) -> Self {
        RunRequest {
            task: task.into(),
            session_id: None,
            cancellation: CancellationToken::new(),
        }
    }

    /// Continues a session.
    pub fn in_session(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// Uses this cancellation token.
    pub fn with_cancellation(mut self, token: CancellationToken) -> Self {
        self.cancellation = token;
        self
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunOutcome {
    /// The agent answered.
    Finished,
    /// The agent needs a human's answer; run again in the same session with it.
    InputRequired {
        /// The question.
        question: String,
    },
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunOutput {
    /// Run id.
    pub run_id: String,
    /// Session id (pass it back to continue the conversation).
    pub session_id: String,
    /// The answer (or the question, when input is required).
    pub answer: String,
    /// How the run ended.
    pub outcome: RunOutcome,
    /// Token usage.
    pub usage: Usage,
    /// Steps executed (model calls and tool batches).
    pub steps: u32,
    /// Tool calls made (including denied ones).
    pub tool_calls: u32,
}

impl RunOutput {
    /// An output with no usage, steps or tool calls recorded (set them with the `with_*`
    /// setters); for [`Agent`] implementations outside this crate.
    pub fn new(
        run_id: impl Into<String>,
        session_id: impl Into<String>,
        answer: impl Into<String>,
        outcome: RunOutcome,
    ) -> Self {
        RunOutput {
            run_id: run_id.into(),
            session_id: session_id.into(),
            answer: answer.into(),
            outcome,
            usage: Usage::default(),
            steps: 0,
            tool_calls: 0,
        }
    }

    /// Sets the token usage.
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }

    /// Sets the number of steps.
    pub fn with_steps(mut self, steps: u32) -> Self {
        self.steps = steps;
        self
    }

    /// Sets the number of tool calls.
    pub fn with_tool_calls(mut self, tool_calls: u32) -> Self {
        self.tool_calls = tool_calls;
        self
    }
}

/// Which limit stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LimitKind {
    /// Steps (model calls plus tool batches).
    Steps,
    /// Tool calls.
    ToolCalls,
    /// Tokens (input plus output, over all model calls).
    Tokens,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// A budget ran out.
    #[error("run stopped: {limit:?} limit of {max} exceeded ({used} used)")]
    LimitExceeded {
        /// Which limit.
        limit: LimitKind,
        /// The limit.
        max: u64,
        /// What the run would have used.
        used: u64,
    },
    /// The run deadline passed.
    #[error("run timed out after {after:?}")]
    DeadlineExceeded {
        /// The deadline.
        after: Duration,
    },
    /// The run was cancelled.
    #[error("run cancelled")]
    Cancelled,
    /// The model call failed (after retries, when the error was transient).
    #[error("model call failed after {attempts} attempt(s): {source}")]
    Provider {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        #[source]
        source: ProviderError,
    },
    /// The planner asked for a model call but the agent has no provider.
    #[error("planner {planner} needs a model but agent {agent} has no provider")]
    NoProvider {
        /// The agent.
        agent: String,
        /// The planner.
        planner: String,
    },
    /// The planner failed.
    #[error(transparent)]
    Planner(#[from] PlannerError),
    /// The session store failed.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The audit sink failed; the run stops rather than act unaudited.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The run task died.
    #[error("run task failed: {message}")]
    Join {
        /// What happened.
        message: String,
    },
}

/// Budgets and timeouts of a run.
///
/// Start from [`Limits::default`] and change what you need with the `with_*` setters:
///
/// ```
/// use std::time::Duration;
/// let limits = kagent_core::Limits::default()
///     .with_max_steps(20)
///     .with_tool_timeout(Duration::from_secs(30));
/// assert_eq!(limits.max_steps, 20);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Limits {
    /// Most steps (model calls plus tool batches).
    pub max_steps: u32,
    /// Most tool calls.
    pub max_tool_calls: u32,
    /// Most tokens over all model calls.
    pub max_tokens: Option<u64>,
    /// Wall-clock deadline of the whole run.
    pub run_timeout: Option<Duration>,
    /// Timeout of one tool call.
    pub tool_timeout: Duration,
    /// Most read-only tool calls run at once.
    pub max_parallel_tools: usize,
    /// Tool output longer than this (bytes of text) is cut in the middle.
    pub max_tool_output_bytes: usize,
    /// Retries of transient model errors.
    pub model_retries: u32,
    /// First backoff delay.
    pub retry_initial_delay: Duration,
    /// Longest wait between retries, provider hints included.
    pub retry_max_delay: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 50,
            max_tool_calls: 100,
            max_tokens: None,
            run_timeout: Some(Duration::from_secs(600)),
            tool_timeout: Duration::from_secs(60),
            max_parallel_tools: 8,
            max_tool_output_bytes: 32 * 1024,
            model_retries: 3,
            retry_initial_delay: Duration::from_millis(500),
            retry_max_delay: Duration::from_secs(60),
        }
    }
}

impl Limits {
    /// Sets the most steps (model calls plus tool batches).
    pub fn with_max_steps(mut self, max_steps: u32) -> Self {
        self.max_steps = max_steps;
        self
    }

    /// Sets the most tool calls.
    pub fn with_max_tool_calls(mut self, max_tool_calls: u32) -> Self {
        self.max_tool_calls = max_tool_calls;
        self
    }

    /// Sets the most tokens over all model calls (`None`: no limit).
    pub fn with_max_tokens(mut self, max_tokens: Option<u64>) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// Sets the run's wall-clock deadline (`None`: no deadline).
    pub fn with_run_timeout(mut self, run_timeout: Option<Duration>) -> Self {
        self.run_timeout = run_timeout;
        self
    }

    /// Sets the timeout of one tool call.
    pub fn with_tool_timeout(mut self, tool_timeout: Duration) -> Self {
        self.tool_timeout = tool_timeout;
        self
    }

    /// Sets how many read-only tool calls run at once (at least 1).
    pub fn with_max_parallel_tools(mut self, max_parallel_tools: usize) -> Self {
        self.max_parallel_tools = max_parallel_tools;
        self
    }

    /// Sets the most bytes of tool output text the model reads (at least 256).
    pub fn with_max_tool_output_bytes(mut self, max_tool_output_bytes: usize) -> Self {
        self.max_tool_output_bytes = max_tool_output_bytes;
        self
    }

    /// Sets the retries of transient model errors.
    pub fn with_model_retries(mut self, model_retries: u32) -> Self {
        self.model_retries = model_retries;
        self
    }

    /// Sets the first backoff delay.
    pub fn with_retry_initial_delay(mut self, delay: Duration) -> Self {
        self.retry_initial_delay = delay;
        self
    }

    /// Sets the longest wait between retries.
    pub fn with_retry_max_delay(mut self, delay: Duration) -> Self {
        self.retry_max_delay = delay;
        self
    }
}

/// Sampling settings sent with every model call.
///
/// ```
/// let sampling = kagent_core::Sampling::new().with_temperature(0.2).with_max_tokens(1024);
/// assert_eq!(sampling.max_tokens, Some(1024));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Sampling {
    /// Output token limit per call.
    pub max_tokens: Option<u32>,
    /// Temperature.
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    pub top_p: Option<f32>,
}

impl Sampling {
    /// The provider's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the output token limit per call.
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Sets the temperature.
    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets nucleus sampling.
    pub fn with_top_p(mut self, top_p: f32) -> Self {
        self.top_p = Some(top_p);
        self
    }
}

/// Something that takes a task and produces an answer and a stream of events.
#[async_trait]
pub trait Agent: Send + Sync {
    /// Who it is.
    fn card(&self) -> &AgentCard;

    /// Runs a task to completion, sending events to `events`.
    async fn run(&self, request: RunRequest, events: EventSink) -> Result<RunOutput, AgentError>;
}

/// A run in the background: its events and its result.
#[derive(Debug)]
pub struct RunHandle {
    /// Events as they happen.
    pub events: mpsc::Receiver<AgentEvent>,
    task: JoinHandle<Result<RunOutput, AgentError>>,
    cancellation: CancellationToken,
}

impl RunHandle {
    /// Cancels the run.
    pub fn cancel(&self) {
        self.cancellation.cancel();
    }

    /// Waits for the result. Events not yet read are dropped.
    pub async fn result(self) -> Result<RunOutput, AgentError> {
        drop(self.events);
        self.task.await.map_err(|e| AgentError::Join {
            message: e.to_string(),
        })?
    }

    /// Waits for the result, passing every event to `on_event` first.
    pub async fn for_each_event(
        mut self,
        mut on_event: impl FnMut(AgentEvent),
    ) -> Result<RunOutput, AgentError> {
        while let Some(event) = self.events.recv().await {
            on_event(event);
        }
        self.result().await
    }
}

/// Spawns a run on the tokio runtime.
pub fn spawn_run(agent: Arc<dyn Agent>, request: RunRequest) -> RunHandle {
    let (sink, events) = EventSink::channel(256);
    let cancellation = request.cancellation.clone();
    let task = tokio::spawn(async move { agent.run(request, sink).await });
    RunHandle {
        events,
        task,
        cancellation,
    }
}

/// Errors building an agent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The name is not a valid tool name (agents can be tools).
    #[error(transparent)]
    Name(#[from] ToolSpecError),
    /// The planner needs a model and none was given.
    #[error("planner {planner} needs a model provider")]
    MissingProvider {
        /// The planner.
        planner: String,
    },
    /// The planner calls tools the toolset does not have.
    #[error("planner {planner} calls tools the agent does not have: {}", tools.join(", "))]
    MissingTools {
        /// The planner.
        planner: String,
        /// The missing tools.
        tools: Vec<String>,
    },
    /// A limit is zero where it must not be.
    #[error("invalid limit: {message}")]
    InvalidLimit {
        /// What is wrong.
        message: String,
    },
    /// Two tool sources offer the same tool name.
    #[error(
        "tool name {name:?} is offered by {first} and by {second}; add one of them with a prefix \
         (`.toolset(source.prefixed(\"mcp_\"))`) or give the tool an alias \
         (`.toolset(source.alias({name:?}, \"other_name\"))`)"
    )]
    ToolClash {
        /// The name.
        name: String,
        /// The source added first (its position and what it is).
        first: String,
        /// The source added later.
        second: String,
    },
    /// A tool source is misconfigured: an invalid tool, a prefix or alias that makes an invalid
    /// name, an alias of a tool the source does not have.
    #[error("{label}: {error}")]
    ToolSource {
        /// The source (its position and what it is).
        label: String,
        /// What is wrong.
        #[source]
        error: ToolsetError,
    },
}

/// The standard agent: a provider, a planner, tool sources, guardrails and a session store,
/// driven by the run engine.
///
/// ```no_run
/// # use std::sync::Arc;
/// # async fn demo(provider: Arc<dyn kagent_core::ModelProvider>, tools: kagent_core::Toolset)
/// # -> Result<(), Box<dyn std::error::Error>> {
/// use kagent_core::{Agent, EventSink, LlmAgent, RunRequest};
/// let agent = LlmAgent::builder("k8s-troubleshooter")
///     .system_prompt("You find the root cause of failing workloads.")
///     .provider(provider)
///     .toolset(tools)
///     .build()?;
/// let out = agent.run(RunRequest::new("Why is web crash-looping?"), EventSink::discard()).await?;
/// println!("{}", out.answer);
/// # Ok(()) }
/// ```
pub struct LlmAgent {
    pub(crate) card: AgentCard,
    pub(crate) system_prompt: Option<String>,
    pub(crate) provider: Option<Arc<dyn ModelProvider>>,
    pub(crate) planner: Arc<dyn Planner>,
    pub(crate) tools: AgentTools,
    pub(crate) policy: Arc<dyn ToolPolicy>,
    pub(crate) approver: Option<Arc<dyn Approver>>,
    pub(crate) audit: Option<Arc<dyn AuditSink>>,
    pub(crate) sessions: Arc<dyn SessionStore>,
    pub(crate) limits: Limits,
    pub(crate) sampling: Sampling,
    pub(crate) secrets: SecretValues,
}

impl std::fmt::Debug for LlmAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmAgent")
            .field("card", &self.card)
            .field("planner", &self.planner.name())
            .field(
                "provider",
                &self.provider.as_ref().map(|p| p.info().clone()),
            )
            .field("tools", &self.tools)
            .field("limits", &self.limits)
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

impl LlmAgent {
    /// Starts building an agent.
    pub fn builder(name: impl Into<String>) -> LlmAgentBuilder {
        LlmAgentBuilder {
            name: name.into(),
            description: String::new(),
            system_prompt: None,
            provider: None,
            planner: Arc::new(ReactPlanner),
            sources: Vec::new(),
            policy: Arc::new(StandardPolicy::default()),
            approver: None,
            audit: None,
            sessions: Arc::new(InMemorySessionStore::new()),
            limits: Limits::default(),
            sampling: Sampling::default(),
            secrets: SecretValues::new(),
        }
    }

    /// The agent's tools as known now, all sources merged (without waiting for a live source
    /// to refresh; see [`LlmAgent::current_tools`]).
    pub fn toolset(&self) -> Toolset {
        self.tools.snapshot()
    }

    /// The agent's tools as its next model turn would see them: live sources that know their
    /// list changed are refreshed first.
    pub async fn current_tools(&self) -> Toolset {
        self.tools.current().await
    }

    /// The agent's limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The session store.
    pub fn sessions(&self) -> &Arc<dyn SessionStore> {
        &self.sessions
    }

    /// The secret values this agent redacts (shared: a value registered later is redacted
    /// from then on).
    pub fn secret_values(&self) -> &SecretValues {
        &self.secrets
    }
}

/// Builder of [`LlmAgent`].
///
/// Every component setter takes the implementation by value or already shared: `impl Trait`,
/// `Arc<T>` and `Arc<dyn Trait>` are all accepted (each trait is implemented for `Arc<T>`), and
/// an `Arc<dyn Trait>` is kept as it is, not wrapped again.
///
/// Tools are added, never replaced: `.tool(..)` adds one tool, `.toolset(..)` adds a
/// [`ToolSource`] (a [`Toolset`], an MCP server's live tools, a renamed source), both
/// repeatable. A name two sources share is a [`BuildError::ToolClash`] naming both; rename one
/// with [`ToolSourceExt::prefixed`](crate::ToolSourceExt::prefixed) or
/// [`ToolSourceExt::alias`](crate::ToolSourceExt::alias).
pub struct LlmAgentBuilder {
    name: String,
    description: String,
    system_prompt: Option<String>,
    provider: Option<Arc<dyn ModelProvider>>,
    planner: Arc<dyn Planner>,
    sources: Vec<Arc<dyn ToolSource>>,
    policy: Arc<dyn ToolPolicy>,
    approver: Option<Arc<dyn Approver>>,
    audit: Option<Arc<dyn AuditSink>>,
    sessions: Arc<dyn SessionStore>,
    limits: Limits,
    sampling: Sampling,
    secrets: SecretValues,
}

impl std::fmt::Debug for LlmAgentBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmAgentBuilder")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl LlmAgentBuilder {
    /// What the agent does (shown when it is used as a tool).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }
    /// The system prompt.
    pub fn system_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.system_prompt = Some(prompt.into());
        self
    }
    /// The model provider.
    pub fn provider(mut self, provider: impl ModelProvider + 'static) -> Self {
        self.provider = share::<dyn ModelProvider, _>(provider, |p| Arc::new(p));
        self
    }
    /// The planner (default: ReAct).
    pub fn planner(mut self, planner: impl Planner + 'static) -> Self {
        if let Some(planner) = share::<dyn Planner, _>(planner, |p| Arc::new(p)) {
            self.planner = planner;
        }
        self
    }
    /// Adds one tool.
    pub fn tool(mut self, tool: impl Tool + 'static) -> Self {
        let Some(tool) = share::<dyn Tool, _>(tool, |t| Arc::new(t)) else {
            return self;
        };
        let mut set = Toolset::new();
        let added = set.add_arc(tool);
        self.sources.push(match added {
            Ok(()) => Arc::new(set),
            Err(error) => Arc::new(Invalid { error }),
        });
        self
    }
    /// Adds a tool source: a [`Toolset`], a live source such as an MCP server's tools, or a
    /// renamed one (`source.prefixed("mcp_")`).
    pub fn toolset(mut self, source: impl ToolSource + 'static) -> Self {
        self.sources
            .extend(share::<dyn ToolSource, _>(source, |s| Arc::new(s)));
        self
    }
    /// The tool policy (default: [`StandardPolicy::default`], which asks before mutating).
    pub fn policy(mut self, policy: impl ToolPolicy + 'static) -> Self {
        if let Some(policy) = share::<dyn ToolPolicy, _>(policy, |p| Arc::new(p)) {
            self.policy = policy;
        }
        self
    }
    /// The approver. Without one, calls that need approval are rejected.
    pub fn approver(mut self, approver: impl Approver + 'static) -> Self {
        self.approver = share::<dyn Approver, _>(approver, |a| Arc::new(a));
        self
    }
    /// The audit sink.
    pub fn audit(mut self, audit: impl AuditSink + 'static) -> Self {
        self.audit = share::<dyn AuditSink, _>(audit, |a| Arc::new(a));
        self
    }
    /// The session store (default: in memory).
    pub fn sessions(mut self, sessions: impl SessionStore + 'static) -> Self {
        if let Some(sessions) = share::<dyn SessionStore, _>(sessions, |s| Arc::new(s)) {
            self.sessions = sessions;
        }
        self
    }
    /// Budgets and timeouts.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
    /// Sampling settings.
    pub fn sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }
    /// Secret values the agent must never emit (API keys, header values, anything read from a
    /// Secret). The engine replaces each, whatever its shape, with
    /// [`REDACTED`](crate::audit::REDACTED) in tool output (before the model, the events and
    /// the audit see it), tool-call arguments in events, the audit and approval requests,
    /// error messages (events, logs and the returned [`AgentError::Provider`]), and model text
    /// (streamed deltas, the final answer). The set is shared, not copied: values registered
    /// on it later are redacted too. Calling this again replaces the set.
    pub fn secret_values(mut self, secrets: SecretValues) -> Self {
        self.secrets = secrets;
        self
    }

    /// Checks the configuration and builds the agent.
    pub fn build(self) -> Result<LlmAgent, BuildError> {
        crate::tool::validate_tool_name(&self.name)?;
        if self.planner.needs_model() && self.provider.is_none() {
            return Err(BuildError::MissingProvider {
                planner: self.planner.name().to_owned(),
            });
        }
        let tools = AgentTools::build(self.sources).map_err(|e| match e {
            Ok(clash) => BuildError::ToolClash {
                name: clash.name,
                first: clash.first,
                second: clash.second,
            },
            Err((label, error)) => BuildError::ToolSource { label, error },
        })?;
        let known = tools.snapshot();
        let missing: Vec<String> = self
            .planner
            .required_tools()
            .into_iter()
            .filter(|t| !known.contains(t))
            .collect();
        if !missing.is_empty() {
            return Err(BuildError::MissingTools {
                planner: self.planner.name().to_owned(),
                tools: missing,
            });
        }
        if self.limits.max_parallel_tools == 0 {
            return Err(BuildError::InvalidLimit {
                message: "max_parallel_tools must be at least 1".into(),
            });
        }
        if self.limits.max_tool_output_bytes < 256 {
            return Err(BuildError::InvalidLimit {
                message: "max_tool_output_bytes must be at least 256".into(),
            });
        }
        Ok(LlmAgent {
            card: AgentCard {
                name: self.name,
                description: self.description,
                max_effect: tools.max_effect(),
            },
            system_prompt: self.system_prompt,
            provider: self.provider,
            planner: self.planner,
            tools,
            policy: self.policy,
            approver: self.approver,
            audit: self.audit,
            sessions: self.sessions,
            limits: self.limits,
            sampling: self.sampling,
            secrets: self.secrets,
        })
    }
}

#[async_trait]
impl Agent for LlmAgent {
    fn card(&self) -> &AgentCard {
        &self.card
    }

    async fn run(&self, request: RunRequest, events: EventSink) -> Result<RunOutput, AgentError> {
        crate::engine::run(self, request, events).await
    }
}

/// Arguments of an agent used as a tool.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AgentToolArgs {
    /// The task for the agent, in natural language.
    pub task: String,
}

/// An agent wrapped as a tool of another agent. Its effect is the strongest effect of the
/// wrapped agent's tools; the wrapped agent's own policy still guards each of its calls.
pub struct AgentTool {
    agent: Arc<dyn Agent>,
}

impl std::fmt::Debug for AgentTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentTool")
            .field("agent", self.agent.card())
            .finish()
    }
}

impl AgentTool {
    /// Wraps an agent; the tool's name is the agent's name.
    pub fn new(agent: Arc<dyn Agent>) -> Result<TypedToolAdapter<AgentTool>, ToolSpecError> {
        AgentTool { agent }.into_tool()
    }
}

#[async_trait]
impl TypedTool for AgentTool {
    type Args = AgentToolArgs;

    fn name(&self) -> &str {
        &self.agent.card().name
    }
    fn description(&self) -> &str {
        &self.agent.card().description
    }
    fn effect(&self) -> ToolEffect {
        self.agent.card().max_effect
    }
    async fn run(&self, args: AgentToolArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let request = RunRequest::new(args.task).with_cancellation(ctx.cancellation.child_token());
        match self.agent.run(request, EventSink::discard()).await {
            Ok(out) => match out.outcome {
                RunOutcome::Finished => Ok(ToolOutput::text(out.answer)),
                RunOutcome::InputRequired { question } => Err(ToolError::failed(format!(
                    "agent {} needs more input: {question}",
                    self.agent.card().name
                ))),
            },
            Err(AgentError::Cancelled) => Err(ToolError::Cancelled),
            Err(e) => Err(ToolError::failed(format!(
                "agent {} failed: {e}",
                self.agent.card().name
            ))),
        }
    }
}

/// The shared form of a builder argument: an `Arc<T>` passed in is kept as it is, anything
/// else is put in a new `Arc` by `wrap` (which unsizes it). Always `Some`; the `Option` only
/// spares an unreachable branch.
fn share<T: ?Sized + 'static, V: 'static>(
    value: V,
    wrap: impl FnOnce(V) -> Arc<T>,
) -> Option<Arc<T>> {
    let mut slot = Some(value);
    let shared = (&mut slot as &mut dyn std::any::Any)
        .downcast_mut::<Option<Arc<T>>>()
        .and_then(Option::take);
    shared.or_else(|| slot.map(wrap))
}

/// A `.tool(..)` that could not be added; reported by [`LlmAgentBuilder::build`].
struct Invalid {
    error: ToolsetError,
}

impl ToolSource for Invalid {
    fn describe(&self) -> String {
        "tool added with .tool()".into()
    }
    fn snapshot(&self) -> Toolset {
        Toolset::new()
    }
    fn check(&self) -> Result<(), ToolsetError> {
        Err(self.error.clone())
    }
}

/// Makes `Arc<dyn Tool>` from an agent, for [`Toolset::add_arc`].
pub fn agent_as_tool(agent: Arc<dyn Agent>) -> Result<Arc<dyn Tool>, ToolSpecError> {
    Ok(Arc::new(AgentTool::new(agent)?))
}
