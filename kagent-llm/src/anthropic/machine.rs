//! Runs a provider stream state machine over a decoded input stream (SSE events, AWS
//! event-stream messages), producing a [`ChatStream`]. Shared by the Anthropic, Gemini and
//! Bedrock providers.

use std::collections::VecDeque;

use futures::{Stream, StreamExt};
use kagent_core::{ChatEvent, ChatStream, ProviderError};
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
/// recorded on `span` by [`crate::telemetry`] (OpenTelemetry GenAI attribute names).
///
/// Unlike [`crate::driver::drive`], the machine itself decides at the end of input whether the
/// stream was complete: Gemini has no terminal event (a stream is complete when it closes
/// after a `finishReason`), and Bedrock's usage arrives after `messageStop`.
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
                    crate::telemetry::record_event(&span, &ev);
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
                        crate::telemetry::record_error(&span, &e);
                        return Some((Err(e), st));
                    }
                }
            }
        }
        .instrument(inner)
    }))
}
