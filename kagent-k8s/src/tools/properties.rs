//! Property tests of what the Kubernetes tools parse and render from untrusted input: label
//! pairs, manifests, service names and label selectors written by a model, and objects written
//! by whoever can create them (rendered as tables and descriptions). Nothing panics, failures
//! are [`K8sError`](crate::K8sError)s, output stays bounded, and a Secret's values never
//! survive sanitising.
//!
//! CI runs a small number of cases; `PROPTEST_CASES=50000 cargo test -p kagent-k8s --lib
//! properties --release` runs a long local session.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};

use super::connectivity::parse_service_name;
use super::write::{parse_manifests, parse_pairs};
use crate::labels::{label_selector, selector_matches};
use crate::render::{
    DescribeContext, bound_text, describe_object, one_line, sanitize, table_for, table_for_events,
};

fn config(cases: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    config
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("Running".to_owned()),
            Just("In".to_owned()),
            Just("NotIn".to_owned()),
            Just("Exists".to_owned()),
            Just("2026-12-05T10:00:00Z".to_owned()),
            Just("True".to_owned()),
            ".{0,16}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("metadata".to_owned()),
                    Just("name".to_owned()),
                    Just("labels".to_owned()),
                    Just("spec".to_owned()),
                    Just("status".to_owned()),
                    Just("containers".to_owned()),
                    Just("containerStatuses".to_owned()),
                    Just("conditions".to_owned()),
                    Just("state".to_owned()),
                    Just("lastState".to_owned()),
                    Just("terminated".to_owned()),
                    Just("waiting".to_owned()),
                    Just("ports".to_owned()),
                    Just("replicas".to_owned()),
                    Just("selector".to_owned()),
                    Just("matchLabels".to_owned()),
                    Just("matchExpressions".to_owned()),
                    Just("key".to_owned()),
                    Just("operator".to_owned()),
                    Just("values".to_owned()),
                    Just("data".to_owned()),
                    Just("creationTimestamp".to_owned()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Service",
    "Ingress",
    "Node",
    "Namespace",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "HorizontalPodAutoscaler",
    "ConfigMap",
    "Secret",
    "Event",
    "Widget",
];

fn object() -> impl Strategy<Value = Value> {
    (prop::sample::select(KINDS), json_value(), json_value(), json_value()).prop_map(
        |(kind, metadata, spec, status)| {
            json!({"apiVersion": "v1", "kind": kind, "metadata": metadata, "spec": spec, "status": status})
        },
    )
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_764_928_800).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn label_and_annotation_pairs_parse_or_fail(text in "([a-zA-Z0-9./_=, '\"\\\\-]|-){0,60}", labels in any::<bool>()) {
        if let Ok(map) = parse_pairs(&text, labels) {
            prop_assert!(!map.is_empty());
            prop_assert!(map.len() <= text.len());
        }
    }

    #[test]
    fn manifests_parse_or_fail(text in prop_oneof![
        any::<String>(),
        prop::collection::vec(prop_oneof![
            Just("---\n"), Just("apiVersion: v1\n"), Just("kind: List\n"), Just("kind: PodList\n"),
            Just("items:\n"), Just("- "), Just("  "), Just("metadata: {name: a}\n"), Just("&a "),
            Just("*a\n"), Just("{"), Just("}"), Just("\n"), Just(": "), Just("kind: Pod\n"),
        ], 0..30).prop_map(|t| t.concat()),
    ]) {
        if let Ok(docs) = parse_manifests(&text) {
            prop_assert!(docs.len() <= text.len() + 1);
        }
    }

    #[test]
    fn service_names_split_without_panicking(text in ".{0,40}") {
        let (name, ns, port) = parse_service_name(&text);
        prop_assert!(name.len() + ns.map_or(0, |n| n.len()) + port.map_or(0, |p| p.len()) <= text.len());
    }

    #[test]
    fn label_selector_objects_parse_or_fail(selector in json_value(), labels in json_value()) {
        match label_selector(&selector) {
            Ok(parsed) => {
                let map = labels.as_object();
                let _ = selector_matches(&selector, map);
                let _ = parsed.to_string();
            }
            Err(e) => prop_assert!(e.to_string().len() <= 2 * selector.to_string().len() + 600),
        }
    }

    #[test]
    fn any_object_renders_as_a_table_and_a_description(items in prop::collection::vec(object(), 0..4), kind in prop::sample::select(KINDS), all in any::<bool>()) {
        let table = table_for(kind, &items, all, now()).render();
        let input: usize = items.iter().map(|i| i.to_string().len()).sum();
        prop_assert!(table.len() <= 4 * input + 2_000, "{} for {}", table.len(), input);
        let _ = table_for_events(&items, all, now()).render();
        for item in &items {
            let ctx = DescribeContext { events: items.clone(), max_events: 5, ..Default::default() };
            let text = describe_object(item, &ctx, now());
            prop_assert!(text.len() <= 8 * input + 4_000, "{} for {}", text.len(), input);
        }
    }

    #[test]
    fn secret_values_never_survive_sanitising(values in prop::collection::btree_map("[a-z]{1,6}", "[A-Za-z0-9+/=]{12,40}", 1..5), api in prop_oneof![Just("v1"), Just("")]) {
        let data: serde_json::Map<String, Value> = values.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let mut secret = json!({"apiVersion": api, "kind": "Secret", "metadata": {"name": "s"}, "data": data.clone(), "stringData": data});
        let original = secret.clone();
        sanitize(&mut secret, false);
        let text = secret.to_string();
        let described = describe_object(&original, &DescribeContext::default(), now());
        for v in values.values() {
            prop_assert!(!text.contains(v.as_str()), "{} in {}", v, text);
            prop_assert!(!described.contains(v.as_str()), "{} in {}", v, described);
        }
    }

    #[test]
    fn text_bounds_hold(text in any::<String>(), max in 0usize..400) {
        let bounded = bound_text(text.clone(), max, "ask for less");
        prop_assert!(bounded.len() <= max + 200, "{} > {}", bounded.len(), max);
        let line = one_line(&text, max);
        prop_assert!(line.chars().count() <= max.max(1));
    }
}
