//! Property tests of declaration loading: `read_yaml` on arbitrary text and on YAML-shaped
//! token soup, `decode` on arbitrary JSON, Go durations. Nothing panics, every failure is a
//! typed error naming its document, and what comes out stays proportional to what went in.
//!
//! CI runs a small number of cases; `PROPTEST_CASES=20000 cargo test -p kagent-api --test
//! properties --release` runs a long local session.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::Duration;

use kagent_api::common::GoDuration;
use kagent_api::{decode, read_yaml};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};

fn config(cases: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    config
}

/// Lines of YAML-ish text built from the tokens kagent declarations use.
fn yaml_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("---\n".to_owned()),
        Just("...\n".to_owned()),
        Just("apiVersion: kagent.dev/v1alpha2\n".to_owned()),
        Just("apiVersion: kagent.dev/v1alpha1\n".to_owned()),
        Just("apiVersion: v1\n".to_owned()),
        Just("kind: Agent\n".to_owned()),
        Just("kind: ModelConfig\n".to_owned()),
        Just("kind: RemoteMCPServer\n".to_owned()),
        Just("kind: ModelProviderConfig\n".to_owned()),
        Just("kind: List\nitems:\n".to_owned()),
        Just("metadata: {name: a, namespace: kagent}\n".to_owned()),
        Just("spec:\n".to_owned()),
        Just("  declarative:\n".to_owned()),
        Just("    modelConfig: default\n".to_owned()),
        Just("    systemMessage: |\n      hi {{include \"a/b\"}}\n".to_owned()),
        Just(
            "    tools:\n    - type: McpServer\n      mcpServer: {name: t, toolNames: [a]}\n"
                .to_owned()
        ),
        Just("  provider: anthropic\n".to_owned()),
        Just("  apiKeySecretRef: {name: s, key: k}\n".to_owned()),
        Just("  url: http://x\n  timeout: 5m0s\n".to_owned()),
        Just("  timeout: 99999999999999999999h\n".to_owned()),
        Just("- ".to_owned()),
        Just("  ".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("<<: *a\n".to_owned()),
        Just("!!binary ".to_owned()),
        Just("? ".to_owned()),
        Just(": ".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("#".to_owned()),
        Just("%YAML 1.2\n".to_owned()),
        Just("\t".to_owned()),
        Just("\n".to_owned()),
        "[a-zA-Z0-9 ]{0,8}",
        ".{0,3}",
    ];
    prop::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("kagent.dev/v1alpha2".to_owned()),
            Just("Agent".to_owned()),
            Just("ModelConfig".to_owned()),
            Just("RemoteMCPServer".to_owned()),
            Just("ModelProviderConfig".to_owned()),
            Just("Declarative".to_owned()),
            Just("BYO".to_owned()),
            Just("anthropic".to_owned()),
            Just("30s".to_owned()),
            ".{0,12}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("apiVersion".to_owned()),
                    Just("kind".to_owned()),
                    Just("metadata".to_owned()),
                    Just("name".to_owned()),
                    Just("spec".to_owned()),
                    Just("type".to_owned()),
                    Just("declarative".to_owned()),
                    Just("byo".to_owned()),
                    Just("tools".to_owned()),
                    Just("mcpServer".to_owned()),
                    Just("provider".to_owned()),
                    Just("model".to_owned()),
                    Just("apiKeySecretRef".to_owned()),
                    Just("url".to_owned()),
                    Just("timeout".to_owned()),
                    Just("headersFrom".to_owned()),
                    Just("systemMessage".to_owned()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A declaration-shaped object: the right apiVersion and kind around an arbitrary spec.
fn declaration() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just("Agent"),
            Just("ModelConfig"),
            Just("RemoteMCPServer"),
            Just("ModelProviderConfig")
        ],
        json_value(),
    )
        .prop_map(|(kind, spec)| {
            json!({
                "apiVersion": "kagent.dev/v1alpha2",
                "kind": kind,
                "metadata": {"name": "x", "namespace": "kagent"},
                "spec": spec,
            })
        })
}

fn check_bounded(text: &str) {
    let out = read_yaml(text);
    let documents = text.lines().count() + 1;
    let total = out.resources.len() + out.skipped.len() + out.errors.len();
    // One entry per document, or per item of a List (items are at least a line each).
    assert!(
        total <= documents * 2,
        "{total} entries for {documents} lines"
    );
    let reported: usize = out
        .errors
        .iter()
        .map(|e| e.to_string().len())
        .sum::<usize>()
        + out
            .skipped
            .iter()
            .map(|s| s.to_string().len())
            .sum::<usize>();
    assert!(
        reported <= 2_000 * (total + 1) + 4 * text.len(),
        "{reported} bytes of messages for {} bytes of input",
        text.len()
    );
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_text_reads_or_reports(text in any::<String>()) {
        check_bounded(&text);
    }

    #[test]
    fn yaml_shaped_text_reads_or_reports(text in yaml_soup()) {
        check_bounded(&text);
    }

    #[test]
    fn arbitrary_json_decodes_or_is_a_typed_error(value in json_value()) {
        let _ = decode(value);
    }

    #[test]
    fn declarations_decode_or_are_a_typed_error(value in declaration()) {
        match decode(value.clone()) {
            Ok(decoded) => {
                let _ = decoded.object.validate();
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
        // The same object through YAML.
        check_bounded(&serde_yaml::to_string(&value).unwrap());
    }

    #[test]
    fn go_durations_parse_or_fail(text in prop_oneof![".{0,12}", "[0-9.]{0,22}(ns|us|µs|ms|s|m|h){0,1}([0-9.]{0,5}(ns|us|ms|s|m|h)){0,3}"]) {
        let _ = GoDuration::new(text).to_duration();
    }

    #[test]
    fn go_durations_round_trip(secs in 0u64..10_000_000_000, nanos in 0u32..1_000_000_000) {
        let d = Duration::new(secs, nanos);
        let text = GoDuration::from_duration(d);
        prop_assert_eq!(text.to_duration(), Ok(d), "{}", text);
    }
}

/// YAML aliases that expand exponentially ("billion laughs") are refused, not expanded.
#[test]
fn alias_bombs_are_refused() {
    let mut text = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10 {
        let prev = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev}]\n"
        ));
    }
    let out = read_yaml(&text);
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert!(out.resources.is_empty());
}

/// Deep nesting is an error, not a stack overflow.
#[test]
fn deep_nesting_is_an_error() {
    let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let out = read_yaml(&text);
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    let text = "- ".repeat(50_000);
    let out = read_yaml(&text);
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
}
