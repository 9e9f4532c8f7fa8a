//! [`ToolSource`]: where an agent's tools come from, asked again at every model turn and before
//! every tool call, so tool lists that change while an agent runs (an MCP server's
//! `notifications/tools/list_changed`) reach it.
//!
//! A [`Toolset`] is the fixed source. Sources compose in
//! [`LlmAgentBuilder`](crate::LlmAgentBuilder) (`.tool(..)`, `.toolset(..)`, repeatable); a
//! name two sources share is a [`BuildError::ToolClash`](crate::BuildError::ToolClash) unless
//! one of them is renamed with [`ToolSourceExt::prefixed`] or [`ToolSourceExt::alias`].
//!
//! ```
//! use kagent_core::{ToolSource, ToolSourceExt, Toolset};
//! # use kagent_core::{IntoTool, ToolContext, ToolEffect, ToolError, ToolOutput, TypedTool};
//! # struct Get;
//! # #[kagent_core::async_trait]
//! # impl TypedTool for Get {
//! #     type Args = serde_json::Value;
//! #     fn name(&self) -> &str { "k8s_get_resources" }
//! #     fn description(&self) -> &str { "reads" }
//! #     fn effect(&self) -> ToolEffect { ToolEffect::ReadOnly }
//! #     async fn run(&self, _: serde_json::Value, _: ToolContext) -> Result<ToolOutput, ToolError> {
//! #         Ok(ToolOutput::text("ok"))
//! #     }
//! # }
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let remote = Toolset::new().with(Get.into_tool()?)?;
//! let renamed = remote.prefixed("kagent_").alias("k8s_get_resources", "remote_get");
//! renamed.check()?; // what the agent builder reports as a BuildError
//! assert_eq!(renamed.snapshot().names().collect::<Vec<_>>(), ["remote_get"]);
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;

use crate::tool::{ToolEffect, validate_tool_name};
use crate::toolset::{Toolset, ToolsetError};

/// Where an agent's tools come from.
///
/// The engine asks [`ToolSource::tools`] for the current list before every model turn (the
/// specs the model is offered) and again before it decides each tool call, so the policy always
/// decides on the definition the call will run under. A source whose list can change (an MCP
/// server) reports [`ToolSource::is_live`]; an agent whose sources are all fixed reads its tools
/// once, when it is built.
///
/// A live source implements [`ToolSource::tools`] (waiting there for a list it knows changed) and
/// [`ToolSource::is_live`]; see kagent-mcp's `McpToolset`.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait ToolSource: Send + Sync {
    /// Names the source in errors and logs (`toolset (a, b, c)`, `MCP server kagent-tools`).
    fn describe(&self) -> String;

    /// The tools known now, without I/O or waiting. The agent builder checks names against it
    /// and, when every source is fixed, derives
    /// [`AgentCard::max_effect`](crate::AgentCard::max_effect) from it (an agent with a live
    /// source counts as destructive).
    fn snapshot(&self) -> Toolset;

    /// The tools as they are now, for one model turn or one tool call. A live source that
    /// knows its list changed (a `list_changed` notification arrived) returns the new list
    /// here, waiting for it if needed; when the new list cannot be read it returns what it has
    /// and its tools refuse calls they can no longer vouch for. Default: [`ToolSource::snapshot`].
    async fn tools(&self) -> Toolset {
        self.snapshot()
    }

    /// Whether the list can change after the agent is built. Default: `false`.
    fn is_live(&self) -> bool {
        false
    }

    /// Configuration problems to report when the agent is built (a prefix that makes a name
    /// invalid, an alias of a tool the source does not have). Default: none.
    fn check(&self) -> Result<(), ToolsetError> {
        Ok(())
    }
}

#[async_trait]
impl<S: ToolSource + ?Sized> ToolSource for Arc<S> {
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn snapshot(&self) -> Toolset {
        (**self).snapshot()
    }
    async fn tools(&self) -> Toolset {
        (**self).tools().await
    }
    fn is_live(&self) -> bool {
        (**self).is_live()
    }
    fn check(&self) -> Result<(), ToolsetError> {
        (**self).check()
    }
}

