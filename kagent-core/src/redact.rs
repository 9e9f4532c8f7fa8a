//! Known-value redaction: [`SecretValues`], the secrets an agent knows it holds (API keys,
//! header values, anything resolved from a Kubernetes Secret), replaced by
//! [`REDACTED`] wherever the engine emits text.
//!
//! The pattern-based redaction of [`audit`](crate::audit) catches values that *look* like keys
//! (`sk-...`, JWTs, bearer tokens); it cannot catch a secret of any other shape. A value
//! registered here is caught whatever it looks like, together with its base64 form (the way a
//! Kubernetes Secret's `data` carries it).
//!
//! ```
//! use kagent_core::SecretValues;
//!
//! let secrets = SecretValues::new();
//! secrets.insert("kagent-canary-7f3a9c");
//! assert_eq!(secrets.redact("token=kagent-canary-7f3a9c;"), "token=[REDACTED];");
//! // A clone shares the set: a value registered later is redacted by every clone.
//! let shared = secrets.clone();
//! secrets.insert("another-secret-value");
//! assert_eq!(shared.redact("another-secret-value"), "[REDACTED]");
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::audit::REDACTED;
use crate::message::{
    AssistantMessage, ContentPart, ToolArguments, ToolCall, ToolContent, ToolResult,
};
use crate::provider::{ApiErrorDetails, ProviderError};
use crate::tool::ToolOutput;

/// The secret values an agent must never emit, shared by every clone.
///
/// Values shorter than [`SecretValues::MIN_LEN`] bytes are ignored: redacting every `"abc"` in
/// every log line would destroy the output and protect nothing (such a value is no secret).
/// Each value is also registered trimmed of surrounding whitespace (a key read from a file or a
/// Secret often ends with a newline), without its scheme when it is an `Authorization`-style
/// value (`Bearer xyz` registers `xyz` too), and each of these in its standard base64 encoding.
///
/// Cloning is cheap (one `Arc`); the values are held as [`SecretString`]s (zeroed on drop, never
/// in `Debug` output, which shows only how many there are).
#[derive(Clone, Default)]
pub struct SecretValues {
    values: Arc<RwLock<Vec<SecretString>>>,
}

impl fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretValues")
            .field("len", &self.len())
            .finish()
    }
}

impl SecretValues {
    /// Values shorter than this (in bytes) are not registered.
    pub const MIN_LEN: usize = 8;

    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a value (and its trimmed and base64 forms). Returns whether it was long enough
    /// to be registered (see [`SecretValues::MIN_LEN`]); a value already known is not added
    /// twice.
    pub fn insert(&self, value: &str) -> bool {
        let trimmed = value.trim();
        if trimmed.len() < Self::MIN_LEN {
            return false;
        }
        let mut forms = vec![trimmed.to_owned()];
        if trimmed != value {
            forms.push(value.to_owned());
        }
        // An `Authorization`-style value (`Bearer xyz`, `Basic xyz`, `Token xyz`): the
        // credential alone is the secret too.
        if let Some((scheme, token)) = trimmed.split_once(' ')
            && !scheme.is_empty()
            && scheme.len() <= 16
            && scheme.chars().all(|c| c.is_ascii_alphabetic())
            && token.len() >= Self::MIN_LEN
            && !token.contains(char::is_whitespace)
        {
            forms.push(token.to_owned());
        }
        let encoded: Vec<String> = forms
            .iter()
            .map(|v| base64::engine::general_purpose::STANDARD.encode(v))
            .collect();
        forms.extend(encoded);
        let mut values = self.values.write().unwrap_or_else(PoisonError::into_inner);
        for form in forms {
            if !values.iter().any(|v| v.expose_secret() == form) {
                values.push(SecretString::from(form));
            }
        }
        // Longest first: a value that contains another is replaced whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.expose_secret().len()));
        true
    }

    /// [`SecretValues::insert`] of a [`SecretString`].
    pub fn insert_secret(&self, value: &SecretString) -> bool {
        self.insert(value.expose_secret())
    }

    /// Registers a value and returns the set (builder style).
    #[must_use]
    pub fn with(self, value: &str) -> Self {
        self.insert(value);
        self
    }

    /// Registers every value of `other` here (the two sets stay separate).
    pub fn extend_from(&self, other: &SecretValues) {
        if Arc::ptr_eq(&self.values, &other.values) {
            return;
        }
        let theirs: Vec<SecretString> = other
            .values
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for v in &theirs {
            self.insert(v.expose_secret());
        }
    }

