//! `Agent` (kagent's `agent_types.go`): an agent declared as a resource, either Declarative
//! (model, instructions and tools described here, run by an agent runtime) or BYO (a container
//! image that serves A2A).

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::{
    Affinity, Container, EnvFromSource, EnvVar, LocalObjectReference, PodSecurityContext,
    ResourceRequirements, SecurityContext, Toleration, TopologySpreadConstraint, Volume,
    VolumeMount,
};
use kube_derive::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{AllowedNamespaces, Condition, TypedReference, ValueRef, ValueSource};

/// Declarative or BYO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub enum AgentType {
    /// Model, instructions and tools are declared in `spec.declarative` (the default).
    #[default]
    Declarative,
    /// "Bring your own": a container image serving the agent over A2A (`spec.byo`).
    #[serde(rename = "BYO")]
    Byo,
}

impl AgentType {
    /// The spelling in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentType::Declarative => "Declarative",
            AgentType::Byo => "BYO",
        }
    }
}

impl fmt::Display for AgentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The agent runtime kagent runs a declarative agent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeclarativeRuntime {
    /// The Python ADK.
    Python,
    /// The Go ADK (the CRD's default).
    #[default]
    Go,
}

/// The desired state of an Agent.
// clippy reads the repeated `type_ = ...` of kube's printcolumn(...) entries as duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Debug, Clone, PartialEq, Default, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "kagent.dev",
    version = "v1alpha2",
    kind = "Agent",
    namespaced,
    status = "AgentStatus",
    category = "kagent",
    printcolumn(
        name = "Type",
        type_ = "string",
        json_path = ".spec.type",
        description = "The type of the agent."
    ),
    printcolumn(
        name = "Runtime",
        type_ = "string",
        json_path = ".spec.declarative.runtime",
        description = "The runtime implementation for declarative agents."
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type=='Ready')].status",
        description = "Whether or not the agent is ready to serve requests."
    ),
    printcolumn(
        name = "Accepted",
        type_ = "string",
        json_path = ".status.conditions[?(@.type=='Accepted')].status",
        description = "Whether or not the agent has been accepted by the system."
    ),
    doc = "Agent is the Schema for the agents API.",
    derive = "PartialEq",
    derive = "Default",
    crates(kube_core = "::kube_core")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    crates(kube_core = "::kube_core"),
    validation = Rule::new("has(self.type)").message("type must be specified"),
    validation = Rule::new("self.type == 'Declarative' || self.type == 'BYO'").message("type must be either Declarative or BYO"),
    validation = Rule::new("(self.type == 'Declarative' && has(self.declarative)) || (self.type == 'BYO' && has(self.byo))").message("declarative must be specified if type is Declarative, or byo must be specified if type is BYO")
)]
pub struct AgentSpec {
    /// Declarative (default) or BYO.
    #[serde(default, rename = "type")]
    pub type_: AgentType,
    /// A BYO agent: a container image serving A2A on port 8080. Required when type is BYO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byo: Option<ByoAgentSpec>,
    /// A declarative agent: model, instructions and tools. Required when type is Declarative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declarative: Option<DeclarativeAgentSpec>,
    /// What the agent does (shown on its A2A agent card, and to parent agents using it as a tool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// URL of an icon for the A2A agent card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "uri"))]
    pub icon_url: Option<String>,
    /// URL of documentation for the A2A agent card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "uri"))]
    pub documentation_url: Option<String>,
    /// Version string for the A2A agent card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The organization responsible for the agent (A2A agent card).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<AgentProvider>,
    /// Skills loaded into the agent's `/skills` folder from OCI images, git or S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skills: Option<SkillForAgent>,
    /// Sandboxed execution settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<SandboxConfig>,
    /// Which namespaces may use this Agent as a tool (same namespace only when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_namespaces: Option<AllowedNamespaces>,
}

/// The organization responsible for an agent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["organization", "url"]))]
pub struct AgentProvider {
    /// Organization name.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub organization: String,
    /// Website or documentation URL of the organization.
    #[serde(default)]
    #[schemars(extend("format" = "uri"))]
    pub url: String,
}

