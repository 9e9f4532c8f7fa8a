//! What every tool family of this crate shares, HTTP-based (Prometheus, Alertmanager, Grafana)
//! and Kubernetes-based (Helm, Argo Rollouts, Istio, NetworkPolicy / Cilium): the tool
//! declaration (a struct holding the family's shared settings and its
//! [`kagent_core::TypedTool`] impl with an `execute_tool` span and cancellation), argument
//! helpers and checks, and, for the Kubernetes families, reading plain JSON objects and label
//! selectors.

use serde_json::{Map, Value};

/// Declares `$ty(Arc<$shared>)` and its `TypedTool` impl; the body is
/// `async fn exec(&self, args, ctx: &ToolContext) -> Result<ToolOutput, E>` on the struct, where
/// `E` has `fn into_tool_error(self, tool: &str) -> ToolError` (`HttpToolError`, `HelmError`,
/// `ArgoError`, `IstioError`, ...). Spans carry OpenTelemetry GenAI attribute names;
/// cancellation of the call's context stops the work and answers `ToolError::Cancelled`.
macro_rules! family_tool {
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
pub(crate) use family_tool;

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

/// Checks a namespace argument: `Err(message)` saying what is wrong when it is not a DNS-1123
/// label, for the family's "invalid argument" error.
pub(crate) fn check_namespace(ns: &str) -> Result<(), String> {
    if is_dns_label(ns) {
        Ok(())
    } else {
        Err(format!(
            "{ns:?} is not a valid namespace (lowercase letters, digits and '-', at most 63)"
        ))
    }
}

/// Checks an object name argument: `Err(message)` saying what is wrong when it is not a
/// DNS-1123 subdomain, for the family's "invalid argument" error.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if is_dns_subdomain(name) {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid object name (lowercase letters, digits, '-' and '.')"
        ))
    }
}

// Kubernetes objects as plain JSON (Istio, NetworkPolicy / Cilium).

/// A string at a JSON pointer, `""` when absent.
pub(crate) fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// An array at a JSON pointer, empty when absent.
pub(crate) fn arr<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// An object at a JSON pointer.
pub(crate) fn obj<'a>(v: &'a Value, ptr: &str) -> Option<&'a Map<String, Value>> {
    v.pointer(ptr).and_then(Value::as_object)
}

/// `metadata.namespace`.
pub(crate) fn ns_of(v: &Value) -> &str {
    s(v, "/metadata/namespace")
}

/// `metadata.name`.
pub(crate) fn name_of(v: &Value) -> &str {
    s(v, "/metadata/name")
}

/// `metadata.labels`.
pub(crate) fn labels_of(v: &Value) -> Option<&Map<String, Value>> {
    obj(v, "/metadata/labels")
}

/// Whether a plain `key: value` map (Istio's `matchLabels`, a Service selector) selects `labels`;
/// an empty map selects everything (kube-core's selector semantics, through `kagent_k8s::labels`).
pub(crate) fn map_selects(
    selector: &Map<String, Value>,
    labels: Option<&Map<String, Value>>,
) -> bool {
    kagent_k8s::labels::selector_matches(&serde_json::json!({"matchLabels": selector}), labels)
}

/// `k=v,k2=v2` for a label map.
pub(crate) fn fmt_labels(m: &Map<String, Value>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(",")
}

/// A LabelSelector (`matchLabels` and `matchExpressions`) in kubectl's notation.
pub(crate) fn fmt_selector(sel: &Value) -> String {
    let mut parts: Vec<String> = obj(sel, "/matchLabels")
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    for e in arr(sel, "/matchExpressions") {
        let values: Vec<&str> = arr(e, "/values").iter().filter_map(Value::as_str).collect();
        let key = s(e, "/key");
        parts.push(match s(e, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_owned(),
            "DoesNotExist" => format!("!{key}"),
            op => format!("{key} {op} ({})", values.join(",")),
        });
    }
    if parts.is_empty() {
        "<all>".to_owned()
    } else {
        parts.join(",")
    }
}

/// Whether a pod runs an Istio sidecar: an `istio-proxy` container, or a native sidecar
/// (`istio-proxy` init container, Istio 1.19+ on Kubernetes 1.28+).
pub(crate) fn has_istio_proxy(pod: &Value) -> bool {
    arr(pod, "/spec/containers")
        .iter()
        .chain(arr(pod, "/spec/initContainers"))
        .any(|c| s(c, "/name") == "istio-proxy")
}

/// Whether a pod counts for policy analysis: not finished (`Succeeded` / `Failed`).
pub(crate) fn pod_is_live(pod: &Value) -> bool {
    !matches!(s(pod, "/status/phase"), "Succeeded" | "Failed")
}

/// Namespaces that belong to Kubernetes itself.
pub(crate) const SYSTEM_NAMESPACES: &[&str] = &[
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "local-path-storage",
];

/// Up to `max` items joined with `, `, with `(+N more)` when cut.
pub(crate) fn join_bounded<I, S>(items: I, max: usize) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let all: Vec<String> = items.into_iter().map(|s| s.as_ref().to_owned()).collect();
    let shown: Vec<&str> = all.iter().take(max).map(String::as_str).collect();
    let mut out = shown.join(", ");
    if all.len() > max {
        out.push_str(&format!(" (+{} more)", all.len() - max));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn selectors_print_like_kubectl() {
        let sel = json!({"matchLabels": {"app": "web"}, "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["a", "b"]},
            {"key": "canary", "operator": "DoesNotExist"}
        ]});
        assert_eq!(fmt_selector(&sel), "app=web,tier in (a,b),!canary");
        assert_eq!(fmt_selector(&json!({})), "<all>");
        assert_eq!(join_bounded(["a", "b", "c"], 2), "a, b (+1 more)");
        let m = json!({"app": "web"});
        let labels = json!({"app": "web", "v": "1"});
        assert!(map_selects(m.as_object().unwrap(), labels.as_object()));
        assert!(!map_selects(m.as_object().unwrap(), None));
        assert!(map_selects(json!({}).as_object().unwrap(), None));
    }

    #[test]
    fn sidecars_are_found_in_containers_and_native_sidecars() {
        let classic = json!({"spec": {"containers": [{"name": "app"}, {"name": "istio-proxy"}]}});
        let native = json!({"spec": {"containers": [{"name": "app"}], "initContainers": [{"name": "istio-proxy", "restartPolicy": "Always"}]}});
        let none = json!({"spec": {"containers": [{"name": "app"}]}});
        assert!(has_istio_proxy(&classic) && has_istio_proxy(&native) && !has_istio_proxy(&none));
    }
}
