//! Serves a small demo Toolset as an MCP server.
//!
//! ```text
//! cargo run -p kagent-mcp --example tool_server -- stdio
//! cargo run -p kagent-mcp --example tool_server -- http 127.0.0.1:8084 [BEARER_TOKEN]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/support/demo_tools.rs"]
mod demo_tools;

use kagent_mcp::{HttpServeOptions, ToolsetServer, serve_http};

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
            let mut options = HttpServeOptions::new();
            if let Some(token) = args.get(2) {
                options = options.bearer_token(token);
            }
            let listener = tokio::net::TcpListener::bind(addr).await?;
            eprintln!("serving MCP on http://{}/mcp", listener.local_addr()?);
            serve_http(listener, server, options).await?;
        }
        _ => server.serve_stdio().await?,
    }
    Ok(())
}
