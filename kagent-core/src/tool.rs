//! The [`Tool`] contract, its [`ToolSpec`], and the typed helper [`TypedTool`].

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::message::ToolContent;

/// What calling a tool can do to the world. Policies decide from this.
///
/// Maps to MCP tool annotations: `readOnlyHint: true` is [`ToolEffect::ReadOnly`],
/// `destructiveHint: true` is [`ToolEffect::Destructive`], anything else is
/// [`ToolEffect::Mutating`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolEffect {
    /// Only reads.
    ReadOnly,
    /// Changes state in a way that can be undone (scale, label, patch).
    Mutating,
    /// Deletes or irreversibly changes state.
    Destructive,
}

impl ToolEffect {
    /// Whether the tool only reads.
    pub fn is_read_only(self) -> bool {
        self == ToolEffect::ReadOnly
    }

    /// The name used in JSON and messages: `read_only`, `mutating` or `destructive`.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolEffect::ReadOnly => "read_only",
            ToolEffect::Mutating => "mutating",
            ToolEffect::Destructive => "destructive",
        }
    }
}

/// The public description of a tool: what the model sees, and what policies decide from.
///
/// Built with [`ToolSpec::new`] and the `with_*` setters; fields stay readable (and writable),
/// and new fields can be added without breaking callers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolSpec {
    /// Unique name, `^[a-zA-Z0-9_-]{1,64}$` (what every provider accepts).
    pub name: String,
    /// What the tool does, for the model.
    pub description: String,
    /// JSON Schema of the arguments object.
    pub input_schema: Value,
    /// JSON Schema of structured output, when the tool has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// What a call can do.
    pub effect: ToolEffect,
    /// Whether repeating a call with the same arguments has no further effect.
    #[serde(default)]
    pub idempotent: bool,
}

/// Longest tool name providers accept.
pub const MAX_TOOL_NAME_LEN: usize = 64;

/// Checks a tool name against what providers accept: 1 to 64 of `a-z A-Z 0-9 _ -`
/// (`^[a-zA-Z0-9_-]{1,64}$`).
pub fn validate_tool_name(name: &str) -> Result<(), ToolSpecError> {
    // A plain character check: nothing to compile, so nothing that can fail at run time.
    let ok = !name.is_empty()
        && name.len() <= MAX_TOOL_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ToolSpecError::InvalidName {
            name: name.to_owned(),
        })
    }
}

impl ToolSpec {
    /// A spec with an empty-object schema, checked name, not idempotent.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        effect: ToolEffect,
    ) -> Result<Self, ToolSpecError> {
        let name = name.into();
        validate_tool_name(&name)?;
        Ok(ToolSpec {
            name,
            description: description.into(),
            input_schema: serde_json::json!({"type": "object", "properties": {}}),
            output_schema: None,
            effect,
            idempotent: false,
        })
    }

    /// Sets the input schema.
    pub fn with_input_schema(mut self, schema: Value) -> Self {
        self.input_schema = schema;
        self
    }

    /// Sets the input schema from a Rust type with schemars.
    pub fn with_input_type<T: JsonSchema>(self) -> Self {
        self.with_input_schema(schema_for::<T>())
    }

    /// Sets the JSON Schema of the tool's structured output.
    pub fn with_output_schema(mut self, schema: Value) -> Self {
        self.output_schema = Some(schema);
        self
    }

    /// Sets the effect.
    pub fn with_effect(mut self, effect: ToolEffect) -> Self {
        self.effect = effect;
        self
    }

    /// Marks the tool idempotent.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// What differs in `newer`, a later definition of the same tool, in a few words (`effect
    /// read_only -> mutating`, `input schema`, ...); `None` when nothing does.
    pub fn describe_change(&self, newer: &ToolSpec) -> Option<String> {
        let mut parts = Vec::new();
        if self.name != newer.name {
            parts.push(format!("name {} -> {}", self.name, newer.name));
        }
        if self.effect != newer.effect {
            parts.push(format!(
                "effect {} -> {}",
                self.effect.as_str(),
                newer.effect.as_str()
            ));
        }
        if self.idempotent != newer.idempotent {
            parts.push(format!(
                "idempotent {} -> {}",
                self.idempotent, newer.idempotent
            ));
        }
        if self.input_schema != newer.input_schema {
            parts.push("input schema".to_owned());
        }
        if self.output_schema != newer.output_schema {
            parts.push("output schema".to_owned());
        }
        if self.description != newer.description {
            parts.push("description".to_owned());
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// The JSON Schema of `T` as an object schema suitable for tool input.
pub fn schema_for<T: JsonSchema>() -> Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    let mut value = schema.to_value();
    if let Value::Object(map) = &mut value {
        // Providers want a plain object schema; `$schema` and `title` are noise to them.
        map.remove("$schema");
        map.remove("title");
        map.entry("properties")
            .or_insert_with(|| Value::Object(Default::default()));
    }
    value
}

/// Errors building a tool spec or toolset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolSpecError {
    /// The name is not `^[a-zA-Z0-9_-]{1,64}$`.
    #[error("invalid tool name {name:?}: names must match ^[a-zA-Z0-9_-]{{1,64}}$")]
    InvalidName {
        /// The rejected name.
        name: String,
    },
    /// The input schema is not a valid JSON Schema.
    #[error("invalid input schema for tool {tool}: {message}")]
    InvalidSchema {
        /// The tool.
        tool: String,
        /// What is wrong.
        message: String,
    },
}

