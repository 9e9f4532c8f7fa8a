//! [`McpClient`]: one MCP server, connected lazily, reconnected after faults.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use http::HeaderMap;
#[allow(deprecated)]
use rmcp::model::{
    CallToolRequestParams, CancelledNotificationParam, ClientCapabilities, ClientConfig,
    ClientRequest, GetPromptRequestParams, GetPromptResult, Implementation, JsonObject,
    ListPromptsRequest, ListResourceTemplatesRequest, ListResourcesRequest, ListToolsRequest,
    LoggingMessageNotificationParam, MetaObject, PaginatedRequestParams, Prompt,
    ReadResourceRequestParams, ReadResourceResult, Request, RequestMetaObject, Resource,
    ResourceTemplate, ServerPeerInfo, ServerResult, Tool as RemoteTool,
};
use rmcp::service::{
    NotificationContext, Peer, PeerRequestOptions, RoleClient, RunningService, ServiceError,
};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ServiceExt};
use tokio::sync::{Mutex, watch};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::config::{HttpServerConfig, McpProtocol, McpServerConfig, McpTransportConfig};
use crate::direct::{DirectHttp, Outcome, SessionSlot};
use crate::error::McpError;
use crate::http::StreamableClient;
use crate::transport::sse::SseTransport;
use crate::transport::stdio::StdioTransport;
use crate::transport::{Fault, FaultSlot};

/// Most pages read from one paginated list before giving up (a server looping on cursors).
const MAX_PAGES: usize = 1000;

/// Records a `notifications/tools/list_changed` from `server`: [`McpClient::tools_changed`]
/// receivers see a new generation. Shared by rmcp's handler and the direct `tools/call` path.
pub(crate) fn tools_list_changed(server: &str, generation: &watch::Sender<u64>) {
    tracing::debug!(server = %server, "tools/list_changed");
    generation.send_modify(|g| *g = g.wrapping_add(1));
}

/// Receives server notifications for a connection.
#[derive(Clone)]
struct Events {
    server: Arc<str>,
    tools_changed: Arc<watch::Sender<u64>>,
}

impl ClientHandler for Events {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        tools_list_changed(&self.server, &self.tools_changed);
    }

    #[allow(deprecated)] // logging is deprecated by SEP-2577, but servers still send it
    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        tracing::debug!(
            target: "kagent_mcp::server_log",
            server = %self.server,
            level = ?params.level,
            logger = params.logger.as_deref().unwrap_or(""),
            data = %params.data,
        );
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("kagent-rs", env!("CARGO_PKG_VERSION")),
        )
    }
}

struct Connection {
    service: RunningService<RoleClient, Events>,
    fault: FaultSlot,
    /// Streamable HTTP with direct `tools/call` on.
    direct: Option<DirectHttp>,
}

impl Connection {
    fn peer(&self) -> &Peer<RoleClient> {
        self.service.peer()
    }

    fn is_usable(&self) -> bool {
        !self.service.is_closed()
            && !self.peer().is_transport_closed()
            && self.fault.get().is_none()
    }
}

struct Inner {
    config: McpServerConfig,
    http: Option<reqwest::Client>,
    conn: Mutex<Option<Arc<Connection>>>,
    tools_changed: Arc<watch::Sender<u64>>,
    closed: AtomicBool,
    /// Set after the first connection: a later one is a reconnection.
    connected_once: AtomicBool,
}

/// A client for one MCP server.
///
/// Cheap to clone (clones share the connection). The connection is made on first use (or
/// with [`McpClient::connect`]); when it breaks — the server exits, the network drops, the
/// server sends malformed JSON-RPC — the call in flight fails with a typed error and the next
/// call reconnects, retrying with exponential backoff ([`crate::ReconnectPolicy`]). Every
/// request is bounded by the configured `timeout`.
#[derive(Clone)]
pub struct McpClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for McpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl McpClient {
    /// A client for a server. Remote servers also need [`McpClient::with_http_client`].
    pub fn new(config: McpServerConfig) -> Self {
        let (tx, _rx) = watch::channel(0u64);
        McpClient {
            inner: Arc::new(Inner {
                config,
                http: None,
                conn: Mutex::new(None),
                tools_changed: Arc::new(tx),
                closed: AtomicBool::new(false),
                connected_once: AtomicBool::new(false),
            }),
        }
    }

