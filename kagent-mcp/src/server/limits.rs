//! Session caps, idle expiry and JSON-RPC answers for the MCP HTTP server.
//!
//! Connection, request, body and header limits come from `kagent-http-limits`; this module
//! adds what only MCP has: sessions. [`BoundedSessions`] wraps rmcp's
//! [`LocalSessionManager`] and holds a [`KeyedPermit`] per live session, taken by the HTTP
//! layer before rmcp creates the session and released when rmcp closes it (DELETE, idle
//! expiry, server shutdown).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use futures::Stream;
use http::{StatusCode, header};
use kagent_http_limits::{
    ClientKey, KeyedLimiter, KeyedPermit, LimitReached, Rejection, RejectionBody, RejectionFormat,
};
use rmcp::model::{ClientJsonRpcMessage, RequestId, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{
    RestoreOutcome, ServerSseMessage, SessionId,
};

/// JSON-RPC: the body is not JSON.
pub(crate) const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: JSON, but not a JSON-RPC message.
pub(crate) const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC implementation-defined server error, used for every limit (`data.reason` names it).
pub(crate) const LIMIT_ERROR: i64 = -32000;

/// Bounds on MCP sessions (streamable HTTP and legacy SSE together). Part of
/// [`HttpServeOptions`](crate::HttpServeOptions).
///
/// Each live session costs about 50–65 KB (measured with the `tool_server` example: 10,000
/// sessions raised its RSS by about 610 MiB with jemalloc; `benches`, `session_flood`), so the
/// defaults bound sessions at about 65 MB.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionLimits {
    /// Live sessions in total; one more `initialize` is answered `503` with a JSON-RPC error.
    /// Default 1024.
    pub max_sessions: usize,
    /// Live sessions of one client (one IPv4 address or IPv6 /64); one more `initialize` is
    /// answered `429`. Default 256: an agent runtime holds one session per agent and server,
    /// and a quarter of the total keeps one client from locking out the rest.
    pub max_sessions_per_client: usize,
    /// A session without traffic for this long is closed (its client gets `404` and starts a
    /// new one, as the MCP specification asks). Default 5 minutes (rmcp's own default); tool
    /// calls answered on the direct path keep their session alive.
    pub idle_timeout: Duration,
}

impl SessionLimits {
    /// See [`SessionLimits::max_sessions`].
    pub const DEFAULT_MAX_SESSIONS: usize = 1024;
    /// See [`SessionLimits::max_sessions_per_client`].
    pub const DEFAULT_MAX_SESSIONS_PER_CLIENT: usize = 256;
    /// See [`SessionLimits::idle_timeout`].
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

    /// Sets [`SessionLimits::max_sessions`].
    #[must_use]
    pub fn with_max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }

    /// Sets [`SessionLimits::max_sessions_per_client`].
    #[must_use]
    pub fn with_max_sessions_per_client(mut self, n: usize) -> Self {
        self.max_sessions_per_client = n;
        self
    }

    /// Sets [`SessionLimits::idle_timeout`].
    #[must_use]
    pub fn with_idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            max_sessions: Self::DEFAULT_MAX_SESSIONS,
            max_sessions_per_client: Self::DEFAULT_MAX_SESSIONS_PER_CLIENT,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
        }
    }
}

tokio::task_local! {
    /// The slot the HTTP layer reserved for the session rmcp is about to create in this
    /// request (rmcp's `create_session` takes no arguments, and runs inside the request's
    /// future).
    static RESERVED: RefCell<Option<KeyedPermit>>;
}

/// Runs `future` (a request handed to rmcp) with `permit` available to
/// [`BoundedSessions::create_session`]; an unused permit is released when it ends.
pub(crate) async fn with_reserved_session<F: Future>(permit: KeyedPermit, future: F) -> F::Output {
    RESERVED.scope(RefCell::new(Some(permit)), future).await
}

/// Per-session state kept next to rmcp's session.
struct Held {
    _permit: KeyedPermit,
    /// When a call on the direct path last went through rmcp to reset its idle timer.
    touched: Option<Instant>,
}

/// rmcp's [`LocalSessionManager`] with a cap on live sessions, in total and per client.
pub(crate) struct BoundedSessions {
    inner: LocalSessionManager,
    limiter: KeyedLimiter,
    held: Mutex<HashMap<SessionId, Held>>,
}

/// Errors of [`BoundedSessions`] (rmcp answers them with `500`; the HTTP layer reserves slots
/// before rmcp creates a session, so a cap is only reported here when a session is created
/// outside a request, e.g. restored).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum BoundedSessionError {
    #[error("session limit reached: {0:?}")]
    Limit(LimitReached),
    #[error(transparent)]
    Local(#[from] LocalSessionManagerError),
}

impl BoundedSessions {
    pub(crate) fn new(limits: &SessionLimits) -> Self {
        let mut inner = LocalSessionManager::default();
        inner.session_config.keep_alive = Some(limits.idle_timeout);
        BoundedSessions {
            inner,
            limiter: KeyedLimiter::new(limits.max_sessions, limits.max_sessions_per_client),
            held: Mutex::new(HashMap::new()),
        }
    }

    /// The shared session counts (legacy SSE sessions take their slots here too).
    pub(crate) fn limiter(&self) -> &KeyedLimiter {
        &self.limiter
    }

    /// Reserves a slot for a session `client` is about to open.
    pub(crate) fn reserve(&self, client: ClientKey) -> Result<KeyedPermit, Rejection> {
        reserve(&self.limiter, client)
    }

