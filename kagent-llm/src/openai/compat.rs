//! Adaptations to OpenAI-compatible servers that reject parts of the Chat Completions request.
//!
//! A server that answers 400 (or 422) with an error naming a field the request carried gets
//! the same request once more without that field, and the adaptation is remembered for the
//! endpoint (the provider and its clones) so later requests are sent adapted from the start.
//! Each adaptation is logged at debug level when it is learned and on every adapted request.
//!
//! | Field the server rejects | Adaptation | Reported for (the error it answers) |
//! |---|---|---|
//! | `stream_options` | dropped (usage is then counted locally) | relays such as new-api in front of upstreams without it (`Unknown parameter: 'stream_options'`) |
//! | `max_completion_tokens` | sent as `max_tokens` | servers with strict request models: TensorRT-LLM's OpenAI server, OpenAI-compatible vLLM deployments (`extra_forbidden` … `max_completion_tokens`) |
//! | `parallel_tool_calls` | dropped | OpenAI's o1 / o3-mini / o4-mini (`Unsupported parameter: 'parallel_tool_calls'`), older Azure OpenAI api-versions (`Unknown parameter`) |
//! | `tool_choice` as an object | `"required"` with only the named tool | mlx-vlm's server (named choices answer 400), older vLLM (`extra_forbidden` … `tool_choice`) |
//! | the `developer` role | sent as `system` | DeepSeek's API, DeepInfra (422), gateways such as new-api and some OpenRouter routes |

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use kagent_core::{ApiErrorKind, ProviderError};
use serde_json::{Value, json};

/// One adaptation, a bit of [`Adaptations`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Adaptation {
    NoStreamOptions = 1,
    MaxTokensField = 2,
    NoParallelToolCalls = 4,
    ToolChoiceString = 8,
    SystemForDeveloper = 16,
}

const ALL: [Adaptation; 5] = [
    Adaptation::NoStreamOptions,
    Adaptation::MaxTokensField,
    Adaptation::NoParallelToolCalls,
    Adaptation::ToolChoiceString,
    Adaptation::SystemForDeveloper,
];

