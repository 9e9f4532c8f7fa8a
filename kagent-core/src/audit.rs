//! The audit trail: one [`AuditRecord`] per tool-call decision, with secrets redacted.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use async_trait::async_trait;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::message::{ToolArguments, ToolCall};
use crate::tool::ToolEffect;

/// How a call was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditDecision {
    /// The policy allowed it.
    Allowed,
    /// An approver approved it.
    Approved {
        /// Who, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// An approver rejected it (or none was configured).
    Rejected {
        /// Why.
        reason: String,
    },
    /// The policy denied it.
    Denied {
        /// Why.
        reason: String,
    },
    /// The call could not be decided: unknown tool or invalid arguments.
    Invalid {
        /// Why.
        reason: String,
    },
}

/// What came of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditOutcome {
    /// The tool ran and succeeded.
    Succeeded,
    /// The tool ran and failed.
    Failed {
        /// The error.
        error: String,
    },
    /// The tool did not run.
    NotRun,
}

/// One audit record: a tool call, its decision and its outcome.
///
/// Written by the engine; [`AuditRecord::new`] builds one elsewhere (another agent runtime, a
/// test of a sink).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditRecord {
    /// When the call concluded (RFC 3339).
    pub timestamp: jiff::Timestamp,
    /// The agent.
    pub agent: String,
    /// The session.
    pub session_id: String,
    /// The run.
    pub run_id: String,
    /// The tool.
    pub tool: String,
    /// The call id.
    pub call_id: String,
    /// The tool's effect.
    pub effect: ToolEffect,
    /// Arguments with secret-looking values redacted.
    pub arguments: Value,
    /// The decision.
    pub decision: AuditDecision,
    /// The outcome.
    pub outcome: AuditOutcome,
    /// How long the tool ran, in milliseconds.
    pub duration_ms: u64,
}

impl AuditRecord {
    /// A record of `call`, concluded now, with its arguments redacted
    /// ([`redact_value`]); malformed arguments are kept as redacted text. The duration is zero
    /// until set with [`AuditRecord::with_duration_ms`].
    pub fn new(
        agent: impl Into<String>,
        session_id: impl Into<String>,
        run_id: impl Into<String>,
        call: &ToolCall,
        effect: ToolEffect,
        decision: AuditDecision,
        outcome: AuditOutcome,
    ) -> Self {
        let arguments = match &call.arguments {
            ToolArguments::Json(v) => redact_value(v),
            ToolArguments::Malformed { raw, .. } => Value::String(redact_str(raw)),
        };
        AuditRecord {
            timestamp: jiff::Timestamp::now(),
            agent: agent.into(),
            session_id: session_id.into(),
            run_id: run_id.into(),
            tool: call.name.clone(),
            call_id: call.id.clone(),
            effect,
            arguments,
            decision,
            outcome,
            duration_ms: 0,
        }
    }

    /// Sets how long the tool ran, in milliseconds.
    pub fn with_duration_ms(mut self, duration_ms: u64) -> Self {
        self.duration_ms = duration_ms;
        self
    }

    /// Sets when the call concluded.
    pub fn with_timestamp(mut self, timestamp: jiff::Timestamp) -> Self {
        self.timestamp = timestamp;
        self
    }
}

/// Errors writing the audit trail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Writing the record failed.
    #[error("cannot write audit record to {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The record did not serialize.
    #[error("cannot serialize audit record: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// Receives audit records. An audit failure fails the run: an agent must not act unaudited.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait AuditSink: Send + Sync {
    /// Records one decision.
    async fn record(&self, record: &AuditRecord) -> Result<(), AuditError>;
}

#[async_trait]
impl<S: AuditSink + ?Sized> AuditSink for Arc<S> {
    async fn record(&self, record: &AuditRecord) -> Result<(), AuditError> {
        (**self).record(record).await
    }
}

/// Appends records as JSON lines to a file, one line per record, flushed before returning.
#[derive(Debug)]
pub struct JsonlAuditSink {
    path: PathBuf,
    file: tokio::sync::Mutex<tokio::fs::File>,
}

impl JsonlAuditSink {
    /// Opens (creating if needed) the file for appending.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        let path = path.as_ref().to_path_buf();
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .await
            .map_err(|source| AuditError::Io {
                path: path.clone(),
                source,
            })?;
        Ok(JsonlAuditSink {
            path,
            file: tokio::sync::Mutex::new(file),
        })
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait]
impl AuditSink for JsonlAuditSink {
    async fn record(&self, record: &AuditRecord) -> Result<(), AuditError> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        let mut file = self.file.lock().await;
        let io = |source| AuditError::Io {
            path: self.path.clone(),
            source,
        };
        file.write_all(&line).await.map_err(io)?;
        file.flush().await.map_err(io)?;
        Ok(())
    }
}

