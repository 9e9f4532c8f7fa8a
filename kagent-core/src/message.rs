//! The provider-neutral message model.
//!
//! Every [`ModelProvider`](crate::ModelProvider) translates between these types and its own
//! wire format; nothing in here knows about a particular provider. Provider-specific data that
//! must survive a round trip (Anthropic thinking signatures, Gemini `thoughtSignature`s, OpenAI
//! Responses reasoning items) rides in the opaque `provider_data` fields.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::tool::ToolSpec;

/// Who wrote a message.
///
/// One role per kind of [`Message`]; `Message` may gain kinds, so this may gain roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// The human or calling system.
    User,
    /// The model.
    Assistant,
    /// The result of a tool call, fed back to the model.
    Tool,
}

/// One message of a conversation.
///
/// The system prompt is not a message: it lives in [`ChatRequest::system`], because providers
/// disagree on where it goes (a `system`/`developer` message, a top-level field, a
/// `systemInstruction`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Message {
    /// Input from the user.
    User {
        /// Text and images.
        content: Vec<ContentPart>,
    },
    /// A model turn: text, reasoning and tool calls.
    Assistant(AssistantMessage),
    /// The result of one tool call.
    Tool(ToolResult),
}

impl Message {
    /// A user message holding one text part.
    pub fn user(text: impl Into<String>) -> Self {
        Message::User {
            content: vec![ContentPart::text(text)],
        }
    }

    /// An assistant message holding one text part and no tool calls.
    pub fn assistant(text: impl Into<String>) -> Self {
        Message::Assistant(AssistantMessage::text(text))
    }

    /// The role of this message.
    pub fn role(&self) -> Role {
        match self {
            Message::User { .. } => Role::User,
            Message::Assistant(_) => Role::Assistant,
            Message::Tool(_) => Role::Tool,
        }
    }

    /// All text of the message joined, without reasoning.
    pub fn text(&self) -> String {
        match self {
            Message::User { content } => join_text(content),
            Message::Assistant(a) => a.text_content(),
            Message::Tool(r) => r.text(),
        }
    }
}

fn join_text(parts: &[ContentPart]) -> String {
    let mut out = String::new();
    for part in parts {
        if let ContentPart::Text { text } = part {
            out.push_str(text);
        }
    }
    out
}

/// One piece of user or assistant content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContentPart {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// An inline image.
    Image {
        /// MIME type, e.g. `image/png`.
        media_type: String,
        /// Base64-encoded bytes.
        data: String,
    },
}

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart::Text { text: text.into() }
    }
}

/// Model reasoning ("thinking") that some providers require to be replayed verbatim.
///
/// Built with [`Reasoning::new`] (or `Reasoning::default()` for a block with no text) and the
/// `with_*` methods:
///
/// ```
/// use kagent_core::Reasoning;
/// let thought = Reasoning::new("check the selector").with_signature("sig");
/// let hidden = Reasoning::default().with_redacted("opaque-bytes");
/// assert_eq!(thought.signature.as_deref(), Some("sig"));
/// assert!(hidden.text.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Reasoning {
    /// Human-readable reasoning text or summary (may be empty when redacted).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Integrity signature (Anthropic `signature`, Gemini `thoughtSignature`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Encrypted or redacted reasoning payload (Anthropic `redacted_thinking.data`, OpenAI
    /// `encrypted_content`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted: Option<String>,
    /// Anything else the provider needs to get back unchanged (e.g. a Responses reasoning item).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_data: Option<Value>,
}

impl Reasoning {
    /// Reasoning with this text and nothing else set.
    pub fn new(text: impl Into<String>) -> Self {
        Reasoning {
            text: text.into(),
            ..Default::default()
        }
    }

    /// Sets the integrity signature.
    #[must_use]
    pub fn with_signature(mut self, signature: impl Into<String>) -> Self {
        self.signature = Some(signature.into());
        self
    }

    /// Sets the encrypted or redacted reasoning payload.
    #[must_use]
    pub fn with_redacted(mut self, redacted: impl Into<String>) -> Self {
        self.redacted = Some(redacted.into());
        self
    }

