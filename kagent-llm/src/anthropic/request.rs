//! Builds an Anthropic Messages request from a provider-neutral [`ChatRequest`].

use kagent_core::message::render_tool_content;
use kagent_core::{ChatRequest, ContentPart, Message, ToolArguments, ToolChoice, ToolContent};
use serde_json::{Value, json};

use super::wire::{MessageParam, MessagesRequest, ToolParam};
use crate::options::ProviderOptions;

/// Per-provider settings that shape the body.
#[derive(Debug, Clone)]
pub(crate) struct BodyOptions {
    /// `Some(model)` for the direct API; `None` on Vertex AI (the model is in the URL).
    pub model: Option<String>,
    /// `Some("vertex-2023-10-16")` on Vertex AI.
    pub anthropic_version: Option<String>,
    /// `max_tokens` when the request sets none (the API requires the field).
    pub default_max_tokens: u32,
    /// Extended thinking budget, when enabled.
    pub thinking_budget_tokens: Option<u32>,
}

/// The request body; sampling defaults come from `options` (the request's own values win).
pub(crate) fn build_request(
    req: &ChatRequest,
    opts: &BodyOptions,
    options: &ProviderOptions,
    stream: bool,
) -> MessagesRequest {
    let sampling = options.sampling(req);
    let tools: Vec<ToolParam> = req
        .tools
        .iter()
        .map(|t| ToolParam {
            name: t.name.clone(),
            description: t.description.clone(),
            input_schema: t.input_schema.clone(),
        })
        .collect();
    let tool_choice = if tools.is_empty() {
        None
    } else {
        Some(match &req.tool_choice {
            ToolChoice::Auto => json!({"type": "auto"}),
            ToolChoice::None => json!({"type": "none"}),
            ToolChoice::Required => json!({"type": "any"}),
            ToolChoice::Tool(name) => json!({"type": "tool", "name": name}),
            // A choice this provider does not know: the model decides (see `ToolChoice`).
            _ => json!({"type": "auto"}),
        })
    };
    MessagesRequest {
        model: opts.model.clone(),
        anthropic_version: opts.anthropic_version.clone(),
        max_tokens: sampling
            .max_output_tokens
            .unwrap_or(opts.default_max_tokens),
        system: req.system.clone().filter(|s| !s.is_empty()),
        messages: build_messages(&req.messages),
        tools,
        tool_choice,
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        top_k: sampling.top_k,
        stop_sequences: sampling.stop.to_vec(),
        thinking: opts
            .thinking_budget_tokens
            .map(|b| json!({"type": "enabled", "budget_tokens": b})),
        stream,
    }
}

/// Converts the conversation: tool results become `tool_result` blocks of a user message,
/// consecutive messages of one role are merged (so all parallel results land in one user
/// message), and `tool_result` blocks come first in their message.
///
/// Whether the API would merge consecutive same-role messages itself is not verified here, so
/// we never rely on it.
pub(crate) fn build_messages(messages: &[Message]) -> Vec<MessageParam> {
    let mut out: Vec<MessageParam> = Vec::new();
    for message in messages {
        let (role, blocks) = match message {
            Message::User { content } => ("user", user_blocks(content)),
            Message::Assistant(a) => {
                let mut blocks = Vec::new();
                for r in &a.reasoning {
                    if let Some(data) = &r.redacted {
                        blocks.push(json!({"type": "redacted_thinking", "data": data}));
                    } else if let Some(sig) = &r.signature {
                        // Replayed verbatim: the signature covers the thinking text.
                        blocks.push(
                            json!({"type": "thinking", "thinking": r.text, "signature": sig}),
                        );
                    }
                    // Reasoning without a signature came from another provider: Anthropic
                    // rejects unsigned thinking blocks, so it is not sent.
                }
                for part in &a.content {
                    match part {
                        ContentPart::Text { text } if !text.is_empty() => {
                            blocks.push(json!({"type": "text", "text": text}));
                        }
                        ContentPart::Image { media_type, data } => {
                            blocks.push(image(media_type, data))
                        }
                        _ => {}
                    }
                }
                for call in &a.tool_calls {
                    // Malformed arguments were never run; the API needs an object here and
                    // the matching tool_result tells the model what was wrong.
                    let input = match &call.arguments {
                        ToolArguments::Json(v @ Value::Object(_)) => v.clone(),
                        _ => json!({}),
                    };
                    blocks.push(json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input}));
                }
                ("assistant", blocks)
            }
            Message::Tool(result) => {
                let mut block = json!({"type": "tool_result", "tool_use_id": result.call_id});
                let content = tool_result_content(&result.content);
                if let Some(obj) = block.as_object_mut() {
                    if !content.is_empty() {
                        obj.insert("content".into(), Value::Array(content));
                    }
                    if result.is_error {
                        obj.insert("is_error".into(), Value::Bool(true));
                    }
                }
                ("user", vec![block])
            }
            _ => continue,
        };
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ => out.push(MessageParam {
                role,
                content: blocks,
            }),
        }
    }
    for m in &mut out {
        if m.role == "user" {
            // Stable partition: tool_result blocks first.
            let (mut results, rest): (Vec<Value>, Vec<Value>) = std::mem::take(&mut m.content)
                .into_iter()
                .partition(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"));
            results.extend(rest);
            m.content = results;
        }
    }
    out
}

