//! Stream framings: Server-Sent Events and newline-delimited JSON, with an idle timeout.
//!
//! Every streaming provider reads its response through [`sse_events`] or [`ndjson_lines`]
//! over a [`ByteStream`] (from [`crate::http::byte_stream`], or any stream of byte chunks, such
//! as a recording handed to `openai::decode_chat_stream`).
//!
//! # SSE: sseer
//!
//! Event parsing is done by the `sseer` crate (0.3), which implements the WHATWG rules:
//! `\n`, `\r\n` and `\r` line endings (a `\r` at the end of a chunk waits for the next byte,
//! and one at the very end of the input still ends its line), a leading byte-order mark,
//! `data:` with or without one space, several `data:` lines joined with `\n`, comments
//! (`: keep-alive`) and unknown fields ignored, `event:` names (`message` when absent). It
//! finds line ends with `memchr` and hands out each field as a zero-copy slice of the network
//! chunk, so an event costs no allocation when it arrives inside one chunk; a line split
//! across chunks (or a multi-byte UTF-8 character split across chunks) is joined in one
//! buffer, which keeps decoding linear in the input. Each completed line is checked for
//! UTF-8: an invalid sequence is a [`ProviderError::Decode`] as soon as its line ends.
//!
//! Earlier versions used `eventsource-stream`; its `nom` line parser walked every character
//! and copied the rest of its buffer per line, and it was a third of the decode time of a
//! Chat Completions stream (see `benches/benches/llm_decode.rs`).
//!
//! # NDJSON
//!
//! [`ndjson_lines`] yields one line at a time without the line ending (`\n` or `\r\n`), skips
//! blank lines, and yields a final line that has no trailing newline. Lines wholly inside a
//! chunk are zero-copy slices of it.
//!
//! # Size limits
//!
//! One SSE event (the bytes since the last blank line) or one NDJSON line may be at most
//! [`MAX_EVENT_BYTES`] long; a server that sends more without ending it gets a
//! [`ProviderError::Decode`] instead of an ever-growing buffer.
//!
//! # Timeouts and broken connections
//!
//! [`with_idle_timeout`] turns a gap of more than the configured duration between two chunks
//! into [`ProviderError::Timeout`] with phase [`TimeoutPhase::IdleStream`]. Transport errors from the body
//! arrive as [`ProviderError::Transport`] (see [`crate::http::byte_stream`]). Dropping any of
//! these streams drops the response body and with it the connection. A stream that ends in
//! the middle of an event yields no partial event: the provider's state machine then reports
//! [`ProviderError::TruncatedStream`].

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use bytes_utils::Str;
use futures::{Stream, StreamExt};
use kagent_core::{ProviderError, TimeoutPhase};
use pin_project_lite::pin_project;

/// The longest SSE event or NDJSON line accepted: 16 MiB, as the AWS event-stream frame limit.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// A stream of response body chunks, transport errors already mapped.
pub(crate) type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ProviderError>> + Send>>;

/// One Server-Sent Event. Its fields share the network buffer they arrived in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    event: Str,
    data: Str,
}

impl SseEvent {
    /// An event named `event` (use `message` for the default) carrying `data`.
    #[cfg(test)]
    pub(crate) fn new(event: impl Into<String>, data: impl Into<String>) -> Self {
        SseEvent {
            event: Str::from(event.into()),
            data: Str::from(data.into()),
        }
    }

    /// The `event:` field; `message` when the event had none.
    pub(crate) fn event(&self) -> &str {
        &self.event
    }

    /// The `data:` lines joined with `\n`.
    pub(crate) fn data(&self) -> &str {
        &self.data
    }
}

/// A stream of SSE events.
pub(crate) type SseStream = Pin<Box<dyn Stream<Item = Result<SseEvent, ProviderError>> + Send>>;

/// A stream of NDJSON lines (without their line endings, never blank).
pub(crate) type LineStream = Pin<Box<dyn Stream<Item = Result<Bytes, ProviderError>> + Send>>;