/// Keeps records in memory (for tests and embedders that forward them elsewhere).
#[derive(Debug, Clone, Default)]
pub struct MemoryAuditSink {
    records: Arc<Mutex<Vec<AuditRecord>>>,
}

impl MemoryAuditSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the records so far.
    pub fn records(&self) -> Vec<AuditRecord> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl AuditSink for MemoryAuditSink {
    async fn record(&self, record: &AuditRecord) -> Result<(), AuditError> {
        if let Ok(mut r) = self.records.lock() {
            r.push(record.clone());
        }
        Ok(())
    }
}

/// The placeholder that replaces redacted values.
pub const REDACTED: &str = "[REDACTED]";

/// Key names that suggest a secret.
const SECRET_KEY_PATTERN: &str = r"(?i)(pass(word|wd|phrase)?|secret|token|api[_-]?key|apikey|auth(orization)?|credential|private[_-]?key|access[_-]?key|session[_-]?key|cookie|bearer|client[_-]?secret)";

/// Values that look like keys or tokens.
const SECRET_VALUE_PATTERN: &str = concat!(
    r"(?i)(bearer\s+[a-z0-9._~+/=-]{8,})", // Authorization: Bearer ...
    r"|(sk-[a-z0-9_-]{16,})",              // OpenAI / Anthropic style keys
    r"|(AKIA[0-9A-Z]{16})",                // AWS access key id
    r"|(AIza[0-9A-Za-z_-]{35})",           // Google API key
    r"|(gh[pousr]_[A-Za-z0-9]{30,})",      // GitHub tokens
    r"|(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})", // JWTs
    r"|(-----BEGIN [A-Z ]*PRIVATE KEY-----)",
);

/// A secret detector that fails closed: a pattern that does not compile matches everything, so
/// a broken pattern redacts too much instead of nothing. (The patterns above are compiled by a
/// test, so this only guards against a regex engine that rejects them at run time.)
#[derive(Debug)]
enum Matcher {
    Pattern(Regex),
    Everything,
}

impl Matcher {
    fn compile(pattern: &str) -> Self {
        match Regex::new(pattern) {
            Ok(re) => Matcher::Pattern(re),
            Err(e) => {
                tracing::error!(error = %e, "a secret-redaction pattern does not compile; redacting every value instead");
                Matcher::Everything
            }
        }
    }

    fn is_match(&self, s: &str) -> bool {
        match self {
            Matcher::Pattern(re) => re.is_match(s),
            Matcher::Everything => true,
        }
    }

    fn redact(&self, s: &str) -> String {
        match self {
            Matcher::Pattern(re) => re.replace_all(s, REDACTED).into_owned(),
            Matcher::Everything if s.is_empty() => String::new(),
            Matcher::Everything => REDACTED.to_owned(),
        }
    }
}

static SECRET_KEY: LazyLock<Matcher> = LazyLock::new(|| Matcher::compile(SECRET_KEY_PATTERN));
static SECRET_VALUE: LazyLock<Matcher> = LazyLock::new(|| Matcher::compile(SECRET_VALUE_PATTERN));

/// Whether a key name looks like it holds a secret.
pub fn is_secret_key(key: &str) -> bool {
    SECRET_KEY.is_match(key)
}

/// Replaces secret-looking substrings of a string.
pub fn redact_str(s: &str) -> String {
    SECRET_VALUE.redact(s)
}

/// A copy of `value` with secret-looking values redacted: every value under a key whose name
/// suggests a secret (password, token, apiKey, authorization, ...), and every string that looks
/// like a key or token (bearer tokens, `sk-...`, AWS key ids, JWTs, PEM private keys). Kubernetes
/// Secret `data`/`stringData` maps are redacted whole.
pub fn redact_value(value: &Value) -> Value {
    redact_with(value, &SECRET_KEY, &SECRET_VALUE)
}