fn user_blocks(content: &[ContentPart]) -> Vec<Value> {
    content
        .iter()
        .filter_map(|p| match p {
            ContentPart::Text { text } if !text.is_empty() => {
                Some(json!({"type": "text", "text": text}))
            }
            ContentPart::Image { media_type, data } => Some(image(media_type, data)),
            _ => None,
        })
        .collect()
}

fn image(media_type: &str, data: &str) -> Value {
    json!({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}})
}

fn tool_result_content(content: &[ToolContent]) -> Vec<Value> {
    content
        .iter()
        .filter_map(|c| match c {
            ToolContent::Text { text } if text.is_empty() => None,
            ToolContent::Text { text } => Some(json!({"type": "text", "text": text})),
            ToolContent::Image { media_type, data } => Some(image(media_type, data)),
            other => Some(
                json!({"type": "text", "text": render_tool_content(std::slice::from_ref(other))}),
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kagent_core::{AssistantMessage, Reasoning, ToolCall, ToolResult};

    fn opts() -> BodyOptions {
        BodyOptions {
            model: Some("claude-x".into()),
            anthropic_version: None,
            default_max_tokens: 1024,
            thinking_budget_tokens: None,
        }
    }

    #[test]
    fn parallel_results_are_one_user_message_with_results_first() {
        let msgs = vec![
            Message::user("hi"),
            Message::Assistant(AssistantMessage::default().with_tool_calls(vec![
                ToolCall::new("a", "t", json!({"x": 1})),
                ToolCall::new("b", "t", json!({})),
            ])),
            Message::Tool(ToolResult::ok("a", "t", "one")),
            Message::Tool(ToolResult::error("b", "t", "boom")),
            Message::user("and?"),
        ];
        let out = build_messages(&msgs);
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].role, "user");
        assert_eq!(out[2].content.len(), 3);
        assert_eq!(out[2].content[0]["tool_use_id"], "a");
        assert_eq!(out[2].content[1]["is_error"], true);
        assert_eq!(out[2].content[2]["type"], "text");
    }

    #[test]
    fn thinking_replayed_and_unsigned_reasoning_dropped() {
        let msgs = vec![Message::Assistant(
            AssistantMessage::default().with_reasoning(vec![
                Reasoning::new("hmm").with_signature("SIG"),
                Reasoning::default().with_redacted("ENC"),
                Reasoning::new("from another provider"),
            ]),
        )];
        let out = build_messages(&msgs);
        assert_eq!(
            out[0].content,
            vec![
                json!({"type": "thinking", "thinking": "hmm", "signature": "SIG"}),
                json!({"type": "redacted_thinking", "data": "ENC"}),
            ]
        );
    }

    #[test]
    fn body_defaults_and_tool_choice() {
        let mut req = ChatRequest::new(vec![Message::user("q")]);
        let body =
            serde_json::to_value(build_request(&req, &opts(), &ProviderOptions::new(), true))
                .unwrap();
        assert_eq!(body["max_tokens"], 1024);
        assert_eq!(body["stream"], true);
        assert!(body.get("tool_choice").is_none());
        req.tool_choice = ToolChoice::Required;
        req.tools.push(
            kagent_core::ToolSpec::new("t", "d", kagent_core::ToolEffect::ReadOnly)
                .unwrap()
                .with_input_schema(json!({"type": "object"}))
                .idempotent(true),
        );
        let body =
            serde_json::to_value(build_request(&req, &opts(), &ProviderOptions::new(), false))
                .unwrap();
        assert_eq!(body["tool_choice"], json!({"type": "any"}));
        assert!(body.get("stream").is_none());
    }
}
