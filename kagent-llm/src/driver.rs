//! The one stream driver of every provider: it feeds decoded frames (SSE events, NDJSON lines,
//! AWS event-stream messages) to the provider's [`StreamMachine`], yields the [`ChatEvent`]s
//! the machine produces, records OpenTelemetry GenAI attributes on the call's span, and turns
//! an input that ends too early into [`ProviderError::TruncatedStream`] carrying everything
//! assembled so far.
//!
//! Providers differ in how a stream ends, and the machine says which applies:
//! - a terminal frame (`data: [DONE]`, Anthropic's `message_stop`, Ollama's `"done": true`,
//!   `response.completed`): [`Flow::Done`], after which the rest of the input is not read and
//!   the connection is dropped;
//! - the end of the input (Gemini has no terminal event; Bedrock's usage arrives after
//!   `messageStop`): [`StreamMachine::end`] pushes the closing events and says whether the
//!   stream was [`End::Complete`] or [`End::Truncated`].

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::Stream;
use kagent_core::{
    ChatEvent, ChatResponse, ChatStream, ProviderError, SecretValues, StreamAssembler,
};

/// What a frame means for the rest of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Keep reading.
    Continue,
    /// The terminal frame: the answer is complete; stop reading.
    Done,
}

/// How the input ended, according to the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// The answer is complete.
    Complete,
    /// The answer is incomplete; the reason says what was missing.
    Truncated(String),
}

/// A provider's stream state machine over frames of type `I`. Pure: no I/O.
pub(crate) trait StreamMachine<I>: Send + 'static {
    /// Feeds one frame and pushes the events it completes. An error ends the stream after the
    /// events already pushed.
    fn feed(&mut self, frame: I, out: &mut VecDeque<ChatEvent>) -> Result<Flow, ProviderError>;

    /// The input ended without [`Flow::Done`]: push the events that can still be completed and
    /// say whether the answer is complete (or fail with the error the end means, such as a
    /// prompt blocked by a content filter).
    fn end(&mut self, out: &mut VecDeque<ChatEvent>) -> Result<End, ProviderError>;
}

type Input<I> = Pin<Box<dyn Stream<Item = Result<I, ProviderError>> + Send>>;

struct Driven<I, M> {
    provider: String,
    input: Option<Input<I>>,
    machine: M,
    queue: VecDeque<ChatEvent>,
    asm: StreamAssembler,
    failure: Option<Failure>,
    span: tracing::Span,
    /// What the request sent that an error event must not quote.
    credentials: SecretValues,
}

/// How a stream ends once the queued events are delivered.
enum Failure {
    Error(ProviderError),
    /// Reported with the partial answer assembled from every delivered event.
    Truncated(String),
}

/// Runs `machine` over `input` as a [`ChatStream`].
///
/// The driver is a plain [`Stream`] whose state stays in one place: each event costs a queue
/// pop, not a move of the whole state (which a `futures::stream::unfold` would do). The span
/// is entered while the input is polled, so logs of the decoder belong to the call.
pub(crate) fn drive<I, M>(
    provider: &str,
    input: Input<I>,
    machine: M,
    span: tracing::Span,
    credentials: SecretValues,
) -> ChatStream
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
        failure: None,
        span,
        credentials,
    })
}

impl<I, M> Stream for Driven<I, M>
where
    M: StreamMachine<I> + Unpin,
{
    type Item = Result<ChatEvent, ProviderError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let st = self.get_mut();
        let _entered = st.span.enter();
        loop {
            if let Some(ev) = st.queue.pop_front() {
                st.asm.push(&ev);
                crate::telemetry::record_event(&st.span, &ev);
                return Poll::Ready(Some(Ok(ev)));
            }
            if let Some(failure) = st.failure.take() {
                let err = match failure {
                    Failure::Error(e) => e,
                    Failure::Truncated(reason) => {
                        ProviderError::truncated(st.provider.clone(), reason, st.asm.snapshot())
                    }
                };
                // An error event that quotes the request's credentials (a gateway echoing the
                // key) loses them before it is logged or returned.
                let err = st.credentials.redact_provider_error(err);
                crate::telemetry::record_error(&st.span, &err);
                return Poll::Ready(Some(Err(err)));
            }
            let Some(input) = st.input.as_mut() else {
                return Poll::Ready(None);
            };
            match ready!(input.as_mut().poll_next(cx)) {
                Some(Ok(frame)) => match st.machine.feed(frame, &mut st.queue) {
                    Ok(Flow::Continue) => {}
                    Ok(Flow::Done) => st.input = None,
                    Err(e) => {
                        st.input = None;
                        st.failure = Some(Failure::Error(e));
                    }
                },
                Some(Err(e)) => {
                    st.input = None;
                    st.failure = Some(Failure::Error(e));
                }
                None => {
                    st.input = None;
                    st.failure = match st.machine.end(&mut st.queue) {
                        Ok(End::Complete) => None,
                        Ok(End::Truncated(reason)) => Some(Failure::Truncated(reason)),
                        Err(e) => Some(Failure::Error(e)),
                    };
                }
            }
        }
    }
}

