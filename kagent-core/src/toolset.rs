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
///
/// Cloning is cheap (the set is shared until one clone changes). A `Toolset` is a fixed
/// [`ToolSource`](crate::ToolSource): hand it to [`LlmAgentBuilder::toolset`](crate::LlmAgentBuilder::toolset).
#[derive(Clone, Default)]
pub struct Toolset {
    tools: Arc<IndexMap<String, Entry>>,
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
        let name = spec.name.clone();
        Arc::make_mut(&mut self.tools).insert(
            name,
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
        if self.tools.is_empty() {
            self.tools = other.tools;
            return Ok(());
        }
        let entries = Arc::make_mut(&mut self.tools);
        for (name, entry) in other.tools.iter() {
            entries.insert(name.clone(), entry.clone());
        }
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
        let mut out = IndexMap::with_capacity(names.len());
        for name in names {
            if let Some(entry) = self.tools.get(name.as_ref()) {
                out.insert(name.as_ref().to_owned(), entry.clone());
            }
        }
        Ok(Toolset {
            tools: Arc::new(out),
        })
    }

    /// Keeps only the tools for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&ToolSpec) -> bool) {
        if self.tools.values().all(|e| keep(e.tool.spec())) {
            return;
        }
        Arc::make_mut(&mut self.tools).retain(|_, e| keep(e.tool.spec()));
    }

    /// The same tools under the names `rename` gives them (the model sees and calls the new
    /// names; each call reaches the original tool). Arguments are validated as before, with
    /// the schema compiled once.
    ///
    /// Fails on a new name that is invalid or taken by two tools; see [`Toolset::prefixed`]
    /// for the common case.
    pub fn renamed(&self, rename: impl Fn(&str) -> String) -> Result<Toolset, ToolsetError> {
        let (set, mut problems) = self.rename_lenient(rename);
        match problems.is_empty() {
            true => Ok(set),
            false => Err(problems.swap_remove(0)),
        }
    }

    /// The same tools with `prefix` in front of every name (`kagent_` + `k8s_get_resources`).
    pub fn prefixed(&self, prefix: &str) -> Result<Toolset, ToolsetError> {
        self.renamed(|name| format!("{prefix}{name}"))
    }

    /// [`Toolset::renamed`] that leaves out the tools it cannot rename and returns why.
    pub(crate) fn rename_lenient(
        &self,
        rename: impl Fn(&str) -> String,
    ) -> (Toolset, Vec<ToolsetError>) {
        let mut out: IndexMap<String, Entry> = IndexMap::with_capacity(self.tools.len());
        let mut problems = Vec::new();
        for (name, entry) in self.tools.iter() {
            let new_name = rename(name);
            if new_name == *name {
                if out.contains_key(name) {
                    problems.push(ToolsetError::Duplicate { name: new_name });
                } else {
                    out.insert(new_name, entry.clone());
                }
                continue;
            }
            if let Err(e) = validate_tool_name(&new_name) {
                problems.push(e.into());
                continue;
            }
            if out.contains_key(&new_name) {
                problems.push(ToolsetError::Duplicate { name: new_name });
                continue;
            }
            let spec = ToolSpec {
                name: new_name.clone(),
                ..entry.tool.spec().clone()
            };
            out.insert(
                new_name,
                Entry {
                    tool: Arc::new(RenamedTool {
                        spec,
                        inner: Arc::clone(&entry.tool),
                    }),
                    validator: Arc::clone(&entry.validator),
                },
            );
        }
        (
            Toolset {
                tools: Arc::new(out),
            },
            problems,
        )
    }

    /// Adds the tools of `other` whose names are free; returns the names that were taken.
    pub(crate) fn merge_lenient(&mut self, other: &Toolset) -> Vec<String> {
        if self.tools.is_empty() {
            self.tools = Arc::clone(&other.tools);
            return Vec::new();
        }
        let mut taken = Vec::new();
        let entries = Arc::make_mut(&mut self.tools);
        for (name, entry) in other.tools.iter() {
            if entries.contains_key(name) {
                taken.push(name.clone());
            } else {
                entries.insert(name.clone(), entry.clone());
            }
        }
        taken
    }

    /// Whether both sets are the same shared set (clones that neither changed).
    pub(crate) fn same_as(&self, other: &Toolset) -> bool {
        Arc::ptr_eq(&self.tools, &other.tools)
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

/// A tool under another name.
struct RenamedTool {
    spec: ToolSpec,
    inner: Arc<dyn Tool>,
}

#[async_trait::async_trait]
impl Tool for RenamedTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(&self, arguments: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        self.inner.call(arguments, ctx).await
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

    #[test]
    fn clones_are_independent() {
        let mut a = Toolset::new().with(mock("a")).unwrap();
        let b = a.clone();
        assert!(a.same_as(&b));
        a.add(mock("b")).unwrap();
        assert!(!a.same_as(&b));
        assert_eq!(b.names().collect::<Vec<_>>(), ["a"]);
        let mut c = a.clone();
        c.retain(|s| s.name == "b");
        assert_eq!(a.names().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(c.names().collect::<Vec<_>>(), ["b"]);
        let mut d = Toolset::new();
        d.extend(a.clone()).unwrap();
        assert!(d.same_as(&a));
        assert_eq!(
            d.extend(b).unwrap_err(),
            ToolsetError::Duplicate { name: "a".into() }
        );
    }

    #[tokio::test]
    async fn renamed_tools_keep_their_validation() {
        let mut t = mock("get");
        t.expect_call().never();
        let set = Toolset::new().with(t).unwrap();
        let renamed = set.prefixed("remote_").unwrap();
        assert_eq!(renamed.names().collect::<Vec<_>>(), ["remote_get"]);
        assert_eq!(renamed.specs()[0].name, "remote_get");
        let err = renamed
            .call("remote_get", json!({"n": "x"}), ToolContext::detached("1"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ToolError::InvalidArguments { ref tool, .. } if tool == "remote_get"),
            "{err}"
        );
        assert!(set.prefixed(&"p".repeat(62)).is_err());
        assert_eq!(
            set.renamed(|_| "same".into())
                .unwrap()
                .names()
                .collect::<Vec<_>>(),
            ["same"]
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
