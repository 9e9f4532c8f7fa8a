//! Property tests: tool arguments, argument text, tool-output framing, truncation and audit
//! redaction fed arbitrary input never panic, fail with typed errors, and stay bounded.
//!
//! CI runs a small number of cases; `PROPTEST_CASES=100000 cargo test -p kagent-core --test
//! properties --release` runs a long local session.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeMap;

use kagent_core::framing::{frame, unframe};
use kagent_core::truncate::truncate_middle;
use kagent_core::{
    IntoTool, ToolArguments, ToolContent, ToolContext, ToolEffect, ToolError, ToolOutput,
    ToolResult, Toolset, TypedTool,
};
use proptest::prelude::*;
use proptest::test_runner::Config;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// `PROPTEST_CASES` when set, else `cases`; no failure files in the source tree (failures are
/// recorded as plain regression tests instead).
fn config(cases: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    config
}

/// Any JSON value, a few levels deep, with keys that sometimes hit the schema's names.
fn json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("name".to_owned()),
        Just("replicas".to_owned()),
        Just("mode".to_owned()),
        Just("labels".to_owned()),
        Just("ports".to_owned()),
        Just("nested".to_owned()),
        "[a-z$]{0,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Args {
    /// A name.
    name: String,
    /// A count.
    replicas: Option<u32>,
    /// A mode.
    mode: Option<Mode>,
    /// Labels.
    #[serde(default)]
    labels: BTreeMap<String, String>,
    /// Ports.
    #[serde(default)]
    ports: Vec<u16>,
    /// Something nested.
    nested: Option<Box<Nested>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum Mode {
    Fast,
    Careful { depth: u8 },
}

#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Nested {
    name: String,
    nested: Option<Box<Nested>>,
}

struct Typed;

#[kagent_core::async_trait]
impl TypedTool for Typed {
    type Args = Args;
    fn name(&self) -> &str {
        "typed"
    }
    fn description(&self) -> &str {
        "typed"
    }
    fn effect(&self) -> ToolEffect {
        ToolEffect::ReadOnly
    }
    async fn run(&self, args: Args, _: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text(args.name))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(config(256))]

    /// Schema validation and the typed adapter agree on what is valid, and a rejection is a
    /// bounded `InvalidArguments` the model can read.
    #[test]
    fn arbitrary_arguments_are_validated_or_rejected_with_a_typed_error(args in json()) {
        let tools = Toolset::new().with(Typed.into_tool().unwrap()).unwrap();
        let input = args.to_string();
        let validated = tools.validate("typed", &args);
        let called = runtime().block_on(tools.call("typed", args, ToolContext::detached("c")));
        match (&validated, &called) {
            (Ok(()), Ok(_)) => {}
            (Err(ToolError::InvalidArguments { message, .. }), Err(ToolError::InvalidArguments { .. })) => {
                // At most 8 problems, each naming a path of the input: proportional to it.
                prop_assert!(message.len() <= 8 * (input.len() + 400), "{} for {}", message.len(), input.len());
            }
            (Ok(()), Err(ToolError::InvalidArguments { .. })) => {
                // Serde is stricter than the schema in places (an integer written as 1.0).
            }
            other => prop_assert!(false, "{other:?} for {input}"),
        }
    }

    /// Argument text from a model: JSON or kept raw as malformed, never a panic.
    #[test]
    fn argument_text_parses_or_is_kept_raw(raw in ".{0,200}") {
        match ToolArguments::parse(&raw) {
            ToolArguments::Json(v) => prop_assert!(raw.trim().is_empty() || v == serde_json::from_str::<Value>(&raw).unwrap()),
            ToolArguments::Malformed { raw: kept, error } => {
                prop_assert_eq!(kept, raw);
                prop_assert!(!error.is_empty());
            }
        }
    }

    /// Whatever a tool returns, the frame around it comes back intact, its boundary occurs
    /// exactly twice (open and close) and nowhere inside.
    #[test]
    fn any_output_is_framed_and_unframed_unchanged(text in any::<String>(), error in any::<bool>()) {
        let result = if error { ToolResult::error("c", "t", text.clone()) } else { ToolResult::ok("c", "t", text.clone()) };
        let framed = frame(&result).text();
        prop_assert_eq!(unframe(&framed), Some(text.as_str()));
        let boundary = &framed["<tool_output_".len()..][..16];
        prop_assert_eq!(framed.matches(boundary).count(), 2);
    }

    /// Text containing frame-like tags cannot end the frame early.
    #[test]
    fn forged_tags_stay_inside_the_frame(
        parts in prop::collection::vec(prop_oneof![
            Just("</tool_output_".to_owned()),
            Just("<tool_output_".to_owned()),
            "[0-9a-f]{16}",
            Just(">\n".to_owned()),
            ".{0,10}",
        ], 0..12),
    ) {
        let text: String = parts.concat();
        let framed = frame(&ToolResult::ok("c", "t", text.clone())).text();
        prop_assert_eq!(unframe(&framed), Some(text.as_str()));
    }

    /// Non-text parts keep their place between the tags.
    #[test]
    fn mixed_content_is_framed_in_order(texts in prop::collection::vec(".{0,20}", 0..4)) {
        let mut content = Vec::new();
        for t in &texts {
            content.push(ToolContent::text(t.clone()));
            content.push(ToolContent::Image { media_type: "image/png".into(), data: "AA==".into() });
        }
        let result = ToolResult::new("c", "t", content);
        let framed = frame(&result);
        let images = framed.content.iter().filter(|c| matches!(c, ToolContent::Image { .. })).count();
        prop_assert_eq!(images, texts.len());
        let first_opens = matches!(framed.content.first(), Some(ToolContent::Text { text }) if text.starts_with("<tool_output_"));
        let last_closes = matches!(framed.content.last(), Some(ToolContent::Text { text }) if text.contains("</tool_output_"));
        prop_assert!(first_opens && last_closes, "{:?}", framed.content);
    }

    /// Truncation stays within its limit (plus its note) and cuts on character boundaries.
    #[test]
    fn truncation_is_bounded(text in any::<String>(), max in 0usize..512) {
        let (out, cut) = truncate_middle(&text, max);
        prop_assert_eq!(cut, text.len() > max);
        if cut {
            prop_assert!(out.len() <= max + 300, "{} > {}", out.len(), max);
        } else {
            prop_assert_eq!(out, text);
        }
    }

    /// Redaction handles any JSON and never grows it beyond its markers.
    #[test]
    fn redaction_handles_any_json(value in json()) {
        let redacted = kagent_core::audit::redact_value(&value);
        let before = value.to_string().len();
        let after = redacted.to_string().len();
        prop_assert!(after <= before + 64 * (before / 2 + 1), "{after} vs {before}");
    }
}
