//! Rendering Kubernetes objects for a model to read: compact tables whose columns carry the
//! facts that matter, redaction of Secret values, and diffs of what a change would do.

mod describe;
pub(crate) mod table;

pub(crate) use describe::probe_action;
pub use describe::{DescribeContext, describe_object};
pub use table::{Table, one_line, table_for, table_for_events};

use kagent_core::ToolOutput;
use serde_json::Value;

/// Reads a string at a JSON pointer, `""` when absent.
pub(crate) fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// Reads an integer at a JSON pointer, `0` when absent.
pub(crate) fn i(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

/// Reads an optional integer at a JSON pointer.
pub(crate) fn oi(v: &Value, ptr: &str) -> Option<i64> {
    v.pointer(ptr).and_then(Value::as_i64)
}

/// Reads an array at a JSON pointer, empty when absent.
pub(crate) fn arr<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A workload's `spec.replicas`, 1 when unset (as the API server defaults it).
pub(crate) fn desired_replicas(workload: &Value) -> i64 {
    oi(workload, "/spec/replicas").unwrap_or(1)
}

/// `"-"` for an empty string.
pub(crate) fn dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_owned()
    } else {
        s.to_owned()
    }
}

/// A kubectl-style age (`45s`, `12m`, `5h`, `3d`, `2y`) of an RFC 3339 timestamp.
pub fn age(ts: &str, now: jiff::Timestamp) -> String {
    let Ok(t) = ts.parse::<jiff::Timestamp>() else {
        return "-".to_owned();
    };
    let secs = now.as_second().saturating_sub(t.as_second()).max(0);
    human_duration(secs)
}

/// A compact duration: `45s`, `12m`, `5h`, `3d`, `2y`.
pub fn human_duration(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 * 2 => format!("{}m", s / 60),
        s if s < 86400 * 2 => format!("{}h", s / 3600),
        s if s < 86400 * 365 * 2 => format!("{}d", s / 86400),
        s => format!("{}y", s / (86400 * 365)),
    }
}

/// Removes what a model never needs (`managedFields`, the last-applied annotation) and, unless
/// `allow_secret_values`, every value of a Secret (`data`, `stringData`).
pub fn sanitize(obj: &mut Value, allow_secret_values: bool) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            // Carries a full copy of the object, Secret values included.
            ann.remove("kubectl.kubernetes.io/last-applied-configuration");
            if ann.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    if !allow_secret_values {
        redact_secret(obj);
    }
}

/// Replaces the values of a Secret's `data` and `stringData` with a size note.
pub fn redact_secret(obj: &mut Value) {
    let is_secret = s(obj, "/kind") == "Secret" && matches!(s(obj, "/apiVersion"), "v1" | "");
    if !is_secret {
        return;
    }
    for field in ["data", "stringData"] {
        if let Some(map) = obj.get_mut(field).and_then(Value::as_object_mut) {
            for v in map.values_mut() {
                let len = v.as_str().map(str::len).unwrap_or(0);
                let bytes = if field == "data" { len / 4 * 3 } else { len };
                *v = Value::String(format!("<redacted: about {bytes} bytes>"));
            }
        }
    }
}

/// Strips server-set noise before a diff (`resourceVersion`, `uid`, timestamps, generation).
fn strip_for_diff(obj: &mut Value, keep_status: bool) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "managedFields",
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "generation",
            "selfLink",
        ] {
            meta.remove(k);
        }
    }
    if !keep_status && let Some(map) = obj.as_object_mut() {
        map.remove("status");
    }
}

/// A unified diff (YAML, three lines of context) between an object before and after a change;
/// `None` on either side means "does not exist". Secret values are redacted unless allowed.
pub fn object_diff(
    before: Option<&Value>,
    after: Option<&Value>,
    keep_status: bool,
    allow_secret_values: bool,
) -> String {
    let prep = |v: Option<&Value>| -> String {
        match v {
            None => String::new(),
            Some(v) => {
                let mut v = v.clone();
                sanitize(&mut v, allow_secret_values);
                strip_for_diff(&mut v, keep_status);
                serde_yaml::to_string(&v).unwrap_or_default()
            }
        }
    };
    let (a, b) = (prep(before), prep(after));
    if a == b {
        return "(no changes)".to_owned();
    }
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header("before", "after")
        .to_string()
}

