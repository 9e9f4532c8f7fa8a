//! Serde types of the Anthropic Messages API (request, response, stream events).
//!
//! Only the fields kagent uses are typed; everything else is ignored on input, so new fields
//! and new block, delta and event types never break decoding (`#[serde(other)]`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A Messages API request body.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MessagesRequest {
    /// Model id (absent on Vertex AI, where the model is in the URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `vertex-2023-10-16` on Vertex AI (there it is a body field, not a header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anthropic_version: Option<String>,
    pub max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub messages: Vec<MessageParam>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolParam>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct MessageParam {
    pub role: &'static str,
    pub content: Vec<Value>,
}

/// A client tool definition.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ToolParam {
    pub name: String,
    pub description: String,
    pub input_schema: Value,
}

/// A complete (non-streamed) response.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct MessagesResponse {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub content: Vec<ContentBlock>,
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// A response content block.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ContentBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
        #[serde(default)]
        signature: String,
    },
    RedactedThinking {
        #[serde(default)]
        data: String,
    },
    /// `server_tool_use`, `web_search_tool_result`, `code_execution_tool_result`, ...: run by
    /// Anthropic, never by us.
    #[serde(other)]
    Other,
}

/// Token usage as Anthropic reports it. `input_tokens` excludes cache reads and writes.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
}

/// One stream event (`data:` payload; `type` repeats the `event:` name).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum StreamEvent {
    MessageStart {
        message: StartMessage,
    },
    ContentBlockStart {
        index: usize,
        content_block: StartBlock,
    },
    ContentBlockDelta {
        index: usize,
        delta: Delta,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Ping,
    Error {
        /// Decoded to check the shape; classification reads the raw JSON.
        #[allow(dead_code)]
        error: WireError,
    },
    #[serde(other)]
    Unknown,
}

/// The `message` of `message_start`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StartMessage {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// The `content_block` of `content_block_start`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum StartBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
        #[serde(default)]
        signature: String,
    },
    RedactedThinking {
        #[serde(default)]
        data: String,
    },
    #[serde(other)]
    Other,
}

/// The `delta` of `content_block_delta`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(clippy::enum_variant_names)] // the names are the wire's
pub(crate) enum Delta {
    TextDelta {
        #[serde(default)]
        text: String,
    },
    InputJsonDelta {
        #[serde(default)]
        partial_json: String,
    },
    ThinkingDelta {
        #[serde(default)]
        thinking: String,
    },
    SignatureDelta {
        #[serde(default)]
        signature: String,
    },
    #[serde(other)]
    Other,
}

/// The `delta` of `message_delta`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct MessageDeltaBody {
    #[serde(default)]
    pub stop_reason: Option<String>,
}

/// An error object (`{"type": "error", "error": {"type": ..., "message": ...}}`).
#[derive(Debug, Clone, Default, Deserialize)]
#[allow(dead_code)]
pub(crate) struct WireError {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// `GET /v1/models` page.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ModelsPage {
    #[serde(default)]
    pub data: Vec<ModelEntry>,
    #[serde(default)]
    pub has_more: bool,
    #[serde(default)]
    pub last_id: Option<String>,
}

/// One model of `GET /v1/models`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ModelEntry {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
}