/// A fixed set of tools.
impl ToolSource for Toolset {
    fn describe(&self) -> String {
        let mut names: Vec<&str> = self.names().take(4).collect();
        if names.len() == 4 {
            names.truncate(3);
            names.push("…");
        }
        format!("toolset ({})", names.join(", "))
    }

    fn snapshot(&self) -> Toolset {
        self.clone()
    }
}

/// Renaming for any [`ToolSource`]: a prefix for every name, aliases for single tools.
pub trait ToolSourceExt: ToolSource + Sized {
    /// Offers every tool as `prefix` + its name (`kagent_k8s_get_resources`). The policy, the
    /// audit and the model all see the new names; calls reach the original tools.
    fn prefixed(self, prefix: impl Into<String>) -> Renamed<Self> {
        Renamed::new(self).prefix(prefix)
    }

    /// Offers the tool `name` as `alias` (other tools keep their names).
    fn alias(self, name: impl Into<String>, alias: impl Into<String>) -> Renamed<Self> {
        Renamed::new(self).alias(name, alias)
    }
}

impl<S: ToolSource> ToolSourceExt for S {}

/// A [`ToolSource`] whose tools are offered under other names: made by
/// [`ToolSourceExt::prefixed`] and [`ToolSourceExt::alias`]. An alias wins over the prefix.
///
/// A live source's new tools are renamed too; one whose new name would be invalid (longer
/// than 64 characters) is left out with a warning.
#[derive(Debug, Clone)]
pub struct Renamed<S> {
    inner: S,
    prefix: String,
    aliases: BTreeMap<String, String>,
}

impl<S: ToolSource> Renamed<S> {
    /// `inner` under its own names (add a prefix or aliases).
    pub fn new(inner: S) -> Self {
        Renamed {
            inner,
            prefix: String::new(),
            aliases: BTreeMap::new(),
        }
    }

    /// Sets the prefix put in front of every name without an alias.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Offers the tool `name` as `alias`.
    pub fn alias(mut self, name: impl Into<String>, alias: impl Into<String>) -> Self {
        self.aliases.insert(name.into(), alias.into());
        self
    }

    /// The renamed source.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn new_name(&self, name: &str) -> String {
        match self.aliases.get(name) {
            Some(alias) => alias.clone(),
            None => format!("{}{name}", self.prefix),
        }
    }

    fn rename(&self, set: &Toolset) -> Toolset {
        if self.prefix.is_empty() && self.aliases.is_empty() {
            return set.clone();
        }
        let (renamed, problems) = set.rename_lenient(|name| self.new_name(name));
        for problem in problems {
            tracing::warn!(source = %self.inner.describe(), error = %problem, "tool left out: it cannot be renamed");
        }
        renamed
    }
}

#[async_trait]
impl<S: ToolSource> ToolSource for Renamed<S> {
    fn describe(&self) -> String {
        let mut renames = Vec::new();
        if !self.prefix.is_empty() {
            renames.push(format!("prefix {:?}", self.prefix));
        }
        if !self.aliases.is_empty() {
            renames.push(format!("{} alias(es)", self.aliases.len()));
        }
        format!("{} with {}", self.inner.describe(), renames.join(" and "))
    }

    fn snapshot(&self) -> Toolset {
        self.rename(&self.inner.snapshot())
    }

    async fn tools(&self) -> Toolset {
        self.rename(&self.inner.tools().await)
    }

    fn is_live(&self) -> bool {
        self.inner.is_live()
    }

    fn check(&self) -> Result<(), ToolsetError> {
        self.inner.check()?;
        if !self.prefix.is_empty() {
            // The prefix alone must be usable in a name (a prefix of 64 characters is not).
            validate_tool_name(&format!("{}x", self.prefix))?;
        }
        for alias in self.aliases.values() {
            validate_tool_name(alias)?;
        }
        let current = self.inner.snapshot();
        let unknown: BTreeSet<String> = self
            .aliases
            .keys()
            .filter(|name| !current.contains(name))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(ToolsetError::Unknown {
                names: unknown.into_iter().collect(),
            });
        }
        current.renamed(|name| self.new_name(name)).map(|_| ())
    }
}

/// The sources of one agent, in the order they were added.
#[derive(Clone)]
pub(crate) struct AgentTools {
    sources: Vec<(String, Arc<dyn ToolSource>)>,
    live: bool,
    /// The merged list when the agent was built; what a fixed agent uses for every run.
    built: Toolset,
}

