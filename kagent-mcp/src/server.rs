//! Serving any kagent [`Toolset`] as an MCP server over stdio, streamable HTTP and legacy SSE.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::{SinkExt, StreamExt};
use kagent_core::{ToolContext, Toolset};
use kagent_http_limits::{ClientKey, KeyedLimiter, KeyedPermit};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientJsonRpcMessage, ErrorData, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
    ServerJsonRpcMessage, Tool as RemoteTool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::transport::StreamableHttpServerConfig;
use rmcp::transport::StreamableHttpService;
use rmcp::{ServerHandler, ServiceExt};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::convert::{annotations_from_spec, result_from_outcome};
use crate::error::McpError;

mod direct;
mod limits;

pub use kagent_http_limits::ServerLimits;
pub use limits::SessionLimits;

use limits::{BoundedSessions, JsonRpcRejections};

/// An MCP server handler for a [`Toolset`]: `tools/list` publishes each tool's schema and
/// effect (as MCP annotations), `tools/call` validates arguments against the schema and runs
/// the tool; tool errors come back as `isError` results the calling model can read.
#[derive(Clone)]
pub struct ToolsetServer {
    tools: Arc<Toolset>,
    listed: Arc<Vec<RemoteTool>>,
    info: Implementation,
    instructions: Option<String>,
}

impl std::fmt::Debug for ToolsetServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolsetServer")
            .field("name", &self.info.name)
            .field("tools", &self.tools)
            .finish()
    }
}

impl ToolsetServer {
    /// A server named `name` (reported in `initialize`) for `tools`.
    pub fn new(name: impl Into<String>, version: impl Into<String>, tools: Toolset) -> Self {
        let listed = tools
            .specs()
            .iter()
            .map(|spec| {
                let schema = match &spec.input_schema {
                    serde_json::Value::Object(map) => map.clone(),
                    _ => serde_json::Map::new(),
                };
                let mut tool = RemoteTool::new(
                    spec.name.clone(),
                    spec.description.clone(),
                    Arc::new(schema),
                )
                .annotate(annotations_from_spec(spec));
                if let Some(serde_json::Value::Object(out)) = &spec.output_schema {
                    tool.output_schema = Some(Arc::new(out.clone()));
                }
                tool
            })
            .collect();
        ToolsetServer {
            tools: Arc::new(tools),
            listed: Arc::new(listed),
            info: Implementation::new(name, version),
            instructions: None,
        }
    }

    /// Instructions for clients (sent in `initialize`).
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// The served tools.
    pub fn toolset(&self) -> &Toolset {
        &self.tools
    }

    /// Serves over this process's stdin/stdout until the client closes stdin.
    pub async fn serve_stdio(self) -> Result<(), McpError> {
        let running =
            self.serve(rmcp::transport::stdio())
                .await
                .map_err(|e| McpError::Connect {
                    server: "stdio client".into(),
                    message: format!("initialize failed: {e}"),
                    source: Some(Box::new(e)),
                })?;
        let _ = running.waiting().await;
        Ok(())
    }
}

impl ServerHandler for ToolsetServer {
    fn get_info(&self) -> ServerConfig {
        let mut config = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        config.server_info = self.info.clone();
        config.instructions = self.instructions.clone();
        config
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.listed.as_ref().clone(),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<RemoteTool> {
        self.listed.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let traceparent = context
            .meta
            .0
            .0
            .get("traceparent")
            .and_then(|v| v.as_str())
            .filter(|v| crate::trace::is_valid_traceparent(v))
            .map(str::to_owned);
        self.run_tool_call(
            request,
            context.id.to_string(),
            traceparent,
            context.ct.clone(),
        )
        .await
    }
}

impl ToolsetServer {
    /// Runs one `tools/call` (shared by the rmcp handler and the direct HTTP path).
    async fn run_tool_call(
        &self,
        request: CallToolRequestParams,
        call_id: String,
        traceparent: Option<String>,
        cancellation: CancellationToken,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.as_ref();
        if !self.tools.contains(name) {
            return Err(ErrorData::invalid_params(
                format!("unknown tool {name:?}"),
                None,
            ));
        }
        let span = tracing::info_span!(
            "mcp.server tools/call",
            otel.kind = "server",
            gen_ai.tool.name = %name,
            gen_ai.operation.name = "execute_tool",
            traceparent = traceparent.as_deref().unwrap_or(""),
        );
        let arguments = serde_json::Value::Object(request.arguments.unwrap_or_default());
        let mut ctx = ToolContext::detached(call_id).with_cancellation(cancellation);
        ctx.trace_parent = traceparent;
        let outcome = self.tools.call(name, arguments, ctx).instrument(span).await;
        if let Err(e) = &outcome {
            tracing::debug!(tool = %name, error = %e, fault = e.is_fault(), "tool call failed");
        }
        Ok(result_from_outcome(outcome).into())
    }
}

/// Options for serving over HTTP. Built with [`HttpServeOptions::new`] (or `default()`) and
/// the setters.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct HttpServeOptions {
    /// When set, every MCP request must carry `Authorization: Bearer <token>`; the health
    /// endpoint stays open.
    pub bearer_token: Option<String>,
    /// `Host` values accepted on the MCP endpoints (DNS-rebinding protection). Empty accepts
    /// every host; `None` keeps rmcp's default (loopback names only). In a cluster, list the
    /// Service's names.
    pub allowed_hosts: Option<Vec<String>>,
    /// Answer simple calls with `application/json` instead of an SSE stream, and keep no
    /// sessions (stateless mode).
    pub stateless_json: bool,
    /// Send every `tools/call` through rmcp's session machinery instead of answering plain
    /// calls from the HTTP task with an `application/json` response (see the crate README,
    /// "Performance"). Off by default; the direct path changes only latency.
    pub disable_direct_tool_calls: bool,
    /// Bounds on connections, requests in flight per client, request bodies and headers, and
    /// the read and write timeouts (see [`ServerLimits`] for each default and why). Connection
    /// caps, header limits and timeouts need [`serve_http`]; [`router`] applies the rest.
    pub limits: ServerLimits,
    /// Bounds on MCP sessions: how many in total and per client, and when an idle one expires.
    pub sessions: SessionLimits,
    /// Stops the server (sessions end, new requests are refused).
    pub cancellation: CancellationToken,
}