/// Runs `machine` over frames that are all in memory (a non-streamed answer fed as one
/// frame) and assembles the response, with the same end-of-input rules as [`drive`].
pub(crate) fn run_to_end<I, M>(
    provider: &str,
    frames: impl IntoIterator<Item = I>,
    mut machine: M,
) -> Result<ChatResponse, ProviderError>
where
    M: StreamMachine<I>,
{
    let mut queue = VecDeque::new();
    let mut asm = StreamAssembler::new();
    let mut done = false;
    for frame in frames {
        let flow = machine.feed(frame, &mut queue)?;
        for ev in queue.drain(..) {
            asm.push_owned(ev);
        }
        if flow == Flow::Done {
            done = true;
            break;
        }
    }
    if !done {
        let end = machine.end(&mut queue)?;
        for ev in queue.drain(..) {
            asm.push_owned(ev);
        }
        if let End::Truncated(reason) = end {
            return Err(ProviderError::truncated(
                provider,
                reason,
                asm.into_response(),
            ));
        }
    }
    asm.finish(provider)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use kagent_core::FinishReason;

    /// Frames are texts; `!` is terminal, `?` fails; at the end of input the stream is complete
    /// only after a `.`.
    struct Toy {
        saw_dot: bool,
        terminal: bool,
    }

    impl StreamMachine<&'static str> for Toy {
        fn feed(
            &mut self,
            frame: &'static str,
            out: &mut VecDeque<ChatEvent>,
        ) -> Result<Flow, ProviderError> {
            match frame {
                "?" => Err(ProviderError::decode("toy", "bad frame", None)),
                "!" if self.terminal => {
                    out.push_back(ChatEvent::Finish {
                        reason: FinishReason::Stop,
                        raw: None,
                    });
                    Ok(Flow::Done)
                }
                "." => {
                    self.saw_dot = true;
                    Ok(Flow::Continue)
                }
                text => {
                    out.push_back(ChatEvent::TextDelta { text: text.into() });
                    Ok(Flow::Continue)
                }
            }
        }

        fn end(&mut self, out: &mut VecDeque<ChatEvent>) -> Result<End, ProviderError> {
            out.push_back(ChatEvent::TextDelta { text: "~".into() });
            if self.saw_dot {
                out.push_back(ChatEvent::Finish {
                    reason: FinishReason::Stop,
                    raw: None,
                });
                Ok(End::Complete)
            } else {
                Ok(End::Truncated("no dot".into()))
            }
        }
    }

    fn toy(terminal: bool) -> Toy {
        Toy {
            saw_dot: false,
            terminal,
        }
    }

    async fn run(frames: Vec<&'static str>, m: Toy) -> (String, Option<ProviderError>) {
        let input = Box::pin(futures::stream::iter(frames.into_iter().map(Ok)));
        let mut s = drive("toy", input, m, tracing::Span::none(), SecretValues::new());
        let mut text = String::new();
        while let Some(item) = s.next().await {
            match item {
                Ok(ChatEvent::TextDelta { text: t }) => text.push_str(&t),
                Ok(_) => {}
                Err(e) => {
                    assert!(s.next().await.is_none(), "nothing after an error");
                    return (text, Some(e));
                }
            }
        }
        (text, None)
    }

    #[tokio::test]
    async fn a_terminal_frame_stops_reading() {
        let (text, err) = run(vec!["a", "!", "never"], toy(true)).await;
        assert_eq!(text, "a");
        assert!(err.is_none());
    }

    #[tokio::test]
    async fn the_machine_decides_at_the_end_of_input() {
        let (text, err) = run(vec!["a", ".", "b"], toy(false)).await;
        assert_eq!(text, "ab~");
        assert!(err.is_none());
        let (text, err) = run(vec!["a", "b"], toy(false)).await;
        assert_eq!(text, "ab~");
        match err {
            Some(ProviderError::TruncatedStream {
                partial, reason, ..
            }) => {
                // The partial output includes what `end` pushed.
                assert_eq!(partial.message.text_content(), "ab~");
                assert_eq!(reason, "no dot");
            }
            other => panic!("expected truncation, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn events_before_an_error_are_delivered_then_the_error() {
        let (text, err) = run(vec!["a", "?", "b"], toy(false)).await;
        assert_eq!(text, "a");
        assert!(matches!(err, Some(ProviderError::Decode { .. })));
    }

    #[test]
    fn run_to_end_assembles_or_reports_truncation() {
        let r = run_to_end("toy", ["a", "."], toy(false)).unwrap();
        assert_eq!(r.message.text_content(), "a~");
        let r = run_to_end("toy", ["a", "!", "b"], toy(true)).unwrap();
        assert_eq!(r.message.text_content(), "a");
        match run_to_end("toy", ["a"], toy(false)) {
            Err(ProviderError::TruncatedStream { partial, .. }) => {
                assert_eq!(partial.message.text_content(), "a~");
            }
            other => panic!("expected truncation, got {other:?}"),
        }
    }
}