impl std::fmt::Debug for AgentTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentTools")
            .field(
                "sources",
                &self.sources.iter().map(|(l, _)| l).collect::<Vec<_>>(),
            )
            .field("live", &self.live)
            .field("tools", &self.built)
            .finish()
    }
}

/// Two sources offering one name, found when the agent is built.
pub(crate) struct Clash {
    pub(crate) name: String,
    pub(crate) first: String,
    pub(crate) second: String,
}

impl AgentTools {
    /// Checks each source and merges their current tools; a name offered twice is a clash.
    pub(crate) fn build(
        sources: Vec<Arc<dyn ToolSource>>,
    ) -> Result<Self, Result<Clash, (String, ToolsetError)>> {
        let mut labelled = Vec::with_capacity(sources.len());
        let mut built = Toolset::new();
        let mut owner: BTreeMap<String, String> = BTreeMap::new();
        for (i, source) in sources.into_iter().enumerate() {
            let label = format!("source #{} ({})", i + 1, source.describe());
            source.check().map_err(|e| Err((label.clone(), e)))?;
            let set = source.snapshot();
            for name in set.names() {
                if let Some(first) = owner.get(name) {
                    return Err(Ok(Clash {
                        name: name.to_owned(),
                        first: first.clone(),
                        second: label,
                    }));
                }
                owner.insert(name.to_owned(), label.clone());
            }
            built.merge_lenient(&set);
            labelled.push((label, source));
        }
        let live = labelled.iter().any(|(_, s)| s.is_live());
        Ok(AgentTools {
            sources: labelled,
            live,
            built,
        })
    }

    /// Whether any source can change its list.
    pub(crate) fn is_live(&self) -> bool {
        self.live
    }

    /// The strongest effect the agent's tools can have: a live source can add any tool, so an
    /// agent with one counts as destructive.
    pub(crate) fn max_effect(&self) -> ToolEffect {
        if self.live {
            return ToolEffect::Destructive;
        }
        self.built
            .iter()
            .map(|t| t.spec().effect)
            .max()
            .unwrap_or(ToolEffect::ReadOnly)
    }

    /// The merged tools known now, without I/O.
    pub(crate) fn snapshot(&self) -> Toolset {
        if !self.live {
            return self.built.clone();
        }
        self.merge(self.sources.iter().map(|(l, s)| (l, s.snapshot())))
    }

    /// The merged tools as they are now (live sources refresh what they know is stale).
    pub(crate) async fn current(&self) -> Toolset {
        if !self.live {
            return self.built.clone();
        }
        if let [(_, only)] = self.sources.as_slice() {
            return only.tools().await;
        }
        let sets = futures::future::join_all(self.sources.iter().map(|(_, s)| s.tools())).await;
        self.merge(self.sources.iter().map(|(l, _)| l).zip(sets))
    }

