//! The client's direct `tools/call` exchange over streamable HTTP.
//!
//! rmcp's streamable HTTP client sends each request through its service loop, a spawned send
//! task and its transport worker, and the answer back the same way: five or more task hand-offs
//! per call, which on a loopback round trip cost more than the HTTP exchange. Once a session is
//! initialized (by rmcp, which keeps owning the session, notifications and every other method),
//! a `tools/call` is one `POST` with the session's headers whose answer is either one JSON-RPC
//! response (`application/json`) or an SSE stream that ends with it. This module does that
//! exchange on the caller's task.
//!
//! Anything unusual goes back to rmcp's path before the server has acted on the request: a
//! 4xx answer (unknown or expired session, authentication, a server that wants something else)
//! is retried through rmcp, which reports or recovers from it exactly as for any other
//! request. A 5xx answer, a broken connection or a malformed body after the request was sent
//! is an error (the tool may have run; it is never sent twice).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use http::HeaderMap;
use http::header::{ACCEPT, CONTENT_TYPE};
use rmcp::model::{
    CallToolRequestParams, ClientJsonRpcMessage, ClientRequest, NumberOrString, ProtocolVersion,
    Request, RequestId, ServerJsonRpcMessage, ServerNotification, ServerResult,
};
use tokio::sync::watch;

use crate::error::McpError;

/// The session id rmcp's transport negotiated, as seen by [`crate::http::StreamableClient`].
#[derive(Clone, Default)]
pub(crate) struct SessionSlot(Arc<Mutex<Option<Arc<str>>>>);

impl SessionSlot {
    pub(crate) fn set(&self, id: &Arc<str>) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.as_deref() != Some(id.as_ref()) {
            *slot = Some(Arc::clone(id));
        }
    }

    fn get(&self) -> Option<Arc<str>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What the direct path needs from a connection.
pub(crate) struct DirectHttp {
    pub(crate) server: Arc<str>,
    pub(crate) http: reqwest::Client,
    pub(crate) url: String,
    /// Static and resolved (`headersFrom`) headers of this connection.
    pub(crate) headers: HeaderMap,
    pub(crate) session: SessionSlot,
    /// The negotiated protocol version; `None` until the handshake is done.
    pub(crate) protocol_version: Option<ProtocolVersion>,
    pub(crate) sse_read_timeout: Duration,
    pub(crate) tools_changed: Arc<watch::Sender<u64>>,
}

/// How a direct call ended.
// Returned once per call and matched at once: boxing the common case buys nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Outcome {
    /// The server answered.
    Done(Result<ServerResult, McpError>),
    /// The server refused the request before acting on it (4xx): send it through rmcp.
    Fallback(String),
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A request id that cannot collide with rmcp's numeric ids on the same session.
pub(crate) fn request_id() -> RequestId {
    NumberOrString::String(Arc::from(format!(
        "kagent-{}",
        NEXT_ID.fetch_add(1, Ordering::Relaxed)
    )))
}

impl DirectHttp {
    /// Whether this connection can take direct calls: the handshake is done and the protocol
    /// revision has no per-request headers (SEP-2243) that only rmcp knows how to build.
    pub(crate) fn usable(&self) -> bool {
        self.protocol_version
            .as_ref()
            .is_some_and(|v| *v < ProtocolVersion::STANDARD_HEADERS)
    }

