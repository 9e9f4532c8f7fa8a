//! Per-server settings: how to reach an MCP server and how patient to be with it.
//!
//! The HTTP settings mirror kagent's `RemoteMCPServer.spec` (`url`, `protocol`, `headersFrom`,
//! `timeout`, `sseReadTimeout`, `terminateOnClose`); stdio servers (a command kagent users
//! have long asked for) get a command line, environment and working directory.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::{HeaderName, HeaderValue};

use crate::error::McpError;
use crate::trace::TraceContextSource;

/// kagent's default `timeout`: connecting and every request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// kagent's default `sseReadTimeout`: how long an SSE stream may stay silent.
pub const DEFAULT_SSE_READ_TIMEOUT: Duration = Duration::from_secs(300);

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Wire protocol of a remote server, as kagent's `RemoteMCPServer.spec.protocol` spells it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[non_exhaustive]
pub enum McpProtocol {
    /// MCP streamable HTTP (one endpoint, `POST` + optional SSE responses, `Mcp-Session-Id`).
    #[default]
    #[serde(rename = "STREAMABLE_HTTP")]
    StreamableHttp,
    /// The legacy HTTP+SSE transport (`GET /sse`, an `endpoint` event, `POST` messages).
    #[serde(rename = "SSE")]
    Sse,
}

/// Supplies headers when a connection is made, so secrets (tokens from a Kubernetes Secret, a
/// refreshed OAuth token) are read at connect time and never stored in the configuration.
///
/// Mark secret values with [`HeaderValue::set_sensitive`]; kagent-mcp never logs header values.
#[async_trait]
pub trait HeaderProvider: Send + Sync {
    /// The headers to send on the next connection.
    async fn headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, BoxError>;
}

/// How to start a stdio MCP server. Built with [`StdioServerConfig::new`] and the setters.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StdioServerConfig {
    /// The program.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables (values are not logged).
    pub env: BTreeMap<String, String>,
    /// Start from an empty environment (plus `env`) instead of inheriting ours.
    pub env_clear: bool,
    /// Working directory; ours when unset.
    pub working_dir: Option<PathBuf>,
    /// On close: how long to wait after closing the server's stdin before killing it.
    pub shutdown_grace: Duration,
}

impl StdioServerConfig {
    /// A server started as `command` with no arguments.
    pub fn new(command: impl Into<String>) -> Self {
        StdioServerConfig {
            command: command.into(),
            args: Vec::new(),
            env: BTreeMap::new(),
            env_clear: false,
            working_dir: None,
            shutdown_grace: Duration::from_secs(2),
        }
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Sets the working directory.
    pub fn working_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.working_dir = Some(dir.into());
        self
    }

    /// Starts the server from an empty environment (plus `env`) instead of inheriting ours.
    pub fn env_clear(mut self, clear: bool) -> Self {
        self.env_clear = clear;
        self
    }

    /// Sets how long [`McpClient::close`](crate::McpClient::close) waits after closing the
    /// server's stdin before killing it (default 2 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

/// How to reach a remote (HTTP) MCP server: kagent's `RemoteMCPServer.spec`. Built with
/// [`HttpServerConfig::streamable_http`] or [`HttpServerConfig::sse`] and the setters.
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpServerConfig {
    /// `url`: the endpoint (`.../mcp` for streamable HTTP, `.../sse` for legacy SSE).
    pub url: String,
    /// `protocol`.
    pub protocol: McpProtocol,
    /// Static headers sent on every request. Values are treated as secrets.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// `headersFrom`: headers resolved at each connect.
    pub headers_from: Option<Arc<dyn HeaderProvider>>,
    /// `sseReadTimeout`: the longest an SSE stream may stay silent before it is dropped.
    pub sse_read_timeout: Duration,
    /// `terminateOnClose`: end the server-side session (`DELETE`) when the client closes.
    pub terminate_on_close: bool,
    /// Send `tools/call` as one direct HTTP exchange instead of through rmcp's client worker
    /// (streamable HTTP only; see the crate README, "Performance"). On by default.
    pub direct_tool_calls: bool,
}

impl fmt::Debug for HttpServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may be credentials: only names are printed.
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpServerConfig")
            .field("url", &self.url)
            .field("protocol", &self.protocol)
            .field("headers", &names)
            .field("headers_from", &self.headers_from.is_some())
            .field("sse_read_timeout", &self.sse_read_timeout)
            .field("terminate_on_close", &self.terminate_on_close)
            .field("direct_tool_calls", &self.direct_tool_calls)
            .finish()
    }
}

impl HttpServerConfig {
    /// A streamable HTTP server at `url` with kagent's defaults.
    pub fn streamable_http(url: impl Into<String>) -> Self {
        HttpServerConfig {
            url: url.into(),
            protocol: McpProtocol::StreamableHttp,
            headers: Vec::new(),
            headers_from: None,
            sse_read_timeout: DEFAULT_SSE_READ_TIMEOUT,
            terminate_on_close: true,
            direct_tool_calls: true,
        }
    }

    /// Turns the direct `tools/call` exchange off (every request then goes through rmcp's
    /// client worker) or on.
    pub fn direct_tool_calls(mut self, on: bool) -> Self {
        self.direct_tool_calls = on;
        self
    }

    /// A legacy HTTP+SSE server whose event stream is at `url` (usually `.../sse`).
    pub fn sse(url: impl Into<String>) -> Self {
        HttpServerConfig {
            protocol: McpProtocol::Sse,
            ..Self::streamable_http(url)
        }
    }

