//! [`Toolset`]: a named collection of tools with argument validation.

use std::collections::BTreeSet;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value;

use crate::tool::{
    ArgumentValidator, Tool, ToolContext, ToolError, ToolOutput, ToolSpec, ToolSpecError,
    validate_tool_name,
};

/// Errors composing a toolset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolsetError {
    /// Two tools share a name.
    #[error("duplicate tool name {name:?}")]
    Duplicate {
        /// The name.
        name: String,
    },
    /// A filter asked for tools the set does not have.
    #[error("unknown tool name(s): {}", names.join(", "))]
    Unknown {
        /// The missing names.
        names: Vec<String>,
    },
    /// A tool's spec is invalid.
    #[error(transparent)]
    Spec(#[from] ToolSpecError),
}

struct Entry {
    tool: Arc<dyn Tool>,
    validator: Arc<ArgumentValidator>,
}

impl Clone for Entry {
    fn clone(&self) -> Self {
        Entry {
            tool: Arc::clone(&self.tool),
            validator: Arc::clone(&self.validator),
        }
    }
}

/// An ordered set of tools with unique names.
///
/// Calls through the set validate arguments against each tool's JSON Schema first, so a tool
/// never sees arguments that do not fit its schema; the violations come back as
/// [`ToolError::InvalidArguments`] for the model to read.
#[derive(Clone, Default)]
pub struct Toolset {
    tools: IndexMap<String, Entry>,
}

impl std::fmt::Debug for Toolset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.tools.keys()).finish()
    }
}

impl Toolset {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tool; fails on a duplicate or invalid name.
    ///
    /// A tool whose input schema does not compile as JSON Schema is still added (remote servers
    /// publish sloppy schemas); its arguments are then checked by the tool alone.
    pub fn add(&mut self, tool: impl Tool + 'static) -> Result<(), ToolsetError> {
        self.add_arc(Arc::new(tool))
    }

    /// Adds a shared tool.
    pub fn add_arc(&mut self, tool: Arc<dyn Tool>) -> Result<(), ToolsetError> {
        let spec = tool.spec();
        validate_tool_name(&spec.name)?;
        if self.tools.contains_key(&spec.name) {
            return Err(ToolsetError::Duplicate {
                name: spec.name.clone(),
            });
        }
        let validator = match ArgumentValidator::new(spec) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(tool = %spec.name, error = %e, "tool schema does not compile; arguments are not pre-validated");
                ArgumentValidator::permissive()
            }
        };
        self.tools.insert(
            spec.name.clone(),
            Entry {
                tool,
                validator: Arc::new(validator),
            },
        );
        Ok(())
    }

    /// Builder form of [`Toolset::add`].
    pub fn with(mut self, tool: impl Tool + 'static) -> Result<Self, ToolsetError> {
        self.add(tool)?;
        Ok(self)
    }

    /// Adds every tool of another set; fails on the first duplicate and leaves `self` unchanged.
    pub fn extend(&mut self, other: Toolset) -> Result<(), ToolsetError> {
        if let Some(dup) = other.tools.keys().find(|k| self.tools.contains_key(*k)) {
            return Err(ToolsetError::Duplicate { name: dup.clone() });
        }
        self.tools.extend(other.tools);
        Ok(())
    }

    /// Keeps only the named tools, in the order given (kagent's `toolNames`). Every name must
    /// exist; the error lists all that do not.
    pub fn filter<S: AsRef<str>>(&self, names: &[S]) -> Result<Toolset, ToolsetError> {
        let missing: Vec<String> = names
            .iter()
            .map(AsRef::as_ref)
            .filter(|n| !self.tools.contains_key(*n))
            .map(str::to_owned)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !missing.is_empty() {
            return Err(ToolsetError::Unknown { names: missing });
        }
        let mut out = Toolset::new();
        for name in names {
            if let Some(entry) = self.tools.get(name.as_ref()) {
                out.tools.insert(name.as_ref().to_owned(), entry.clone());
            }
        }
        Ok(out)
    }

    /// Keeps only the tools for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&ToolSpec) -> bool) {
        self.tools.retain(|_, e| keep(e.tool.spec()));
    }

    /// The tool with this name.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.tools.get(name).map(|e| &e.tool)
    }

    /// Whether a tool with this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.tools.contains_key(name)
    }

    /// Tool names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.keys().map(String::as_str)
    }

    /// Specs in order.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.tools.values().map(|e| e.tool.spec().clone()).collect()
    }

    /// Iterates over the tools.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Tool>> {
        self.tools.values().map(|e| &e.tool)
    }

    /// Number of tools.
    pub fn len(&self) -> usize {
        self.tools.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// Validates arguments for a tool without calling it.
    pub fn validate(&self, name: &str, arguments: &Value) -> Result<(), ToolError> {
        let entry = self
            .tools
            .get(name)
            .ok_or_else(|| unknown_tool(name, self))?;
        entry.validator.validate(name, arguments)
    }

    /// Validates and calls a tool.
    pub async fn call(
        &self,
        name: &str,
        arguments: Value,
        ctx: ToolContext,
    ) -> Result<ToolOutput, ToolError> {
        let entry = self
            .tools
            .get(name)
            .ok_or_else(|| unknown_tool(name, self))?;
        entry.validator.validate(name, &arguments)?;
        entry.tool.call(arguments, ctx).await
    }
}

pub(crate) fn unknown_tool(name: &str, set: &Toolset) -> ToolError {
    ToolError::NotFound {
        message: format!(
            "no tool named {name:?}; available tools: {}",
            set.names().collect::<Vec<_>>().join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool::{MockTool, ToolEffect};
    use serde_json::json;

    fn mock(name: &str) -> MockTool {
        let mut t = MockTool::new();
        let spec = ToolSpec::new(name, "d", ToolEffect::ReadOnly)
            .unwrap()
            .with_input_schema(json!({
                "type": "object",
                "properties": {"n": {"type": "integer"}},
                "required": ["n"]
            }));
        t.expect_spec().return_const(spec);
        t
    }

    #[test]
    fn duplicates_are_rejected() {
        let mut set = Toolset::new();
        set.add(mock("a")).unwrap();
        assert_eq!(
            set.add(mock("a")).unwrap_err(),
            ToolsetError::Duplicate { name: "a".into() }
        );
    }

    #[test]
    fn filter_keeps_order_and_names_missing() {
        let mut set = Toolset::new();
        for n in ["a", "b", "c"] {
            set.add(mock(n)).unwrap();
        }
        let f = set.filter(&["c", "a"]).unwrap();
        assert_eq!(f.names().collect::<Vec<_>>(), ["c", "a"]);
        assert_eq!(
            set.filter(&["a", "zz", "yy"]).unwrap_err(),
            ToolsetError::Unknown {
                names: vec!["yy".into(), "zz".into()]
            }
        );
    }

    #[tokio::test]
    async fn calls_are_validated_before_the_tool_runs() {
        let mut t = mock("a");
        t.expect_call().never();
        let set = Toolset::new().with(t).unwrap();
        let err = set
            .call("a", json!({"n": "x"}), ToolContext::detached("1"))
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::InvalidArguments { .. }), "{err}");
        let err = set
            .call("nope", json!({}), ToolContext::detached("1"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("available tools: a"), "{err}");
    }
}
