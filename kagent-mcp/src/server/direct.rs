//! The `/mcp` endpoint in front of rmcp's streamable HTTP service: bounded body reading,
//! JSON-RPC parse errors, session caps, and a direct path for `tools/call`.
//!
//! **Bounds.** A POST that rmcp would parse (JSON content type, both media types accepted, an
//! allowed `Host`) is read here first, within the body size and deadline of the limits layer,
//! and parsed: a body too large is `413`, too slow `408`, not JSON `400` with JSON-RPC `-32700`,
//! JSON that is no JSON-RPC message `400` with `-32600` (rmcp answers all of these `415` or
//! `500` with plain text). An `initialize` that would open a session first reserves a slot in
//! [`BoundedSessions`]; when the caps are full it is answered `503` / `429` with a JSON-RPC
//! error carrying its id. Everything else reaches rmcp unchanged (the parsed body is passed
//! on as bytes).
//!
//! **Direct path.**
//! rmcp routes every POST through its session machinery: the HTTP task asks the session
//! worker for a request-wise channel, pushes the message to the worker, which hands it to the
//! service loop, which spawns a handler task, whose answer goes back through the service loop,
//! a spawned send task, the session worker and an SSE channel to the HTTP task (stateless mode
//! instead spawns a whole service per request). On a loopback round trip those task hops and
//! wakeups cost more than the HTTP exchange itself.
//!
//! A [`ToolsetServer`] never talks back to the client during a tool call (no progress, sampling
//! or elicitation), so a `tools/call` can be answered from the HTTP task: run the tool and reply
//! with one `application/json` JSON-RPC response, which the streamable HTTP transport allows
//! for any request. Only plain, well-formed calls take this path; everything else (other
//! methods, notifications, unknown or missing sessions, `Origin` headers, protocol revisions
//! with per-request metadata or SEP-2243 headers, large or unusual bodies) goes to rmcp
//! unchanged, so rmcp still answers every error and edge case exactly as before.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kagent_http_limits::{ClientKey, ServerLimits};
use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, ClientRequest, GetMeta, ProtocolVersion, RequestId,
    ServerJsonRpcMessage, ServerResult,
};
use tokio_util::sync::CancellationToken;
use tower::{Service, ServiceExt};

use super::limits::{
    BoundedSessions, parse_message, read_body, rejection_response, with_reserved_session,
};
use super::{ToolsetServer, host_allowed};

/// A session's own traffic resets rmcp's idle timer ([`super::SessionLimits::idle_timeout`]);
/// calls answered here do not reach the session, so at least one call per this interval (or
/// per a quarter of the idle timeout, when that is shorter) goes through rmcp.
const SESSION_TOUCH_INTERVAL: Duration = Duration::from_secs(30);

/// How often a session's direct calls go through rmcp: [`SESSION_TOUCH_INTERVAL`], or a
/// quarter of the idle timeout when that is shorter.
pub(crate) fn touch_interval(idle_timeout: Duration) -> Duration {
    SESSION_TOUCH_INTERVAL.min(idle_timeout / 4)
}

const HEADER_SESSION_ID: &str = "mcp-session-id";
const HEADER_PROTOCOL_VERSION: &str = "mcp-protocol-version";

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Calls in flight on the direct path, so `notifications/cancelled` can reach them.
type InFlight = Arc<Mutex<HashMap<(Arc<str>, RequestId), CancellationToken>>>;

/// Wraps rmcp's streamable HTTP service (`inner`): reads and checks POST bodies, enforces the
/// session caps, and answers plain `tools/call` requests itself.
#[derive(Clone)]
pub(crate) struct McpEndpoint<S> {
    /// Off: every well-formed request goes to `inner`.
    pub(crate) direct_calls: bool,
    pub(crate) inner: S,
    pub(crate) server: ToolsetServer,
    /// `Some` in session mode: calls must name a live session, `initialize` takes a slot.
    pub(crate) sessions: Option<Arc<BoundedSessions>>,
    /// The `Host` allow-list rmcp enforces (empty: any host).
    pub(crate) allowed_hosts: Arc<[String]>,
    pub(crate) limits: Arc<ServerLimits>,
    pub(crate) touch_interval: Duration,
    pub(crate) cancellation: CancellationToken,
    pub(crate) in_flight: InFlight,
}