/// What a tool returns on success.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolOutput {
    /// Output parts for the model.
    pub content: Vec<ToolContent>,
    /// Structured output, when the tool produced any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured: Option<Value>,
}

impl ToolOutput {
    /// Output made of these parts.
    pub fn new(content: Vec<ToolContent>) -> Self {
        ToolOutput {
            content,
            structured: None,
        }
    }

    /// Sets the structured output (the text parts stay what the model reads).
    pub fn with_structured(mut self, structured: Value) -> Self {
        self.structured = Some(structured);
        self
    }

    /// Text output.
    pub fn text(text: impl Into<String>) -> Self {
        ToolOutput {
            content: vec![ToolContent::text(text)],
            structured: None,
        }
    }

    /// Structured output, rendered as pretty JSON text for the model as well.
    pub fn json(value: Value) -> Self {
        let text = serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string());
        ToolOutput {
            content: vec![ToolContent::text(text)],
            structured: Some(value),
        }
    }
}

/// Per-call context handed to a tool.
///
/// Built with [`ToolContext::detached`] and the `with_*` setters (the engine fills in the
/// agent, session and cancellation of its run).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ToolContext {
    /// The call id.
    pub call_id: String,
    /// The agent making the call.
    pub agent: String,
    /// The session the call belongs to.
    pub session_id: String,
    /// Cancelled when the run is cancelled or the call times out; long-running tools should
    /// stop early when it fires.
    pub cancellation: CancellationToken,
    /// When set, mutating tools should validate and report what they would do without doing it.
    pub dry_run: bool,
    /// The caller's W3C `traceparent`, when the call arrived with one (for example through an
    /// MCP server), so a tool can continue the caller's trace in its own outbound calls.
    pub trace_parent: Option<String>,
}

impl ToolContext {
    /// A context for calls made outside an agent run (tests, direct use).
    pub fn detached(call_id: impl Into<String>) -> Self {
        ToolContext {
            call_id: call_id.into(),
            agent: String::new(),
            session_id: String::new(),
            cancellation: CancellationToken::new(),
            dry_run: false,
            trace_parent: None,
        }
    }

    /// Sets the agent making the call.
    pub fn with_agent(mut self, agent: impl Into<String>) -> Self {
        self.agent = agent.into();
        self
    }

    /// Sets the session the call belongs to.
    pub fn with_session_id(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = session_id.into();
        self
    }

    /// Uses this cancellation token.
    pub fn with_cancellation(mut self, cancellation: CancellationToken) -> Self {
        self.cancellation = cancellation;
        self
    }

