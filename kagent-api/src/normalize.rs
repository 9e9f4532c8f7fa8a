//! Rewrites the forms users actually write into kagent's v1alpha2 shape, on the JSON value
//! before it is decoded into the typed resource. Every rewrite leaves a warning saying what was
//! read as what; values that cannot be rewritten become field errors (and are dropped, so that
//! decoding goes on and every other error is found too).

use serde_json::{Map, Value};

use crate::error::{FieldError, Reason, Warning};
use crate::path::FieldPath;

/// The outcome of normalising one object.
#[derive(Default)]
#[doc(hidden)]
pub struct Normalizer {
    pub(crate) warnings: Vec<Warning>,
    pub(crate) errors: Vec<FieldError>,
}

const PROVIDERS: &[&str] = &[
    "Anthropic",
    "OpenAI",
    "AzureOpenAI",
    "Ollama",
    "Gemini",
    "GeminiVertexAI",
    "AnthropicVertexAI",
    "Bedrock",
    "SAPAICore",
    "Foundry",
];

/// Lower case without separators: `azure-openai`, `Azure_OpenAI` and `AZUREOPENAI` compare equal.
fn canonical(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Normalizer {
    fn obj(v: Option<&mut Value>) -> Option<&mut Map<String, Value>> {
        v.and_then(Value::as_object_mut)
    }

    /// Checks `map[key]` against `allowed`, rewriting other spellings of an allowed value.
    /// An unknown value is reported and removed.
    fn fix_enum(
        &mut self,
        map: &mut Map<String, Value>,
        key: &str,
        path: &FieldPath,
        allowed: &[&str],
    ) {
        let Some(v) = map.get_mut(key) else { return };
        let field = path.field(key);
        if let Some(s) = v.as_str() {
            if allowed.contains(&s) {
                return;
            }
            let c = canonical(s);
            if let Some(hit) = allowed.iter().find(|a| canonical(a) == c) {
                self.warnings.push(Warning::normalized(
                    field,
                    s,
                    *hit,
                    format!("kagent's enum spells it `{hit}`"),
                ));
                *v = Value::String((*hit).to_string());
                return;
            }
        }
        self.errors.push(FieldError::new(
            field,
            Reason::UnknownValue {
                value: describe(v),
                allowed: allowed.iter().map(|a| (*a).to_string()).collect(),
            },
        ));
        map.remove(key);
    }

    /// kagent's schema types some numbers as strings (`temperature: "0.7"`); a YAML number there
    /// is read as its text.
    fn number_as_string(&mut self, map: &mut Map<String, Value>, key: &str, path: &FieldPath) {
        if let Some(v) = map.get_mut(key)
            && (v.is_number() || v.is_boolean())
        {
            let text = v.to_string();
            self.warnings.push(Warning::normalized(
                path.field(key),
                text.clone(),
                format!("\"{text}\""),
                "kagent's schema takes this value as a string; quote it",
            ));
            *v = Value::String(text);
        }
    }

    fn value_refs(&mut self, list: Option<&mut Value>, path: &FieldPath) {
        let Some(items) = list.and_then(Value::as_array_mut) else {
            return;
        };
        for (i, item) in items.iter_mut().enumerate() {
            let p = path.index(i);
            if let Some(from) = Self::obj(item.as_object_mut().and_then(|m| m.get_mut("valueFrom")))
            {
                self.fix_enum(
                    from,
                    "type",
                    &p.field("valueFrom"),
                    &["ConfigMap", "Secret"],
                );
            }
        }
    }

    fn allowed_namespaces(&mut self, spec: &mut Map<String, Value>, path: &FieldPath) {
        if let Some(an) = Self::obj(spec.get_mut("allowedNamespaces")) {
            self.fix_enum(
                an,
                "from",
                &path.field("allowedNamespaces"),
                &["All", "Same", "Selector"],
            );
        }
    }

    /// Agent: enum spellings, `modelConfig: ns/name` in the Agent's own namespace, a missing
    /// tool `type`, and an empty MCP tool `kind`.
    pub(crate) fn agent(&mut self, obj: &mut Map<String, Value>) {
        let namespace = obj
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let spec_path = FieldPath::root().field("spec");
        let Some(spec) = Self::obj(obj.get_mut("spec")) else {
            return;
        };
        self.fix_enum(spec, "type", &spec_path, &["Declarative", "BYO"]);
        self.allowed_namespaces(spec, &spec_path);
        let decl_path = spec_path.field("declarative");
        let Some(decl) = Self::obj(spec.get_mut("declarative")) else {
            return;
        };
        self.fix_enum(decl, "runtime", &decl_path, &["python", "go"]);
        if let Some(smf) = Self::obj(decl.get_mut("systemMessageFrom")) {
            self.fix_enum(
                smf,
                "type",
                &decl_path.field("systemMessageFrom"),
                &["ConfigMap", "Secret"],
            );
        }
        if let Some(Value::String(mc)) = decl.get_mut("modelConfig")
            && let Some((ns, name)) = mc.split_once('/')
            && !name.contains('/')
            && !ns.is_empty()
            && !name.is_empty()
            && namespace.as_deref() == Some(ns)
        {
            let name = name.to_string();
            self.warnings.push(Warning::normalized(
                decl_path.field("modelConfig"),
                mc.clone(),
                name.clone(),
                "the v1alpha1 `namespace/name` form; in v1alpha2 modelConfig is a name in the Agent's namespace",
            ));
            *mc = name;
        }
        let tools_path = decl_path.field("tools");
        let Some(tools) = decl.get_mut("tools").and_then(Value::as_array_mut) else {
            return;
        };
        for (i, tool) in tools.iter_mut().enumerate() {
            let tp = tools_path.index(i);
            let Some(tool) = tool.as_object_mut() else {
                continue;
            };
            if !tool.contains_key("type") {
                let inferred = match (tool.contains_key("mcpServer"), tool.contains_key("agent")) {
                    (true, false) => Some("McpServer"),
                    (false, true) => Some("Agent"),
                    _ => None,
                };
                if let Some(t) = inferred {
                    self.warnings.push(Warning::normalized(
                        tp.field("type"),
                        "(missing)",
                        t,
                        "inferred from the block that is present; kagent requires `type`",
                    ));
                    tool.insert("type".into(), Value::String(t.into()));
                }
            }
            self.fix_enum(tool, "type", &tp, &["McpServer", "Agent"]);
            self.value_refs(tool.get_mut("headersFrom"), &tp.field("headersFrom"));
            let mp = tp.field("mcpServer");
            if let Some(mcp) = Self::obj(tool.get_mut("mcpServer")) {
                self.mcp_server_ref(mcp, &mp);
            }
        }
    }

    fn mcp_server_ref(&mut self, mcp: &mut Map<String, Value>, path: &FieldPath) {
        let kind = mcp.get("kind").and_then(Value::as_str).unwrap_or("");
        let group_empty = mcp
            .get("apiGroup")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if kind.is_empty() && group_empty {
            self.warnings.push(Warning::normalized(
                path.field("kind"),
                "(empty)",
                "MCPServer",
                "kagent treats an MCP tool reference without kind as kmcp's MCPServer (apiGroup kagent.dev); write `kind: RemoteMCPServer` for a RemoteMCPServer",
            ));
            mcp.insert("kind".into(), Value::String("MCPServer".into()));
            mcp.insert("apiGroup".into(), Value::String("kagent.dev".into()));
        } else if group_empty && matches!(kind, "RemoteMCPServer" | "MCPServer") {
            self.warnings.push(Warning::normalized(
                path.field("apiGroup"),
                "(empty)",
                "kagent.dev",
                "kagent resolves an empty apiGroup for this kind in kagent.dev",
            ));
            mcp.insert("apiGroup".into(), Value::String("kagent.dev".into()));
        }
    }

    /// ModelConfig: provider spelling, `apiKeySecretRef` (string or `{name, key}`), v1alpha1's
    /// `modelInfo`, numbers where kagent wants strings, enum spellings in provider blocks.
    pub(crate) fn model_config(&mut self, obj: &mut Map<String, Value>) {
        let sp = FieldPath::root().field("spec");
        let Some(spec) = Self::obj(obj.get_mut("spec")) else {
            return;
        };
        self.fix_enum(spec, "provider", &sp, PROVIDERS);
        if let Some(secret_ref) = spec.remove("apiKeySecretRef") {
            self.api_key_secret_ref(spec, secret_ref, &sp);
        }
        if spec.remove("modelInfo").is_some() {
            self.warnings.push(Warning::ignored(
                sp.field("modelInfo"),
                "v1alpha1's modelInfo has no v1alpha2 equivalent (model capabilities are not declared any more)",
            ));
        }
        for (block, fields) in [
            (
                "openAI",
                &["temperature", "topP", "frequencyPenalty", "presencePenalty"][..],
            ),
            ("anthropic", &["temperature", "topP"][..]),
            ("azureOpenAI", &["temperature", "topP", "apiVersion"][..]),
            ("geminiVertexAI", &["temperature", "topP", "topK"][..]),
            ("anthropicVertexAI", &["temperature", "topP", "topK"][..]),
        ] {
            if let Some(b) = Self::obj(spec.get_mut(block)) {
                for f in fields {
                    self.number_as_string(b, f, &sp.field(block));
                }
            }
        }
        if let Some(openai) = Self::obj(spec.get_mut("openAI")) {
            let op = sp.field("openAI");
            self.fix_enum(openai, "apiFormat", &op, &["chatCompletions", "responses"]);
            self.fix_enum(
                openai,
                "reasoningEffort",
                &op,
                &["none", "minimal", "low", "medium", "high", "xhigh", "max"],
            );
            if let Some(te) = Self::obj(openai.get_mut("tokenExchange")) {
                self.fix_enum(
                    te,
                    "type",
                    &op.field("tokenExchange"),
                    &["GDCHServiceAccount"],
                );
            }
        }
        if let Some(ollama) = Self::obj(spec.get_mut("ollama"))
            && let Some(options) = Self::obj(ollama.get_mut("options"))
        {
            let p = sp.field("ollama").field("options");
            let keys: Vec<String> = options.keys().cloned().collect();
            for k in keys {
                self.number_as_string(options, &k, &p);
            }
        }
        if let Some(bedrock) = Self::obj(spec.get_mut("bedrock")) {
            let bp = sp.field("bedrock");
            self.fix_enum(bedrock, "cacheTTL", &bp, &["5m", "1h"]);
            if let Some(g) = Self::obj(bedrock.get_mut("guardrail")) {
                let gp = bp.field("guardrail");
                self.number_as_string(g, "version", &gp);
                self.fix_enum(g, "trace", &gp, &["disabled", "enabled", "enabled_full"]);
            }
        }
    }

    fn api_key_secret_ref(&mut self, spec: &mut Map<String, Value>, value: Value, sp: &FieldPath) {
        let rp = sp.field("apiKeySecretRef");
        let (name, key, form) = match value {
            Value::String(s) => (Some(s), None, "v1alpha1's string apiKeySecretRef"),
            Value::Object(mut m) => {
                let name = m.remove("name");
                let key = m.remove("key");
                for extra in m.keys() {
                    self.warnings.push(Warning::new(
                        rp.field(extra),
                        crate::error::WarningKind::UnknownField,
                    ));
                }
                let as_string = |v: Option<Value>, field: &str, this: &mut Self| match v {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s),
                    Some(other) => {
                        this.errors.push(FieldError::new(
                            rp.field(field),
                            Reason::Decode {
                                message: format!("expected a string, found {other}"),
                            },
                        ));
                        None
                    }
                };
                let name = as_string(name, "name", self);
                let key = as_string(key, "key", self);
                (name, key, "the object form apiKeySecretRef: {name, key}")
            }
            other => {
                self.errors.push(FieldError::new(
                    rp,
                    Reason::Decode {
                        message: format!(
                            "expected a Secret name or {{name, key}}, found {other}; kagent v1alpha2 writes apiKeySecret: <secret> and apiKeySecretKey: <key>"
                        ),
                    },
                ));
                return;
            }
        };
        let object_form = form.starts_with("the object");
        for (field, part, given) in [
            ("apiKeySecret", "name", name),
            ("apiKeySecretKey", "key", key),
        ] {
            let Some(given) = given else { continue };
            let written_at = if object_form {
                rp.field(part)
            } else {
                rp.clone()
            };
            match spec.get(field).and_then(Value::as_str) {
                Some(existing) if existing != given => {
                    self.errors.push(FieldError::new(
                        written_at,
                        Reason::MutuallyExclusive {
                            other: sp.field(field).to_string(),
                            hint: format!(
                                "apiKeySecretRef says `{given}` but {field} says `{existing}`; keep only {field}"
                            ),
                        },
                    ));
                }
                _ => {
                    self.warnings.push(Warning::normalized(
                        written_at,
                        given.clone(),
                        format!("{field}: {given}"),
                        format!("{form}; kagent v1alpha2 uses apiKeySecret + apiKeySecretKey"),
                    ));
                    spec.insert(field.into(), Value::String(given));
                }
            }
        }
    }

    /// RemoteMCPServer: protocol spelling, numbers as durations, enum spellings.
    pub(crate) fn remote_mcp_server(&mut self, obj: &mut Map<String, Value>) {
        let sp = FieldPath::root().field("spec");
        let Some(spec) = Self::obj(obj.get_mut("spec")) else {
            return;
        };
        self.fix_enum(spec, "protocol", &sp, &["SSE", "STREAMABLE_HTTP"]);
        for field in ["timeout", "sseReadTimeout"] {
            if let Some(v) = spec.get_mut(field)
                && let Some(n) = v.as_u64()
            {
                self.warnings.push(Warning::normalized(
                    sp.field(field),
                    n.to_string(),
                    format!("{n}s"),
                    "a bare number is read as seconds; kagent's schema takes a duration string like `30s`",
                ));
                *v = Value::String(format!("{n}s"));
            }
        }
        self.value_refs(spec.get_mut("headersFrom"), &sp.field("headersFrom"));
        self.allowed_namespaces(spec, &sp);
    }

    /// ModelProviderConfig: provider spelling.
    pub(crate) fn model_provider_config(&mut self, obj: &mut Map<String, Value>) {
        let sp = FieldPath::root().field("spec");
        if let Some(spec) = Self::obj(obj.get_mut("spec")) {
            self.fix_enum(spec, "type", &sp, PROVIDERS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_spellings_compare_equal() {
        assert_eq!(canonical("azure-openai"), canonical("AzureOpenAI"));
        assert_eq!(canonical("streamable_http"), canonical("STREAMABLE_HTTP"));
        assert_ne!(canonical("gemini"), canonical("GeminiVertexAI"));
    }

    #[test]
    fn unknown_enum_values_are_errors_and_dropped() {
        let mut n = Normalizer::default();
        let mut obj = json!({"spec": {"provider": "Anthropik", "model": "m"}});
        n.model_config(obj.as_object_mut().unwrap());
        assert_eq!(n.errors.len(), 1);
        assert_eq!(n.errors[0].path.to_string(), "spec.provider");
        assert!(obj["spec"].get("provider").is_none());
    }
}
