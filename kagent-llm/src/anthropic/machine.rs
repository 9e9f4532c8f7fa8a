//! Runs a provider stream state machine over a decoded input stream (SSE events, AWS
//! event-stream messages), producing a [`ChatStream`]. Shared by the Anthropic, Gemini and
//! Bedrock providers.

use std::collections::VecDeque;

use futures::{Stream, StreamExt};
use kagent_core::{ChatEvent, ChatStream, FinishReason, ProviderError};
use tracing::Instrument;

/// A per-provider state machine: input items in, chat events out.
pub(crate) trait Machine<I>: Send + 'static {
    /// One decoded input item.
    fn on_item(&mut self, item: I) -> Result<Vec<ChatEvent>, ProviderError>;
    /// The input ended: closing events, or the truncation error.
    fn on_end(&mut self) -> Result<Vec<ChatEvent>, ProviderError>;
}

struct State<S, M> {
    input: S,
    machine: M,
    queue: VecDeque<ChatEvent>,
    done: bool,
}

/// Drives `machine` over `input`. The first error ends the stream. Every event passing by is
/// recorded on `span` with OpenTelemetry GenAI attribute names (response id and model, usage,
/// finish reason).
pub(crate) fn drive<I, S, M>(input: S, machine: M, span: tracing::Span) -> ChatStream
where
    I: Send + 'static,
    S: Stream<Item = Result<I, ProviderError>> + Send + Unpin + 'static,
    M: Machine<I>,
{
    let state = State {
        input,
        machine,
        queue: VecDeque::new(),
        done: false,
    };
    Box::pin(futures::stream::unfold(state, move |mut st| {
        let span = span.clone();
        let inner = span.clone();
        async move {
            loop {
                if let Some(ev) = st.queue.pop_front() {
                    record(&span, &ev);
                    return Some((Ok(ev), st));
                }
                if st.done {
                    return None;
                }
                let step = match st.input.next().await {
                    Some(Ok(item)) => st.machine.on_item(item),
                    Some(Err(e)) => Err(e),
                    None => {
                        st.done = true;
                        st.machine.on_end()
                    }
                };
                match step {
                    Ok(events) => st.queue.extend(events),
                    Err(e) => {
                        st.done = true;
                        st.queue.clear();
                        tracing::debug!(parent: &span, error = %e, "model stream failed");
                        span.record("error.type", error_type(&e));
                        return Some((Err(e), st));
                    }
                }
            }
        }
        .instrument(inner)
    }))
}

fn record(span: &tracing::Span, ev: &ChatEvent) {
    match ev {
        ChatEvent::ResponseMetadata { id, model } => {
            if let Some(id) = id {
                span.record("gen_ai.response.id", id.as_str());
            }
            if let Some(m) = model {
                span.record("gen_ai.response.model", m.as_str());
            }
        }
        ChatEvent::Usage { usage } => {
            span.record("gen_ai.usage.input_tokens", usage.input_tokens);
            span.record("gen_ai.usage.output_tokens", usage.output_tokens);
        }
        ChatEvent::Finish { reason, raw } => {
            let r = raw.clone().unwrap_or_else(|| finish_name(reason));
            span.record("gen_ai.response.finish_reasons", r.as_str());
        }
        _ => {}
    }
}

fn finish_name(reason: &FinishReason) -> String {
    match reason {
        FinishReason::Stop => "stop".into(),
        FinishReason::Length => "length".into(),
        FinishReason::ToolCalls => "tool_calls".into(),
        FinishReason::ContentFilter => "content_filter".into(),
        FinishReason::Other(o) => o.clone(),
        _ => "other".into(),
    }
}

/// A short, secret-free error class for the span's `error.type`.
pub(crate) fn error_type(e: &ProviderError) -> &'static str {
    match e {
        ProviderError::RateLimited { .. } => "rate_limited",
        ProviderError::QuotaExceeded { .. } => "quota_exceeded",
        ProviderError::Overloaded { .. } => "overloaded",
        ProviderError::Authentication { .. } => "authentication",
        ProviderError::PermissionDenied { .. } => "permission_denied",
        ProviderError::NotFound { .. } => "not_found",
        ProviderError::InvalidRequest { .. } => "invalid_request",
        ProviderError::ContextLengthExceeded { .. } => "context_length_exceeded",
        ProviderError::ContentFiltered { .. } => "content_filtered",
        ProviderError::Server { .. } => "server",
        ProviderError::Transport { .. } => "transport",
        ProviderError::Timeout { .. } => "timeout",
        ProviderError::TruncatedStream { .. } => "truncated_stream",
        ProviderError::Decode { .. } => "decode",
        ProviderError::Configuration { .. } => "configuration",
        _ => "other",
    }
}

/// A span for one model call, with the OpenTelemetry GenAI attributes filled in as the call
/// goes (`gen_ai.operation.name`, `gen_ai.provider.name`, `gen_ai.request.model`, ...).
macro_rules! chat_span {
    ($provider:expr, $model:expr, $req:expr, $stream:expr) => {
        tracing::info_span!(
            "chat",
            otel.name = %format!("chat {}", $model),
            gen_ai.operation.name = "chat",
            gen_ai.provider.name = %$provider,
            gen_ai.request.model = %$model,
            gen_ai.request.max_tokens = $req.max_tokens,
            gen_ai.request.temperature = $req.temperature.map(f64::from),
            gen_ai.request.stream = $stream,
            gen_ai.response.id = tracing::field::Empty,
            gen_ai.response.model = tracing::field::Empty,
            gen_ai.response.finish_reasons = tracing::field::Empty,
            gen_ai.usage.input_tokens = tracing::field::Empty,
            gen_ai.usage.output_tokens = tracing::field::Empty,
            error.type = tracing::field::Empty,
        )
    };
}
pub(crate) use chat_span;

/// Records a complete response on a span.
pub(crate) fn record_response(span: &tracing::Span, response: &kagent_core::ChatResponse) {
    for ev in kagent_core::stream::response_events(response.clone()) {
        record(span, &ev);
    }
}