    /// A client for a remote server, over the given HTTP client (see [`crate::http_client`]
    /// for one with pooling, `TCP_NODELAY` and TLS options).
    pub fn with_http_client(config: McpServerConfig, http: reqwest::Client) -> Self {
        let (tx, _rx) = watch::channel(0u64);
        McpClient {
            inner: Arc::new(Inner {
                config,
                http: Some(http),
                conn: Mutex::new(None),
                tools_changed: Arc::new(tx),
                closed: AtomicBool::new(false),
                connected_once: AtomicBool::new(false),
            }),
        }
    }

    /// The server's configured name.
    pub fn name(&self) -> &str {
        &self.inner.config.name
    }

    /// The configuration.
    pub fn config(&self) -> &McpServerConfig {
        &self.inner.config
    }

    /// Connects now (otherwise the first request connects). Idempotent.
    pub async fn connect(&self) -> Result<(), McpError> {
        self.connection().await.map(|_| ())
    }

    /// What the server said about itself in the handshake, once connected.
    pub async fn server_info(&self) -> Option<ServerPeerInfo> {
        let guard = self.inner.conn.lock().await;
        guard
            .as_ref()
            .and_then(|c| c.peer().peer_info())
            .map(|info| (*info).clone())
    }

    /// A receiver that changes whenever the server sends `notifications/tools/list_changed`,
    /// and when the client reconnects (a restarted server may offer other tools).
    pub fn tools_changed(&self) -> watch::Receiver<u64> {
        self.inner.tools_changed.subscribe()
    }

    /// The current value [`McpClient::tools_changed`] receivers see.
    pub(crate) fn tools_generation(&self) -> u64 {
        *self.inner.tools_changed.borrow()
    }

