//! Patch application: JSON merge patch (RFC 7386), JSON patch (RFC 6902), an approximation of
//! strategic merge patch and of server-side apply.

use serde_json::{Map, Value};

/// The patch flavours of `PATCH` requests, by `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchKind {
    /// `application/merge-patch+json`
    Merge,
    /// `application/json-patch+json`
    Json,
    /// `application/strategic-merge-patch+json`
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply)
    Apply,
}

impl PatchKind {
    pub(crate) fn from_content_type(ct: &str) -> Option<Self> {
        let base = ct.split(';').next().unwrap_or_default().trim();
        match base {
            "application/merge-patch+json" => Some(Self::Merge),
            "application/json-patch+json" => Some(Self::Json),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// Applies `patch` (already parsed) to `target`. Errors are messages for a `BadRequest`/`Invalid` status.
pub(crate) fn apply_patch(kind: PatchKind, target: &Value, patch: &Value) -> Result<Value, String> {
    let mut out = target.clone();
    match kind {
        PatchKind::Merge => {
            if !patch.is_object() {
                return Err("merge patch must be a JSON object".into());
            }
            json_patch::merge(&mut out, patch);
        }
        PatchKind::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| format!("invalid JSON patch: {e}"))?;
            // On a copy, so a failed patch needs no undo: `json_patch::patch` panics when its
            // undo fails (a `move` into a value's own child after an earlier operation).
            json_patch::patch_unsafe(&mut out, &ops)
                .map_err(|e| format!("the JSON patch failed: {e}"))?;
        }
        PatchKind::Strategic | PatchKind::Apply => {
            if !patch.is_object() {
                return Err("strategic merge patch must be a JSON object".into());
            }
            strategic_merge(&mut out, patch);
        }
    }
    Ok(out)
}

/// The merge key of a list field, as the built-in types' `patchMergeKey` tags say.
fn merge_key(field: &str, items: &[Value]) -> Option<&'static str> {
    let has = |k: &str| items.iter().all(|i| i.get(k).is_some());
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "hostAliases" => Some("ip"),
        "ownerReferences" => Some("uid"),
        "conditions" => Some("type"),
        "topologySpreadConstraints" => Some("topologyKey"),
        "ports" if has("containerPort") => Some("containerPort"),
        "ports" if has("port") => Some("port"),
        // approximation: unknown lists of named objects merge by name
        _ if !items.is_empty() && items.iter().all(Value::is_object) && has("name") => Some("name"),
        _ => None,
    }
}

/// Lists of scalars whose patch strategy is `merge` (union instead of replace).
fn merges_primitives(field: &str) -> bool {
    field == "finalizers"
}

/// Removes patch directives and `null`s from a value that is inserted as a whole.
fn clean(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, v)| !k.starts_with('$') && !v.is_null())
                .map(|(k, v)| (k.clone(), clean(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .filter(|v| v.get("$patch").and_then(Value::as_str) != Some("delete"))
                .map(clean)
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Approximate strategic merge: maps merge recursively, `null` deletes, lists of objects with
/// a known merge key (or a `name`) merge item by item (`$patch: delete` removes one), other lists
/// are replaced; `$setElementOrder/*` and `$retainKeys` are accepted and ignored,
/// `$deleteFromPrimitiveList/*` is honoured.
pub(crate) fn strategic_merge(target: &mut Value, patch: &Value) {
    let Some(pm) = patch.as_object() else {
        *target = clean(patch);
        return;
    };
    if pm.get("$patch").and_then(Value::as_str) == Some("replace") {
        *target = clean(patch);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(tm) = target.as_object_mut() else {
        return;
    };
    for (k, v) in pm {
        if let Some(list) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(cur)), Some(del)) = (tm.get_mut(list), v.as_array()) {
                cur.retain(|x| !del.contains(x));
            }
            continue;
        }
        if k.starts_with('$') {
            continue;
        }
        match v {
            Value::Null => {
                tm.remove(k);
            }
            Value::Object(_) => {
                let slot = tm.entry(k.clone()).or_insert(Value::Null);
                if slot.is_object() {
                    strategic_merge(slot, v);
                } else {
                    *slot = clean(v);
                }
            }
            Value::Array(items) => {
                let slot = tm.entry(k.clone()).or_insert(Value::Null);
                merge_list(slot, items, k);
            }
            other => {
                tm.insert(k.clone(), other.clone());
            }
        }
    }
}

fn merge_list(slot: &mut Value, items: &[Value], field: &str) {
    if merges_primitives(field) {
        let mut cur = slot.as_array().cloned().unwrap_or_default();
        for i in items {
            if !cur.contains(i) {
                cur.push(i.clone());
            }
        }
        *slot = Value::Array(cur);
        return;
    }
    let Some(key) = merge_key(field, items) else {
        *slot = clean(&Value::Array(items.to_vec()));
        return;
    };
    let mut cur = match slot {
        Value::Array(a) => std::mem::take(a),
        _ => Vec::new(),
    };
    for item in items {
        let Some(id) = item.get(key) else {
            cur.push(clean(item));
            continue;
        };
        let pos = cur.iter().position(|c| c.get(key) == Some(id));
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(p), true) => {
                cur.remove(p);
            }
            (None, true) => {}
            (Some(p), false) => {
                if let Some(existing) = cur.get_mut(p) {
                    strategic_merge(existing, item);
                }
            }
            (None, false) => cur.push(clean(item)),
        }
    }
    *slot = Value::Array(cur);
}

