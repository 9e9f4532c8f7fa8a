//! A direct path for `tools/call` in front of rmcp's streamable HTTP service.
//!
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
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, ClientRequest, GetMeta, ProtocolVersion, RequestId,
    ServerJsonRpcMessage, ServerResult,
};
use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use tokio_util::sync::CancellationToken;
use tower::{Service, ServiceExt};

use super::{ToolsetServer, host_allowed};

/// Bodies larger than this (or without `Content-Length`) always go to rmcp.
const MAX_DIRECT_BODY: u64 = 64 * 1024;

/// A session's own traffic resets rmcp's idle timer (`keep_alive`, 5 minutes); calls answered
/// here do not reach the session, so at least one call per this interval goes through rmcp.
const SESSION_TOUCH_INTERVAL: Duration = Duration::from_secs(30);

const HEADER_SESSION_ID: &str = "mcp-session-id";
const HEADER_PROTOCOL_VERSION: &str = "mcp-protocol-version";

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Calls in flight on the direct path, so `notifications/cancelled` can reach them.
type InFlight = Arc<Mutex<HashMap<(Arc<str>, RequestId), CancellationToken>>>;

/// Wraps rmcp's streamable HTTP service (`inner`) and answers plain `tools/call` requests
/// itself.
#[derive(Clone)]
pub(crate) struct DirectToolCalls<S> {
    /// Off: every request goes to `inner`.
    pub(crate) enabled: bool,
    pub(crate) inner: S,
    pub(crate) server: ToolsetServer,
    /// `Some` in session mode: calls must name a live session.
    pub(crate) sessions: Option<Arc<LocalSessionManager>>,
    /// The `Host` allow-list rmcp enforces (empty: any host).
    pub(crate) allowed_hosts: Arc<[String]>,
    pub(crate) cancellation: CancellationToken,
    pub(crate) touched: Arc<Mutex<HashMap<Arc<str>, Instant>>>,
    pub(crate) in_flight: InFlight,
}

impl<S> Service<Request<Body>> for DirectToolCalls<S>
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

impl<S> DirectToolCalls<S>
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
        let Some(length) = self.candidate(&request) else {
            return self.delegate(request).await;
        };
        let (parts, body) = request.into_parts();
        let bytes = match axum::body::to_bytes(body, length).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return (StatusCode::BAD_REQUEST, "Bad Request: unreadable body").into_response();
            }
        };
        let message = serde_json::from_slice::<ClientJsonRpcMessage>(&bytes).ok();
        let session = parts
            .headers
            .get(HEADER_SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(Arc::<str>::from);
        let call = match message {
            Some(ClientJsonRpcMessage::Request(request))
                if matches!(request.request, ClientRequest::CallToolRequest(_))
                    && request.request.get_meta().protocol_version().is_none() =>
            {
                Some(request)
            }
            Some(ClientJsonRpcMessage::Notification(notification)) => {
                // Let a cancellation reach a call running here; rmcp still gets the message.
                if let ClientNotification::CancelledNotification(cancelled) =
                    &notification.notification
                    && let Some(id) = &cancelled.params.request_id
                {
                    let key = (session.clone().unwrap_or_else(|| Arc::from("")), id.clone());
                    if let Some(ct) = self
                        .in_flight
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get(&key)
                    {
                        ct.cancel();
                    }
                }
                None
            }
            _ => None,
        };
        let Some(call) = call else {
            return self
                .delegate(Request::from_parts(parts, Body::from(bytes)))
                .await;
        };
        let session_key = match (&self.sessions, session) {
            (Some(sessions), Some(id)) => {
                let live = sessions
                    .has_session(&id.as_ref().to_owned().into())
                    .await
                    .unwrap_or(false);
                if !live || self.needs_touch(&id) {
                    return self
                        .delegate(Request::from_parts(parts, Body::from(bytes)))
                        .await;
                }
                id
            }
            // Session mode without a session id: rmcp answers with the right error.
            (Some(_), None) => {
                return self
                    .delegate(Request::from_parts(parts, Body::from(bytes)))
                    .await;
            }
            (None, _) => Arc::from(""),
        };
        let ClientRequest::CallToolRequest(tool_call) = call.request else {
            return self
                .delegate(Request::from_parts(parts, Body::from(bytes)))
                .await;
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

    /// Whether the request may be a direct `tools/call` (checked before reading the body);
    /// returns the body length.
    fn candidate(&self, request: &Request<Body>) -> Option<usize> {
        if !self.enabled || request.method() != Method::POST {
            return None;
        }
        let headers = request.headers();
        if headers.contains_key(header::ORIGIN) {
            return None;
        }
        let length = headers
            .get(header::CONTENT_LENGTH)?
            .to_str()
            .ok()?
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= MAX_DIRECT_BODY)?;
        // rmcp's own check (malformed or missing Host is its 400) runs on the delegated path.
        let host = headers.get(header::HOST)?.to_str().ok()?;
        if host.parse::<axum::http::uri::Authority>().is_err()
            || !host_allowed(host, &self.allowed_hosts)
        {
            return None;
        }
        if !content_type_is_json(headers) || !accepts_json_and_sse(headers) {
            return None;
        }
        if let Some(version) = headers.get(HEADER_PROTOCOL_VERSION) {
            let version = version.to_str().ok()?;
            let known = ProtocolVersion::KNOWN_VERSIONS
                .iter()
                .find(|v| v.as_str() == version)?;
            // Revisions without `initialize` carry per-request metadata and SEP-2243 headers
            // that rmcp validates.
            if !known.has_initialize() {
                return None;
            }
        }
        usize::try_from(length).ok()
    }

    /// Whether this session's call should go through rmcp to keep the session alive.
    fn needs_touch(&self, session: &Arc<str>) -> bool {
        let now = Instant::now();
        let mut touched = self.touched.lock().unwrap_or_else(PoisonError::into_inner);
        match touched.get(session) {
            Some(last) if now.duration_since(*last) < SESSION_TOUCH_INTERVAL => false,
            _ => {
                // Forget sessions that have been quiet for long (they have expired in rmcp).
                if touched.len() >= 64 {
                    touched
                        .retain(|_, last| now.duration_since(*last) < 20 * SESSION_TOUCH_INTERVAL);
                }
                touched.insert(Arc::clone(session), now);
                true
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
