//! Conversions between MCP model types and kagent-core's tool model.

use kagent_core::{ToolContent, ToolEffect, ToolError, ToolOutput, ToolSpec};
use rmcp::model::{
    CallToolResult, ContentBlock, Resource, ResourceContents, Tool as RemoteTool, ToolAnnotations,
};
use serde_json::Value;

/// The effect of a remote tool from its MCP annotations: `readOnlyHint: true` is read-only,
/// `destructiveHint: true` destructive, anything else (including no annotations) mutating.
pub fn effect_from_annotations(annotations: Option<&ToolAnnotations>) -> ToolEffect {
    match annotations {
        Some(a) if a.read_only_hint == Some(true) => ToolEffect::ReadOnly,
        Some(a) if a.destructive_hint == Some(true) => ToolEffect::Destructive,
        _ => ToolEffect::Mutating,
    }
}

/// MCP annotations that describe a tool's effect.
pub fn annotations_from_spec(spec: &ToolSpec) -> ToolAnnotations {
    let read_only = spec.effect == ToolEffect::ReadOnly;
    ToolAnnotations::new()
        .read_only(read_only)
        .destructive(spec.effect == ToolEffect::Destructive)
        .idempotent(spec.idempotent || read_only)
}

/// A kagent [`ToolSpec`] for a remote tool, or `None` when the name is not one every model
/// provider accepts.
pub fn spec_from_remote(tool: &RemoteTool) -> Option<ToolSpec> {
    let effect = effect_from_annotations(tool.annotations.as_ref());
    let description = tool
        .description
        .as_deref()
        .or(tool.title.as_deref())
        .or(tool.annotations.as_ref().and_then(|a| a.title.as_deref()))
        .unwrap_or_default();
    let idempotent = tool
        .annotations
        .as_ref()
        .and_then(|a| a.idempotent_hint)
        .unwrap_or(effect == ToolEffect::ReadOnly);
    let mut spec = ToolSpec::new(tool.name.as_ref(), description, effect)
        .ok()?
        .with_input_schema(Value::Object((*tool.input_schema).clone()))
        .idempotent(idempotent);
    spec.output_schema = tool
        .output_schema
        .as_ref()
        .map(|s| Value::Object((**s).clone()));
    Some(spec)
}

/// One MCP content block as kagent tool content.
pub fn content_from_block(block: ContentBlock) -> ToolContent {
    match block {
        ContentBlock::Text(t) => ToolContent::Text { text: t.text },
        ContentBlock::Image(i) => ToolContent::Image {
            media_type: i.mime_type,
            data: i.data,
        },
        ContentBlock::Audio(a) => ToolContent::Audio {
            media_type: a.mime_type,
            data: a.data,
        },
        ContentBlock::Resource(r) => match r.resource {
            ResourceContents::TextResourceContents {
                uri,
                mime_type,
                text,
                ..
            } => ToolContent::Resource {
                uri,
                name: None,
                mime_type,
                text: Some(text),
            },
            ResourceContents::BlobResourceContents { uri, mime_type, .. } => {
                ToolContent::Resource {
                    uri,
                    name: None,
                    mime_type,
                    text: None,
                }
            }
            other => ToolContent::Text {
                text: serde_json::to_string(&other).unwrap_or_default(),
            },
        },
        ContentBlock::ResourceLink(link) => ToolContent::Resource {
            uri: link.uri,
            name: Some(link.name),
            mime_type: link.mime_type,
            text: None,
        },
        other => ToolContent::Text {
            text: serde_json::to_string(&other).unwrap_or_default(),
        },
    }
}