/// Wraps a byte stream so that waiting longer than `idle` for the next chunk fails with
/// [`ProviderError::Timeout`] ([`TimeoutPhase::IdleStream`]). `None` disables the timeout.
pub(crate) fn with_idle_timeout(
    provider: &str,
    bytes: ByteStream,
    idle: Option<Duration>,
) -> ByteStream {
    let Some(idle) = idle else {
        return bytes;
    };
    let provider = provider.to_owned();
    Box::pin(futures::stream::unfold(
        (bytes, provider, false),
        move |(mut bytes, provider, done)| async move {
            if done {
                return None;
            }
            match tokio::time::timeout(idle, bytes.next()).await {
                Ok(Some(item)) => Some((item, (bytes, provider, false))),
                Ok(None) => None,
                Err(_) => {
                    let err =
                        ProviderError::timeout(provider.clone(), TimeoutPhase::IdleStream, idle);
                    // Drop the body (and the connection) right away.
                    drop(bytes);
                    Some((
                        Err(err),
                        (Box::pin(futures::stream::empty()), provider, true),
                    ))
                }
            }
        },
    ))
}

/// Decodes Server-Sent Events from a byte stream (see the module docs).
pub(crate) fn sse_events(provider: &str, bytes: ByteStream) -> SseStream {
    sse_events_bounded(provider, bytes, MAX_EVENT_BYTES)
}

fn sse_events_bounded(provider: &str, bytes: ByteStream, max: usize) -> SseStream {
    use sseer::errors::EventStreamError;
    let bytes = bounded(provider, bytes, Boundary::BlankLine, max);
    let provider = provider.to_owned();
    Box::pin(sseer::EventStream::new(bytes).map(move |item| match item {
        Ok(ev) => Ok(SseEvent {
            event: ev.event,
            data: ev.data,
        }),
        Err(EventStreamError::Transport(e)) => Err(e),
        Err(EventStreamError::Utf8Error(e)) => Err(ProviderError::decode(
            provider.clone(),
            "event stream is not valid UTF-8",
            Some(Box::new(e)),
        )),
    }))
}

/// Decodes newline-delimited JSON into lines (see the module docs).
///
/// A line longer than [`MAX_EVENT_BYTES`] is a decode error; transport errors pass through.
pub(crate) fn ndjson_lines(provider: &str, bytes: ByteStream) -> LineStream {
    ndjson_lines_bounded(provider, bytes, MAX_EVENT_BYTES)
}

fn ndjson_lines_bounded(provider: &str, bytes: ByteStream, max: usize) -> LineStream {
    let bytes = bounded(provider, bytes, Boundary::LineEnd, max);
    Box::pin(NdjsonLines::new(bytes).filter_map(|item| {
        futures::future::ready(match item {
            Ok(line) => {
                let trimmed = line.trim_ascii();
                if trimmed.is_empty() {
                    None
                } else {
                    Some(Ok(line.slice_ref(trimmed)))
                }
            }
            Err(e) => Some(Err(e)),
        })
    }))
}

/// What ends a unit of the framing, for [`bounded`].
#[derive(Clone, Copy)]
enum Boundary {
    /// SSE: an empty line ends an event.
    BlankLine,
    /// NDJSON: a line end ends a line.
    LineEnd,
}

/// Counts the bytes of the unit (event or line) still open at the end of each chunk.
#[derive(Default)]
struct OpenUnit {
    pending: usize,
    /// Line ends in a row (a `\r\n` counts once).
    line_ends: u8,
    last_cr: bool,
}

