//! Stream framings: Server-Sent Events and newline-delimited JSON, with an idle timeout.
//!
//! Every streaming provider reads its response through [`sse_events`] or [`ndjson_lines`]
//! over a [`ByteStream`] (from [`crate::http::byte_stream`], or any stream of byte chunks in
//! tests and benches).
//!
//! # SSE: eventsource-stream, and what this module adds around it
//!
//! Event parsing is done by the `eventsource-stream` crate (0.2.3), which implements the
//! WHATWG rules: `\n`, `\r\n` and `\r` line endings (a `\r` at the end of a chunk waits for
//! the next byte), `data:` with or without one space, several `data:` lines joined with `\n`,
//! comments (`: keep-alive`) and unknown fields ignored, `event:` names. It also buffers a
//! multi-byte UTF-8 character split across chunks. Three things are added by [`LineChunks`],
//! an adapter in front of it:
//!
//! 1. **Linear time.** `eventsource-stream` removes each parsed line from its buffer with
//!    `String::split_off`, which copies the rest of the buffer: a network chunk holding
//!    many events costs O(lines × chunk) copies (a 64 KiB chunk of 100-byte lines copies
//!    ~40 MB). Feeding it one event at a time (zero-copy `Bytes` slices ending at the event's
//!    blank line, at most 16 lines) keeps every copy O(event size).
//! 2. **Invalid UTF-8 fails fast.** Its UTF-8 adapter keeps undecodable bytes in its buffer
//!    and waits for more input, so a stream with a bad byte would stall (and grow) until the
//!    connection closes. Here the bytes are validated first; a split character is carried over
//!    (at most 3 bytes), an invalid sequence is a [`ProviderError::Decode`] at once.
//! 3. **A final lone `\r`.** A stream whose last line ends in a bare `\r` would never dispatch
//!    its last event (the parser waits for a possible `\n`); at end of input a `\n` is supplied.
//!
//! # NDJSON
//!
//! [`ndjson_lines`] yields one line at a time without the line ending (`\n` or `\r\n`), skips
//! blank lines, and yields a final line that has no trailing newline.
//!
//! # Timeouts and broken connections
//!
//! [`with_idle_timeout`] turns a gap of more than the configured duration between two chunks
//! into [`ProviderError::Timeout`] with phase `idle stream`. Transport errors from the body
//! arrive as [`ProviderError::Transport`] (see [`crate::http::byte_stream`]). Dropping any of
//! these streams drops the response body and with it the connection.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use kagent_core::ProviderError;
use pin_project_lite::pin_project;

/// A stream of response body chunks, transport errors already mapped.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ProviderError>> + Send>>;

/// One Server-Sent Event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; `message` when the event had none.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// A stream of SSE events.
pub type SseStream = Pin<Box<dyn Stream<Item = Result<SseEvent, ProviderError>> + Send>>;

/// A stream of NDJSON lines (without their line endings, never blank).
pub type LineStream = Pin<Box<dyn Stream<Item = Result<Bytes, ProviderError>> + Send>>;

