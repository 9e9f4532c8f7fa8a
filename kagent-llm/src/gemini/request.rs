//! Builds a Gemini `generateContent` request from a provider-neutral [`ChatRequest`].

use std::collections::HashMap;

use kagent_core::message::render_tool_content;
use kagent_core::{ChatRequest, ContentPart, Message, Reasoning, ToolArguments, ToolChoice};
use serde_json::{Map, Value, json};

use super::wire::{
    Content, FunctionCall, FunctionResponse, GenerateContentRequest, GenerationConfig, InlineData,
    Part,
};
use super::{GeminiToolSchema, ReplayData};
use crate::options::ProviderOptions;

/// Per-provider settings that shape the body.
#[derive(Debug, Clone, Default)]
pub(crate) struct BodyOptions {
    /// How tool schemas are sent.
    pub schema: GeminiToolSchema,
    /// `generationConfig.thinkingConfig`, passed through.
    pub thinking_config: Option<Value>,
    /// `generationConfig.responseMimeType` (e.g. `application/json`).
    pub response_mime_type: Option<String>,
}

/// The request body; sampling defaults come from `options` (the request's own values win).
pub(crate) fn build_request(
    req: &ChatRequest,
    opts: &BodyOptions,
    options: &ProviderOptions,
) -> GenerateContentRequest {
    let sampling = options.sampling(req);
    let declarations: Vec<Value> = req
        .tools
        .iter()
        .map(|t| {
            let mut decl = Map::new();
            decl.insert("name".into(), Value::String(t.name.clone()));
            decl.insert("description".into(), Value::String(t.description.clone()));
            match opts.schema {
                GeminiToolSchema::ParametersJsonSchema => {
                    decl.insert("parametersJsonSchema".into(), t.input_schema.clone());
                }
                GeminiToolSchema::SanitizedParameters => {
                    decl.insert("parameters".into(), sanitize_schema(&t.input_schema));
                }
            }
            Value::Object(decl)
        })
        .collect();
    let tools = if declarations.is_empty() {
        Vec::new()
    } else {
        vec![json!({"functionDeclarations": declarations})]
    };
    let tool_config = if tools.is_empty() {
        None
    } else {
        Some(match &req.tool_choice {
            ToolChoice::Auto => json!({"functionCallingConfig": {"mode": "AUTO"}}),
            ToolChoice::None => json!({"functionCallingConfig": {"mode": "NONE"}}),
            ToolChoice::Required => json!({"functionCallingConfig": {"mode": "ANY"}}),
            ToolChoice::Tool(name) => {
                json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}})
            }
            // A choice this provider does not know: the model decides (see `ToolChoice`).
            _ => json!({"functionCallingConfig": {"mode": "AUTO"}}),
        })
    };
    let generation_config = GenerationConfig {
        max_output_tokens: sampling.max_output_tokens,
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        top_k: sampling.top_k,
        stop_sequences: sampling.stop.to_vec(),
        thinking_config: opts.thinking_config.clone(),
        response_mime_type: opts.response_mime_type.clone(),
    };
    let has_config = generation_config.max_output_tokens.is_some()
        || generation_config.temperature.is_some()
        || generation_config.top_p.is_some()
        || generation_config.top_k.is_some()
        || !generation_config.stop_sequences.is_empty()
        || generation_config.thinking_config.is_some()
        || generation_config.response_mime_type.is_some();
    GenerateContentRequest {
        contents: build_contents(&req.messages),
        system_instruction: req
            .system
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(|s| Content {
                role: None,
                parts: vec![text_part(s.clone())],
            }),
        tools,
        tool_config,
        generation_config: has_config.then_some(generation_config),
    }
}

fn text_part(text: String) -> Part {
    Part {
        text: Some(text),
        ..Default::default()
    }
}