impl OpenUnit {
    fn feed(&mut self, chunk: &[u8], boundary: Boundary) -> usize {
        let mut start = 0;
        for at in memchr::memchr2_iter(b'\n', b'\r', chunk) {
            if at > start {
                self.content(at - start);
            }
            let cr = chunk.get(at) == Some(&b'\r');
            if !cr && self.last_cr {
                // The `\n` of a `\r\n`: the same line end.
                self.last_cr = false;
            } else {
                self.last_cr = cr;
                self.line_ends = self.line_ends.saturating_add(1);
                if matches!(boundary, Boundary::LineEnd) || self.line_ends >= 2 {
                    self.pending = 0;
                }
            }
            start = at + 1;
        }
        if start < chunk.len() {
            self.content(chunk.len() - start);
        }
        self.pending
    }

    fn content(&mut self, n: usize) {
        self.line_ends = 0;
        self.last_cr = false;
        self.pending = self.pending.saturating_add(n);
    }
}

/// Passes `bytes` through until one event or line grows past `max` bytes, then fails with
/// [`ProviderError::Decode`] and ends.
fn bounded(provider: &str, bytes: ByteStream, boundary: Boundary, max: usize) -> ByteStream {
    let provider = provider.to_owned();
    Box::pin(futures::stream::unfold(
        (bytes, OpenUnit::default(), false),
        move |(mut bytes, mut open, done)| {
            let provider = provider.clone();
            async move {
                if done {
                    return None;
                }
                match bytes.next().await? {
                    Ok(chunk) if open.feed(&chunk, boundary) > max => {
                        let what = match boundary {
                            Boundary::BlankLine => "an event",
                            Boundary::LineEnd => "a line",
                        };
                        let err = ProviderError::decode(
                            provider,
                            format!(
                                "the stream sent {what} longer than {max} bytes without ending it"
                            ),
                            None,
                        );
                        Some((Err(err), (bytes, open, true)))
                    }
                    Ok(chunk) => Some((Ok(chunk), (bytes, open, false))),
                    Err(e) => Some((Err(e), (bytes, open, true))),
                }
            }
        },
    ))
}

pin_project! {
    /// Splits a byte stream into lines, joining lines split across chunks.
    struct NdjsonLines {
        #[pin]
        inner: ByteStream,
        // The start of a line whose end has not arrived yet.
        partial: BytesMut,
        // Lines split from the last chunk but not yet returned.
        ready: VecDeque<Bytes>,
        finished: bool,
    }
}

impl NdjsonLines {
    fn new(inner: ByteStream) -> Self {
        NdjsonLines {
            inner,
            partial: BytesMut::new(),
            ready: VecDeque::new(),
            finished: false,
        }
    }
}

impl Stream for NdjsonLines {
    type Item = Result<Bytes, ProviderError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(line) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(line)));
            }
            if *this.finished {
                return Poll::Ready(None);
            }
            match this.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => {
                    *this.finished = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(chunk))) => split_ndjson(chunk, this.partial, this.ready),
                Poll::Ready(None) => {
                    *this.finished = true;
                    if !this.partial.is_empty() {
                        return Poll::Ready(Some(Ok(this.partial.split().freeze())));
                    }
                    return Poll::Ready(None);
                }
            }
        }
    }
}

