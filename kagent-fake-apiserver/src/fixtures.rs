//! Loading YAML fixtures (multi-document streams) into the fake, with pod logs and
//! timestamps made relative to the moment of loading.

use std::sync::Arc;

use serde::Deserialize as _;
use serde_json::Value;

use super::FakeError;
use super::server::Shared;
use super::store::{ApiError, State, WriteOpts};

/// The built-in broken-workloads scenario (see `fixtures/scenario.yaml`).
pub const SCENARIO_YAML: &str = include_str!("../fixtures/scenario.yaml");

/// The instant that [`SCENARIO_YAML`]'s timestamps treat as "now"; loading with
/// `FakeCluster::load_scenario` moves it to the current time.
pub const SCENARIO_NOW: &str = "2025-06-01T12:00:00Z";

/// `apiVersion` of the pseudo-kind `PodLogs` that attaches container logs.
const LOGS_API_VERSION: &str = "testing.kagent.dev/v1";

fn parse_ts(s: &str) -> Option<jiff::Timestamp> {
    let b = s.as_bytes();
    if s.len() < 20 || b.get(10) != Some(&b'T') || !s.ends_with('Z') || b.get(4) != Some(&b'-') {
        return None;
    }
    s.parse().ok()
}

fn shift_str(s: &str, offset: i64) -> Option<String> {
    let t = parse_ts(s)?;
    let shifted = t
        .checked_add(jiff::SignedDuration::from_secs(offset))
        .ok()?;
    Some(shifted.to_string())
}

