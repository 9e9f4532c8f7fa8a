//! Plumbing shared by the tool families that work on the Kubernetes API (Istio, NetworkPolicy /
//! Cilium): reading JSON objects, label selectors, and the tool declaration macro.

use serde_json::{Map, Value};

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

/// An optional string argument, empty meaning absent (kagent's tools send `""`).
pub(crate) fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
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

/// Declares a tool struct holding the family's shared settings (`$shared`), and its
/// [`kagent_core::TypedTool`] impl with an `execute_tool` span and cancellation; the body is
/// `async fn exec(&self, args, ctx) -> Result<ToolOutput, $err>` on the struct, and `$err` has
/// `into_tool_error(self, tool) -> ToolError`.
macro_rules! kube_tool {
    ($(#[$meta:meta])* $ty:ident, $shared:ty, $err:ty, $name:literal, $effect:expr, $args:ty, $desc:expr) => {
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
                    "k8s.dry_run" = ctx.dry_run,
                );
                let cancel = ctx.cancellation.clone();
                let work = self.exec(args, &ctx).instrument(span);
                tokio::select! {
                    res = work => res.map_err(|e: $err| e.into_tool_error($name)),
                    () = cancel.cancelled() => Err(kagent_core::ToolError::Cancelled),
                }
            }
        }
    };
}
pub(crate) use kube_tool;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
