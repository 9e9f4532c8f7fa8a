//! The HTTP side: building a `reqwest::Client` fit for MCP, TLS options, and the adapter that
//! applies `sseReadTimeout` and `terminateOnClose` to rmcp's streamable HTTP transport.

use std::borrow::Cow;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use http::{HeaderName, HeaderValue};
use kagent_core::SecretValues;
use rmcp::model::ClientJsonRpcMessage;
use rmcp::transport::common::client_side_sse::BoxedSseResponse;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
    StreamableHttpResponseLimits,
};

/// TLS settings for remote servers: the workspace's one TLS type, shared with kagent-llm and
/// kagent-tools (`insecure_skip_verify`, `ca_cert_pem`, `disable_system_cas`,
/// `client_identity_pem`).
pub use kagent_core::TlsOptions;

/// Why an HTTP client could not be built from [`TlsOptions`].
pub use kagent_core::http::HttpClientError;

/// A `reqwest::ClientBuilder` set up for MCP: the TLS options (applied by kagent-core's shared
/// [`client_builder`](kagent_core::http::client_builder)), connection pooling on, `TCP_NODELAY`
/// on, no redirects (a redirected `POST` would lose its JSON-RPC body or leak headers to another
/// origin) and a 10 s connect timeout. Add your own settings (proxy, user agent) and build it.
///
/// rmcp's own default client turns pooling off, which costs a TCP handshake per call; with
/// pooling on and Nagle's algorithm off, a `tools/call` on loopback stays well under a
/// millisecond.
pub fn http_client_builder(tls: &TlsOptions) -> Result<reqwest::ClientBuilder, HttpClientError> {
    Ok(kagent_core::http::client_builder(tls)?
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(32)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10)))
}

/// A `reqwest::Client` from [`http_client_builder`]. Share one per process.
pub fn http_client(tls: &TlsOptions) -> Result<reqwest::Client, HttpClientError> {
    http_client_builder(tls)?
        .build()
        .map_err(|source| HttpClientError::Build { source })
}

/// The reqwest client as rmcp's streamable HTTP client, plus `sseReadTimeout` on every SSE
/// stream and `terminateOnClose` on session deletion.
#[derive(Clone)]
pub(crate) struct StreamableClient {
    pub(crate) inner: reqwest::Client,
    pub(crate) sse_read_timeout: Duration,
    pub(crate) terminate_on_close: bool,
    /// The session id, shared with the direct `tools/call` path.
    pub(crate) session: crate::direct::SessionSlot,
}

type Headers = HashMap<HeaderName, HeaderValue>;
type HttpError = StreamableHttpError<reqwest::Error>;

/// The header values a request carried: the bearer token and every configured header
/// (`headers`, `headersFrom`), whose values kagent-mcp treats as secrets.
fn sent_values(auth_header: Option<&String>, custom_headers: &Headers) -> SecretValues {
    let values = SecretValues::new();
    if let Some(token) = auth_header {
        values.insert(token);
    }
    for value in custom_headers.values() {
        if let Ok(text) = value.to_str() {
            values.insert(text);
        }
    }
    values
}

/// rmcp puts the body of an unexpected answer into its error (`HTTP 403: <body>`); a server
/// that echoes the request's headers there must not get them into our errors and logs.
fn redact_error(error: HttpError, sent: &SecretValues) -> HttpError {
    match error {
        StreamableHttpError::UnexpectedServerResponse(text) => {
            StreamableHttpError::UnexpectedServerResponse(match sent.redact(&text) {
                Cow::Borrowed(_) => text,
                Cow::Owned(redacted) => Cow::Owned(redacted),
            })
        }
        other => other,
    }
}

impl StreamableClient {
    fn wrap_post(&self, response: StreamableHttpPostResponse) -> StreamableHttpPostResponse {
        match &response {
            StreamableHttpPostResponse::Sse(_, Some(id))
            | StreamableHttpPostResponse::Json(_, Some(id)) => {
                self.session.set(&Arc::from(id.as_str()))
            }
            _ => {}
        }
        match response {
            StreamableHttpPostResponse::Sse(stream, session) => StreamableHttpPostResponse::Sse(
                Box::pin(IdleTimeout::new(stream, self.sse_read_timeout)),
                session,
            ),
            other => other,
        }
    }
}

