//! What the HTTP tool families share: the endpoint (base URL, auth, headers, the embedder's
//! HTTP client), the error type and how it reaches the model, time and duration parsing, and
//! compact rendering helpers.

mod endpoint;
mod error;
pub mod render;
pub mod time;

pub use endpoint::{Auth, Endpoint, EndpointBuilder, Reply};
pub use error::{BuildError, HttpToolError};

pub(crate) use kagent_k8s::render::bound_text;

/// Reads an optional string argument, treating an empty or blank string as absent (kagent's
/// tools pass `""` for "not given").
pub(crate) fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Declares a tool struct holding its family's shared settings and its
/// [`kagent_core::TypedTool`] impl; the body is
/// `async fn exec(&self, args, ctx: &ToolContext) -> Result<ToolOutput, HttpToolError>` on the
/// struct. Spans carry OpenTelemetry GenAI attribute names; cancellation stops the call.
macro_rules! http_tool {
    ($(#[$meta:meta])* $ty:ident, $shared:ty, $name:expr, $effect:expr, $args:ty, $desc:expr) => {
        $(#[$meta])*
        pub struct $ty(pub(crate) std::sync::Arc<$shared>);

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($name)
            }
        }

        #[kagent_core::async_trait]
        impl kagent_core::TypedTool for $ty {
            type Args = $args;
            fn name(&self) -> &str {
                $name
            }
            fn description(&self) -> &str {
                $desc
            }
            fn effect(&self) -> kagent_core::ToolEffect {
                $effect
            }
            async fn run(
                &self,
                args: $args,
                ctx: kagent_core::ToolContext,
            ) -> std::result::Result<kagent_core::ToolOutput, kagent_core::ToolError> {
                use tracing::Instrument as _;
                let span = tracing::info_span!(
                    "execute_tool",
                    "gen_ai.operation.name" = "execute_tool",
                    "gen_ai.tool.name" = $name,
                    "gen_ai.tool.call.id" = %ctx.call_id,
                    "dry_run" = ctx.dry_run,
                );
                let cancel = ctx.cancellation.clone();
                let work = self.exec(args, &ctx).instrument(span);
                tokio::select! {
                    res = work => res.map_err(|e| e.into_tool_error($name)),
                    () = cancel.cancelled() => Err(kagent_core::ToolError::Cancelled),
                }
            }
        }
    };
}
pub(crate) use http_tool;

/// A list of strings that also accepts one string (models send either).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct StringList(pub Vec<String>);

impl<'de> serde::Deserialize<'de> for StringList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::One(s) if s.trim().is_empty() => StringList(Vec::new()),
            Raw::One(s) => StringList(vec![s]),
            Raw::Many(v) => StringList(v.into_iter().filter(|s| !s.trim().is_empty()).collect()),
        })
    }
}

impl schemars::JsonSchema for StringList {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StringList".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": ["array", "string"],
            "items": {"type": "string"},
            "description": "one string or a list of strings"
        })
    }
}
