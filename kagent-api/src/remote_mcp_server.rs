//! `RemoteMCPServer` (kagent's `remotemcpserver_types.go`): an MCP server reachable over HTTP.

use kube_derive::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{AllowedNamespaces, Condition, GoDuration, TlsConfig, ValueRef};

/// The MCP transport of a RemoteMCPServer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub enum RemoteMcpServerProtocol {
    /// The legacy HTTP+SSE transport (`GET /sse`, `POST /message`).
    #[serde(rename = "SSE")]
    Sse,
    /// Streamable HTTP (the default).
    #[default]
    #[serde(rename = "STREAMABLE_HTTP")]
    StreamableHttp,
}

impl RemoteMcpServerProtocol {
    /// The spelling in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            RemoteMcpServerProtocol::Sse => "SSE",
            RemoteMcpServerProtocol::StreamableHttp => "STREAMABLE_HTTP",
        }
    }
}

fn default_timeout() -> Option<GoDuration> {
    Some(GoDuration::new("30s"))
}

fn default_terminate_on_close() -> Option<bool> {
    Some(true)
}

/// The desired state of a RemoteMCPServer.
// clippy reads the repeated `type_ = ...` of kube's printcolumn(...) entries as duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "kagent.dev",
    version = "v1alpha2",
    kind = "RemoteMCPServer",
    namespaced,
    status = "RemoteMCPServerStatus",
    shortname = "rmcps",
    category = "kagent",
    printcolumn(name = "Protocol", type_ = "string", json_path = ".spec.protocol"),
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
    printcolumn(
        name = "Accepted",
        type_ = "string",
        json_path = ".status.conditions[?(@.type=='Accepted')].status"
    ),
    doc = "RemoteMCPServer is the Schema for the RemoteMCPServers API.",
    derive = "PartialEq",
    derive = "Default",
    crates(kube_core = "::kube_core")
)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["description", "url"]))]
#[x_kube(
    crates(kube_core = "::kube_core"),
    validation = Rule::new("!self.url.startsWith('http://') || !has(self.tls)").message("spec.tls must be unset when spec.url has http:// scheme: a TLS opinion contradicts a plaintext URL. Either drop spec.tls, or use https:// / a scheme-less URL."),
    validation = Rule::new("!(has(self.allowedNamespaces) && has(self.allowedNamespaces.from) && (self.allowedNamespaces.from == 'All' || self.allowedNamespaces.from == 'Selector') && has(self.tls) && has(self.tls.caCertSecretRef) && size(self.tls.caCertSecretRef) > 0)").message("spec.allowedNamespaces must not permit cross-namespace access (from: All or from: Selector) when spec.tls.caCertSecretRef is set: a pinned CA Secret is mounted onto the consuming agent's pod and Kubernetes resolves it in the agent's namespace, not this RemoteMCPServer's. Use from: Same (the default), or remove the CA Secret reference.")
)]
pub struct RemoteMCPServerSpec {
    /// What the server offers.
    #[serde(default)]
    pub description: String,
    /// SSE or STREAMABLE_HTTP (default).
    #[serde(default)]
    pub protocol: RemoteMcpServerProtocol,
    /// The server's URL, e.g. `http://kagent-tools.kagent:8084/mcp`.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub url: String,
    /// Headers sent with every request, inline or from ConfigMaps/Secrets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers_from: Vec<ValueRef>,
    /// Timeout of a request (default `30s`).
    #[serde(default = "default_timeout", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
    /// How long to wait for an event on an SSE stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse_read_timeout: Option<GoDuration>,
    /// Close the MCP session when the client closes (default true).
    #[serde(
        default = "default_terminate_on_close",
        skip_serializing_if = "Option::is_none"
    )]
    pub terminate_on_close: Option<bool>,
    /// Which namespaces' Agents may use this server (same namespace only when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_namespaces: Option<AllowedNamespaces>,
    /// TLS settings for an HTTPS server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

impl Default for RemoteMCPServerSpec {
    fn default() -> Self {
        RemoteMCPServerSpec {
            description: String::new(),
            protocol: RemoteMcpServerProtocol::default(),
            url: String::new(),
            headers_from: Vec::new(),
            timeout: default_timeout(),
            sse_read_timeout: None,
            terminate_on_close: default_terminate_on_close(),
            allowed_namespaces: None,
            tls: None,
        }
    }
}

/// The observed state of a RemoteMCPServer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteMCPServerStatus {
    /// The generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions (`Accepted`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The tools the server offered when last listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discovered_tools: Vec<MCPTool>,
    /// Hash of the TLS Secret, so agents roll when the certificate changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
}

/// A tool a server offers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["name", "description"]))]
pub struct MCPTool {
    /// Tool name.
    #[serde(default)]
    pub name: String,
    /// Tool description.
    #[serde(default)]
    pub description: String,
}