/// Wraps a byte stream so that waiting longer than `idle` for the next chunk fails with
/// [`ProviderError::Timeout`] (phase `idle stream`). `None` disables the timeout.
pub fn with_idle_timeout(provider: &str, bytes: ByteStream, idle: Option<Duration>) -> ByteStream {
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
                    let err = ProviderError::Timeout {
                        provider: provider.clone(),
                        phase: "idle stream".into(),
                        after: idle,
                    };
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
pub fn sse_events(provider: &str, bytes: ByteStream) -> SseStream {
    use eventsource_stream::{EventStreamError, Eventsource};
    let provider = provider.to_owned();
    let lines = LineChunks::new(provider.clone(), bytes, LineMode::Sse);
    Box::pin(lines.eventsource().map(move |item| match item {
        Ok(ev) => Ok(SseEvent {
            event: ev.event,
            data: ev.data,
        }),
        Err(EventStreamError::Transport(e)) => Err(e),
        Err(EventStreamError::Utf8(e)) => Err(ProviderError::Decode {
            provider: provider.clone(),
            message: "event stream is not valid UTF-8".into(),
            source: Some(Box::new(e)),
        }),
        Err(EventStreamError::Parser(e)) => Err(ProviderError::Decode {
            provider: provider.clone(),
            message: format!("invalid event stream line ({:?})", e.code),
            source: None,
        }),
    }))
}

/// Decodes newline-delimited JSON into lines (see the module docs).
pub fn ndjson_lines(provider: &str, bytes: ByteStream) -> LineStream {
    Box::pin(
        LineChunks::new(provider.to_owned(), bytes, LineMode::Ndjson).filter_map(|item| {
            futures::future::ready(match item {
                Ok(line) => {
                    let trimmed = trim_line(&line);
                    if trimmed.is_empty() {
                        None
                    } else {
                        Some(Ok(line.slice_ref(trimmed)))
                    }
                }
                Err(e) => Some(Err(e)),
            })
        }),
    )
}

/// Strips the line ending and surrounding ASCII whitespace.
fn trim_line(line: &[u8]) -> &[u8] {
    line.trim_ascii()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineMode {
    /// Pieces end after every `\n` or `\r` (eventsource-stream does the line parsing).
    Sse,
    /// Whole lines ending in `\n`, joined across chunks.
    Ndjson,
}

pin_project! {
    /// Splits a byte stream into pieces that end at line endings, validating UTF-8 (SSE) or
    /// joining partial lines (NDJSON). See the module docs for why.
    pub struct LineChunks {
        #[pin]
        inner: ByteStream,
        provider: String,
        mode: LineMode,
        // Validated bytes not yet handed out.
        current: Bytes,
        // SSE: an incomplete UTF-8 sequence at the end of the last chunk (at most 3 bytes).
        carry: Vec<u8>,
        // NDJSON: the start of a line whose end has not arrived yet.
        partial: BytesMut,
        // Lines split from `current` but not yet returned (NDJSON).
        ready: VecDeque<Bytes>,
        last_was_cr: bool,
        finished: bool,
    }
}

impl LineChunks {
    fn new(provider: String, inner: ByteStream, mode: LineMode) -> Self {
        LineChunks {
            inner,
            provider,
            mode,
            current: Bytes::new(),
            carry: Vec::new(),
            partial: BytesMut::new(),
            ready: VecDeque::new(),
            last_was_cr: false,
            finished: false,
        }
    }
}

fn decode_error(
    provider: &str,
    message: &str,
    source: Option<std::str::Utf8Error>,
) -> ProviderError {
    ProviderError::Decode {
        provider: provider.to_owned(),
        message: message.to_owned(),
        source: source.map(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
    }
}

impl Stream for LineChunks {
    type Item = Result<Bytes, ProviderError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            match *this.mode {
                LineMode::Sse => {
                    if !this.current.is_empty() {
                        let end = sse_piece_end(this.current);
                        let piece = this.current.split_to(end);
                        *this.last_was_cr = piece.last() == Some(&b'\r');
                        return Poll::Ready(Some(Ok(piece)));
                    }
                }
                LineMode::Ndjson => {
                    if let Some(line) = this.ready.pop_front() {
                        return Poll::Ready(Some(Ok(line)));
                    }
                }
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
                Poll::Ready(Some(Ok(chunk))) => match *this.mode {
                    LineMode::Sse => {
                        let data = if this.carry.is_empty() {
                            chunk
                        } else {
                            let mut joined = std::mem::take(this.carry);
                            joined.extend_from_slice(&chunk);
                            Bytes::from(joined)
                        };
                        match std::str::from_utf8(&data) {
                            Ok(_) => *this.current = data,
                            Err(e) if e.error_len().is_none() => {
                                let valid = e.valid_up_to();
                                this.carry
                                    .extend_from_slice(data.get(valid..).unwrap_or_default());
                                *this.current = data.slice(..valid);
                            }
                            Err(e) => {
                                *this.finished = true;
                                return Poll::Ready(Some(Err(decode_error(
                                    this.provider,
                                    "event stream is not valid UTF-8",
                                    Some(e),
                                ))));
                            }
                        }
                    }
                    LineMode::Ndjson => split_ndjson(chunk, this.partial, this.ready),
                },
                Poll::Ready(None) => {
                    *this.finished = true;
                    match *this.mode {
                        LineMode::Sse => {
                            if !this.carry.is_empty() {
                                return Poll::Ready(Some(Err(decode_error(
                                    this.provider,
                                    "event stream ended inside a UTF-8 character",
                                    None,
                                ))));
                            }
                            if *this.last_was_cr {
                                // See module docs, point 3.
                                return Poll::Ready(Some(Ok(Bytes::from_static(b"\n"))));
                            }
                        }
                        LineMode::Ndjson => {
                            if !this.partial.is_empty() {
                                let last = this.partial.split().freeze();
                                return Poll::Ready(Some(Ok(last)));
                            }
                        }
                    }
                    return Poll::Ready(None);
                }
            }
        }
    }
}

/// Most lines handed to eventsource-stream in one piece (bounds its per-line buffer copies).
const MAX_LINES_PER_PIECE: usize = 16;

/// End of the next SSE piece: just after the blank line that ends the next event, after
/// [`MAX_LINES_PER_PIECE`] lines, or the whole input when it holds no complete event. A `\r\n`
/// counts as one line ending.
fn sse_piece_end(data: &[u8]) -> usize {
    let mut line_start = 0;
    let mut lines = 0;
    for i in memchr::memchr2_iter(b'\n', b'\r', data) {
        let is_crlf_tail = data.get(i) == Some(&b'\n')
            && i > 0
            && i == line_start
            && data.get(i - 1) == Some(&b'\r');
        if is_crlf_tail {
            line_start = i + 1;
            continue;
        }
        let blank = i == line_start;
        lines += 1;
        line_start = i + 1;
        if blank || lines >= MAX_LINES_PER_PIECE {
            return i + 1;
        }
    }
    data.len()
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
        SseEvent {
            event: event.into(),
            data: data.into(),
        }
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
        let err = sse(&[b"data: \xc3"]).await.unwrap_err();
        assert!(matches!(err, ProviderError::Decode { .. }), "{err:?}");
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
            Err(ProviderError::Transport {
                provider: "t".into(),
                message: "reset".into(),
                source: None,
            }),
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
                assert_eq!(phase, "idle stream");
                assert_eq!(after, Duration::from_secs(5));
            }
            other => panic!("expected timeout, got {other:?}"),
        }
        assert!(events.next().await.is_none());
    }
}