    /// Whether a call on session `id` should go through rmcp to reset the session's idle
    /// timer (at most once per `interval`); records the time when it should.
    pub(crate) fn needs_touch(&self, id: &SessionId, interval: Duration) -> bool {
        let now = Instant::now();
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        match held.get_mut(id) {
            Some(entry) => match entry.touched {
                Some(last) if now.duration_since(last) < interval => false,
                _ => {
                    entry.touched = Some(now);
                    true
                }
            },
            // Unknown here (just closed): rmcp answers.
            None => true,
        }
    }
}

/// Reserves a session slot, or the rejection that says which cap is full.
pub(crate) fn reserve(limiter: &KeyedLimiter, client: ClientKey) -> Result<KeyedPermit, Rejection> {
    limiter
        .try_acquire(client)
        .map_err(|reached| match reached {
            LimitReached::Total { limit } => Rejection::Sessions { limit },
            LimitReached::PerClient { limit } => Rejection::ClientSessions { limit },
        })
}

impl SessionManager for BoundedSessions {
    type Error = BoundedSessionError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let reserved = RESERVED
            .try_with(|cell| cell.borrow_mut().take())
            .ok()
            .flatten();
        let permit = match reserved {
            Some(permit) => permit,
            None => self
                .limiter
                .try_acquire(ClientKey::Unknown)
                .map_err(BoundedSessionError::Limit)?,
        };
        let (id, transport) = self.inner.create_session().await?;
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                id.clone(),
                Held {
                    _permit: permit,
                    touched: None,
                },
            );
        Ok((id, transport))
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        Ok(self.inner.initialize_session(id, message).await?)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        Ok(self.inner.has_session(id).await?)
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        let result = self.inner.close_session(id).await;
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        Ok(result?)
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_stream(id, message).await?)
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        Ok(self.inner.accept_message(id, message).await?)
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_standalone_stream(id).await?)
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.resume(id, last_event_id).await?)
    }

    async fn restore_session(
        &self,
        _id: SessionId,
    ) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        // No session store is configured, so there is nothing to restore from.
        Ok(RestoreOutcome::NotSupported)
    }
}

/// Renders limit answers as JSON-RPC errors (`id: null`: the limit was hit before the request
/// was read): `{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"...",
/// "data":{"reason":"client_requests","limit":256}}}`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct JsonRpcRejections;

impl RejectionFormat for JsonRpcRejections {
    fn render(&self, rejection: &Rejection) -> RejectionBody {
        RejectionBody::json(&rejection_body(rejection, None))
    }
}

fn rejection_body(rejection: &Rejection, id: Option<&RequestId>) -> serde_json::Value {
    error_body(
        id,
        LIMIT_ERROR,
        &rejection.to_string(),
        Some(serde_json::json!({
            "reason": rejection.reason(),
            "limit": rejection.limit(),
        })),
    )
}

fn error_body(
    id: Option<&RequestId>,
    code: i64,
    message: &str,
    data: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut error = serde_json::json!({"code": code, "message": message});
    if let (Some(data), Some(map)) = (data, error.as_object_mut()) {
        map.insert("data".into(), data);
    }
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id.map_or(serde_json::Value::Null, |id| serde_json::to_value(id).unwrap_or_default()),
        "error": error,
    })
}

/// A JSON-RPC error answer with an HTTP status.
pub(crate) fn jsonrpc_error(
    status: StatusCode,
    id: Option<&RequestId>,
    code: i64,
    message: &str,
) -> Response {
    json_response(status, &error_body(id, code, message, None))
}

/// The answer to a limit hit while handling request `id`.
pub(crate) fn rejection_response(
    rejection: &Rejection,
    id: Option<&RequestId>,
    retry_after: Duration,
) -> Response {
    let mut response = json_response(rejection.status(), &rejection_body(rejection, id));
    if rejection.is_transient() {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            http::HeaderValue::from(retry_after.as_secs().max(1)),
        );
    }
    response
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Reads a whole request body of at most `limits.max_request_body_bytes` (the limits layer
/// also bounds it and sets its deadline), or the JSON-RPC answer saying why it could not.
pub(crate) async fn read_body(
    body: Body,
    limits: &kagent_http_limits::ServerLimits,
) -> Result<bytes::Bytes, Response> {
    axum::body::to_bytes(body, limits.max_request_body_bytes)
        .await
        .map_err(|e| match kagent_http_limits::body_rejection(&e, limits) {
            Some(rejection) => rejection_response(&rejection, None, limits.retry_after),
            None => jsonrpc_error(
                StatusCode::BAD_REQUEST,
                None,
                PARSE_ERROR,
                &format!("the request body could not be read: {e}"),
            ),
        })
}

/// Parses a JSON-RPC message, or answers `400` with `-32700` (not JSON) or `-32600` (JSON,
/// but not a JSON-RPC message this server accepts).
pub(crate) fn parse_message(bytes: &[u8]) -> Result<ClientJsonRpcMessage, Response> {
    match serde_json::from_slice::<ClientJsonRpcMessage>(bytes) {
        Ok(message) => Ok(message),
        Err(e) => match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Err(json) => Err(jsonrpc_error(
                StatusCode::BAD_REQUEST,
                None,
                PARSE_ERROR,
                &format!("Parse error: the body is not valid JSON ({json})"),
            )),
            Ok(_) => Err(jsonrpc_error(
                StatusCode::BAD_REQUEST,
                None,
                INVALID_REQUEST,
                &format!(
                    "Invalid Request: the body is JSON but not a JSON-RPC 2.0 request, notification or response ({e})"
                ),
            )),
        },
    }
}
