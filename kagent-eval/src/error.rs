//! The crate's error type.

use std::path::PathBuf;

/// Why loading a scenario, running an agent or reading a report failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A YAML document of a scenario could not be parsed.
    #[error("{path}: document {index} is not valid YAML: {source}")]
    Yaml {
        /// The file.
        path: PathBuf,
        /// Zero-based index of the document in the file.
        index: usize,
        /// The parser error.
        #[source]
        source: serde_yaml::Error,
    },
    /// A scenario is well-formed YAML but not a usable scenario.
    #[error("scenario {scenario}: {message}")]
    InvalidScenario {
        /// The scenario's name, or its path when the name is unknown.
        scenario: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A pattern of a scenario is not a valid regular expression.
    #[error(
        "scenario {scenario}: pattern {pattern:?} is not a valid regular expression (escape `.`, `(`, `[` ... with `\\` to match them literally): {source}"
    )]
    Pattern {
        /// The scenario.
        scenario: String,
        /// The pattern as written.
        pattern: String,
        /// The regex error.
        #[source]
        source: regex::Error,
    },
    /// Two scenarios of one suite share a name.
    #[error("two scenarios are named {name}: {first} and {second}")]
    DuplicateScenario {
        /// The name.
        name: String,
        /// The first file.
        first: PathBuf,
        /// The second file.
        second: PathBuf,
    },
    /// The fake API server could not start or refused a scenario's objects.
    #[error("scenario {scenario}: the fake API server: {source}")]
    Cluster {
        /// The scenario.
        scenario: String,
        /// The fake's error.
        #[source]
        source: kagent_fake_apiserver::FakeError,
    },
    /// The agent under test failed (not a wrong answer: it produced none).
    #[error("agent {agent}: {message}")]
    Agent {
        /// The agent's name.
        agent: String,
        /// What failed.
        message: String,
    },
    /// No model is configured for a model-driven agent or the judge.
    #[error("no model configured: {message}")]
    ModelNotConfigured {
        /// What to set.
        message: String,
    },
    /// A model configuration could not be used.
    #[error("model configuration {path}: {message}")]
    ModelConfig {
        /// The file (or the environment variable) it came from.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A report file is not a report of this tool.
    #[error("{path} is not a kagent-eval report: {source}")]
    Report {
        /// The file.
        path: PathBuf,
        /// The parser error.
        #[source]
        source: serde_json::Error,
    },
    /// A thresholds file could not be used.
    #[error("thresholds {path}: {message}")]
    Thresholds {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = EvalError> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> EvalError {
    let path = path.into();
    move |source| EvalError::Io { path, source }
}
