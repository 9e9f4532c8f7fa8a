//! [`McpToolset`]: the tools of one MCP server as kagent [`Tool`]s, kept live.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, Weak};

use async_trait::async_trait;
use kagent_core::{Tool, ToolContext, ToolError, ToolOutput, ToolSource, ToolSpec, Toolset};
use serde_json::Value;
use tokio::sync::watch;

use crate::client::McpClient;
use crate::convert::{output_from_result, spec_from_remote};
use crate::error::McpError;

/// One remote tool. Calls go through the shared [`McpClient`] (and so reconnect after faults).
///
/// Before a call is sent, the tool checks that the server's list has not changed since its
/// spec was read (no `notifications/tools/list_changed` and no reconnection since). When it
/// has, the list is read again first: a tool whose definition changed is not called
/// ([`ToolError::Changed`]), one that is gone is [`ToolError::NotFound`], and a list that
/// cannot be read is a transport fault; the call is never sent under a definition the policy
/// did not see.
#[derive(Debug, Clone)]
pub struct McpTool {
    spec: ToolSpec,
    client: McpClient,
    /// The client's `tools_changed` generation at which `spec` is known to be the server's.
    verified: Arc<AtomicU64>,
    /// The toolset this tool came from (to share its refresh); gone when it was dropped.
    list: Weak<Shared>,
}

impl McpTool {
    /// The client the tool calls through.
    pub fn client(&self) -> &McpClient {
        &self.client
    }

    /// Makes sure `spec` is still what the server offers under this name.
    async fn verify(&self) -> Result<(), ToolError> {
        let now = self.client.tools_generation();
        if self.verified.load(Ordering::Acquire) == now {
            return Ok(());
        }
        let name = self.spec.name.as_str();
        let server = self.client.name();
        let unreadable = |e: McpError| ToolError::Transport {
            tool: name.to_owned(),
            message: format!(
                "MCP server {server} changed its tool list and it could not be read again, so the call was not sent: {e}"
            ),
            source: Some(Box::new(e)),
        };
        let (generation, current) = match self.list.upgrade() {
            Some(shared) => {
                let (generation, tools) = shared.fresh().await.map_err(unreadable)?;
                (generation, tools.get(name).map(|tool| tool.spec().clone()))
            }
            None => {
                let remote = self.client.list_tools().await.map_err(unreadable)?;
                let spec = remote
                    .iter()
                    .find(|tool| tool.name == name)
                    .and_then(spec_from_remote);
                (now, spec)
            }
        };
        match current {
            Some(spec) => match self.spec.describe_change(&spec) {
                None => {
                    self.verified.fetch_max(generation, Ordering::AcqRel);
                    Ok(())
                }
                Some(change) => {
                    tracing::info!(server = %server, tool = %name, %change, "MCP tool changed on the server; call not sent");
                    Err(ToolError::changed(name, change))
                }
            },
            None => Err(ToolError::NotFound {
                message: format!(
                    "MCP server {server} no longer offers the tool {name}; the call was not sent"
                ),
            }),
        }
    }
}

#[async_trait]
impl Tool for McpTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(&self, arguments: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let name = self.spec.name.as_str();
        let arguments = match arguments {
            Value::Object(map) => Some(map),
            Value::Null => None,
            other => {
                return Err(ToolError::invalid_arguments(
                    name,
                    format!("arguments must be a JSON object, got {other}"),
                ));
            }
        };
        if ctx.cancellation.is_cancelled() {
            return Err(ToolError::Cancelled);
        }
        self.verify().await?;
        match self
            .client
            .call_tool(name, arguments, Some(&ctx.cancellation))
            .await
        {
            Ok(result) => output_from_result(name, result),
            Err(_) if ctx.cancellation.is_cancelled() => Err(ToolError::Cancelled),
            Err(e) => Err(e.into_tool_error(name)),
        }
    }
}

struct State {
    tools: Toolset,
    /// `tools_changed` generation the list reflects (read before the list was).
    generation: u64,
}

/// What an [`McpToolset`] and its tools share.
struct Shared {
    client: McpClient,
    filter: Option<Arc<[String]>>,
    state: RwLock<State>,
    /// One `tools/list` at a time; callers that waited use its result.
    refresh: tokio::sync::Mutex<()>,
}

impl Shared {
    fn current(&self) -> (u64, Toolset) {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        (state.generation, state.tools.clone())
    }

    /// The list as of the client's current generation: read again when a `list_changed` (or
    /// a reconnection) came after the list was last read.
    async fn fresh(self: &Arc<Self>) -> Result<(u64, Toolset), McpError> {
        let (generation, tools) = self.current();
        if generation == self.client.tools_generation() {
            return Ok((generation, tools));
        }
        let _one_at_a_time = self.refresh.lock().await;
        let (generation, tools) = self.current();
        let now = self.client.tools_generation();
        if generation == now {
            return Ok((generation, tools));
        }
        let tools = self.load(now, false).await?;
        self.store(tools.clone(), now);
        tracing::info!(server = %self.client.name(), tools = tools.len(), "MCP tool list read again after it changed");
        Ok((now, tools))
    }

    /// Reads the list now, whatever the generation.
    async fn reload(self: &Arc<Self>, strict: bool) -> Result<Toolset, McpError> {
        let _one_at_a_time = self.refresh.lock().await;
        let now = self.client.tools_generation();
        let tools = self.load(now, strict).await?;
        self.store(tools.clone(), now);
        Ok(tools)
    }

    fn store(&self, tools: Toolset, generation: u64) {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        state.tools = tools;
        state.generation = generation;
    }