    /// How many values (forms included) are registered.
    pub fn len(&self) -> usize {
        self.values
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no value is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `text` contains a registered value.
    pub fn is_in(&self, text: &str) -> bool {
        let values = self.values.read().unwrap_or_else(PoisonError::into_inner);
        values.iter().any(|v| text.contains(v.expose_secret()))
    }

    /// `text` with every registered value replaced by [`REDACTED`]. Borrowed when nothing
    /// matched.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let values = self.values.read().unwrap_or_else(PoisonError::into_inner);
        let mut out = Cow::Borrowed(text);
        for v in values.iter() {
            let v = v.expose_secret();
            if out.contains(v) {
                out = Cow::Owned(out.replace(v, REDACTED));
            }
        }
        out
    }

    /// [`SecretValues::redact`] into an owned string, in place.
    pub fn redact_string(&self, text: &mut String) {
        if let Cow::Owned(s) = self.redact(text) {
            *text = s;
        }
    }

    /// A copy of `value` with registered values replaced in every string and object key.
    pub fn redact_value(&self, value: &Value) -> Value {
        if self.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(s) => Value::String(self.redact(s).into_owned()),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_value(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.redact(k).into_owned(), self.redact_value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Both redactions: known values, then the secret-looking patterns of
    /// [`audit::redact_str`](crate::audit::redact_str).
    pub fn redact_all(&self, text: &str) -> String {
        crate::audit::redact_str(&self.redact(text))
    }

    /// A copy of `call` whose arguments (and raw argument text) have registered values replaced.
    /// The call that runs keeps its real arguments; this copy is for events and logs.
    pub fn redact_call(&self, call: &ToolCall) -> ToolCall {
        let mut out = call.clone();
        out.arguments = match &call.arguments {
            ToolArguments::Json(v) => ToolArguments::Json(self.redact_value(v)),
            ToolArguments::Malformed { raw, error } => ToolArguments::Malformed {
                raw: self.redact(raw).into_owned(),
                error: self.redact(error).into_owned(),
            },
        };
        out.provider_data = call.provider_data.as_ref().map(|v| self.redact_value(v));
        out
    }

    /// Replaces registered values in every text of a tool result: text parts, embedded resource
    /// text, structured output. (Image and audio bytes are left alone.)
    pub fn redact_tool_result(&self, result: &mut ToolResult) {
        self.redact_parts(&mut result.content, &mut result.structured);
    }

    /// [`SecretValues::redact_tool_result`] for a tool's output before the engine turns it
    /// into a result (and before it is truncated, so a value is never cut in two).
    pub fn redact_tool_output(&self, output: &mut ToolOutput) {
        self.redact_parts(&mut output.content, &mut output.structured);
    }

    fn redact_parts(&self, content: &mut [ToolContent], structured: &mut Option<Value>) {
        if self.is_empty() {
            return;
        }
        for part in content {
            match part {
                ToolContent::Text { text } => self.redact_string(text),
                ToolContent::Resource {
                    uri, name, text, ..
                } => {
                    self.redact_string(uri);
                    if let Some(n) = name {
                        self.redact_string(n);
                    }
                    if let Some(t) = text {
                        self.redact_string(t);
                    }
                }
                _ => {}
            }
        }
        if let Some(s) = structured {
            *s = self.redact_value(s);
        }
    }

    /// Replaces registered values in the text of a model's turn. Its tool calls are left as the
    /// model wrote them (they run with their real arguments), and so are reasoning blocks
    /// (providers verify their signatures when they are replayed).
    pub fn redact_assistant_text(&self, message: &mut AssistantMessage) {
        if self.is_empty() {
            return;
        }
        for part in &mut message.content {
            if let ContentPart::Text { text } = part {
                self.redact_string(text);
            }
        }
    }

    /// `error` with registered values replaced in its messages and details. A source error
    /// whose text carries a registered value is replaced by its redacted text (the chain is
    /// kept, the secret is not).
    pub fn redact_provider_error(&self, error: ProviderError) -> ProviderError {
        if self.is_empty() {
            return error;
        }
        let s = |text: String| match self.redact(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(o) => o,
        };
        let o = |text: Option<String>| text.map(s);
        match error {
            ProviderError::Api {
                provider,
                kind,
                details,
            } => {
                let mut d: ApiErrorDetails = details;
                d.message = s(d.message);
                d.error_type = o(d.error_type);
                d.code = o(d.code);
                d.request_id = o(d.request_id);
                ProviderError::Api {
                    provider: s(provider),
                    kind,
                    details: d,
                }
            }
            ProviderError::Transport {
                provider,
                message,
                source,
            } => ProviderError::Transport {
                provider: s(provider),
                message: s(message),
                source: source.map(|e| self.redact_source(e)),
            },
            ProviderError::Timeout {
                provider,
                phase,
                after,
            } => ProviderError::Timeout {
                provider: s(provider),
                phase,
                after,
            },
            ProviderError::TruncatedStream {
                provider,
                reason,
                mut partial,
            } => {
                // The text streamed before the break is in the error's `Debug`.
                self.redact_assistant_text(&mut partial.message);
                ProviderError::TruncatedStream {
                    provider: s(provider),
                    reason: s(reason),
                    partial,
                }
            }
            ProviderError::Decode {
                provider,
                message,
                source,
            } => ProviderError::Decode {
                provider: s(provider),
                message: s(message),
                source: source.map(|e| self.redact_source(e)),
            },
            ProviderError::Configuration { provider, message } => ProviderError::Configuration {
                provider: s(provider),
                message: s(message),
            },
            ProviderError::Unsupported { provider, feature } => ProviderError::Unsupported {
                provider: s(provider),
                feature: s(feature),
            },
        }
    }

    fn redact_source(&self, e: crate::provider::BoxError) -> crate::provider::BoxError {
        let mut chain = Vec::new();
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e.as_ref());
        while let Some(err) = cur {
            chain.push(format!("{err} / {err:?}"));
            cur = err.source();
        }
        if chain.iter().any(|t| self.is_in(t)) {
            Box::new(RedactedError {
                message: self.redact(&e.to_string()).into_owned(),
            })
        } else {
            e
        }
    }

    /// A redactor for text that arrives in pieces (streamed model output): a value split
    /// across two pieces is still caught.
    pub fn stream(&self) -> StreamRedactor {
        StreamRedactor {
            values: self.clone(),
            pending: String::new(),
        }
    }

    /// Where `text` may end with the start of a registered value: the byte offset of the
    /// longest suffix that is a proper prefix of one (or `text.len()`).
    fn hold_from(&self, text: &str) -> usize {
        let values = self.values.read().unwrap_or_else(PoisonError::into_inner);
        let longest = values
            .iter()
            .map(|v| v.expose_secret().len())
            .max()
            .unwrap_or(0);
        let start = text.len().saturating_sub(longest.saturating_sub(1));
        (start..text.len())
            .filter(|&i| text.is_char_boundary(i))
            .find(|&i| {
                let tail = text.get(i..).unwrap_or_default();
                values.iter().any(|v| {
                    let v = v.expose_secret();
                    v.len() > tail.len() && v.starts_with(tail)
                })
            })
            .unwrap_or(text.len())
    }
}

/// A source error replaced by its text, because the text carried a secret (now redacted).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RedactedError {
    /// The redacted text.
    pub message: String,
}

