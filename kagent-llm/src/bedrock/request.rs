//! Builds a Bedrock Converse request from a provider-neutral [`ChatRequest`].

use kagent_core::message::render_tool_content;
use kagent_core::{ChatRequest, ContentPart, Message, ToolArguments, ToolChoice, ToolContent};
use serde_json::{Map, Value, json};

use crate::options::ProviderOptions;

/// Per-provider settings that shape the body.
#[derive(Debug, Clone, Default)]
pub(crate) struct BodyOptions {
    /// `additionalModelRequestFields`, passed through (e.g. Claude's `thinking`).
    pub additional_fields: Option<Value>,
    /// Adds `cachePoint` blocks after the system prompt and the tool list (kagent's
    /// `bedrock.promptCaching`).
    pub prompt_caching: bool,
}

/// The Converse / ConverseStream body (the model id is in the URL); sampling defaults come
/// from `options` (the request's own values win).
pub(crate) fn build_request(
    req: &ChatRequest,
    opts: &BodyOptions,
    options: &ProviderOptions,
) -> Value {
    let sampling = options.sampling(req);
    let mut body = Map::new();
    body.insert(
        "messages".into(),
        Value::Array(build_messages(&req.messages)),
    );
    if let Some(system) = req.system.as_ref().filter(|s| !s.is_empty()) {
        let mut blocks = vec![json!({ "text": system })];
        if opts.prompt_caching {
            blocks.push(json!({"cachePoint": {"type": "default"}}));
        }
        body.insert("system".into(), Value::Array(blocks));
    }
    let mut inference = Map::new();
    if let Some(m) = sampling.max_output_tokens {
        inference.insert("maxTokens".into(), json!(m));
    }
    if let Some(t) = sampling.temperature {
        inference.insert("temperature".into(), json!(t));
    }
    if let Some(p) = sampling.top_p {
        inference.insert("topP".into(), json!(p));
    }
    if !sampling.stop.is_empty() {
        inference.insert("stopSequences".into(), json!(sampling.stop));
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }
    if !req.tools.is_empty() {
        let mut tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                json!({"toolSpec": {
                    "name": t.name,
                    "description": t.description,
                    "inputSchema": {"json": t.input_schema},
                }})
            })
            .collect();
        if opts.prompt_caching {
            tools.push(json!({"cachePoint": {"type": "default"}}));
        }
        let mut config = Map::new();
        config.insert("tools".into(), Value::Array(tools));
        // Converse has no "none": with `ToolChoice::None` the tools stay declared (the history
        // may hold toolUse blocks, which requires a toolConfig) and the model decides.
        let choice = match &req.tool_choice {
            ToolChoice::Auto => Some(json!({"auto": {}})),
            ToolChoice::Required => Some(json!({"any": {}})),
            ToolChoice::Tool(name) => Some(json!({"tool": {"name": name}})),
            ToolChoice::None => None,
            // A choice this provider does not know: the model decides (see `ToolChoice`).
            _ => Some(json!({"auto": {}})),
        };
        if let Some(c) = choice {
            config.insert("toolChoice".into(), c);
        }
        body.insert("toolConfig".into(), Value::Object(config));
    }
    if let Some(extra) = &opts.additional_fields {
        body.insert("additionalModelRequestFields".into(), extra.clone());
    }
    Value::Object(body)
}

/// Messages with merged consecutive roles; tool results are `toolResult` blocks of a user
/// message, first in it.
pub(crate) fn build_messages(messages: &[Message]) -> Vec<Value> {
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for m in messages {
        let (role, blocks) = match m {
            Message::User { content } => ("user", content_blocks(content)),
            Message::Assistant(a) => {
                let mut blocks = Vec::new();
                for r in &a.reasoning {
                    if let Some(data) = &r.redacted {
                        blocks.push(json!({"reasoningContent": {"redactedContent": data}}));
                    } else if let Some(sig) = &r.signature {
                        blocks.push(json!({"reasoningContent": {"reasoningText": {"text": r.text, "signature": sig}}}));
                    }
                }
                blocks.extend(content_blocks(&a.content));
                for call in &a.tool_calls {
                    let input = match &call.arguments {
                        ToolArguments::Json(v @ Value::Object(_)) => v.clone(),
                        _ => json!({}),
                    };
                    blocks.push(json!({"toolUse": {"toolUseId": call.id, "name": call.name, "input": input}}));
                }
                ("assistant", blocks)
            }
            Message::Tool(result) => {
                let mut content: Vec<Value> = Vec::new();
                if let Some(s @ Value::Object(_)) = &result.structured {
                    content.push(json!({"json": s}));
                }
                for c in &result.content {
                    match c {
                        ToolContent::Text { text } if text.is_empty() => {}
                        ToolContent::Text { text } => content.push(json!({"text": text})),
                        ToolContent::Image { media_type, data } => {
                            content.push(image(media_type, data));
                        }
                        other => content.push(
                            json!({"text": render_tool_content(std::slice::from_ref(other))}),
                        ),
                    }
                }
                if content.is_empty() {
                    content.push(json!({"text": ""}));
                }
                let mut block = json!({"toolUseId": result.call_id, "content": content});
                if result.is_error
                    && let Some(o) = block.as_object_mut()
                {
                    o.insert("status".into(), json!("error"));
                }
                ("user", vec![json!({ "toolResult": block })])
            }
            _ => continue,
        };
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((r, b)) if *r == role => b.extend(blocks),
            _ => out.push((role, blocks)),
        }
    }
    out.into_iter()
        .map(|(role, blocks)| {
            let (mut results, rest): (Vec<Value>, Vec<Value>) = blocks
                .into_iter()
                .partition(|b| b.get("toolResult").is_some());
            results.extend(rest);
            json!({"role": role, "content": results})
        })
        .collect()
}

fn content_blocks(content: &[ContentPart]) -> Vec<Value> {
    content
        .iter()
        .filter_map(|p| match p {
            ContentPart::Text { text } if !text.trim().is_empty() => Some(json!({"text": text})),
            ContentPart::Image { media_type, data } => Some(image(media_type, data)),
            _ => None,
        })
        .collect()
}

/// Bedrock images: `format` from the MIME subtype; `bytes` is base64 in the JSON protocol.
fn image(media_type: &str, data: &str) -> Value {
    let format = media_type.rsplit('/').next().unwrap_or("png");
    let format = if format == "jpg" { "jpeg" } else { format };
    json!({"image": {"format": format, "source": {"bytes": data}}})
}
