//! Serves a small demo Toolset as an MCP server.
//!
//! ```text
//! cargo run -p kagent-mcp --example tool_server -- stdio
//! cargo run -p kagent-mcp --example tool_server -- http 127.0.0.1:8084 [BEARER_TOKEN]
//! ```
//!
//! Over HTTP every limit keeps its default (see `ServerLimits` and `SessionLimits`); these
//! environment variables override some, for trying them out:
//!
//! | variable | field |
//! |---|---|
//! | `MCP_MAX_SESSIONS` | `SessionLimits::max_sessions` |
//! | `MCP_MAX_SESSIONS_PER_CLIENT` | `SessionLimits::max_sessions_per_client` |
//! | `MCP_SESSION_IDLE_SECS` | `SessionLimits::idle_timeout` |
//! | `MCP_MAX_REQUESTS_PER_CLIENT` | `ServerLimits::max_requests_per_client` |
//! | `MCP_MAX_CONNECTIONS` | `ServerLimits::max_connections` |
//! | `MCP_MAX_CONNECTIONS_PER_CLIENT` | `ServerLimits::max_connections_per_client` |
//! | `MCP_MAX_BODY_BYTES` | `ServerLimits::max_request_body_bytes` |
//! | `MCP_HEADER_READ_TIMEOUT_SECS` | `ServerLimits::header_read_timeout` |
//!
//! The binary uses jemalloc as its allocator: glibc's malloc keeps memory freed by expired
//! sessions mapped (see the kagent-http-limits README, "Memory").
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/support/demo_tools.rs"]
mod demo_tools;

use std::time::Duration;

use kagent_mcp::{HttpServeOptions, ToolsetServer, serve_http};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.parse() {
        Ok(n) => Some(n),
        Err(e) => {
            eprintln!("ignoring {name}={value:?}: {e}");
            None
        }
    }
}

fn options_from_env(bearer_token: Option<String>) -> HttpServeOptions {
    let mut options = HttpServeOptions::new();
    if let Some(token) = bearer_token {
        options = options.bearer_token(token);
    }
    let as_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    if let Some(n) = env_number("MCP_MAX_SESSIONS") {
        options.sessions.max_sessions = as_usize(n);
    }
    if let Some(n) = env_number("MCP_MAX_SESSIONS_PER_CLIENT") {
        options.sessions.max_sessions_per_client = as_usize(n);
    }
    if let Some(n) = env_number("MCP_SESSION_IDLE_SECS") {
        options.sessions.idle_timeout = Duration::from_secs(n);
    }
    if let Some(n) = env_number("MCP_MAX_REQUESTS_PER_CLIENT") {
        options.limits.max_requests_per_client = as_usize(n);
    }
    if let Some(n) = env_number("MCP_MAX_CONNECTIONS") {
        options.limits.max_connections = as_usize(n);
    }
    if let Some(n) = env_number("MCP_MAX_CONNECTIONS_PER_CLIENT") {
        options.limits.max_connections_per_client = as_usize(n);
    }
    if let Some(n) = env_number("MCP_MAX_BODY_BYTES") {
        options.limits.max_request_body_bytes = as_usize(n);
    }
    if let Some(n) = env_number("MCP_HEADER_READ_TIMEOUT_SECS") {
        options.limits.header_read_timeout = Duration::from_secs(n);
    }
    options
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Logs go to stderr: stdout belongs to the protocol in stdio mode.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let server = ToolsetServer::new("kagent-demo-tools", "0.1.0", demo_tools::demo_toolset());
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("http") => {
            let addr = args.get(1).map(String::as_str).unwrap_or("127.0.0.1:8084");
            let options = options_from_env(args.get(2).cloned());
            let listener = tokio::net::TcpListener::bind(addr).await?;
            eprintln!("serving MCP on http://{}/mcp", listener.local_addr()?);
            serve_http(listener, server, options).await?;
        }
        _ => server.serve_stdio().await?,
    }
    Ok(())
}