impl HttpServeOptions {
    /// No bearer token, rmcp's default host check, sessions, the direct path on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires `Authorization: Bearer <token>` on every MCP request.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// Sets the `Host` values accepted on the MCP endpoints (empty: every host).
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_hosts = Some(hosts.into_iter().map(Into::into).collect());
        self
    }

    /// Turns stateless mode (JSON answers, no sessions) on or off.
    pub fn stateless_json(mut self, on: bool) -> Self {
        self.stateless_json = on;
        self
    }

    /// Turns the server's direct `tools/call` path off (`true`) or on.
    pub fn disable_direct_tool_calls(mut self, disable: bool) -> Self {
        self.disable_direct_tool_calls = disable;
        self
    }

    /// Sets the bounds on connections, requests in flight per client, bodies, headers and
    /// timeouts (start from `ServerLimits::default()` and change what the deployment needs).
    pub fn limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the bounds on MCP sessions (caps in total and per client, idle expiry).
    pub fn sessions(mut self, sessions: SessionLimits) -> Self {
        self.sessions = sessions;
        self
    }

    /// Stops the server when `token` is cancelled.
    pub fn cancellation(mut self, token: CancellationToken) -> Self {
        self.cancellation = token;
        self
    }
}

impl std::fmt::Debug for HttpServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServeOptions")
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("allowed_hosts", &self.allowed_hosts)
            .field("stateless_json", &self.stateless_json)
            .field("disable_direct_tool_calls", &self.disable_direct_tool_calls)
            .field("limits", &self.limits)
            .field("sessions", &self.sessions)
            .finish()
    }
}

