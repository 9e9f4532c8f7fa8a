//! Errors of the Istio tools, and how they reach the model.

use kagent_core::ToolError;
use kagent_k8s::K8sError;

/// Errors raised by the Istio tools.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IstioError {
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
    /// Istio's custom resources are not served by this cluster.
    #[error(
        "{what} is not served by this cluster: Istio's CRDs (networking.istio.io, security.istio.io) are not installed"
    )]
    NotInstalled {
        /// The kind or kinds that are missing.
        what: String,
    },
    /// Something the call names does not exist (a route, a subset, a sidecar).
    #[error("{message}")]
    NotFound {
        /// What is missing, with what exists instead.
        message: String,
    },
    /// The pod runs no Istio sidecar, so it has no Envoy to ask.
    #[error(
        "pod {namespace}/{pod} has no istio-proxy sidecar (containers: {containers}); pick a pod of a workload in the mesh (istio_proxy_status lists them)"
    )]
    NoSidecar {
        /// Namespace of the pod.
        namespace: String,
        /// The pod.
        pod: String,
        /// Its containers.
        containers: String,
    },
    /// The Envoy admin (or istiod debug) endpoint did not answer usefully.
    #[error("{target}: {message}")]
    Proxy {
        /// `pod shop/reviews-v1-x port 15000 /config_dump`.
        target: String,
        /// What happened.
        message: String,
        /// Whether this is a fault of the backend (unreachable, timed out) rather than an
        /// answer the model can act on.
        fault: bool,
    },
}

impl IstioError {
    /// An [`IstioError::Invalid`].
    pub fn invalid(what: &'static str, message: impl Into<String>) -> Self {
        IstioError::Invalid {
            what,
            message: message.into(),
        }
    }

    /// Converts into the [`ToolError`] a tool returns for `tool`.
    pub fn into_tool_error(self, tool: &str) -> ToolError {
        match self {
            IstioError::Kube(K8sError::UnknownResourceType { resource_type, .. }) => {
                ToolError::NotFound {
                    message: format!(
                        "{resource_type} is not served by this cluster: Istio's CRDs are not installed (or the caller may not discover them)"
                    ),
                }
            }
            IstioError::Kube(e) => e.into_tool_error(tool),
            IstioError::Invalid { .. } => ToolError::invalid_arguments(tool, self.to_string()),
            IstioError::NotInstalled { .. } | IstioError::NotFound { .. } => ToolError::NotFound {
                message: self.to_string(),
            },
            IstioError::NoSidecar { .. } => ToolError::failed(self.to_string()),
            IstioError::Proxy { fault: true, .. } => ToolError::Transport {
                tool: tool.to_owned(),
                message: self.to_string(),
                source: None,
            },
            IstioError::Proxy { fault: false, .. } => ToolError::failed(self.to_string()),
        }
    }
}

/// Shorthand for results of the Istio tools.
pub type Result<T, E = IstioError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_what_the_model_can_act_on() {
        assert!(matches!(
            IstioError::invalid("config_type", "x").into_tool_error("t"),
            ToolError::InvalidArguments { .. }
        ));
        assert!(matches!(
            IstioError::NotInstalled {
                what: "VirtualService".into()
            }
            .into_tool_error("t"),
            ToolError::NotFound { .. }
        ));
        let fault = IstioError::Proxy {
            target: "pod a/b".into(),
            message: "timed out".into(),
            fault: true,
        }
        .into_tool_error("t");
        assert!(fault.is_fault());
        let unknown = IstioError::Kube(K8sError::UnknownResourceType {
            resource_type: "virtualservices.networking.istio.io".into(),
            hint: String::new(),
        })
        .into_tool_error("t");
        assert!(unknown.to_string().contains("Istio's CRDs"), "{unknown}");
    }
}
