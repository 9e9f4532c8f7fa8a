//! Label selection on objects handled as JSON, with kube's own [`Selector`] (from `kube::core`),
//! so this crate, the fake API server's clients and the tool families built on it share one
//! implementation of Kubernetes' selector semantics.
//!
//! ```
//! use kagent_k8s::labels::{label_selector, selects};
//! use serde_json::json;
//!
//! let deployment = json!({"spec": {"selector": {
//!     "matchLabels": {"app": "web"},
//!     "matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}]
//! }}});
//! let selector = label_selector(&deployment["spec"]["selector"])?;
//! assert_eq!(selector.to_string(), "app=web,track notin (canary)");
//! let pod = json!({"metadata": {"labels": {"app": "web", "track": "stable"}}});
//! assert!(selects(&selector, &pod));
//! # Ok::<(), kagent_k8s::K8sError>(())
//! ```

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use kube::api::ListParams;
use serde_json::{Map, Value};

use crate::error::{K8sError, Result};

pub use kube::core::{Expression, Selector, SelectorExt};

/// Parses a `LabelSelector` object — a workload's `spec.selector`, a PodDisruptionBudget's
/// `selector`, a NetworkPolicy's `podSelector` — with its `matchLabels` and
/// `matchExpressions` (operators `In`, `NotIn`, `Exists`, `DoesNotExist`). An empty object
/// selects everything.
///
/// # Errors
///
/// [`K8sError::InvalidSelector`] when the value is not a `LabelSelector` object, an operator is
/// unknown, or `In`/`NotIn` comes without values.
pub fn label_selector(selector: &Value) -> Result<Selector> {
    let parsed: LabelSelector = serde_json::from_value(selector.clone()).map_err(|e| {
        invalid(
            selector,
            format!(
                "not a LabelSelector object ({e}); expected \
                 {{\"matchLabels\": {{\"key\": \"value\"}}, \"matchExpressions\": \
                 [{{\"key\": \"k\", \"operator\": \"In\", \"values\": [\"v\"]}}]}}"
            ),
            None,
        )
    })?;
    let mut out: Selector = parsed
        .match_labels
        .unwrap_or_default()
        .into_iter()
        .collect();
    for (n, requirement) in parsed
        .match_expressions
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        out.extend(expression(selector, n, requirement)?);
    }
    Ok(out)
}

/// One `matchExpressions` entry, with an error that names it.
fn expression(selector: &Value, n: usize, req: LabelSelectorRequirement) -> Result<Expression> {
    let where_ = format!(
        "matchExpressions[{n}] (key {:?}, operator {:?})",
        req.key, req.operator
    );
    let no_values = matches!(req.operator.as_str(), "In" | "NotIn")
        && req.values.as_ref().is_some_and(Vec::is_empty);
    match Expression::try_from(req) {
        Ok(_) if no_values => Err(invalid(
            selector,
            format!("{where_}: In and NotIn need at least one value"),
            None,
        )),
        Ok(e) => Ok(e),
        Err(source) => Err(invalid(
            selector,
            format!(
                "{where_}: the operator must be In or NotIn (with values), or Exists or \
                 DoesNotExist (without)"
            ),
            Some(source),
        )),
    }
}

/// A selector from a plain `key: value` map — a Service's `spec.selector`, or `matchLabels`
/// alone.
///
/// # Errors
///
/// [`K8sError::InvalidSelector`] when a value is not a string.
pub fn map_selector(map: &Map<String, Value>) -> Result<Selector> {
    map.iter()
        .map(|(k, v)| match v.as_str() {
            Some(v) => Ok((k.clone(), v.to_owned())),
            None => Err(invalid(
                &Value::Object(map.clone()),
                format!("the value of {k:?} is {v}, not a string"),
                None,
            )),
        })
        .collect()
}

/// The `LabelSelector` at a JSON pointer of `obj` (`/spec/selector`), or `None` when the object
/// has none or it selects everything — a list narrowed by it would be the same as one without.
///
/// # Errors
///
/// As [`label_selector`].
pub fn label_selector_at(obj: &Value, pointer: &str) -> Result<Option<Selector>> {
    match obj.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => label_selector(v).map(|s| (!s.selects_all()).then_some(s)),
    }
}

/// An object's labels (`metadata.labels`), as [`SelectorExt::matches`] takes them. Values that
/// are not strings (never sent by an API server) are left out.
pub fn labels_of(obj: &Value) -> BTreeMap<String, String> {
    obj.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(string_map)
        .unwrap_or_default()
}

fn string_map(map: &Map<String, Value>) -> BTreeMap<String, String> {
    map.iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect()
}

/// Whether `selector` selects `obj` (by its `metadata.labels`).
pub fn selects(selector: &Selector, obj: &Value) -> bool {
    selector.matches(&labels_of(obj))
}

/// List parameters that ask the API server for what `selector` selects (no label selector at
/// all when it selects everything).
pub fn list_params(selector: &Selector) -> ListParams {
    if selector.selects_all() {
        ListParams::default()
    } else {
        ListParams::default().labels_from(selector)
    }
}

/// Whether `labels` (an object's `metadata.labels`) satisfy a `LabelSelector` object. A
/// shorthand for [`label_selector`] and [`SelectorExt::matches`]: an empty selector matches
/// everything, and an invalid one matches nothing (call [`label_selector`] to learn why).
pub fn selector_matches(selector: &Value, labels: Option<&Map<String, Value>>) -> bool {
    label_selector(selector).is_ok_and(|s| s.matches(&labels.map(string_map).unwrap_or_default()))
}

