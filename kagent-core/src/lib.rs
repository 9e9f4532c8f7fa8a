#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod message;
pub mod provider;
pub mod stream;
pub mod tool;
pub mod toolset;

pub use message::{
    AssistantMessage, ChatRequest, ChatResponse, ContentPart, FinishReason, Message, Reasoning,
    Role, ToolArguments, ToolCall, ToolChoice, ToolContent, ToolResult, Usage,
};
pub use provider::{
    ApiErrorDetails, Capabilities, ModelInfo, ModelProvider, ModelSummary, ProviderError,
};
pub use stream::{ChatEvent, ChatStream, StreamAssembler, collect_stream};
pub use tool::{
    IntoTool, Tool, ToolContext, ToolEffect, ToolError, ToolOutput, ToolSpec, ToolSpecError,
    TypedTool, TypedToolAdapter, schema_for, validate_tool_name,
};
pub use toolset::{Toolset, ToolsetError};

// Re-exported so that tool authors use the same versions as the SDK.
pub use async_trait::async_trait;
pub use schemars;
pub use serde_json;
pub use tokio_util::sync::CancellationToken;