/// Skills to load, from OCI images (`refs`), git (`gitRefs`) and/or S3 (`s3Refs`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkillForAgent {
    /// Pull images over HTTP / without TLS verification. Development only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_verify: bool,
    /// OCI skill images.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 20))]
    pub refs: Vec<String>,
    /// dockerconfigjson Secrets for pulling skill images.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub image_pull_secrets: Vec<LocalObjectReference>,
    /// Secret with git credentials (`token` or `ssh-privatekey`) for every `gitRefs` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_auth_secret_ref: Option<LocalObjectReference>,
    /// Git repositories to fetch skills from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 20))]
    pub git_refs: Vec<GitRepo>,
    /// S3 prefixes or archives to fetch skills from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 20))]
    pub s3_refs: Vec<S3SkillRef>,
    /// Settings of the skills-init container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_container: Option<SkillsInitContainer>,
}

/// The skills-init init container.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkillsInitContainer {
    /// Resource requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Extra environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
}

fn default_git_ref() -> String {
    "main".to_string()
}

/// One git repository to fetch a skill from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["url"]))]
pub struct GitRepo {
    /// Repository URL (HTTPS or SSH).
    #[serde(default)]
    pub url: String,
    /// Branch, tag or commit (default `main`).
    #[serde(default = "default_git_ref", rename = "ref")]
    pub ref_: String,
    /// Subdirectory to use as the skill root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Directory name under /skills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Default for GitRepo {
    fn default() -> Self {
        GitRepo {
            url: String::new(),
            ref_: default_git_ref(),
            path: None,
            name: None,
        }
    }
}

/// A skill bundle in S3 (a prefix with SKILL.md, or a .zip/.tgz/.tar.gz archive).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["uri"]))]
pub struct S3SkillRef {
    /// `s3://bucket/key-or-prefix`.
    #[serde(default)]
    #[schemars(length(min = 1), regex(pattern = "^s3://.+"))]
    pub uri: String,
    /// AWS region of the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Directory name under /skills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Sandboxed execution settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SandboxConfig {
    /// Outbound network access (denied when unset or empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkConfig>,
}

/// Outbound network access of sandboxed execution.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkConfig {
    /// Domains that may be contacted (wildcards like `*.example.com` allowed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_domains: Vec<String>,
}

/// A declarative agent: model, instructions and tools.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    crates(kube_core = "::kube_core"),
    validation = Rule::new("!has(self.systemMessage) || !has(self.systemMessageFrom)").message("systemMessage and systemMessageFrom are mutually exclusive")
)]
pub struct DeclarativeAgentSpec {
    /// Which ADK runs the agent: go (default) or python.
    #[serde(default)]
    pub runtime: DeclarativeRuntime,
    /// The system message. With `promptTemplate` it is a Go text/template with
    /// `include("source/key")` and `.AgentName`, `.AgentNamespace`, `.Description`,
    /// `.ToolNames`, `.SkillNames`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_message: Option<String>,
    /// Reads the system message from a ConfigMap or Secret key instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_message_from: Option<ValueSource>,
    /// Turns the system message into a template over ConfigMap data sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_template: Option<PromptTemplateSpec>,
    /// Name of the ModelConfig, in the Agent's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_config: Option<String>,
    /// Stream the model's response (default false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    /// Tools: MCP servers (with the tools used from each) and other agents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub tools: Vec<Tool>,
    /// A2A server settings (the skills on the agent card).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a2a_config: Option<A2AConfig>,
    /// The Deployment kagent creates for the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeclarativeDeploymentSpec>,
    /// Long-term memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemorySpec>,
    /// Adds the share-link tools (create_share_link, list_share_links, delete_share_link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_tools: Option<bool>,
    /// Context management (event compaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ContextConfig>,
}

/// One `{{include "source/key"}}` directive of a system message template.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PromptInclude {
    /// The whole argument, `source/key`.
    pub path: String,
    /// The data source's alias or name.
    pub source: String,
    /// The key in the ConfigMap.
    pub key: String,
}

impl DeclarativeAgentSpec {
    /// The `include "source/key"` directives in the inline system message, in order.
    ///
    /// kagent only treats the system message as a template when `promptTemplate.dataSources`
    /// is non-empty; this lists the directives either way.
    pub fn prompt_includes(&self) -> Vec<PromptInclude> {
        self.system_message
            .as_deref()
            .map(find_includes)
            .unwrap_or_default()
    }

    /// The identifiers `include` may use: each data source's alias, or its name when it has no
    /// alias.
    pub fn prompt_source_identifiers(&self) -> Vec<&str> {
        self.prompt_template
            .iter()
            .flat_map(|t| t.data_sources.iter())
            .map(|s| match s.alias.as_deref() {
                Some(a) if !a.is_empty() => a,
                _ => s.name.as_str(),
            })
            .collect()
    }
}

