//! The system message: inline or from a ConfigMap / Secret key, rendered as kagent renders it
//! when `promptTemplate.dataSources` is set.
//!
//! kagent executes the message as a Go `text/template` with an `include "source/key"` function
//! and the fields `.AgentName`, `.AgentNamespace`, `.Description`, `.ToolNames`, `.SkillNames`.
//! This renders that subset (and `{{/* comments */}}`, `{{-` / `-}}` trimming); any other action
//! is a [`TemplateError`] naming it, never passed to the model as literal text.

use std::collections::BTreeMap;
use std::fmt;

/// The values a system message template can use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TemplateContext {
    /// `.AgentName`: the Agent's `metadata.name`.
    pub agent_name: String,
    /// `.AgentNamespace`.
    pub agent_namespace: String,
    /// `.Description`: `spec.description`.
    pub description: String,
    /// `.ToolNames`: every `toolNames` entry of the agent's MCP tools, in order.
    pub tool_names: Vec<String>,
    /// `.SkillNames`.
    pub skill_names: Vec<String>,
}

/// Why a template cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// `{{` without `}}`.
    #[error("`{{{{` at byte {at} is never closed with `}}}}`")]
    Unclosed {
        /// Byte offset of the `{{`.
        at: usize,
    },
    /// An `include` of a path no data source provides.
    #[error("include \"{path}\": no data source has it (available: {})", if available.is_empty() { "none".to_owned() } else { available.join(", ") })]
    UnknownInclude {
        /// The path.
        path: String,
        /// The `source/key` paths there are.
        available: Vec<String>,
    },
    /// An action this renderer does not have.
    #[error(
        "`{{{{{action}}}}}` is not supported: kagent-rs renders include \"source/key\", .AgentName, .AgentNamespace, .Description, .ToolNames, .SkillNames and comments"
    )]
    Unsupported {
        /// The action's text.
        action: String,
    },
}

/// Renders `text` with the `source/key` contents in `lookup`.
pub fn render(
    text: &str,
    lookup: &BTreeMap<String, String>,
    ctx: &TemplateContext,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        let (before, after_open) = rest.split_at(open);
        let after_open = after_open.get(2..).unwrap_or("");
        let Some(close) = after_open.find("}}") else {
            return Err(TemplateError::Unclosed { at: offset + open });
        };
        let mut action = after_open.get(..close).unwrap_or("");
        let trim_left = action.starts_with("- ") || action == "-";
        let trim_right = action.ends_with(" -") || action == "-";
        if trim_left {
            action = action.get(1..).unwrap_or("");
        }
        if trim_right {
            action = action.get(..action.len().saturating_sub(1)).unwrap_or("");
        }
        out.push_str(if trim_left { before.trim_end() } else { before });
        out.push_str(&eval(action.trim(), lookup, ctx)?);
        let consumed = open + 2 + close + 2;
        rest = rest.get(consumed..).unwrap_or("");
        offset += consumed;
        if trim_right {
            let trimmed = rest.trim_start();
            offset += rest.len() - trimmed.len();
            rest = trimmed;
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

fn eval(
    action: &str,
    lookup: &BTreeMap<String, String>,
    ctx: &TemplateContext,
) -> Result<String, TemplateError> {
    if action.starts_with("/*") && action.ends_with("*/") {
        return Ok(String::new());
    }
    match action {
        ".AgentName" => return Ok(ctx.agent_name.clone()),
        ".AgentNamespace" => return Ok(ctx.agent_namespace.clone()),
        ".Description" => return Ok(ctx.description.clone()),
        ".ToolNames" => return Ok(go_list(&ctx.tool_names)),
        ".SkillNames" => return Ok(go_list(&ctx.skill_names)),
        _ => {}
    }
    if let Some(arg) = action.strip_prefix("include") {
        let arg = arg.trim();
        let arg = arg
            .strip_prefix('(')
            .and_then(|a| a.strip_suffix(')'))
            .unwrap_or(arg)
            .trim();
        if let Some(path) = arg.strip_prefix('"').and_then(|a| a.strip_suffix('"'))
            && !path.contains('"')
        {
            return lookup
                .get(path)
                .cloned()
                .ok_or_else(|| TemplateError::UnknownInclude {
                    path: path.to_owned(),
                    available: lookup.keys().cloned().collect(),
                });
        }
    }
    Err(TemplateError::Unsupported {
        action: action.to_owned(),
    })
}

impl fmt::Display for TemplateContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.agent_namespace, self.agent_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> TemplateContext {
        TemplateContext {
            agent_name: "k8s-agent".into(),
            agent_namespace: "kagent".into(),
            description: "Troubleshoots".into(),
            tool_names: vec!["k8s_get_resources".into(), "k8s_get_events".into()],
            skill_names: Vec::new(),
        }
    }

    #[test]
    fn renders_kagents_subset() {
        let lookup: BTreeMap<String, String> = [
            ("builtin/safety".to_owned(), "Be careful.".to_owned()),
            ("x/y".to_owned(), "Y".to_owned()),
        ]
        .into();
        let text = "I am {{.AgentName}} in {{ .AgentNamespace }}.\n{{include \"builtin/safety\"}}\n{{- /* a comment */ -}}\n{{ include (\"x/y\") }} tools: {{.ToolNames}}{{.SkillNames}}";
        assert_eq!(
            render(text, &lookup, &ctx()).unwrap(),
            "I am k8s-agent in kagent.\nBe careful.Y tools: [k8s_get_resources k8s_get_events][]"
        );
    }

    #[test]
    fn problems_are_named() {
        let lookup = BTreeMap::new();
        assert_eq!(
            render("a {{include \"builtin/x\"}}", &lookup, &ctx()),
            Err(TemplateError::UnknownInclude {
                path: "builtin/x".into(),
                available: vec![]
            })
        );
        let e = render("{{range .ToolNames}}{{.}}{{end}}", &lookup, &ctx()).unwrap_err();
        assert!(e.to_string().contains("`{{range .ToolNames}}`"), "{e}");
        assert!(matches!(
            render("text {{ .AgentName", &lookup, &ctx()),
            Err(TemplateError::Unclosed { at: 5 })
        ));
        // No template syntax: the text as it is.
        assert_eq!(render("plain", &lookup, &ctx()).unwrap(), "plain");
    }
}