/// Redacts text that arrives in pieces: the end of a piece that could be the start of a
/// registered value is held back until the next piece (or [`StreamRedactor::finish`]) shows
/// whether it is.
#[derive(Debug)]
pub struct StreamRedactor {
    values: SecretValues,
    pending: String,
}

impl StreamRedactor {
    /// Takes the next piece; returns the text that is safe to emit now (possibly empty).
    pub fn push(&mut self, piece: &str) -> String {
        self.pending.push_str(piece);
        if self.values.is_empty() {
            return std::mem::take(&mut self.pending);
        }
        let redacted = self.values.redact(&self.pending).into_owned();
        let hold = self.values.hold_from(&redacted);
        let (out, rest) = redacted.split_at(hold);
        let out = out.to_owned();
        self.pending = rest.to_owned();
        out
    }

    /// The held-back rest (it was not a registered value).
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.pending);
        self.values.redact(&rest).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CANARY: &str = "kagent-canary-0123456789";

    #[test]
    fn short_values_are_ignored_and_forms_are_added() {
        let s = SecretValues::new();
        assert!(!s.insert("short"));
        assert!(!s.insert("  abc  \n"));
        assert!(s.is_empty());
        assert!(s.insert(&format!("{CANARY}\n")));
        // trimmed, as given, and both in base64
        assert_eq!(s.len(), 4);
        let b64 = base64::engine::general_purpose::STANDARD.encode(CANARY);
        assert_eq!(
            s.redact(&format!("a {CANARY} b {b64}")),
            "a [REDACTED] b [REDACTED]"
        );
        assert!(s.insert(CANARY));
        assert_eq!(s.len(), 4, "no duplicates");
        assert_eq!(format!("{s:?}"), "SecretValues { len: 4 }");
    }

    #[test]
    fn values_of_any_shape_are_redacted_everywhere_in_json() {
        let s = SecretValues::new().with(CANARY);
        let v = json!({"a": [CANARY, {"n": 1, CANARY: format!("x{CANARY}y")}], "b": null});
        let r = s.redact_value(&v);
        assert_eq!(
            r,
            json!({"a": ["[REDACTED]", {"n": 1, "[REDACTED]": "x[REDACTED]y"}], "b": null})
        );
        assert!(matches!(s.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn an_authorization_value_registers_its_credential() {
        let s = SecretValues::new().with(&format!("Bearer {CANARY}"));
        assert_eq!(s.redact(&format!("token {CANARY}")), "token [REDACTED]");
        assert_eq!(
            s.redact(&format!("Authorization: Bearer {CANARY}")),
            "Authorization: [REDACTED]"
        );
        // Not a scheme: two words of a passphrase are not split.
        let s = SecretValues::new().with("correct horse battery staple");
        assert_eq!(s.redact("correct horse"), "correct horse");
    }

    #[test]
    fn the_longest_value_wins() {
        let s = SecretValues::new().with("abcdefgh").with("abcdefgh-longer");
        assert_eq!(
            s.redact("abcdefgh-longer abcdefgh"),
            "[REDACTED] [REDACTED]"
        );
    }

    #[test]
    fn a_value_split_across_stream_pieces_is_caught() {
        let s = SecretValues::new().with(CANARY);
        let text = format!("the token is {CANARY}, done. kagent-can is not it");
        for split in 1..text.len() {
            let mut r = s.stream();
            let mut out = String::new();
            for piece in [&text[..split], &text[split..]] {
                out.push_str(&r.push(piece));
            }
            out.push_str(&r.finish());
            assert_eq!(
                out, "the token is [REDACTED], done. kagent-can is not it",
                "split {split}"
            );
        }
        // Byte by byte, multi-byte characters included.
        let text = format!("é{CANARY}ü");
        let mut r = s.stream();
        let mut out = String::new();
        for c in text.chars() {
            out.push_str(&r.push(&c.to_string()));
        }
        out.push_str(&r.finish());
        assert_eq!(out, "é[REDACTED]ü");
    }

    #[test]
    fn a_stream_without_values_passes_through() {
        let s = SecretValues::new();
        let mut r = s.stream();
        assert_eq!(r.push("abc"), "abc");
        assert_eq!(r.finish(), "");
    }

    #[test]
    fn provider_errors_lose_the_value_and_keep_their_shape() {
        let s = SecretValues::new().with(CANARY);
        let e = ProviderError::api(
            "openai",
            crate::provider::ApiErrorKind::Authentication,
            ApiErrorDetails::new(format!("Incorrect API key provided: {CANARY}")),
        );
        let e = s.redact_provider_error(e);
        assert!(!format!("{e} {e:?}").contains(CANARY));
        assert!(matches!(
            e,
            ProviderError::Api {
                kind: crate::provider::ApiErrorKind::Authentication,
                ..
            }
        ));
        let partial = crate::message::ChatResponse::text(format!("so far {CANARY}"));
        let e = s.redact_provider_error(ProviderError::truncated("p", "no [DONE]", partial));
        assert!(!format!("{e:?}").contains(CANARY), "{e:?}");
        let inner = std::io::Error::other(format!("key {CANARY}"));
        let e = ProviderError::transport("p", "broke", Some(Box::new(inner)));
        let e = s.redact_provider_error(e);
        let source = std::error::Error::source(&e).map(|s| format!("{s} {s:?}"));
        assert_eq!(
            source.as_deref(),
            Some("key [REDACTED] RedactedError { message: \"key [REDACTED]\" }")
        );
    }

    #[test]
    fn calls_and_results_are_redacted() {
        let s = SecretValues::new().with(CANARY);
        let call = ToolCall::new("c1", "t", json!({"q": CANARY}));
        let r = s.redact_call(&call);
        assert_eq!(r.arguments, ToolArguments::Json(json!({"q": REDACTED})));
        let mut result = ToolResult::ok("c1", "t", format!("value: {CANARY}"));
        result.structured = Some(json!({"v": CANARY}));
        s.redact_tool_result(&mut result);
        assert_eq!(result.text(), "value: [REDACTED]");
        assert_eq!(result.structured, Some(json!({"v": REDACTED})));
    }
}