/// Finds `include "a/b"` (and `include("a/b")`) inside `{{ ... }}` actions.
pub(crate) fn find_includes(text: &str) -> Vec<PromptInclude> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = rest.get(open + 2..).unwrap_or("");
        let Some(close) = after.find("}}") else { break };
        let action = after.get(..close).unwrap_or("");
        let mut search = action;
        while let Some(pos) = search.find("include") {
            let tail = search.get(pos + "include".len()..).unwrap_or("");
            let arg = tail.trim_start().trim_start_matches('(').trim_start();
            if let Some(quoted) = arg.strip_prefix('"')
                && let Some(end) = quoted.find('"')
            {
                let path = quoted.get(..end).unwrap_or("");
                let (source, key) = path.split_once('/').unwrap_or((path, ""));
                out.push(PromptInclude {
                    path: path.to_string(),
                    source: source.to_string(),
                    key: key.to_string(),
                });
            }
            search = tail;
        }
        rest = after.get(close + 2..).unwrap_or("");
    }
    out
}

/// Template processing of the system message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromptTemplateSpec {
    /// ConfigMaps whose keys the system message may include (`include("alias/key")`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub data_sources: Vec<PromptSource>,
}

/// A ConfigMap whose keys are prompt fragments.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["name"]))]
pub struct PromptSource {
    /// Kind of the object (`ConfigMap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// API group (`""` for ConfigMap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// Name of the ConfigMap (same namespace as the Agent).
    #[serde(default)]
    pub name: String,
    /// Short identifier for include directives (`include("alias/key")`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

/// Long-term memory of an agent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["modelConfig"]))]
pub struct MemorySpec {
    /// ModelConfig whose embedding provider makes the memory vectors.
    #[serde(default)]
    pub model_config: String,
    /// Days a memory stays valid (15 when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub ttl_days: Option<i64>,
}

/// Context management of an agent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContextConfig {
    /// Event history compaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compaction: Option<ContextCompressionConfig>,
}

fn default_compaction_interval() -> i64 {
    5
}

fn default_overlap_size() -> i64 {
    2
}

/// Event history compaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContextCompressionConfig {
    /// New user invocations that trigger a compaction (default 5).
    #[serde(default = "default_compaction_interval")]
    #[schemars(range(min = 1))]
    pub compaction_interval: i64,
    /// Invocations overlapping consecutive summaries (default 2).
    #[serde(default = "default_overlap_size")]
    #[schemars(range(min = 0))]
    pub overlap_size: i64,
    /// LLM summarizer (compacted events are dropped when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summarizer: Option<ContextSummarizerConfig>,
    /// Prompt token count that triggers a compaction after an invocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_threshold: Option<i64>,
    /// Most recent events always kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_retention_size: Option<i64>,
}

impl Default for ContextCompressionConfig {
    fn default() -> Self {
        ContextCompressionConfig {
            compaction_interval: default_compaction_interval(),
            overlap_size: default_overlap_size(),
            summarizer: None,
            token_threshold: None,
            event_retention_size: None,
        }
    }
}

/// The LLM summarizer of event compaction.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContextSummarizerConfig {
    /// ModelConfig to summarize with (the agent's own when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_config: Option<String>,
    /// Custom summarizer prompt template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_template: Option<String>,
}

/// Labels and annotations of the ServiceAccount kagent creates for an agent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountConfig {
    /// Extra labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Extra annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The deployment settings both agent types share (kagent's `SharedDeploymentSpec`, inlined).