/// An axum [`Router`] serving `server` with:
///
/// - `POST/GET/DELETE /mcp`: streamable HTTP,
/// - `GET /sse` + `POST /message?sessionId=…`: the legacy HTTP+SSE transport,
/// - `GET /healthz`: `{"status":"ok","tools":N}` (never behind the bearer check).
///
/// Every route is bounded by the request-level limits of `options.limits` (requests in flight
/// per client, body size and deadline) and sessions by `options.sessions`; limit answers are
/// JSON-RPC errors. Per-client caps key on axum's `ConnectInfo<SocketAddr>`: [`serve_http`]
/// provides it; with `axum::serve`, serve
/// `router.into_make_service_with_connect_info::<SocketAddr>()` (without it every client shares
/// one bucket). Connection caps, header limits and timeouts need [`serve_http`].
pub fn router(server: ToolsetServer, options: HttpServeOptions) -> Router {
    let limits = Arc::new(options.limits.clone());
    let mut config = StreamableHttpServerConfig::default()
        .with_cancellation_token(options.cancellation.child_token())
        .with_max_request_body_bytes(limits.max_request_body_bytes);
    if let Some(hosts) = &options.allowed_hosts {
        config = config.with_allowed_hosts(hosts.clone());
    }
    if options.stateless_json {
        config = config
            .with_legacy_session_mode(false)
            .with_json_response(true);
    }
    let factory = server.clone();
    let sessions = Arc::new(BoundedSessions::new(&options.sessions));
    let streamable =
        StreamableHttpService::new(move || Ok(factory.clone()), Arc::clone(&sessions), config);
    let legacy = LegacySse {
        server: server.clone(),
        sessions: Arc::new(Mutex::new(HashMap::new())),
        slots: sessions.limiter().clone(),
        idle_timeout: options.sessions.idle_timeout,
        limits: Arc::clone(&limits),
        cancellation: options.cancellation.clone(),
    };
    // rmcp checks `Host` on /mcp; the legacy endpoints get the same DNS-rebinding check.
    let hosts: Arc<[String]> = options
        .allowed_hosts
        .clone()
        .unwrap_or_else(|| vec!["localhost".into(), "127.0.0.1".into(), "::1".into()])
        .into();
    let mcp_service = direct::McpEndpoint {
        direct_calls: !options.disable_direct_tool_calls,
        inner: streamable,
        server: server.clone(),
        sessions: (!options.stateless_json).then_some(sessions),
        allowed_hosts: Arc::clone(&hosts),
        limits: Arc::clone(&limits),
        touch_interval: direct::touch_interval(options.sessions.idle_timeout),
        cancellation: options.cancellation.child_token(),
        in_flight: Arc::default(),
    };
    let legacy_routes = Router::new()
        .route("/sse", get(sse_connect))
        .route("/message", post(sse_message))
        .with_state(legacy)
        .layer(middleware::from_fn_with_state(hosts, require_allowed_host));
    let mut mcp = Router::new()
        .nest_service("/mcp", mcp_service)
        .merge(legacy_routes);
    if let Some(token) = options.bearer_token {
        let token: Arc<str> = Arc::from(token);
        mcp = mcp.layer(middleware::from_fn_with_state(token, require_bearer));
    }
    let tools = server.tools.len();
    mcp.route(
        "/healthz",
        get(move || async move { axum::Json(serde_json::json!({"status": "ok", "tools": tools})) }),
    )
    // Outermost, so unauthenticated and malformed requests are bounded too.
    .layer(kagent_http_limits::LimitsLayer::new(&limits).with_format(Arc::new(JsonRpcRejections)))
}

/// Serves [`router`] on `listener` until `options.cancellation` fires, with every limit of
/// `options.limits`: connection caps (in total and per client), header size and count,
/// header read timeout (slowloris), write timeout, and `TCP_NODELAY` on every connection
/// (see [`kagent_http_limits::serve`]). HTTP/1.1 only.
///
/// Use this rather than a bare `axum::serve(listener, router(..))`: besides the limits, MCP
/// responses are written in several small pieces (headers, then SSE events), and with
/// Nagle's algorithm on, each call can stall about 40 ms waiting for the client's delayed ACK.
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    server: ToolsetServer,
    options: HttpServeOptions,
) -> std::io::Result<()> {
    let stop = options.cancellation.clone();
    let limits = options.limits.clone();
    kagent_http_limits::serve(listener, router(server, options))
        .limits(limits)
        .rejection_format(Arc::new(JsonRpcRejections))
        .shutdown_on(stop)
        .await
}

async fn require_bearer(State(token): State<Arc<str>>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if constant_time_eq(presented.as_bytes(), token.as_bytes()) {
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "missing or invalid bearer token",
        )
            .into_response()
    }
}

async fn require_allowed_host(
    State(hosts): State<Arc<[String]>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if host_allowed(host, &hosts) {
        next.run(request).await
    } else {
        (StatusCode::FORBIDDEN, "host not allowed").into_response()
    }
}

/// Whether a `Host` header value matches an allow-list entry (`name` matches any port,
/// `name:port` only that port). An empty list allows every host.
fn host_allowed(host: &str, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let host = host.to_ascii_lowercase();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host.as_str(), |(n, _)| n)
    };
    allowed.iter().any(|a| {
        let a = a.to_ascii_lowercase();
        let a_trimmed = a.trim_start_matches('[').trim_end_matches(']');
        a == host || a_trimmed == name
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A legacy SSE session: where its client's messages go, and when it last saw traffic.
struct LegacySession {
    sender: futures::channel::mpsc::Sender<ClientJsonRpcMessage>,
    activity: Arc<Mutex<Instant>>,
}

type SessionMap = Arc<Mutex<HashMap<String, LegacySession>>>;

#[derive(Clone)]
struct LegacySse {
    server: ToolsetServer,
    sessions: SessionMap,
    /// Session slots, shared with streamable HTTP sessions.
    slots: KeyedLimiter,
    idle_timeout: Duration,
    limits: Arc<ServerLimits>,
    cancellation: CancellationToken,
}

/// Ends a legacy session when its event stream is dropped (client went away, or the session
/// expired): removes it from the map, stops its MCP service and idle watchdog, and frees its
/// slot.
struct SessionGuard {
    id: String,
    sessions: SessionMap,
    stop: CancellationToken,
    _slot: KeyedPermit,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
        self.stop.cancel();
    }
}

fn touch(activity: &Mutex<Instant>) {
    *activity.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
}

/// Stops a legacy session (`stop`) once it has seen no traffic for `idle`.
async fn expire_when_idle(activity: Arc<Mutex<Instant>>, idle: Duration, stop: CancellationToken) {
    loop {
        let last = *activity.lock().unwrap_or_else(PoisonError::into_inner);
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep_until((last + idle).into()) => {
                let quiet = activity.lock().unwrap_or_else(PoisonError::into_inner).elapsed();
                if quiet >= idle {
                    tracing::debug!(?quiet, "legacy SSE session expired");
                    stop.cancel();
                    return;
                }
            }
        }
    }
}