    /// Sets the provider data to replay unchanged.
    #[must_use]
    pub fn with_provider_data(mut self, provider_data: Value) -> Self {
        self.provider_data = Some(provider_data);
        self
    }
}

/// A model turn.
///
/// Built with [`AssistantMessage::text`] or `AssistantMessage::default()` and the `with_*`
/// methods:
///
/// ```
/// use kagent_core::{AssistantMessage, Reasoning, ToolCall};
/// use serde_json::json;
/// let turn = AssistantMessage::text("Looking at the pods.")
///     .with_reasoning(vec![Reasoning::new("list pods first")])
///     .with_tool_calls(vec![ToolCall::new("c1", "k8s_get", json!({"kind": "Pod"}))]);
/// assert_eq!(turn.tool_calls.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AssistantMessage {
    /// Text parts in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<ContentPart>,
    /// Reasoning blocks in order, replayed to providers that need them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasoning: Vec<Reasoning>,
    /// Tool calls the model requested, in the order it made them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
}

impl AssistantMessage {
    /// A turn with one text part.
    pub fn text(text: impl Into<String>) -> Self {
        AssistantMessage {
            content: vec![ContentPart::text(text)],
            ..Default::default()
        }
    }

    /// Sets the content parts (replacing any).
    #[must_use]
    pub fn with_content(mut self, content: Vec<ContentPart>) -> Self {
        self.content = content;
        self
    }

    /// Sets the reasoning blocks (replacing any).
    #[must_use]
    pub fn with_reasoning(mut self, reasoning: Vec<Reasoning>) -> Self {
        self.reasoning = reasoning;
        self
    }

    /// Sets the tool calls (replacing any).
    #[must_use]
    pub fn with_tool_calls(mut self, tool_calls: Vec<ToolCall>) -> Self {
        self.tool_calls = tool_calls;
        self
    }

    /// All text parts joined.
    pub fn text_content(&self) -> String {
        join_text(&self.content)
    }
}

/// Arguments of a tool call as the model wrote them.
///
/// Models sometimes emit arguments that are not valid JSON (cut off by a token limit, or just
/// wrong). Those are kept as [`ToolArguments::Malformed`] so the engine can tell the model what
/// went wrong instead of running the tool with made-up arguments.
///
/// Serialized, valid arguments are the JSON value itself; malformed ones are
/// `{"$malformed": {"raw": ..., "error": ...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "ArgumentsRepr", into = "ArgumentsRepr")]
pub enum ToolArguments {
    /// Parsed JSON (normally an object).
    Json(Value),
    /// Text that did not parse as JSON.
    Malformed {
        /// The raw text the model produced.
        raw: String,
        /// Why it did not parse.
        error: String,
    },
}

impl ToolArguments {
    /// Parses argument text the way every provider needs it: empty or blank text means "no
    /// arguments" (`{}`); anything else must be JSON.
    pub fn parse(raw: &str) -> Self {
        if raw.trim().is_empty() {
            return ToolArguments::Json(Value::Object(Default::default()));
        }
        match serde_json::from_str::<Value>(raw) {
            Ok(v) => ToolArguments::Json(v),
            Err(e) => ToolArguments::Malformed {
                raw: raw.to_owned(),
                error: e.to_string(),
            },
        }
    }

    /// The parsed JSON, if valid.
    pub fn as_json(&self) -> Option<&Value> {
        match self {
            ToolArguments::Json(v) => Some(v),
            ToolArguments::Malformed { .. } => None,
        }
    }

