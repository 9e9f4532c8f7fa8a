//! Local token counts for servers that report no usage (many OpenAI-compatible servers send
//! none in streamed answers, whatever `stream_options.include_usage` says).
//!
//! With the `tokenizer` feature (default) text is counted with the model family's tiktoken
//! encoding where tiktoken-rs knows the model (`gpt-4o` → o200k, `gpt-4` → cl100k, ...) and
//! with o200k otherwise, as an estimate for other families (Llama, Qwen, SmolLM, ... have their
//! own vocabularies; o200k is usually within 10–30 % of them). Without the feature, one token
//! per four characters. Every count made here is marked [`Usage::estimated`].
//!
//! Messages add the per-message overhead OpenAI documents for its chat format (3 tokens per
//! message, 3 to prime the answer).

use kagent_core::{AssistantMessage, Usage};
use serde_json::Value;

/// Tokens OpenAI's chat format adds per message.
const PER_MESSAGE: u64 = 3;
/// Tokens that prime the assistant's answer.
const REPLY_PRIMING: u64 = 3;

/// Tokens in `text` for `model` (see the module documentation).
pub(crate) fn count_text(model: &str, text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    count_nonempty(model, text)
}

#[cfg(feature = "tokenizer")]
fn count_nonempty(model: &str, text: &str) -> u64 {
    let bpe = match tiktoken_rs::tokenizer::get_tokenizer(model) {
        Some(t) => tiktoken_rs::bpe_for_tokenizer(t).ok(),
        None => None,
    }
    .unwrap_or_else(tiktoken_rs::o200k_base_singleton);
    bpe.encode_ordinary(text).len() as u64
}

#[cfg(not(feature = "tokenizer"))]
fn count_nonempty(_model: &str, text: &str) -> u64 {
    text.chars().count().div_ceil(4) as u64
}

/// Estimated prompt tokens of a Chat Completions request body: every message's role, text
/// and replayed tool calls, the tool definitions, and the chat format's overhead.
pub(crate) fn chat_body_input(model: &str, body: &Value) -> u64 {
    let mut text = String::new();
    let mut messages = 0u64;
    for m in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        messages += 1;
        if let Some(role) = m.get("role").and_then(Value::as_str) {
            text.push_str(role);
            text.push('\n');
        }
        match m.get("content") {
            Some(Value::String(s)) => text.push_str(s),
            Some(Value::Array(parts)) => {
                for p in parts {
                    if let Some(t) = p.get("text").and_then(Value::as_str) {
                        text.push_str(t);
                    }
                }
            }
            _ => {}
        }
        for call in m
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(f) = call.get("function") {
                if let Some(n) = f.get("name").and_then(Value::as_str) {
                    text.push('\n');
                    text.push_str(n);
                }
                if let Some(a) = f.get("arguments").and_then(Value::as_str) {
                    text.push_str(a);
                }
            }
        }
        text.push('\n');
    }
    if let Some(tools) = body.get("tools") {
        text.push_str(&tools.to_string());
    }
    count_text(model, &text)
        .saturating_add(messages.saturating_mul(PER_MESSAGE))
        .saturating_add(REPLY_PRIMING)
}

/// Estimated completion tokens of an answer: its text, reasoning, and tool call names and
/// arguments.
pub(crate) fn output_of(model: &str, message: &AssistantMessage) -> u64 {
    let mut text = message.text_content();
    for r in &message.reasoning {
        text.push_str(&r.text);
    }
    for c in &message.tool_calls {
        text.push_str(&c.name);
        text.push_str(&c.arguments.to_json_string());
    }
    count_text(model, &text)
}

/// Usage counted locally, marked estimated.
pub(crate) fn usage(input_tokens: u64, output_tokens: u64) -> Usage {
    Usage::new(input_tokens, output_tokens).with_estimated(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kagent_core::{ContentPart, ToolCall};
    use serde_json::json;

    #[test]
    fn empty_text_is_no_tokens_and_words_are_some() {
        assert_eq!(count_text("gpt-4o", ""), 0);
        let n = count_text("gpt-4o", "The quick brown fox jumps over the lazy dog.");
        // o200k: 10 tokens; the four-characters rule: 11.
        assert!((9..=12).contains(&n), "{n}");
        // Unknown families are still counted (o200k as the estimate).
        assert!(count_text("SmolLM2-135M-Instruct", "hello world") >= 2);
    }

    #[test]
    fn input_counts_messages_tools_and_overhead() {
        let body = json!({
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": [{"type": "text", "text": "What pods are failing?"}]},
                {"role": "assistant", "content": "", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "get_pods", "arguments": "{\"ns\":\"default\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": "web-1 CrashLoopBackOff"},
            ],
            "tools": [{"type": "function", "function": {"name": "get_pods", "parameters": {"type": "object"}}}],
        });
        let n = chat_body_input("gpt-4o", &body);
        // 4 messages x 3 + 3 priming = 15 tokens of overhead alone.
        assert!(n > 15 + 20, "{n}");
        let without_tools = {
            let mut b = body.clone();
            b.as_object_mut().map(|o| o.remove("tools"));
            chat_body_input("gpt-4o", &b)
        };
        assert!(without_tools < n);
        assert_eq!(chat_body_input("gpt-4o", &json!({})), REPLY_PRIMING);
    }

    #[test]
    fn output_counts_text_reasoning_and_calls() {
        let mut m = AssistantMessage::default();
        assert_eq!(output_of("gpt-4o", &m), 0);
        m.content.push(ContentPart::text("Checking."));
        let text_only = output_of("gpt-4o", &m);
        m.tool_calls.push(ToolCall::new(
            "c1",
            "get_pods",
            json!({"namespace": "default"}),
        ));
        assert!(output_of("gpt-4o", &m) > text_only);
        let u = usage(5, 7);
        assert!(u.estimated);
        assert_eq!(u.total(), 12);
    }
}
