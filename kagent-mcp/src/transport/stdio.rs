//! stdio client transport: a child process speaking newline-delimited JSON-RPC.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use rmcp::RoleClient;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Mutex;
use tokio_util::codec::{FramedRead, LinesCodec};

use super::{Fault, FaultSlot, excerpt};
use crate::config::StdioServerConfig;
use crate::error::McpError;

/// Longest line accepted from a server (a big tool result, base64 images).
const MAX_LINE: usize = 64 * 1024 * 1024;

pub(crate) struct StdioTransport {
    stdin: Arc<Mutex<Option<ChildStdin>>>,
    stdout: FramedRead<ChildStdout, LinesCodec>,
    child: Option<Child>,
    fault: FaultSlot,
    grace: Duration,
    server: String,
}

impl StdioTransport {
    /// Starts the server process. Its stderr is forwarded, line by line, to `tracing` at
    /// `info` with target `kagent_mcp::server_stderr`.
    pub(crate) fn spawn(
        server: &str,
        config: &StdioServerConfig,
        fault: FaultSlot,
    ) -> Result<Self, McpError> {
        if config.command.is_empty() {
            return Err(McpError::InvalidConfig {
                server: server.to_owned(),
                message: "empty command".into(),
            });
        }
        let mut cmd = Command::new(&config.command);
        cmd.args(&config.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if config.env_clear {
            cmd.env_clear();
        }
        cmd.envs(&config.env);
        if let Some(dir) = &config.working_dir {
            cmd.current_dir(dir);
        }
        let mut child = cmd.spawn().map_err(|source| McpError::Spawn {
            server: server.to_owned(),
            command: config.command.clone(),
            source,
        })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(McpError::Connect {
                server: server.to_owned(),
                message: "child process has no stdio pipes".into(),
                source: None,
            });
        };
        if let Some(stderr) = child.stderr.take() {
            let name = server.to_owned();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    tracing::info!(target: "kagent_mcp::server_stderr", server = %name, "{line}");
                }
            });
        }
        tracing::debug!(server, pid = child.id(), command = %config.command, "started stdio MCP server");
        Ok(StdioTransport {
            stdin: Arc::new(Mutex::new(Some(stdin))),
            stdout: FramedRead::new(stdout, LinesCodec::new_with_max_length(MAX_LINE)),
            child: Some(child),
            fault,
            grace: config.shutdown_grace,
            server: server.to_owned(),
        })
    }

    fn exit_note(&mut self) -> String {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(Some(status))) => format!("server process exited ({status})"),
            _ => "server closed its stdout".to_owned(),
        }
    }
}

impl Transport<RoleClient> for StdioTransport {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let stdin = Arc::clone(&self.stdin);
        async move {
            let mut line = serde_json::to_vec(&item)?;
            line.push(b'\n');
            let mut guard = stdin.lock().await;
            let Some(pipe) = guard.as_mut() else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::BrokenPipe,
                    "stdio transport closed",
                ));
            };
            pipe.write_all(&line).await?;
            pipe.flush().await
        }
    }

    async fn receive(&mut self) -> Option<ServerJsonRpcMessage> {
        loop {
            match self.stdout.next().await {
                Some(Ok(line)) => {
                    let trimmed = line.trim();
                    if trimmed.is_empty() {
                        continue;
                    }
                    match serde_json::from_str::<ServerJsonRpcMessage>(trimmed) {
                        Ok(message) => return Some(message),
                        Err(e) => {
                            self.fault.set(Fault::Protocol(format!(
                                "malformed JSON-RPC on stdout ({e}): {}",
                                excerpt(trimmed)
                            )));
                            return None;
                        }
                    }
                }
                Some(Err(e)) => {
                    self.fault
                        .set(Fault::Transport(format!("reading server stdout: {e}")));
                    return None;
                }
                None => {
                    // Give the process a moment to be reaped so the exit status can be reported.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let note = self.exit_note();
                    self.fault.set(Fault::Transport(note));
                    return None;
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        // Closing stdin is the MCP way to ask a stdio server to exit.
        self.stdin.lock().await.take();
        if let Some(mut child) = self.child.take() {
            match tokio::time::timeout(self.grace, child.wait()).await {
                Ok(status) => {
                    tracing::debug!(server = %self.server, status = ?status.ok(), "stdio MCP server exited");
                }
                Err(_) => {
                    tracing::debug!(server = %self.server, "stdio MCP server ignored stdin close; killing it");
                    child.kill().await?;
                }
            }
        }
        Ok(())
    }
}
