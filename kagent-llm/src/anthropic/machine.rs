//! Runs a provider stream state machine over a decoded input stream (SSE events, AWS
//! event-stream messages), producing a [`ChatStream`]. Shared by the Anthropic, Gemini and
//! Bedrock providers.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::{Stream, StreamExt};
use kagent_core::{ChatEvent, ChatStream, ProviderError};

/// A per-provider state machine: input items in, chat events out.
pub(crate) trait Machine<I>: Send + 'static {
    /// One decoded input item.
    fn on_item(&mut self, item: I) -> Result<Vec<ChatEvent>, ProviderError>;
    /// The input ended: closing events, or the truncation error.
    fn on_end(&mut self) -> Result<Vec<ChatEvent>, ProviderError>;
}

struct Driven<S, M> {
    input: S,
    machine: M,
    queue: VecDeque<ChatEvent>,
    done: bool,
    span: tracing::Span,
}

/// Drives `machine` over `input`. The first error ends the stream. Every event passing by is
/// recorded on `span` by [`crate::telemetry`] (OpenTelemetry GenAI attribute names), and the
/// span is entered while the input is polled.
///
/// Unlike [`crate::driver::drive`], the machine itself decides at the end of input whether the
/// stream was complete: Gemini has no terminal event (a stream is complete when it closes
/// after a `finishReason`), and Bedrock's usage arrives after `messageStop`.
pub(crate) fn drive<I, S, M>(input: S, machine: M, span: tracing::Span) -> ChatStream
where
    I: Send + 'static,
    S: Stream<Item = Result<I, ProviderError>> + Send + Unpin + 'static,
    M: Machine<I> + Unpin,
{
    Box::pin(Driven {
        input,
        machine,
        queue: VecDeque::new(),
        done: false,
        span,
    })
}

impl<I, S, M> Stream for Driven<S, M>
where
    S: Stream<Item = Result<I, ProviderError>> + Unpin,
    M: Machine<I> + Unpin,
{
    type Item = Result<ChatEvent, ProviderError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let st = self.get_mut();
        let _entered = st.span.enter();
        loop {
            if let Some(ev) = st.queue.pop_front() {
                crate::telemetry::record_event(&st.span, &ev);
                return Poll::Ready(Some(Ok(ev)));
            }
            if st.done {
                return Poll::Ready(None);
            }
            let step = match ready!(st.input.poll_next_unpin(cx)) {
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
                    crate::telemetry::record_error(&st.span, &e);
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }
}