/// Converts the conversation. Roles are `user` and `model`; all function responses of a turn go
/// in one `user` content; ids that we synthesized are never sent back (the model never saw
/// them); `thoughtSignature`s go back on the part they came with, unchanged.
pub(crate) fn build_contents(messages: &[Message]) -> Vec<Content> {
    // Which call ids are ours (synthesized), so results for them go back without an id.
    let mut synthetic: HashMap<&str, bool> = HashMap::new();
    for m in messages {
        if let Message::Assistant(a) = m {
            for c in &a.tool_calls {
                synthetic.insert(c.id.as_str(), ReplayData::of_call(c).synthetic_id);
            }
        }
    }
    let mut out: Vec<Content> = Vec::new();
    for m in messages {
        let (role, parts) = match m {
            Message::User { content } => ("user", user_parts(content)),
            Message::Assistant(a) => {
                let mut parts = Vec::new();
                let mut text_signature = None;
                for r in &a.reasoning {
                    match ReplayData::of_reasoning(r) {
                        // Thought text is only replayed with its signature (Gemini does not
                        // need unsigned thought summaries back).
                        Some(ReplayKind::Thought) if r.signature.is_some() => parts.push(Part {
                            text: Some(r.text.clone()),
                            thought: Some(true),
                            thought_signature: r.signature.clone(),
                            ..Default::default()
                        }),
                        Some(ReplayKind::TextSignature) => text_signature.clone_from(&r.signature),
                        // Unsigned thoughts, or reasoning of another provider.
                        _ => {}
                    }
                }
                let mut texts: Vec<Part> = a
                    .content
                    .iter()
                    .filter_map(|p| match p {
                        ContentPart::Text { text } if !text.is_empty() => {
                            Some(text_part(text.clone()))
                        }
                        ContentPart::Image { media_type, data } => Some(Part {
                            inline_data: Some(InlineData {
                                mime_type: media_type.clone(),
                                data: data.clone(),
                            }),
                            ..Default::default()
                        }),
                        _ => None,
                    })
                    .collect();
                if let Some(sig) = text_signature {
                    match texts.iter_mut().rev().find(|p| p.text.is_some()) {
                        Some(last) => last.thought_signature = Some(sig),
                        None => texts.push(Part {
                            text: Some(String::new()),
                            thought_signature: Some(sig),
                            ..Default::default()
                        }),
                    }
                }
                parts.extend(texts);
                for call in &a.tool_calls {
                    let replay = ReplayData::of_call(call);
                    let args = match &call.arguments {
                        ToolArguments::Json(v @ Value::Object(_)) => v.clone(),
                        _ => json!({}),
                    };
                    parts.push(Part {
                        function_call: Some(FunctionCall {
                            id: (!replay.synthetic_id).then(|| call.id.clone()),
                            name: Some(call.name.clone()),
                            args: Some(args),
                            ..Default::default()
                        }),
                        thought_signature: replay.thought_signature,
                        ..Default::default()
                    });
                }
                ("model", parts)
            }
            Message::Tool(result) => {
                let is_synthetic = synthetic
                    .get(result.call_id.as_str())
                    .copied()
                    .unwrap_or_else(|| result.call_id.starts_with(super::SYNTHETIC_ID_PREFIX));
                let response = function_response_object(result);
                (
                    "user",
                    vec![Part {
                        function_response: Some(FunctionResponse {
                            id: (!is_synthetic).then(|| result.call_id.clone()),
                            name: result.name.clone(),
                            response,
                        }),
                        ..Default::default()
                    }],
                )
            }
            _ => continue,
        };
        if parts.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.role.as_deref() == Some(role) => last.parts.extend(parts),
            _ => out.push(Content {
                role: Some(role.to_owned()),
                parts,
            }),
        }
    }
    out
}

/// Where a replayed reasoning entry goes.
pub(crate) enum ReplayKind {
    /// A `thought: true` part.
    Thought,
    /// A signature that came on a text part.
    TextSignature,
}

/// `functionResponse.response` must be an object: structured objects go as they are, anything
/// else is wrapped as `{"output": ...}` (`{"error": ...}` for failures).
pub(crate) fn function_response_object(result: &kagent_core::ToolResult) -> Value {
    let key = if result.is_error { "error" } else { "output" };
    match &result.structured {
        Some(Value::Object(o)) if !result.is_error => Value::Object(o.clone()),
        Some(other) if !result.is_error => json!({ key: other }),
        _ => json!({ key: render_tool_content(&result.content) }),
    }
}

fn user_parts(content: &[ContentPart]) -> Vec<Part> {
    content
        .iter()
        .filter_map(|p| match p {
            ContentPart::Text { text } if !text.is_empty() => Some(text_part(text.clone())),
            ContentPart::Image { media_type, data } => Some(Part {
                inline_data: Some(InlineData {
                    mime_type: media_type.clone(),
                    data: data.clone(),
                }),
                ..Default::default()
            }),
            _ => None,
        })
        .collect()
}

/// Keywords Gemini's OpenAPI-subset `parameters` schema accepts.
const ALLOWED: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// Rewrites a JSON Schema (as schemars writes it) into the OpenAPI 3.0 subset that Gemini's
/// `parameters` accepts: `$ref`s inlined from `$defs`/`definitions`, `["T", "null"]` types
/// turned into `nullable`, `const` into a one-value `enum`, `oneOf` into `anyOf`, and
/// unsupported keywords (`$schema`, `additionalProperties`, ...) dropped.
pub fn sanitize_schema(schema: &Value) -> Value {
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .cloned()
        .unwrap_or(Value::Null);
    sanitize(schema, &defs, 0)
}

