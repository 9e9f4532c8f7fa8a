//! Errors of the Argo Rollouts tools, and how they reach the model.

use kagent_core::ToolError;
use kagent_k8s::K8sError;

/// Errors raised by the Argo Rollouts tools.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArgoError {
    /// An argument is missing or malformed; the message says how to fix the call.
    #[error("invalid {argument}: {message}")]
    InvalidArgument {
        /// The argument.
        argument: &'static str,
        /// What is wrong and what is expected.
        message: String,
    },
    /// The cluster does not serve the Argo Rollouts custom resources.
    #[error(
        "the cluster does not serve {resource} (argoproj.io): the Argo Rollouts CRDs are not \
         installed (check with argo_verify_argo_rollouts_controller_install)"
    )]
    NotInstalled {
        /// The resource asked for (`rollouts`, `experiments`, ...).
        resource: &'static str,
    },
    /// No Rollout (or Experiment) of that name in the namespace.
    #[error("{kind} {name:?} not found in namespace {namespace}{hint}")]
    NotFound {
        /// `rollout` or `experiment`.
        kind: &'static str,
        /// The name asked for.
        name: String,
        /// The namespace searched.
        namespace: String,
        /// What exists instead (leading separator included), or empty.
        hint: String,
    },
    /// The action does not apply to the rollout in its current state.
    #[error("{message}")]
    NotApplicable {
        /// Why, and what to do instead.
        message: String,
    },
    /// A Kubernetes API call failed (forbidden, conflict, unreachable, ...).
    #[error(transparent)]
    Kube(#[from] K8sError),
}

impl ArgoError {
    /// An [`ArgoError::InvalidArgument`].
    pub fn invalid(argument: &'static str, message: impl Into<String>) -> Self {
        ArgoError::InvalidArgument {
            argument,
            message: message.into(),
        }
    }

    /// Converts into the [`ToolError`] a tool returns for `tool`.
    pub fn into_tool_error(self, tool: &str) -> ToolError {
        match self {
            ArgoError::InvalidArgument { .. } => {
                ToolError::invalid_arguments(tool, self.to_string())
            }
            ArgoError::NotInstalled { .. } | ArgoError::NotFound { .. } => ToolError::NotFound {
                message: self.to_string(),
            },
            ArgoError::NotApplicable { message } => ToolError::failed(message),
            ArgoError::Kube(e) => e.into_tool_error(tool),
        }
    }
}

/// Shorthand for results of the Argo Rollouts tools.
pub type Result<T, E = ArgoError> = std::result::Result<T, E>;