impl<S> Service<Request<Body>> for McpEndpoint<S>
where
    S: Service<Request<Body>, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Boxed<Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(request).await) })
    }
}

impl<S> McpEndpoint<S>
where
    S: Service<Request<Body>, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
{
    async fn delegate(&self, request: Request<Body>) -> Response {
        match self.inner.clone().oneshot(request).await {
            Ok(response) => response.into_response(),
            Err(never) => match never {},
        }
    }

    async fn handle(&self, request: Request<Body>) -> Response {
        if !self.reads_body(&request) {
            return self.delegate(request).await;
        }
        let client = ClientKey::of(&request);
        let (parts, body) = request.into_parts();
        let bytes = match read_body(body, &self.limits).await {
            Ok(bytes) => bytes,
            Err(response) => return response,
        };
        let message = match parse_message(&bytes) {
            Ok(message) => message,
            Err(response) => return response,
        };
        let session = parts
            .headers
            .get(HEADER_SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(Arc::<str>::from);
        let rebuilt = |parts, bytes| Request::from_parts(parts, Body::from(bytes));
        match message {
            ClientJsonRpcMessage::Request(request)
                if matches!(request.request, ClientRequest::InitializeRequest(_))
                    && session.is_none() =>
            {
                let Some(sessions) = &self.sessions else {
                    return self.delegate(rebuilt(parts, bytes)).await;
                };
                match sessions.reserve(client) {
                    Ok(permit) => {
                        with_reserved_session(permit, self.delegate(rebuilt(parts, bytes))).await
                    }
                    Err(rejection) => {
                        tracing::debug!(%client, %rejection, "initialize refused");
                        rejection_response(&rejection, Some(&request.id), self.limits.retry_after)
                    }
                }
            }
            ClientJsonRpcMessage::Request(request)
                if self.direct_calls
                    && matches!(request.request, ClientRequest::CallToolRequest(_))
                    && request.request.get_meta().protocol_version().is_none()
                    && self.direct_headers(&parts.headers) =>
            {
                let session_key = match (&self.sessions, session) {
                    (Some(sessions), Some(id)) => {
                        let sid = id.as_ref().to_owned().into();
                        let live =
                            rmcp::transport::streamable_http_server::SessionManager::has_session(
                                sessions.as_ref(),
                                &sid,
                            )
                            .await
                            .unwrap_or(false);
                        if !live || sessions.needs_touch(&sid, self.touch_interval) {
                            return self.delegate(rebuilt(parts, bytes)).await;
                        }
                        id
                    }
                    // Session mode without a session id: rmcp answers with the right error.
                    (Some(_), None) => return self.delegate(rebuilt(parts, bytes)).await,
                    (None, _) => Arc::from(""),
                };
                self.call_directly(request, session_key).await
            }
            ClientJsonRpcMessage::Notification(notification) => {
                // Let a cancellation reach a call running here; rmcp still gets the message.
                if let ClientNotification::CancelledNotification(cancelled) =
                    &notification.notification
                    && let Some(id) = &cancelled.params.request_id
                {
                    let key = (session.unwrap_or_else(|| Arc::from("")), id.clone());
                    if let Some(ct) = self
                        .in_flight
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get(&key)
                    {
                        ct.cancel();
                    }
                }
                self.delegate(rebuilt(parts, bytes)).await
            }
            _ => self.delegate(rebuilt(parts, bytes)).await,
        }
    }

    /// Runs a `tools/call` here and answers with one JSON-RPC response.
    async fn call_directly(
        &self,
        call: rmcp::model::JsonRpcRequest<ClientRequest>,
        session_key: Arc<str>,
    ) -> Response {
        let ClientRequest::CallToolRequest(tool_call) = call.request else {
            // Checked by the caller.
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let id = call.id;
        let traceparent = tool_call
            .extensions
            .get::<rmcp::model::RequestMetaObject>()
            .and_then(|meta| meta.0.0.get("traceparent"))
            .and_then(|v| v.as_str())
            .filter(|v| crate::trace::is_valid_traceparent(v))
            .map(str::to_owned);
        let ct = self.cancellation.child_token();
        let key = (session_key, id.clone());
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone(), ct.clone());
        // Cancels the tool when the client goes away (this future is dropped) and forgets
        // the call either way.
        let _guard = InFlightGuard {
            map: Arc::clone(&self.in_flight),
            key,
            ct: ct.clone(),
        };
        let outcome = self
            .server
            .run_tool_call(tool_call.params, id.to_string(), traceparent, ct)
            .await;
        let message = match outcome {
            Ok(result) => ServerJsonRpcMessage::response(ServerResult::from(result), id),
            Err(error) => ServerJsonRpcMessage::error(error, Some(id)),
        };
        match serde_json::to_vec(&message) {
            Ok(body) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response(),
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("could not encode the response: {e}"),
            )
                .into_response(),
        }
    }

    /// Whether rmcp would read this request's body: a POST with a JSON content type, both media
    /// types accepted and an allowed `Host` (otherwise rmcp answers `403` / `406` / `415`
    /// without reading it, and keeps doing so).
    fn reads_body(&self, request: &Request<Body>) -> bool {
        if request.method() != Method::POST {
            return false;
        }
        let headers = request.headers();
        let host_ok = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|host| {
                host.parse::<axum::http::uri::Authority>().is_ok()
                    && host_allowed(host, &self.allowed_hosts)
            });
        host_ok && content_type_is_json(headers) && lists_json_and_sse(headers)
    }

    /// Whether a `tools/call` with these headers may be answered here.
    fn direct_headers(&self, headers: &HeaderMap) -> bool {
        if headers.contains_key(header::ORIGIN) || !accepts_json_and_sse(headers) {
            return false;
        }
        match headers.get(HEADER_PROTOCOL_VERSION) {
            None => true,
            Some(version) => {
                let Ok(version) = version.to_str() else {
                    return false;
                };
                // Revisions without `initialize` carry per-request metadata and SEP-2243
                // headers that rmcp validates.
                ProtocolVersion::KNOWN_VERSIONS
                    .iter()
                    .find(|v| v.as_str() == version)
                    .is_some_and(|known| known.has_initialize())
            }
        }
    }
}

