//! Shared helpers for kagent-mcp integration tests: finding and starting the real MCP
//! components that `scripts/setup/mcp.sh` installs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    dead_code
)]

pub mod demo_tools;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use kagent_mcp::{
    HttpServeOptions, HttpServerConfig, McpClient, McpServerConfig, StdioServerConfig, TlsOptions,
    ToolsetServer, http_client, serve_http,
};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

const INSTALL: &str = "run scripts/setup/mcp.sh (installs @modelcontextprotocol/server-everything and python mcp into .test-components)";

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "kagent_mcp=debug,warn".into()),
        )
        .with_test_writer()
        .try_init();
}

pub fn components() -> PathBuf {
    match std::env::var_os("KAGENT_TEST_COMPONENTS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.test-components"),
    }
}

pub fn everything_js() -> PathBuf {
    let js =
        components().join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    assert!(
        js.exists(),
        "server-everything is not installed at {}: {INSTALL}",
        js.display()
    );
    js
}

pub fn python() -> PathBuf {
    let py = components().join("mcp-venv/bin/python");
    assert!(
        py.exists(),
        "python mcp is not installed at {}: {INSTALL}",
        py.display()
    );
    py
}

pub fn python_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
}

/// The `tool_server` example binary. `cargo test` builds examples; `cargo nextest` does not,
/// so it is built here when missing.
pub fn tool_server_example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let bin = profile_dir.join("examples/tool_server");
    if !bin.exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "-p", "kagent-mcp", "--example", "tool_server"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status();
        eprintln!("built the tool_server example: {status:?}");
    }
    assert!(
        bin.exists(),
        "example binary missing at {}: run `cargo build -p kagent-mcp --example tool_server`",
        bin.display()
    );
    bin
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed on drop.
pub struct Proc(pub Child);

impl Proc {
    pub async fn kill(&mut self) {
        let _ = self.0.kill().await;
    }
}

async fn wait_for_port(port: u16, child: &mut Child) {
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited before listening on {port}: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not listen on 127.0.0.1:{port} within 15 s");
}

/// server-everything in `mode` (`sse` or `streamableHttp`) on a free port. It listens on all
/// interfaces, so this only ever runs on the test machine.
pub async fn start_everything(mode: &str, port: u16) -> Proc {
    let mut child = Command::new("node")
        .arg(everything_js())
        .arg(mode)
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed (apt-get install -y nodejs)");
    wait_for_port(port, &mut child).await;
    Proc(child)
}

/// The Python SDK server (tests/python/py_server.py) on `port`.
pub async fn start_python_server(port: u16) -> Proc {
    let mut child = Command::new(python())
        .arg(python_script("py_server.py"))
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_for_port(port, &mut child).await;
    Proc(child)
}

pub fn everything_stdio_config() -> McpServerConfig {
    McpServerConfig::stdio(
        "everything-stdio",
        StdioServerConfig::new("node").args([
            everything_js().to_string_lossy().into_owned(),
            "stdio".into(),
        ]),
    )
}

pub fn fake_server(mode: &str) -> McpServerConfig {
    McpServerConfig::stdio(
        format!("fake-{mode}"),
        StdioServerConfig::new(python().to_string_lossy().into_owned()).args([
            python_script("fake_server.py")
                .to_string_lossy()
                .into_owned(),
            mode.to_owned(),
        ]),
    )
}

pub fn http() -> reqwest::Client {
    http_client(&TlsOptions::default()).unwrap()
}

pub fn remote(name: &str, config: HttpServerConfig) -> McpClient {
    McpClient::with_http_client(McpServerConfig::http(name, config), http())
}

/// Our server for the demo toolset on a free loopback port; returns its base URL.
pub async fn start_our_server(options: HttpServeOptions) -> (String, CancellationToken) {
    let cancel = options.cancellation.clone();
    let server = ToolsetServer::new("kagent-demo-tools", "0.1.0", demo_tools::demo_toolset());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        serve_http(listener, server, options).await.unwrap();
    });
    (format!("http://{addr}"), cancel)
}