fn redact_with(value: &Value, keys: &Matcher, values: &Matcher) -> Value {
    match value {
        Value::Object(map) => {
            let is_k8s_secret = map.get("kind").and_then(Value::as_str) == Some("Secret");
            let mut out = serde_json::Map::with_capacity(map.len());
            for (k, v) in map {
                let redact_whole =
                    keys.is_match(k) || (is_k8s_secret && (k == "data" || k == "stringData"));
                let nv = if redact_whole && !v.is_null() {
                    Value::String(REDACTED.to_owned())
                } else {
                    redact_with(v, keys, values)
                };
                out.insert(k.clone(), nv);
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| redact_with(v, keys, values)).collect())
        }
        Value::String(s) => Value::String(values.redact(s)),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_by_key_and_by_shape() {
        let v = json!({
            "namespace": "prod",
            "apiKey": "abc",
            "headers": {"Authorization": "Bearer xyz"},
            "nested": [{"password": "hunter2"}],
            "note": "use sk-abcdefghijklmnopqrstu please",
            "manifest": {"kind": "Secret", "data": {"x": "eA=="}},
            "count": 3
        });
        let r = redact_value(&v);
        assert_eq!(r["namespace"], "prod");
        assert_eq!(r["apiKey"], REDACTED);
        assert_eq!(r["headers"]["Authorization"], REDACTED);
        assert_eq!(r["nested"][0]["password"], REDACTED);
        assert_eq!(r["note"], "use [REDACTED] please");
        assert_eq!(r["manifest"]["data"], REDACTED);
        assert_eq!(r["count"], 3);
        let s = r.to_string();
        for secret in ["abc\"", "xyz", "hunter2", "sk-abc", "eA=="] {
            assert!(!s.contains(secret), "{secret} leaked in {s}");
        }
    }

    #[test]
    fn the_shipped_patterns_compile() {
        assert!(matches!(
            Matcher::compile(SECRET_KEY_PATTERN),
            Matcher::Pattern(_)
        ));
        assert!(matches!(
            Matcher::compile(SECRET_VALUE_PATTERN),
            Matcher::Pattern(_)
        ));
        assert!(matches!(*SECRET_KEY, Matcher::Pattern(_)));
        assert!(matches!(*SECRET_VALUE, Matcher::Pattern(_)));
    }

    #[test]
    fn a_pattern_that_does_not_compile_redacts_everything() {
        let broken = Matcher::compile("(unclosed");
        assert!(matches!(broken, Matcher::Everything));
        assert!(broken.is_match("namespace"));
        assert_eq!(broken.redact("plain text"), REDACTED);
        assert_eq!(broken.redact(""), "");
        let v = json!({
            "namespace": "prod",
            "note": "use sk-abcdefghijklmnopqrstu please",
            "nested": [{"name": "web"}, "free text"],
            "count": 3,
            "flag": true,
            "none": null
        });
        // Broken value pattern only: keys still work, every string is redacted.
        let good_keys = Matcher::compile(SECRET_KEY_PATTERN);
        let r = redact_with(&v, &good_keys, &broken);
        assert_eq!(r["namespace"], REDACTED);
        assert_eq!(r["note"], REDACTED);
        assert_eq!(r["nested"][0]["name"], REDACTED);
        assert_eq!(r["nested"][1], REDACTED);
        assert_eq!(r["count"], 3);
        // Broken key pattern: every non-null value is redacted whole.
        let good_values = Matcher::compile(SECRET_VALUE_PATTERN);
        let r = redact_with(&v, &broken, &good_values);
        for key in ["namespace", "note", "nested", "count", "flag"] {
            assert_eq!(r[key], REDACTED, "{key}");
        }
        assert_eq!(r["none"], Value::Null);
    }

    #[test]
    fn records_built_outside_the_engine_are_redacted() {
        let call = ToolCall::new("c1", "login", json!({"user": "a", "password": "hunter2"}));
        let rec = AuditRecord::new(
            "agent",
            "s",
            "r",
            &call,
            ToolEffect::Mutating,
            AuditDecision::Allowed,
            AuditOutcome::Succeeded,
        )
        .with_duration_ms(7);
        assert_eq!(rec.tool, "login");
        assert_eq!(rec.call_id, "c1");
        assert_eq!(rec.arguments, json!({"user": "a", "password": REDACTED}));
        assert_eq!(rec.duration_ms, 7);
    }

    #[tokio::test]
    async fn jsonl_sink_appends_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let sink = JsonlAuditSink::open(&path).await.unwrap();
        let rec = AuditRecord {
            timestamp: jiff::Timestamp::now(),
            agent: "a".into(),
            session_id: "s".into(),
            run_id: "r".into(),
            tool: "t".into(),
            call_id: "c".into(),
            effect: ToolEffect::ReadOnly,
            arguments: json!({}),
            decision: AuditDecision::Allowed,
            outcome: AuditOutcome::Succeeded,
            duration_ms: 3,
        };
        sink.record(&rec).await.unwrap();
        sink.record(&rec).await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<AuditRecord> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines, vec![rec.clone(), rec]);
    }

    #[tokio::test]
    async fn unwritable_path_is_a_typed_error() {
        let err = JsonlAuditSink::open("/nonexistent-dir/x/audit.jsonl")
            .await
            .unwrap_err();
        assert!(matches!(err, AuditError::Io { .. }));
        assert!(err.to_string().contains("/nonexistent-dir/x/audit.jsonl"));
    }
}
