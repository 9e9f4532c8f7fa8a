//! Errors of the HTTP tool families, and how they reach the model.

use kagent_core::{ToolError, ToolsetError};

/// Errors raised by the HTTP tools (Prometheus, Alertmanager, Grafana).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpToolError {
    /// An argument is malformed or out of range.
    #[error("invalid {what}: {message}")]
    InvalidArgument {
        /// Which argument (or `arguments`).
        what: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The call named a server URL other than the one the tool is configured for.
    #[error(
        "{argument} {given:?} is not the {service} server this tool is configured for \
         ({configured}); omit {argument} or pass exactly {configured}"
    )]
    UrlMismatch {
        /// The argument (`prometheus_url`).
        argument: &'static str,
        /// The service (`Prometheus`).
        service: &'static str,
        /// What the call passed.
        given: String,
        /// The configured base URL (credentials removed).
        configured: String,
    },
    /// The server answered with an error.
    #[error("{service} answered {status}{}: {message}", error_type.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    Api {
        /// The service (`Prometheus`, `Alertmanager`, `Grafana`).
        service: &'static str,
        /// HTTP status code.
        status: u16,
        /// The service's own error classification (Prometheus `errorType`: `bad_data`,
        /// `execution`, `timeout`, ...), when it sent one.
        error_type: Option<String>,
        /// The service's error message.
        message: String,
    },
    /// The thing asked for does not exist.
    #[error("{message}")]
    NotFound {
        /// What was not found, and how to find what exists.
        message: String,
    },
    /// The server could not be reached or the connection failed. The message carries the
    /// causes reqwest wraps (connection refused, a certificate the client does not trust, a
    /// refused client certificate), which reqwest's own message leaves out.
    #[error("{service} at {url} could not be reached: {}", causes(source))]
    Transport {
        /// The service.
        service: &'static str,
        /// The URL (without credentials or query).
        url: String,
        /// The HTTP client error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with something that is not what its API documents.
    #[error("unexpected response from {service} ({url}): {message}")]
    Decode {
        /// The service.
        service: &'static str,
        /// The URL (without credentials or query).
        url: String,
        /// What was wrong.
        message: String,
    },
    /// The tool cannot do this in its configuration (for example no model configured).
    #[error("{message}")]
    Unsupported {
        /// Why, and what to configure.
        message: String,
    },
}

/// An error's message followed by its sources' (`a: b: c`), each said once.
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

impl HttpToolError {
    /// An [`HttpToolError::InvalidArgument`].
    pub fn invalid(what: &'static str, message: impl Into<String>) -> Self {
        HttpToolError::InvalidArgument {
            what,
            message: message.into(),
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpToolError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Converts into the [`ToolError`] a tool returns for `tool`: answers the model can act on
    /// (bad arguments, bad PromQL, not found, forbidden) become data; an unreachable or failing
    /// server becomes a fault.
    pub fn into_tool_error(self, tool: &str) -> ToolError {
        match self {
            HttpToolError::InvalidArgument { .. } | HttpToolError::UrlMismatch { .. } => {
                ToolError::invalid_arguments(tool, self.to_string())
            }
            HttpToolError::NotFound { message } => ToolError::NotFound { message },
            HttpToolError::Unsupported { message } => ToolError::failed(message),
            HttpToolError::Api {
                status,
                ref error_type,
                ..
            } => {
                let bad_input = matches!(error_type.as_deref(), Some("bad_data"))
                    || matches!(status, 400 | 422);
                let message = self.to_string();
                match status {
                    401 | 403 => ToolError::Forbidden { message },
                    404 => ToolError::NotFound { message },
                    _ if bad_input => ToolError::invalid_arguments(tool, message),
                    502..=504 => ToolError::Transport {
                        tool: tool.to_owned(),
                        message,
                        source: None,
                    },
                    _ => ToolError::failed(message),
                }
            }
            HttpToolError::Transport { .. } => {
                let message = self.to_string();
                let HttpToolError::Transport { source, .. } = self else {
                    return ToolError::failed(message);
                };
                ToolError::Transport {
                    tool: tool.to_owned(),
                    message,
                    source: Some(Box::new(source)),
                }
            }
            HttpToolError::Decode { .. } => ToolError::Internal {
                tool: tool.to_owned(),
                message: self.to_string(),
            },
        }
    }
}

/// Errors building a toolset from its builder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The base URL is not an absolute `http` or `https` URL.
    #[error("invalid {service} URL {url:?}: {message}")]
    InvalidUrl {
        /// The service.
        service: &'static str,
        /// The URL as given (credentials removed when it parsed).
        url: String,
        /// What is wrong.
        message: String,
    },
    /// A custom header name or value is not valid HTTP.
    #[error("invalid header {name:?}: {message}")]
    InvalidHeader {
        /// The header name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The HTTP client could not be built from the TLS options (a CA bundle that is not PEM,
    /// a bad client identity, no trusted roots) or reqwest refused the settings.
    #[error("building the {service} HTTP client: {source}")]
    HttpClient {
        /// The service.
        service: &'static str,
        /// What went wrong (kagent-core's TLS client builder error).
        #[source]
        source: kagent_core::http::HttpClientError,
    },
    /// Both TLS options and an injected HTTP client were given: TLS options only configure
    /// the client the builder makes.
    #[error(
        "{service}: tls(...) and http_client(...) were both given; an injected client carries \
         its own TLS configuration, so configure TLS on that client or drop http_client"
    )]
    TlsWithClient {
        /// The service.
        service: &'static str,
    },
    /// A tool could not be registered.
    #[error(transparent)]
    Toolset(#[from] ToolsetError),
}

impl From<kagent_core::ToolSpecError> for BuildError {
    fn from(e: kagent_core::ToolSpecError) -> Self {
        BuildError::Toolset(ToolsetError::from(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, error_type: Option<&str>) -> HttpToolError {
        HttpToolError::Api {
            service: "Prometheus",
            status,
            error_type: error_type.map(str::to_owned),
            message: "boom".into(),
        }
    }

    #[test]
    fn api_errors_map_to_model_visible_variants() {
        let bad = api(400, Some("bad_data")).into_tool_error("t");
        assert!(matches!(bad, ToolError::InvalidArguments { .. }), "{bad}");
        assert!(bad.to_string().contains("(bad_data): boom"), "{bad}");
        assert!(matches!(
            api(403, None).into_tool_error("t"),
            ToolError::Forbidden { .. }
        ));
        assert!(matches!(
            api(404, None).into_tool_error("t"),
            ToolError::NotFound { .. }
        ));
        assert!(
            api(503, Some("unavailable"))
                .into_tool_error("t")
                .is_fault()
        );
        let exec = api(500, Some("execution")).into_tool_error("t");
        assert!(matches!(exec, ToolError::Failed { .. }));
    }

    #[test]
    fn url_mismatch_tells_how_to_fix_the_call() {
        let e = HttpToolError::UrlMismatch {
            argument: "prometheus_url",
            service: "Prometheus",
            given: "http://evil:9090".into(),
            configured: "http://prom:9090/".into(),
        }
        .into_tool_error("prometheus_query_tool");
        let msg = e.to_string();
        assert!(matches!(e, ToolError::InvalidArguments { .. }));
        assert!(msg.contains("omit prometheus_url"), "{msg}");
        assert!(msg.contains("http://prom:9090/"), "{msg}");
    }
}