    /// Merges in source order. A name that appeared in a later source while the agent runs
    /// stays with the earlier source; the later tool is left out with a warning.
    fn merge<'a>(&self, sets: impl Iterator<Item = (&'a String, Toolset)>) -> Toolset {
        let mut merged = Toolset::new();
        for (label, set) in sets {
            for name in merged.merge_lenient(&set) {
                tracing::warn!(tool = %name, source = %label, "tool left out: an earlier tool source offers the same name");
            }
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool::{MockTool, ToolContext, ToolEffect, ToolOutput, ToolSpec};
    use serde_json::json;

    fn tool(name: &str, effect: ToolEffect) -> MockTool {
        let mut t = MockTool::new();
        t.expect_spec()
            .return_const(ToolSpec::new(name, format!("{name} tool"), effect).unwrap());
        let answer = name.to_owned();
        t.expect_call()
            .returning(move |_, _| Ok(ToolOutput::text(answer.clone())));
        t
    }

    fn set(names: &[&str]) -> Toolset {
        let mut s = Toolset::new();
        for n in names {
            s.add(tool(n, ToolEffect::ReadOnly)).unwrap();
        }
        s
    }

    #[tokio::test]
    async fn a_prefix_renames_every_tool_and_calls_reach_the_original() {
        let renamed = set(&["get", "list"]).prefixed("remote_");
        renamed.check().unwrap();
        let tools = renamed.tools().await;
        assert_eq!(
            tools.names().collect::<Vec<_>>(),
            ["remote_get", "remote_list"]
        );
        assert_eq!(tools.get("remote_get").unwrap().spec().name, "remote_get");
        let out = tools
            .call("remote_list", json!({}), ToolContext::detached("1"))
            .await
            .unwrap();
        assert_eq!(out, ToolOutput::text("list"));
        assert!(
            renamed.describe().contains("prefix \"remote_\""),
            "{}",
            renamed.describe()
        );
    }

    #[test]
    fn aliases_win_over_the_prefix() {
        let renamed = set(&["get", "list"]).prefixed("r_").alias("get", "fetch");
        renamed.check().unwrap();
        assert_eq!(
            renamed.snapshot().names().collect::<Vec<_>>(),
            ["fetch", "r_list"]
        );
    }

    #[test]
    fn bad_renames_are_reported_by_check() {
        let err = set(&["get"]).alias("nope", "x").check().unwrap_err();
        assert_eq!(
            err,
            ToolsetError::Unknown {
                names: vec!["nope".into()]
            }
        );
        let err = set(&["get"]).prefixed("has space_").check().unwrap_err();
        assert!(matches!(err, ToolsetError::Spec(_)), "{err}");
        let err = set(&["get", "list"])
            .alias("get", "same")
            .alias("list", "same")
            .check()
            .unwrap_err();
        assert_eq!(
            err,
            ToolsetError::Duplicate {
                name: "same".into()
            }
        );
        let long = "p".repeat(62);
        let err = set(&["get"]).prefixed(long.clone()).check().unwrap_err();
        assert!(err.to_string().contains(&long), "{err}");
        // At run time the tool that cannot be renamed is left out, the rest stay.
        let lenient = set(&["a", "get"]).prefixed(long);
        assert_eq!(lenient.snapshot().len(), 1);
    }

    #[test]
    fn clashes_name_both_sources() {
        let sources: Vec<Arc<dyn ToolSource>> =
            vec![Arc::new(set(&["a", "b"])), Arc::new(set(&["c", "b"]))];
        let Err(Ok(clash)) = AgentTools::build(sources) else {
            panic!("expected a clash");
        };
        assert_eq!(clash.name, "b");
        assert_eq!(clash.first, "source #1 (toolset (a, b))");
        assert_eq!(clash.second, "source #2 (toolset (c, b))");

        let sources: Vec<Arc<dyn ToolSource>> = vec![
            Arc::new(set(&["a", "b"])),
            Arc::new(set(&["c", "b"]).prefixed("x_")),
        ];
        let Ok(tools) = AgentTools::build(sources) else {
            panic!("a prefix resolves the clash");
        };
        assert_eq!(
            tools.snapshot().names().collect::<Vec<_>>(),
            ["a", "b", "x_c", "x_b"]
        );
        assert!(!tools.is_live());
        assert_eq!(tools.max_effect(), ToolEffect::ReadOnly);
    }

    #[tokio::test]
    async fn live_sources_are_asked_every_time_and_earlier_sources_keep_their_names() {
        let mut live = MockToolSource::new();
        live.expect_describe().return_const("live".to_owned());
        live.expect_is_live().return_const(true);
        live.expect_check().returning(|| Ok(()));
        live.expect_snapshot().returning(|| set(&["x"]));
        let mut answers = vec![set(&["x", "a"]), set(&["x", "y"])];
        live.expect_tools()
            .times(2)
            .returning(move || answers.remove(0));
        let sources: Vec<Arc<dyn ToolSource>> = vec![Arc::new(set(&["a"])), Arc::new(live)];
        let Ok(tools) = AgentTools::build(sources) else {
            panic!("no clash at build time");
        };
        assert!(tools.is_live());
        assert_eq!(tools.max_effect(), ToolEffect::Destructive);
        // "a" appeared in the live source later: the fixed source keeps it.
        assert_eq!(
            tools.current().await.names().collect::<Vec<_>>(),
            ["a", "x"]
        );
        assert_eq!(
            tools.current().await.names().collect::<Vec<_>>(),
            ["a", "x", "y"]
        );
    }
}