struct InFlightGuard {
    map: InFlight,
    key: (Arc<str>, RequestId),
    ct: CancellationToken,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
        self.ct.cancel();
    }
}

fn content_type_is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let essence = v.split_once(';').map_or(v, |(essence, _)| essence);
            essence.trim().eq_ignore_ascii_case("application/json")
        })
}

/// `Accept` lists both media types, without parameters (any `q` weighting goes to rmcp).
fn accepts_json_and_sse(headers: &HeaderMap) -> bool {
    let mut json = false;
    let mut sse = false;
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        if value.contains(';') || value.contains('"') {
            return false;
        }
        for item in value.split(',') {
            let item = item.trim();
            json |= item.eq_ignore_ascii_case("application/json");
            sse |= item.eq_ignore_ascii_case("text/event-stream");
        }
    }
    json && sse
}

/// `Accept` names both media types (with or without parameters): rmcp will read the body.
fn lists_json_and_sse(headers: &HeaderMap) -> bool {
    let mut json = false;
    let mut sse = false;
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else {
            continue;
        };
        for item in value.split(',') {
            let essence = item.split(';').next().unwrap_or("").trim();
            json |= essence.eq_ignore_ascii_case("application/json");
            sse |= essence.eq_ignore_ascii_case("text/event-stream");
        }
    }
    json && sse
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn accept_header_must_list_both_without_parameters() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        assert!(accepts_json_and_sse(&h));
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!accepts_json_and_sse(&h));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json;q=0, text/event-stream"),
        );
        assert!(!accepts_json_and_sse(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(content_type_is_json(&h));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(!content_type_is_json(&h));
    }
}