    /// The arguments as JSON text: the serialized value, or the raw text when malformed.
    pub fn to_json_string(&self) -> String {
        match self {
            ToolArguments::Json(v) => v.to_string(),
            ToolArguments::Malformed { raw, .. } => raw.clone(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct MalformedRepr {
    raw: String,
    error: String,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum ArgumentsRepr {
    Malformed {
        #[serde(rename = "$malformed")]
        malformed: MalformedRepr,
    },
    Json(Value),
}

impl From<ArgumentsRepr> for ToolArguments {
    fn from(r: ArgumentsRepr) -> Self {
        match r {
            ArgumentsRepr::Malformed { malformed } => ToolArguments::Malformed {
                raw: malformed.raw,
                error: malformed.error,
            },
            ArgumentsRepr::Json(v) => ToolArguments::Json(v),
        }
    }
}

impl From<ToolArguments> for ArgumentsRepr {
    fn from(a: ToolArguments) -> Self {
        match a {
            ToolArguments::Json(v) => ArgumentsRepr::Json(v),
            ToolArguments::Malformed { raw, error } => ArgumentsRepr::Malformed {
                malformed: MalformedRepr { raw, error },
            },
        }
    }
}

impl From<Value> for ToolArguments {
    fn from(v: Value) -> Self {
        ToolArguments::Json(v)
    }
}

/// A tool call requested by the model.
///
/// Built with [`ToolCall::new`] and [`ToolCall::with_provider_data`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolCall {
    /// The call id, echoed in the [`ToolResult`]. Providers that send none get a synthetic id.
    pub id: String,
    /// The tool name.
    pub name: String,
    /// The arguments.
    pub arguments: ToolArguments,
    /// Provider data to replay with this call (e.g. a Gemini `thoughtSignature`, or whether the
    /// id was synthesized locally).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_data: Option<Value>,
}

impl ToolCall {
    /// A call with these arguments: a JSON [`Value`], or [`ToolArguments`] (e.g. from
    /// [`ToolArguments::parse`], which keeps malformed text).
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<ToolArguments>,
    ) -> Self {
        ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: arguments.into(),
            provider_data: None,
        }
    }

    /// Sets the provider data to replay with this call.
    #[must_use]
    pub fn with_provider_data(mut self, provider_data: Value) -> Self {
        self.provider_data = Some(provider_data);
        self
    }
}

/// One piece of tool output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolContent {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    Image {
        /// MIME type.
        media_type: String,
        /// Base64-encoded bytes.
        data: String,
    },
    /// Audio.
    Audio {
        /// MIME type, e.g. `audio/wav`.
        media_type: String,
        /// Base64-encoded bytes.
        data: String,
    },
    /// A link to a resource (MCP `resource_link` or embedded resource).
    Resource {
        /// Resource URI.
        uri: String,
        /// Display name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// MIME type.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_type: Option<String>,
        /// Inline text of the resource, when the server embedded it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
}

impl ToolContent {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        ToolContent::Text { text: text.into() }
    }
}

/// The result of a tool call, as the model will see it.
///
/// Built with [`ToolResult::ok`], [`ToolResult::error`] or [`ToolResult::new`] and the `with_*`
/// methods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolResult {
    /// The id of the call this answers.
    pub call_id: String,
    /// The tool name (some providers need it next to the id).
    pub name: String,
    /// Output parts.
    pub content: Vec<ToolContent>,
    /// Structured output, when the tool produced any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured: Option<Value>,
    /// Whether this result reports a failure.
    #[serde(default)]
    pub is_error: bool,
}

impl ToolResult {
    /// The result rendered as text (see [`render_tool_content`]).
    pub fn text(&self) -> String {
        render_tool_content(&self.content)
    }

    /// A successful result made of these parts, without structured output.
    pub fn new(
        call_id: impl Into<String>,
        name: impl Into<String>,
        content: Vec<ToolContent>,
    ) -> Self {
        ToolResult {
            call_id: call_id.into(),
            name: name.into(),
            content,
            structured: None,
            is_error: false,
        }
    }

    /// Sets the structured output.
    #[must_use]
    pub fn with_structured(mut self, structured: Value) -> Self {
        self.structured = Some(structured);
        self
    }

    /// Marks the result as a failure (`true`) or a success (`false`).
    #[must_use]
    pub fn with_is_error(mut self, is_error: bool) -> Self {
        self.is_error = is_error;
        self
    }