/// The text of a result's text parts, joined by newlines.
fn joined_text(content: &[ToolContent]) -> String {
    content
        .iter()
        .filter_map(|c| match c {
            ToolContent::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A `tools/call` result as what the agent sees: `isError` results become
/// [`ToolError::Failed`] (data for the model, not a fault), everything else a [`ToolOutput`]
/// with every content part and the structured content kept.
pub fn output_from_result(tool: &str, result: CallToolResult) -> Result<ToolOutput, ToolError> {
    let content: Vec<ToolContent> = result.content.into_iter().map(content_from_block).collect();
    if result.is_error == Some(true) {
        let mut message = joined_text(&content);
        if message.is_empty() {
            message = match &result.structured_content {
                Some(v) => v.to_string(),
                None => format!("tool {tool} reported an error without details"),
            };
        }
        return Err(ToolError::Failed { message });
    }
    let mut content = content;
    if content.is_empty()
        && let Some(structured) = &result.structured_content
    {
        // Old clients render only content; keep the model's view complete.
        content.push(ToolContent::text(structured.to_string()));
    }
    let output = ToolOutput::new(content);
    Ok(match result.structured_content {
        Some(structured) => output.with_structured(structured),
        None => output,
    })
}

/// kagent tool content as an MCP content block.
pub fn block_from_content(content: &ToolContent) -> ContentBlock {
    match content {
        ToolContent::Text { text } => ContentBlock::text(text.clone()),
        ToolContent::Image { media_type, data } => {
            ContentBlock::image(data.clone(), media_type.clone())
        }
        ToolContent::Audio { media_type, data } => {
            ContentBlock::audio(data.clone(), media_type.clone())
        }
        ToolContent::Resource {
            uri,
            name,
            mime_type,
            text: Some(text),
        } => {
            let _ = name;
            ContentBlock::resource(ResourceContents::TextResourceContents {
                uri: uri.clone(),
                mime_type: mime_type.clone(),
                text: text.clone(),
                meta: None,
            })
        }
        ToolContent::Resource {
            uri,
            name,
            mime_type,
            text: None,
        } => {
            let mut link = Resource::new(uri.clone(), name.clone().unwrap_or_else(|| uri.clone()));
            link.mime_type = mime_type.clone();
            ContentBlock::resource_link(link)
        }
        other => ContentBlock::text(serde_json::to_string(other).unwrap_or_default()),
    }
}

/// A tool's outcome as an MCP `tools/call` result: errors the model should see become
/// `isError: true` results with the error's model message.
pub fn result_from_outcome(outcome: Result<ToolOutput, ToolError>) -> CallToolResult {
    match outcome {
        Ok(output) => {
            let blocks = output.content.iter().map(block_from_content).collect();
            let mut result = CallToolResult::success(blocks);
            result.structured_content = output.structured;
            result
        }
        Err(e) => CallToolResult::error(vec![ContentBlock::text(e.model_message())]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn remote(v: Value) -> RemoteTool {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn annotations_map_to_effects() {
        let t = |a: Value| {
            spec_from_remote(&remote(
                json!({"name": "t", "inputSchema": {"type": "object"}, "annotations": a}),
            ))
            .unwrap()
        };
        assert_eq!(
            t(json!({"readOnlyHint": true})).effect,
            ToolEffect::ReadOnly
        );
        assert!(t(json!({"readOnlyHint": true})).idempotent);
        assert_eq!(
            t(json!({"destructiveHint": true})).effect,
            ToolEffect::Destructive
        );
        assert_eq!(
            t(json!({"readOnlyHint": false, "destructiveHint": false})).effect,
            ToolEffect::Mutating
        );
        assert!(t(json!({"idempotentHint": true})).idempotent);
        let bare = spec_from_remote(&remote(
            json!({"name": "t", "inputSchema": {"type": "object"}}),
        ))
        .unwrap();
        assert_eq!(bare.effect, ToolEffect::Mutating);
        assert!(!bare.idempotent);
    }

    #[test]
    fn schema_and_description_are_kept() {
        let spec = spec_from_remote(&remote(json!({
            "name": "echo", "description": "Echoes",
            "inputSchema": {"type": "object", "properties": {"m": {"type": "string"}}, "required": ["m"]},
            "outputSchema": {"type": "object"}
        })))
        .unwrap();
        assert_eq!(spec.description, "Echoes");
        assert_eq!(spec.input_schema["required"][0], "m");
        assert_eq!(spec.output_schema, Some(json!({"type": "object"})));
        assert!(spec_from_remote(&remote(json!({"name": "has.dot", "inputSchema": {}}))).is_none());
    }

    #[test]
    fn results_keep_every_kind_of_content() {
        let result: CallToolResult = serde_json::from_value(json!({
            "content": [
                {"type": "text", "text": "hello"},
                {"type": "image", "data": "aGk=", "mimeType": "image/png"},
                {"type": "resource_link", "uri": "file:///a", "name": "a", "mimeType": "text/plain"},
                {"type": "resource", "resource": {"uri": "mem://x", "text": "inline", "mimeType": "text/plain"}},
                {"type": "audio", "data": "AAAA", "mimeType": "audio/wav"}
            ],
            "structuredContent": {"n": 1}
        }))
        .unwrap();
        let out = output_from_result("t", result).unwrap();
        assert_eq!(out.structured, Some(json!({"n": 1})));
        assert_eq!(out.content[0], ToolContent::text("hello"));
        assert_eq!(
            out.content[1],
            ToolContent::Image {
                media_type: "image/png".into(),
                data: "aGk=".into()
            }
        );
        assert_eq!(
            out.content[2],
            ToolContent::Resource {
                uri: "file:///a".into(),
                name: Some("a".into()),
                mime_type: Some("text/plain".into()),
                text: None
            }
        );
        assert!(
            matches!(&out.content[3], ToolContent::Resource { text: Some(t), .. } if t == "inline")
        );
        assert_eq!(
            out.content[4],
            ToolContent::Audio {
                media_type: "audio/wav".into(),
                data: "AAAA".into()
            }
        );
        // and back: audio is served as an MCP audio block
        let block = block_from_content(&out.content[4]);
        assert_eq!(
            block.as_audio().map(|a| a.mime_type.as_str()),
            Some("audio/wav")
        );
    }

    #[test]
    fn is_error_reaches_the_model_as_a_tool_error() {
        let result: CallToolResult = serde_json::from_value(json!({
            "content": [{"type": "text", "text": "pod not found"}], "isError": true
        }))
        .unwrap();
        let err = output_from_result("t", result).unwrap_err();
        assert!(!err.is_fault());
        assert_eq!(err.to_string(), "pod not found");
        let empty: CallToolResult =
            serde_json::from_value(json!({"content": [], "isError": true})).unwrap();
        assert!(
            output_from_result("t", empty)
                .unwrap_err()
                .to_string()
                .contains("t reported an error")
        );
    }

    #[test]
    fn structured_only_results_get_text_for_the_model() {
        let result: CallToolResult =
            serde_json::from_value(json!({"content": [], "structuredContent": {"ok": true}}))
                .unwrap();
        let out = output_from_result("t", result).unwrap();
        assert_eq!(out.content, vec![ToolContent::text("{\"ok\":true}")]);
    }

    #[test]
    fn outcomes_round_trip_to_mcp_results() {
        let ok = result_from_outcome(Ok(ToolOutput::json(json!({"a": 1}))));
        assert_eq!(ok.is_error, Some(false));
        assert_eq!(ok.structured_content, Some(json!({"a": 1})));
        let back = output_from_result("t", ok).unwrap();
        assert_eq!(back.structured, Some(json!({"a": 1})));

        let err = result_from_outcome(Err(ToolError::NotFound {
            message: "no pod web".into(),
        }));
        assert_eq!(err.is_error, Some(true));
        let text = serde_json::to_value(&err).unwrap()["content"][0]["text"].clone();
        assert_eq!(text, "Error: not found: no pod web");

        let link = block_from_content(&ToolContent::Resource {
            uri: "u://x".into(),
            name: None,
            mime_type: None,
            text: None,
        });
        assert!(matches!(link, ContentBlock::ResourceLink(_)));
    }

    #[test]
    fn spec_effects_become_annotations() {
        let spec = ToolSpec::new("x", "d", ToolEffect::Destructive).unwrap();
        let a = annotations_from_spec(&spec);
        assert_eq!(a.destructive_hint, Some(true));
        assert_eq!(a.read_only_hint, Some(false));
        assert_eq!(effect_from_annotations(Some(&a)), ToolEffect::Destructive);
    }
}
