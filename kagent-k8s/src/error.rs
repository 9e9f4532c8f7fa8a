//! Errors of the Kubernetes tools, and how they reach the model.

use kagent_core::ToolError;

/// Errors raised by this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum K8sError {
    /// The resource type is not served by the cluster.
    #[error("unknown resource type {resource_type:?}{hint}")]
    UnknownResourceType {
        /// What was asked for.
        resource_type: String,
        /// A suggestion (leading separator included), or empty.
        hint: String,
    },
    /// The Kubernetes API answered with an error status or could not be reached.
    #[error("{action}: {source}")]
    Api {
        /// What was being done (for example `get deployments/web in default`).
        action: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },
    /// A manifest, patch or argument could not be parsed.
    #[error("invalid {what}: {message}")]
    Invalid {
        /// What was invalid (manifest, patch, labels, ...).
        what: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A label selector (`matchLabels` / `matchExpressions`, or a Service's `key: value` map)
    /// could not be understood.
    #[error("invalid label selector {selector}: {reason}")]
    InvalidSelector {
        /// The selector as found (JSON).
        selector: String,
        /// What is wrong, and what to write instead.
        reason: String,
        /// kube's parse error, when the problem is an expression.
        #[source]
        source: Option<kube::core::ParseExpressionError>,
    },
    /// The operation does not apply to this resource.
    #[error("{message}")]
    Unsupported {
        /// Why.
        message: String,
    },
    /// A URL or host was refused by configuration.
    #[error("forbidden: {message}")]
    Forbidden {
        /// Why.
        message: String,
    },
    /// Fetching a manifest over HTTP failed.
    #[error("fetching {url}: {source}")]
    Fetch {
        /// The URL (without credentials or query).
        url: String,
        /// The HTTP client error.
        #[source]
        source: reqwest::Error,
    },
}

impl K8sError {
    /// An [`K8sError::Invalid`].
    pub fn invalid(what: &'static str, message: impl Into<String>) -> Self {
        K8sError::Invalid {
            what,
            message: message.into(),
        }
    }

    /// An [`K8sError::Api`] for `action`.
    pub fn api(action: impl Into<String>, source: kube::Error) -> Self {
        K8sError::Api {
            action: action.into(),
            source,
        }
    }

    /// The HTTP status code of an API error, if the server answered.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            K8sError::Api {
                source: kube::Error::Api(status),
                ..
            } => Some(status.code),
            _ => None,
        }
    }

    /// Converts into the [`ToolError`] a tool returns for `tool`: answers the model can act on
    /// (not found, forbidden, invalid, conflict) become data; unreachable servers become faults.
    pub fn into_tool_error(self, tool: &str) -> ToolError {
        match self {
            K8sError::UnknownResourceType { .. } => ToolError::NotFound {
                message: self.to_string(),
            },
            K8sError::Invalid { .. } => ToolError::invalid_arguments(tool, self.to_string()),
            K8sError::InvalidSelector { .. } => ToolError::failed(self.to_string()),
            K8sError::Unsupported { message } => ToolError::failed(message),
            K8sError::Forbidden { message } => ToolError::Forbidden { message },
            K8sError::Api { action, source } => match source {
                kube::Error::Api(status) => {
                    let message = format!(
                        "{action}: {} ({} {})",
                        status.message, status.code, status.reason
                    );
                    match status.code {
                        404 => ToolError::NotFound { message },
                        401 | 403 => ToolError::Forbidden { message },
                        500..=599 if status.code != 500 => ToolError::Transport {
                            tool: tool.to_owned(),
                            message,
                            source: Some(Box::new(kube::Error::Api(status))),
                        },
                        _ => ToolError::failed(message),
                    }
                }
                kube::Error::SerdeError(e) => ToolError::Internal {
                    tool: tool.to_owned(),
                    message: format!("{action}: unexpected response: {e}"),
                },
                other => ToolError::Transport {
                    tool: tool.to_owned(),
                    message: format!("{action}: {other}"),
                    source: Some(Box::new(other)),
                },
            },
            K8sError::Fetch { url, source } => {
                ToolError::failed(format!("fetching {url}: {source}"))
            }
        }
    }
}

/// Shorthand for results in this crate.
pub(crate) type Result<T, E = K8sError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn api_err(code: u16, reason: &str) -> K8sError {
        let status = kube::core::Status::failure("boom", reason).with_code(code);
        K8sError::api("get pods/x in default", kube::Error::Api(Box::new(status)))
    }

    #[test]
    fn api_errors_map_to_model_visible_variants() {
        assert!(matches!(
            api_err(404, "NotFound").into_tool_error("t"),
            ToolError::NotFound { .. }
        ));
        assert!(matches!(
            api_err(403, "Forbidden").into_tool_error("t"),
            ToolError::Forbidden { .. }
        ));
        let conflict = api_err(409, "Conflict").into_tool_error("t");
        assert!(matches!(conflict, ToolError::Failed { .. }));
        assert!(conflict.to_string().contains("Conflict"), "{conflict}");
        assert!(
            api_err(503, "ServiceUnavailable")
                .into_tool_error("t")
                .is_fault()
        );
        assert!(!api_err(422, "Invalid").into_tool_error("t").is_fault());
    }

    #[test]
    fn invalid_input_is_an_argument_error() {
        let e = K8sError::invalid("labels", "missing '='").into_tool_error("k8s_label_resource");
        assert!(matches!(e, ToolError::InvalidArguments { .. }));
        let Err(sel) = crate::labels::label_selector(
            &serde_json::json!({"matchExpressions": [{"key": "a", "operator": "Has"}]}),
        ) else {
            panic!("an unknown operator must not parse");
        };
        assert!(
            std::error::Error::source(&sel).is_some(),
            "kube's error is kept"
        );
        let e = sel.into_tool_error("k8s_rollout");
        assert!(
            matches!(e, ToolError::Failed { .. }) && !e.is_fault(),
            "{e:?}"
        );
        assert!(e.to_string().contains("matchExpressions[0]"), "{e}");
    }
}
