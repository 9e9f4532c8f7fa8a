//! The generic part of every streaming provider: feeds decoded frames (SSE events or NDJSON
//! lines) to a provider's state machine, yields the [`ChatEvent`]s it produces, records
//! OpenTelemetry GenAI attributes on the call's span, and turns an input that ends before
//! the terminal event into [`ProviderError::TruncatedStream`] carrying the partial output.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::Stream;
use kagent_core::{
    ChatEvent, ChatResponse, ChatStream, FinishReason, ProviderError, StreamAssembler,
};

/// A provider's stream state machine over frames of type `I`.
pub trait StreamMachine<I>: Send + 'static {
    /// Feeds one frame; pushes the events it completes. Returns `true` once the terminal frame
    /// was seen (the rest of the input is then ignored and the connection dropped).
    fn feed(&mut self, frame: I, out: &mut VecDeque<ChatEvent>) -> Result<bool, ProviderError>;

    /// The input ended before the terminal frame: push any events that can still be completed
    /// and describe what was missing.
    fn truncated(&mut self, out: &mut VecDeque<ChatEvent>) -> String;
}

type Input<I> = Pin<Box<dyn Stream<Item = Result<I, ProviderError>> + Send>>;

struct Driven<I, M> {
    provider: String,
    input: Option<Input<I>>,
    machine: M,
    queue: VecDeque<ChatEvent>,
    asm: StreamAssembler,
    pending_error: Option<ProviderError>,
    truncated: Option<String>,
    span: tracing::Span,
}

/// Runs `machine` over `input` as a [`ChatStream`].
///
/// The driver is a plain [`Stream`] whose state stays in one place: each event costs a
/// queue pop, not a move of the whole state (which a `futures::stream::unfold` would do).
pub fn drive<I, M>(provider: &str, input: Input<I>, machine: M, span: tracing::Span) -> ChatStream
where
    I: Send + 'static,
    M: StreamMachine<I> + Unpin,
{
    Box::pin(Driven {
        provider: provider.to_owned(),
        input: Some(input),
        machine,
        queue: VecDeque::new(),
        asm: StreamAssembler::new(),
        pending_error: None,
        truncated: None,
        span,
    })
}

impl<I, M> Stream for Driven<I, M>
where
    M: StreamMachine<I> + Unpin,
{
    type Item = Result<ChatEvent, ProviderError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let st = self.get_mut();
        loop {
            if let Some(ev) = st.queue.pop_front() {
                st.asm.push(&ev);
                crate::telemetry::record_event(&st.span, &ev);
                return Poll::Ready(Some(Ok(ev)));
            }
            if let Some(err) = st.pending_error.take() {
                crate::telemetry::record_error(&st.span, &err);
                return Poll::Ready(Some(Err(err)));
            }
            if let Some(reason) = st.truncated.take() {
                let err = ProviderError::TruncatedStream {
                    provider: st.provider.clone(),
                    reason,
                    partial: Box::new(st.asm.snapshot()),
                };
                crate::telemetry::record_error(&st.span, &err);
                return Poll::Ready(Some(Err(err)));
            }
            let Some(input) = st.input.as_mut() else {
                return Poll::Ready(None);
            };
            match ready!(input.as_mut().poll_next(cx)) {
                Some(Ok(frame)) => match st.machine.feed(frame, &mut st.queue) {
                    Ok(true) => st.input = None,
                    Ok(false) => {}
                    Err(e) => {
                        st.input = None;
                        st.pending_error = Some(e);
                    }
                },
                Some(Err(e)) => {
                    st.input = None;
                    st.pending_error = Some(e);
                }
                None => {
                    st.input = None;
                    let reason = st.machine.truncated(&mut st.queue);
                    st.truncated = Some(reason);
                }
            }
        }
    }
}

/// Drains a stream into a response (used for providers' non-streaming fallbacks and tests).
pub async fn collect(provider: &str, stream: ChatStream) -> Result<ChatResponse, ProviderError> {
    kagent_core::collect_stream(provider, stream).await
}

/// The normalized finish reason from the provider's raw reason, with tool calls deciding the
/// tool turn whatever the raw reason says.
pub fn finish_reason(
    raw: Option<&str>,
    has_tool_calls: bool,
    map: fn(&str) -> FinishReason,
) -> FinishReason {
    if has_tool_calls {
        return FinishReason::ToolCalls;
    }
    match raw {
        Some(r) if !r.is_empty() => map(r),
        _ => FinishReason::Stop,
    }
}