    /// Asks mutating tools to report what they would do without doing it.
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Sets the caller's W3C `traceparent`.
    pub fn with_trace_parent(mut self, trace_parent: impl Into<String>) -> Self {
        self.trace_parent = Some(trace_parent.into());
        self
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a tool call failed.
///
/// The first group of variants is *data the model sees*: the run goes on and the model can
/// correct itself. The second group are *faults* the runtime handles (retry, report, stop);
/// [`ToolError::is_fault`] tells them apart.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The arguments do not fit the tool's schema or are not JSON.
    #[error("invalid arguments for {tool}: {message}")]
    InvalidArguments {
        /// The tool.
        tool: String,
        /// What is wrong, written for the model.
        message: String,
    },
    /// The thing the call refers to does not exist.
    #[error("not found: {message}")]
    NotFound {
        /// What was not found.
        message: String,
    },
    /// The caller may not do this (RBAC, policy, read-only mode).
    #[error("forbidden: {message}")]
    Forbidden {
        /// Why.
        message: String,
    },
    /// The tool ran and failed in a way the model should know about.
    #[error("{message}")]
    Failed {
        /// What happened.
        message: String,
    },
    /// The call did not finish in time.
    #[error("tool {tool} timed out after {after:?}")]
    Timeout {
        /// The tool.
        tool: String,
        /// The limit.
        after: Duration,
    },
    /// The tool's backend could not be reached (network, dead MCP server, API server).
    #[error("transport error in {tool}: {message}")]
    Transport {
        /// The tool.
        tool: String,
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The tool's definition changed (its effect, schema or description) after the call was
    /// decided, so the call was not run: the model reads the new definition on its next turn
    /// and the policy decides again. Data the model sees, not a fault.
    #[error("tool {tool} changed before the call was run ({message}); it was not run")]
    Changed {
        /// The tool.
        tool: String,
        /// What changed.
        message: String,
    },
    /// The call was cancelled.
    #[error("tool call cancelled")]
    Cancelled,
    /// A bug or unexpected state inside the tool.
    #[error("internal error in {tool}: {message}")]
    Internal {
        /// The tool.
        tool: String,
        /// What happened.
        message: String,
    },
}

impl ToolError {
    /// A [`ToolError::Failed`] with this message.
    pub fn failed(message: impl Into<String>) -> Self {
        ToolError::Failed {
            message: message.into(),
        }
    }

    /// A [`ToolError::Changed`].
    pub fn changed(tool: impl Into<String>, message: impl Into<String>) -> Self {
        ToolError::Changed {
            tool: tool.into(),
            message: message.into(),
        }
    }

    /// A [`ToolError::InvalidArguments`].
    pub fn invalid_arguments(tool: impl Into<String>, message: impl Into<String>) -> Self {
        ToolError::InvalidArguments {
            tool: tool.into(),
            message: message.into(),
        }
    }

    /// Whether this is a runtime fault (timeout, transport, cancellation, internal) rather than
    /// an answer the model should read and act on.
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            ToolError::Timeout { .. }
                | ToolError::Transport { .. }
                | ToolError::Cancelled
                | ToolError::Internal { .. }
        )
    }

    /// The text the model sees for this error.
    pub fn model_message(&self) -> String {
        match self {
            ToolError::InvalidArguments { message, .. } => format!(
                "Error: invalid arguments: {message}. Check the tool's input schema and call it again."
            ),
            ToolError::Changed { .. } => format!(
                "Error: {self}. Its new definition is in your tool list; call it again only if it still fits the task."
            ),
            other => format!("Error: {other}"),
        }
    }
}

/// One capability an agent can call.
///
/// Implement this directly for tools whose schema is only known at run time (MCP tools,
/// discovered resources); implement [`TypedTool`] for everything else.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait Tool: Send + Sync {
    /// The tool's public description.
    fn spec(&self) -> &ToolSpec;

    /// Runs the tool. `arguments` has already been validated against
    /// [`ToolSpec::input_schema`] when the call comes through a [`Toolset`](crate::Toolset).
    async fn call(&self, arguments: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError>;
}

#[async_trait]
impl<T: Tool + ?Sized> Tool for Arc<T> {
    fn spec(&self) -> &ToolSpec {
        (**self).spec()
    }
    async fn call(&self, arguments: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        (**self).call(arguments, ctx).await
    }
}

/// A tool with typed arguments: the schema comes from schemars and arguments are deserialized
/// (and so validated) before [`TypedTool::run`] is called.
///
/// ```
/// use kagent_core::{TypedTool, ToolContext, ToolEffect, ToolError, ToolOutput, IntoTool};
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Args {
///     /// Namespace to look in.
///     namespace: String,
/// }
///
/// struct CountPods;
///
/// #[async_trait::async_trait]
/// impl TypedTool for CountPods {
///     type Args = Args;
///     fn name(&self) -> &str { "count_pods" }
///     fn description(&self) -> &str { "Counts pods in a namespace" }
///     fn effect(&self) -> ToolEffect { ToolEffect::ReadOnly }
///     async fn run(&self, args: Args, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
///         Ok(ToolOutput::text(format!("3 pods in {}", args.namespace)))
///     }
/// }
///
/// let tool = CountPods.into_tool().unwrap();
/// assert_eq!(kagent_core::Tool::spec(&tool).name, "count_pods");
/// ```
#[async_trait]
pub trait TypedTool: Send + Sync + 'static {
    /// The arguments type. Its doc comments become the schema's descriptions.
    type Args: DeserializeOwned + JsonSchema + Send + 'static;

    /// The tool name.
    fn name(&self) -> &str;
    /// What the tool does, for the model.
    fn description(&self) -> &str;
    /// What a call can do.
    fn effect(&self) -> ToolEffect;
    /// Whether repeating a call has no further effect. Defaults to read-only tools only.
    fn idempotent(&self) -> bool {
        self.effect().is_read_only()
    }
    /// Runs the tool with deserialized arguments.
    async fn run(&self, args: Self::Args, ctx: ToolContext) -> Result<ToolOutput, ToolError>;
}