    /// Closes the connection (for stdio: closes the server's stdin, then kills it after the
    /// grace period; for streamable HTTP: ends the session if `terminateOnClose`). Later calls
    /// fail with [`McpError::Closed`].
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        let conn = self.inner.conn.lock().await.take();
        if let Some(conn) = conn {
            shutdown(conn).await;
        }
    }

    /// Lists every tool, following pagination cursors.
    pub async fn list_tools(&self) -> Result<Vec<RemoteTool>, McpError> {
        self.paginate(
            "tools/list",
            |cursor| {
                ClientRequest::ListToolsRequest(ListToolsRequest {
                    method: Default::default(),
                    params: Some(PaginatedRequestParams::default().with_cursor(cursor)),
                    extensions: Default::default(),
                })
            },
            |result| match result {
                ServerResult::ListToolsResult(r) => Some((r.tools, r.next_cursor)),
                _ => None,
            },
        )
        .await
    }

    /// Lists every prompt.
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, McpError> {
        self.paginate(
            "prompts/list",
            |cursor| {
                ClientRequest::ListPromptsRequest(ListPromptsRequest {
                    method: Default::default(),
                    params: Some(PaginatedRequestParams::default().with_cursor(cursor)),
                    extensions: Default::default(),
                })
            },
            |result| match result {
                ServerResult::ListPromptsResult(r) => Some((r.prompts, r.next_cursor)),
                _ => None,
            },
        )
        .await
    }

    /// Renders a prompt with arguments.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
    ) -> Result<GetPromptResult, McpError> {
        let mut params = GetPromptRequestParams::new(name);
        if let Some(args) = arguments {
            params = params.with_arguments(args);
        }
        let req = ClientRequest::GetPromptRequest(Request::new(params));
        match self.request("prompts/get", req, None).await? {
            ServerResult::GetPromptResult(r) => Ok(r),
            other => Err(self.unexpected("prompts/get", &other)),
        }
    }

    /// Lists every resource.
    pub async fn list_resources(&self) -> Result<Vec<Resource>, McpError> {
        self.paginate(
            "resources/list",
            |cursor| {
                ClientRequest::ListResourcesRequest(ListResourcesRequest {
                    method: Default::default(),
                    params: Some(PaginatedRequestParams::default().with_cursor(cursor)),
                    extensions: Default::default(),
                })
            },
            |result| match result {
                ServerResult::ListResourcesResult(r) => Some((r.resources, r.next_cursor)),
                _ => None,
            },
        )
        .await
    }

    /// Lists every resource template.
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, McpError> {
        self.paginate(
            "resources/templates/list",
            |cursor| {
                ClientRequest::ListResourceTemplatesRequest(ListResourceTemplatesRequest {
                    method: Default::default(),
                    params: Some(PaginatedRequestParams::default().with_cursor(cursor)),
                    extensions: Default::default(),
                })
            },
            |result| match result {
                ServerResult::ListResourceTemplatesResult(r) => {
                    Some((r.resource_templates, r.next_cursor))
                }
                _ => None,
            },
        )
        .await
    }

    /// Reads a resource.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, McpError> {
        let req =
            ClientRequest::ReadResourceRequest(Request::new(ReadResourceRequestParams::new(uri)));
        match self.request("resources/read", req, None).await? {
            ServerResult::ReadResourceResult(r) => Ok(r),
            other => Err(self.unexpected("resources/read", &other)),
        }
    }

    /// Calls a tool. An `isError` result is returned as `Ok` (it is the tool's answer);
    /// faults (transport, timeout, JSON-RPC errors) are `Err`. Cancelling `cancel` abandons the
    /// call and tells the server (`notifications/cancelled`).
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
        cancel: Option<&CancellationToken>,
    ) -> Result<rmcp::model::CallToolResult, McpError> {
        let span = tracing::info_span!(
            "mcp.tools/call",
            otel.kind = "client",
            rpc.system = "jsonrpc",
            mcp.server = %self.inner.config.name,
            gen_ai.tool.name = %name,
            gen_ai.operation.name = "execute_tool",
        );
        async {
            let mut params = CallToolRequestParams::new(name.to_owned());
            if let Some(args) = arguments {
                params = params.with_arguments(args);
            }
            if let Some(meta) = self.trace_meta() {
                params.meta = Some(meta);
            }
            let conn = self.connection().await?;
            if let Some(direct) = conn.direct.as_ref().filter(|d| d.usable()) {
                match self.direct_call(&conn, direct, params.clone(), cancel).await {
                    Outcome::Done(Ok(ServerResult::CallToolResult(r))) => return Ok(r),
                    Outcome::Done(Ok(other)) => return Err(self.unexpected("tools/call", &other)),
                    Outcome::Done(Err(e)) => return Err(e),
                    Outcome::Fallback(why) => {
                        tracing::debug!(server = %self.inner.config.name, reason = %why, "direct tools/call refused; sending it through rmcp");
                    }
                }
            }
            let req = ClientRequest::CallToolRequest(Request::new(params));
            match self.request("tools/call", req, cancel).await? {
                ServerResult::CallToolResult(r) => Ok(r),
                other => Err(self.unexpected("tools/call", &other)),
            }
        }
        .instrument(span)
        .await
    }

    /// One `tools/call` as a direct HTTP exchange (see [`crate::direct`]), bounded by the
    /// configured timeout and `cancel`; either tells the server (`notifications/cancelled`).
    async fn direct_call(
        &self,
        conn: &Arc<Connection>,
        direct: &DirectHttp,
        params: CallToolRequestParams,
        cancel: Option<&CancellationToken>,
    ) -> Outcome {
        let id = crate::direct::request_id();
        let timeout = self.inner.config.timeout;
        let server = self.inner.config.name.clone();
        let never = CancellationToken::new();
        let cancel = cancel.unwrap_or(&never);
        let notify = |reason: &str| {
            let peer = conn.peer().clone();
            let param = CancelledNotificationParam::new(Some(id.clone()), Some(reason.to_owned()));
            tokio::spawn(async move {
                let _ = peer.notify_cancelled(param).await;
            });
        };
        let outcome = tokio::select! {
            r = tokio::time::timeout(timeout, direct.call(id.clone(), params)) => match r {
                Ok(outcome) => outcome,
                Err(_) => {
                    notify("request timed out");
                    Outcome::Done(Err(McpError::Timeout {
                        server,
                        operation: "tools/call".into(),
                        after: timeout,
                    }))
                }
            },
            () = cancel.cancelled() => {
                notify("cancelled by the caller");
                Outcome::Done(Err(McpError::Transport {
                    server,
                    message: "tools/call cancelled".into(),
                    source: None,
                }))
            }
        };
        // A broken exchange: drop the connection so the next call reconnects (with backoff),
        // as the rmcp path does.
        if let Outcome::Done(Err(McpError::Transport { message, .. })) = &outcome
            && message != "tools/call cancelled"
        {
            self.invalidate(conn);
        }
        outcome
    }

    fn trace_meta(&self) -> Option<RequestMetaObject> {
        let cx = self.inner.config.trace_context.as_ref()?.current()?;
        let mut meta = MetaObject::new();
        crate::trace::inject(&mut meta, &cx);
        (!meta.0.is_empty()).then_some(RequestMetaObject(meta))
    }

    fn unexpected(&self, operation: &str, result: &ServerResult) -> McpError {
        let got = serde_json::to_string(result).unwrap_or_default();
        McpError::Protocol {
            server: self.inner.config.name.clone(),
            message: format!(
                "unexpected result for {operation}: {}",
                crate::transport::excerpt(&got)
            ),
        }
    }

    async fn paginate<T>(
        &self,
        operation: &str,
        make: impl Fn(Option<String>) -> ClientRequest,
        take: impl Fn(ServerResult) -> Option<(Vec<T>, Option<String>)>,
    ) -> Result<Vec<T>, McpError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let result = self.request(operation, make(cursor.clone()), None).await?;
            let printable = serde_json::to_string(&result).unwrap_or_default();
            let Some((page, next)) = take(result) else {
                return Err(McpError::Protocol {
                    server: self.inner.config.name.clone(),
                    message: format!(
                        "unexpected result for {operation}: {}",
                        crate::transport::excerpt(&printable)
                    ),
                });
            };
            items.extend(page);
            match next {
                Some(next) if !next.is_empty() => {
                    if cursor.as_deref() == Some(next.as_str()) {
                        return Err(McpError::Protocol {
                            server: self.inner.config.name.clone(),
                            message: format!("{operation} returned the same cursor twice"),
                        });
                    }
                    cursor = Some(next);
                }
                _ => return Ok(items),
            }
        }
        Err(McpError::Protocol {
            server: self.inner.config.name.clone(),
            message: format!("{operation} did not end after {MAX_PAGES} pages"),
        })
    }

    /// Sends one request on the current connection (connecting first if needed).
    async fn request(
        &self,
        operation: &str,
        request: ClientRequest,
        cancel: Option<&CancellationToken>,
    ) -> Result<ServerResult, McpError> {
        let conn = self.connection().await?;
        let timeout = self.inner.config.timeout;
        let server = self.inner.config.name.clone();
        let handle = conn
            .peer()
            .send_request_with_option(request, PeerRequestOptions::with_timeout(timeout))
            .await
            .map_err(|e| self.service_error(&conn, operation, e))?;
        let id = handle.id.clone();
        let peer = handle.peer.clone();
        let never = CancellationToken::new();
        let cancel = cancel.unwrap_or(&never);
        // rmcp enforces the timeout (and sends notifications/cancelled); the outer limit is a
        // backstop so no call can outlive it even if the transport wedges.
        let outcome = tokio::select! {
            r = tokio::time::timeout(timeout + Duration::from_millis(250), handle.await_response()) => r,
            () = cancel.cancelled() => {
                let _ = peer
                    .notify_cancelled(CancelledNotificationParam::new(
                        Some(id),
                        Some("cancelled by the caller".into()),
                    ))
                    .await;
                return Err(McpError::Transport {
                    server,
                    message: format!("{operation} cancelled"),
                    source: None,
                });
            }
        };
        match outcome {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(e)) => Err(self.service_error(&conn, operation, e)),
            Err(_) => Err(McpError::Timeout {
                server,
                operation: operation.to_owned(),
                after: timeout,
            }),
        }
    }

    /// Maps an rmcp error; a broken connection is dropped so the next call reconnects.
    fn service_error(&self, conn: &Arc<Connection>, operation: &str, e: ServiceError) -> McpError {
        let server = self.inner.config.name.clone();
        match e {
            ServiceError::McpError(data) => McpError::Server {
                server,
                code: data.code.0,
                message: data.message.into_owned(),
                data: data.data,
            },
            ServiceError::Timeout { timeout } => McpError::Timeout {
                server,
                operation: operation.to_owned(),
                after: timeout,
            },
            ServiceError::UnexpectedResponse => McpError::Protocol {
                server,
                message: format!("unexpected response type for {operation}"),
            },
            other => {
                self.invalidate(conn);
                match conn.fault.get() {
                    Some(Fault::Protocol(message)) => McpError::Protocol { server, message },
                    Some(Fault::Transport(message)) => McpError::Transport {
                        server,
                        message: format!("{operation} failed: {message}"),
                        source: Some(Box::new(other)),
                    },
                    None => McpError::Transport {
                        server,
                        message: format!("{operation} failed: {other}"),
                        source: Some(Box::new(other)),
                    },
                }
            }
        }
    }

    /// Forgets `conn` if it is still the current connection, and shuts it down.
    fn invalidate(&self, conn: &Arc<Connection>) {
        let inner = Arc::clone(&self.inner);
        let conn = Arc::clone(conn);
        tokio::spawn(async move {
            let mut guard = inner.conn.lock().await;
            if guard.as_ref().is_some_and(|c| Arc::ptr_eq(c, &conn)) {
                guard.take();
            }
            drop(guard);
            shutdown(conn).await;
        });
    }

    /// The live connection, connecting (with backoff) when there is none.
    async fn connection(&self) -> Result<Arc<Connection>, McpError> {
        let server = &self.inner.config.name;
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(McpError::Closed {
                server: server.clone(),
            });
        }
        let mut guard = self.inner.conn.lock().await;
        if let Some(conn) = guard.as_ref() {
            if conn.is_usable() {
                return Ok(Arc::clone(conn));
            }
            tracing::info!(server = %server, fault = ?conn.fault.get(), "MCP connection lost; reconnecting");
            if let Some(old) = guard.take() {
                tokio::spawn(shutdown(old));
            }
        }
        let policy = self.inner.config.reconnect;
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(policy.min_delay)
            .with_max_delay(policy.max_delay)
            .with_jitter()
            .with_max_times(policy.max_attempts.saturating_sub(1) as usize)
            .build();
        let mut attempt = 1u32;
        loop {
            match self.connect_once().await {
                Ok(conn) => {
                    let conn = Arc::new(conn);
                    *guard = Some(Arc::clone(&conn));
                    if self.inner.connected_once.swap(true, Ordering::SeqCst) {
                        // A new session or process may list other tools than the last one.
                        tools_list_changed(server, &self.inner.tools_changed);
                    }
                    return Ok(conn);
                }
                Err(e) if !retryable(&e) => return Err(e),
                Err(e) => match delays.next() {
                    Some(delay) => {
                        tracing::warn!(server = %server, attempt, error = %e, ?delay, "connecting to MCP server failed; retrying");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Err(e),
                },
            }
        }
    }

    async fn connect_once(&self) -> Result<Connection, McpError> {
        let config = &self.inner.config;
        let server = config.name.as_str();
        let fault = FaultSlot::default();
        let events = Events {
            server: Arc::from(server),
            tools_changed: Arc::clone(&self.inner.tools_changed),
        };
        let span = tracing::debug_span!("mcp.connect", mcp.server = %server);
        let started = async {
            match &config.transport {
                McpTransportConfig::Stdio(stdio) => {
                    let transport = StdioTransport::spawn(server, stdio, fault.clone())?;
                    Ok((self.handshake(events.serve(transport), &fault).await?, None))
                }
                McpTransportConfig::Http(http) => {
                    let client = self.inner.http.clone().ok_or_else(|| McpError::InvalidConfig {
                        server: server.to_owned(),
                        message: "remote MCP servers need a reqwest::Client: use McpClient::with_http_client".into(),
                    })?;
                    let headers = self.resolve_headers(http).await?;
                    match http.protocol {
                        McpProtocol::StreamableHttp => {
                            let session = SessionSlot::default();
                            let direct = http.direct_tool_calls.then(|| DirectHttp {
                                server: Arc::from(server),
                                http: client.clone(),
                                url: http.url.clone(),
                                headers: headers.clone(),
                                session: session.clone(),
                                protocol_version: None,
                                sse_read_timeout: http.sse_read_timeout,
                                tools_changed: Arc::clone(&self.inner.tools_changed),
                            });
                            let transport_config =
                                StreamableHttpClientTransportConfig::with_uri(http.url.as_str())
                                    .custom_headers(
                                        headers
                                            .into_iter()
                                            .filter_map(|(k, v)| Some((k?, v)))
                                            .collect(),
                                    );
                            let transport = StreamableHttpClientTransport::with_client(
                                StreamableClient {
                                    inner: client,
                                    sse_read_timeout: http.sse_read_timeout,
                                    terminate_on_close: http.terminate_on_close,
                                    session,
                                },
                                transport_config,
                            );
                            let service = self.handshake(events.serve(transport), &fault).await?;
                            let direct = direct.map(|mut d| {
                                d.protocol_version = service
                                    .peer()
                                    .peer_info()
                                    .map(|i| i.protocol_version.clone());
                                d
                            });
                            Ok((service, direct))
                        }
                        McpProtocol::Sse => {
                            let transport = SseTransport::connect(
                                server,
                                client,
                                &http.url,
                                headers,
                                http.sse_read_timeout,
                                fault.clone(),
                            )
                            .await?;
                            Ok((self.handshake(events.serve(transport), &fault).await?, None))
                        }
                    }
                }
            }
        };
        let (service, direct) = tokio::time::timeout(config.timeout, started.instrument(span))
            .await
            .map_err(|_| McpError::Timeout {
                server: server.to_owned(),
                operation: "connect/initialize".into(),
                after: config.timeout,
            })??;
        if let Some(info) = service.peer().peer_info() {
            tracing::debug!(
                server,
                protocol = %info.protocol_version,
                remote = ?info.server_info.as_ref().map(|i| (&i.name, &i.version)),
                "connected to MCP server"
            );
        }
        Ok(Connection {
            service,
            fault,
            direct,
        })
    }

    async fn handshake<F, E>(
        &self,
        started: F,
        fault: &FaultSlot,
    ) -> Result<RunningService<RoleClient, Events>, McpError>
    where
        F: Future<Output = Result<RunningService<RoleClient, Events>, E>>,
        E: std::error::Error + Send + Sync + 'static,
    {
        started.await.map_err(|e| {
            let server = self.inner.config.name.clone();
            match fault.get() {
                Some(Fault::Protocol(message)) => McpError::Protocol { server, message },
                Some(Fault::Transport(message)) => McpError::Connect {
                    server,
                    message: format!("{message} (during initialize)"),
                    source: Some(Box::new(e)),
                },
                None => McpError::Connect {
                    server,
                    message: format!("initialize failed: {e}"),
                    source: Some(Box::new(e)),
                },
            }
        })
    }

    async fn resolve_headers(&self, http: &HttpServerConfig) -> Result<HeaderMap, McpError> {
        let mut headers = HeaderMap::new();
        for (name, value) in &http.headers {
            headers.insert(name.clone(), value.clone());
        }
        if let Some(provider) = &http.headers_from {
            let resolved = provider
                .headers()
                .await
                .map_err(|source| McpError::Headers {
                    server: self.inner.config.name.clone(),
                    source,
                })?;
            for (name, mut value) in resolved {
                value.set_sensitive(true);
                headers.insert(name, value);
            }
        }
        Ok(headers)
    }
}

fn retryable(e: &McpError) -> bool {
    matches!(
        e,
        McpError::Connect { .. } | McpError::Transport { .. } | McpError::Timeout { .. }
    )
}

async fn shutdown(conn: Arc<Connection>) {
    match Arc::try_unwrap(conn) {
        Ok(conn) => {
            let mut service = conn.service;
            let _ = service.close_with_timeout(Duration::from_secs(5)).await;
        }
        Err(shared) => {
            // Calls still hold it; cancelling ends the service loop and closes the transport.
            shared.service.cancellation_token().cancel();
        }
    }
}