macro_rules! deployment_spec {
    ($(#[$meta:meta])* pub struct $name:ident { $($extra:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, KubeSchema)]
        #[serde(rename_all = "camelCase")]
        #[x_kube(
            crates(kube_core = "::kube_core"),
            validation = Rule::new("!(has(self.serviceAccountName) && has(self.serviceAccountConfig))").message("serviceAccountName and serviceAccountConfig are mutually exclusive")
        )]
        pub struct $name {
            $($extra)*
            /// Number of agent pods (default 1).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub replicas: Option<i32>,
            /// Secrets for pulling the agent image.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub image_pull_secrets: Vec<LocalObjectReference>,
            /// Extra pod volumes.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub volumes: Vec<Volume>,
            /// Extra volume mounts of the agent container.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub volume_mounts: Vec<VolumeMount>,
            /// Extra pod labels.
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub labels: BTreeMap<String, String>,
            /// Extra pod annotations.
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub annotations: BTreeMap<String, String>,
            /// Extra annotations of the Deployment object.
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub deployment_annotations: BTreeMap<String, String>,
            /// Extra environment variables of the agent container.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub env: Vec<EnvVar>,
            /// ConfigMaps/Secrets whose keys become environment variables.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub env_from: Vec<EnvFromSource>,
            /// Image pull policy.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub image_pull_policy: Option<String>,
            /// Resource requirements of the agent container.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub resources: Option<ResourceRequirements>,
            /// Pod tolerations.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub tolerations: Vec<Toleration>,
            /// Pod affinity.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub affinity: Option<Affinity>,
            /// Topology spread constraints.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
            /// Node selector.
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub node_selector: BTreeMap<String, String>,
            /// Security context of the agent container.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub security_context: Option<SecurityContext>,
            /// Pod security context.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub pod_security_context: Option<PodSecurityContext>,
            /// Existing ServiceAccount to use (kagent then creates none).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub service_account_name: Option<String>,
            /// Settings of the ServiceAccount kagent creates.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub service_account_config: Option<ServiceAccountConfig>,
            /// Sidecar containers.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub extra_containers: Vec<Container>,
        }
    };
}

deployment_spec! {
    /// The Deployment of a declarative agent.
    pub struct DeclarativeDeploymentSpec {
        /// Registry to pull the runtime image from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub image_registry: Option<String>,
    }
}

deployment_spec! {
    /// The Deployment of a BYO agent.
    pub struct ByoDeploymentSpec {
        /// The agent image; it must serve A2A on port 8080.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(length(min = 1))]
        pub image: Option<String>,
        /// Overrides the container entrypoint.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cmd: Option<String>,
        /// Arguments of the entrypoint.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub args: Vec<String>,
        /// Working directory of the container.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub working_dir: Option<String>,
    }
}

/// A BYO agent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ByoAgentSpec {
    /// The Deployment kagent creates for the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<ByoDeploymentSpec>,
}

/// What a tool entry provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ToolProviderType {
    /// Tools of an MCP server (`mcpServer`).
    McpServer,
    /// Another agent, called as a tool (`agent`).
    Agent,
}

impl ToolProviderType {
    /// The spelling in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolProviderType::McpServer => "McpServer",
            ToolProviderType::Agent => "Agent",
        }
    }
}

/// One entry of `spec.declarative.tools`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    crates(kube_core = "::kube_core"),
    validation = Rule::new("!(has(self.mcpServer) && self.type != 'McpServer')").message("type.mcpServer must be nil if the type is not McpServer"),
    validation = Rule::new("!(!has(self.mcpServer) && self.type == 'McpServer')").message("type.mcpServer must be specified for McpServer filter.type"),
    validation = Rule::new("!(has(self.agent) && self.type != 'Agent')").message("type.agent must be nil if the type is not Agent"),
    validation = Rule::new("!(!has(self.agent) && self.type == 'Agent')").message("type.agent must be specified for Agent filter.type"),
    validation = Rule::new("!(has(self.isolateSessions) && self.type != 'Agent')").message("isolateSessions can only be set when type is Agent")
)]
pub struct Tool {
    /// McpServer or Agent.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<ToolProviderType>,
    /// The MCP server and the tools used from it (type McpServer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_server: Option<McpServerTool>,
    /// The agent used as a tool (type Agent); kind Agent (default) or SandboxAgent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<TypedReference>,
    /// Agent tools only: a fresh sub-agent session per call (needed for parallel fan-out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolate_sessions: Option<bool>,
    /// Headers sent with requests to this tool; override the server's headers of the same name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers_from: Vec<ValueRef>,
}

/// The kinds of object an MCP tool entry can point at.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolServerKind {
    /// A `kagent.dev` RemoteMCPServer.
    RemoteMcpServer,
    /// A kmcp `MCPServer` (`kagent.dev`), also what an empty kind means.
    McpServer,
    /// A core `Service` exposing MCP.
    Service,
    /// Anything else (kagent rejects it: "unknown tool server type").
    Unknown {
        /// The apiGroup as written.
        api_group: String,
        /// The kind as written.
        kind: String,
    },
}

