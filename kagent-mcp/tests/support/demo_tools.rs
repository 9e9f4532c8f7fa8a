//! A small kagent Toolset used by the server tests, the bench and the `tool_server` example.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    dead_code
)]

use kagent_core::{IntoTool, ToolContext, ToolEffect, ToolError, ToolOutput, Toolset, TypedTool};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
pub struct NamespaceArgs {
    /// The namespace.
    pub namespace: String,
}

#[derive(Deserialize, JsonSchema)]
pub struct NoArgs {}

pub struct CountPods;

#[async_trait::async_trait]
impl TypedTool for CountPods {
    type Args = NamespaceArgs;
    fn name(&self) -> &str {
        "count_pods"
    }
    fn description(&self) -> &str {
        "Counts the pods in a namespace"
    }
    fn effect(&self) -> ToolEffect {
        ToolEffect::ReadOnly
    }
    async fn run(&self, args: NamespaceArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text(format!("3 pods in {}", args.namespace)))
    }
}

pub struct DeleteNamespace;

#[async_trait::async_trait]
impl TypedTool for DeleteNamespace {
    type Args = NamespaceArgs;
    fn name(&self) -> &str {
        "delete_namespace"
    }
    fn description(&self) -> &str {
        "Deletes a namespace"
    }
    fn effect(&self) -> ToolEffect {
        ToolEffect::Destructive
    }
    async fn run(&self, args: NamespaceArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        Err(ToolError::Forbidden {
            message: format!("namespace {} is protected", args.namespace),
        })
    }
}

pub struct Report;

#[async_trait::async_trait]
impl TypedTool for Report {
    type Args = NoArgs;
    fn name(&self) -> &str {
        "report"
    }
    fn description(&self) -> &str {
        "Cluster report as structured data"
    }
    fn effect(&self) -> ToolEffect {
        ToolEffect::ReadOnly
    }
    async fn run(&self, _args: NoArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::json(
            serde_json::json!({"nodes": 3, "ready": true}),
        ))
    }
}

pub fn demo_toolset() -> Toolset {
    Toolset::new()
        .with(CountPods.into_tool().unwrap())
        .unwrap()
        .with(DeleteNamespace.into_tool().unwrap())
        .unwrap()
        .with(Report.into_tool().unwrap())
        .unwrap()
}
