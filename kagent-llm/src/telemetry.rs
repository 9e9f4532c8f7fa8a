//! `tracing` spans with OpenTelemetry GenAI semantic-convention attribute names.
//!
//! Every model call runs in a span named `chat {model}` (or `list_models`) with
//! `gen_ai.operation.name`, `gen_ai.provider.name`, `gen_ai.request.model`, and, once known,
//! `gen_ai.response.model`, `gen_ai.response.id`, `gen_ai.usage.input_tokens`,
//! `gen_ai.usage.output_tokens`, `kagent.usage.estimated` (the counts were made locally
//! because the server reported none), `gen_ai.response.finish_reasons` and `error.type`.
//! Prompts and completions are never recorded.

use kagent_core::{ChatEvent, ChatResponse, FinishReason, ModelInfo, ProviderError, Usage};

/// The span of one chat call.
pub(crate) fn chat_span(info: &ModelInfo, streaming: bool) -> tracing::Span {
    tracing::info_span!(
        "chat",
        otel.name = %format!("chat {}", info.model),
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = %info.provider,
        gen_ai.request.model = %info.model,
        gen_ai.request.stream = streaming,
        gen_ai.response.model = tracing::field::Empty,
        gen_ai.response.id = tracing::field::Empty,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        kagent.usage.estimated = tracing::field::Empty,
        gen_ai.response.finish_reasons = tracing::field::Empty,
        error.type = tracing::field::Empty,
    )
}

/// The span of a model listing.
pub(crate) fn list_span(info: &ModelInfo) -> tracing::Span {
    tracing::info_span!(
        "list_models",
        gen_ai.operation.name = "list_models",
        gen_ai.provider.name = %info.provider,
        error.type = tracing::field::Empty,
    )
}

fn record_usage(span: &tracing::Span, usage: &Usage) {
    span.record("gen_ai.usage.input_tokens", usage.input_tokens);
    span.record("gen_ai.usage.output_tokens", usage.output_tokens);
    span.record("kagent.usage.estimated", usage.estimated);
}

/// The OTel spelling of a finish reason.
pub(crate) fn finish_name(reason: &FinishReason) -> &str {
    match reason {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
        FinishReason::Other(raw) => raw.as_str(),
        _ => "other",
    }
}

/// Records what a stream event tells about the response.
pub(crate) fn record_event(span: &tracing::Span, event: &ChatEvent) {
    match event {
        ChatEvent::Usage { usage } => record_usage(span, usage),
        ChatEvent::ResponseMetadata { id, model } => {
            if let Some(id) = id {
                span.record("gen_ai.response.id", id.as_str());
            }
            if let Some(m) = model {
                span.record("gen_ai.response.model", m.as_str());
            }
        }
        ChatEvent::Finish { reason, .. } => {
            span.record(
                "gen_ai.response.finish_reasons",
                format!("[\"{}\"]", finish_name(reason)).as_str(),
            );
        }
        _ => {}
    }
}

/// Records a complete response.
pub(crate) fn record_response(span: &tracing::Span, response: &ChatResponse) {
    if let Some(u) = &response.usage {
        record_usage(span, u);
    }
    if let Some(id) = &response.id {
        span.record("gen_ai.response.id", id.as_str());
    }
    if let Some(m) = &response.model {
        span.record("gen_ai.response.model", m.as_str());
    }
    span.record(
        "gen_ai.response.finish_reasons",
        format!("[\"{}\"]", finish_name(&response.finish_reason)).as_str(),
    );
}

/// The OTel `error.type` of an error.
pub(crate) fn error_type(e: &ProviderError) -> &'static str {
    match e {
        ProviderError::Api { kind, .. } => kind.as_str(),
        ProviderError::Transport { .. } => "transport",
        ProviderError::Timeout { .. } => "timeout",
        ProviderError::TruncatedStream { .. } => "truncated_stream",
        ProviderError::Decode { .. } => "decode",
        ProviderError::Configuration { .. } => "configuration",
        ProviderError::Unsupported { .. } => "unsupported",
        _ => "_OTHER",
    }
}

/// Records an error on the span and logs it (the error text never holds secrets).
pub(crate) fn record_error(span: &tracing::Span, e: &ProviderError) {
    span.record("error.type", error_type(e));
    tracing::debug!(parent: span, error = %e, retryable = e.is_retryable(), "model call failed");
}