/// Moves every timestamp string in `v` by `offset` seconds (in logs: whitespace-separated
/// timestamp tokens).
fn shift(v: &mut Value, offset: i64) {
    match v {
        Value::String(s) => {
            if let Some(n) = shift_str(s, offset) {
                *s = n;
            } else if s.contains('\n') {
                *s = shift_text(s, offset);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| shift(x, offset)),
        Value::Object(m) => m.values_mut().for_each(|x| shift(x, offset)),
        _ => {}
    }
}

fn shift_text(text: &str, offset: i64) -> String {
    text.split('\n')
        .map(|line| {
            line.split(' ')
                .map(|tok| shift_str(tok, offset).unwrap_or_else(|| tok.to_string()))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn rejected(obj: &Value, e: ApiError) -> FakeError {
    let s = |p: &str| {
        obj.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    FakeError::Rejected {
        object: format!(
            "{} {}/{}",
            s("/kind"),
            s("/metadata/namespace"),
            s("/metadata/name")
        ),
        code: e.code,
        reason: e.reason.to_string(),
        message: e.message,
    }
}

fn priority(v: &Value) -> u8 {
    match v.get("kind").and_then(Value::as_str) {
        Some("Namespace") => 0,
        Some("CustomResourceDefinition") => 1,
        Some("PodLogs") => 3,
        _ => 2,
    }
}

/// Creates or replaces one object as given, with the store already locked.
fn upsert_locked(st: &mut State, mut obj: Value, index: usize) -> Result<Value, FakeError> {
    let api_version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| FakeError::Fixture {
            index,
            message: "apiVersion is missing".into(),
        })?
        .to_string();
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| FakeError::Fixture {
            index,
            message: "kind is missing".into(),
        })?
        .to_string();
    let ri = st.find_kind(&api_version, &kind).ok_or_else(|| FakeError::Fixture {
        index,
        message: format!(
            "the fake API server does not serve kind {kind} in {api_version} (create its CustomResourceDefinition first)"
        ),
    })?;
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let ns = if ri.namespaced {
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("namespace".into(), Value::String(ns.clone()));
        }
        ns
    } else {
        String::new()
    };
    match st.get_raw(&ri, &ns, &name).cloned() {
        Some(existing) => {
            if let (Some(m), Some(uid)) = (
                obj.get_mut("metadata").and_then(Value::as_object_mut),
                existing.pointer("/metadata/uid"),
            ) {
                m.entry("uid").or_insert_with(|| uid.clone());
                m.remove("resourceVersion");
            }
            st.replace_raw(&ri, &ns, &name, existing, obj.clone())
                .map_err(|e| rejected(&obj, e))
        }
        None => st
            .create(
                &ri,
                Some(&ns).filter(|_| ri.namespaced).map(String::as_str),
                obj.clone(),
                &WriteOpts::default(),
            )
            .map_err(|e| rejected(&obj, e)),
    }
}

pub(crate) fn upsert(shared: &Arc<Shared>, obj: Value, index: usize) -> Result<Value, FakeError> {
    upsert_locked(&mut shared.lock(), obj, index)
}

fn attach_logs(st: &mut State, doc: &Value, index: usize) -> Result<(), FakeError> {
    let ns = doc
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let pod = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .ok_or_else(|| FakeError::Fixture {
            index,
            message: "PodLogs needs metadata.name (the pod)".into(),
        })?;
    let containers = doc
        .get("containers")
        .and_then(Value::as_array)
        .ok_or_else(|| FakeError::Fixture {
            index,
            message: "PodLogs needs a containers list".into(),
        })?;
    for c in containers {
        let name = c
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| FakeError::Fixture {
                index,
                message: "PodLogs containers[].name is missing".into(),
            })?;
        if let Some(t) = c.get("current").and_then(Value::as_str) {
            st.set_log(ns, pod, name, false, t.to_string());
        }
        if let Some(t) = c.get("previous").and_then(Value::as_str) {
            st.set_log(ns, pod, name, true, t.to_string());
        }
    }
    Ok(())
}

/// Loads a YAML stream; `now` makes timestamps relative (see `FakeCluster::load_yaml_relative`).
pub(crate) fn load(
    shared: &Arc<Shared>,
    yaml: &str,
    now: Option<&str>,
) -> Result<usize, FakeError> {
    let offset = match now {
        Some(n) => {
            let t = parse_ts(n).ok_or_else(|| FakeError::Fixture {
                index: 0,
                message: format!("reference time {n:?} is not a YYYY-MM-DDTHH:MM:SSZ timestamp"),
            })?;
            Some(jiff::Timestamp::now().as_second() - t.as_second())
        }
        None => None,
    };
    let mut docs: Vec<(usize, Value)> = Vec::new();
    for (index, de) in serde_yaml::Deserializer::from_str(yaml).enumerate() {
        let mut v = Value::deserialize(de).map_err(|source| FakeError::Yaml { index, source })?;
        if v.is_null() {
            continue;
        }
        if !v.is_object() {
            return Err(FakeError::Fixture {
                index,
                message: "a document must be a mapping".into(),
            });
        }
        if let Some(off) = offset {
            shift(&mut v, off);
        }
        if v.get("kind").and_then(Value::as_str) == Some("List") {
            for item in v
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                docs.push((index, item));
            }
        } else {
            docs.push((index, v));
        }
    }
    docs.sort_by_key(|(_, v)| priority(v));
    let mut st = shared.lock();
    let n = docs.len();
    for (index, doc) in docs {
        let is_logs = doc.get("kind").and_then(Value::as_str) == Some("PodLogs")
            && doc.get("apiVersion").and_then(Value::as_str) == Some(LOGS_API_VERSION);
        if is_logs {
            attach_logs(&mut st, &doc, index)?;
        } else {
            upsert_locked(&mut st, doc, index)?;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_shift() {
        let mut v = json!({"a": "2025-06-01T11:00:00Z", "b": ["2025-06-01T12:00:00Z", "x"], "c": "not 2025-06-01T11:00:00Z",
                           "log": "2025-06-01T11:59:00.250Z ERROR boom\nplain line"});
        shift(&mut v, 3600);
        assert_eq!(v["a"], "2025-06-01T12:00:00Z");
        assert_eq!(v["b"][0], "2025-06-01T13:00:00Z");
        assert_eq!(v["c"], "not 2025-06-01T11:00:00Z");
        assert_eq!(v["log"], "2025-06-01T12:59:00.25Z ERROR boom\nplain line");
    }

    #[test]
    fn scenario_is_valid_yaml_with_known_kinds() {
        let st = State::new(10);
        let mut count = 0;
        for de in serde_yaml::Deserializer::from_str(SCENARIO_YAML) {
            let v = Value::deserialize(de).unwrap();
            let av = v["apiVersion"].as_str().unwrap();
            let kind = v["kind"].as_str().unwrap();
            assert!(
                kind == "PodLogs" || st.find_kind(av, kind).is_some(),
                "{av} {kind}"
            );
            count += 1;
        }
        assert!(count > 40, "{count}");
    }
}
