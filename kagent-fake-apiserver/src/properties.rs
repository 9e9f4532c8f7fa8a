//! Property tests of the parsers that read what a client sends: label and field selectors and
//! patches. Arbitrary input never panics, a rejection is an error message for a `Status`, and a
//! parsed label selector survives its own query-string form unchanged.
//!
//! CI runs a small number of cases; `PROPTEST_CASES=100000 cargo test -p kagent-fake-apiserver
//! --lib properties --release` runs a long local session.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};

use crate::patch::{PatchKind, apply_patch};
use crate::selector::{FieldSelector, LabelSelector};

fn config(cases: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    config
}

/// Selector-shaped text: the grammar's tokens mixed with arbitrary characters.
fn selector_text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("app".to_owned()),
        Just("tier".to_owned()),
        Just("kagent.dev/x".to_owned()),
        Just("=".to_owned()),
        Just("==".to_owned()),
        Just("!=".to_owned()),
        Just("!".to_owned()),
        Just(",".to_owned()),
        Just(" in ".to_owned()),
        Just(" notin ".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just(">".to_owned()),
        Just("<".to_owned()),
        Just(" ".to_owned()),
        Just("/".to_owned()),
        "[a-z0-9.-]{0,8}",
        "-?[0-9]{1,20}",
        ".{0,4}",
    ];
    prop::collection::vec(token, 0..16).prop_map(|t| t.concat())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-z0-9/~-]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("metadata".to_owned()),
                    Just("labels".to_owned()),
                    Just("containers".to_owned()),
                    Just("name".to_owned()),
                    Just("$patch".to_owned()),
                    Just("$retainKeys".to_owned()),
                    Just("$setElementOrder/containers".to_owned()),
                    Just("op".to_owned()),
                    Just("path".to_owned()),
                    Just("value".to_owned()),
                    Just("from".to_owned()),
                    "[a-z]{1,5}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// JSON patch operations with plausible paths.
fn json_patch_ops() -> impl Strategy<Value = Value> {
    let op = prop_oneof![
        Just("add"),
        Just("remove"),
        Just("replace"),
        Just("move"),
        Just("copy"),
        Just("test"),
        Just("nope"),
    ];
    let path = prop_oneof![
        Just("".to_owned()),
        Just("/".to_owned()),
        Just("/metadata/labels/a".to_owned()),
        Just("/spec/containers/0".to_owned()),
        Just("/spec/containers/-".to_owned()),
        Just("/spec/containers/99999999999999999999".to_owned()),
        Just("/a~1b/~0c".to_owned()),
        "(/[a-z0-9~-]{0,4}){0,4}",
    ];
    prop::collection::vec((op, path.clone(), path, json_value()), 0..6).prop_map(|ops| {
        Value::Array(
            ops.into_iter()
                .map(|(op, path, from, value)| json!({"op": op, "path": path, "from": from, "value": value}))
                .collect(),
        )
    })
}

fn pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "a:1", "ports": [{"containerPort": 80}]}]},
    })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn label_selectors_parse_or_fail_and_round_trip(text in selector_text(), labels in prop::collection::btree_map("[a-z]{1,4}", "[a-z0-9]{0,4}", 0..4)) {
        if let Ok(parsed) = LabelSelector::parse(&text) {
            let again = LabelSelector::parse(&parsed.to_query_string());
            prop_assert_eq!(again.as_ref(), Ok(&parsed), "{:?} -> {:?}", text, parsed.to_query_string());
            let obj = json!({"metadata": {"labels": labels}});
            let _ = parsed.matches(&obj);
        }
    }

    #[test]
    fn arbitrary_text_is_a_label_selector_or_an_error(text in any::<String>()) {
        if let Err(e) = LabelSelector::parse(&text) {
            prop_assert!(!e.is_empty());
            prop_assert!(e.len() <= text.len() + 100, "{} for {}", e.len(), text.len());
        }
    }

    #[test]
    fn field_selectors_parse_or_fail(text in selector_text(), custom in any::<bool>(), obj in json_value()) {
        for (group, plural) in [("", "pods"), ("", "events"), ("apps", "deployments")] {
            if let Ok(parsed) = FieldSelector::parse(&text, group, plural, custom) {
                let _ = parsed.matches(&obj);
            }
        }
    }

    #[test]
    fn selectors_from_objects_never_panic(sel in json_value(), obj in json_value()) {
        let parsed = LabelSelector::from_label_selector_object(&sel);
        let _ = parsed.matches(&obj);
        let _ = LabelSelector::parse(&parsed.to_query_string());
    }

    #[test]
    fn merge_and_strategic_patches_apply_or_fail(patch in json_value(), target in prop_oneof![Just(pod()), json_value()]) {
        for kind in [PatchKind::Merge, PatchKind::Strategic, PatchKind::Apply] {
            if let Ok(out) = apply_patch(kind, &target, &patch) {
                // A merge never makes more than the target and the patch hold.
                let (t, p, o) = (target.to_string().len(), patch.to_string().len(), out.to_string().len());
                prop_assert!(o <= t + p + 64, "{kind:?}: {o} > {t} + {p}");
            }
        }
    }

    #[test]
    fn json_patches_apply_or_fail(ops in json_patch_ops(), target in prop_oneof![Just(pod()), json_value()]) {
        let _ = apply_patch(PatchKind::Json, &target, &ops);
    }
}

/// Found by `json_patches_apply_or_fail`: a failing operation after a `move` of the whole
/// document made `json_patch::patch`'s undo panic (`unreachable!`), killing the request.
#[test]
fn a_failed_json_patch_after_a_move_is_an_error_not_a_panic() {
    let ops = json!([
        {"op": "move", "from": "/spec/containers/0", "path": ""},
        {"op": "add", "from": "", "path": "/metadata/labels/a", "value": null},
    ]);
    let err = apply_patch(PatchKind::Json, &pod(), &ops).unwrap_err();
    assert!(err.contains("the JSON patch failed"), "{err}");
}
