//! The tool declaration shared by the families that talk to the Kubernetes API (Helm, Argo
//! Rollouts): a struct holding the family's shared settings and its
//! [`kagent_core::TypedTool`] impl with an `execute_tool` span and cancellation.

/// Declares `$ty(Arc<$shared>)` and its `TypedTool` impl; the body is
/// `async fn exec(&self, args, ctx: &ToolContext) -> Result<ToolOutput, E>` on the struct, where
/// `E` has `fn into_tool_error(self, tool: &str) -> ToolError`.
macro_rules! kube_tool {
    ($(#[$meta:meta])* $ty:ident, $shared:ty, $name:literal, $effect:expr, $args:ty, $desc:expr) => {
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
pub(crate) use kube_tool;

/// Reads an optional string argument, treating an empty or blank string as absent (kagent's
/// tools pass `""` for "not given").
pub(crate) fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Whether `s` is a DNS-1123 label (namespaces, most object names' parts): 1-63 of `[a-z0-9-]`,
/// alphanumeric at both ends.
pub(crate) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Whether `s` is a DNS-1123 subdomain (object names): at most 253 characters, dot-separated
/// DNS labels.
pub(crate) fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        assert!(is_dns_label("shop"));
        assert!(is_dns_label("a-1"));
        assert!(!is_dns_label("-a"));
        assert!(!is_dns_label("A"));
        assert!(!is_dns_label(""));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(is_dns_subdomain("web.v2"));
        assert!(!is_dns_subdomain("web..v2"));
        assert!(!is_dns_subdomain("web/x"));
        assert_eq!(non_empty(&Some("  ".into())), None);
        assert_eq!(non_empty(&Some(" x ".into())), Some("x"));
    }
}