    /// A successful result with one text part.
    pub fn ok(
        call_id: impl Into<String>,
        name: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        ToolResult::new(call_id, name, vec![ToolContent::text(text)])
    }

    /// A failed result with one text part.
    pub fn error(
        call_id: impl Into<String>,
        name: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        ToolResult {
            is_error: true,
            ..ToolResult::ok(call_id, name, text)
        }
    }
}

/// Renders tool output as text for providers that only take text: text parts as they are,
/// resources as their text or a link line, images as a placeholder line.
pub fn render_tool_content(content: &[ToolContent]) -> String {
    let mut out = String::new();
    for (i, part) in content.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match part {
            ToolContent::Text { text } => out.push_str(text),
            ToolContent::Image { media_type, data } => {
                out.push_str(&format!(
                    "[image {media_type}, {} base64 bytes]",
                    data.len()
                ));
            }
            ToolContent::Audio { media_type, data } => {
                out.push_str(&format!(
                    "[audio {media_type}, {} base64 bytes]",
                    data.len()
                ));
            }
            ToolContent::Resource {
                uri,
                name,
                mime_type,
                text,
            } => match text {
                Some(t) => out.push_str(t),
                None => {
                    out.push_str("[resource ");
                    out.push_str(uri);
                    if let Some(n) = name {
                        out.push_str(&format!(" \"{n}\""));
                    }
                    if let Some(m) = mime_type {
                        out.push_str(&format!(" ({m})"));
                    }
                    out.push(']');
                }
            },
        }
    }
    out
}

/// Token usage of one model call. Providers that report cumulative usage while streaming report
/// the last value, not the sum.
///
/// When the server reports no usage (many OpenAI-compatible servers send none in streamed
/// responses), a provider may count the tokens itself and mark the value
/// [`estimated`](Usage::estimated); budgets count estimated usage like reported usage.
///
/// ```
/// use kagent_core::Usage;
/// let reported = Usage::new(120, 30).with_cached_input_tokens(100);
/// let counted = Usage::new(90, 12).with_estimated(true);
/// let mut total = Usage::default();
/// total.accumulate(&reported);
/// total.accumulate(&counted);
/// assert_eq!(total.total(), 252);
/// assert!(total.estimated); // part of the total was counted locally
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// Prompt tokens (including cached ones).
    pub input_tokens: u64,
    /// Completion tokens (including reasoning tokens).
    pub output_tokens: u64,
    /// Prompt tokens served from a cache, when reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input_tokens: Option<u64>,
    /// Prompt tokens written to a cache, when reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Reasoning tokens, when reported separately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    /// The counts were estimated locally (the provider reported none) rather than reported by
    /// the provider. In a sum, set when any part was estimated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub estimated: bool,
}

impl Usage {
    /// Reported usage: `input_tokens` prompt tokens and `output_tokens` completion tokens.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Usage {
            input_tokens,
            output_tokens,
            ..Default::default()
        }
    }

    /// Sets the prompt tokens served from a cache.
    #[must_use]
    pub fn with_cached_input_tokens(mut self, tokens: u64) -> Self {
        self.cached_input_tokens = Some(tokens);
        self
    }

    /// Sets the prompt tokens written to a cache.
    #[must_use]
    pub fn with_cache_creation_input_tokens(mut self, tokens: u64) -> Self {
        self.cache_creation_input_tokens = Some(tokens);
        self
    }

    /// Sets the reasoning tokens.
    #[must_use]
    pub fn with_reasoning_tokens(mut self, tokens: u64) -> Self {
        self.reasoning_tokens = Some(tokens);
        self
    }

    /// Marks the counts as estimated locally (`true`) or reported by the provider (`false`).
    #[must_use]
    pub fn with_estimated(mut self, estimated: bool) -> Self {
        self.estimated = estimated;
        self
    }

    /// Input plus output tokens.
    pub fn total(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }

    /// Adds another call's usage to this one (for totals over a run).
    pub fn accumulate(&mut self, other: &Usage) {
        fn add(a: &mut Option<u64>, b: Option<u64>) {
            if let Some(b) = b {
                *a = Some(a.unwrap_or(0).saturating_add(b));
            }
        }
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        add(&mut self.cached_input_tokens, other.cached_input_tokens);
        add(
            &mut self.cache_creation_input_tokens,
            other.cache_creation_input_tokens,
        );
        add(&mut self.reasoning_tokens, other.reasoning_tokens);
        self.estimated |= other.estimated;
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FinishReason {
    /// A natural end of the turn.
    Stop,
    /// The output token limit was reached.
    Length,
    /// The model wants tool results.
    ToolCalls,
    /// Output was withheld by a safety or content filter.
    ContentFilter,
    /// Anything else, with the provider's raw reason.
    Other(String),
}

/// How the model may use tools in this request.
///
/// More choices may be added (providers offer more, such as "one of these tools"). A
/// [`ModelProvider`](crate::ModelProvider) that meets a choice it does not know treats it as
/// [`ToolChoice::Auto`]: the model decides among the tools in the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// The model must not call tools.
    None,
    /// The model must call some tool.
    Required,
    /// The model must call this tool.
    Tool(String),
}