/// An MCP server and the tools an agent uses from it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["name"]))]
#[x_kube(
    crates(kube_core = "::kube_core"),
    validation = Rule::new("!has(self.requireApproval) || self.requireApproval.all(x, has(self.toolNames) && x in self.toolNames)").message("each RequireApproval entry must also appear in ToolNames")
)]
pub struct McpServerTool {
    /// Kind of the server object: RemoteMCPServer, MCPServer (kmcp; also what an empty kind
    /// means) or Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// API group of the server object (`kagent.dev`, or `""` for Service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// Name of the server object.
    #[serde(default)]
    pub name: String,
    /// Namespace of the server object (the Agent's when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The server's tools this agent uses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub tool_names: Vec<String>,
    /// Tools that need human approval before each call; each must be in `toolNames`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub require_approval: Vec<String>,
    /// Headers of the incoming A2A request forwarded to the MCP server (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_headers: Vec<String>,
}

impl McpServerTool {
    /// What the entry points at, by kagent's rules (`translateMCPServerTarget`).
    pub fn target(&self) -> ToolServerKind {
        let group = self.api_group.as_deref().unwrap_or("");
        let kind = self.kind.as_deref().unwrap_or("");
        match (group, kind) {
            ("", "") | ("", "MCPServer") | ("kagent.dev", "MCPServer") => ToolServerKind::McpServer,
            ("", "RemoteMCPServer") | ("kagent.dev", "RemoteMCPServer") => {
                ToolServerKind::RemoteMcpServer
            }
            ("", "Service") | ("core", "Service") => ToolServerKind::Service,
            (g, k) => ToolServerKind::Unknown {
                api_group: g.to_string(),
                kind: k.to_string(),
            },
        }
    }

    /// Whether calls to `tool` need approval.
    pub fn requires_approval(&self, tool: &str) -> bool {
        self.require_approval.iter().any(|t| t == tool)
    }
}

/// A2A server settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2AConfig {
    /// The skills on the agent card.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1))]
    pub skills: Vec<AgentSkill>,
}

/// One capability of an agent, as shown on its A2A agent card.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["name"]))]
pub struct AgentSkill {
    /// Unique identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Human-readable name.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub tags: Vec<String>,
    /// Example prompts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub examples: Vec<String>,
    /// Input MIME types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_modes: Vec<String>,
    /// Output MIME types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_modes: Vec<String>,
}

/// The observed state of an Agent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentStatus {
    /// The generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions: `Accepted`, `Ready` (and `UnsupportedFeatures`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// The Agent condition types kagent sets.
pub mod conditions {
    /// The declaration was accepted (it validated and its references resolved).
    pub const ACCEPTED: &str = "Accepted";
    /// The agent serves requests.
    pub const READY: &str = "Ready";
    /// The declaration uses features its runtime does not support.
    pub const UNSUPPORTED_FEATURES: &str = "UnsupportedFeatures";
}

impl AgentStatus {
    /// The condition of type `type_`, if set.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_include_directives() {
        let text = "a {{include \"builtin/safety-guardrails\"}} b {{ include(\"x/y\") }} {{.AgentName}} {{include \"nokey\"}}";
        let found = find_includes(text);
        let paths: Vec<_> = found.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["builtin/safety-guardrails", "x/y", "nokey"]);
        assert_eq!(found[0].source, "builtin");
        assert_eq!(found[0].key, "safety-guardrails");
        assert_eq!(found[2].key, "");
        assert!(find_includes("no template {{ here").is_empty());
    }

    #[test]
    fn tool_server_kinds_follow_kagent() {
        let t = |g: Option<&str>, k: Option<&str>| {
            McpServerTool {
                api_group: g.map(str::to_string),
                kind: k.map(str::to_string),
                name: "x".into(),
                ..Default::default()
            }
            .target()
        };
        assert_eq!(t(None, None), ToolServerKind::McpServer);
        assert_eq!(
            t(Some("kagent.dev"), Some("RemoteMCPServer")),
            ToolServerKind::RemoteMcpServer
        );
        assert_eq!(
            t(None, Some("RemoteMCPServer")),
            ToolServerKind::RemoteMcpServer
        );
        assert_eq!(t(Some("core"), Some("Service")), ToolServerKind::Service);
        assert!(matches!(
            t(Some("example.com"), Some("Thing")),
            ToolServerKind::Unknown { .. }
        ));
    }
}
