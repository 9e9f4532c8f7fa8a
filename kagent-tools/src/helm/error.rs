//! Errors of the Helm tools, and how they reach the model.

use std::time::Duration;

use kagent_core::ToolError;
use kagent_k8s::K8sError;

/// Errors raised by the Helm tools.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HelmError {
    /// An argument is missing or malformed; the message says how to fix the call.
    #[error("invalid {argument}: {message}")]
    InvalidArgument {
        /// The argument.
        argument: &'static str,
        /// What is wrong and what is expected.
        message: String,
    },
    /// No release of that name exists in the namespace.
    #[error(
        "release {name:?} not found in namespace {namespace}{hint} (helm_list_releases with \
         all_namespaces=true lists every release)"
    )]
    ReleaseNotFound {
        /// The release.
        name: String,
        /// The namespace searched.
        namespace: String,
        /// A suggestion (leading separator included), or empty.
        hint: String,
    },
    /// The release exists but not at that revision.
    #[error(
        "release {name:?} in namespace {namespace} has no revision {revision}; revisions: {available}"
    )]
    RevisionNotFound {
        /// The release.
        name: String,
        /// Its namespace.
        namespace: String,
        /// The revision asked for.
        revision: u32,
        /// The revisions that exist, comma-separated.
        available: String,
    },
    /// A release Secret does not hold a decodable release.
    #[error("release Secret {secret} in namespace {namespace} cannot be decoded: {source}")]
    Decode {
        /// The Secret's name.
        secret: String,
        /// Its namespace.
        namespace: String,
        /// Why.
        #[source]
        source: super::release::DecodeError,
    },
    /// A Kubernetes API call failed (not found, forbidden, unreachable, ...).
    #[error(transparent)]
    Kube(#[from] K8sError),
    /// The helm binary could not be started.
    #[error(
        "cannot run the helm binary {path:?}: {source} (configure HelmToolsBuilder::helm_binary \
         with the path of a helm 3 binary)"
    )]
    BinaryUnavailable {
        /// The configured path.
        path: String,
        /// The spawn error.
        #[source]
        source: std::io::Error,
    },
    /// The helm command did not finish within the configured time and was killed.
    #[error("`{command}` did not finish within {after:?} and was stopped")]
    Timeout {
        /// The command line (for the model; no secrets are on it).
        command: String,
        /// The limit.
        after: Duration,
    },
    /// helm ran and failed; `message` is helm's own error, `hint` what to do about it.
    #[error("`{command}` failed (exit {exit}): {message}{hint}")]
    CommandFailed {
        /// The command line.
        command: String,
        /// Exit code (`-1` when killed by a signal).
        exit: i32,
        /// helm's error output (bounded).
        message: String,
        /// Advice (leading separator included), or empty.
        hint: String,
        /// Whether helm could not reach the API server (a fault, not an answer).
        unreachable: bool,
    },
}

impl HelmError {
    /// A [`HelmError::InvalidArgument`].
    pub fn invalid(argument: &'static str, message: impl Into<String>) -> Self {
        HelmError::InvalidArgument {
            argument,
            message: message.into(),
        }
    }

    /// Converts into the [`ToolError`] a tool returns for `tool`: answers the model can act on
    /// become data; an unreachable API server, a missing binary and timeouts become faults.
    pub fn into_tool_error(self, tool: &str) -> ToolError {
        match self {
            HelmError::InvalidArgument { .. } => {
                ToolError::invalid_arguments(tool, self.to_string())
            }
            HelmError::ReleaseNotFound { .. } | HelmError::RevisionNotFound { .. } => {
                ToolError::NotFound {
                    message: self.to_string(),
                }
            }
            HelmError::Decode { .. } => ToolError::failed(self.to_string()),
            HelmError::Kube(e) => e.into_tool_error(tool),
            HelmError::BinaryUnavailable { .. } => ToolError::Internal {
                tool: tool.to_owned(),
                message: self.to_string(),
            },
            HelmError::Timeout { after, .. } => ToolError::Timeout {
                tool: tool.to_owned(),
                after,
            },
            HelmError::CommandFailed {
                unreachable: true, ..
            } => ToolError::Transport {
                tool: tool.to_owned(),
                message: self.to_string(),
                source: None,
            },
            HelmError::CommandFailed { .. } => ToolError::failed(self.to_string()),
        }
    }
}

/// Shorthand for results of the Helm tools.
pub type Result<T, E = HelmError> = std::result::Result<T, E>;