/// Adapts a [`TypedTool`] into a [`Tool`]; build it with [`IntoTool::into_tool`].
pub struct TypedToolAdapter<T> {
    inner: T,
    spec: ToolSpec,
}

impl<T> std::fmt::Debug for TypedToolAdapter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedToolAdapter")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl<T: TypedTool> TypedToolAdapter<T> {
    /// The wrapped tool.
    pub fn inner(&self) -> &T {
        &self.inner
    }
}

/// Turns a [`TypedTool`] into a [`Tool`].
pub trait IntoTool: TypedTool + Sized {
    /// Builds the spec (checking the name) and wraps the tool.
    fn into_tool(self) -> Result<TypedToolAdapter<Self>, ToolSpecError> {
        let spec = ToolSpec::new(self.name(), self.description(), self.effect())?
            .with_input_type::<Self::Args>()
            .idempotent(self.idempotent());
        Ok(TypedToolAdapter { inner: self, spec })
    }
}

impl<T: TypedTool> IntoTool for T {}

#[async_trait]
impl<T: TypedTool> Tool for TypedToolAdapter<T> {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(&self, arguments: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let args: T::Args = serde_json::from_value(arguments)
            .map_err(|e| ToolError::invalid_arguments(self.spec.name.clone(), e.to_string()))?;
        self.inner.run(args, ctx).await
    }
}

/// A compiled JSON Schema validator for a tool's input.
pub(crate) struct ArgumentValidator {
    validator: Option<jsonschema::Validator>,
}

impl ArgumentValidator {
    pub(crate) fn new(spec: &ToolSpec) -> Result<Self, ToolSpecError> {
        let validator = jsonschema::validator_for(&spec.input_schema).map_err(|e| {
            ToolSpecError::InvalidSchema {
                tool: spec.name.clone(),
                message: e.to_string(),
            }
        })?;
        Ok(ArgumentValidator {
            validator: Some(validator),
        })
    }

    /// A validator that accepts everything (used when a remote schema cannot be compiled).
    pub(crate) fn permissive() -> Self {
        ArgumentValidator { validator: None }
    }

