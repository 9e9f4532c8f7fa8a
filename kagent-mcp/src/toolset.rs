//! [`McpToolset`]: the tools of one MCP server as kagent [`Tool`]s.

use std::sync::{Arc, PoisonError, RwLock, Weak};

use async_trait::async_trait;
use kagent_core::{Tool, ToolContext, ToolError, ToolOutput, ToolSpec, Toolset};
use serde_json::Value;

use crate::client::McpClient;
use crate::convert::{output_from_result, spec_from_remote};
use crate::error::McpError;

/// One remote tool. Calls go through the shared [`McpClient`] (and so reconnect after faults).
#[derive(Debug, Clone)]
pub struct McpTool {
    spec: ToolSpec,
    client: McpClient,
}

impl McpTool {
    /// The client the tool calls through.
    pub fn client(&self) -> &McpClient {
        &self.client
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

#[derive(Default)]
struct State {
    tools: Toolset,
    /// `tools_changed` generation the current list reflects.
    generation: u64,
}

/// The tools of one MCP server, optionally limited to kagent's `toolNames`.
///
/// The list is read at [`McpToolset::connect`], paginated, and refreshed in the background
/// whenever the server sends `notifications/tools/list_changed` (and on
/// [`McpToolset::refresh`]). [`McpToolset::toolset`] returns the current list as a
/// [`Toolset`] to hand to an agent.
#[derive(Clone)]
pub struct McpToolset {
    client: McpClient,
    filter: Option<Arc<[String]>>,
    state: Arc<RwLock<State>>,
}

impl std::fmt::Debug for McpToolset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpToolset")
            .field("server", &self.client.name())
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
        let set = McpToolset {
            client,
            filter,
            state: Arc::new(RwLock::new(State::default())),
        };
        set.refresh_strict().await?;
        let weak = Arc::downgrade(&set.state);
        tokio::spawn(watch_list_changes(
            set.client.clone(),
            set.filter.clone(),
            weak,
        ));
        Ok(set)
    }

    /// The current tools.
    pub fn toolset(&self) -> Toolset {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .tools
            .clone()
    }

    /// The current tool specs.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.toolset().specs()
    }

    /// The client.
    pub fn client(&self) -> &McpClient {
        &self.client
    }

    /// Re-reads the tool list now. Returns the tool names after the refresh.
    pub async fn refresh(&self) -> Result<Vec<String>, McpError> {
        let generation = *self.client.tools_changed().borrow();
        let tools = load(&self.client, self.filter.as_deref(), false).await?;
        let names = tools.names().map(str::to_owned).collect();
        store(&self.state, tools, generation);
        Ok(names)
    }

    async fn refresh_strict(&self) -> Result<(), McpError> {
        let generation = *self.client.tools_changed().borrow();
        let tools = load(&self.client, self.filter.as_deref(), true).await?;
        store(&self.state, tools, generation);
        Ok(())
    }
}

fn store(state: &RwLock<State>, tools: Toolset, generation: u64) {
    let mut s = state.write().unwrap_or_else(PoisonError::into_inner);
    s.tools = tools;
    s.generation = s.generation.max(generation);
}

/// Lists the server's tools and builds the toolset. With `strict`, a filtered name the server
/// lacks is an error; otherwise (a later refresh) it is dropped with a warning.
async fn load(
    client: &McpClient,
    filter: Option<&[String]>,
    strict: bool,
) -> Result<Toolset, McpError> {
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
        };
        if let Err(e) = all.add(tool) {
            tracing::warn!(server = %client.name(), tool = %name, error = %e, "skipping MCP tool");
        }
    }
    let Some(names) = filter else {
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

/// Refreshes the list after every `notifications/tools/list_changed`, until the toolset is
/// dropped.
async fn watch_list_changes(
    client: McpClient,
    filter: Option<Arc<[String]>>,
    state: Weak<RwLock<State>>,
) {
    let mut changes = client.tools_changed();
    while changes.changed().await.is_ok() {
        let generation = *changes.borrow_and_update();
        let Some(state) = state.upgrade() else {
            return;
        };
        let current = state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .generation;
        if generation <= current {
            continue;
        }
        match load(&client, filter.as_deref(), false).await {
            Ok(tools) => {
                tracing::info!(server = %client.name(), tools = tools.len(), "MCP tool list refreshed after list_changed");
                store(&state, tools, generation);
            }
            Err(e) => {
                tracing::warn!(server = %client.name(), error = %e, "refreshing the MCP tool list failed");
            }
        }
    }
}