/// Server-side apply's removal rule, approximated: a strategic patch that deletes what the
/// same field manager applied last time (`prev`) but no longer applies (`now`) — map keys
/// become `null`, keyed list items get `$patch: delete`.
pub(crate) fn removal_patch(prev: &Value, now: &Value) -> Value {
    let mut out = Map::new();
    let (Some(p), Some(n)) = (prev.as_object(), now.as_object()) else {
        return Value::Object(out);
    };
    for (k, pv) in p {
        if k.starts_with('$') {
            continue;
        }
        let Some(nv) = n.get(k) else {
            out.insert(k.clone(), Value::Null);
            continue;
        };
        match (pv, nv) {
            (Value::Object(_), Value::Object(_)) => {
                let sub = removal_patch(pv, nv);
                if sub.as_object().is_some_and(|m| !m.is_empty()) {
                    out.insert(k.clone(), sub);
                }
            }
            (Value::Array(pa), Value::Array(na)) => {
                let Some(key) = merge_key(k, pa) else {
                    continue;
                };
                let mut items = Vec::new();
                for old in pa {
                    let Some(id) = old.get(key) else {
                        continue;
                    };
                    match na.iter().find(|x| x.get(key) == Some(id)) {
                        None => {
                            let mut m = Map::new();
                            m.insert(key.to_string(), id.clone());
                            m.insert("$patch".into(), Value::String("delete".into()));
                            items.push(Value::Object(m));
                        }
                        Some(new) => {
                            if let Value::Object(mut m) = removal_patch(old, new)
                                && !m.is_empty()
                            {
                                m.insert(key.to_string(), id.clone());
                                items.push(Value::Object(m));
                            }
                        }
                    }
                }
                if !items.is_empty() {
                    out.insert(k.clone(), Value::Array(items));
                }
            }
            _ => {}
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merges_containers_by_name() {
        let target = json!({"spec": {"containers": [
            {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
            {"name": "sidecar", "image": "side:1"}
        ]}});
        let patch = json!({"spec": {"containers": [
            {"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}]},
            {"name": "sidecar", "$patch": "delete"}
        ], "$setElementOrder/containers": [{"name": "app"}]}});
        let out = apply_patch(PatchKind::Strategic, &target, &patch).unwrap();
        assert_eq!(
            out,
            json!({"spec": {"containers": [
                {"name": "app", "image": "app:2", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
            ]}})
        );
    }

    #[test]
    fn strategic_null_deletes_and_scalars_replace() {
        let target = json!({"metadata": {"labels": {"a": "1", "b": "2"}, "finalizers": ["x"]}, "spec": {"args": ["a", "b"]}});
        let patch = json!({"metadata": {"labels": {"a": null, "c": "3"}, "finalizers": ["y"]}, "spec": {"args": ["c"]}});
        let out = apply_patch(PatchKind::Strategic, &target, &patch).unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"labels": {"b": "2", "c": "3"}, "finalizers": ["x", "y"]}, "spec": {"args": ["c"]}})
        );
        let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["x"]}});
        let out = apply_patch(PatchKind::Strategic, &target, &patch).unwrap();
        assert_eq!(out.pointer("/metadata/finalizers"), Some(&json!([])));
    }

    #[test]
    fn merge_and_json_patches() {
        let target = json!({"a": {"b": 1, "c": [1, 2]}});
        let out = apply_patch(
            PatchKind::Merge,
            &target,
            &json!({"a": {"b": null, "c": [3]}}),
        )
        .unwrap();
        assert_eq!(out, json!({"a": {"c": [3]}}));
        let out = apply_patch(
            PatchKind::Json,
            &target,
            &json!([{"op": "replace", "path": "/a/b", "value": 5}, {"op": "add", "path": "/a/c/-", "value": 9}]),
        )
        .unwrap();
        assert_eq!(out, json!({"a": {"b": 5, "c": [1, 2, 9]}}));
        assert!(
            apply_patch(
                PatchKind::Json,
                &target,
                &json!([{"op": "remove", "path": "/nope"}])
            )
            .is_err()
        );
        assert!(apply_patch(PatchKind::Json, &target, &json!({"op": "x"})).is_err());
        assert!(apply_patch(PatchKind::Merge, &target, &json!([1])).is_err());
    }

    #[test]
    fn apply_removes_what_the_manager_stopped_applying() {
        let prev = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"containers": [
            {"name": "app", "image": "x", "args": ["-v"]}, {"name": "side", "image": "y"}]}});
        let now = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "app", "image": "x"}]}});
        let rm = removal_patch(&prev, &now);
        assert_eq!(
            rm,
            json!({"metadata": {"labels": {"b": null}}, "spec": {"containers": [
                {"args": null, "name": "app"}, {"name": "side", "$patch": "delete"}]}})
        );
        let mut live = json!({"metadata": {"labels": {"a": "1", "b": "2", "other": "kept"}}, "spec": {"containers": [
            {"name": "app", "image": "x", "args": ["-v"], "resources": {}}, {"name": "side", "image": "y"}]}});
        strategic_merge(&mut live, &rm);
        assert_eq!(
            live,
            json!({"metadata": {"labels": {"a": "1", "other": "kept"}}, "spec": {"containers": [
                {"name": "app", "image": "x", "resources": {}}]}})
        );
        assert_eq!(removal_patch(&json!(1), &json!({})), json!({}));
    }

    #[test]
    fn content_types() {
        assert_eq!(
            PatchKind::from_content_type("application/strategic-merge-patch+json; charset=utf-8"),
            Some(PatchKind::Strategic)
        );
        assert_eq!(
            PatchKind::from_content_type("application/apply-patch+yaml"),
            Some(PatchKind::Apply)
        );
        assert_eq!(PatchKind::from_content_type("text/plain"), None);
    }
}