/// One chat request in the provider-neutral model.
///
/// Built with [`ChatRequest::new`] and the `with_*` methods:
///
/// ```
/// use kagent_core::{ChatRequest, Message, ToolChoice};
/// let req = ChatRequest::new(vec![Message::user("Why is web crashing?")])
///     .with_system("You are a Kubernetes troubleshooter.")
///     .with_tool_choice(ToolChoice::None)
///     .with_max_tokens(1024)
///     .with_temperature(0.2)
///     .with_stop(["</answer>"]);
/// assert_eq!(req.stop, ["</answer>"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatRequest {
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolSpec>,
    /// How the model may use the tools.
    #[serde(default)]
    pub tool_choice: ToolChoice,
    /// Output token limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
}

impl ChatRequest {
    /// A request with these messages and nothing else set.
    pub fn new(messages: Vec<Message>) -> Self {
        ChatRequest {
            messages,
            ..Default::default()
        }
    }

    /// Sets the system prompt.
    #[must_use]
    pub fn with_system(mut self, system: impl Into<String>) -> Self {
        self.system = Some(system.into());
        self
    }

    /// Sets the tools the model may call (replacing any).
    #[must_use]
    pub fn with_tools(mut self, tools: impl IntoIterator<Item = ToolSpec>) -> Self {
        self.tools = tools.into_iter().collect();
        self
    }

    /// Sets how the model may use the tools.
    #[must_use]
    pub fn with_tool_choice(mut self, tool_choice: ToolChoice) -> Self {
        self.tool_choice = tool_choice;
        self
    }

    /// Sets the output token limit.
    #[must_use]
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Sets the sampling temperature.
    #[must_use]
    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets nucleus sampling.
    #[must_use]
    pub fn with_top_p(mut self, top_p: f32) -> Self {
        self.top_p = Some(top_p);
        self
    }

    /// Sets the stop sequences (replacing any).
    #[must_use]
    pub fn with_stop(mut self, stop: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.stop = stop.into_iter().map(Into::into).collect();
        self
    }
}