/// Splits a chunk into complete lines (pushed to `ready`, without `\n`) and keeps the tail in
/// `partial`. Lines wholly inside the chunk are zero-copy slices of it.
fn split_ndjson(chunk: Bytes, partial: &mut BytesMut, ready: &mut VecDeque<Bytes>) {
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', &chunk) {
        let piece = chunk.slice(start..nl);
        if partial.is_empty() {
            ready.push_back(piece);
        } else {
            partial.extend_from_slice(&piece);
            ready.push_back(partial.split().freeze());
        }
        start = nl + 1;
    }
    if start < chunk.len() {
        partial.extend_from_slice(chunk.get(start..).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    fn chunks(parts: &[&[u8]]) -> ByteStream {
        let v: Vec<Result<Bytes, ProviderError>> = parts
            .iter()
            .map(|p| Ok(Bytes::copy_from_slice(p)))
            .collect();
        Box::pin(futures::stream::iter(v))
    }

    async fn sse(parts: &[&[u8]]) -> Result<Vec<SseEvent>, ProviderError> {
        sse_events("t", chunks(parts)).try_collect().await
    }

    async fn ndjson(parts: &[&[u8]]) -> Vec<String> {
        ndjson_lines("t", chunks(parts))
            .map_ok(|b| String::from_utf8(b.to_vec()).unwrap())
            .try_collect()
            .await
            .unwrap()
    }

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent::new(event, data)
    }

    #[tokio::test]
    async fn every_split_point_of_a_multibyte_stream_decodes_the_same() {
        let whole = "event: delta\ndata: {\"t\":\"héllo 👋\"}\n\ndata:x\r\n\r\n".as_bytes();
        let expected = vec![ev("delta", "{\"t\":\"héllo 👋\"}"), ev("message", "x")];
        for i in 0..=whole.len() {
            for j in i..=whole.len() {
                let got = sse(&[&whole[..i], &whole[i..j], &whole[j..]])
                    .await
                    .unwrap();
                assert_eq!(got, expected, "split at {i},{j}");
            }
        }
    }

    #[tokio::test]
    async fn an_event_that_never_ends_is_an_error_not_a_growing_buffer() {
        // One line without an end, several chunks.
        let parts: Vec<&[u8]> = vec![b"data: ", &[b'x'; 40], &[b'y'; 40]];
        let got: Result<Vec<SseEvent>, _> = sse_events_bounded("t", chunks(&parts), 64)
            .try_collect()
            .await;
        assert!(
            matches!(got, Err(ProviderError::Decode { ref message, .. }) if message.contains("64 bytes")),
            "{got:?}"
        );
        // Many short `data:` lines and no blank line: the event still grows.
        let lines = "data: abcdefgh\n".repeat(8);
        let got: Result<Vec<SseEvent>, _> =
            sse_events_bounded("t", chunks(&[lines.as_bytes()]), 64)
                .try_collect()
                .await;
        assert!(matches!(got, Err(ProviderError::Decode { .. })), "{got:?}");
        // Events under the limit pass however many there are, whatever the line endings.
        let many = "data: abcdefgh\r\n\r\ndata: x\r\rdata: y\n\n".repeat(50);
        let got: Vec<SseEvent> = sse_events_bounded("t", chunks(&[many.as_bytes()]), 64)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(got.len(), 150);
        // A `\r\n` split across chunks is one line end, not a blank line.
        let got: Result<Vec<SseEvent>, _> = sse_events_bounded(
            "t",
            chunks(&[
                b"data: 0123456789012345678901234567890\r",
                b"\ndata: 0123456789012345678901234567890\n",
            ]),
            64,
        )
        .try_collect()
        .await;
        assert!(matches!(got, Err(ProviderError::Decode { .. })), "{got:?}");
    }

    #[tokio::test]
    async fn an_ndjson_line_that_never_ends_is_an_error() {
        let long = [b'{'; 100];
        let got: Result<Vec<Bytes>, _> =
            ndjson_lines_bounded("t", chunks(&[b"{}\n", &long[..50], &long[50..]]), 64)
                .try_collect()
                .await;
        assert!(
            matches!(got, Err(ProviderError::Decode { ref message, .. }) if message.contains("a line")),
            "{got:?}"
        );
        let ok: Vec<Bytes> =
            ndjson_lines_bounded("t", chunks(&["{}\n".repeat(100).as_bytes()]), 64)
                .try_collect()
                .await
                .unwrap();
        assert_eq!(ok.len(), 100);
    }

    #[tokio::test]
    async fn line_endings_spaces_comments_multiline() {
        let got = sse(&[b": keep-alive\r\nid: 7\rretry: 10\ndata:a\ndata: b\r\rdata:  c\r\n\r\n"])
            .await
            .unwrap();
        assert_eq!(got, vec![ev("message", "a\nb"), ev("message", " c")]);
    }

    #[tokio::test]
    async fn final_lone_cr_dispatches_the_last_event() {
        let got = sse(&[b"data: a\r\r"]).await.unwrap();
        assert_eq!(got, vec![ev("message", "a")]);
    }

    #[tokio::test]
    async fn invalid_utf8_fails_fast() {
        let err = sse(&[b"data: \xff\xfe\n\n"]).await.unwrap_err();
        assert!(matches!(err, ProviderError::Decode { .. }), "{err:?}");
        // A bad byte in the middle of a chunk fails when its line ends, and the error comes
        // before any later event.
        let mut s = sse_events("t", chunks(&[b"data: a\n\ndata: \xc3(\n\ndata: b\n\n"]));
        assert_eq!(s.next().await.unwrap().unwrap(), ev("message", "a"));
        assert!(matches!(
            s.next().await.unwrap(),
            Err(ProviderError::Decode { .. })
        ));
        // Input that ends inside a character (and inside an event) yields no event; the
        // provider's state machine reports the truncation.
        assert_eq!(sse(&[b"data: \xc3"]).await.unwrap(), vec![]);
    }

    #[tokio::test]
    async fn byte_order_mark_split_across_chunks_is_skipped() {
        let got = sse(&[b"\xef", b"\xbb\xbfdata: a\n", b"\n"]).await.unwrap();
        assert_eq!(got, vec![ev("message", "a")]);
    }

    #[tokio::test]
    async fn long_event_split_into_one_byte_chunks() {
        let data = "x".repeat(10_000);
        let body = format!("data: {data}\n\n");
        let parts: Vec<&[u8]> = body.as_bytes().chunks(1).collect();
        assert_eq!(sse(&parts).await.unwrap(), vec![ev("message", &data)]);
    }

    #[tokio::test]
    async fn many_events_in_one_chunk() {
        let mut big = String::new();
        for i in 0..2000 {
            big.push_str(&format!("data: {i}\n\n"));
        }
        let got = sse(&[big.as_bytes()]).await.unwrap();
        assert_eq!(got.len(), 2000);
        assert_eq!(got[1999].data, "1999");
    }

    #[tokio::test]
    async fn ndjson_lines_split_and_terminated_any_way() {
        assert_eq!(
            ndjson(&[b"{\"a\":1}\n\n{\"b\"", b":2}\r\n  \n{\"c\":3}"]).await,
            vec!["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]
        );
        assert_eq!(ndjson(&[b"", b"\n", b"x\r", b"\n"]).await, vec!["x"]);
    }

    #[tokio::test]
    async fn transport_errors_pass_through() {
        let items: Vec<Result<Bytes, ProviderError>> = vec![
            Ok(Bytes::from_static(b"data: a\n\n")),
            Err(ProviderError::transport("t", "reset", None)),
        ];
        let mut s = sse_events("t", Box::pin(futures::stream::iter(items)));
        assert_eq!(s.next().await.unwrap().unwrap(), ev("message", "a"));
        assert!(matches!(
            s.next().await.unwrap(),
            Err(ProviderError::Transport { .. })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_timeout_fires() {
        let s: ByteStream = Box::pin(
            futures::stream::iter(vec![Ok(Bytes::from_static(b"data: a\n\n"))])
                .chain(futures::stream::pending()),
        );
        let s = with_idle_timeout("t", s, Some(Duration::from_secs(5)));
        let mut events = sse_events("t", s);
        assert_eq!(events.next().await.unwrap().unwrap(), ev("message", "a"));
        match events.next().await.unwrap() {
            Err(ProviderError::Timeout { phase, after, .. }) => {
                assert_eq!(phase, TimeoutPhase::IdleStream);
                assert_eq!(after, Duration::from_secs(5));
            }
            other => panic!("expected timeout, got {other:?}"),
        }
        assert!(events.next().await.is_none());
    }
}