    /// Validates arguments, returning every violation in one message a model can act on.
    pub(crate) fn validate(&self, tool: &str, args: &Value) -> Result<(), ToolError> {
        let Some(validator) = &self.validator else {
            return Ok(());
        };
        let mut problems: Vec<Cow<'_, str>> = Vec::new();
        for err in validator.iter_errors(args) {
            let path = err.instance_path().to_string();
            let at = if path.is_empty() {
                "arguments".to_owned()
            } else {
                path
            };
            problems.push(Cow::Owned(format!("{at}: {err}")));
            if problems.len() >= 8 {
                break;
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ToolError::invalid_arguments(tool, problems.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize, JsonSchema)]
    struct ScaleArgs {
        /// Deployment name.
        name: String,
        /// Replica count.
        replicas: u32,
    }

    struct Scale;

    #[async_trait]
    impl TypedTool for Scale {
        type Args = ScaleArgs;
        fn name(&self) -> &str {
            "scale"
        }
        fn description(&self) -> &str {
            "Scales a deployment"
        }
        fn effect(&self) -> ToolEffect {
            ToolEffect::Mutating
        }
        async fn run(&self, args: ScaleArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
            Ok(ToolOutput::text(format!(
                "{} -> {}",
                args.name, args.replicas
            )))
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(validate_tool_name("k8s_get_resources").is_ok());
        assert!(validate_tool_name("a-b_C9").is_ok());
        assert!(validate_tool_name("").is_err());
        assert!(validate_tool_name("has space").is_err());
        assert!(validate_tool_name("dotted.name").is_err());
        assert!(validate_tool_name(&"x".repeat(65)).is_err());
        assert!(validate_tool_name(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn names_are_ascii_only() {
        assert!(validate_tool_name("naïve").is_err());
        assert!(validate_tool_name("tool\n").is_err());
        assert!(validate_tool_name("ab/c").is_err());
    }

    #[test]
    fn spec_changes_are_described() {
        let old = ToolSpec::new("probe", "Reads", ToolEffect::ReadOnly).unwrap();
        assert_eq!(old.describe_change(&old.clone()), None);
        let new = old
            .clone()
            .with_effect(ToolEffect::Mutating)
            .with_input_schema(json!({"type": "object", "required": ["x"]}));
        assert_eq!(
            old.describe_change(&new).unwrap(),
            "effect read_only -> mutating, input schema"
        );
        let reworded = ToolSpec::new("probe", "Restarts", ToolEffect::ReadOnly).unwrap();
        assert_eq!(old.describe_change(&reworded).unwrap(), "description");
        let err = ToolError::changed("probe", "effect read_only -> mutating");
        assert!(!err.is_fault());
        let msg = err.model_message();
        assert!(msg.contains("probe changed"), "{msg}");
        assert!(msg.contains("it was not run"), "{msg}");
        assert!(msg.contains("call it again only if"), "{msg}");
    }

    #[test]
    fn context_and_output_setters() {
        let token = CancellationToken::new();
        let ctx = ToolContext::detached("c1")
            .with_agent("a")
            .with_session_id("s")
            .with_cancellation(token.clone())
            .with_dry_run(true)
            .with_trace_parent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assert_eq!(
            (
                ctx.call_id.as_str(),
                ctx.agent.as_str(),
                ctx.session_id.as_str()
            ),
            ("c1", "a", "s")
        );
        assert!(ctx.dry_run);
        assert!(ctx.trace_parent.is_some());
        token.cancel();
        assert!(ctx.cancellation.is_cancelled());
        let out = ToolOutput::new(vec![ToolContent::text("t")]).with_structured(json!({"a": 1}));
        assert_eq!(out.structured, Some(json!({"a": 1})));
        assert_eq!(out.content, vec![ToolContent::text("t")]);
    }

    #[test]
    fn typed_tool_schema_comes_from_the_type() {
        let tool = Scale.into_tool().unwrap();
        let spec = tool.spec();
        assert_eq!(spec.effect, ToolEffect::Mutating);
        assert!(!spec.idempotent);
        assert_eq!(spec.input_schema["type"], "object");
        assert_eq!(
            spec.input_schema["properties"]["replicas"]["description"],
            "Replica count."
        );
        let required = spec.input_schema["required"].as_array().unwrap();
        assert_eq!(required.len(), 2);
        assert!(spec.input_schema.get("$schema").is_none());
    }

    #[tokio::test]
    async fn typed_tool_reports_bad_arguments_as_data() {
        let tool = Scale.into_tool().unwrap();
        let err = tool
            .call(
                json!({"name": "web", "replicas": "three"}),
                ToolContext::detached("c"),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::InvalidArguments { .. }));
        assert!(!err.is_fault());
        assert!(
            err.model_message().contains("invalid type"),
            "{}",
            err.model_message()
        );

        let ok = tool
            .call(
                json!({"name": "web", "replicas": 3}),
                ToolContext::detached("c"),
            )
            .await
            .unwrap();
        assert_eq!(ok, ToolOutput::text("web -> 3"));
    }

    #[test]
    fn validator_lists_all_problems() {
        let tool = Scale.into_tool().unwrap();
        let v = ArgumentValidator::new(tool.spec()).unwrap();
        assert!(
            v.validate("scale", &json!({"name": "a", "replicas": 1}))
                .is_ok()
        );
        let err = v.validate("scale", &json!({"replicas": -1})).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("name"), "{msg}");
        assert!(msg.contains("/replicas"), "{msg}");
    }

    #[test]
    fn fault_classification() {
        assert!(ToolError::Cancelled.is_fault());
        assert!(
            ToolError::Timeout {
                tool: "t".into(),
                after: Duration::from_secs(1)
            }
            .is_fault()
        );
        assert!(
            !ToolError::NotFound {
                message: "x".into()
            }
            .is_fault()
        );
        assert!(
            !ToolError::Forbidden {
                message: "x".into()
            }
            .is_fault()
        );
    }
}