impl Adaptation {
    /// What the adaptation does, for logs.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Adaptation::NoStreamOptions => "stream_options dropped",
            Adaptation::MaxTokensField => "max_completion_tokens sent as max_tokens",
            Adaptation::NoParallelToolCalls => "parallel_tool_calls dropped",
            Adaptation::ToolChoiceString => {
                "tool_choice object sent as \"required\" with only the named tool"
            }
            Adaptation::SystemForDeveloper => "developer role sent as system",
        }
    }

    /// The field (or value) a rejection must name for this adaptation.
    fn field(self) -> &'static str {
        match self {
            Adaptation::NoStreamOptions => "stream_options",
            Adaptation::MaxTokensField => "max_completion_tokens",
            Adaptation::NoParallelToolCalls => "parallel_tool_calls",
            Adaptation::ToolChoiceString => "tool_choice",
            Adaptation::SystemForDeveloper => "developer",
        }
    }

    /// Whether the body carries what this adaptation changes.
    fn applies_to(self, body: &Value) -> bool {
        match self {
            Adaptation::NoStreamOptions => body.get("stream_options").is_some(),
            Adaptation::MaxTokensField => body.get("max_completion_tokens").is_some(),
            Adaptation::NoParallelToolCalls => body.get("parallel_tool_calls").is_some(),
            Adaptation::ToolChoiceString => body.get("tool_choice").is_some_and(Value::is_object),
            Adaptation::SystemForDeveloper => messages(body)
                .iter()
                .any(|m| m.get("role").and_then(Value::as_str) == Some("developer")),
        }
    }

    pub(crate) fn apply(self, body: &mut Value) {
        let Some(obj) = body.as_object_mut() else {
            return;
        };
        match self {
            Adaptation::NoStreamOptions => {
                obj.remove("stream_options");
            }
            Adaptation::MaxTokensField => {
                if let Some(v) = obj.remove("max_completion_tokens") {
                    obj.insert("max_tokens".into(), v);
                }
            }
            Adaptation::NoParallelToolCalls => {
                obj.remove("parallel_tool_calls");
            }
            Adaptation::ToolChoiceString => {
                let name = obj
                    .get("tool_choice")
                    .and_then(|c| c.pointer("/function/name"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if let Some(name) = name {
                    obj.insert("tool_choice".into(), json!("required"));
                    if let Some(Value::Array(tools)) = obj.get_mut("tools") {
                        tools.retain(|t| {
                            t.pointer("/function/name").and_then(Value::as_str) == Some(&name)
                        });
                    }
                }
            }
            Adaptation::SystemForDeveloper => {
                if let Some(Value::Array(ms)) = obj.get_mut("messages") {
                    for m in ms {
                        if m.get("role").and_then(Value::as_str) == Some("developer")
                            && let Some(o) = m.as_object_mut()
                        {
                            o.insert("role".into(), "system".into());
                        }
                    }
                }
            }
        }
    }
}

fn messages(body: &Value) -> &[Value] {
    body.get("messages")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The adaptations learned for one endpoint, shared by a provider and its clones.
#[derive(Debug, Clone, Default)]
pub(crate) struct Adaptations(Arc<AtomicU8>);

impl Adaptations {
    fn bits(&self) -> u8 {
        self.0.load(Ordering::Relaxed)
    }

    /// The learned adaptations.
    pub(crate) fn learned(&self) -> Vec<Adaptation> {
        let bits = self.bits();
        ALL.into_iter().filter(|a| bits & (*a as u8) != 0).collect()
    }

    /// Applies the learned adaptations to a request body; returns those that changed it.
    pub(crate) fn apply(&self, body: &mut Value) -> Vec<Adaptation> {
        let mut applied = Vec::new();
        for a in self.learned() {
            if a.applies_to(body) {
                a.apply(body);
                applied.push(a);
            }
        }
        applied
    }

    /// The adaptations a rejection of `body` calls for: a 400 or 422 whose error names a field
    /// the body carries and that is not adapted yet. Empty when the error is anything else.
    pub(crate) fn for_rejection(&self, error: &ProviderError, body: &Value) -> Vec<Adaptation> {
        let ProviderError::Api {
            kind: ApiErrorKind::InvalidRequest,
            details,
            ..
        } = error
        else {
            return Vec::new();
        };
        if !matches!(details.status, Some(400 | 422)) {
            return Vec::new();
        }
        let said = [
            Some(details.message.as_str()),
            details.code.as_deref(),
            details.error_type.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        let bits = self.bits();
        ALL.into_iter()
            .filter(|a| bits & (*a as u8) == 0)
            .filter(|a| said.contains(a.field()))
            .filter(|a| a.applies_to(body))
            .collect()
    }

    /// Remembers adaptations for later requests.
    pub(crate) fn learn(&self, adaptations: &[Adaptation]) {
        let bits = adaptations.iter().fold(0u8, |b, a| b | *a as u8);
        self.0.fetch_or(bits, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kagent_core::ApiErrorDetails;

    fn rejection(status: u16, message: &str) -> ProviderError {
        ProviderError::api(
            "openai",
            ApiErrorKind::InvalidRequest,
            ApiErrorDetails::new(message).with_status(status),
        )
    }

    fn full_body() -> Value {
        json!({
            "model": "m",
            "messages": [{"role": "developer", "content": "be terse"}, {"role": "user", "content": "hi"}],
            "tools": [
                {"type": "function", "function": {"name": "a"}},
                {"type": "function", "function": {"name": "b"}},
            ],
            "tool_choice": {"type": "function", "function": {"name": "b"}},
            "parallel_tool_calls": false,
            "max_completion_tokens": 64,
            "stream": true,
            "stream_options": {"include_usage": true},
        })
    }

    #[test]
    fn each_named_field_is_adapted() {
        let a = Adaptations::default();
        let body = full_body();
        let cases = [
            (
                "Unrecognized request argument supplied: stream_options",
                Adaptation::NoStreamOptions,
            ),
            (
                "extra_forbidden: max_completion_tokens",
                Adaptation::MaxTokensField,
            ),
            (
                "parallel_tool_calls is not supported",
                Adaptation::NoParallelToolCalls,
            ),
            (
                "tool_choice must be one of none, auto, required",
                Adaptation::ToolChoiceString,
            ),
            (
                "Unexpected role 'developer'",
                Adaptation::SystemForDeveloper,
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(
                a.for_rejection(&rejection(400, message), &body),
                vec![expected],
                "{message}"
            );
        }
        let mut adapted = body.clone();
        for (_, x) in cases {
            x.apply(&mut adapted);
        }
        assert_eq!(
            adapted,
            json!({
                "model": "m",
                "messages": [{"role": "system", "content": "be terse"}, {"role": "user", "content": "hi"}],
                "tools": [{"type": "function", "function": {"name": "b"}}],
                "tool_choice": "required",
                "max_tokens": 64,
                "stream": true,
            })
        );
    }

    #[test]
    fn other_errors_and_absent_fields_are_not_adapted() {
        let a = Adaptations::default();
        let body = full_body();
        // Another status, another kind, a field the body does not carry.
        assert!(
            a.for_rejection(&rejection(500, "stream_options"), &body)
                .is_empty()
        );
        let auth = ProviderError::api(
            "openai",
            ApiErrorKind::Authentication,
            ApiErrorDetails::new("stream_options").with_status(401),
        );
        assert!(a.for_rejection(&auth, &body).is_empty());
        assert!(
            a.for_rejection(&rejection(400, "model not found"), &body)
                .is_empty()
        );
        let plain =
            json!({"messages": [{"role": "system", "content": "x"}], "tool_choice": "auto"});
        assert!(
            a.for_rejection(
                &rejection(400, "developer tool_choice stream_options"),
                &plain
            )
            .is_empty()
        );
        // A 422 naming two fields adapts both.
        let two = a.for_rejection(
            &rejection(422, "stream_options and parallel_tool_calls"),
            &body,
        );
        assert_eq!(
            two,
            vec![Adaptation::NoStreamOptions, Adaptation::NoParallelToolCalls]
        );
    }

    #[test]
    fn learned_adaptations_are_shared_and_not_asked_for_again() {
        let a = Adaptations::default();
        let clone = a.clone();
        a.learn(&[Adaptation::NoStreamOptions]);
        let mut body = full_body();
        assert_eq!(clone.apply(&mut body), vec![Adaptation::NoStreamOptions]);
        assert!(body.get("stream_options").is_none());
        assert!(
            clone
                .for_rejection(&rejection(400, "stream_options"), &full_body())
                .is_empty()
        );
        // Nothing to change: not reported as applied.
        let mut plain = json!({"messages": []});
        assert!(a.apply(&mut plain).is_empty());
        assert!(Adaptation::ToolChoiceString.describe().contains("required"));
    }
}