async fn sse_connect(State(state): State<LegacySse>, request: Request) -> Response {
    let client = ClientKey::of(&request);
    let slot = match limits::reserve(&state.slots, client) {
        Ok(slot) => slot,
        Err(rejection) => {
            tracing::debug!(%client, %rejection, "legacy SSE session refused");
            return limits::rejection_response(&rejection, None, state.limits.retry_after);
        }
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (to_server, from_client) = futures::channel::mpsc::channel::<ClientJsonRpcMessage>(64);
    let (to_client, from_server) = futures::channel::mpsc::channel::<ServerJsonRpcMessage>(64);
    let activity = Arc::new(Mutex::new(Instant::now()));
    state
        .sessions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(
            id.clone(),
            LegacySession {
                sender: to_server,
                activity: Arc::clone(&activity),
            },
        );
    let server = state.server.clone();
    let stop = state.cancellation.child_token();
    let session = id.clone();
    let service_stop = stop.clone();
    tokio::spawn(async move {
        match server
            .serve_with_ct((to_client, from_client), service_stop)
            .await
        {
            Ok(running) => {
                let _ = running.waiting().await;
            }
            Err(e) => {
                tracing::debug!(session = %session, error = %e, "legacy SSE session ended before initialize")
            }
        }
    });
    tokio::spawn(expire_when_idle(
        Arc::clone(&activity),
        state.idle_timeout,
        stop.clone(),
    ));
    let guard = SessionGuard {
        id: id.clone(),
        sessions: Arc::clone(&state.sessions),
        stop,
        _slot: slot,
    };
    // Relative to the /sse URL, so the router can be nested under a prefix.
    let endpoint = Event::default()
        .event("endpoint")
        .data(format!("message?sessionId={id}"));
    let messages = from_server.map(move |msg| {
        let _keep = &guard;
        touch(&activity);
        let data = serde_json::to_string(&msg).unwrap_or_default();
        Ok::<_, std::convert::Infallible>(Event::default().event("message").data(data))
    });
    let stream = futures::stream::once(async move { Ok(endpoint) }).chain(messages);
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

#[derive(serde::Deserialize)]
struct SessionQuery {
    #[serde(rename = "sessionId")]
    session_id: String,
}

async fn sse_message(
    State(state): State<LegacySse>,
    Query(query): Query<SessionQuery>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("application/json"));
    if !json {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected application/json",
        )
            .into_response();
    }
    let bytes = match limits::read_body(body, &state.limits).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let message = match limits::parse_message(&bytes) {
        Ok(message) => message,
        Err(response) => return response,
    };
    let session = state
        .sessions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&query.session_id)
        .map(|s| (s.sender.clone(), Arc::clone(&s.activity)));
    let Some((mut sender, activity)) = session else {
        return (StatusCode::NOT_FOUND, "unknown session").into_response();
    };
    touch(&activity);
    match sender.send(message).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(_) => (StatusCode::GONE, "session closed").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_allow_list() {
        let loopback = [
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        assert!(host_allowed("127.0.0.1:8084", &loopback));
        assert!(host_allowed("localhost", &loopback));
        assert!(host_allowed("[::1]:80", &loopback));
        assert!(!host_allowed("evil.example:8084", &loopback));
        assert!(!host_allowed("", &loopback));
        assert!(host_allowed("anything", &[]));
        let pinned = ["tools.svc:8084".to_owned()];
        assert!(host_allowed("tools.svc:8084", &pinned));
        assert!(!host_allowed("tools.svc:9999", &pinned));
    }

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        let dbg = format!(
            "{:?}",
            HttpServeOptions {
                bearer_token: Some("hunter2".into()),
                ..Default::default()
            }
        );
        assert!(!dbg.contains("hunter2"));
    }
}