    /// Adds a static header; the value is marked sensitive. Fails on an invalid name or value.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, McpError> {
        let invalid = |what: &str| McpError::InvalidConfig {
            server: self.url.clone(),
            message: format!("invalid header {what} for {name:?}"),
        };
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid("name"))?;
        let mut value = HeaderValue::from_str(value).map_err(|_| invalid("value"))?;
        value.set_sensitive(true);
        self.headers.push((name, value));
        Ok(self)
    }

    /// Sets the connect-time header source (`headersFrom`).
    pub fn headers_from(mut self, provider: Arc<dyn HeaderProvider>) -> Self {
        self.headers_from = Some(provider);
        self
    }

    /// Sets `sseReadTimeout` (default 5 min).
    pub fn sse_read_timeout(mut self, timeout: Duration) -> Self {
        self.sse_read_timeout = timeout;
        self
    }

    /// Sets `terminateOnClose` (default on).
    pub fn terminate_on_close(mut self, terminate: bool) -> Self {
        self.terminate_on_close = terminate;
        self
    }
}

/// Where the server is.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum McpTransportConfig {
    /// A child process speaking JSON-RPC lines on stdin/stdout.
    Stdio(StdioServerConfig),
    /// A remote server over streamable HTTP or legacy SSE.
    Http(HttpServerConfig),
}

/// How often and how patiently to reconnect after the connection broke.
///
/// ```
/// use std::time::Duration;
/// let policy = kagent_mcp::ReconnectPolicy::default()
///     .max_attempts(3)
///     .min_delay(Duration::from_millis(50));
/// assert_eq!(policy.max_attempts, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconnectPolicy {
    /// Connection attempts per call before giving up (at least 1).
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles (with jitter) up to `max_delay`.
    pub min_delay: Duration,
    /// Longest delay between attempts.
    pub max_delay: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            max_attempts: 4,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(3),
        }
    }
}

impl ReconnectPolicy {
    /// Sets the connection attempts per call (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets the delay before the second attempt.
    pub fn min_delay(mut self, delay: Duration) -> Self {
        self.min_delay = delay;
        self
    }

    /// Sets the longest delay between attempts.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }
}

/// Everything about one MCP server. Built with [`McpServerConfig::stdio`],
/// [`McpServerConfig::http`] or [`McpServerConfig::new`] and the setters.
#[derive(Clone)]
#[non_exhaustive]
pub struct McpServerConfig {
    /// A name for logs, spans and errors (kagent: the `RemoteMCPServer`'s name).
    pub name: String,
    /// Where the server is.
    pub transport: McpTransportConfig,
    /// `timeout`: limit for connecting (including `initialize`) and for each request.
    pub timeout: Duration,
    /// Reconnection after failures.
    pub reconnect: ReconnectPolicy,
    /// Source of W3C trace context for `_meta.traceparent`; none by default.
    pub trace_context: Option<Arc<dyn TraceContextSource>>,
}

impl fmt::Debug for McpServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpServerConfig")
            .field("name", &self.name)
            .field("transport", &self.transport)
            .field("timeout", &self.timeout)
            .field("reconnect", &self.reconnect)
            .field("trace_context", &self.trace_context.is_some())
            .finish()
    }
}

impl McpServerConfig {
    /// A configuration with kagent's defaults (30 s timeout).
    pub fn new(name: impl Into<String>, transport: McpTransportConfig) -> Self {
        McpServerConfig {
            name: name.into(),
            transport,
            timeout: DEFAULT_TIMEOUT,
            reconnect: ReconnectPolicy::default(),
            trace_context: None,
        }
    }

    /// A stdio server.
    pub fn stdio(name: impl Into<String>, config: StdioServerConfig) -> Self {
        Self::new(name, McpTransportConfig::Stdio(config))
    }

    /// A remote server.
    pub fn http(name: impl Into<String>, config: HttpServerConfig) -> Self {
        Self::new(name, McpTransportConfig::Http(config))
    }

    /// Sets `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the reconnection policy.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }

    /// Sends W3C trace context from `source` in each request's `_meta`.
    pub fn trace_context(mut self, source: Arc<dyn TraceContextSource>) -> Self {
        self.trace_context = Some(source);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_spelling_matches_kagent() {
        assert_eq!(
            serde_json::to_string(&McpProtocol::StreamableHttp).unwrap(),
            "\"STREAMABLE_HTTP\""
        );
        let p: McpProtocol = serde_json::from_str("\"SSE\"").unwrap();
        assert_eq!(p, McpProtocol::Sse);
        assert!(serde_json::from_str::<McpProtocol>("\"sse\"").is_err());
    }

    #[test]
    fn defaults_follow_kagent() {
        let c = HttpServerConfig::streamable_http("http://x/mcp");
        assert_eq!(c.sse_read_timeout, Duration::from_secs(300));
        assert!(c.terminate_on_close);
        let s = McpServerConfig::http("x", c);
        assert_eq!(s.timeout, Duration::from_secs(30));
    }

    #[test]
    fn header_values_never_reach_debug_output() {
        let c = HttpServerConfig::streamable_http("http://x/mcp")
            .header("Authorization", "Bearer s3cr3t-token")
            .unwrap();
        let dbg = format!("{c:?}");
        assert!(dbg.contains("authorization"), "{dbg}");
        assert!(!dbg.contains("s3cr3t"), "{dbg}");
        assert!(c.headers[0].1.is_sensitive());
    }

    #[test]
    fn bad_headers_are_rejected_without_echoing_the_value() {
        let err = HttpServerConfig::streamable_http("http://x/mcp")
            .header("X-Key", "line\nbreak-secret")
            .unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(
            HttpServerConfig::streamable_http("u")
                .header("bad name", "v")
                .is_err()
        );
    }
}