fn sanitize(schema: &Value, defs: &Value, depth: usize) -> Value {
    let Some(obj) = schema.as_object() else {
        return schema.clone();
    };
    if depth > 32 {
        // Recursive `$ref` chains: stop expanding.
        return json!({"type": "object"});
    }
    if let Some(Value::String(r)) = obj.get("$ref") {
        let name = r.rsplit('/').next().unwrap_or_default();
        if let Some(target) = defs.get(name) {
            let mut inlined = sanitize(target, defs, depth + 1);
            if let (Some(desc), Some(o)) = (obj.get("description"), inlined.as_object_mut()) {
                o.insert("description".into(), desc.clone());
            }
            return inlined;
        }
        return json!({"type": "object"});
    }
    let mut out = Map::new();
    for (k, v) in obj {
        match k.as_str() {
            "type" => match v {
                Value::Array(types) => {
                    let non_null: Vec<&Value> = types
                        .iter()
                        .filter(|t| t.as_str() != Some("null"))
                        .collect();
                    if non_null.len() < types.len() {
                        out.insert("nullable".into(), Value::Bool(true));
                    }
                    if let Some(first) = non_null.first() {
                        out.insert("type".into(), (*first).clone());
                    }
                }
                other => {
                    out.insert("type".into(), other.clone());
                }
            },
            "const" => {
                out.insert("enum".into(), Value::Array(vec![v.clone()]));
            }
            "oneOf" | "anyOf" => {
                let variants: Vec<Value> = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter(|s| s.get("type").and_then(Value::as_str) != Some("null"))
                            .map(|s| sanitize(s, defs, depth + 1))
                            .collect()
                    })
                    .unwrap_or_default();
                let had_null = v.as_array().is_some_and(|a| {
                    a.iter()
                        .any(|s| s.get("type").and_then(Value::as_str) == Some("null"))
                });
                if had_null {
                    out.insert("nullable".into(), Value::Bool(true));
                }
                match variants.len() {
                    0 => {}
                    1 => {
                        if let Some(Value::Object(only)) = variants.into_iter().next() {
                            for (k2, v2) in only {
                                out.entry(k2).or_insert(v2);
                            }
                        }
                    }
                    _ => {
                        out.insert("anyOf".into(), Value::Array(variants));
                    }
                }
            }
            "properties" => {
                let props: Map<String, Value> = v
                    .as_object()
                    .map(|p| {
                        p.iter()
                            .map(|(name, s)| (name.clone(), sanitize(s, defs, depth + 1)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert("properties".into(), Value::Object(props));
            }
            "items" => {
                out.insert("items".into(), sanitize(v, defs, depth + 1));
            }
            "enum" => {
                // Gemini enums are strings.
                let values: Vec<Value> = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter(|x| !x.is_null())
                            .map(|x| match x {
                                Value::String(_) => x.clone(),
                                other => Value::String(other.to_string()),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert("enum".into(), Value::Array(values));
            }
            key if ALLOWED.contains(&key) => {
                out.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
    if out.contains_key("enum") && !out.contains_key("type") {
        out.insert("type".into(), Value::String("string".into()));
    }
    Value::Object(out)
}

/// Reasoning kinds that came from Gemini.
impl ReplayData {
    pub(crate) fn of_reasoning(r: &Reasoning) -> Option<ReplayKind> {
        let kind = r
            .provider_data
            .as_ref()
            .and_then(|d| d.get("gemini"))
            .and_then(|g| g.get("kind"))
            .and_then(Value::as_str)?;
        match kind {
            "thought" => Some(ReplayKind::Thought),
            "text_signature" => Some(ReplayKind::TextSignature),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizer_inlines_refs_and_rewrites_nullable() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Args",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "ns": {"type": ["string", "null"], "description": "namespace"},
                "kind": {"$ref": "#/$defs/Kind"},
                "n": {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
                "mode": {"const": "fast"}
            },
            "required": ["kind"],
            "$defs": {"Kind": {"type": "string", "enum": ["Pod", "Deployment"]}}
        });
        let out = sanitize_schema(&schema);
        assert_eq!(
            out,
            json!({
                "title": "Args",
                "type": "object",
                "properties": {
                    "ns": {"type": "string", "nullable": true, "description": "namespace"},
                    "kind": {"type": "string", "enum": ["Pod", "Deployment"]},
                    "n": {"nullable": true, "type": "integer", "minimum": 0},
                    "mode": {"enum": ["fast"], "type": "string"}
                },
                "required": ["kind"]
            })
        );
    }

    #[test]
    fn recursive_refs_terminate() {
        let schema = json!({
            "type": "object",
            "properties": {"child": {"$ref": "#/$defs/Node"}},
            "$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}}
        });
        let out = sanitize_schema(&schema);
        assert_eq!(out["properties"]["child"]["type"], "object");
    }

    #[test]
    fn scalar_and_array_results_are_wrapped() {
        let mut r = kagent_core::ToolResult::ok("c", "t", "plain");
        assert_eq!(function_response_object(&r), json!({"output": "plain"}));
        r.structured = Some(json!([1, 2]));
        assert_eq!(function_response_object(&r), json!({"output": [1, 2]}));
        r.structured = Some(json!({"a": 1}));
        assert_eq!(function_response_object(&r), json!({"a": 1}));
        let e = kagent_core::ToolResult::error("c", "t", "boom");
        assert_eq!(function_response_object(&e), json!({"error": "boom"}));
    }
}
