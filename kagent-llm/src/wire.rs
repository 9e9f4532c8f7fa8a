//! Small helpers shared by the providers' request builders and stream machines.

use kagent_core::FinishReason;
use serde_json::Value;

/// An f32 as the JSON number a person would write (0.2, not 0.20000000298023224).
pub(crate) fn json_f32(v: f32) -> Value {
    let shortest: f64 = v.to_string().parse().unwrap_or(f64::from(v));
    serde_json::Number::from_f64(shortest).map_or(Value::Null, Value::Number)
}

/// A tool-call id for providers that send none (`call_{uuid}`).
pub(crate) fn synthetic_call_id() -> String {
    format!("call_{}", uuid::Uuid::new_v4().simple())
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved characters stay).
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The normalized finish reason from the provider's raw reason, with tool calls deciding the
/// tool turn whatever the raw reason says.
pub(crate) fn finish_reason(
    raw: Option<&str>,
    has_tool_calls: bool,
    map: fn(&str) -> FinishReason,
) -> FinishReason {
    if has_tool_calls {
        return FinishReason::ToolCalls;
    }
    match raw {
        Some(r) if !r.is_empty() => map(r),
        _ => FinishReason::Stop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(json_f32(0.2).to_string(), "0.2");
        assert_eq!(percent_encode("a:b/c d~"), "a%3Ab%2Fc%20d~");
        assert!(synthetic_call_id().starts_with("call_"));
        let map = |r: &str| FinishReason::Other(r.to_owned());
        assert_eq!(finish_reason(None, false, map), FinishReason::Stop);
        assert_eq!(finish_reason(Some("x"), true, map), FinishReason::ToolCalls);
        assert_eq!(
            finish_reason(Some("x"), false, map),
            FinishReason::Other("x".into())
        );
    }
}
