//! Errors of the NetworkPolicy / Cilium tools, and how they reach the model.

use kagent_core::ToolError;
use kagent_k8s::K8sError;

/// Errors raised by the NetworkPolicy / Cilium tools.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkPolicyError {
    /// A Kubernetes API call failed (not found, forbidden, unreachable, ...).
    #[error(transparent)]
    Kube(#[from] K8sError),
    /// An argument is wrong; the message says how to fix the call.
    #[error("invalid {what}: {message}")]
    Invalid {
        /// The argument.
        what: &'static str,
        /// What is wrong and what would be right.
        message: String,
    },
    /// Something the call names does not exist.
    #[error("{message}")]
    NotFound {
        /// What is missing, with what exists instead.
        message: String,
    },
}

impl NetworkPolicyError {
    /// A [`NetworkPolicyError::Invalid`].
    pub fn invalid(what: &'static str, message: impl Into<String>) -> Self {
        NetworkPolicyError::Invalid {
            what,
            message: message.into(),
        }
    }

    /// Converts into the [`ToolError`] a tool returns for `tool`.
    pub fn into_tool_error(self, tool: &str) -> ToolError {
        match self {
            NetworkPolicyError::Kube(K8sError::UnknownResourceType { resource_type, .. }) => {
                ToolError::NotFound {
                    message: format!(
                        "{resource_type} is not served by this cluster (is Cilium installed? its CRDs are in cilium.io)"
                    ),
                }
            }
            NetworkPolicyError::Kube(e) => e.into_tool_error(tool),
            NetworkPolicyError::Invalid { .. } => {
                ToolError::invalid_arguments(tool, self.to_string())
            }
            NetworkPolicyError::NotFound { .. } => ToolError::NotFound {
                message: self.to_string(),
            },
        }
    }
}

/// Shorthand for results of the NetworkPolicy / Cilium tools.
pub type Result<T, E = NetworkPolicyError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_what_the_model_can_act_on() {
        assert!(matches!(
            NetworkPolicyError::invalid("policy_types", "x").into_tool_error("t"),
            ToolError::InvalidArguments { .. }
        ));
        let e = NetworkPolicyError::Kube(K8sError::UnknownResourceType {
            resource_type: "ciliumnetworkpolicies.cilium.io".into(),
            hint: String::new(),
        })
        .into_tool_error("t");
        assert!(e.to_string().contains("Cilium"), "{e}");
    }
}