fn invalid(
    selector: &Value,
    reason: String,
    source: Option<kube::core::ParseExpressionError>,
) -> K8sError {
    K8sError::InvalidSelector {
        selector: selector.to_string(),
        reason,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(labels: Value) -> Value {
        json!({"metadata": {"labels": labels}})
    }

    #[test]
    fn selectors_match_labels_and_expressions() {
        let sel = json!({"matchLabels": {"app": "a"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]},
            {"key": "canary", "operator": "DoesNotExist"}]});
        let l = json!({"app": "a", "tier": "fe"});
        assert!(selector_matches(&sel, l.as_object()));
        let l = json!({"app": "a", "tier": "db"});
        assert!(!selector_matches(&sel, l.as_object()));
        let l = json!({"app": "a", "tier": "fe", "canary": "1"});
        assert!(!selector_matches(&sel, l.as_object()));
        assert!(selector_matches(&json!({}), None));
    }

    #[test]
    fn each_match_expression_operator() {
        let one = |op: &str, values: Value| {
            let mut req = json!({"key": "tier", "operator": op});
            if !values.is_null() {
                req["values"] = values;
            }
            label_selector(&json!({"matchExpressions": [req]})).unwrap()
        };
        let (fe, db, none) = (
            pod(json!({"tier": "fe"})),
            pod(json!({"tier": "db"})),
            pod(json!({"app": "x"})),
        );

        let s = one("In", json!(["fe", "be"]));
        assert_eq!(s.to_string(), "tier in (be,fe)");
        assert!(selects(&s, &fe));
        assert!(!selects(&s, &db));
        assert!(!selects(&s, &none), "In needs the key");

        let s = one("NotIn", json!(["fe"]));
        assert_eq!(s.to_string(), "tier notin (fe)");
        assert!(!selects(&s, &fe));
        assert!(selects(&s, &db));
        assert!(selects(&s, &none), "NotIn holds without the key");

        let s = one("Exists", Value::Null);
        assert_eq!(s.to_string(), "tier");
        assert!(selects(&s, &fe) && selects(&s, &db));
        assert!(!selects(&s, &none));

        let s = one("DoesNotExist", Value::Null);
        assert_eq!(s.to_string(), "!tier");
        assert!(!selects(&s, &fe));
        assert!(selects(&s, &none));

        // Expressions and labels are ANDed.
        let s = label_selector(&json!({"matchLabels": {"app": "x"},
            "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}))
        .unwrap();
        assert!(selects(&s, &none));
        assert!(!selects(&s, &pod(json!({"app": "x", "tier": "fe"}))));
        assert!(!selects(&s, &pod(json!({"app": "y"}))));
    }

    #[test]
    fn invalid_selectors_are_typed_errors_that_say_what_to_write() {
        let unknown =
            json!({"matchExpressions": [{"key": "tier", "operator": "Equals", "values": ["fe"]}]});
        match label_selector(&unknown) {
            Err(K8sError::InvalidSelector {
                selector,
                reason,
                source,
            }) => {
                assert!(selector.contains("Equals"), "{selector}");
                assert!(reason.contains("matchExpressions[0]"), "{reason}");
                assert!(reason.contains("In or NotIn"), "{reason}");
                assert!(source.is_some());
            }
            other => panic!("{other:?}"),
        }
        // The same selector matches nothing through the lenient shorthand.
        assert!(!selector_matches(
            &unknown,
            json!({"tier": "fe"}).as_object()
        ));

        for bad in [
            json!({"matchExpressions": [{"key": "tier", "operator": "In"}]}),
            json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": []}]}),
            json!({"matchLabels": "app=web"}),
            json!("app=web"),
        ] {
            let err = label_selector(&bad).unwrap_err();
            assert!(
                matches!(err, K8sError::InvalidSelector { .. }),
                "{bad}: {err:?}"
            );
            let text = err.to_string();
            assert!(text.starts_with("invalid label selector"), "{text}");
        }
        let err = map_selector(json!({"app": 1}).as_object().unwrap()).unwrap_err();
        assert!(err.to_string().contains("not a string"), "{err}");
    }

    #[test]
    fn selectors_at_pointers_and_list_params() {
        let obj = json!({"spec": {"selector": {"matchLabels": {"app": "web", "tier": "fe"}}}});
        let sel = label_selector_at(&obj, "/spec/selector").unwrap().unwrap();
        assert_eq!(sel.to_string(), "app=web,tier=fe");
        assert_eq!(
            list_params(&sel).label_selector.as_deref(),
            Some("app=web,tier=fe")
        );
        assert!(
            label_selector_at(&json!({}), "/spec/selector")
                .unwrap()
                .is_none()
        );
        let empty = json!({"spec": {"selector": {}}});
        assert!(
            label_selector_at(&empty, "/spec/selector")
                .unwrap()
                .is_none()
        );
        assert!(list_params(&Selector::default()).label_selector.is_none());

        let svc = map_selector(json!({"app": "web"}).as_object().unwrap()).unwrap();
        assert!(selects(&svc, &pod(json!({"app": "web", "x": "y"}))));
        assert!(!selects(&svc, &pod(json!({"app": "wbe"}))));
        assert!(!selects(&svc, &json!({})));
    }
}
