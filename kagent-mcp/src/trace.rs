//! W3C trace context in MCP `_meta` (SEP-414).
//!
//! The client puts `traceparent` (and `tracestate`) into the `_meta` of every request when a
//! [`TraceContextSource`] is configured and returns a context; the server records an incoming
//! `traceparent` on its tool span. kagent-mcp does not depend on OpenTelemetry: plug it in with a
//! few lines, for example with `tracing-opentelemetry` and `opentelemetry`:
//!
//! ```ignore
//! struct OtelContext;
//! impl kagent_mcp::TraceContextSource for OtelContext {
//!     fn current(&self) -> Option<kagent_mcp::TraceContext> {
//!         use opentelemetry::trace::TraceContextExt;
//!         use tracing_opentelemetry::OpenTelemetrySpanExt;
//!         let cx = tracing::Span::current().context();
//!         let span = cx.span();
//!         let sc = span.span_context();
//!         sc.is_valid().then(|| kagent_mcp::TraceContext::new(
//!             sc.trace_id().to_string(), sc.span_id().to_string(), sc.is_sampled()))
//!     }
//! }
//! ```

/// A W3C trace context (<https://www.w3.org/TR/trace-context/>).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TraceContext {
    /// The `traceparent` value: `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`.
    pub traceparent: String,
    /// The `tracestate` value, if any.
    pub tracestate: Option<String>,
}

impl TraceContext {
    /// Builds a version-00 `traceparent` from hex ids.
    pub fn new(trace_id: impl AsRef<str>, span_id: impl AsRef<str>, sampled: bool) -> Self {
        TraceContext {
            traceparent: format!(
                "00-{}-{}-{}",
                trace_id.as_ref(),
                span_id.as_ref(),
                if sampled { "01" } else { "00" }
            ),
            tracestate: None,
        }
    }

    /// Whether `traceparent` has the version-00 shape.
    pub fn is_valid(&self) -> bool {
        is_valid_traceparent(&self.traceparent)
    }
}

/// Where the client gets the current trace context from (usually the current `tracing` span
/// through OpenTelemetry). Return `None` when tracing is off.
pub trait TraceContextSource: Send + Sync {
    /// The context of the current span, if any.
    fn current(&self) -> Option<TraceContext>;
}

impl<F> TraceContextSource for F
where
    F: Fn() -> Option<TraceContext> + Send + Sync,
{
    fn current(&self) -> Option<TraceContext> {
        self()
    }
}

pub(crate) fn is_valid_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    matches!(parts.as_slice(), [v, t, s, f]
        if hex(v, 2) && hex(t, 32) && hex(s, 16) && hex(f, 2)
            && *t != "00000000000000000000000000000000" && *s != "0000000000000000")
}

/// Writes the context into a `_meta` object.
pub(crate) fn inject(meta: &mut rmcp::model::MetaObject, cx: &TraceContext) {
    if !cx.is_valid() {
        tracing::debug!("ignoring malformed traceparent from TraceContextSource");
        return;
    }
    meta.0.insert(
        "traceparent".to_owned(),
        serde_json::Value::String(cx.traceparent.clone()),
    );
    if let Some(state) = &cx.tracestate {
        meta.0.insert(
            "tracestate".to_owned(),
            serde_json::Value::String(state.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_shape_is_checked() {
        let cx = TraceContext::new("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", true);
        assert_eq!(
            cx.traceparent,
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
        assert!(cx.is_valid());
        assert!(!TraceContext::new("xyz", "00f067aa0ba902b7", true).is_valid());
        assert!(!TraceContext::new("0".repeat(32), "00f067aa0ba902b7", true).is_valid());
    }

    #[test]
    fn inject_writes_meta_and_skips_garbage() {
        let mut meta = rmcp::model::MetaObject::new();
        inject(
            &mut meta,
            &TraceContext {
                traceparent: "bogus".into(),
                tracestate: None,
            },
        );
        assert!(meta.0.is_empty());
        let mut cx = TraceContext::new(
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "00f067aa0ba902b7",
            false,
        );
        cx.tracestate = Some("k=v".into());
        inject(&mut meta, &cx);
        assert_eq!(meta.0["traceparent"], cx.traceparent.as_str());
        assert_eq!(meta.0["tracestate"], "k=v");
    }
}
