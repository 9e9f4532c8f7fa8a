//! kagent-api's `RemoteMCPServer` to kagent-mcp's [`McpServerConfig`], with `headersFrom`
//! resolved at every connect through a [`HeaderProvider`].
//!
//! Like the ModelConfig conversion, every field of the spec is destructured without `..`, so a
//! new kagent-api field does not compile until it is handled here.

use std::sync::Arc;

use async_trait::async_trait;
use http::{HeaderName, HeaderValue};
use kagent_api::FieldPath;
use kagent_api::common::ValueRef;
use kagent_api::remote_mcp_server::{RemoteMCPServerSpec, RemoteMcpServerProtocol};
use kagent_mcp::{HeaderProvider, HttpServerConfig, McpProtocol, McpServerConfig};

use crate::error::LoadReason;
use crate::resolve::Resolver;
use crate::source::expose;

/// Which object a header reference belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderOwner {
    /// The RemoteMCPServer's `spec.headersFrom`.
    Server,
    /// The Agent's `spec.declarative.tools[i].headersFrom`.
    AgentTool,
}

/// A header that could not be resolved: whose, where, why.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub(crate) struct HeaderError {
    pub(crate) owner: HeaderOwner,
    pub(crate) path: FieldPath,
    #[source]
    pub(crate) reason: LoadReason,
}

/// Resolves a server's `headersFrom` and the agent tool entry's `headersFrom` (which win for
/// the same name) at each connect, so rotated Secrets are picked up.
#[derive(Clone)]
pub(crate) struct DeclaredHeaders {
    pub(crate) resolver: Resolver,
    pub(crate) server_namespace: String,
    pub(crate) server_refs: Vec<ValueRef>,
    pub(crate) server_path: FieldPath,
    pub(crate) agent_namespace: String,
    pub(crate) tool_refs: Vec<ValueRef>,
    pub(crate) tool_path: FieldPath,
}

impl DeclaredHeaders {
    pub(crate) fn is_empty(&self) -> bool {
        self.server_refs.is_empty() && self.tool_refs.is_empty()
    }

    pub(crate) async fn resolve(&self) -> Result<Vec<(HeaderName, HeaderValue)>, HeaderError> {
        let mut out: Vec<(HeaderName, HeaderValue)> = Vec::new();
        let groups = [
            (
                HeaderOwner::Server,
                &self.server_refs,
                &self.server_namespace,
                &self.server_path,
            ),
            (
                HeaderOwner::AgentTool,
                &self.tool_refs,
                &self.agent_namespace,
                &self.tool_path,
            ),
        ];
        for (owner, refs, namespace, base) in groups {
            for (i, r) in refs.iter().enumerate() {
                let path = base.index(i);
                let fail = |reason| HeaderError {
                    owner,
                    path: path.clone(),
                    reason,
                };
                let name = HeaderName::from_bytes(r.name.as_bytes()).map_err(|_| {
                    fail(LoadReason::Decode {
                        message: format!("`{}` is not a valid HTTP header name", r.name),
                    })
                })?;
                let text = match (&r.value, &r.value_from) {
                    (Some(v), _) => secrecy::SecretString::from(v.clone()),
                    (None, Some(from)) => {
                        self.resolver
                            .value(namespace, from)
                            .await
                            .map_err(|reason| HeaderError {
                                owner,
                                path: path.field("valueFrom"),
                                reason,
                            })?
                    }
                    (None, None) => {
                        return Err(fail(LoadReason::Decode {
                            message: "neither value nor valueFrom is set".into(),
                        }));
                    }
                };
                let mut value = HeaderValue::from_str(expose(&text)).map_err(|_| {
                    // The value is not quoted: it may be a secret.
                    fail(LoadReason::Decode {
                        message: format!(
                            "the value of header {} is not a valid HTTP header value (control characters or non-ASCII text)",
                            r.name
                        ),
                    })
                })?;
                value.set_sensitive(true);
                out.retain(|(n, _)| *n != name);
                out.push((name, value));
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl HeaderProvider for DeclaredHeaders {
    async fn headers(
        &self,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, Box<dyn std::error::Error + Send + Sync>> {
        self.resolve().await.map_err(|e| Box::new(e) as _)
    }
}

/// The client configuration for a RemoteMCPServer (`name` names it in errors and spans).
pub(crate) fn server_config(
    name: &str,
    spec: &RemoteMCPServerSpec,
    headers: Option<DeclaredHeaders>,
) -> Result<McpServerConfig, (FieldPath, LoadReason)> {
    let RemoteMCPServerSpec {
        description: _,
        protocol,
        url,
        headers_from: _,
        timeout,
        sse_read_timeout,
        terminate_on_close,
        allowed_namespaces: _,
        tls: _,
    } = spec;
    let root = FieldPath::root().field("spec");
    let mut http = match protocol {
        RemoteMcpServerProtocol::StreamableHttp => HttpServerConfig::streamable_http(url.clone()),
        RemoteMcpServerProtocol::Sse => HttpServerConfig::sse(url.clone()),
    };
    debug_assert!(matches!(
        http.protocol,
        McpProtocol::StreamableHttp | McpProtocol::Sse
    ));
    if let Some(h) = headers.filter(|h| !h.is_empty()) {
        http = http.headers_from(Arc::new(h));
    }
    if let Some(t) = sse_read_timeout {
        let d = t.to_duration().map_err(|e| {
            (
                root.field("sseReadTimeout"),
                LoadReason::Decode {
                    message: e.to_string(),
                },
            )
        })?;
        http = http.sse_read_timeout(d);
    }
    if let Some(terminate) = terminate_on_close {
        http = http.terminate_on_close(*terminate);
    }
    let mut config = McpServerConfig::http(name, http);
    if let Some(t) = timeout {
        let d = t.to_duration().map_err(|e| {
            (
                root.field("timeout"),
                LoadReason::Decode {
                    message: e.to_string(),
                },
            )
        })?;
        config = config.timeout(d);
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kagent_api::common::GoDuration;
    use std::time::Duration;

    #[test]
    fn kagent_fields_reach_the_client_configuration() {
        let spec = RemoteMCPServerSpec {
            description: "d".into(),
            protocol: RemoteMcpServerProtocol::Sse,
            url: "http://127.0.0.1:1/sse".into(),
            timeout: Some(GoDuration::new("5s")),
            sse_read_timeout: Some(GoDuration::new("1m30s")),
            terminate_on_close: Some(false),
            ..Default::default()
        };
        let c = server_config("srv", &spec, None).unwrap();
        assert_eq!(c.name, "srv");
        assert_eq!(c.timeout, Duration::from_secs(5));
        let kagent_mcp::McpTransportConfig::Http(h) = &c.transport else {
            panic!("{c:?}")
        };
        assert_eq!(h.protocol, McpProtocol::Sse);
        assert_eq!(h.sse_read_timeout, Duration::from_secs(90));
        assert!(!h.terminate_on_close);
        assert_eq!(h.url, "http://127.0.0.1:1/sse");

        let bad = RemoteMCPServerSpec {
            timeout: Some(GoDuration::new("1d")),
            ..spec
        };
        let (path, _) = server_config("srv", &bad, None).unwrap_err();
        assert_eq!(path.to_string(), "spec.timeout");
    }
}