/// The answer of a change, as every mutating tool of this crate gives it, so that an approval
/// request reads the same for any tool: a headline — under a dry run
/// `DRY RUN (server-side, nothing changed): would <what>` — then `--- diff ---` and the diff
/// (normally an [`object_diff`] of the object before and after a server-side dry run), with
/// `{"dry_run", "summary", "diff"}` as the structured content.
///
/// ```
/// use kagent_k8s::render::{change_report, object_diff};
/// use serde_json::json;
///
/// let before = json!({"kind": "Deployment", "spec": {"replicas": 1}});
/// let after = json!({"kind": "Deployment", "spec": {"replicas": 3}});
/// let diff = object_diff(Some(&before), Some(&after), false, false);
/// let out = change_report(true, "scale deployment.apps/web to 3", &diff);
/// let text = kagent_core::message::render_tool_content(&out.content);
/// assert!(text.starts_with("DRY RUN (server-side, nothing changed): would scale"));
/// assert!(text.contains("+  replicas: 3"));
/// ```
pub fn change_report(dry_run: bool, what: &str, diff: &str) -> ToolOutput {
    let mut text = if dry_run {
        format!("DRY RUN (server-side, nothing changed): would {what}")
    } else {
        what.to_owned()
    };
    text.push_str("\n--- diff ---\n");
    text.push_str(diff);
    ToolOutput::text(text)
        .with_structured(serde_json::json!({"dry_run": dry_run, "summary": what, "diff": diff}))
}

/// Cuts text to at most `max_chars`, at a line boundary, with a note of what was left out.
pub fn bound_text(text: String, max_chars: usize, how_to_see_more: &str) -> String {
    if text.len() <= max_chars {
        return text;
    }
    let mut cut = max_chars;
    while cut > 0 && !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = text.get(..cut).unwrap_or("");
    let head = match head.rfind('\n') {
        Some(nl) if nl > 0 => head.get(..nl).unwrap_or(head),
        _ => head,
    };
    let omitted_lines = text.lines().count().saturating_sub(head.lines().count());
    format!(
        "{head}\n... truncated: {omitted_lines} more lines ({} more characters) not shown. {how_to_see_more}",
        text.len() - head.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ages_look_like_kubectl() {
        let now: jiff::Timestamp = "2026-01-10T12:00:00Z".parse().unwrap();
        assert_eq!(age("2026-01-10T11:59:30Z", now), "30s");
        assert_eq!(age("2026-01-10T11:30:00Z", now), "30m");
        assert_eq!(age("2026-01-10T06:00:00Z", now), "6h");
        assert_eq!(age("2026-01-01T12:00:00Z", now), "9d");
        assert_eq!(age("garbage", now), "-");
        assert_eq!(age("2026-01-10T12:00:10Z", now), "0s");
    }

    #[test]
    fn secrets_are_redacted_with_their_size() {
        let mut secret = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"password\":\"aHVudGVyMg==\"}}"
            }, "managedFields": [{}]},
            "data": {"password": "aHVudGVyMg=="},
            "stringData": {"token": "abc"}
        });
        sanitize(&mut secret, false);
        let text = secret.to_string();
        assert!(!text.contains("aHVudGVyMg"), "{text}");
        assert!(!text.contains("abc\""), "{text}");
        assert!(text.contains("<redacted: about 9 bytes>"), "{text}");
        assert!(secret["metadata"].get("managedFields").is_none());
        assert!(secret["metadata"].get("annotations").is_none());

        let mut allowed = json!({"apiVersion": "v1", "kind": "Secret", "data": {"k": "dg=="}});
        sanitize(&mut allowed, true);
        assert_eq!(allowed["data"]["k"], "dg==");

        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v"}});
        sanitize(&mut cm, false);
        assert_eq!(cm["data"]["k"], "v");
    }

    #[test]
    fn diffs_show_only_the_change() {
        let before = json!({"kind": "Deployment", "metadata": {"name": "web", "resourceVersion": "1"}, "spec": {"replicas": 1}});
        let after = json!({"kind": "Deployment", "metadata": {"name": "web", "resourceVersion": "2"}, "spec": {"replicas": 3}});
        let d = object_diff(Some(&before), Some(&after), false, false);
        assert!(d.contains("-  replicas: 1"), "{d}");
        assert!(d.contains("+  replicas: 3"), "{d}");
        assert!(!d.contains("resourceVersion"), "{d}");
        assert_eq!(
            object_diff(Some(&before), Some(&before), false, false),
            "(no changes)"
        );
        let created = object_diff(None, Some(&after), false, false);
        assert!(created.contains("+kind: Deployment"), "{created}");
    }

    #[test]
    fn bounded_text_says_what_was_cut() {
        let text = (0..100).map(|i| format!("line {i}\n")).collect::<String>();
        let out = bound_text(text.clone(), 50, "Ask for less.");
        assert!(out.len() < 200);
        assert!(out.contains("more lines"), "{out}");
        assert!(out.ends_with("Ask for less."));
        assert_eq!(bound_text(text.clone(), 10_000, ""), text);
    }
}