    /// Lists the server's tools (read at `generation`) and builds the toolset. With `strict`,
    /// a filtered name the server lacks is an error; otherwise (a later refresh) it is dropped
    /// with a warning.
    async fn load(self: &Arc<Self>, generation: u64, strict: bool) -> Result<Toolset, McpError> {
        let client = &self.client;
        let remote = client.list_tools().await?;
        let mut all = Toolset::new();
        for tool in &remote {
            let Some(spec) = spec_from_remote(tool) else {
                tracing::warn!(server = %client.name(), tool = %tool.name, "skipping MCP tool whose name model providers reject");
                continue;
            };
            let name = spec.name.clone();
            let tool = McpTool {
                spec,
                client: client.clone(),
                verified: Arc::new(AtomicU64::new(generation)),
                list: Arc::downgrade(self),
            };
            if let Err(e) = all.add(tool) {
                tracing::warn!(server = %client.name(), tool = %name, error = %e, "skipping MCP tool");
            }
        }
        let Some(names) = self.filter.as_deref() else {
            return Ok(all);
        };
        let missing: Vec<String> = {
            let mut m: Vec<String> = names.iter().filter(|n| !all.contains(n)).cloned().collect();
            m.sort();
            m.dedup();
            m
        };
        if !missing.is_empty() {
            if strict {
                return Err(McpError::UnknownTools {
                    server: client.name().to_owned(),
                    names: missing,
                });
            }
            tracing::warn!(server = %client.name(), missing = ?missing, "tools in toolNames disappeared from the MCP server");
        }
        let present: Vec<&String> = names.iter().filter(|n| all.contains(n)).collect();
        all.filter(&present).map_err(|e| McpError::Protocol {
            server: client.name().to_owned(),
            message: e.to_string(),
        })
    }
}

/// The tools of one MCP server, optionally limited to kagent's `toolNames`, kept live.
///
/// The list is read at [`McpToolset::connect`], paginated, and read again whenever the server
/// sends `notifications/tools/list_changed` or the client reconnects: in the background, and at
/// the latest when the list is next asked for. Hand the `McpToolset` itself to an agent
/// (`LlmAgent::builder(..).toolset(mcp_tools)`): it is a live [`ToolSource`], so every model
/// turn offers the server's current tools and the policy decides each call on the tool's
/// current definition. [`McpToolset::toolset`] is a snapshot of the list now (for serving or
/// inspecting it).
#[derive(Clone)]
pub struct McpToolset {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for McpToolset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpToolset")
            .field("server", &self.shared.client.name())
            .field("tools", &self.toolset())
            .finish()
    }
}

impl McpToolset {
    /// Connects and lists every tool the server offers.
    pub async fn connect(client: McpClient) -> Result<Self, McpError> {
        Self::build(client, None).await
    }

    /// Connects and keeps only the named tools (kagent's `toolNames`), in that order. A name
    /// the server does not offer is an [`McpError::UnknownTools`] naming it.
    pub async fn with_tool_names<S: AsRef<str>>(
        client: McpClient,
        tool_names: &[S],
    ) -> Result<Self, McpError> {
        let names: Arc<[String]> = tool_names.iter().map(|s| s.as_ref().to_owned()).collect();
        Self::build(client, Some(names)).await
    }

    async fn build(client: McpClient, filter: Option<Arc<[String]>>) -> Result<Self, McpError> {
        let shared = Arc::new(Shared {
            client,
            filter,
            state: RwLock::new(State {
                tools: Toolset::new(),
                generation: 0,
            }),
            refresh: tokio::sync::Mutex::new(()),
        });
        // Subscribe before the first list is read: a `list_changed` that arrives while it is
        // read (or before the watcher task first runs) must wake the watcher. A receiver made
        // later counts every change so far as seen, and the snapshot would stay stale until the
        // next change.
        let changes = shared.client.tools_changed();
        shared.reload(true).await?;
        tokio::spawn(watch_list_changes(changes, Arc::downgrade(&shared)));
        Ok(McpToolset { shared })
    }

    /// The tools as last read (a snapshot; the agent gets the live list through
    /// [`ToolSource`]).
    pub fn toolset(&self) -> Toolset {
        self.shared.current().1
    }

    /// The current tool specs.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.toolset().specs()
    }

    /// The client.
    pub fn client(&self) -> &McpClient {
        &self.shared.client
    }

    /// Re-reads the tool list now. Returns the tool names after the refresh.
    pub async fn refresh(&self) -> Result<Vec<String>, McpError> {
        let tools = self.shared.reload(false).await?;
        Ok(tools.names().map(str::to_owned).collect())
    }
}

/// The server's current tools, read again when they changed.
#[async_trait]
impl ToolSource for McpToolset {
    fn describe(&self) -> String {
        format!("MCP server {}", self.shared.client.name())
    }

    fn snapshot(&self) -> Toolset {
        self.toolset()
    }

    async fn tools(&self) -> Toolset {
        match self.shared.fresh().await {
            Ok((_, tools)) => tools,
            Err(e) => {
                // The stale tools refuse calls until the list can be read again.
                tracing::warn!(server = %self.shared.client.name(), error = %e, "reading the changed MCP tool list failed; offering the last list");
                self.toolset()
            }
        }
    }

    fn is_live(&self) -> bool {
        true
    }
}

/// Reads the list again after every `notifications/tools/list_changed` (and reconnection),
/// until the toolset is dropped. `changes` was subscribed before the first list was read, so
/// no change after that read is missed.
async fn watch_list_changes(mut changes: watch::Receiver<u64>, shared: Weak<Shared>) {
    while changes.changed().await.is_ok() {
        changes.borrow_and_update();
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if let Err(e) = shared.fresh().await {
            tracing::warn!(server = %shared.client.name(), error = %e, "refreshing the MCP tool list failed");
        }
    }
}
