//! The run engine: executes what the planner decides, with budgets, timeouts, retries,
//! cancellation, guardrails, audit and events.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use futures::StreamExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::agent::{AgentError, LimitKind, LlmAgent, RunOutcome, RunOutput, RunRequest};
use crate::audit::{AuditDecision, AuditOutcome, AuditRecord, redact_value};
use crate::event::{AgentEvent, EventSink};
use crate::message::{
    AssistantMessage, ChatRequest, ChatResponse, Message, ToolArguments, ToolCall, ToolContent,
    ToolResult, Usage,
};
use crate::planner::{Observation, PlanView, Step, ToolSelection};
use crate::policy::{ApprovalDecision, ApprovalRequest, PolicyDecision};
use crate::provider::ProviderError;
use crate::redact::SecretValues;
use crate::session::{Session, SessionError};
use crate::stream::StreamAssembler;
use crate::tool::{Tool, ToolContext, ToolEffect, ToolError, ToolOutput};
use crate::toolset::Toolset;
use crate::truncate::truncate_middle;

/// Runs one task on an agent.
pub(crate) async fn run(
    agent: &LlmAgent,
    request: RunRequest,
    events: EventSink,
) -> Result<RunOutput, AgentError> {
    let run_id = uuid::Uuid::new_v4().to_string();
    let session_id = request
        .session_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    // A child token: the deadline cancels it (and so every tool context) without touching the
    // caller's token.
    let cancel = request.cancellation.child_token();
    let span = tracing::info_span!(
        "invoke_agent",
        "gen_ai.operation.name" = "invoke_agent",
        "gen_ai.agent.name" = %agent.card.name,
        "gen_ai.conversation.id" = %session_id,
        "kagent.run.id" = %run_id,
    );
    let mut run = Run {
        agent,
        events: &events,
        run_id: run_id.clone(),
        session_id: session_id.clone(),
        cancel: cancel.clone(),
        usage: Usage::default(),
        steps: 0,
        tool_calls: 0,
        plan_revision: None,
        offered: Toolset::new(),
    };
    let deadline = agent.limits.run_timeout;
    let result = {
        let body = run.execute(&request.task).instrument(span);
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(AgentError::Cancelled),
            () = sleep_or_forever(deadline) => {
                cancel.cancel();
                Err(AgentError::DeadlineExceeded { after: deadline.unwrap_or_default() })
            }
            r = body => r,
        }
    };
    if let Err(e) = &result {
        let error = agent.secrets.redact(&e.to_string()).into_owned();
        tracing::warn!(run_id = %run_id, %error, "agent run failed");
        events.emit(AgentEvent::Failed { error }).await;
    }
    result
}

async fn sleep_or_forever(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

struct Run<'a> {
    agent: &'a LlmAgent,
    events: &'a EventSink,
    run_id: String,
    session_id: String,
    cancel: CancellationToken,
    usage: Usage,
    steps: u32,
    tool_calls: u32,
    plan_revision: Option<u32>,
    /// The tools as the model (or the planner) last saw them. A call whose tool changed since
    /// is not run: the model wrote its arguments for the old definition.
    offered: Toolset,
}