    /// Sends one `tools/call` with `id` and reads its answer.
    pub(crate) async fn call(&self, id: RequestId, params: CallToolRequestParams) -> Outcome {
        let message = ClientJsonRpcMessage::request(
            ClientRequest::CallToolRequest(Request::new(params)),
            id.clone(),
        );
        let body = match serde_json::to_vec(&message) {
            Ok(body) => body,
            Err(e) => return Outcome::Fallback(format!("request not serializable: {e}")),
        };
        let mut request = self
            .http
            .post(&self.url)
            .headers(self.headers.clone())
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(session) = self.session.get() {
            request = request.header("mcp-session-id", session.as_ref());
        }
        if let Some(version) = &self.protocol_version {
            request = request.header("mcp-protocol-version", version.as_str());
        }
        let response = match request.send().await {
            Ok(r) => r,
            // Not connected, or the connection broke before an answer: whether the server saw
            // the request is unknown only if it was written; reqwest reports both alike, so
            // treat it as a transport fault (never resent).
            Err(e) => {
                return Outcome::Done(Err(
                    self.transport(format!("tools/call failed: {e}"), Some(e))
                ));
            }
        };
        let status = response.status();
        if status.is_client_error() {
            return Outcome::Fallback(format!("HTTP {status}"));
        }
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            // The header values this connection sends never come back in an error, even from
            // a server that echoes them (redacted before the excerpt, so none is cut in two).
            let sent = kagent_core::SecretValues::new();
            for value in self.headers.values() {
                if let Ok(v) = value.to_str() {
                    sent.insert(v);
                }
            }
            let text = sent.redact(&text);
            return Outcome::Done(Err(self.transport(
                format!(
                    "tools/call failed: HTTP {status}: {}",
                    crate::transport::excerpt(&text)
                ),
                None,
            )));
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if content_type.starts_with("application/json") {
            let bytes = match response.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    return Outcome::Done(Err(
                        self.transport(format!("tools/call response body failed: {e}"), Some(e))
                    ));
                }
            };
            return Outcome::Done(
                match serde_json::from_slice::<ServerJsonRpcMessage>(&bytes) {
                    Ok(message) => self.answer(&id, message).unwrap_or_else(|| {
                        Err(self.protocol(format!(
                            "tools/call answered with another message: {}",
                            crate::transport::excerpt(&String::from_utf8_lossy(&bytes))
                        )))
                    }),
                    Err(e) => Err(self.protocol(format!(
                        "tools/call response is not JSON-RPC ({e}): {}",
                        crate::transport::excerpt(&String::from_utf8_lossy(&bytes))
                    ))),
                },
            );
        }
        if content_type.starts_with("text/event-stream") {
            return Outcome::Done(self.read_sse(&id, response).await);
        }
        Outcome::Done(Err(self.protocol(format!(
            "tools/call answered with content type {content_type:?}"
        ))))
    }

    /// Reads an SSE answer until the response to `id`; server notifications on the way are
    /// handled as rmcp's client handler would.
    async fn read_sse(
        &self,
        id: &RequestId,
        response: reqwest::Response,
    ) -> Result<ServerResult, McpError> {
        let limit = self.sse_read_timeout;
        let body = tokio_stream::StreamExt::timeout(response.bytes_stream(), limit);
        let mut events = std::pin::pin!(sseer::EventStream::new(body.map(|item| match item {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(e)) => Err(format!("stream failed: {e}")),
            Err(_) => Err(format!(
                "no data on the SSE stream for {limit:?} (sseReadTimeout)"
            )),
        })));
        while let Some(event) = events.next().await {
            let event = event.map_err(|e| self.transport(format!("tools/call {e}"), None))?;
            if !(event.event.is_empty() || &*event.event == "message")
                || event.data.trim().is_empty()
            {
                continue;
            }
            let message: ServerJsonRpcMessage = serde_json::from_str(&event.data).map_err(|e| {
                self.protocol(format!(
                    "tools/call stream carried malformed JSON-RPC ({e}): {}",
                    crate::transport::excerpt(&event.data)
                ))
            })?;
            if let Some(answer) = self.answer(id, message) {
                return answer;
            }
        }
        Err(self.transport("tools/call stream ended before the response".into(), None))
    }

    /// The answer to `id` if `message` is it; notifications are handled and yield `None`.
    fn answer(
        &self,
        id: &RequestId,
        message: ServerJsonRpcMessage,
    ) -> Option<Result<ServerResult, McpError>> {
        match message {
            ServerJsonRpcMessage::Response(r) if &r.id == id => Some(Ok(r.result)),
            ServerJsonRpcMessage::Error(e) if e.id.as_ref().is_none_or(|i| i == id) => {
                Some(Err(McpError::Server {
                    server: self.server.to_string(),
                    code: e.error.code.0,
                    message: e.error.message.into_owned(),
                    data: e.error.data,
                }))
            }
            ServerJsonRpcMessage::Notification(n) => {
                match n.notification {
                    ServerNotification::ToolListChangedNotification(_) => {
                        crate::client::tools_list_changed(&self.server, &self.tools_changed);
                    }
                    other => {
                        tracing::debug!(server = %self.server, notification = ?other, "server notification during tools/call");
                    }
                }
                None
            }
            other => {
                // A request from the server (this client declares no capabilities that invite
                // one) or a response to another id.
                tracing::debug!(server = %self.server, message = ?other, "ignoring message during tools/call");
                None
            }
        }
    }

    fn transport(&self, message: String, source: Option<reqwest::Error>) -> McpError {
        McpError::Transport {
            server: self.server.to_string(),
            message,
            source: source.map(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
        }
    }

    fn protocol(&self, message: String) -> McpError {
        McpError::Protocol {
            server: self.server.to_string(),
            message,
        }
    }
}
