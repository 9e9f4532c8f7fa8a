#![doc = include_str!("../README.md")]

mod client;
pub mod config;
pub mod convert;
mod direct;
mod error;
pub mod http;
pub mod server;
mod toolset;
pub mod trace;
mod transport;

pub use client::McpClient;
pub use config::{
    HeaderProvider, HttpServerConfig, McpProtocol, McpServerConfig, McpTransportConfig,
    ReconnectPolicy, StdioServerConfig,
};
pub use error::McpError;
pub use http::{TlsOptions, http_client, http_client_builder};
pub use server::{
    HttpServeOptions, ServerLimits, SessionLimits, ToolsetServer, router, serve_http,
};
pub use toolset::{McpTool, McpToolset};
pub use trace::{TraceContext, TraceContextSource};

/// The bounded-serving crate the MCP server uses (`ServerLimits`, `Rejection`, the serve loop),
/// for embedders who mount [`router`] themselves.
pub use kagent_http_limits as http_limits;
/// The rmcp crate this crate builds on, for embedders who need its model types
/// (`CallToolResult`, `Prompt`, `Resource`, ...).
pub use rmcp;