impl Run<'_> {
    async fn execute(&mut self, task: &str) -> Result<RunOutput, AgentError> {
        let agent = self.agent;
        let mut session = match agent.sessions.load(&self.session_id).await? {
            Some(s) if s.agent != agent.card.name => {
                return Err(SessionError::WrongAgent {
                    id: s.id,
                    owner: s.agent,
                    agent: agent.card.name.clone(),
                }
                .into());
            }
            Some(s) => s,
            None => Session::new(self.session_id.clone(), agent.card.name.clone()),
        };
        self.emit(AgentEvent::RunStarted {
            run_id: self.run_id.clone(),
            session_id: self.session_id.clone(),
            agent: agent.card.name.clone(),
        })
        .await;

        let mut transcript = session.messages.clone();
        transcript.push(Message::user(task));
        self.offered = agent.tools.current().await;
        // The specs offered to the model, and the list they were read from.
        let mut specs = self.offered.specs();
        let mut specs_from = self.offered.clone();
        let mut plan = agent.planner.start();
        let mut step = plan.next(Observation::Start {
            task,
            tools: &specs,
        })?;

        loop {
            self.publish_plan(plan.view()).await;
            if !matches!(step, Step::Finish { .. } | Step::AskHuman { .. }) {
                self.steps += 1;
                if self.steps > agent.limits.max_steps {
                    return Err(AgentError::LimitExceeded {
                        limit: LimitKind::Steps,
                        max: u64::from(agent.limits.max_steps),
                        used: u64::from(self.steps),
                    });
                }
            }
            step = match step {
                Step::CallModel(call) => {
                    if let Some(instruction) = call.instruction {
                        transcript.push(Message::user(instruction));
                    }
                    if agent.tools.is_live() {
                        // A live source may have changed its list since the last turn.
                        let now = agent.tools.current().await;
                        if !now.same_as(&specs_from) {
                            specs = now.specs();
                            specs_from = now.clone();
                        }
                        self.offered = now;
                    }
                    let request = ChatRequest {
                        system: agent.system_prompt.clone(),
                        messages: transcript.clone(),
                        tools: match call.tools {
                            ToolSelection::All => specs.clone(),
                            ToolSelection::None => Vec::new(),
                        },
                        tool_choice: call.tool_choice,
                        max_tokens: agent.sampling.max_tokens,
                        temperature: agent.sampling.temperature,
                        top_p: agent.sampling.top_p,
                        stop: Vec::new(),
                    };
                    let mut response = self.call_model(&request).await?;
                    // Model text that repeats a secret (the model was told it, or guessed it)
                    // goes no further: not to the transcript, the planner or the answer.
                    agent.secrets.redact_assistant_text(&mut response.message);
                    transcript.push(Message::Assistant(response.message.clone()));
                    plan.next(Observation::ModelResponse(&response))?
                }
                Step::RunTools(calls) => {
                    let n = u32::try_from(calls.len()).unwrap_or(u32::MAX);
                    self.tool_calls = self.tool_calls.saturating_add(n);
                    if self.tool_calls > agent.limits.max_tool_calls {
                        return Err(AgentError::LimitExceeded {
                            limit: LimitKind::ToolCalls,
                            max: u64::from(agent.limits.max_tool_calls),
                            used: u64::from(self.tool_calls),
                        });
                    }
                    ensure_calls_recorded(&mut transcript, &calls);
                    let handled = self.run_tools(calls).await?;
                    // The model reads what a tool returned framed as data; the planner (code)
                    // reads it as it is.
                    transcript.extend(handled.iter().map(|h| {
                        Message::Tool(if h.tool_output {
                            crate::framing::frame(&h.result)
                        } else {
                            h.result.clone()
                        })
                    }));
                    let results: Vec<ToolResult> = handled.into_iter().map(|h| h.result).collect();
                    plan.next(Observation::ToolResults(&results))?
                }
                Step::AskHuman { question } => {
                    let question = agent.secrets.redact(&question).into_owned();
                    push_answer(&mut transcript, &question);
                    self.save(&mut session, transcript).await?;
                    self.emit(AgentEvent::InputRequired {
                        question: question.clone(),
                    })
                    .await;
                    let outcome = RunOutcome::InputRequired {
                        question: question.clone(),
                    };
                    return Ok(self.output(question, outcome));
                }
                Step::Finish { answer } => {
                    let answer = agent.secrets.redact(&answer).into_owned();
                    push_answer(&mut transcript, &answer);
                    self.save(&mut session, transcript).await?;
                    self.emit(AgentEvent::Finished {
                        answer: answer.clone(),
                        usage: self.usage,
                    })
                    .await;
                    return Ok(self.output(answer, RunOutcome::Finished));
                }
            };
        }
    }

    /// Sends an event with the agent's secret values redacted from it.
    async fn emit(&self, event: AgentEvent) {
        self.events
            .emit(redact_event(&self.agent.secrets, event))
            .await;
    }

    fn output(&self, answer: String, outcome: RunOutcome) -> RunOutput {
        RunOutput {
            run_id: self.run_id.clone(),
            session_id: self.session_id.clone(),
            answer,
            outcome,
            usage: self.usage,
            steps: self.steps,
            tool_calls: self.tool_calls,
        }
    }

    async fn save(
        &self,
        session: &mut Session,
        transcript: Vec<Message>,
    ) -> Result<(), AgentError> {
        session.messages = transcript;
        session.updated = jiff::Timestamp::now();
        self.agent.sessions.save(session).await?;
        Ok(())
    }

    async fn publish_plan(&mut self, view: Option<PlanView>) {
        if let Some(view) = view
            && self.plan_revision != Some(view.revision)
        {
            self.plan_revision = Some(view.revision);
            self.emit(AgentEvent::PlanUpdated { plan: view }).await;
        }
    }

    // ----- model calls -----

    async fn call_model(&mut self, request: &ChatRequest) -> Result<ChatResponse, AgentError> {
        let agent = self.agent;
        let Some(provider) = agent.provider.as_ref() else {
            return Err(AgentError::NoProvider {
                agent: agent.card.name.clone(),
                planner: agent.planner.name().to_owned(),
            });
        };
        let info = provider.info();
        let limits = &agent.limits;
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(limits.retry_initial_delay)
            .with_max_delay(limits.retry_max_delay)
            .with_max_times(limits.model_retries as usize)
            .with_jitter()
            .build();
        let mut attempt: u32 = 1;
        loop {
            self.emit(AgentEvent::ModelRequest {
                step: self.steps,
                messages: request.messages.len(),
                tools: request.tools.len(),
            })
            .await;
            let span = tracing::info_span!(
                "chat",
                "gen_ai.operation.name" = "chat",
                "gen_ai.provider.name" = %info.provider,
                "gen_ai.request.model" = %info.model,
                "gen_ai.usage.input_tokens" = tracing::field::Empty,
                "gen_ai.usage.output_tokens" = tracing::field::Empty,
                "kagent.usage.estimated" = tracing::field::Empty,
                "gen_ai.response.finish_reasons" = tracing::field::Empty,
            );
            let (result, delivered) = self
                .stream_once(provider.as_ref(), request)
                .instrument(span.clone())
                .await;
            match result {
                Ok(response) => {
                    if let Some(u) = response.usage {
                        span.record("gen_ai.usage.input_tokens", u.input_tokens);
                        span.record("gen_ai.usage.output_tokens", u.output_tokens);
                        span.record("kagent.usage.estimated", u.estimated);
                    }
                    span.record(
                        "gen_ai.response.finish_reasons",
                        tracing::field::debug(&response.finish_reason),
                    );
                    self.account(response.usage).await?;
                    return Ok(response);
                }
                Err(error) => {
                    // A provider that echoes a secret (its key in an error body) must not
                    // carry it into the events, the logs or the returned error.
                    let error = agent.secrets.redact_provider_error(error);
                    let retryable = !delivered
                        && (error.is_retryable()
                            || matches!(error, ProviderError::TruncatedStream { .. }));
                    let next = if retryable { backoff.next() } else { None };
                    let Some(backoff_delay) = next else {
                        return Err(AgentError::Provider {
                            attempts: attempt,
                            source: error,
                        });
                    };
                    // The provider's hint wins over our backoff, capped by our longest wait.
                    let delay = error
                        .retry_after()
                        .map_or(backoff_delay, |hint| hint.max(backoff_delay))
                        .min(limits.retry_max_delay);
                    attempt += 1;
                    tracing::info!(attempt, ?delay, %error, "retrying model call");
                    self.emit(AgentEvent::Retrying {
                        attempt,
                        delay,
                        error: error.to_string(),
                    })
                    .await;
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// One streamed model call. Returns whether any text reached the caller, because then a
    /// retry would repeat output the user has already seen.
    async fn stream_once(
        &self,
        provider: &dyn crate::provider::ModelProvider,
        request: &ChatRequest,
    ) -> (Result<ChatResponse, ProviderError>, bool) {
        let provider_name = provider.info().provider.clone();
        let mut stream = match provider.chat_stream(request).await {
            Ok(s) => s,
            Err(e) => return (Err(e), false),
        };
        let mut assembler = StreamAssembler::new();
        let mut delivered = false;
        // A secret split across two deltas is still caught: the end of a delta that could
        // start one is held back until the next delta shows whether it does.
        let mut redactor = self.agent.secrets.stream();
        while let Some(event) = stream.next().await {
            match event {
                Ok(event) => {
                    if let crate::stream::ChatEvent::TextDelta { text } = &event
                        && !text.is_empty()
                    {
                        delivered = true;
                        let text = redactor.push(text);
                        if !text.is_empty() {
                            self.emit(AgentEvent::TextDelta { text }).await;
                        }
                    }
                    assembler.push_owned(event);
                }
                Err(e) => {
                    self.flush_text(&mut redactor).await;
                    return (Err(e), delivered);
                }
            }
        }
        self.flush_text(&mut redactor).await;
        (assembler.finish(&provider_name), delivered)
    }

    async fn flush_text(&self, redactor: &mut crate::redact::StreamRedactor) {
        let rest = redactor.finish();
        if !rest.is_empty() {
            self.emit(AgentEvent::TextDelta { text: rest }).await;
        }
    }

    /// Adds a call's usage to the run's total and enforces the token budget. Estimated usage
    /// (counted locally because the server reported none) counts like reported usage, so a
    /// budget also stops runs against servers that report nothing.
    async fn account(&mut self, usage: Option<Usage>) -> Result<(), AgentError> {
        let Some(usage) = usage else { return Ok(()) };
        self.usage.accumulate(&usage);
        self.emit(AgentEvent::Usage {
            usage,
            total: self.usage,
        })
        .await;
        if let Some(max) = self.agent.limits.max_tokens
            && self.usage.total() > max
        {
            return Err(AgentError::LimitExceeded {
                limit: LimitKind::Tokens,
                max,
                used: self.usage.total(),
            });
        }
        Ok(())
    }

    // ----- tool calls -----

    /// Runs one turn's calls: consecutive read-only calls run together (bounded), anything
    /// else runs alone, in order. Results come back in call order.
    ///
    /// The tools are read again before each batch and each lone call, so a live source's
    /// change reaches the decision of the very next call.
    async fn run_tools(&mut self, calls: Vec<ToolCall>) -> Result<Vec<Handled>, AgentError> {
        for call in &calls {
            self.emit(AgentEvent::ToolCallProposed { call: call.clone() })
                .await;
        }
        let mut tools = self.agent.tools.current().await;
        // The list just read serves the first batch or call; later ones read it again.
        let mut fresh = true;
        let mut results = Vec::with_capacity(calls.len());
        let mut batch: Vec<ToolCall> = Vec::new();
        for call in calls {
            if is_parallel_safe(&tools, &call) {
                batch.push(call);
                continue;
            }
            if !batch.is_empty() {
                if !std::mem::take(&mut fresh) {
                    tools = self.agent.tools.current().await;
                }
                results.extend(self.run_batch(std::mem::take(&mut batch), &tools).await?);
            }
            if !std::mem::take(&mut fresh) {
                tools = self.agent.tools.current().await;
            }
            results.push(self.run_call(call, &tools).await?);
        }
        if !batch.is_empty() {
            if !fresh {
                tools = self.agent.tools.current().await;
            }
            results.extend(self.run_batch(batch, &tools).await?);
        }
        // What a playbook "sees" next: the definitions these calls were decided on.
        self.offered = tools;
        Ok(results)
    }

    async fn run_batch(
        &self,
        batch: Vec<ToolCall>,
        tools: &Toolset,
    ) -> Result<Vec<Handled>, AgentError> {
        if batch.len() <= 1 {
            let mut out = Vec::with_capacity(batch.len());
            for call in batch {
                out.push(self.run_call(call, tools).await?);
            }
            return Ok(out);
        }
        futures::stream::iter(batch)
            .map(|call| self.run_call(call, tools))
            .buffered(self.agent.limits.max_parallel_tools)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }

    /// Decides, executes, audits and reports one call against `tools` (the current list).
    /// Every outcome, including denial, becomes a [`ToolResult`] the model reads.
    async fn run_call(&self, call: ToolCall, tools: &Toolset) -> Result<Handled, AgentError> {
        let mut tool_output = false;
        let result = self.decide_and_run(call, tools, &mut tool_output).await?;
        Ok(Handled {
            result,
            tool_output,
        })
    }

    /// [`Run::run_call`]; sets `tool_output` when the result is what the tool returned (not a
    /// refusal the engine wrote).
    async fn decide_and_run(
        &self,
        call: ToolCall,
        tools: &Toolset,
        tool_output: &mut bool,
    ) -> Result<ToolResult, AgentError> {
        let Some(tool) = tools.get(&call.name) else {
            let message = crate::toolset::unknown_tool(&call.name, tools).model_message();
            return self
                .conclude(
                    &call,
                    ToolEffect::Mutating,
                    AuditDecision::Invalid {
                        reason: "unknown tool".into(),
                    },
                    error_result(&call, message),
                    Duration::ZERO,
                    false,
                )
                .await;
        };
        // The definition the policy decides on; `run_with` is the same tool unless a live
        // source re-read it (unchanged) after an approval.
        let decided = Arc::clone(tool);
        let spec = decided.spec();
        let mut run_with = Arc::clone(&decided);
        let effect = spec.effect;

        // The model wrote this call for the definition it was offered; a tool that changed
        // since (a live source swapped it) is not run under its new meaning.
        if !tools.same_as(&self.offered)
            && let Some(change) = self
                .offered
                .get(&call.name)
                .and_then(|old| old.spec().describe_change(spec))
        {
            return self.refuse_changed(&call, effect, change).await;
        }

        // Arguments first: nobody should be asked to approve a call that cannot run.
        let arguments = match &call.arguments {
            ToolArguments::Json(v) => v.clone(),
            ToolArguments::Malformed { error, .. } => {
                let message = ToolError::invalid_arguments(
                    &call.name,
                    format!("the arguments are not valid JSON ({error})"),
                )
                .model_message();
                return self
                    .conclude(
                        &call,
                        effect,
                        AuditDecision::Invalid {
                            reason: "malformed JSON arguments".into(),
                        },
                        error_result(&call, message),
                        Duration::ZERO,
                        false,
                    )
                    .await;
            }
        };
        if let Err(e) = tools.validate(&call.name, &arguments) {
            return self
                .conclude(
                    &call,
                    effect,
                    AuditDecision::Invalid {
                        reason: e.to_string(),
                    },
                    error_result(&call, e.model_message()),
                    Duration::ZERO,
                    false,
                )
                .await;
        }

        let decision = match self.agent.policy.decide(spec, &call) {
            PolicyDecision::Allow => AuditDecision::Allowed,
            PolicyDecision::RequireApproval { reason } => {
                match self.ask_approval(&call, effect, reason).await {
                    ApprovalDecision::Approved { by } => {
                        // The approver may have taken a while: the call runs only under the
                        // definition that was approved.
                        if self.agent.tools.is_live() {
                            let now = self.agent.tools.current().await;
                            let change = match now.get(&call.name) {
                                Some(current) => match spec.describe_change(current.spec()) {
                                    None => {
                                        run_with = Arc::clone(current);
                                        None
                                    }
                                    Some(change) => Some(change),
                                },
                                None => Some("the tool was removed".to_owned()),
                            };
                            if let Some(change) = change {
                                return self.refuse_changed(&call, effect, change).await;
                            }
                        }
                        AuditDecision::Approved { by }
                    }
                    ApprovalDecision::Rejected { reason } => {
                        let message =
                            format!("Error: the call was not approved: {reason}. It was not run.");
                        return self
                            .conclude(
                                &call,
                                effect,
                                AuditDecision::Rejected { reason },
                                error_result(&call, message),
                                Duration::ZERO,
                                false,
                            )
                            .await;
                    }
                }
            }
            PolicyDecision::Deny { reason } => {
                self.emit(AgentEvent::ToolCallDenied {
                    call_id: call.id.clone(),
                    tool: call.name.clone(),
                    reason: reason.clone(),
                })
                .await;
                let message =
                    format!("Error: the call was denied by policy: {reason}. Do not retry it.");
                return self
                    .conclude(
                        &call,
                        effect,
                        AuditDecision::Denied { reason },
                        error_result(&call, message),
                        Duration::ZERO,
                        false,
                    )
                    .await;
            }
        };

        self.emit(AgentEvent::ToolStarted {
            call_id: call.id.clone(),
            tool: call.name.clone(),
        })
        .await;
        let started = Instant::now();
        let outcome = self
            .execute_tool(&call, run_with.as_ref(), arguments, spec.idempotent)
            .await;
        *tool_output = true;
        let duration = started.elapsed();
        let secrets = &self.agent.secrets;
        let (result, truncated) = match outcome {
            Ok(mut output) => {
                // Before truncation, so a value is never cut in two.
                secrets.redact_tool_output(&mut output);
                self.to_result(&call, output)
            }
            Err(e) => (
                error_result(&call, secrets.redact(&e.model_message()).into_owned()),
                false,
            ),
        };
        self.conclude(&call, effect, decision, result, duration, truncated)
            .await
    }

    /// A call whose tool changed after the model (or the approver) saw it: not run.
    async fn refuse_changed(
        &self,
        call: &ToolCall,
        effect: ToolEffect,
        change: String,
    ) -> Result<ToolResult, AgentError> {
        tracing::info!(tool = %call.name, %change, "tool changed after it was offered; call not run");
        let message = ToolError::changed(&call.name, &change).model_message();
        self.conclude(
            call,
            effect,
            AuditDecision::Invalid {
                reason: format!("the tool changed after it was offered ({change})"),
            },
            error_result(call, message),
            Duration::ZERO,
            false,
        )
        .await
    }

    async fn ask_approval(
        &self,
        call: &ToolCall,
        effect: ToolEffect,
        reason: String,
    ) -> ApprovalDecision {
        self.emit(AgentEvent::ApprovalRequested {
            call: call.clone(),
            effect,
            reason: reason.clone(),
        })
        .await;
        let decision = match &self.agent.approver {
            None => ApprovalDecision::Rejected {
                reason: "approval is required and no approver is configured".into(),
            },
            Some(approver) => {
                approver
                    .decide(ApprovalRequest {
                        agent: self.agent.card.name.clone(),
                        session_id: self.session_id.clone(),
                        run_id: self.run_id.clone(),
                        call: self.agent.secrets.redact_call(call),
                        effect,
                        reason,
                        preview: None,
                    })
                    .await
            }
        };
        self.emit(AgentEvent::ApprovalDecided {
            call_id: call.id.clone(),
            decision: decision.clone(),
        })
        .await;
        decision
    }

    /// Runs the tool with its timeout; a transport fault of an idempotent tool is retried once.
    async fn execute_tool(
        &self,
        call: &ToolCall,
        tool: &dyn Tool,
        arguments: Value,
        idempotent: bool,
    ) -> Result<ToolOutput, ToolError> {
        let timeout = self.agent.limits.tool_timeout;
        let attempts = if idempotent { 2 } else { 1 };
        let mut last = None;
        for _ in 0..attempts {
            let ctx = ToolContext {
                call_id: call.id.clone(),
                agent: self.agent.card.name.clone(),
                session_id: self.session_id.clone(),
                cancellation: self.cancel.child_token(),
                dry_run: false,
                trace_parent: None,
            };
            let token = ctx.cancellation.clone();
            let span = tracing::info_span!(
                "execute_tool",
                "gen_ai.operation.name" = "execute_tool",
                "gen_ai.tool.name" = %call.name,
                "gen_ai.tool.call.id" = %call.id,
            );
            let fut = tool.call(arguments.clone(), ctx).instrument(span);
            let result = match tokio::time::timeout(timeout, fut).await {
                Ok(r) => r,
                Err(_) => {
                    token.cancel();
                    Err(ToolError::Timeout {
                        tool: call.name.clone(),
                        after: timeout,
                    })
                }
            };
            match result {
                Err(e @ ToolError::Transport { .. }) => {
                    let error = self.agent.secrets.redact(&e.to_string()).into_owned();
                    tracing::warn!(tool = %call.name, %error, "tool transport fault");
                    last = Some(e);
                }
                other => return other,
            }
        }
        Err(last.unwrap_or(ToolError::Internal {
            tool: call.name.clone(),
            message: "no attempt was made".into(),
        }))
    }

    fn to_result(&self, call: &ToolCall, output: ToolOutput) -> (ToolResult, bool) {
        let max = self.agent.limits.max_tool_output_bytes;
        let text_len: usize = output
            .content
            .iter()
            .map(|c| match c {
                ToolContent::Text { text } => text.len(),
                _ => 0,
            })
            .sum();
        let mut content = output.content;
        let mut structured = output.structured;
        let mut truncated = false;
        if text_len > max {
            let text = content
                .iter()
                .filter_map(|c| match c {
                    ToolContent::Text { text } => Some(text.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n");
            let (cut, _) = truncate_middle(&text, max);
            let mut kept: Vec<ToolContent> = content
                .into_iter()
                .filter(|c| !matches!(c, ToolContent::Text { .. }))
                .collect();
            kept.insert(0, ToolContent::text(cut));
            content = kept;
            // Structured output that large would undo the cut.
            structured = None;
            truncated = true;
        }
        (
            ToolResult {
                call_id: call.id.clone(),
                name: call.name.clone(),
                content,
                structured,
                is_error: false,
            },
            truncated,
        )
    }

    async fn conclude(
        &self,
        call: &ToolCall,
        effect: ToolEffect,
        decision: AuditDecision,
        result: ToolResult,
        duration: Duration,
        truncated: bool,
    ) -> Result<ToolResult, AgentError> {
        let secrets = &self.agent.secrets;
        // Every result the model reads, including the ones the engine wrote (they may quote
        // the arguments).
        let mut result = result;
        secrets.redact_tool_result(&mut result);
        let ran = matches!(
            decision,
            AuditDecision::Allowed | AuditDecision::Approved { .. }
        );
        self.emit(AgentEvent::ToolFinished {
            call_id: call.id.clone(),
            tool: call.name.clone(),
            duration,
            is_error: result.is_error,
            truncated,
        })
        .await;
        if let Some(audit) = &self.agent.audit {
            let outcome = if !ran {
                AuditOutcome::NotRun
            } else if result.is_error {
                AuditOutcome::Failed {
                    error: secrets.redact_all(&result.text()),
                }
            } else {
                AuditOutcome::Succeeded
            };
            let arguments = match &call.arguments {
                ToolArguments::Json(v) => secrets.redact_value(&redact_value(v)),
                ToolArguments::Malformed { raw, .. } => Value::String(secrets.redact_all(raw)),
            };
            let decision = redact_decision(secrets, decision);
            audit
                .record(&AuditRecord {
                    timestamp: jiff::Timestamp::now(),
                    agent: self.agent.card.name.clone(),
                    session_id: self.session_id.clone(),
                    run_id: self.run_id.clone(),
                    tool: call.name.clone(),
                    call_id: call.id.clone(),
                    effect,
                    arguments,
                    decision,
                    outcome,
                    duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
                })
                .await?;
        }
        Ok(result)
    }
}

/// The audit decision with secrets redacted from its free text.
fn redact_decision(secrets: &SecretValues, decision: AuditDecision) -> AuditDecision {
    match decision {
        AuditDecision::Approved { by } => AuditDecision::Approved {
            by: by.map(|b| secrets.redact_all(&b)),
        },
        AuditDecision::Rejected { reason } => AuditDecision::Rejected {
            reason: secrets.redact_all(&reason),
        },
        AuditDecision::Denied { reason } => AuditDecision::Denied {
            reason: secrets.redact_all(&reason),
        },
        AuditDecision::Invalid { reason } => AuditDecision::Invalid {
            reason: secrets.redact_all(&reason),
        },
        other => other,
    }
}

/// An event with the agent's secret values replaced in every free text and tool call it
/// carries. Every variant is listed, so a new one has to be decided here.
fn redact_event(secrets: &SecretValues, event: AgentEvent) -> AgentEvent {
    if secrets.is_empty() {
        return event;
    }
    let s = |text: String| secrets.redact(&text).into_owned();
    match event {
        e @ (AgentEvent::RunStarted { .. }
        | AgentEvent::ModelRequest { .. }
        | AgentEvent::ToolStarted { .. }
        | AgentEvent::ToolFinished { .. }
        | AgentEvent::Usage { .. }) => e,
        AgentEvent::TextDelta { text } => AgentEvent::TextDelta { text: s(text) },
        AgentEvent::PlanUpdated { mut plan } => {
            for step in &mut plan.steps {
                secrets.redact_string(&mut step.description);
            }
            AgentEvent::PlanUpdated { plan }
        }
        AgentEvent::ToolCallProposed { call } => AgentEvent::ToolCallProposed {
            call: secrets.redact_call(&call),
        },
        AgentEvent::ToolCallDenied {
            call_id,
            tool,
            reason,
        } => AgentEvent::ToolCallDenied {
            call_id,
            tool,
            reason: s(reason),
        },
        AgentEvent::ApprovalRequested {
            call,
            effect,
            reason,
        } => AgentEvent::ApprovalRequested {
            call: secrets.redact_call(&call),
            effect,
            reason: s(reason),
        },
        AgentEvent::ApprovalDecided { call_id, decision } => AgentEvent::ApprovalDecided {
            call_id,
            decision: match decision {
                ApprovalDecision::Approved { by } => ApprovalDecision::Approved { by: by.map(s) },
                ApprovalDecision::Rejected { reason } => {
                    ApprovalDecision::Rejected { reason: s(reason) }
                }
            },
        },
        AgentEvent::Retrying {
            attempt,
            delay,
            error,
        } => AgentEvent::Retrying {
            attempt,
            delay,
            error: s(error),
        },
        AgentEvent::Finished { answer, usage } => AgentEvent::Finished {
            answer: s(answer),
            usage,
        },
        AgentEvent::InputRequired { question } => AgentEvent::InputRequired {
            question: s(question),
        },
        AgentEvent::Failed { error } => AgentEvent::Failed { error: s(error) },
    }
}

/// One call's result, and whether it is what the tool returned (framed for the model) or a
/// refusal the engine wrote (not framed).
struct Handled {
    result: ToolResult,
    tool_output: bool,
}

fn is_parallel_safe(tools: &Toolset, call: &ToolCall) -> bool {
    tools
        .get(&call.name)
        .is_some_and(|t| t.spec().effect == ToolEffect::ReadOnly)
}

fn error_result(call: &ToolCall, message: String) -> ToolResult {
    ToolResult::error(call.id.clone(), call.name.clone(), message)
}

/// Tool results must follow an assistant message that made the calls; a playbook's calls have no
/// such message, so one is added.
fn ensure_calls_recorded(transcript: &mut Vec<Message>, calls: &[ToolCall]) {
    let recorded = matches!(
        transcript.last(),
        Some(Message::Assistant(a)) if a.tool_calls.len() == calls.len()
            && a.tool_calls.iter().zip(calls).all(|(x, y)| x.id == y.id)
    );
    if !recorded {
        transcript.push(Message::Assistant(AssistantMessage {
            tool_calls: calls.to_vec(),
            ..Default::default()
        }));
    }
}

/// Appends the final answer unless the model's last message already is it.
fn push_answer(transcript: &mut Vec<Message>, answer: &str) {
    let already = matches!(
        transcript.last(),
        Some(Message::Assistant(a)) if a.tool_calls.is_empty() && a.text_content() == answer
    );
    if !already {
        transcript.push(Message::assistant(answer));
    }
}