/// A complete model turn.
///
/// Built with [`ChatResponse::new`] or [`ChatResponse::text`] and the `with_*` methods:
///
/// ```
/// use kagent_core::{AssistantMessage, ChatResponse, FinishReason, Usage};
/// let resp = ChatResponse::new(AssistantMessage::text("done"), FinishReason::Stop)
///     .with_raw_finish_reason("end_turn")
///     .with_usage(Usage::new(120, 8))
///     .with_model("claude-sonnet-4-5")
///     .with_id("msg_01");
/// assert_eq!(resp.usage.map(|u| u.total()), Some(128));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatResponse {
    /// What the model said and which tools it called.
    pub message: AssistantMessage,
    /// Why it stopped. When the model made tool calls this is [`FinishReason::ToolCalls`]
    /// whatever the provider reported; the raw value is in `raw_finish_reason`.
    pub finish_reason: FinishReason,
    /// The provider's own finish reason string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_finish_reason: Option<String>,
    /// Token usage, when the provider reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// The model that answered, when reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The provider's response id, when reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl ChatResponse {
    /// A response with this message and finish reason, and nothing else set.
    pub fn new(message: AssistantMessage, finish_reason: FinishReason) -> Self {
        ChatResponse {
            message,
            finish_reason,
            raw_finish_reason: None,
            usage: None,
            model: None,
            id: None,
        }
    }

    /// A response with only text and a `Stop` finish.
    pub fn text(text: impl Into<String>) -> Self {
        ChatResponse::new(AssistantMessage::text(text), FinishReason::Stop)
    }

    /// Sets the provider's own finish reason string.
    #[must_use]
    pub fn with_raw_finish_reason(mut self, raw_finish_reason: impl Into<String>) -> Self {
        self.raw_finish_reason = Some(raw_finish_reason.into());
        self
    }

    /// Sets the token usage.
    #[must_use]
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Sets the model that answered.
    #[must_use]
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets the provider's response id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_arguments_are_an_empty_object() {
        assert_eq!(ToolArguments::parse(""), ToolArguments::Json(json!({})));
        assert_eq!(ToolArguments::parse("  \n"), ToolArguments::Json(json!({})));
    }

    #[test]
    fn invalid_arguments_are_kept_raw() {
        match ToolArguments::parse("{\"ns\": \"de") {
            ToolArguments::Malformed { raw, error } => {
                assert_eq!(raw, "{\"ns\": \"de");
                assert!(error.contains("EOF"), "{error}");
            }
            other => panic!("expected malformed, got {other:?}"),
        }
    }

    #[test]
    fn arguments_serialize_as_plain_json() {
        let a = ToolArguments::Json(json!({"ns": "x"}));
        assert_eq!(serde_json::to_value(&a).unwrap(), json!({"ns": "x"}));
        let m = ToolArguments::parse("{oops");
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["$malformed"]["raw"], "{oops");
        assert_eq!(serde_json::from_value::<ToolArguments>(v).unwrap(), m);
        assert_eq!(
            serde_json::from_value::<ToolArguments>(json!([1])).unwrap(),
            ToolArguments::Json(json!([1]))
        );
    }

    #[test]
    fn usage_accumulates_optional_fields() {
        let mut a = Usage {
            input_tokens: 10,
            output_tokens: 5,
            ..Default::default()
        };
        a.accumulate(&Usage {
            input_tokens: 1,
            output_tokens: 2,
            cached_input_tokens: Some(4),
            ..Default::default()
        });
        assert_eq!(a.total(), 18);
        assert_eq!(a.cached_input_tokens, Some(4));
        assert!(!a.estimated);
        a.accumulate(&Usage::new(3, 1).with_estimated(true));
        assert_eq!(a.total(), 22);
        assert!(a.estimated, "a sum with an estimated part is estimated");
    }

    #[test]
    fn usage_marks_estimates_on_the_wire_only_when_set() {
        let reported = Usage::new(10, 5).with_reasoning_tokens(2);
        let v = serde_json::to_value(reported).unwrap();
        assert_eq!(
            v,
            json!({"input_tokens": 10, "output_tokens": 5, "reasoning_tokens": 2})
        );
        let estimated = Usage::new(10, 5).with_estimated(true);
        let v = serde_json::to_value(estimated).unwrap();
        assert_eq!(v["estimated"], true);
        assert_eq!(serde_json::from_value::<Usage>(v).unwrap(), estimated);
        // Older records without the field read as reported usage.
        let old: Usage =
            serde_json::from_value(json!({"input_tokens": 1, "output_tokens": 2})).unwrap();
        assert!(!old.estimated);
    }

    /// Every field of the `#[non_exhaustive]` structs can be set from outside the crate, and
    /// each `with_*` sets its own field.
    #[test]
    fn constructors_set_every_field() {
        let spec = ToolSpec::new("get_pods", "List pods.", crate::ToolEffect::ReadOnly).unwrap();
        let req = ChatRequest::new(vec![Message::user("hi")])
            .with_system("sys")
            .with_tools(vec![spec.clone()])
            .with_tool_choice(ToolChoice::Required)
            .with_max_tokens(64)
            .with_temperature(0.5)
            .with_top_p(0.9)
            .with_stop(["END", "STOP"]);
        assert_eq!(
            req,
            ChatRequest {
                system: Some("sys".into()),
                messages: vec![Message::user("hi")],
                tools: vec![spec],
                tool_choice: ToolChoice::Required,
                max_tokens: Some(64),
                temperature: Some(0.5),
                top_p: Some(0.9),
                stop: vec!["END".into(), "STOP".into()],
            }
        );

        let reasoning = Reasoning::new("think")
            .with_signature("sig")
            .with_redacted("enc")
            .with_provider_data(json!({"k": 1}));
        assert_eq!(
            reasoning,
            Reasoning {
                text: "think".into(),
                signature: Some("sig".into()),
                redacted: Some("enc".into()),
                provider_data: Some(json!({"k": 1})),
            }
        );

        let call = ToolCall::new("c1", "t", ToolArguments::parse("{oops"))
            .with_provider_data(json!({"synthetic_id": true}));
        assert!(matches!(call.arguments, ToolArguments::Malformed { .. }));
        assert_eq!(call.provider_data, Some(json!({"synthetic_id": true})));
        assert_eq!(
            ToolCall::new("c2", "t", json!({"a": 1})).arguments,
            ToolArguments::Json(json!({"a": 1}))
        );

        let message = AssistantMessage::default()
            .with_content(vec![ContentPart::text("a"), ContentPart::text("b")])
            .with_reasoning(vec![reasoning.clone()])
            .with_tool_calls(vec![call.clone()]);
        assert_eq!(
            message,
            AssistantMessage {
                content: vec![ContentPart::text("a"), ContentPart::text("b")],
                reasoning: vec![reasoning],
                tool_calls: vec![call],
            }
        );

        let resp = ChatResponse::new(message.clone(), FinishReason::ToolCalls)
            .with_raw_finish_reason("tool_use")
            .with_usage(Usage::new(3, 4))
            .with_model("m")
            .with_id("r1");
        assert_eq!(
            resp,
            ChatResponse {
                message,
                finish_reason: FinishReason::ToolCalls,
                raw_finish_reason: Some("tool_use".into()),
                usage: Some(Usage::new(3, 4)),
                model: Some("m".into()),
                id: Some("r1".into()),
            }
        );
        assert_eq!(
            ChatResponse::text("x"),
            ChatResponse::new(AssistantMessage::text("x"), FinishReason::Stop)
        );

        let result = ToolResult::new("c1", "t", vec![ToolContent::text("out")])
            .with_structured(json!({"n": 1}))
            .with_is_error(true);
        assert_eq!(
            result,
            ToolResult {
                call_id: "c1".into(),
                name: "t".into(),
                content: vec![ToolContent::text("out")],
                structured: Some(json!({"n": 1})),
                is_error: true,
            }
        );
        assert_eq!(
            ToolResult::ok("c1", "t", "out"),
            ToolResult::new("c1", "t", vec![ToolContent::text("out")])
        );
        assert!(ToolResult::error("c1", "t", "out").is_error);
    }

    #[test]
    fn messages_round_trip_through_json() {
        let msgs = vec![
            Message::user("hi"),
            Message::Assistant(AssistantMessage {
                content: vec![ContentPart::text("calling")],
                reasoning: vec![Reasoning {
                    text: "think".into(),
                    signature: Some("sig".into()),
                    ..Default::default()
                }],
                tool_calls: vec![ToolCall::new("c1", "t", json!({"a": 1}))],
            }),
            Message::Tool(ToolResult::error("c1", "t", "boom")),
        ];
        let s = serde_json::to_string(&msgs).unwrap();
        let back: Vec<Message> = serde_json::from_str(&s).unwrap();
        assert_eq!(back, msgs);
    }
}