impl StreamableHttpClient for StreamableClient {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: Headers,
    ) -> Result<StreamableHttpPostResponse, HttpError> {
        let sent = sent_values(auth_header.as_ref(), &custom_headers);
        if let Some(id) = &session_id {
            self.session.set(id);
        }
        let response = self
            .inner
            .post_message(uri, message, session_id, auth_header, custom_headers)
            .await
            .map_err(|e| redact_error(e, &sent))?;
        Ok(self.wrap_post(response))
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: Headers,
        max_sse_event_size: usize,
    ) -> Result<StreamableHttpPostResponse, HttpError> {
        let sent = sent_values(auth_header.as_ref(), &custom_headers);
        if let Some(id) = &session_id {
            self.session.set(id);
        }
        let response = self
            .inner
            .post_message_with_max_sse_event_size(
                uri,
                message,
                session_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await
            .map_err(|e| redact_error(e, &sent))?;
        Ok(self.wrap_post(response))
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: Headers,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, HttpError> {
        let sent = sent_values(auth_header.as_ref(), &custom_headers);
        if let Some(id) = &session_id {
            self.session.set(id);
        }
        let response = self
            .inner
            .post_message_with_response_limits(
                uri,
                message,
                session_id,
                auth_header,
                custom_headers,
                limits,
            )
            .await
            .map_err(|e| redact_error(e, &sent))?;
        Ok(self.wrap_post(response))
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: Headers,
    ) -> Result<(), HttpError> {
        let sent = sent_values(auth_header.as_ref(), &custom_headers);
        if !self.terminate_on_close {
            tracing::debug!("terminateOnClose is false: leaving the server session open");
            return Ok(());
        }
        self.inner
            .delete_session(uri, session_id, auth_header, custom_headers)
            .await
            .map_err(|e| redact_error(e, &sent))
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: Headers,
    ) -> Result<BoxedSseResponse, HttpError> {
        let sent = sent_values(auth_header.as_ref(), &custom_headers);
        let stream = self
            .inner
            .get_stream(uri, session_id, last_event_id, auth_header, custom_headers)
            .await
            .map_err(|e| redact_error(e, &sent))?;
        Ok(Box::pin(IdleTimeout::new(stream, self.sse_read_timeout)))
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: Headers,
        max_sse_event_size: usize,
    ) -> Result<BoxedSseResponse, HttpError> {
        let sent = sent_values(auth_header.as_ref(), &custom_headers);
        let stream = self
            .inner
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await
            .map_err(|e| redact_error(e, &sent))?;
        Ok(Box::pin(IdleTimeout::new(stream, self.sse_read_timeout)))
    }
}

/// Ends a stream with an error when no item arrives for `limit` (`sseReadTimeout`).
pub(crate) struct IdleTimeout<S> {
    inner: S,
    limit: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
    done: bool,
}

impl<S> IdleTimeout<S> {
    pub(crate) fn new(inner: S, limit: Duration) -> Self {
        IdleTimeout {
            inner,
            limit,
            sleep: Box::pin(tokio::time::sleep(limit)),
            done: false,
        }
    }
}

/// The error an idle SSE stream ends with.
#[derive(Debug, thiserror::Error)]
#[error("no SSE event for {0:?} (sseReadTimeout)")]
pub(crate) struct SseReadTimeout(pub(crate) Duration);

impl<S, T> Stream for IdleTimeout<S>
where
    S: Stream<Item = Result<T, SseError>> + Unpin,
{
    type Item = Result<T, SseError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(item) => {
                let deadline = tokio::time::Instant::now() + self.limit;
                self.sleep.as_mut().reset(deadline);
                if item.is_none() {
                    self.done = true;
                }
                Poll::Ready(item)
            }
            Poll::Pending => match self.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.done = true;
                    let limit = self.limit;
                    Poll::Ready(Some(Err(SseError::Body(Box::new(SseReadTimeout(limit))))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[test]
    fn client_builds_with_defaults_and_rejects_bad_tls() {
        assert!(http_client(&TlsOptions::default()).is_ok());
        let bad = TlsOptions::default().with_ca_cert_pem("not a pem");
        assert!(http_client(&bad).is_err());
        let none = TlsOptions::default().with_disable_system_cas(true);
        assert!(matches!(http_client(&none), Err(HttpClientError::NoRoots)));
        let dbg = format!(
            "{:?}",
            TlsOptions::default().with_client_identity_pem("-----BEGIN PRIVATE KEY-----secret")
        );
        assert!(!dbg.contains("secret"), "{dbg}");
    }

    #[test]
    fn errors_that_quote_an_answer_lose_the_headers_sent() {
        let mut custom = Headers::new();
        custom.insert(
            HeaderName::from_static("x-api-key"),
            HeaderValue::from_static("custom-header-secret-1"),
        );
        let token = "Bearer bearer-token-secret-2".to_owned();
        let sent = sent_values(Some(&token), &custom);
        let quoted = HttpError::UnexpectedServerResponse(Cow::Owned(
            "HTTP 403: token bearer-token-secret-2, key custom-header-secret-1".into(),
        ));
        let text = redact_error(quoted, &sent).to_string();
        assert_eq!(
            text,
            "unexpected server response: HTTP 403: token [REDACTED], key [REDACTED]"
        );
        // Other errors pass unchanged.
        let other = redact_error(HttpError::UnexpectedEndOfStream, &sent);
        assert!(matches!(other, HttpError::UnexpectedEndOfStream));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_streams_end_with_an_error() {
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<u32, SseError>>();
        let mut s = IdleTimeout::new(rx, Duration::from_secs(5));
        tx.unbounded_send(Ok(1)).unwrap();
        assert_eq!(s.next().await.unwrap().unwrap(), 1);
        let err = s.next().await.unwrap().unwrap_err();
        assert!(err.to_string().contains("sseReadTimeout"), "{err}");
        assert!(s.next().await.is_none());
        drop(tx);
    }
}
