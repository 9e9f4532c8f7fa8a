//! Errors of the MCP client and server.

use std::time::Duration;

use kagent_core::ToolError;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why an MCP operation failed.
///
/// Messages never contain header values or other secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The configuration cannot work (bad URL, bad header name, empty command).
    #[error("invalid MCP server configuration for {server}: {message}")]
    InvalidConfig {
        /// The server's name.
        server: String,
        /// What is wrong.
        message: String,
    },
    /// Headers for the connection could not be resolved (for example a missing secret).
    #[error("could not resolve headers for MCP server {server}")]
    Headers {
        /// The server's name.
        server: String,
        /// The resolver's error.
        #[source]
        source: BoxError,
    },
    /// The stdio server process could not be started.
    #[error("could not start MCP server {server} ({command})")]
    Spawn {
        /// The server's name.
        server: String,
        /// The program.
        command: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The connection or the `initialize` handshake failed.
    #[error("could not connect to MCP server {server}: {message}")]
    Connect {
        /// The server's name.
        server: String,
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The connection broke (server exited, network error, stream closed).
    #[error("transport error talking to MCP server {server}: {message}")]
    Transport {
        /// The server's name.
        server: String,
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The server sent something that is not valid JSON-RPC / MCP.
    #[error("MCP server {server} broke the protocol: {message}")]
    Protocol {
        /// The server's name.
        server: String,
        /// What was wrong.
        message: String,
    },
    /// The server did not answer in time.
    #[error("MCP server {server} did not answer {operation} within {after:?}")]
    Timeout {
        /// The server's name.
        server: String,
        /// The request (`tools/call`, `initialize`, ...).
        operation: String,
        /// The limit.
        after: Duration,
    },
    /// The server answered with a JSON-RPC error.
    #[error("MCP server {server} returned error {code}: {message}")]
    Server {
        /// The server's name.
        server: String,
        /// JSON-RPC error code.
        code: i32,
        /// The server's message.
        message: String,
        /// The error's `data` member.
        data: Option<serde_json::Value>,
    },
    /// `toolNames` asked for tools the server does not offer.
    #[error("MCP server {server} does not offer tool(s): {}", names.join(", "))]
    UnknownTools {
        /// The server's name.
        server: String,
        /// The missing names, sorted.
        names: Vec<String>,
    },
    /// The client was closed.
    #[error("MCP client for {server} is closed")]
    Closed {
        /// The server's name.
        server: String,
    },
}

impl McpError {
    /// Whether the connection is unusable after this error and must be re-established.
    pub fn is_connection_fault(&self) -> bool {
        matches!(
            self,
            McpError::Transport { .. } | McpError::Protocol { .. } | McpError::Connect { .. }
        )
    }

    /// Converts into the [`ToolError`] an agent sees for a failed call of `tool`.
    pub fn into_tool_error(self, tool: &str) -> ToolError {
        match self {
            McpError::Timeout { after, .. } => ToolError::Timeout {
                tool: tool.to_owned(),
                after,
            },
            McpError::Server {
                code: -32602,
                ref message,
                ..
            } => ToolError::invalid_arguments(tool, message.clone()),
            McpError::Server { .. } => ToolError::failed(self.to_string()),
            McpError::Closed { .. } => ToolError::Transport {
                tool: tool.to_owned(),
                message: self.to_string(),
                source: Some(Box::new(self)),
            },
            other => ToolError::Transport {
                tool: tool.to_owned(),
                message: other.to_string(),
                source: Some(Box::new(other)),
            },
        }
    }
}
